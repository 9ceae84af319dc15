// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The nbd engine against a real NBD server (nbdkit's memory plugin over a
 * unix socket, with its log filter recording every command), served by
 * the real poller: data round trips at full queue depth, every op and flag
 * reaching the server as the NBD command and flag it maps to, a read-only
 * export, a bad URI, and a server that dies under I/O (errors, no hang).
 * Skips when nbdkit is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	16
#define MAX_IO	(128u << 10)
#define DEV	(64ull << 20)

static const struct azb_engine_ops *ops;
static char dir[] = "/tmp/azb-test-nbd.XXXXXX";
static char sock[256], logf[256], uri[512];
static pid_t server = -1;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	server = -1;
	unlink(sock);
}

/*
 * nbdkit on a fresh socket, logging: memory 64M, or with file the file
 * plugin on it (its data outlives the server); extra: "-r", a second
 * "--filter=..." or NULL; param: one more parameter (for that filter) or NULL.
 */
static int start_server(const char *extra, const char *file, const char *param)
{
	char logarg[300], filearg[300];
	int i;

	stop_server();
	unlink(logf);
	snprintf(logarg, sizeof(logarg), "logfile=%s", logf);
	snprintf(filearg, sizeof(filearg), "file=%s", file ? file : "");
	server = fork();
	if (server < 0)
		return -1;
	if (!server) {
		const char *argv[12];
		int n = 0;

		argv[n++] = "nbdkit";
		argv[n++] = "-f";
		argv[n++] = "-U";
		argv[n++] = sock;
		argv[n++] = "--filter=log";
		if (extra)
			argv[n++] = extra;
		if (file) {
			argv[n++] = "file";
			argv[n++] = filearg;
		} else {
			argv[n++] = "memory";
			argv[n++] = "64M";
		}
		argv[n++] = logarg;
		if (param)
			argv[n++] = param;
		argv[n] = NULL;
		execvp("nbdkit", (char **)argv);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		struct stat st;
		int status;

		if (!stat(sock, &st))
			return 0;
		if (waitpid(server, &status, WNOHANG) == server) {
			server = -1;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

/*
 * How many lines of the server's log contain every one of the words.  The
 * log filter writes "connection=N Flush id=M ..." for a request and
 * "...Flush id=M return=0" for its reply: " Flush id=" counts requests.
 */
static int log_count(const char *a, const char *b, const char *c)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(logf, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)) &&
		    (!c || strstr(line, c)))
			n++;
	fclose(f);
	return n;
}

/* The server's log, for a failure to show what it saw. */
static void dump_log(void)
{
	char line[1024];
	FILE *f = fopen(logf, "r");

	if (!f)
		return;
	fprintf(stderr, "the server's log (%s):\n", logf);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

static int rig_open(struct azb_emul_served *r, const char *target, bool ro,
		    const char *params)
{
	struct azb_engine_opts o = {
		.size = sizeof(o), .read_only = ro, .params = params,
	};

	return azb_emul_served_open(r, ops, target, &o, AZB_POLL_ADAPTIVE,
				    DEPTH, MAX_IO);
}

/* Full-depth random writes and reads checked against a shadow copy. */
static void test_data(void)
{
	static unsigned char shadow[DEV / 64];	/* first 1 MiB is used */
	const uint64_t span = sizeof(shadow);
	struct azb_emul_served r;
	int rc;

	if (rig_open(&r, uri, false, NULL)) {
		FAIL("cannot serve %s", uri);
		return;
	}
	CHECK(r.e.dev_bytes == DEV, "size %llu", (unsigned long long)r.e.dev_bytes);
	CHECK(r.e.dev_flags & AZB_DEV_DISCARD, "memory plugin trims");
	CHECK(r.e.dev_flags & AZB_DEV_WRITE_ZEROES, "memory plugin zeroes");
	CHECK(!(r.e.dev_flags & AZB_DEV_READ_ONLY), "writable export");
	memset(shadow, 0, sizeof(shadow));
	rc = azb_emul_served_shadow(&r, 0, shadow, span, 40, 16, &rng);
	CHECK(!rc, "%d requests failed or read wrong data", rc);
	azb_emul_served_close(&r);
	CHECK(!r.em.bad, "%llu CQEs refused", (unsigned long long)r.em.bad);
}

/* Each op and flag reaches the server as its NBD command and flag. */
static void test_ops(void)
{
	struct azb_emul_served r;
	unsigned char *slot;
	int rc, flushes, before = failures;

	if (rig_open(&r, uri, false, NULL)) {
		FAIL("cannot serve %s", uri);
		return;
	}
	slot = azb_emul_slot(&r.em, 0);
	memset(slot, 0xee, 65536);
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE, AZBUSE_IO_F_FUA, 1 << 20, 65536);
	CHECK(rc == 65536, "FUA write: %d", rc);
	CHECK(log_count(" Write id=", "offset=0x100000", "fua=1") == 1,
	      "FUA write reached the server without fua=1");
	flushes = log_count(" Flush id=", NULL, NULL);
	rc = azb_emul_served_io(&r, AZBUSE_OP_FLUSH, 0, 0, 0);
	CHECK(rc == 0, "flush: %d", rc);
	CHECK(log_count(" Flush id=", NULL, NULL) == flushes + 1, "FLUSH not sent");
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH,
				2 << 20, 4096);
	CHECK(rc == 4096, "PREFLUSH write: %d", rc);
	CHECK(log_count(" Flush id=", NULL, NULL) == flushes + 2,
	      "PREFLUSH write sent no FLUSH first");
	rc = azb_emul_served_io(&r, AZBUSE_OP_DISCARD, 0, 1 << 20, 8192);
	CHECK(rc == 8192, "discard: %d", rc);
	CHECK(log_count(" Trim id=", "offset=0x100000", "count=0x2000") == 1,
	      "DISCARD is not an NBD trim");
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, AZBUSE_IO_F_NOUNMAP,
				(1 << 20) + 8192, 8192);
	CHECK(rc == 8192, "write zeroes: %d", rc);
	CHECK(log_count(" Zero id=", "offset=0x102000", " trim=0") == 1,
	      "NOUNMAP write-zeroes is not a zero without may_trim");
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, 0, (1 << 20) + 16384,
				16384);
	CHECK(rc == 16384 &&
	      log_count(" Zero id=", "offset=0x104000", " trim=1") == 1,
	      "write-zeroes may unmap: %d", rc);
	/* The zeroed and trimmed-then-zeroed ranges read back as zeroes. */
	memset(slot, 0x77, 32768);
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, (1 << 20) + 8192, 24576);
	CHECK(rc == 24576, "read back: %d", rc);
	for (rc = 0; rc < 24576 && !slot[rc]; rc++)
		;
	CHECK(rc == 24576, "byte %d of the zeroed range is %#x", rc, slot[rc]);
	azb_emul_served_close(&r);
	if (failures != before)
		dump_log();
}

