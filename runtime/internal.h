/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libazbuse internals: the runtime's view of one queue and its poller.
 *
 * A queue is driven through a ring (the kernel's, mmapped, or the userspace
 * emulation in tests/unit/) and a commit function that hands completions
 * back and optionally waits for work: the COMMIT ioctl for the kernel, a
 * function call for the emulator.  The poller knows nothing else.
 */
#ifndef AZB_INTERNAL_H
#define AZB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/azbuse.h>
#include "azbuse.h"
#include "stats.h"

struct azb_queue;

/*
 * Hands the CQ to the kernel side (CQEs up to the published tail) and, if
 * wait, sleeps until the SQ has work or wait_ms passes.  Returns CQEs the
 * kernel took, or -errno (-ENODEV: the device is gone).
 */
typedef int (*azb_commit_fn)(struct azb_queue *q, bool wait,
			     unsigned int wait_ms);

/* Where a request stands in the flush emulation (engine->emulate). */
enum azb_step {
	AZB_STEP_NONE = 0,	/* the request itself, nothing after it */
	AZB_STEP_PREFLUSH,	/* the FLUSH before it */
	AZB_STEP_MAIN,		/* the request itself, a FLUSH after it */
	AZB_STEP_POSTFLUSH,	/* the FLUSH after it */
};

/* Per-request state, preallocated: one per tag. */
struct azb_slot {
	struct azb_io	io;
	uint32_t	gen;
	bool		busy;	/* with the engine */
	uint8_t		step;	/* enum azb_step */
	bool		flush_after;	/* a FLUSH follows the request */
	uint16_t	redirect_extents; /* written to io.buf by azb_io_redirect*() */
	/* The request while io holds an emulated FLUSH. */
	enum azb_op	saved_op;
	uint32_t	saved_flags;
	uint32_t	saved_len;
	uint64_t	saved_offset;
};

struct azb_queue {
	/* The ring, as mapped. */
	struct azbuse_ring_hdr	*hdr;
	struct azbuse_sqe	*sq;
	struct azbuse_cqe	*cq;
	uint32_t		entries;
	uint32_t		sq_head;	/* next SQE to take */
	uint32_t		cq_tail;	/* next CQE to write */
	uint32_t		cq_unpublished;	/* CQEs written, tail not stored */
	uint32_t		cq_uncommitted;	/* published, not committed */

	unsigned int		qid;
	unsigned int		depth;
	uint32_t		max_io_bytes;
	uint64_t		dev_bytes;
	struct azb_slot		*slots;
	void			*io_ctx;	/* depth * engine io_ctx_bytes */

	struct azb_engine_queue	eq;
	const struct azb_engine_ops *ops;
	unsigned int		engine_inflight;
	/* AZB_IO_PREFLUSH / AZB_IO_FUA the runtime emulates (engine->emulate). */
	uint32_t		emulate;
	/* reap() completed a step and the next went to the engine: commit. */
	bool			restarted;

	azb_commit_fn		commit;
	void			*commit_ctx;	/* the transport's own */

	/* Poller control. */
	/*
	 * A poll queue: its submitters reap the CQ themselves, so completions
	 * are published without a COMMIT; one is made only for those still
	 * unreaped after spin_us (since unreaped_since), or before a sleep.
	 */
	bool			poll_queue;
	uint64_t		unreaped_since;
	int			wake_fd;	/* the kernel wakes engine waits, or -1 */
	enum azb_poll_mode	poll;
	unsigned int		spin_us;
	unsigned int		batch;
	volatile bool		stop;		/* set by another thread */
	bool			dead;		/* the device went away */
	int			error;		/* first fatal error */
	pthread_t		thread;

	struct azb_queue_stats	stats;
};

/*
 * Sets up q's per-request state for a ring already in place (hdr/sq/cq,
 * entries, depth, max_io_bytes, dev_bytes, eq.arena set).  0 or -errno.
 */
int azb_queue_init(struct azb_queue *q, struct azb_engine *e);
void azb_queue_exit(struct azb_queue *q);

/* One pass: take SQEs, run the engine, post and commit completions.
 * Returns the number of requests taken plus completions posted. */
int azb_queue_poll_once(struct azb_queue *q);
/* The poller thread body: runs until q->stop or the device goes away. */
void *azb_poller_main(void *arg);
/* Waits for the engine to finish everything it holds, and commits. */
void azb_queue_drain(struct azb_queue *q);

/* Transport to the kernel (runtime/kdev.c). */
int azb_kdev_open(uint32_t dev_id, struct azbuse_dev_info *info);
int azb_kdev_map_queue(int fd, unsigned int qid, struct azbuse_queue_info *qi,
		       void **ring);
/*
 * The CPUs blk-mq maps to queue qid, into AZB_CPU_WORDS(nr_cpus) words of
 * mask (nr_cpus from the queue's info; 0 there: the module cannot say).
 */
#define AZB_CPU_WORDS(nr_cpus)	(((nr_cpus) + 63) / 64)
int azb_kdev_queue_cpus(int fd, unsigned int qid, unsigned int nr_cpus,
			uint64_t *mask);
int azb_kdev_attach(int fd, unsigned int qid, void *arena, uint64_t bytes,
		    int wake_fd, bool redirect);
int azb_kdev_commit(struct azb_queue *q, bool wait, unsigned int wait_ms);

uint64_t azb_now_ns(void);

/* The device's label and serial (runtime/label.c), from o. */
void azb_label_setup(int fd, const struct azb_server_opts *o);

/* Redirect (runtime/redirect.c): registers e's files on the device at fd. */
void azb_redirect_setup(struct azb_engine *e, int fd, uint64_t features);

#endif /* AZB_INTERNAL_H */
