// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Engine lookup (azbuse.h: azb_engine_load): the built-in table, then
 * plugins, shared objects NAME.so loaded on first use and kept.
 *
 * Where plugins are looked for, in order: $AZBUSE_ENGINE_PATH; azbuse/
 * engines beside the libazbuse.so this code runs from (an installed
 * library: /usr/lib/libazbuse.so.0 -> /usr/lib/azbuse/engines); ../lib/
 * azbuse/engines and ../lib/MULTIARCH/azbuse/engines from the program's
 * directory (azbuse-run, which links the runtime statically, in the build
 * tree, under a prefix, or from the Debian package).  No prefix is
 * compiled in: the same binaries are installed under any.
 *
 * A plugin is opened RTLD_LOCAL, so its library (librbd, libnbd) never
 * joins the program's global symbol scope; it reaches the runtime through
 * the azb_* functions of libazbuse.so or of the program (which exports
 * them, see the Makefile).
 */
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <azbuse.h>

/* engines/engines.c */
extern const struct azb_engine_ops *const azb_builtin_engines[];

#ifndef AZB_MULTIARCH		/* the Makefile passes the compiler's */
#define AZB_MULTIARCH		"x86_64-linux-gnu"
#endif
#define AZB_MAX_ENGINES		32
#define AZB_NAME_MAX		32

static pthread_mutex_t azb_engines_lock = PTHREAD_MUTEX_INITIALIZER;
/* Built-ins, then the plugins loaded, NULL-ended; only ever grows. */
static const struct azb_engine_ops *azb_engines[AZB_MAX_ENGINES + 1];
static unsigned int azb_nr_engines;

static void azb_engines_init(void)
{
	const struct azb_engine_ops *const *e;

	if (azb_nr_engines)
		return;
	for (e = azb_builtin_engines; *e && azb_nr_engines < AZB_MAX_ENGINES; e++)
		azb_engines[azb_nr_engines++] = *e;
}

static const struct azb_engine_ops *azb_engines_get(const char *name)
{
	unsigned int i;

	for (i = 0; i < azb_nr_engines; i++)
		if (!strcmp(azb_engines[i]->name, name))
			return azb_engines[i];
	return NULL;
}

/* A name a plugin file may have: letters, digits, '_' and '-'. */
static bool azb_plugin_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!len || len >= AZB_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", name[i]))
			return false;
	return true;
}

/* The directories to search, ':'-separated, into buf. */
static void azb_plugin_dirs(char *buf, size_t len)
{
	const char *env = getenv("AZBUSE_ENGINE_PATH");
	char self[PATH_MAX], *slash;
	size_t n = 0;
	Dl_info info;
	ssize_t r;

	buf[0] = '\0';
	if (env && *env)
		n += (size_t)snprintf(buf + n, len - n, "%s:", env);
	if (n < len && dladdr((void *)azb_plugin_dirs, &info) &&
	    info.dli_fname && strstr(info.dli_fname, "libazbuse.so") &&
	    (slash = strrchr(info.dli_fname, '/')))
		n += (size_t)snprintf(buf + n, len - n, "%.*s/azbuse/engines:",
				      (int)(slash - info.dli_fname),
				      info.dli_fname);
	r = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < len && r > 0) {
		self[r] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			snprintf(buf + n, len - n,
				 "%.*s/../lib/azbuse/engines:%.*s/../lib/%s/azbuse/engines",
				 (int)(slash - self), self, (int)(slash - self),
				 self, AZB_MULTIARCH);
	}
}