static void test_read_only_and_bad_uri(void)
{
	struct azb_engine_opts o = { .size = sizeof(o) };
	struct azb_emul_served r;
	struct azb_engine e = { .ops = ops };
	int rc;

	if (start_server("-r", NULL, NULL)) {
		FAIL("nbdkit -r did not start");
		return;
	}
	if (rig_open(&r, uri, false, NULL)) {
		FAIL("cannot serve read-only %s", uri);
	} else {
		CHECK(r.e.dev_flags & AZB_DEV_READ_ONLY,
		      "read-only export not served read-only");
		rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 0, 4096);
		CHECK(rc == 4096, "read of a read-only export: %d", rc);
		azb_emul_served_close(&r);
	}
	stop_server();
	CHECK(ops->open(&e, uri, &o) < 0, "open with no server succeeded");
	CHECK(ops->open(&e, "nbd+unix:///?socket=", &o) < 0, "empty socket");
	CHECK(ops->open(&e, "http://example/", &o) < 0, "not an NBD URI");
	CHECK(ops->open(&e, NULL, &o) == -EINVAL, "no target");
	if (!start_server(NULL, NULL, NULL)) {
		o.dev_bytes = DEV + 4096;
		CHECK(ops->open(&e, uri, &o) == -EINVAL, "-s beyond the export");
		o.dev_bytes = DEV / 2;
		rc = ops->open(&e, uri, &o);
		CHECK(!rc && e.dev_bytes == DEV / 2, "-s below the export: %d", rc);
		if (!rc)
			ops->close(&e);
		o.dev_bytes = 0;
		stop_server();
	}
	o.params = "bogus=1";
	CHECK(ops->open(&e, uri, &o) == -EINVAL, "unknown option");
	o.params = "reconnect=3601";
	CHECK(ops->open(&e, uri, &o) == -EINVAL, "reconnect beyond an hour");
	o.params = "reconnect=x";
	CHECK(ops->open(&e, uri, &o) == -EINVAL, "reconnect not a number");
}

/* reconnect=0: the server dies, every read in flight fails, none hangs. */
static void test_server_dies(void)
{
	struct azb_emul_served r;
	int t, rc, failed = 0;

	if (start_server(NULL, NULL, NULL) ||
	    rig_open(&r, uri, false, "reconnect=0")) {
		FAIL("cannot serve %s", uri);
		return;
	}
	CHECK(azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 0, 4096) == 4096,
	      "read before the kill");
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	server = -1;
	for (t = 0; t < DEPTH; t++)
		azb_emul_submit(&r.em, t, AZBUSE_OP_READ, 0, t * 8, 4096);
	for (t = 0; t < DEPTH; t++) {
		rc = azb_emul_wait(&r.em, t);
		failed += rc < 0;
	}
	CHECK(failed == DEPTH, "%d of %d reads failed after the server died",
	      failed, DEPTH);
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE, 0, 0, 4096);
	CHECK(rc < 0, "write after the server died: %d", rc);
	azb_emul_served_close(&r);
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * The server goes away and comes back (the file plugin keeps the data):
 * reads in flight and reads sent meanwhile wait, then complete with the
 * data; with reconnect=1 and no server, a read fails after about 1 s.
 */
