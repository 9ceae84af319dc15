// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azb-native-bench: what the runtime itself costs per I/O, with no kernel
 * and no guest (the SPDK-style number).
 *
 * Each queue runs the real poller (azb_poller_main, busy mode) and a real
 * engine (null by default) against tests/unit/ring_emul.c, the userspace
 * implementation of the kernel side of the ring.  The emulated kernel lives
 * in the poller's own thread: when the poller commits a batch of
 * completions, the kernel side reaps and checks them (as the COMMIT ioctl
 * does) and publishes the next `batch` requests, as fio would have queued
 * them meanwhile.  So every pass of the poller takes exactly `batch`
 * requests, and all the work of a queue, runtime and emulated kernel, runs
 * on one pinned core with nothing to wait for.
 *
 * Reported per configuration (queues x batch), per queue and averaged:
 *   IOPS         all queues together, by wall time
 *   IOPS/core    I/Os per second of one poller thread's CPU time
 *   ns/IO        CPU time per I/O on one core: runtime + emulated kernel
 *   runtime ns   the same without the emulated kernel's share (its share
 *                of the wall time, read with the TSC around each commit):
 *                the runtime's own cost
 *   kernel ns    the emulated kernel's share: publishing SQEs under a lock
 *                (as queue_rq does under its spinlock) and checking CQEs
 * CPU time rather than wall time, so a thread that the host preempts does
 * not look slow.
 *
 * Every run checks itself: each queue must complete exactly the requests
 * it submitted, every result must be the request's length, the kernel side
 * must refuse no completion and the runtime's counters must agree.  Any
 * difference is reported and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "ring_emul.h"

#define AZB_PROG	"azb-native-bench"
#define AZB_NB_DEPTH	128		/* azbuse's default queue depth */
#define AZB_NB_IO	4096u
#define AZB_NB_MAX_IO	(256u << 10)	/* the default arena slot */
#define AZB_NB_DEV	(1ull << 30)
#define AZB_NB_MAX_LIST	16

struct azb_nb_queue {
	struct azb_queue	q;	/* first: the commit hook finds us */
	struct azb_emul		em;
	unsigned int		batch;
	int			cpu;
	uint64_t		warmup;	/* I/Os before the measurement */
	uint64_t		target;	/* I/Os measured */
	uint64_t		submitted;
	uint64_t		completed;
	uint32_t		next_tag;
	uint64_t		bad_results;
	bool			refused;	/* the kernel side refused CQEs */

	bool			measuring;
	uint64_t		t0_tick, t1_tick, kern_ticks;
	uint64_t		t0_ns, t1_ns, cpu0_ns, cpu1_ns;
	uint64_t		measured;	/* I/Os completed in the window */
};

static uint64_t azb_nb_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A cheap timestamp for bracketing every commit; scaled to ns at the end. */
static inline uint64_t azb_nb_tick(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return azb_nb_clock(CLOCK_MONOTONIC);
#endif
}

/* The kernel's side of a request: publish it on the SQ. */
static bool azb_nb_submit_one(struct azb_nb_queue *b)
{
	unsigned int tag = b->next_tag;
	struct azb_emul_tag *t = &b->em.tags[tag];

	/* Tags come back in order from the null engine; never reuse early. */
	if (t->gen)
		return false;
	if (b->submitted && t->done && t->result != (int32_t)AZB_NB_IO)
		b->bad_results++;
	azb_emul_submit(&b->em, tag, AZBUSE_OP_READ, 0,
			(b->submitted * (AZB_NB_IO >> 9)) % (AZB_NB_DEV >> 9),
			AZB_NB_IO);
	b->next_tag = (tag + 1) % b->em.depth;
	b->submitted++;
	return true;
}

static void azb_nb_refill(struct azb_nb_queue *b)
{
	uint64_t end = b->warmup + b->target;

	while (b->submitted - b->completed < b->batch && b->submitted < end)
		if (!azb_nb_submit_one(b))
			break;
}

static void azb_nb_mark(struct azb_nb_queue *b, bool start)
{
	if (start) {
		b->t0_tick = azb_nb_tick();
		b->t0_ns = azb_nb_clock(CLOCK_MONOTONIC);
		b->cpu0_ns = azb_nb_clock(CLOCK_THREAD_CPUTIME_ID);
		b->kern_ticks = 0;
		b->measured = b->completed;
	} else {
		b->t1_tick = azb_nb_tick();
		b->t1_ns = azb_nb_clock(CLOCK_MONOTONIC);
		b->cpu1_ns = azb_nb_clock(CLOCK_THREAD_CPUTIME_ID);
		b->measured = b->completed - b->measured;
	}
	b->measuring = start;
}

