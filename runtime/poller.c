// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The poller: one thread per hardware queue.  Each pass takes what the
 * kernel published on the SQ, hands it to the engine, posts completions on
 * the CQ and gives them back with one commit per batch.  Receiving costs no
 * system call; an idle poller sleeps inside that same commit.
 *
 * A spinning poller with nothing to do yields its CPU on every pass: the
 * application that submits the I/O may run on the poller's CPU (blk-mq maps
 * the queue to the submitting CPU, and the poller runs there or on its
 * node), and a poller that held the CPU would delay the next request it is
 * waiting for.  With nothing else runnable, sched_yield() returns at once
 * and the spin goes on.
 *
 * Everything read from the SQ is checked: a bad entry is failed back to the
 * kernel, never trusted and never fatal.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include "alloc.h"
#include "internal.h"

/* How long one sleep lasts before the poller looks at its stop flag. */
#define AZB_WAIT_MS	200
/*
 * How long one sleep in the engine lasts while it holds requests.  The
 * kernel cannot wake that sleep, so a request arriving meanwhile waits for
 * the next engine completion or for this.
 */
#define AZB_ENGINE_WAIT_US	1000
/*
 * Idle passes between looks at the clock while spinning adaptively: a
 * pass is a sched_yield() system call, under a microsecond, so the spin
 * ends close to spin_us while the fine clock (in a guest it may be a
 * system call too) is read rarely.
 */
#define AZB_SPIN_CLOCK_PASSES	4

uint64_t azb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint32_t azb_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void azb_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void azb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

