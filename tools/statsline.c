// SPDX-License-Identifier: GPL-2.0-or-later
/* azbuse-run --stats and --stats-json (statsline.h). */
#include <string.h>
#include <time.h>

#include "statsline.h"

#define AZB_NOPS	5

static const char *const azb_op_names[AZB_NOPS] = {
	"read", "write", "flush", "discard", "write_zeroes",
};

static uint64_t azb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void azb_stats_total(const struct azb_server *srv, struct azb_queue_stats *t)
{
	struct azb_queue_stats q;
	unsigned int i, j;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < azb_server_nr_queues(srv); i++) {
		if (azb_server_queue_stats(srv, i, &q))
			continue;
		for (j = 0; j < AZB_NOPS; j++) {
			t->ios[j] += q.ios[j];
			t->op_bytes[j] += q.op_bytes[j];
		}
		t->bytes += q.bytes;
		t->errors += q.errors;
		t->batches += q.batches;
		t->bad_completions += q.bad_completions;
		t->commits += q.commits;
		t->commit_waits += q.commit_waits;
		t->engine_waits += q.engine_waits;
		t->takes += q.takes;
		for (j = 0; j < AZB_STATS_BATCH_BUCKETS; j++)
			t->batch_hist[j] += q.batch_hist[j];
		t->qd_sum += q.qd_sum;
		if (q.qd_max > t->qd_max)
			t->qd_max = q.qd_max;
		t->busy_ns += q.busy_ns;
		t->idle_ns += q.idle_ns;
		t->redirects += q.redirects;
		t->polled += q.polled;
	}
}

void azb_statsline_init(struct azb_statsline *sl, const struct azb_server *srv,
			FILE *out, bool json)
{
	memset(sl, 0, sizeof(*sl));
	sl->srv = srv;
	sl->out = out;
	sl->json = json;
	sl->t0_ns = sl->last_ns = azb_mono_ns();
	azb_stats_total(srv, &sl->last);
}

static uint64_t azb_ios(const struct azb_queue_stats *st)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < AZB_NOPS; i++)
		n += st->ios[i];
	return n;
}

static double azb_ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* Rates over the interval, summed over the queues. */
static void azb_statsline_compact(struct azb_statsline *sl, uint64_t now)
{
	struct azb_queue_stats t, *l = &sl->last;
	double dt = (double)(now - sl->last_ns) / 1e9;
	uint64_t ios, takes, busy, idle;

	azb_stats_total(sl->srv, &t);
	ios = azb_ios(&t) - azb_ios(l);
	takes = t.takes - l->takes;
	busy = t.busy_ns - l->busy_ns;
	idle = t.idle_ns - l->idle_ns;
	fprintf(sl->out,
		"t=%.1f iops=%.0f r=%.0f w=%.0f f=%.0f d=%.0f z=%.0f MiB/s=%.1f batch=%.1f qd=%.1f qdmax=%llu busy=%.0f%% commits/io=%.2f waits=%llu err=%llu\n",
		(double)(now - sl->t0_ns) / 1e9, azb_ratio((double)ios, dt),
		azb_ratio((double)(t.ios[AZB_OP_READ] - l->ios[AZB_OP_READ]), dt),
		azb_ratio((double)(t.ios[AZB_OP_WRITE] - l->ios[AZB_OP_WRITE]), dt),
		azb_ratio((double)(t.ios[AZB_OP_FLUSH] - l->ios[AZB_OP_FLUSH]), dt),
		azb_ratio((double)(t.ios[AZB_OP_DISCARD] - l->ios[AZB_OP_DISCARD]), dt),
		azb_ratio((double)(t.ios[AZB_OP_WRITE_ZEROES] -
				   l->ios[AZB_OP_WRITE_ZEROES]), dt),
		azb_ratio((double)(t.bytes - l->bytes) / 1048576.0, dt),
		azb_ratio((double)ios, (double)takes),
		azb_ratio((double)(t.qd_sum - l->qd_sum), (double)takes),
		(unsigned long long)t.qd_max,
		100 * azb_ratio((double)busy, (double)(busy + idle)),
		azb_ratio((double)(t.commits - l->commits), (double)ios),
		(unsigned long long)(t.commit_waits - l->commit_waits),
		(unsigned long long)(t.errors - l->errors));
	*l = t;
}

