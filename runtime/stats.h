/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-queue counters (struct azb_queue_stats in azbuse.h): written by the
 * queue's poller alone with relaxed stores, read by any thread.  Nothing
 * here takes a lock or makes a system call.
 */
#ifndef AZB_STATS_H
#define AZB_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include "azbuse.h"

/* Relaxed counter update: readers on other threads see whole values. */
#define AZB_STAT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define AZB_STAT_MAX(field, v) do { \
	if ((v) > (field)) \
		__atomic_store_n(&(field), (v), __ATOMIC_RELAXED); \
} while (0)

/* Histogram bucket of a batch of n >= 1 requests: floor(log2(n)). */
static inline unsigned int azb_batch_bucket(uint32_t n)
{
	unsigned int b = 31 - (unsigned int)__builtin_clz(n | 1);

	return b < AZB_STATS_BATCH_BUCKETS ? b : AZB_STATS_BATCH_BUCKETS - 1;
}

/*
 * CLOCK_MONOTONIC_COARSE: never a system call (the vDSO reads it even
 * where the clock source has no vDSO path, as in some guests) and cheaper
 * than a fine clock, but it moves in ticks (4 ms at HZ=250).  Charged per
 * loop pass, each tick goes to the kind of pass it fell in, so over many
 * passes busy and idle time come out right, as sampling would.
 */
uint64_t azb_coarse_ns(void);

/* The busy/idle clock of one poller loop. */
struct azb_loop_clock {
	uint64_t	last;	/* when the current pass began */
	bool		busy;	/* the current pass found work */
};

/* At the top of each pass: charges the previous pass, by what it found. */
static inline void azb_loop_clock_tick(struct azb_queue_stats *st,
				       struct azb_loop_clock *c)
{
	uint64_t now = azb_coarse_ns();

	if (c->busy)
		AZB_STAT_ADD(st->busy_ns, now - c->last);
	else
		AZB_STAT_ADD(st->idle_ns, now - c->last);
	c->last = now;
}

/* A consistent-enough copy of counters another thread is updating. */
void azb_stats_read(const struct azb_queue_stats *src,
		    struct azb_queue_stats *dst);

#endif /* AZB_STATS_H */