/*
 * The poller's commit: the emulated kernel reaps the CQ (azb_emul_commit,
 * the checks of the COMMIT ioctl) and then queues the next requests.
 */
static int azb_nb_commit(struct azb_queue *q, bool wait, unsigned int wait_ms)
{
	struct azb_nb_queue *b = (struct azb_nb_queue *)q;
	uint64_t t = azb_nb_tick();
	int n;

	n = azb_emul_commit(q, false, 0);
	if (n == -EINVAL)
		b->refused = true;
	b->completed = b->em.completed;
	if (!b->measuring && !b->t0_tick && b->completed >= b->warmup)
		azb_nb_mark(b, true);
	if (b->measuring && b->completed >= b->warmup + b->target) {
		azb_nb_mark(b, false);
		q->stop = true;
		return n;
	}
	azb_nb_refill(b);
	if (b->measuring)
		b->kern_ticks += azb_nb_tick() - t;
	return n;
}

static void *azb_nb_thread(void *arg)
{
	struct azb_nb_queue *b = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(b->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return azb_poller_main(&b->q);
}

struct azb_nb_result {
	unsigned int	queues, batch;
	uint64_t	ios;		/* measured, all queues */
	double		iops;		/* all queues */
	double		iops_core;	/* per poller core (CPU time) */
	double		ns_io;		/* wall per I/O per core */
	double		runtime_ns_io;	/* without the emulated kernel */
	double		kernel_ns_io;
	bool		ok;
};

/* Checks one finished queue; prints what is wrong.  True if all is well. */
static bool azb_nb_check(const struct azb_nb_queue *b)
{
	uint64_t want = b->warmup + b->target;
	const struct azb_queue_stats *st = &b->q.stats;
	unsigned int tag;
	bool ok = true;

#define AZB_NB_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, AZB_PROG ": queue %u batch %u: ",	\
			b->q.qid, b->batch);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		ok = false;						\
	}								\
} while (0)
	AZB_NB_CHECK(b->submitted == want, "submitted %llu, want %llu",
		     (unsigned long long)b->submitted, (unsigned long long)want);
	AZB_NB_CHECK(b->em.completed == want, "completed %llu, want %llu",
		     (unsigned long long)b->em.completed,
		     (unsigned long long)want);
	AZB_NB_CHECK(st->ios[AZB_OP_READ] == want,
		     "the runtime counted %llu reads, want %llu",
		     (unsigned long long)st->ios[AZB_OP_READ],
		     (unsigned long long)want);
	AZB_NB_CHECK(st->bytes == want * AZB_NB_IO, "bytes %llu, want %llu",
		     (unsigned long long)st->bytes,
		     (unsigned long long)(want * AZB_NB_IO));
	AZB_NB_CHECK(!st->errors && !b->bad_results,
		     "%llu errors, %llu wrong results",
		     (unsigned long long)st->errors,
		     (unsigned long long)b->bad_results);
	AZB_NB_CHECK(!b->refused && !b->em.bad && !st->bad_completions,
		     "the kernel side refused %llu completions",
		     (unsigned long long)b->em.bad);
	AZB_NB_CHECK(b->q.error == 0, "poller error %d", b->q.error);
	for (tag = 0; tag < b->em.depth; tag++) {
		const struct azb_emul_tag *t = &b->em.tags[tag];

		AZB_NB_CHECK(!t->gen, "tag %u never completed", tag);
		AZB_NB_CHECK(!t->done || t->result == (int32_t)AZB_NB_IO,
			     "tag %u: result %d, want %u", tag, t->result,
			     AZB_NB_IO);
	}
	/* The window opens at the first commit past the warm-up. */
	AZB_NB_CHECK(b->measured + b->batch > b->target && b->t1_ns > b->t0_ns,
		     "measured %llu I/Os, want %llu",
		     (unsigned long long)b->measured,
		     (unsigned long long)b->target);
#undef AZB_NB_CHECK
	return ok;
}