static void azb_json_ops(FILE *out, const char *key, const uint64_t *v)
{
	unsigned int i;

	fprintf(out, "\"%s\": {", key);
	for (i = 0; i < AZB_NOPS; i++)
		fprintf(out, "%s\"%s\": %llu", i ? ", " : "", azb_op_names[i],
			(unsigned long long)v[i]);
	fputs("}", out);
}

static void azb_json_queue(FILE *out, const struct azb_server *srv,
			   unsigned int qid)
{
	struct azb_queue_stats st;
	char cpus[256];
	unsigned int i;
	int node = -1;

	if (azb_server_queue_cpus(srv, qid, cpus, sizeof(cpus), &node) < 0)
		cpus[0] = '\0';
	if (azb_server_queue_stats(srv, qid, &st))
		memset(&st, 0, sizeof(st));
	fprintf(out, "{\"qid\": %u, \"poll\": %s, \"cpus\": \"%s\", \"node\": %d, ",
		qid, azb_server_queue_is_poll(srv, qid) ? "true" : "false",
		cpus, node);
	azb_json_ops(out, "ios", st.ios);
	fputs(", ", out);
	azb_json_ops(out, "bytes", st.op_bytes);
	fprintf(out,
		", \"errors\": %llu, \"bad_completions\": %llu, \"commits\": %llu, \"commit_waits\": %llu, \"batches\": %llu, \"engine_waits\": %llu, \"takes\": %llu, \"batch_hist\": [",
		(unsigned long long)st.errors,
		(unsigned long long)st.bad_completions,
		(unsigned long long)st.commits,
		(unsigned long long)st.commit_waits,
		(unsigned long long)st.batches,
		(unsigned long long)st.engine_waits,
		(unsigned long long)st.takes);
	for (i = 0; i < AZB_STATS_BATCH_BUCKETS; i++)
		fprintf(out, "%s%llu", i ? ", " : "",
			(unsigned long long)st.batch_hist[i]);
	fprintf(out,
		"], \"qd_sum\": %llu, \"qd_max\": %llu, \"busy_ns\": %llu, \"idle_ns\": %llu, \"redirects\": %llu, \"polled\": %llu}",
		(unsigned long long)st.qd_sum, (unsigned long long)st.qd_max,
		(unsigned long long)st.busy_ns, (unsigned long long)st.idle_ns,
		(unsigned long long)st.redirects,
		(unsigned long long)st.polled);
}

void azb_statsline_print(struct azb_statsline *sl, bool final)
{
	uint64_t now = azb_mono_ns();
	unsigned int i;

	if (!sl->json) {
		azb_statsline_compact(sl, now);
	} else {
		fprintf(sl->out, "{\"t\": %.3f, \"dev\": %u, %s\"queues\": [",
			(double)(now - sl->t0_ns) / 1e9,
			azb_server_dev_id(sl->srv), final ? "\"final\": true, " : "");
		for (i = 0; i < azb_server_nr_queues(sl->srv); i++) {
			if (i)
				fputs(", ", sl->out);
			azb_json_queue(sl->out, sl->srv, i);
		}
		fputs("]}\n", sl->out);
	}
	fflush(sl->out);
	sl->last_ns = now;
}

void azb_statsline_placement(const struct azb_server *srv, FILE *out)
{
	char cpus[256];
	unsigned int i;
	int node;

	for (i = 0; i < azb_server_nr_queues(srv); i++) {
		if (azb_server_queue_cpus(srv, i, cpus, sizeof(cpus), &node) < 0)
			continue;
		fprintf(out, "queue %u: CPUs %s, node %d\n", i, cpus, node);
	}
}
