/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How azbuse-run lives beside the rest of the system: systemd's readiness
 * protocol, --daemon, --pidfile and --run.
 */
#ifndef AZB_TOOLS_LIFECYCLE_H
#define AZB_TOOLS_LIFECYCLE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * sd_notify(3)'s protocol without libsystemd: state ("READY=1\n...") to
 * $NOTIFY_SOCKET, if set; nothing otherwise.  Failures are ignored, as
 * sd_notify's are by its callers.
 */
void azb_notify(const char *state);

/*
 * --daemon: forks; the parent waits until the child calls
 * azb_daemon_ready() (then prints the device path it got, and exits 0) or
 * exits without (then exits 1: the child said why on stderr).  Returns in
 * the child, in a session of its own.
 */
void azb_daemon_begin(const char *prog);
/*
 * In the daemon: hands path to the waiting parent, then detaches from the
 * terminal (stdin, stdout and stderr to /dev/null; the library's messages
 * to syslog).  0, or -errno if the parent could not be told.
 */
int azb_daemon_ready(const char *prog, const char *path);

/* --pidfile: writes this process's pid to path (atomically).  0 or -errno. */
int azb_pidfile_write(const char *path);

/*
 * --run: starts "sh -c CMD sh DEVPATH" with $AZBUSE_DEV = DEVPATH and the
 * signal mask it would have had.  The child's pid, or -errno.
 */
pid_t azb_run_command(const char *cmd, const char *dev);
/* A child's wait status as a shell reports it: code, or 128 + signal. */
int azb_exit_status(int wstatus);

#endif
