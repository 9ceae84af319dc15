// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware queues: blk-mq ops, the per-queue ring and the data arena.
 *
 * queue_rq copies write data into the request's arena slot, writes an SQE
 * and publishes the SQ tail; the runtime's COMMIT reaps CQEs, copies read
 * data back and ends the requests.  Every value read from the shared ring
 * is untrusted: a bad CQE is refused and never ends a request that is not
 * the runtime's to end.
 */
#include <linux/eventfd.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "azb.h"
#include "compat.h"

static struct azb_cmd *azb_cmd(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

/* The bio flags the runtime sees; their REQ_* values differ by kernel. */
static u32 azb_req_flags(const struct request *rq)
{
	blk_opf_t f = rq->cmd_flags;
	u32 out = 0;

	if (f & REQ_FUA)
		out |= AZBUSE_IO_F_FUA;
	if (f & REQ_PREFLUSH)
		out |= AZBUSE_IO_F_PREFLUSH;
	if (f & REQ_SYNC)
		out |= AZBUSE_IO_F_SYNC;
	if (f & REQ_META)
		out |= AZBUSE_IO_F_META;
	if (f & REQ_PRIO)
		out |= AZBUSE_IO_F_PRIO;
	if (f & REQ_NOUNMAP)
		out |= AZBUSE_IO_F_NOUNMAP;
	if (f & REQ_RAHEAD)
		out |= AZBUSE_IO_F_RAHEAD;
	if (f & REQ_BACKGROUND)
		out |= AZBUSE_IO_F_BACKGROUND;
	if (f & REQ_IDLE)
		out |= AZBUSE_IO_F_IDLE;
	if (f & REQ_FAILFAST_MASK)
		out |= AZBUSE_IO_F_FAILFAST;
	if (f & REQ_NOWAIT)
		out |= AZBUSE_IO_F_NOWAIT;
	return out;
}

static void *azb_slot(struct azb_queue *q, unsigned int tag)
{
	return q->arena + (size_t)tag * q->dev->info.max_io_bytes;
}

static void azb_copy_to_slot(struct request *rq, void *slot)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(slot, &bv);
		slot += bv.bv_len;
	}
}

static void azb_copy_from_slot(struct request *rq, const void *slot,
			       unsigned int bytes)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		if (!bytes)
			break;
		bv.bv_len = min(bv.bv_len, bytes);
		memcpy_to_bvec(&bv, slot);
		slot += bv.bv_len;
		bytes -= bv.bv_len;
	}
}

bool azb_queue_has_work(struct azb_queue *q)
{
	return READ_ONCE(q->sq_tail) != READ_ONCE(q->hdr->sq_head.val);
}

static void azb_queue_kick(struct azb_queue *q)
{
	/* Orders the tail store before the sleeper check (pairs with wait). */
	if (wq_has_sleeper(&q->wait))
		wake_up(&q->wait);
	/*
	 * The same barrier orders it before the engine_wait load: a runtime
	 * asleep on its engine wakes for the new entry.  An eventfd wake-up
	 * that led here (eventfd_signal_allowed() false) must not signal
	 * again; the entry then waits for the engine's next completion or
	 * the end of the runtime's sleep.
	 */
	if (q->wake && READ_ONCE(q->hdr->engine_wait.val) &&
	    eventfd_signal_allowed())
		azb_eventfd_signal(q->wake);
}

