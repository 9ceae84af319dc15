// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The poller's counters and polling modes, against the userspace kernel
 * side of the ring (ring_emul.c), which counts COMMIT calls and waits on
 * its own: the runtime's counters must agree with it; a busy poller makes
 * no call to receive and one per batch of completions, and none at all
 * while idle; an adaptive one spins --spin-us before it sleeps; sleeping
 * and adaptive pollers cost next to no CPU while idle; batch sizes, queue
 * depth and busy/idle time come out as submitted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	64
#define MAX_IO	(64u << 10)
#define DEV	(16ull << 20)

/* A null engine behind the real poller; any failure ends the test. */
static void rig_init(struct azb_emul_rig *r, enum azb_poll_mode mode,
		     unsigned int spin_us)
{
	if (azb_emul_rig_init(r, azb_engine_find("null"), mode, spin_us,
			      DEPTH, MAX_IO, DEV)) {
		fprintf(stderr, "test_stats: rig setup failed\n");
		exit(1);
	}
}

/* The emulated kernel's own counts: COMMIT calls, and those that waited. */
static void emul_counts(struct azb_emul_rig *r, uint64_t *commits, uint64_t *waits)
{
	pthread_mutex_lock(&r->em.lock);
	*commits = r->em.commits;
	*waits = r->em.waits;
	pthread_mutex_unlock(&r->em.lock);
}

static struct azb_queue_stats stats(struct azb_emul_rig *r)
{
	struct azb_queue_stats st;

	azb_stats_read(&r->q.stats, &st);
	return st;
}

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time the poller thread has used. */
static uint64_t poller_cpu_ns(struct azb_emul_rig *r)
{
	clockid_t id;

	if (pthread_getcpuclockid(r->q.thread, &id))
		return 0;
	return now_ns(id);
}

static void msleep(unsigned int ms)
{
	usleep(ms * 1000);
}

/* Starts the rig's poller and names it, so /proc can find its thread. */
static void rig_start(struct azb_emul_rig *r)
{
	azb_emul_rig_start(r);
	pthread_setname_np(r->q.thread, "azb-test-poll");
}

/* The poller's scheduler state now: 'R' running or runnable, 'S' asleep. */
static char poller_state(void)
{
	char path[300], buf[256], st = '?';
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	FILE *f;

	while (dir && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, "(azb-test-poll) "))
			st = strstr(buf, ") ")[2];
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return st;
}

/*
 * How many of n looks, ms apart, found the poller running or runnable.
 * What it does, not how much CPU it got: a spinning thread is runnable
 * even while a loaded machine gives its CPU to something else.
 */
static unsigned int poller_running(unsigned int n, unsigned int ms)
{
	unsigned int i, running = 0;

	for (i = 0; i < n; i++) {
		running += poller_state() == 'R';
		msleep(ms);
	}
	return running;
}

/* n reads, published together, completed before returning. */
static void burst(struct azb_emul_rig *r, unsigned int n)
{
	unsigned int t;

	for (t = 0; t < n; t++)
		azb_emul_submit(&r->em, t, AZBUSE_OP_READ, 0, t * 8, 4096);
	for (t = 0; t < n; t++)
		CHECK(azb_emul_wait(&r->em, t) == 4096, "read result");
}

