// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azbuse-run's place among other processes: readiness for systemd
 * (Type=notify), a daemon that returns once the device serves, a pid
 * file, and a command run against the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <azbuse.h>

#include "cli.h"
#include "lifecycle.h"

extern char **environ;

void azb_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	/* An absolute path, or '@' for the abstract namespace. */
	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, len) < 0)
		azb_log(AZB_LOG_DEBUG, "azbuse-run: sd_notify: %s", strerror(errno));
	close(fd);
}

/* The write end of the pipe to the waiting parent, in the daemon. */
static int azb_ready_fd = -1;

void azb_daemon_begin(const char *prog)
{
	char path[64];
	int p[2];
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, "%s: --daemon: pipe: %s\n", prog, strerror(errno));
		exit(AZB_EXIT_FAIL);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: --daemon: fork: %s\n", prog, strerror(errno));
		exit(AZB_EXIT_FAIL);
	}
	if (pid == 0) {
		close(p[0]);
		azb_ready_fd = p[1];
		setsid();
		return;
	}
	close(p[1]);
	/* The device path, or nothing if the daemon failed first. */
	while (got < (ssize_t)sizeof(path) - 1 &&
	       (n = read(p[0], path + got, sizeof(path) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	path[got] = '\0';
	if (!got || path[got - 1] != '\n')
		exit(AZB_EXIT_FAIL);
	if (fputs(path, stdout) == EOF || fflush(stdout)) {
		fprintf(stderr, "%s: cannot write the device path: %s\n", prog,
			strerror(errno));
		exit(AZB_EXIT_FAIL);
	}
	exit(AZB_EXIT_OK);
}

static void azb_syslog(void *arg, int level, const char *msg)
{
	syslog(level, "%s", msg);
}

int azb_daemon_ready(const char *prog, const char *path)
{
	char line[64];
	int fd, len, ret = 0;

	len = snprintf(line, sizeof(line), "%s\n", path);
	if (write(azb_ready_fd, line, len) != len)
		ret = -errno;
	close(azb_ready_fd);
	azb_ready_fd = -1;
	openlog(prog, LOG_PID, LOG_DAEMON);
	azb_set_log(azb_syslog, NULL, AZB_LOG_NOTICE);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return ret;
}

int azb_pidfile_write(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f)) {
		unlink(tmp);
		return -errno;
	}
	if (rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

pid_t azb_run_command(const char *cmd, const char *dev)
{
	char *argv[] = { "sh", "-c", (char *)cmd, "sh", (char *)dev, NULL };
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int ret;

	if (setenv("AZBUSE_DEV", dev, 1))
		return -errno;
	/* The servers' signals are blocked in this process, not in CMD. */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	ret = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	return ret ? -ret : pid;
}

int azb_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return AZB_EXIT_FAIL;
}