static blk_status_t azb_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct azb_queue *q = hctx->driver_data;
	const struct azbuse_dev_info *info = &q->dev->info;
	struct request *rq = bd->rq;
	struct azb_cmd *cmd = azb_cmd(rq);
	unsigned int bytes = blk_rq_bytes(rq);
	unsigned int max_bytes = info->max_io_bytes;
	struct azbuse_sqe *sqe;
	u8 op;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		op = AZBUSE_OP_READ;
		break;
	case REQ_OP_WRITE:
		op = AZBUSE_OP_WRITE;
		break;
	case REQ_OP_FLUSH:
		op = AZBUSE_OP_FLUSH;
		bytes = 0;
		break;
	/* No data, so not bounded by a slot; the limits came from ADD. */
	case REQ_OP_DISCARD:
		if (!(info->flags & AZBUSE_DEV_F_DISCARD))
			return BLK_STS_NOTSUPP;
		op = AZBUSE_OP_DISCARD;
		max_bytes = info->max_discard_bytes;
		break;
	case REQ_OP_WRITE_ZEROES:
		if (!(info->flags & AZBUSE_DEV_F_WRITE_ZEROES))
			return BLK_STS_NOTSUPP;
		op = AZBUSE_OP_WRITE_ZEROES;
		max_bytes = info->max_write_zeroes_bytes;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	/* Pairs with the release in azb_queue_attach(): arena is valid. */
	if (!smp_load_acquire(&q->attached)) {
		rq->rq_flags |= RQF_QUIET;
		return BLK_STS_IOERR;
	}
	if (op != AZBUSE_OP_READ && op != AZBUSE_OP_FLUSH &&
	    (info->flags & AZBUSE_DEV_F_READ_ONLY))
		return BLK_STS_IOERR;
	if (bytes > max_bytes || rq->tag >= q->depth)
		return BLK_STS_IOERR;

	blk_mq_start_request(rq);
	if (op == AZBUSE_OP_WRITE)
		azb_copy_to_slot(rq, azb_slot(q, rq->tag));

	spin_lock(&q->sq_lock);
	/*
	 * At most depth requests are owned and the SQ has twice that, so a
	 * full SQ means the runtime stopped consuming or corrupted its head:
	 * fail the request rather than wait for a runtime that is not there.
	 */
	if (AZBUSE_RING_USED(READ_ONCE(q->hdr->sq_head.val), q->sq_tail) >=
	    q->entries) {
		spin_unlock(&q->sq_lock);
		return BLK_STS_IOERR;
	}
	if (!++q->gen)
		++q->gen;	/* 0 means "not owned" */
	cmd->status = BLK_STS_OK;
	atomic_set(&cmd->owner, q->gen);

	sqe = &q->sq[AZBUSE_RING_SLOT(q->sq_tail, q->entries)];
	sqe->op = op;
	sqe->__pad0 = 0;
	sqe->tag = rq->tag;
	sqe->flags = azb_req_flags(rq);
	/* A flush has no position (blk-mq leaves it at -1). */
	sqe->sector = op == AZBUSE_OP_FLUSH ? 0 : blk_rq_pos(rq);
	sqe->nr_bytes = bytes;
	sqe->gen = q->gen;
	sqe->ioprio = req_get_ioprio(rq);
	sqe->__pad1 = 0;
	sqe->__pad2 = 0;
	q->sq_tail++;
	/* The runtime reads the SQE only after it sees this tail. */
	smp_store_release(&q->hdr->sq_tail.val, q->sq_tail);
	spin_unlock(&q->sq_lock);

	if (bd->last)
		azb_queue_kick(q);
	return BLK_STS_OK;
}

static void azb_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	azb_queue_kick(hctx->driver_data);
}

/* Takes the request from the runtime; true if this caller must end it. */
static bool azb_cmd_claim(struct azb_cmd *cmd, u32 gen)
{
	return gen && atomic_cmpxchg(&cmd->owner, gen, 0) == gen;
}

/* Ends a request this caller claimed (abort, timeout). */
static void azb_complete_rq(struct request *rq)
{
	blk_mq_end_request(rq, azb_cmd(rq)->status);
}

static enum blk_eh_timer_return azb_timeout(struct request *rq)
{
	struct azb_cmd *cmd = azb_cmd(rq);

	if (azb_cmd_claim(cmd, atomic_read(&cmd->owner))) {
		/* EIO, not ETIMEDOUT: what applications expect from a disk. */
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	}
	return BLK_EH_DONE;
}

static int azb_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			 unsigned int idx)
{
	struct azb_dev *dev = data;
	struct azb_queue *q = &dev->queues[idx];

	q->hctx = hctx;
	hctx->driver_data = q;
	return 0;
}

const struct blk_mq_ops azb_mq_ops = {
	.queue_rq	= azb_queue_rq,
	.commit_rqs	= azb_commit_rqs,
	.complete	= azb_complete_rq,
	.timeout	= azb_timeout,
	.init_hctx	= azb_init_hctx,
};

/*
 * The ring is built from single pages on the queue's node: no high-order
 * allocation for deep queues, and vm_insert_page() lets the mapping hold
 * its own page references.
 */
