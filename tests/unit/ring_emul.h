/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A userspace implementation of the kernel side of one azbuse queue: the
 * same ring layout (include/uapi/linux/azbuse.h), the same index rules and
 * the same checks on completions as kmod/queue.c.  Lets the real runtime
 * poller and engines run on the host, in tests and benchmarks.
 */
#ifndef AZB_RING_EMUL_H
#define AZB_RING_EMUL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "internal.h"

struct azb_emul_tag {
	uint32_t	gen;		/* nonzero while the runtime owns it */
	bool		done;
	int32_t		result;
};

struct azb_emul {
	void			*ring;
	size_t			ring_bytes;
	struct azbuse_ring_hdr	*hdr;
	struct azbuse_sqe	*sq;
	struct azbuse_cqe	*cq;
	uint32_t		entries;
	unsigned int		depth;
	uint32_t		max_io_bytes;
	void			*arena;
	size_t			arena_bytes;

	pthread_mutex_t		lock;
	pthread_cond_t		cond;	/* SQ got work / tags completed */
	uint32_t		sq_tail;
	uint32_t		cq_head;
	uint32_t		gen;
	struct azb_emul_tag	*tags;
	uint64_t		commits;	/* COMMIT calls */
	uint64_t		waits;		/* of which waited */
	uint64_t		bad;		/* CQEs refused */
	uint64_t		completed;
	/* The kernel's wake_fd side (AZBUSE_FEAT_WAKE_FD), or -1. */
	int			wake_fd;
	uint64_t		wake_signals;
};

/* Builds the ring and arena and points q at them. */
int azb_emul_init(struct azb_emul *em, struct azb_queue *q, unsigned int depth,
		  uint32_t max_io_bytes, uint64_t dev_bytes);
void azb_emul_exit(struct azb_emul *em);

/* Publishes one SQE for tag (which must be free); returns the gen. */
uint32_t azb_emul_submit(struct azb_emul *em, unsigned int tag, uint8_t op,
			 uint32_t flags, uint64_t sector, uint32_t nr_bytes);
/* Publishes a raw SQE as a hostile or broken kernel might. */
void azb_emul_submit_raw(struct azb_emul *em, const struct azbuse_sqe *e);
/* Waits until tag completes; returns its result. */
int32_t azb_emul_wait(struct azb_emul *em, unsigned int tag);
void *azb_emul_slot(struct azb_emul *em, unsigned int tag);

/* The commit function for q->commit. */
int azb_emul_commit(struct azb_queue *q, bool wait, unsigned int wait_ms);

/* One engine, one runtime queue and its emulated kernel side. */
struct azb_emul_rig {
	struct azb_engine	e;
	struct azb_queue	q;
	struct azb_emul		em;
};

/* Opens the engine on a dev_bytes device and builds the queue. */
int azb_emul_rig_init(struct azb_emul_rig *r, const struct azb_engine_ops *ops,
		      enum azb_poll_mode mode, unsigned int spin_us,
		      unsigned int depth, uint32_t max_io_bytes,
		      uint64_t dev_bytes);
/* Starts the real poller thread on the queue. */
/*
 * After azb_emul_rig_init(): gives the queue a wake_fd that the emulated
 * kernel signals as azb_queue_kick() does.  0 or -errno.
 */
int azb_emul_enable_wake(struct azb_emul_rig *r);
void azb_emul_rig_start(struct azb_emul_rig *r);
/* Stops the poller and frees everything. */
void azb_emul_rig_stop(struct azb_emul_rig *r);

/*
 * An engine on a target served as the server serves it: the engine's
 * queue_init, the real poller and queue_exit all run in one thread of the
 * queue's own (engines such as odirect and nbd tie their state to it), and
 * an engine with AZB_ENGINE_F_WAKE_FD gets a wake_fd.
 */
struct azb_emul_served {
	struct azb_engine	e;
	struct azb_queue	q;
	struct azb_emul		em;
	pthread_t		thread;
	pthread_mutex_t		lock;
	pthread_cond_t		cond;
	int			init;	/* 1: not yet; else queue_init's result */
};

/* Opens the engine on target and starts the queue: 0 or -errno. */
int azb_emul_served_open(struct azb_emul_served *r,
			 const struct azb_engine_ops *ops, const char *target,
			 const struct azb_engine_opts *o, enum azb_poll_mode mode,
			 unsigned int depth, uint32_t max_io_bytes);
void azb_emul_served_close(struct azb_emul_served *r);
/* One request on tag 0, waited for; returns the CQE's result. */
int32_t azb_emul_served_io(struct azb_emul_served *r, uint8_t op,
			   uint32_t flags, uint64_t off, uint32_t len);

#define AZB_EMUL_MAX_DEPTH	256

/*
 * rounds of full-depth I/O at base .. base + span, writes and reads in
 * turn, each tag on its own slice with 1..max_blocks blocks of 4 KiB at a
 * random place: writes of random bytes recorded in shadow (span bytes,
 * what the range holds), reads checked against it.  Returns the requests
 * that failed or read wrong data (each said on stderr), -1 if span is too
 * small for the depth.
 */
int azb_emul_served_shadow(struct azb_emul_served *r, uint64_t base,
			   unsigned char *shadow, uint64_t span,
			   unsigned int rounds, unsigned int max_blocks,
			   uint64_t *rng);
/* xorshift64: the tests' one random source, state in *s (never 0). */
uint64_t azb_emul_rnd(uint64_t *s);

#endif