static void test_reconnect(void)
{
	char file[300];
	struct azb_emul_served r;
	struct timespec t0;
	unsigned char *slot;
	int t, rc, fd, bad = 0;
	double s;

	snprintf(file, sizeof(file), "%s/disk", dir);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)DEV)) {
		FAIL("cannot make %s", file);
		return;
	}
	close(fd);
	if (start_server(NULL, file, NULL) ||
	    rig_open(&r, uri, false, "reconnect=20")) {
		FAIL("cannot serve %s over %s", file, uri);
		return;
	}
	for (t = 0; t < DEPTH; t++) {
		memset(azb_emul_slot(&r.em, t), 0x10 + t, 4096);
		azb_emul_submit(&r.em, t, AZBUSE_OP_WRITE, 0, t * 8, 4096);
	}
	for (t = 0; t < DEPTH; t++)
		CHECK(azb_emul_wait(&r.em, t) == 4096, "write %d", t);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	server = -1;
	for (t = 0; t < DEPTH; t++) {
		memset(azb_emul_slot(&r.em, t), 0, 4096);
		azb_emul_submit(&r.em, t, AZBUSE_OP_READ, 0, t * 8, 4096);
	}
	usleep(500000);
	if (start_server(NULL, file, NULL)) {
		FAIL("nbdkit did not come back");
	} else {
		for (t = 0; t < DEPTH; t++) {
			rc = azb_emul_wait(&r.em, t);
			slot = azb_emul_slot(&r.em, t);
			CHECK(rc == 4096, "read %d across the reconnect: %d", t, rc);
			bad += rc == 4096 && (slot[0] != 0x10 + t ||
					      slot[4095] != 0x10 + t);
		}
		CHECK(!bad, "%d reads across the reconnect returned wrong data",
		      bad);
	}
	azb_emul_served_close(&r);

	/* A server that stays away: the held read fails at the limit. */
	if (start_server(NULL, file, NULL) ||
	    rig_open(&r, uri, false, "reconnect=1")) {
		FAIL("cannot serve %s", uri);
		return;
	}
	/* KILL: on TERM nbdkit waits for its connected client to leave. */
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	server = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 0, 4096);
	s = secs_since(&t0);
	CHECK(rc == -EIO, "read with the server gone for good: %d", rc);
	CHECK(s >= 0.9 && s < 6, "it failed after %.2f s (reconnect=1)", s);
	azb_emul_served_close(&r);
	unlink(file);
}

/*
 * A read the server holds for a second keeps the poller asleep in the
 * engine (AZB_ENGINE_F_WAKE_FD: up to 200 ms at a time); writes sent
 * meanwhile must wake it, not wait out its sleep.
 */
static void test_wake(void)
{
	struct timespec settle = { 0, 60 * 1000 * 1000 }, t0;
	struct azb_emul_served r;
	double worst = 0;	/* ms */
	unsigned int t;
	int rc;

	if (start_server("--filter=delay", NULL, "rdelay=1") ||
	    rig_open(&r, uri, false, NULL)) {
		FAIL("cannot serve %s with delayed reads", uri);
		return;
	}
	CHECK(r.q.wake_fd >= 0, "the nbd engine takes no wake_fd");
	azb_emul_submit(&r.em, 0, AZBUSE_OP_READ, 0, 0, 4096);
	for (t = 1; t <= 5; t++) {
		/* Long enough for the poller to be asleep in the engine. */
		nanosleep(&settle, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		azb_emul_submit(&r.em, t, AZBUSE_OP_WRITE, 0, t * 8, 4096);
		rc = azb_emul_wait(&r.em, t);
		CHECK(rc == 4096, "write %u: %d", t, rc);
		if (secs_since(&t0) * 1e3 > worst)
			worst = secs_since(&t0) * 1e3;
	}
	CHECK(worst < 100, "a write waited %.1f ms behind a held read",
	      worst);
	CHECK(r.em.wake_signals >= 5, "the kernel side signalled %llu times",
	      (unsigned long long)r.em.wake_signals);
	rc = azb_emul_wait(&r.em, 0);
	CHECK(rc == 4096, "the delayed read: %d", rc);
	azb_emul_served_close(&r);
	stop_server();
}

int main(void)
{
	if (system("command -v nbdkit >/dev/null 2>&1")) {
		printf("SKIP: nbdkit is not installed\n");
		return 77;
	}
	ops = azb_engine_find("nbd");
	if (!ops || !mkdtemp(dir)) {
		fprintf(stderr, "test_engine_nbd: no nbd engine or temp dir\n");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(logf, sizeof(logf), "%s/log", dir);
	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s", sock);
	signal(SIGPIPE, SIG_IGN);
	if (start_server(NULL, NULL, NULL)) {
		fprintf(stderr, "test_engine_nbd: nbdkit did not start\n");
		return 1;
	}
	test_data();
	test_ops();
	test_read_only_and_bad_uri();
	test_server_dies();
	test_reconnect();
	test_wake();
	stop_server();
	unlink(logf);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "test_engine_nbd: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_engine_nbd: ok\n");
	return 0;
}