int azb_queue_alloc_ring(struct azb_queue *q)
{
	unsigned int i;

	q->entries = roundup_pow_of_two(q->depth) * 2;
	q->sq_off = ALIGN(sizeof(struct azbuse_ring_hdr), SMP_CACHE_BYTES);
	q->cq_off = q->sq_off + q->entries * sizeof(struct azbuse_sqe);
	q->ring_bytes = PAGE_ALIGN(q->cq_off +
				   q->entries * sizeof(struct azbuse_cqe));
	q->ring_nr_pages = q->ring_bytes >> PAGE_SHIFT;

	q->ring_pages = kcalloc_node(q->ring_nr_pages, sizeof(*q->ring_pages),
				     GFP_KERNEL, q->node);
	if (!q->ring_pages)
		return -ENOMEM;
	for (i = 0; i < q->ring_nr_pages; i++) {
		q->ring_pages[i] = alloc_pages_node(q->node,
						    GFP_KERNEL | __GFP_ZERO, 0);
		if (!q->ring_pages[i])
			goto fail;
	}
	q->ring = vmap(q->ring_pages, q->ring_nr_pages, VM_MAP, PAGE_KERNEL);
	if (!q->ring)
		goto fail;
	q->hdr = q->ring;
	q->sq = q->ring + q->sq_off;
	q->cq = q->ring + q->cq_off;
	return 0;
fail:
	azb_queue_free_ring(q);
	return -ENOMEM;
}

void azb_queue_free_ring(struct azb_queue *q)
{
	unsigned int i;

	if (q->ring)
		vunmap(q->ring);
	q->ring = NULL;
	for (i = 0; q->ring_pages && i < q->ring_nr_pages; i++)
		if (q->ring_pages[i])
			__free_page(q->ring_pages[i]);
	kfree(q->ring_pages);
	q->ring_pages = NULL;
}

static void azb_release_arena(struct azb_queue *q)
{
	if (q->arena)
		vunmap(q->arena);
	if (q->arena_pages)
		unpin_user_pages_dirty_lock(q->arena_pages, q->arena_nr_pages,
					    true);
	kvfree(q->arena_pages);
	q->arena = NULL;
	q->arena_pages = NULL;
	q->arena_nr_pages = 0;
}

/* Called with q->lock held and queue_rq unable to run on this queue. */
int azb_queue_attach(struct azb_queue *q, u64 addr, u64 bytes, int wake_fd)
{
	u64 want = (u64)q->depth * q->dev->info.max_io_bytes;
	unsigned long nr = want >> PAGE_SHIFT;
	long pinned;
	int ret;

	if (q->attached)
		return -EBUSY;
	if (bytes != want)
		return -EINVAL;
	if (!addr || !PAGE_ALIGNED(addr) || addr + bytes < addr)
		return -EINVAL;

	q->arena_pages = kvcalloc(nr, sizeof(*q->arena_pages), GFP_KERNEL);
	if (!q->arena_pages)
		return -ENOMEM;
	pinned = pin_user_pages_fast(addr, nr, FOLL_WRITE | FOLL_LONGTERM,
				     q->arena_pages);
	if (pinned != nr) {
		if (pinned > 0)
			unpin_user_pages(q->arena_pages, pinned);
		kvfree(q->arena_pages);
		q->arena_pages = NULL;
		return pinned < 0 ? pinned : -EFAULT;
	}
	q->arena_nr_pages = nr;
	q->arena = vmap(q->arena_pages, nr, VM_MAP, PAGE_KERNEL);
	if (!q->arena) {
		ret = -ENOMEM;
		goto fail;
	}

	if (wake_fd >= 0) {
		q->wake = eventfd_ctx_fdget(wake_fd);
		if (IS_ERR(q->wake)) {
			ret = PTR_ERR(q->wake);
			q->wake = NULL;
			goto fail;
		}
	}
	/* A new runtime starts from an empty ring. */
	memset(q->hdr, 0, sizeof(*q->hdr));
	q->sq_tail = 0;
	q->cq_head = 0;
	/* queue_rq sees the arena and the reset ring before attached. */
	smp_store_release(&q->attached, true);
	return 0;
fail:
	azb_release_arena(q);
	return ret;
}