int azb_queue_init(struct azb_queue *q, struct azb_engine *e)
{
	size_t ctx = e->ops->io_ctx_bytes;
	unsigned int i;
	int ret;

	q->ops = e->ops;
	/* From the calling thread's arena: a poller's own, on its node. */
	q->slots = azb_zalloc(q->depth * sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	if (ctx) {
		/* Cache-line sized per-request areas: no false sharing. */
		ctx = (ctx + 63) & ~(size_t)63;
		q->io_ctx = azb_zalloc(ctx * q->depth);
		if (!q->io_ctx) {
			azb_free(q->slots);
			q->slots = NULL;
			return -ENOMEM;
		}
	}
	for (i = 0; i < q->depth; i++) {
		struct azb_io *io = &q->slots[i].io;

		io->tag = i;
		io->buf = (char *)q->eq.arena + (size_t)i * q->max_io_bytes;
		io->engine_ctx = ctx ? (char *)q->io_ctx + ctx * i : NULL;
	}
	q->eq.engine = e;
	q->eq.qid = q->qid;
	q->eq.depth = q->depth;
	q->eq.max_io_bytes = q->max_io_bytes;
	q->eq.rt = q;
	q->eq.wake_fd = q->wake_fd;
	q->eq.redirect = e->redirect;
	q->emulate = e->emulate & (AZB_IO_PREFLUSH | AZB_IO_FUA);
	if (e->ops->queue_init) {
		ret = e->ops->queue_init(&q->eq);
		if (ret) {
			azb_free(q->slots);
			azb_free(q->io_ctx);
			q->slots = NULL;
			q->io_ctx = NULL;
			return ret;
		}
	}
	if (!q->batch || q->batch > q->entries)
		q->batch = q->entries;
	return 0;
}

void azb_queue_exit(struct azb_queue *q)
{
	if (q->slots && q->ops && q->ops->queue_exit)
		q->ops->queue_exit(&q->eq);
	azb_free(q->slots);
	azb_free(q->io_ctx);
	q->slots = NULL;
	q->io_ctx = NULL;
}

/* Makes written CQEs visible: a poll queue's submitters reap them. */
static void azb_queue_publish(struct azb_queue *q)
{
	if (q->cq_unpublished) {
		azb_store_release(&q->hdr->cq_tail.val, q->cq_tail);
		q->cq_uncommitted += q->cq_unpublished;
		q->cq_unpublished = 0;
	}
}

/* Publishes written CQEs and hands them to the kernel in one call. */
static int azb_queue_commit(struct azb_queue *q, bool wait)
{
	uint32_t published;
	int ret;

	azb_queue_publish(q);
	if (!q->cq_uncommitted && !wait)
		return 0;
	/* Counted first: whoever sees the completions sees them counted. */
	AZB_STAT_ADD(q->stats.commits, 1);
	if (wait)
		AZB_STAT_ADD(q->stats.commit_waits, 1);
	if (q->cq_uncommitted)
		AZB_STAT_ADD(q->stats.batches, 1);
	published = q->cq_uncommitted;
	ret = q->commit(q, wait, AZB_WAIT_MS);
	q->cq_uncommitted = 0;
	q->unreaped_since = 0;
	/* What this COMMIT did not reap, a polling submitter had. */
	if (q->poll_queue && ret >= 0 && (uint32_t)ret <= published)
		AZB_STAT_ADD(q->stats.polled, published - (uint32_t)ret);
	if (ret == -ENODEV) {
		q->dead = true;
	} else if (ret == -EINVAL) {
		/* The kernel refused some CQEs: a runtime bug, worth counting. */
		AZB_STAT_ADD(q->stats.bad_completions, 1);
		ret = 0;
	}
	return ret < 0 ? ret : 0;
}

static void azb_post_cqe(struct azb_queue *q, uint16_t tag, uint32_t gen,
			 int32_t result, uint16_t flags)
{
	struct azbuse_cqe *c;

	/* Never overrun what the kernel has not reaped yet. */
	while (AZBUSE_RING_USED(azb_load_acquire(&q->hdr->cq_head.val),
				q->cq_tail) >= q->entries) {
		if (azb_queue_commit(q, false) < 0 || q->dead)
			return;
	}
	c = &q->cq[AZBUSE_RING_SLOT(q->cq_tail, q->entries)];
	c->tag = tag;
	c->flags = flags;
	c->gen = gen;
	c->result = result;
	c->__pad2 = 0;
	q->cq_tail++;
	q->cq_unpublished++;
}

/* res: 0 or more (done), -errno, or AZB_IO_REDIRECTED. */
static void azb_finish(struct azb_queue *q, struct azb_slot *s, int res)
{
	struct azb_io *io = &s->io;
	uint16_t flags = 0;

	s->busy = false;
	if (res == AZB_IO_REDIRECTED && s->redirect_extents) {
		flags = AZBUSE_CQE_F_REDIRECT;
		res = s->redirect_extents;
		AZB_STAT_ADD(q->stats.redirects, 1);
	} else if (res < 0) {
		AZB_STAT_ADD(q->stats.errors, 1);
	} else {
		res = io->len;
	}
	s->redirect_extents = 0;
	azb_post_cqe(q, io->tag, s->gen, res, flags);
}

/*
 * Flush emulation (engine->emulate): the slot's request goes to the engine
 * as up to three requests in turn, io holding each: a FLUSH, the request
 * itself without the emulated flags, a FLUSH.  The request is kept in the
 * slot while io holds a FLUSH.
 */
static void azb_step_flush(struct azb_slot *s, enum azb_step step)
{
	struct azb_io *io = &s->io;

	s->step = step;
	s->saved_op = io->op;
	s->saved_flags = io->flags;
	s->saved_len = io->len;
	s->saved_offset = io->offset;
	io->op = AZB_OP_FLUSH;
	io->flags = 0;
	io->len = 0;
	io->offset = 0;
}

static void azb_step_restore(struct azb_slot *s)
{
	struct azb_io *io = &s->io;

	io->op = s->saved_op;
	io->flags = s->saved_flags;
	io->len = s->saved_len;
	io->offset = s->saved_offset;
}

/* A FUA on a request that writes nothing (READ, FLUSH) asks for nothing. */
static bool azb_op_writes(enum azb_op op)
{
	return op == AZB_OP_WRITE || op == AZB_OP_DISCARD ||
	       op == AZB_OP_WRITE_ZEROES;
}

/* A new request whose flags ask for emulation: its first step. */
static void azb_step_begin(struct azb_queue *q, struct azb_slot *s)
{
	struct azb_io *io = &s->io;
	uint32_t want = io->flags & q->emulate;
	bool post = (want & AZB_IO_FUA) && azb_op_writes(io->op);

	io->flags &= ~q->emulate;
	s->flush_after = post;
	/* A FLUSH with PREFLUSH is one flush. */
	if ((want & AZB_IO_PREFLUSH) && io->op != AZB_OP_FLUSH)
		azb_step_flush(s, AZB_STEP_PREFLUSH);
	else
		s->step = post ? AZB_STEP_MAIN : AZB_STEP_NONE;
}

/*
 * The step in io ended with res: true if the next one is now in io for the
 * engine, false if the request is over with res (io holds it again).
 */
static bool azb_step_next(struct azb_slot *s, int *res)
{
	switch (s->step) {
	case AZB_STEP_PREFLUSH:
		azb_step_restore(s);
		s->step = *res >= 0 && s->flush_after ? AZB_STEP_MAIN :
			  AZB_STEP_NONE;
		return *res >= 0;
	case AZB_STEP_MAIN:
		s->step = AZB_STEP_NONE;
		/* A redirect's data moves after its CQE, written O_DSYNC. */
		if (*res < 0 || *res == AZB_IO_REDIRECTED)
			return false;
		azb_step_flush(s, AZB_STEP_POSTFLUSH);
		return true;
	case AZB_STEP_POSTFLUSH:
		azb_step_restore(s);
		s->step = AZB_STEP_NONE;
		if (*res > 0)
			*res = 0;
		return false;
	default:
		return false;
	}
}

/* Hands the slot's request to the engine: in flight, or finished. */
static void azb_engine_start(struct azb_queue *q, struct azb_slot *s)
{
	int ret;

	do {
		ret = q->ops->queue(&q->eq, &s->io);
		if (ret == AZB_IO_QUEUED) {
			q->engine_inflight++;
			return;
		}
	} while (s->step && azb_step_next(s, &ret));
	azb_finish(q, s, ret);
}

void azb_io_complete(struct azb_engine_queue *eq, struct azb_io *io, int res)
{
	struct azb_queue *q = eq->rt;
	struct azb_slot *s = (struct azb_slot *)io;

	q->engine_inflight--;
	if (s->step && azb_step_next(s, &res)) {
		azb_engine_start(q, s);
		q->restarted = true;
		return;
	}
	azb_finish(q, s, res);
}

/* Pushes the steps azb_io_complete() started from inside reap(). */
static void azb_commit_restarted(struct azb_queue *q)
{
	if (q->restarted) {
		q->restarted = false;
		if (q->engine_inflight && q->ops->commit)
			q->ops->commit(&q->eq);
	}
}

/* Checks one SQE; on success fills the slot's request.  0 or -errno. */
static int azb_sqe_to_io(struct azb_queue *q, const struct azbuse_sqe *e,
			 struct azb_slot *s)
{
	struct azb_io *io = &s->io;
	uint64_t off, dev_bytes;

	if (e->op > AZBUSE_OP_WRITE_ZEROES)
		return -EOPNOTSUPP;
	if (e->op == AZBUSE_OP_FLUSH) {
		/* No data and no position. */
		if (e->nr_bytes)
			return -EINVAL;
		off = 0;
	} else {
		/* Discard and write-zeroes carry no data: no slot to fit. */
		uint32_t max = e->op == AZBUSE_OP_DISCARD ?
			       AZBUSE_MAX_DISCARD_BYTES :
			       e->op == AZBUSE_OP_WRITE_ZEROES ?
			       AZBUSE_MAX_WRITE_ZEROES_BYTES : q->max_io_bytes;

		if (e->nr_bytes == 0 || e->nr_bytes > max ||
		    e->sector > (UINT64_MAX >> 9))
			return -EINVAL;
		off = e->sector << 9;
		/* Another thread may resize the device (azb_engine_resize). */
		dev_bytes = __atomic_load_n(&q->dev_bytes, __ATOMIC_RELAXED);
		if (off > dev_bytes || e->nr_bytes > dev_bytes - off)
			return -EINVAL;
	}
	io->op = (enum azb_op)e->op;
	io->flags = e->flags;
	io->offset = off;
	io->len = e->nr_bytes;
	io->ioprio = e->ioprio;
	return 0;
}

static void azb_count(struct azb_queue *q, const struct azb_io *io)
{
	AZB_STAT_ADD(q->stats.ios[io->op], 1);
	AZB_STAT_ADD(q->stats.bytes, io->len);
	AZB_STAT_ADD(q->stats.op_bytes[io->op], io->len);
}

/* Takes up to q->batch SQEs and starts them.  Returns how many. */
static unsigned int azb_take(struct azb_queue *q)
{
	uint32_t tail = azb_load_acquire(&q->hdr->sq_tail.val);
	uint32_t n = AZBUSE_RING_USED(q->sq_head, tail);
	uint32_t i;

	if (n > q->entries)
		n = q->entries;	/* impossible from a sane kernel */
	if (n) {
		uint64_t qd = n + q->engine_inflight;

		AZB_STAT_ADD(q->stats.takes, 1);
		AZB_STAT_ADD(q->stats.qd_sum, qd);
		AZB_STAT_MAX(q->stats.qd_max, qd);
	}
	if (n > q->batch)
		n = q->batch;
	if (n)
		AZB_STAT_ADD(q->stats.batch_hist[azb_batch_bucket(n)], 1);
	for (i = 0; i < n; i++) {
		struct azbuse_sqe e = q->sq[AZBUSE_RING_SLOT(q->sq_head + i,
							      q->entries)];
		struct azb_slot *s;
		int ret;

		if (e.tag >= q->depth) {
			/* No slot to use: answer with the entry's own tag. */
			azb_post_cqe(q, e.tag, e.gen, -EINVAL, 0);
			continue;
		}
		s = &q->slots[e.tag];
		if (s->busy) {
			/*
			 * The kernel gives a slot to no other request until its
			 * CQE (AZBUSE_FEAT_ORPHAN_SLOTS): a broken one.  EIO,
			 * never EBUSY, which reads as "try again" to the
			 * block layer.
			 */
			azb_post_cqe(q, e.tag, e.gen, -EIO, 0);
			continue;
		}
		s->gen = e.gen;
		ret = azb_sqe_to_io(q, &e, s);
		if (ret) {
			AZB_STAT_ADD(q->stats.errors, 1);
			azb_post_cqe(q, e.tag, e.gen, ret, 0);
			continue;
		}
		azb_count(q, &s->io);
		s->busy = true;
		if (s->io.flags & q->emulate)
			azb_step_begin(q, s);
		else
			s->step = AZB_STEP_NONE;
		azb_engine_start(q, s);
	}
	if (n) {
		q->sq_head += n;
		azb_store_release(&q->hdr->sq_head.val, q->sq_head);
		if (q->engine_inflight && q->ops->commit)
			q->ops->commit(&q->eq);
	}
	return n;
}

int azb_queue_poll_once(struct azb_queue *q)
{
	unsigned int took = azb_take(q);
	int reaped = 0;

	if (q->engine_inflight && q->ops->reap) {
		reaped = q->ops->reap(&q->eq);
		azb_commit_restarted(q);
	}
	return took + (reaped > 0 ? reaped : 0);
}

static bool azb_sq_empty(struct azb_queue *q)
{
	return azb_load_acquire(&q->hdr->sq_tail.val) == q->sq_head;
}

void azb_queue_drain(struct azb_queue *q)
{
	while (q->engine_inflight && q->ops->reap && !q->dead) {
		if (q->ops->reap(&q->eq) <= 0)
			azb_cpu_relax();
		azb_commit_restarted(q);
		if (q->cq_unpublished)
			azb_queue_commit(q, false);
	}
	azb_queue_commit(q, false);
}

/*
 * Sleeps in the engine until a request it holds ends.  With a wake_fd the
 * kernel also ends the sleep when it queues a request; without one the
 * sleep is short, for the poller to look at its SQ.
 */
static void azb_engine_wait(struct azb_queue *q)
{
	uint32_t *flag = &q->hdr->engine_wait.val;
	bool wake = q->wake_fd >= 0;

	if (wake) {
		/* Dekker with queue_rq: flag, barrier, SQ; it: SQ, barrier, flag. */
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (azb_sq_empty(q)) {
		q->ops->wait(&q->eq, wake ? AZB_WAIT_MS * 1000 : AZB_ENGINE_WAIT_US);
		AZB_STAT_ADD(q->stats.engine_waits, 1);
	}
	/*
	 * The engine clears the eventfd when its poll() finds it readable
	 * (AZB_ENGINE_F_WAKE_FD), so a signal that comes after we took its
	 * request ends one later sleep, and no sleep costs a read.
	 */
	if (wake)
		__atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}

/*
 * Poll queue: true if published completions are unreaped and the poller
 * is about to sleep, or they have waited spin_us for a polling submitter
 * (one that waits without polling, or stopped, must not be left waiting).
 * The clock is read only while some are unreaped.
 */
static bool azb_poll_commit_due(struct azb_queue *q, bool sleeping)
{
	uint64_t now;

	if (azb_load_acquire(&q->hdr->cq_head.val) == q->cq_tail) {
		q->unreaped_since = 0;
		return false;
	}
	if (sleeping)
		return true;
	now = azb_now_ns();
	if (!q->unreaped_since)
		q->unreaped_since = now;
	return now - q->unreaped_since >= q->spin_us * 1000ull;
}

void *azb_poller_main(void *arg)
{
	struct azb_queue *q = arg;
	struct azb_loop_clock clk = { .last = azb_coarse_ns() };
	unsigned int idle_passes = 0;
	uint64_t idle_since = 0;
	int ret = 0;

	while (!q->stop && !q->dead) {
		bool sleepy = false, wait = false, engine_wait = false;
		bool commit_due = false;

		azb_loop_clock_tick(&q->stats, &clk);
		clk.busy = azb_queue_poll_once(q) > 0;
		if (clk.busy) {
			idle_since = 0;
			idle_passes = 0;
			/* Keep batching while the SQ has more. */
			if (!azb_sq_empty(q) && q->cq_unpublished < q->batch)
				continue;
		} else {
			switch (q->poll) {
			case AZB_POLL_BUSY:
				break;
			case AZB_POLL_SLEEP:
				sleepy = true;
				break;
			case AZB_POLL_ADAPTIVE:
				if (idle_passes++ % AZB_SPIN_CLOCK_PASSES)
					break;
				if (!idle_since)
					idle_since = azb_now_ns();
				else if (azb_now_ns() - idle_since >=
					 q->spin_us * 1000ull)
					sleepy = true;
				break;
			}
			/*
			 * Sleep where the next event comes from: the kernel
			 * with nothing in flight, else the engine.
			 */
			if (sleepy && !q->engine_inflight)
				wait = true;
			else if (sleepy && q->ops->wait)
				engine_wait = true;
		}
		/*
		 * A poll queue publishes and leaves the reaping to its
		 * submitters, unless it is going to sleep or they are late.
		 */
		if (q->poll_queue && !wait) {
			azb_queue_publish(q);
			commit_due = azb_poll_commit_due(q, engine_wait);
		}
		/* Completions and the sleep share one system call. */
		if (wait || commit_due || (!q->poll_queue && q->cq_unpublished)) {
			ret = azb_queue_commit(q, wait && azb_sq_empty(q));
			/* A removed device (ENODEV) is an end, not an error. */
			if (q->dead)
				ret = 0;
			if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
				break;
			ret = 0;
		} else if (!engine_wait) {
			if (clk.busy)
				azb_cpu_relax();
			else
				sched_yield();	/* see the top of this file */
		}
		if (engine_wait)
			azb_engine_wait(q);
	}
	azb_loop_clock_tick(&q->stats, &clk);
	if (!q->dead)
		azb_queue_drain(q);
	if (ret < 0 && !q->error)
		q->error = ret;
	return NULL;
}