/* Loads the plugin at path for engine name; under azb_engines_lock. */
static int azb_plugin_open(const char *path, const char *name,
			   const struct azb_engine_ops **ops)
{
	const struct azb_engine_plugin *p;
	const char *why = NULL;
	void *h;
	int ret;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		azb_log(AZB_LOG_ERR, "azbuse: engine plugin %s: cannot load: %s",
			path, dlerror());
		return -ELIBBAD;
	}
	p = dlsym(h, "azb_engine_plugin");
	if (!p)
		why = "not an azbuse engine plugin (no azb_engine_plugin)";
	else if (p->abi != AZB_ENGINE_PLUGIN_ABI)
		why = "built for another plugin ABI";
	else if (!p->ops || p->ops->version != AZB_ENGINE_OPS_VERSION)
		why = "built for another engine ops version";
	else if (!p->ops->name || strcmp(p->ops->name, name))
		why = "its engine has another name";
	else if (!p->ops->open || !p->ops->queue)
		why = "its engine has no open or queue";
	if (why) {
		if (p && p->abi != AZB_ENGINE_PLUGIN_ABI)
			azb_log(AZB_LOG_ERR, "azbuse: engine plugin %s: %s (%u; this libazbuse takes %u)",
				path, why, p->abi, AZB_ENGINE_PLUGIN_ABI);
		else
			azb_log(AZB_LOG_ERR, "azbuse: engine plugin %s: %s",
				path, why);
		dlclose(h);
		return -ELIBBAD;
	}
	if (p->init) {
		ret = p->init();
		if (ret) {
			azb_log(AZB_LOG_ERR, "azbuse: engine plugin %s: its initialisation failed: %s",
				path, strerror(ret < 0 ? -ret : ret));
			dlclose(h);
			return ret < 0 ? ret : -ret;
		}
	}
	if (azb_nr_engines == AZB_MAX_ENGINES) {
		azb_log(AZB_LOG_ERR, "azbuse: engine plugin %s: more than %u engines",
			path, AZB_MAX_ENGINES);
		dlclose(h);
		return -ENFILE;
	}
	/* Never closed: engines and their threads may outlive any caller. */
	azb_engines[azb_nr_engines++] = p->ops;
	*ops = p->ops;
	return 0;
}

/* Looks for NAME.so in the plugin directories; under azb_engines_lock. */
static int azb_plugin_find(const char *name, const struct azb_engine_ops **ops)
{
	char dirs[3 * PATH_MAX], path[PATH_MAX], *dir, *save = NULL;

	azb_plugin_dirs(dirs, sizeof(dirs));
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s.so", dir, name);
		if (!access(path, F_OK))
			return azb_plugin_open(path, name, ops);
	}
	return -ENOENT;
}

int azb_engine_load(const char *name, const struct azb_engine_ops **ops)
{
	const struct azb_engine_ops *e;
	int ret = 0;

	if (!name || !azb_plugin_name_ok(name, strlen(name)))
		return -ENOENT;
	pthread_mutex_lock(&azb_engines_lock);
	azb_engines_init();
	e = azb_engines_get(name);
	if (e)
		*ops = e;
	else
		ret = azb_plugin_find(name, ops);
	pthread_mutex_unlock(&azb_engines_lock);
	return ret;
}

const struct azb_engine_ops *azb_engine_find(const char *name)
{
	const struct azb_engine_ops *ops;

	return azb_engine_load(name, &ops) ? NULL : ops;
}

const struct azb_engine_ops *const *azb_engine_list(void)
{
	pthread_mutex_lock(&azb_engines_lock);
	azb_engines_init();
	pthread_mutex_unlock(&azb_engines_lock);
	return azb_engines;
}

void azb_engine_load_all(void)
{
	char dirs[3 * PATH_MAX], *dir, *save = NULL, name[AZB_NAME_MAX];
	const struct azb_engine_ops *ops;
	struct dirent *d;
	size_t len;
	DIR *dh;

	pthread_mutex_lock(&azb_engines_lock);
	azb_plugin_dirs(dirs, sizeof(dirs));
	pthread_mutex_unlock(&azb_engines_lock);
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		dh = opendir(dir);
		if (!dh)
			continue;
		while ((d = readdir(dh))) {
			len = strlen(d->d_name);
			if (len < 4 || strcmp(d->d_name + len - 3, ".so") ||
			    !azb_plugin_name_ok(d->d_name, len - 3))
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(len - 3), d->d_name);
			/* The first directory that has it wins, as for a load. */
			azb_engine_load(name, &ops);
		}
		closedir(dh);
	}
}