static int azb_nb_run(const struct azb_engine_ops *ops, unsigned int queues,
		      unsigned int batch, uint64_t ios,
		      struct azb_nb_result *r)
{
	struct azb_engine_opts eo = { .size = sizeof(eo),
				      .dev_bytes = AZB_NB_DEV };
	struct azb_engine e = { .ops = ops };
	struct azb_nb_queue *b;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double wall_max = 0, sum_core = 0, sum_ns = 0, sum_rt = 0, sum_k = 0;
	unsigned int i, inited = 0, started = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->queues = queues;
	r->batch = batch;
	if (posix_memalign((void **)&b, 64, queues * sizeof(*b)))
		return -ENOMEM;
	memset(b, 0, queues * sizeof(*b));
	ret = ops->open(&e, NULL, &eo);
	if (ret) {
		free(b);
		return ret;
	}
	for (i = 0; i < queues; i++, inited++) {
		struct azb_nb_queue *nb = &b[i];

		ret = azb_emul_init(&nb->em, &nb->q, AZB_NB_DEPTH,
				    AZB_NB_MAX_IO, AZB_NB_DEV);
		if (ret)
			goto out;
		nb->q.qid = i;
		nb->q.poll = AZB_POLL_BUSY;
		nb->q.batch = batch;
		nb->q.commit = azb_nb_commit;
		nb->batch = batch;
		nb->cpu = (int)(i % (ncpu > 0 ? ncpu : 1));
		nb->target = ios;
		nb->warmup = (ios / 10 + batch) / batch * batch;
		ret = azb_queue_init(&nb->q, &e);
		if (ret) {
			azb_emul_exit(&nb->em);
			goto out;
		}
		azb_nb_refill(nb);
	}
	for (i = 0; i < queues; i++, started++) {
		ret = -pthread_create(&b[i].q.thread, NULL, azb_nb_thread, &b[i]);
		if (ret)
			break;
	}
	for (i = 0; i < started; i++)
		pthread_join(b[i].q.thread, NULL);
	if (ret)
		goto out;

	r->ok = true;
	for (i = 0; i < queues; i++) {
		struct azb_nb_queue *nb = &b[i];
		double wall, cpu, kern;

		if (!azb_nb_check(nb)) {
			r->ok = false;
			continue;
		}
		wall = (double)(nb->t1_ns - nb->t0_ns);
		cpu = (double)(nb->cpu1_ns - nb->cpu0_ns);
		if (cpu <= 0)
			cpu = wall;
		/* The emulated kernel's share of the window, by the TSC. */
		kern = (double)nb->kern_ticks /
		       (double)(nb->t1_tick - nb->t0_tick);
		r->ios += nb->measured;
		if (wall > wall_max)
			wall_max = wall;
		sum_core += (double)nb->measured / cpu * 1e9;
		sum_ns += cpu / (double)nb->measured;
		sum_k += cpu * kern / (double)nb->measured;
		sum_rt += cpu * (1 - kern) / (double)nb->measured;
	}
	if (r->ok) {
		r->iops = (double)r->ios / wall_max * 1e9;
		r->iops_core = sum_core / queues;
		r->ns_io = sum_ns / queues;
		r->kernel_ns_io = sum_k / queues;
		r->runtime_ns_io = sum_rt / queues;
	}
out:
	for (i = 0; i < inited; i++) {
		azb_queue_exit(&b[i].q);
		azb_emul_exit(&b[i].em);
	}
	if (ops->close)
		ops->close(&e);
	free(b);
	return ret;
}

/* "1,2,4" or "1-4" or "1" into list; returns the count, 0 if malformed. */
static unsigned int azb_nb_list(const char *s, unsigned int max,
				unsigned int *list)
{
	unsigned int n = 0, a, z, v;
	char *end;

	while (*s) {
		a = (unsigned int)strtoul(s, &end, 10);
		if (end == s || a < 1 || a > max)
			return 0;
		z = a;
		s = end;
		if (*s == '-') {
			z = (unsigned int)strtoul(s + 1, &end, 10);
			if (end == s + 1 || z < a || z > max)
				return 0;
			s = end;
		}
		for (v = a; v <= z; v++) {
			if (n == AZB_NB_MAX_LIST)
				return 0;
			list[n++] = v;
		}
		if (*s == ',')
			s++;
		else if (*s)
			return 0;
	}
	return n;
}

static void azb_usage(void)
{
	printf("Usage: " AZB_PROG " [options]\n"
	       "Measure the azbuse runtime's own cost per I/O: the real poller and engine\n"
	       "against the userspace kernel side of the ring (tests/unit/ring_emul.c),\n"
	       "one pinned thread per queue, 4 KiB reads, queue depth %u.\n\n"
	       "  -b, --batch LIST    requests per poller pass, e.g. 1,4,16 or 1-8\n"
	       "                      (default 1,2,4,8,16,32,64; at most 64)\n"
	       "  -q, --queues LIST   queue counts (default 1 up to the online CPUs)\n"
	       "  -n, --ios N         I/Os measured per queue (default 4000000),\n"
	       "                      after a warm-up of a tenth of that\n"
	       "  -e, --engine NAME   engine (default null)\n"
	       "      --json FILE     also write the results as JSON to FILE\n"
	       "  -h, --help          this help\n\n"
	       "Exit status: 0 every run completed exactly its I/Os, 1 a run failed or\n"
	       "miscounted, 2 the command line was wrong.\n", AZB_NB_DEPTH);
}

static void azb_die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, AZB_PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" AZB_PROG " --help'.\n");
	exit(2);
}