/*
 * Drops the runtime's wake_fd.  queue_rq and commit_rqs read q->wake
 * without a lock, so only with them unable to run on this queue.
 */
void azb_queue_put_wake(struct azb_queue *q)
{
	if (q->wake) {
		eventfd_ctx_put(q->wake);
		q->wake = NULL;
	}
}

/* Called with q->lock held and queue_rq unable to run on this queue. */
void azb_queue_detach(struct azb_queue *q)
{
	WRITE_ONCE(q->attached, false);
	azb_release_arena(q);
	azb_queue_put_wake(q);
	WRITE_ONCE(q->hdr->flags.val, AZBUSE_RING_DEAD);
	wake_up_all(&q->wait);
}

/* One CQE: false if the runtime sent something that is not its to end. */
static bool azb_complete_one(struct azb_queue *q, const struct azbuse_cqe *c)
{
	unsigned int lbs = q->dev->info.logical_bs;
	struct azb_cmd *cmd;
	struct request *rq;
	unsigned int bytes;
	int res = c->result;
	bool ok = true;

	if (c->tag >= q->depth)
		return false;
	rq = blk_mq_tag_to_rq(q->hctx->tags, c->tag);
	if (!rq)
		return false;
	cmd = azb_cmd(rq);
	if (!azb_cmd_claim(cmd, c->gen))
		return false;

	bytes = req_op(rq) == REQ_OP_FLUSH ? 0 : blk_rq_bytes(rq);
	if (res < 0) {
		blk_mq_end_request(rq, errno_to_blk_status(res));
		return true;
	}
	if (res > bytes) {
		/* Claims more than was asked: fail it rather than trust it. */
		res = 0;
		ok = false;
	}
	res = round_down(res, lbs);
	if (req_op(rq) == REQ_OP_READ && res)
		azb_copy_from_slot(rq, azb_slot(q, c->tag), res);
	if (res == bytes) {
		blk_mq_end_request(rq, BLK_STS_OK);
		return ok;
	}
	/* Short: what was done succeeds, the rest fails. */
	if (res)
		blk_update_request(rq, BLK_STS_OK, res);
	blk_mq_end_request(rq, BLK_STS_IOERR);
	return ok;
}

/* Called with q->lock held.  Returns CQEs reaped or -EINVAL if any bad. */
int azb_queue_reap(struct azb_queue *q)
{
	/* CQEs up to the tail the runtime published are fully written. */
	u32 tail = smp_load_acquire(&q->hdr->cq_tail.val);
	u32 n = AZBUSE_RING_USED(q->cq_head, tail);
	bool bad = false;
	u32 i;

	if (n > q->entries) {
		/* Garbage indices: drop them and resynchronize. */
		q->cq_head = tail;
		/* Slots before the head may be reused by the runtime. */
		smp_store_release(&q->hdr->cq_head.val, tail);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		struct azbuse_cqe c;

		memcpy(&c, &q->cq[AZBUSE_RING_SLOT(q->cq_head + i, q->entries)],
		       sizeof(c));
		if (!azb_complete_one(q, &c))
			bad = true;
	}
	q->cq_head = tail;
	/* Slots before the head may be reused by the runtime. */
	smp_store_release(&q->hdr->cq_head.val, tail);
	return bad ? -EINVAL : n;
}

static bool azb_abort_one(struct request *rq, void *data)
{
	struct azb_cmd *cmd = azb_cmd(rq);

	if (azb_cmd_claim(cmd, atomic_read(&cmd->owner))) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	}
	return true;
}

/* Fails every request the runtime holds; queue_rq must be quiesced. */
void azb_dev_abort_inflight(struct azb_dev *dev)
{
	blk_mq_tagset_busy_iter(&dev->set, azb_abort_one, NULL);
}

static bool azb_requeue_one(struct request *rq, void *data)
{
	struct azb_cmd *cmd = azb_cmd(rq);

	if (azb_cmd_claim(cmd, atomic_read(&cmd->owner)))
		blk_mq_requeue_request(rq, false);
	return true;
}

/*
 * Recovery: takes back every request the dead runtime held and queues it
 * again, to be issued to the next runtime; queue_rq must be quiesced.
 */
void azb_dev_requeue_inflight(struct azb_dev *dev)
{
	blk_mq_tagset_busy_iter(&dev->set, azb_requeue_one, NULL);
}
