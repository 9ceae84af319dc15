/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * azbuse-run --stats: a server's per-queue counters printed every
 * interval, as one compact line of rates over the interval or as one JSON
 * object of counters since the start.
 */
#ifndef AZB_TOOLS_STATSLINE_H
#define AZB_TOOLS_STATSLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <azbuse.h>

struct azb_statsline {
	const struct azb_server	*srv;
	FILE			*out;
	bool			json;
	uint64_t		t0_ns;		/* when serving began */
	uint64_t		last_ns;	/* the previous line */
	struct azb_queue_stats	last;		/* totals at the previous line */
};

void azb_statsline_init(struct azb_statsline *sl, const struct azb_server *srv,
			FILE *out, bool json);
/*
 * Prints one line: the interval since the previous one (compact), or
 * every queue's counters (JSON; final marks the last, after the stop).
 */
void azb_statsline_print(struct azb_statsline *sl, bool final);
/* The queues' placement, one line each: "queue 0: CPUs 0-3, node 0". */
void azb_statsline_placement(const struct azb_server *srv, FILE *out);
/* Sums every queue's counters (qd_max: the largest). */
void azb_stats_total(const struct azb_server *srv, struct azb_queue_stats *t);

#endif /* AZB_TOOLS_STATSLINE_H */