static const struct option azb_opts[] = {
	{ "batch",	required_argument, NULL, 'b' },
	{ "queues",	required_argument, NULL, 'q' },
	{ "ios",	required_argument, NULL, 'n' },
	{ "engine",	required_argument, NULL, 'e' },
	{ "json",	required_argument, NULL, 'j' },
	{ "help",	no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	static const unsigned int def_batch[] = { 1, 2, 4, 8, 16, 32, 64 };
	unsigned int batch[AZB_NB_MAX_LIST], queues[AZB_NB_MAX_LIST];
	unsigned int nb = 0, nq = 0, i, j;
	const struct azb_engine_ops *ops = azb_engine_find("null");
	const char *json = NULL, *engine = "null";
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long ios = 4000000;
	FILE *jf = NULL;
	char *end;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "b:q:n:e:h", azb_opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			nb = azb_nb_list(optarg, 64, batch);
			if (!nb)
				azb_die_usage("-b: '%s' is not a list of 1..64", optarg);
			break;
		case 'q':
			nq = azb_nb_list(optarg, AZB_NB_MAX_LIST, queues);
			if (!nq)
				azb_die_usage("-q: '%s' is not a list of 1..16", optarg);
			break;
		case 'n':
			ios = strtoull(optarg, &end, 10);
			if (*end || !ios || ios > (1ull << 40))
				azb_die_usage("-n: '%s' is not a count of I/Os", optarg);
			break;
		case 'e':
			engine = optarg;
			ops = azb_engine_find(optarg);
			if (!ops || (ops->flags & AZB_ENGINE_F_NEEDS_TARGET))
				azb_die_usage("-e: '%s' is not an engine that runs without a target",
					      optarg);
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			azb_usage();
			return 0;
		default:
			fprintf(stderr, "Try '" AZB_PROG " --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		azb_die_usage("unexpected argument '%s'", argv[optind]);
	if (!ops) {
		fprintf(stderr, AZB_PROG ": no null engine in the table\n");
		return 1;
	}
	if (!nb)
		for (; nb < sizeof(def_batch) / sizeof(def_batch[0]); nb++)
			batch[nb] = def_batch[nb];
	if (!nq)
		for (; nq < (ncpu > 0 ? (unsigned int)ncpu : 1) &&
		       nq < AZB_NB_MAX_LIST; nq++)
			queues[nq] = nq + 1;
	if (json) {
		jf = fopen(json, "w");
		if (!jf) {
			fprintf(stderr, AZB_PROG ": %s: %s\n", json, strerror(errno));
			return 1;
		}
		fprintf(jf, "{\n  \"engine\": \"%s\", \"depth\": %u, \"io_bytes\": %u, "
			"\"ios_per_queue\": %llu, \"cpus\": %ld,\n  \"results\": [",
			engine, AZB_NB_DEPTH, AZB_NB_IO, ios, ncpu);
	}
	printf("engine %s, 4 KiB reads, depth %u, %llu I/Os per queue, %ld CPUs\n",
	       engine, AZB_NB_DEPTH, ios, ncpu);
	printf("%6s %5s %12s %12s %8s %11s %10s\n", "queues", "batch", "IOPS",
	       "IOPS/core", "ns/IO", "runtime ns", "kernel ns");
	for (i = 0; i < nq; i++) {
		for (j = 0; j < nb; j++) {
			struct azb_nb_result r;
			int ret = azb_nb_run(ops, queues[i], batch[j], ios, &r);

			if (ret || !r.ok) {
				fprintf(stderr, AZB_PROG ": %u queues, batch %u: %s\n",
					queues[i], batch[j],
					ret ? strerror(-ret) : "miscounted");
				failed = 1;
				continue;
			}
			printf("%6u %5u %12.0f %12.0f %8.1f %11.1f %10.1f\n",
			       r.queues, r.batch, r.iops, r.iops_core, r.ns_io,
			       r.runtime_ns_io, r.kernel_ns_io);
			fflush(stdout);
			if (jf)
				fprintf(jf, "%s\n    {\"queues\": %u, \"batch\": %u, "
					"\"ios\": %llu, \"iops\": %.0f, "
					"\"iops_per_core\": %.0f, \"ns_per_io\": %.2f, "
					"\"runtime_ns_per_io\": %.2f, "
					"\"kernel_emul_ns_per_io\": %.2f}",
					i || j ? "," : "", r.queues, r.batch,
					(unsigned long long)r.ios, r.iops,
					r.iops_core, r.ns_io, r.runtime_ns_io,
					r.kernel_ns_io);
		}
	}
	if (jf) {
		fprintf(jf, "\n  ]\n}\n");
		if (fclose(jf)) {
			fprintf(stderr, AZB_PROG ": %s: %s\n", json, strerror(errno));
			failed = 1;
		}
	}
	return failed;
}