static void test_buckets(void)
{
	static const struct { uint32_t n; unsigned int b; } c[] = {
		{ 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 2 }, { 7, 2 }, { 64, 6 },
		{ 4096, 12 }, { 8191, 12 }, { 8192, 13 }, { 100000, 13 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		CHECK(azb_batch_bucket(c[i].n) == c[i].b,
		      "batch of %u in bucket %u, want %u", c[i].n,
		      azb_batch_bucket(c[i].n), c[i].b);
}

/* One batch of 32 taken at once: histogram, depth, bytes, commits. */
static void test_batch_and_depth(void)
{
	struct azb_queue_stats st;
	uint64_t commits, waits;
	struct azb_emul_rig r;
	unsigned int t;

	rig_init(&r, AZB_POLL_SLEEP, 0);
	for (t = 0; t < 32; t++)
		azb_emul_submit(&r.em, t, t % 2 ? AZBUSE_OP_WRITE : AZBUSE_OP_READ,
				0, t * 8, 4096 * (1 + t % 2));
	rig_start(&r);
	for (t = 0; t < 32; t++)
		azb_emul_wait(&r.em, t);
	msleep(20);
	st = stats(&r);
	CHECK(st.takes == 1 && st.batch_hist[5] == 1,
	      "takes %llu, batches of 32..63: %llu",
	      (unsigned long long)st.takes,
	      (unsigned long long)st.batch_hist[5]);
	CHECK(st.qd_max == 32 && st.qd_sum == 32, "depth seen: max %llu sum %llu",
	      (unsigned long long)st.qd_max, (unsigned long long)st.qd_sum);
	CHECK(st.ios[AZB_OP_READ] == 16 && st.ios[AZB_OP_WRITE] == 16,
	      "reads %llu writes %llu", (unsigned long long)st.ios[AZB_OP_READ],
	      (unsigned long long)st.ios[AZB_OP_WRITE]);
	CHECK(st.op_bytes[AZB_OP_READ] == 16 * 4096 &&
	      st.op_bytes[AZB_OP_WRITE] == 16 * 8192 &&
	      st.bytes == 16 * 4096 + 16 * 8192, "bytes by op");
	CHECK(st.batches == 1, "32 completions took %llu commits",
	      (unsigned long long)st.batches);
	/* The runtime counts what the kernel side saw. */
	azb_emul_rig_stop(&r);
	st = stats(&r);
	commits = r.em.commits;
	waits = r.em.waits;
	CHECK(st.commits == commits && st.commit_waits == waits,
	      "runtime counted %llu commits (%llu waits), kernel side %llu (%llu)",
	      (unsigned long long)st.commits,
	      (unsigned long long)st.commit_waits,
	      (unsigned long long)commits, (unsigned long long)waits);
	CHECK(waits >= 1, "a sleeping poller never waited");
}

/*
 * Busy polling: receiving costs no call, completing one per batch, and
 * an idle busy poller makes none at all.
 */
static void test_busy_calls(void)
{
	uint64_t c0, w0, c1, w1, ios;
	struct azb_queue_stats st;
	struct azb_emul_rig r;
	unsigned int round;

	rig_init(&r, AZB_POLL_BUSY, 0);
	rig_start(&r);
	for (round = 0; round < 200; round++)
		burst(&r, 1 + round % DEPTH);
	msleep(20);
	emul_counts(&r, &c0, &w0);
	st = stats(&r);
	ios = st.ios[AZB_OP_READ];
	CHECK(w0 == 0 && st.commit_waits == 0, "busy poller waited %llu times",
	      (unsigned long long)w0);
	CHECK(c0 == st.commits && st.commits == st.batches,
	      "commits %llu (kernel side %llu), with completions %llu",
	      (unsigned long long)st.commits, (unsigned long long)c0,
	      (unsigned long long)st.batches);
	CHECK(c0 <= ios, "%llu commits for %llu I/Os",
	      (unsigned long long)c0, (unsigned long long)ios);
	msleep(100);
	emul_counts(&r, &c1, &w1);
	CHECK(c1 == c0 && w1 == 0, "idle busy poller made %llu calls",
	      (unsigned long long)(c1 - c0));
	printf("  busy: %llu I/Os, %llu commits (%.3f per I/O), 0 waits\n",
	       (unsigned long long)ios, (unsigned long long)c0,
	       (double)c0 / (double)ios);
	azb_emul_rig_stop(&r);
}

/*
 * Adaptive: spins spin_us after the last request (using the CPU, making
 * no call), then sleeps.
 */
static void test_adaptive_spin(void)
{
	uint64_t c, w0, w1, t0, cpu;
	struct azb_emul_rig r;
	unsigned int running;

	rig_init(&r, AZB_POLL_ADAPTIVE, 300000);
	rig_start(&r);
	burst(&r, 4);
	emul_counts(&r, &c, &w0);
	running = poller_running(10, 15);
	emul_counts(&r, &c, &w1);
	CHECK(w1 == w0, "slept %llu times within half of a 300 ms spin",
	      (unsigned long long)(w1 - w0));
	CHECK(running >= 9, "spinning at only %u of 10 looks in 150 ms",
	      running);
	t0 = now_ns(CLOCK_MONOTONIC);
	while (w1 == w0 && now_ns(CLOCK_MONOTONIC) - t0 < 3000000000ull) {
		msleep(5);
		emul_counts(&r, &c, &w1);
	}
	CHECK(w1 > w0, "a 300 ms spin never ended in a sleep");
	azb_emul_rig_stop(&r);

	/* The last completions may go back in the call that sleeps. */
	rig_init(&r, AZB_POLL_ADAPTIVE, 0);
	rig_start(&r);
	burst(&r, 4);
	msleep(20);
	cpu = poller_cpu_ns(&r);
	msleep(100);
	cpu = poller_cpu_ns(&r) - cpu;
	emul_counts(&r, &c, &w1);
	CHECK(w1 > 0 && cpu < 10000000ull,
	      "spin 0: %llu sleeps, %llu ns of CPU in 100 ms",
	      (unsigned long long)w1, (unsigned long long)cpu);
	azb_emul_rig_stop(&r);
}

/*
 * Idle: sleeping and adaptive pollers use next to no CPU (less CPU than
 * asked is what a loaded machine gives, so that bound holds there too); a
 * busy one never sleeps.
 */
static void test_idle_cpu(void)
{
	static const enum azb_poll_mode modes[] = {
		AZB_POLL_SLEEP, AZB_POLL_ADAPTIVE, AZB_POLL_BUSY,
	};
	static const char *const names[] = { "sleep", "adaptive", "busy" };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		uint64_t cpu0, cpu, wall0, wall;
		struct azb_emul_rig r;
		unsigned int running;

		rig_init(&r, modes[i], 50);
		rig_start(&r);
		burst(&r, 8);
		msleep(20);
		cpu0 = poller_cpu_ns(&r);
		wall0 = now_ns(CLOCK_MONOTONIC);
		running = poller_running(20, 20);
		cpu = poller_cpu_ns(&r) - cpu0;
		wall = now_ns(CLOCK_MONOTONIC) - wall0;
		printf("  %s: idle poller used %.1f%% of a CPU, running at "
		       "%u of 20 looks\n", names[i],
		       100.0 * (double)cpu / (double)wall, running);
		if (modes[i] == AZB_POLL_BUSY)
			/*
			 * Never asleep, however little CPU a loaded machine
			 * leaves it (test_busy_calls: no waits either).
			 */
			CHECK(running >= 19, "idle busy poller running at only "
			      "%u of 20 looks", running);
		else
			CHECK(cpu < wall / 50, "idle %s poller used %llu ns of %llu",
			      names[i], (unsigned long long)cpu,
			      (unsigned long long)wall);
		azb_emul_rig_stop(&r);
	}
}

/* Busy and idle time add up to the poller's life, and both grow. */
static void test_busy_idle_time(void)
{
	struct azb_queue_stats st;
	uint64_t start, t0, life;
	struct azb_emul_rig r;

	rig_init(&r, AZB_POLL_BUSY, 0);
	start = now_ns(CLOCK_MONOTONIC_COARSE);
	rig_start(&r);
	msleep(200);
	st = stats(&r);
	CHECK(st.idle_ns >= 150000000ull && st.busy_ns == 0,
	      "200 ms idle counted as idle %llu ns, busy %llu ns",
	      (unsigned long long)st.idle_ns, (unsigned long long)st.busy_ns);
	t0 = now_ns(CLOCK_MONOTONIC);
	while (now_ns(CLOCK_MONOTONIC) - t0 < 300000000ull)
		burst(&r, DEPTH);
	azb_emul_rig_stop(&r);
	st = stats(&r);
	life = now_ns(CLOCK_MONOTONIC_COARSE) - start;
	CHECK(st.busy_ns > 0, "300 ms of load counted no busy time");
	CHECK(st.busy_ns + st.idle_ns <= life + 20000000ull,
	      "busy %llu + idle %llu ns exceed the poller's %llu ns",
	      (unsigned long long)st.busy_ns, (unsigned long long)st.idle_ns,
	      (unsigned long long)life);
	printf("  load: busy %.0f%%\n",
	       100.0 * (double)st.busy_ns / (double)(st.busy_ns + st.idle_ns));
}

int main(void)
{
	test_buckets();
	test_batch_and_depth();
	test_busy_calls();
	test_adaptive_spin();
	test_idle_cpu();
	test_busy_idle_time();
	if (failures) {
		fprintf(stderr, "test_stats: %d checks failed\n", failures);
		return 1;
	}
	printf("test_stats: ok\n");
	return 0;
}
