/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where each queue's poller runs and where its memory lives.
 *
 * The kernel reports the CPUs blk-mq maps to each hardware queue, that is
 * the CPUs whose I/O lands on it.  The queue's poller is bound (hwloc) to
 * those of them the process may use, widened to every usable CPU of their
 * NUMA node unless pinned to the queue (--pin queue), and its memory is
 * placed (libnuma) on that node.  A queue none of whose CPUs may be used
 * (--cpus, a cgroup or taskset, offline CPUs) gets the usable CPU with the
 * fewest pollers, on the queue's own node where one is usable (and is
 * widened from there).
 */
#ifndef AZB_PLACEMENT_H
#define AZB_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct azb_placement;

/*
 * Loads the machine's topology.  cpus ("0-3,8", or NULL: the CPUs the
 * process's threads may run on) limits where pollers run; CPUs in it that are
 * offline or withheld by a cgroup are left out.  node_wide: pollers may use
 * their queue's whole node (AZB_PIN_NODE).  -EINVAL if cpus is malformed or
 * leaves no CPU.
 */
int azb_placement_new(const char *cpus, bool node_wide,
		      struct azb_placement **out);
void azb_placement_free(struct azb_placement *p);
/* Makes room for nr queues (once).  0 or -ENOMEM. */
int azb_placement_queues(struct azb_placement *p, unsigned int nr);

/*
 * What the kernel said about queue qid: its CPUs (nr_cpus bits in 64-bit
 * words, NULL if unknown) and the node of its ring (-1 if unknown).
 */
void azb_placement_set_queue(struct azb_placement *p, unsigned int qid,
			     const uint64_t *mask, unsigned int nr_cpus,
			     int ring_node);
/*
 * Queue qid is a poll queue: its submitters poll for its completions on
 * their own CPUs, so its poller keeps off those CPUs where it has others.
 */
void azb_placement_set_poll(struct azb_placement *p, unsigned int qid);
/* Chooses every queue's CPUs and node, once all queues are set. */
void azb_placement_compute(struct azb_placement *p);

/*
 * In queue qid's poller: binds the calling thread to the queue's CPUs and
 * makes the thread's memory prefer the queue's node.  0 or -errno.
 */
int azb_placement_bind(const struct azb_placement *p, unsigned int qid);
/* The queue's node, or -1 (no NUMA, or CPUs on several nodes). */
int azb_placement_node(const struct azb_placement *p, unsigned int qid);
/* Writes the queue's CPUs as a list ("0-3,8"); returns its length. */
int azb_placement_cpulist(const struct azb_placement *p, unsigned int qid,
			  char *buf, size_t len);

/*
 * Anonymous, page-aligned, zero-filled memory whose pages go to node
 * (-1: anywhere), for a queue's data arena.  NULL with errno on failure.
 */
void *azb_node_alloc(size_t bytes, int node);
void azb_node_free(void *p, size_t bytes);

#endif /* AZB_PLACEMENT_H */
