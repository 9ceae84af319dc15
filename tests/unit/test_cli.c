// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The built tools as a user meets them: each bad option or value is refused
 * with exit status 2, one line saying what is wrong and a pointer to --help;
 * --help documents every command and option; without the module a request
 * fails with exit status 1 and says the module is not loaded.
 *
 * Runs build/bin/azbusectl and build/bin/azbuse-run from the repository root.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define CTL		"build/bin/azbusectl"
#define RUN		"build/bin/azbuse-run"
#define TIMEOUT_MS	10000
#define OUT_MAX		16384

extern char **environ;

struct result {
	int	status;		/* exit status, or -1 if killed */
	char	out[OUT_MAX];
	char	err[OUT_MAX];
};

static void slurp(int fd, char *buf)
{
	ssize_t n = pread(fd, buf, OUT_MAX - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Runs argv (NULL-ended) with stdin from /dev/null; false if it could not. */
static bool run(char *const argv[], struct result *r)
{
	posix_spawn_file_actions_t fa;
	int out, err, st, waited;
	pid_t pid;

	out = memfd_create("out", MFD_CLOEXEC);
	err = memfd_create("err", MFD_CLOEXEC);
	if (out < 0 || err < 0) {
		FAIL("memfd_create: %s", strerror(errno));
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno) {
		FAIL("cannot run %s: %s", argv[0], strerror(errno));
		close(out);
		close(err);
		return false;
	}
	for (waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited += 10) {
		if (waited >= TIMEOUT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out, r->out);
	slurp(err, r->err);
	return true;
}

static void show(char *const argv[], const struct result *r)
{
	int i;

	fprintf(stderr, "    command:");
	for (i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n    status: %d\n    stdout: %s\n    stderr: %s\n",
		r->status, r->out, r->err);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A usage error: status 2, "PROG...: ...WANT..." then "Try 'PROG... --help'." */
static void expect_usage(const char *want, char *const argv[])
{
	const char *prog = strrchr(argv[0], '/') + 1;
	struct result r;
	char *nl;

	if (!run(argv, &r))
		return;
	nl = strchr(r.err, '\n');
	if (r.status != 2 || r.out[0] || count_lines(r.err) != 2 ||
	    strncmp(r.err, prog, strlen(prog)) || !strstr(r.err, want) ||
	    (nl && strstr(r.err, want) > nl) || !nl ||
	    strncmp(nl + 1, "Try '", 5) || !strstr(nl, " --help'.\n")) {
		FAIL("want exit 2 and one line with \"%s\" plus the --help hint",
		     want);
		show(argv, &r);
	}
}

/*
 * A bad engine option: status 2, the engine's line with want (the library
 * names the engine), then the --help hint.
 */
static void expect_engine_usage(const char *want, char *const argv[])
{
	struct result r;
	char *nl;

	if (!run(argv, &r))
		return;
	nl = strchr(r.err, '\n');
	if (r.status != 2 || r.out[0] || count_lines(r.err) != 2 || !nl ||
	    !strstr(r.err, want) || strstr(r.err, want) > nl ||
	    strncmp(nl + 1, "Try '", 5)) {
		FAIL("want exit 2, \"%s\", then the --help hint", want);
		show(argv, &r);
	}
}

/*
 * "--engine NAME --help" lists exactly the options the engine declares:
 * want is "key key ..." in the table's order ("" for none).
 */
static void expect_engine_help(const char *engine, const char *want)
{
	char *const argv[] = { RUN, "--engine", (char *)engine, "--help", NULL };
	char got[256] = "", *p, *line;
	struct result r;
	size_t n = 0;

	if (!run(argv, &r))
		return;
	for (line = r.out; line && *line; line = p ? p + 1 : NULL) {
		p = strchr(line, '\n');
		if (!strncmp(line, "  -o ", 5))
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.*s",
					      n ? " " : "",
					      (int)strcspn(line + 5, "=,\n"),
					      line + 5);
	}
	if (r.status != 0 || r.err[0] || strcmp(got, want) ||
	    !strstr(r.out, engine)) {
		FAIL("--engine %s --help: options '%s', want '%s'", engine,
		     got, want);
		show(argv, &r);
	}
}

/* A failed request: status 1, one line on stderr with want, no stdout. */
static void expect_fail(const char *want, char *const argv[])
{
	struct result r;

	if (!run(argv, &r))
		return;
	if (r.status != 1 || r.out[0] || count_lines(r.err) != 1 ||
	    !strstr(r.err, want)) {
		FAIL("want exit 1 and one line with \"%s\"", want);
		show(argv, &r);
	}
}

/* Status 0, and stdout names every word of want (NULL-ended). */
static void expect_help(const char *const want[], char *const argv[])
{
	struct result r;
	int i;

	if (!run(argv, &r))
		return;
	if (r.status != 0 || r.err[0]) {
		FAIL("want exit 0 and nothing on stderr");
		show(argv, &r);
		return;
	}
	for (i = 0; want[i]; i++)
		if (!strstr(r.out, want[i]))
			FAIL("%s %s: no mention of '%s'", argv[0], argv[1], want[i]);
}

#define ARGS(...)	((char *const[]){ __VA_ARGS__, NULL })
#define WORDS(...)	((const char *const[]){ __VA_ARGS__, NULL })

static void test_azbusectl_usage(void)
{
	expect_usage("missing command", ARGS(CTL));
	expect_usage("unknown command 'bogus'", ARGS(CTL, "bogus"));
	expect_usage("'--bogus'", ARGS(CTL, "--bogus"));

	expect_usage("-s SIZE is required", ARGS(CTL, "add"));
	expect_usage("-s SIZE is required", ARGS(CTL, "add", "3", "-q", "2"));
	expect_usage("-q: '0' is not in 1..1024", ARGS(CTL, "add", "-s", "1G", "-q", "0"));
	expect_usage("-q: '1025' is not in 1..1024", ARGS(CTL, "add", "-s", "1G", "-q", "1025"));
	expect_usage("-q: 'two' is not a number", ARGS(CTL, "add", "-s", "1G", "-q", "two"));
	expect_usage("-q: '-1' is not a number", ARGS(CTL, "add", "-s", "1G", "-q", "-1"));
	expect_usage("-d: '4097' is not in 1..4096", ARGS(CTL, "add", "-s", "1G", "-d", "4097"));
	expect_usage("-d: '' is not a number", ARGS(CTL, "add", "-s", "1G", "-d", ""));
	expect_usage("-s: '1X' is not a size", ARGS(CTL, "add", "-s", "1X"));
	expect_usage("-s: '-1G' is not a size", ARGS(CTL, "add", "-s", "-1G"));
	expect_usage("-s: '99999999999P' is too large", ARGS(CTL, "add", "-s", "99999999999P"));
	expect_usage("-s: the size must not be 0", ARGS(CTL, "add", "-s", "0"));
	expect_usage("not a multiple of the 512-byte block size", ARGS(CTL, "add", "-s", "1000"));
	expect_usage("not a multiple of the 4096-byte block size", ARGS(CTL, "add", "-s", "6K", "-b", "4096"));
	expect_usage("-b: '1000' is not a power of two", ARGS(CTL, "add", "-s", "1G", "-b", "1000"));
	expect_usage("-b: '256' is not in 512..4096", ARGS(CTL, "add", "-s", "1G", "-b", "256"));
	expect_usage("--max-io: '6K' is not a multiple of 4K", ARGS(CTL, "add", "-s", "1G", "--max-io", "6K"));
	expect_usage("--max-io: '2M'", ARGS(CTL, "add", "-s", "1G", "--max-io", "2M"));
	expect_usage("--timeout: '0' is not in 1..3600", ARGS(CTL, "add", "-s", "1G", "--timeout", "0"));
	expect_usage("the limit is 1024 MiB", ARGS(CTL, "add", "-s", "1G", "-d", "4096", "--max-io", "1M"));
	expect_usage("'--bogus'", ARGS(CTL, "add", "-s", "1G", "--bogus"));
	expect_usage("'--ro'", ARGS(CTL, "add", "-s", "1G", "--ro=yes"));
	expect_usage("-- 's'", ARGS(CTL, "add", "-s"));
	expect_usage("'junk' is not a device id", ARGS(CTL, "add", "junk", "-s", "1G"));
	expect_usage("'65536' is not a device id", ARGS(CTL, "add", "65536", "-s", "1G"));
	expect_usage("unexpected argument '2'", ARGS(CTL, "add", "1", "2", "-s", "1G"));

	expect_usage("missing device ID", ARGS(CTL, "remove"));
	expect_usage("'/dev/sda' is not a device id", ARGS(CTL, "remove", "1", "/dev/sda"));
	expect_usage("invalid option -- 'x'", ARGS(CTL, "remove", "-x", "1"));
	expect_usage("missing device ID", ARGS(CTL, "info"));
	expect_usage("'azbusec1' is not a device id", ARGS(CTL, "info", "azbusec1"));
	expect_usage("unexpected argument '2'", ARGS(CTL, "info", "1", "2"));
	expect_usage("'--yaml'", ARGS(CTL, "info", "1", "--yaml"));
	expect_usage("unexpected argument 'all'", ARGS(CTL, "list", "all"));
	expect_usage("'--json' doesn't allow an argument", ARGS(CTL, "list", "--json=1"));
	expect_usage("unexpected argument 'x'", ARGS(CTL, "features", "x"));
}

static void test_azbusectl_help(void)
{
	const char *const add_opts[] = {
		"-s,", "--size", "-q,", "--queues", "-d,", "--depth", "-b,",
		"--block-size", "--max-io", "--timeout", "--ro", "--rotational",
		"--no-write-cache", "--no-discard", "--no-write-zeroes",
		"--recovery", NULL,
	};
	struct result r;

	expect_help(WORDS("add", "remove", "list", "info", "features",
			  "--json", "--help", "--version"), ARGS(CTL, "--help"));
	expect_help(add_opts, ARGS(CTL, "--help"));
	expect_help(WORDS("add"), ARGS(CTL, "-h"));
	expect_help(add_opts, ARGS(CTL, "add", "--help"));
	expect_help(WORDS("remove", "ID..."), ARGS(CTL, "remove", "--help"));
	expect_help(WORDS("list", "--json"), ARGS(CTL, "list", "--help"));
	expect_help(WORDS("info", "--json"), ARGS(CTL, "info", "-h"));
	expect_help(WORDS("features", "--json"), ARGS(CTL, "features", "--help"));
	expect_help(WORDS("azbusectl "), ARGS(CTL, "--version"));

	/* A subcommand's help is about that subcommand only. */
	if (run(ARGS(CTL, "remove", "--help"), &r) && strstr(r.out, "--max-io"))
		FAIL("'azbusectl remove --help' shows the options of add");
}

static void test_azbuse_run_usage(void)
{
	expect_fail("unknown engine 'bogus': no such built-in engine or plugin",
		    ARGS(RUN, "--engine", "bogus", "-s", "1G"));
	expect_fail("unknown engine '../x'", ARGS(RUN, "-e", "../x", "-s", "1G"));
	expect_usage("engine 'mem' needs -s SIZE", ARGS(RUN));
	expect_usage("engine 'null' needs -s SIZE", ARGS(RUN, "-e", "null"));
	expect_usage("engine 'mem' takes no TARGET, got '/tmp/x'", ARGS(RUN, "-s", "1G", "/tmp/x"));
	expect_usage("engine 'null' takes no TARGET", ARGS(RUN, "--engine=null", "-s", "1G", "/dev/sda"));
	expect_usage("unexpected argument 'b'", ARGS(RUN, "-e", "null", "-s", "1G", "a", "b"));
	expect_usage("--poll: 'fast' is not busy, adaptive or sleep", ARGS(RUN, "-s", "1G", "--poll", "fast"));
	expect_usage("--spin-us: '1000001' is not in 0..1000000", ARGS(RUN, "-s", "1G", "--spin-us", "1000001"));
	expect_usage("--pin: 'cpu' is not node or queue", ARGS(RUN, "-s", "1G", "--pin", "cpu"));
	expect_usage("--sched: 'fifo' is not batch or inherit", ARGS(RUN, "-s", "1G", "--sched", "fifo"));
	expect_usage("--cpus: '0-' is not a CPU list", ARGS(RUN, "-s", "1G", "--cpus", "0-"));
	expect_usage("--cpus: '0,,1' is not a CPU list", ARGS(RUN, "-s", "1G", "--cpus", "0,,1"));
	expect_usage("--cpus: CPU 8000 is not online", ARGS(RUN, "-s", "1G", "--cpus", "8000"));
	expect_usage("--stats: '0' is not in 1..3600", ARGS(RUN, "-s", "1G", "--stats", "0"));
	expect_usage("-q: '0' is not in 1..1024", ARGS(RUN, "-s", "1G", "-q", "0"));
	expect_usage("-q: 'x' is not a number", ARGS(RUN, "-s", "1G", "-q", "x"));
	expect_usage("-d: '0' is not in 1..4096", ARGS(RUN, "-s", "1G", "-d", "0"));
	expect_usage("-s: '1 G' is not a size", ARGS(RUN, "-s", "1 G"));
	expect_usage("-s: the size must not be 0", ARGS(RUN, "-s", "0"));
	expect_usage("not a multiple of the 512-byte block size", ARGS(RUN, "-s", "1000"));
	expect_usage("-b: '3000' is not a power of two", ARGS(RUN, "-s", "1G", "-b", "3000"));
	expect_usage("--max-io: '1K'", ARGS(RUN, "-s", "1G", "--max-io", "1K"));
	expect_usage("--timeout: '3601' is not in 1..3600", ARGS(RUN, "-s", "1G", "--timeout", "3601"));
	expect_usage("'nbd0' is not a device id", ARGS(RUN, "--dev", "nbd0"));
	expect_usage("--queues cannot be used with --dev", ARGS(RUN, "--dev", "1", "-q", "2"));
	expect_usage("--size cannot be used with --dev", ARGS(RUN, "--dev", "1", "-s", "1G"));
	expect_usage("'--bogus'", ARGS(RUN, "-s", "1G", "--bogus"));
	expect_usage("-- 'e'", ARGS(RUN, "-s", "1G", "-e"));
	/* Engine options: from each engine's own table, checked up front. */
	expect_usage("--sqpoll is an option of engine odirect, not 'mem'",
		     ARGS(RUN, "-s", "1G", "--sqpoll"));
	expect_usage("--ceph-id is an option of engine rbd, not 'nbd'",
		     ARGS(RUN, "-e", "nbd", "--ceph-id", "x", "nbd://h/e"));
	expect_engine_usage("nbd engine: option 'reconnect=x': wants SECONDS, 0..3600",
			    ARGS(RUN, "-e", "nbd", "--reconnect", "x", "nbd://h/e"));
	expect_engine_usage("nbd engine: option 'reconnect=3601'",
			    ARGS(RUN, "-e", "nbd", "-o", "reconnect=3601", "nbd://h/e"));
	expect_engine_usage("mem engine: unknown option 'sqpoll' (it takes none)",
			    ARGS(RUN, "-s", "1G", "-o", "sqpoll"));
	expect_engine_usage("odirect engine: unknown option 'chunk' (known: sqpoll, copy)",
			    ARGS(RUN, "-e", "odirect", "-o", "chunk=4K", "/tmp/x"));
	expect_engine_usage("odirect engine: option 'copy=1': takes no value",
			    ARGS(RUN, "-e", "odirect", "-o", "copy=1", "/tmp/x"));
	expect_engine_usage("rbd engine: option 'handles=some': wants queue|device",
			    ARGS(RUN, "-e", "rbd", "-o", "handles=some", "img"));
	expect_engine_usage("rbd engine: option 'conf': needs a value (conf=PATH)",
			    ARGS(RUN, "-e", "rbd", "-o", "conf", "img"));
	expect_engine_usage("stripe engine: option 'chunk=1x': not a size",
			    ARGS(RUN, "-e", "stripe", "-o", "chunk=1x", "a,b"));
}

static void test_azbuse_run_help(void)
{
	expect_help(WORDS("TARGET", "-e,", "--engine", "--dev", "-s,", "--size",
			  "-q,", "--queues", "-d,", "--depth", "-b,",
			  "--block-size", "--max-io", "--timeout", "--ro",
			  "--no-write-cache", "--poll", "busy", "adaptive",
			  "sleep", "--spin-us", "--cpus", "--pin", "--sched",
			  "batch", "inherit", "--help",
			  "--version",
			  "  null ", "  mem "),
		    ARGS(RUN, "--help"));
	expect_help(WORDS("--engine"), ARGS(RUN, "-h"));
	expect_engine_help("odirect", "sqpoll copy");
	expect_engine_help("nbd", "reconnect");
	expect_engine_help("rbd", "conf id keyring op_timeout handles");
	expect_engine_help("stripe", "chunk");
	expect_engine_help("mem", "");
	expect_engine_help("null", "");
	expect_help(WORDS("-o reconnect=SECONDS, --reconnect SECONDS", "0..3600"),
		    ARGS(RUN, "-e", "nbd", "-h"));
	expect_help(WORDS("--ceph-conf PATH", "handles=queue|device"),
		    ARGS(RUN, "--engine=rbd", "--help"));
	expect_help(WORDS("azbuse-run "), ARGS(RUN, "--version"));
}

/* This host cannot load modules; where one is loaded, these do not apply. */
static void test_no_module(void)
{
	const char *msg = "azbuse module not loaded (/dev/azbusectl missing)";

	if (!access("/dev/azbusectl", F_OK)) {
		printf("test_cli: /dev/azbusectl exists: no-module checks skipped\n");
		return;
	}
	expect_fail(msg, ARGS(CTL, "add", "-s", "1G"));
	expect_fail(msg, ARGS(CTL, "add", "7", "-s", "64M", "-q", "2", "--ro"));
	expect_fail(msg, ARGS(CTL, "remove", "1", "2"));
	expect_fail(msg, ARGS(CTL, "list"));
	expect_fail(msg, ARGS(CTL, "list", "--json"));
	expect_fail(msg, ARGS(CTL, "info", "/dev/azbuse1"));
	expect_fail(msg, ARGS(CTL, "features"));
	expect_fail(msg, ARGS(RUN, "-s", "1G"));
	expect_fail(msg, ARGS(RUN, "-e", "null", "-s", "64G", "-q", "4"));
	expect_fail(msg, ARGS(RUN, "--dev", "1"));
}

int main(void)
{
	if (access(CTL, X_OK) || access(RUN, X_OK)) {
		fprintf(stderr, "FAIL: %s or %s not built (run 'make tools' in the repository root)\n",
			CTL, RUN);
		return 1;
	}
	test_azbusectl_usage();
	test_azbusectl_help();
	test_azbuse_run_usage();
	test_azbuse_run_help();
	test_no_module();
	if (failures) {
		fprintf(stderr, "test_cli: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_cli: ok\n");
	return 0;
}
