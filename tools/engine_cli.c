// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Engines on azbuse-run's command line: which engine (read before the
 * options, so a plugin's long options are known), its long options and
 * -o list checked against the engine's own table, and its help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cli.h"

/* Engine ENG's option whose long option is flag, or NULL. */
const struct azb_engine_opt *
azb_engine_flag(const struct azb_engine_ops *eng, const char *flag)
{
	const struct azb_engine_opt *t;

	for (t = eng->opts; t && t->key; t++)
		if (t->flag && !strcmp(t->flag, flag))
			return t;
	return NULL;
}

/* "a, b" of the engines that declare long option flag, for a message. */
void azb_engines_with_flag(const char *flag, char *buf, size_t len)
{
	const struct azb_engine_ops *const *e;
	size_t n = 0;

	buf[0] = '\0';
	for (e = azb_engine_list(); *e && n < len; e++)
		if (azb_engine_flag(*e, flag))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? ", " : "", (*e)->name);
}

/* Text wrapped at 79 columns, each line indented by indent spaces. */
void azb_print_wrapped(const char *text, int indent)
{
	const char *p = text, *end, *brk;
	int width = 79 - indent;

	while (*p) {
		end = p + strlen(p);
		if (end - p > width) {
			for (brk = p + width; brk > p && *brk != ' '; brk--)
				;
			end = brk > p ? brk : p + width;
		}
		printf("%*s%.*s\n", indent, "", (int)(end - p), p);
		for (p = end; *p == ' '; p++)
			;
	}
}

/* One engine's options, as "--engine NAME --help" shows them. */
void azb_engine_usage(const struct azb_engine_ops *eng)
{
	const struct azb_engine_opt *t;
	char spec[64], help[512];
	const char *val;

	printf("Engine %s: %s%s\n", eng->name, eng->help,
	       eng->flags & AZB_ENGINE_F_NEEDS_TARGET ? " (TARGET required)" :
	       eng->flags & AZB_ENGINE_F_NO_TARGET ? " (no TARGET)" : "");
	if (!eng->opts || !eng->opts->key) {
		printf("%s\n", eng->opts ? "It takes no options." :
		       "Its options are its own (-o KEY[=VALUE]).");
		return;
	}
	printf("Options (-o KEY[=VALUE],...; repeatable):\n");
	for (t = eng->opts; t->key; t++) {
		val = t->kind == AZB_EOPT_FLAG ? "" :
		      t->kind == AZB_EOPT_CHOICE ? t->choices : t->arg;
		snprintf(spec, sizeof(spec), "%s%s%s", t->key, *val ? "=" : "",
			 val);
		if (t->flag)
			printf("  -o %s, --%s%s%s\n", spec, t->flag,
			       *val ? " " : "", val);
		else
			printf("  -o %s\n", spec);
		if (t->kind == AZB_EOPT_UINT)
			snprintf(help, sizeof(help), "%s; %s is 0..%lu", t->help,
				 t->arg, t->max);
		else
			snprintf(help, sizeof(help), "%s", t->help);
		azb_print_wrapped(help, 8);
	}
}


/*
 * Appends KEY=VALUE, or KEY alone (as -o gives it: "k=v[,k=v...]"); exits
 * on a value that cannot be one.
 */
void azb_params_add(const char *prog, struct azb_params *p, const char *opt,
		    const char *key, const char *val)
{
	int n;

	if (val ? !*val || strchr(val, ',') : !*key)
		azb_die_usage(prog, "%s: '%s' cannot be an engine option (empty, or a value with ',')",
			      opt, val ? val : key);
	n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "%s%s%s%s",
		     p->len ? "," : "", key, val ? "=" : "", val ? val : "");
	if (n < 0 || (size_t)n >= sizeof(p->buf) - p->len)
		azb_die_usage(prog, "%s: engine options too long", opt);
	p->len += n;
}


/*
 * The engine's long options given, onto its params: each must be one
 * engine eng declares.  Then every param is checked against eng's table
 * (the library says what is wrong), so a mistake is a usage error here
 * rather than a failure after the device is made.
 */
void azb_engine_flags_apply(const char *prog, const struct azb_engine_ops *eng,
			    const struct azb_eflag_arg *a, unsigned int n,
			    struct azb_params *params)
{
	const struct azb_engine_opt *t;
	struct azb_engine_optval v;
	const char *p;
	char opt[80], who[128];
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		snprintf(opt, sizeof(opt), "--%s", a[i].flag);
		t = azb_engine_flag(eng, a[i].flag);
		if (!t) {
			azb_engines_with_flag(a[i].flag, who, sizeof(who));
			azb_die_usage(prog, "%s is an option of engine %s, not '%s'",
				      opt, who, eng->name);
		}
		azb_params_add(prog, params, opt, t->key,
			       t->kind == AZB_EOPT_FLAG ? NULL : a[i].val);
	}
	if (!eng->opts)
		return;
	p = params->len ? params->buf : NULL;
	while ((ret = azb_engine_opt_next(eng, &p, &v)) > 0)
		;
	if (ret < 0)
		azb_cli_try_help(prog);
}

/*
 * The engine the command line names (the last -e), read before the options
 * are parsed: a plugin engine's long options are only known once it is
 * loaded.  NULL if none is named.
 */
const char *azb_engine_arg(int argc, char **argv)
{
	const char *name = NULL, *a;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if ((!strcmp(a, "-e") || !strcmp(a, "--engine")) && i + 1 < argc)
			name = argv[++i];
		else if (!strncmp(a, "--engine=", 9))
			name = a + 9;
		else if (!strncmp(a, "-e", 2) && a[2])
			name = a + 2;
	}
	return name;
}

/*
 * Finds engine name, loading its plugin if it is one; exits 1 with one
 * line if there is none or its plugin is unusable (the library said why).
 */
const struct azb_engine_ops *azb_engine_get(const char *prog, const char *name)
{
	const struct azb_engine_ops *eng;
	int ret = azb_engine_load(name, &eng);

	if (ret == -ENOENT) {
		fprintf(stderr, "%s: unknown engine '%s': no such built-in engine or plugin (see --help for the list)\n",
			prog, name);
		exit(AZB_EXIT_FAIL);
	}
	if (ret)
		exit(AZB_EXIT_FAIL);
	return eng;
}
