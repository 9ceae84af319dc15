// SPDX-License-Identifier: LGPL-2.1-or-later
/* Per-queue counters: the clock and the reader (stats.h). */
#include <time.h>
#include "stats.h"

uint64_t azb_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define AZB_LOAD(f)	__atomic_load_n(&(f), __ATOMIC_RELAXED)

void azb_stats_read(const struct azb_queue_stats *src,
		    struct azb_queue_stats *dst)
{
	unsigned int i;

	for (i = 0; i < 5; i++) {
		dst->ios[i] = AZB_LOAD(src->ios[i]);
		dst->op_bytes[i] = AZB_LOAD(src->op_bytes[i]);
	}
	dst->bytes = AZB_LOAD(src->bytes);
	dst->errors = AZB_LOAD(src->errors);
	dst->batches = AZB_LOAD(src->batches);
	dst->bad_completions = AZB_LOAD(src->bad_completions);
	dst->commits = AZB_LOAD(src->commits);
	dst->commit_waits = AZB_LOAD(src->commit_waits);
	dst->engine_waits = AZB_LOAD(src->engine_waits);
	dst->takes = AZB_LOAD(src->takes);
	for (i = 0; i < AZB_STATS_BATCH_BUCKETS; i++)
		dst->batch_hist[i] = AZB_LOAD(src->batch_hist[i]);
	dst->qd_sum = AZB_LOAD(src->qd_sum);
	dst->qd_max = AZB_LOAD(src->qd_max);
	dst->busy_ns = AZB_LOAD(src->busy_ns);
	dst->idle_ns = AZB_LOAD(src->idle_ns);
	dst->redirects = AZB_LOAD(src->redirects);
	dst->polled = AZB_LOAD(src->polled);
}
