// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware queues: blk-mq ops, the per-queue ring and the data arena.
 *
 * queue_rq gives the request a free arena slot, copies write data into it,
 * writes an SQE and publishes the SQ tail; the runtime's COMMIT reaps CQEs,
 * copies read data back and ends the requests.  Every value read from the
 * shared ring is untrusted: a bad CQE is refused and never ends a request
 * that is not the runtime's to end, nor frees a slot the runtime still has.
 */
#include <linux/eventfd.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "azb.h"
#include "compat.h"

/* The bio flags the runtime sees; their REQ_* values differ by kernel. */
static u32 azbk_req_flags(const struct request *rq)
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

static void *azbk_slot_data(struct azbk_queue *q, unsigned int slot)
{
	return q->arena.addr + (size_t)slot * q->dev->info.max_io_bytes;
}

/*
 * Takes a free slot: the tag's own when it is free (always, unless a
 * request that had it was ended while the runtime kept it), else any.
 */
static int azbk_slot_get(struct azbk_queue *q, unsigned int tag)
{
	unsigned int s;

	if (!test_and_set_bit_lock(tag, q->slot_map))
		return tag;
	for (;;) {
		s = find_first_zero_bit(q->slot_map, q->depth);
		if (s >= q->depth)
			return -1;
		if (!test_and_set_bit_lock(s, q->slot_map))
			return s;
	}
}

/* Frees a slot nobody owns any more (owner already 0). */
static void azbk_slot_put(struct azbk_queue *q, unsigned int slot)
{
	clear_bit_unlock(slot, q->slot_map);
}

/*
 * Takes a live request from the runtime and leaves the runtime its slot:
 * true if this caller (timeout, abort, requeue) must end the request.
 */
static bool azbk_slot_orphan(struct azbk_queue *q, unsigned int slot, u32 gen)
{
	if (!gen || (gen & AZBK_SLOT_ORPHAN) || slot >= q->depth)
		return false;
	if (atomic_cmpxchg(&q->slots[slot].owner, gen,
			   gen | AZBK_SLOT_ORPHAN) != gen)
		return false;
	atomic_inc(&q->nr_orphans);
	return true;
}

/* Status for a negative errno: only what a disk may report. */
blk_status_t azbk_errno_status(int res)
{
	switch (res) {
	case -ENOSPC:
		return BLK_STS_NOSPC;
	case -EOPNOTSUPP:
		return BLK_STS_NOTSUPP;
	case -ETIMEDOUT:
		return BLK_STS_TIMEOUT;
	case -ENOLINK:
		return BLK_STS_TRANSPORT;
	case -ENODATA:
		return BLK_STS_MEDIUM;
	case -EILSEQ:
		return BLK_STS_PROTECTION;
	case -EREMOTEIO:
		return BLK_STS_TARGET;
	default:
		/* EBUSY, ENOMEM and the like would read as "retry later". */
		return BLK_STS_IOERR;
	}
}

static void azbk_copy_to_slot(struct request *rq, void *slot)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(slot, &bv);
		slot += bv.bv_len;
	}
}

static void azbk_copy_from_slot(struct request *rq, const void *slot,
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

bool azbk_queue_has_work(struct azbk_queue *q)
{
	return READ_ONCE(q->sq_tail) != READ_ONCE(q->hdr->sq_head.val);
}

static void azbk_queue_kick(struct azbk_queue *q)
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
	if (q->arena.wake && READ_ONCE(q->hdr->engine_wait.val) &&
	    eventfd_signal_allowed())
		azbk_eventfd_signal(q->arena.wake);
}

/*
 * The queue a request goes to.  The ringless poll queue (a device without
 * poll queues where the block layer needs one) hands its requests to the
 * default queue of the CPU they are issued on: served as ordinary I/O.
 */
static struct azbk_queue *azbk_hctx_queue(struct blk_mq_hw_ctx *hctx)
{
	struct azbk_dev *dev;

	if (likely(hctx->driver_data))
		return hctx->driver_data;
	dev = hctx->queue->queuedata;
	return &dev->queues[dev->set.map[HCTX_TYPE_DEFAULT].mq_map[
				raw_smp_processor_id()]];
}

static blk_status_t azbk_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct azbk_queue *q = azbk_hctx_queue(hctx);
	const struct azbuse_dev_info *info = &q->dev->info;
	struct request *rq = bd->rq;
	struct azbk_cmd *cmd = azbk_cmd(rq);
	unsigned int bytes = blk_rq_bytes(rq);
	unsigned int max_bytes = info->max_io_bytes;
	struct azbuse_sqe *sqe;
	int slot;
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

	/* Pairs with the release in azbk_queue_attach(): arena is valid. */
	if (!smp_load_acquire(&q->attached)) {
		rq->rq_flags |= RQF_QUIET;
		return BLK_STS_IOERR;
	}
	if (op != AZBUSE_OP_READ && op != AZBUSE_OP_FLUSH &&
	    (info->flags & AZBUSE_DEV_F_READ_ONLY))
		return BLK_STS_IOERR;
	if (bytes > max_bytes || rq->tag >= q->depth)
		return BLK_STS_IOERR;

	slot = azbk_slot_get(q, rq->tag);
	if (slot < 0) {
		/*
		 * Every slot is in use and some by requests already ended
		 * (orphans): wait for the runtime to answer for one (COMMIT
		 * runs the queue then), unless it holds every slot that way.
		 */
		if (atomic_read(&q->nr_orphans) >= q->depth)
			return BLK_STS_IOERR;
		return BLK_STS_RESOURCE;
	}
	cmd->gen = 0;	/* not published: the timeout handler leaves it */
	cmd->slot = slot;
	cmd->q = q;
	/* The runtime redirects every WRITE: its data stays where it is. */
	cmd->nodata = op == AZBUSE_OP_WRITE && q->nodata_writes;
	blk_mq_start_request(rq);
	if (op == AZBUSE_OP_WRITE && !cmd->nodata)
		azbk_copy_to_slot(rq, azbk_slot_data(q, slot));

	spin_lock(&q->sq_lock);
	/*
	 * At most depth requests are owned and the SQ has twice that, so a
	 * full SQ means the runtime stopped consuming or corrupted its head:
	 * fail the request rather than wait for a runtime that is not there.
	 */
	if (AZBUSE_RING_USED(READ_ONCE(q->hdr->sq_head.val), q->sq_tail) >=
	    q->entries) {
		spin_unlock(&q->sq_lock);
		azbk_slot_put(q, slot);
		return BLK_STS_IOERR;
	}
	q->gen = (q->gen + 1) & ~AZBK_SLOT_ORPHAN;
	if (!q->gen)
		q->gen = 1;	/* 0 means "not owned" */
	cmd->status = BLK_STS_OK;
	cmd->gen = q->gen;
	q->slots[slot].rq = rq;
	/* Whoever claims the generation sees rq. */
	atomic_set_release(&q->slots[slot].owner, q->gen);

	sqe = &q->sq[AZBUSE_RING_SLOT(q->sq_tail, q->entries)];
	sqe->op = op;
	sqe->__pad0 = 0;
	sqe->tag = slot;
	sqe->flags = azbk_req_flags(rq) | (cmd->nodata ? AZBUSE_IO_F_NODATA : 0);
	/* A flush has no position (blk-mq leaves it at -1). */
	sqe->sector = op == AZBUSE_OP_FLUSH ? 0 : blk_rq_pos(rq);
	sqe->nr_bytes = bytes;
	sqe->gen = q->gen;
	sqe->ioprio = req_get_ioprio(rq);
	sqe->__pad1 = 0;
	sqe->__pad2 = 0;
	/* The runtime reads the SQE only after it sees this tail. */
	smp_store_release(&q->hdr->sq_tail.val, q->sq_tail + 1);
	WRITE_ONCE(q->sq_tail, q->sq_tail + 1);
	spin_unlock(&q->sq_lock);

	/* The ringless poll queue's commit_rqs cannot tell which queue. */
	if (bd->last || !hctx->driver_data)
		azbk_queue_kick(q);
	return BLK_STS_OK;
}

static void azbk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	/* The ringless poll queue's requests were kicked where they went. */
	if (hctx->driver_data)
		azbk_queue_kick(hctx->driver_data);
}

/* A poll queue's request ended other than by .poll: say so to .poll. */
static void azbk_poll_note_done(struct azbk_queue *q, int n)
{
	if (q->poll && n > 0)
		atomic_add(n, &q->done_elsewhere);
}

/*
 * Ends a request this caller took from the runtime (abort, timeout) or
 * whose redirected I/O finished.
 */
static void azbk_complete_rq(struct request *rq)
{
	struct azbk_cmd *cmd = azbk_cmd(rq);

	azbk_poll_note_done(cmd->q, 1);
	blk_mq_end_request(rq, cmd->status);
}

/*
 * The runtime has not answered in time.  The request fails with EIO, but
 * its slot stays the runtime's until the runtime's CQE for it arrives: the
 * engine may still be reading or writing those bytes, and the tag is
 * reused at once.
 */
static enum blk_eh_timer_return azbk_timeout(struct request *rq)
{
	struct azbk_cmd *cmd = azbk_cmd(rq);
	struct azbk_queue *q = cmd->q;

	if (!q || !azbk_slot_orphan(q, cmd->slot, READ_ONCE(cmd->gen)))
		/* Not published yet, or being completed by someone else. */
		return BLK_EH_RESET_TIMER;
	/* EIO, not ETIMEDOUT: what applications expect from a disk. */
	cmd->status = BLK_STS_IOERR;
	blk_mq_complete_request(rq);
	return BLK_EH_DONE;
}

static int azbk_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			 unsigned int idx)
{
	struct azbk_dev *dev = data;
	struct azbk_queue *q;

	/* The ringless poll queue comes after every queue with a ring. */
	if (idx >= dev->nr_queues) {
		hctx->driver_data = NULL;
		return 0;
	}
	q = &dev->queues[idx];
	q->hctx = hctx;
	hctx->driver_data = q;
	return 0;
}

/* Default queues first, then the poll queues; no read queues. */
static void azbk_map_queues(struct blk_mq_tag_set *set)
{
	struct azbk_dev *dev = set->driver_data;
	unsigned int poll = set->nr_maps > HCTX_TYPE_POLL ? dev->nr_poll_hctx : 0;
	unsigned int i, off = 0;

	for (i = 0; i < set->nr_maps; i++) {
		struct blk_mq_queue_map *map = &set->map[i];

		if (i == HCTX_TYPE_DEFAULT)
			map->nr_queues = set->nr_hw_queues - poll;
		else if (i == HCTX_TYPE_POLL)
			map->nr_queues = poll;
		else
			map->nr_queues = 0;
		map->queue_offset = off;
		off += map->nr_queues;
		if (map->nr_queues)
			blk_mq_map_queues(map);
	}
}

/*
 * A polling submitter (io_uring IOPOLL, RWF_HIPRI) reaps the poll queue's
 * CQ itself, in its own context: what the runtime published, without a
 * COMMIT.  If COMMIT or another poller is reaping, they end the requests;
 * the count of requests ended elsewhere makes this return > 0 so that a
 * submitter waiting in blk-mq's poll loop stops spinning.
 */
static int azbk_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct azbk_queue *q = hctx->driver_data;
	int n = 0;

	if (!q)
		return 0;	/* ringless: its requests end through COMMIT */
	if (READ_ONCE(q->hdr->cq_tail.val) != READ_ONCE(q->cq_head) &&
	    mutex_trylock(&q->lock)) {
		if (q->attached)
			n = azbk_queue_reap(q, true, iob);
		mutex_unlock(&q->lock);
	}
	return max(n, 0) + atomic_xchg(&q->done_elsewhere, 0);
}

const struct blk_mq_ops azbk_mq_ops = {
	.queue_rq	= azbk_queue_rq,
	.commit_rqs	= azbk_commit_rqs,
	.complete	= azbk_complete_rq,
	.timeout	= azbk_timeout,
	.init_hctx	= azbk_init_hctx,
	.map_queues	= azbk_map_queues,
	.poll		= azbk_poll,
};

/*
 * The ring is built from single pages on the queue's node: no high-order
 * allocation for deep queues, and vm_insert_page() lets the mapping hold
 * its own page references.  The slot table goes on the same node.
 */
int azbk_queue_alloc_ring(struct azbk_queue *q)
{
	unsigned int i;

	q->slots = kvzalloc_node(array_size(q->depth, sizeof(*q->slots)),
				 GFP_KERNEL, q->node);
	q->slot_map = bitmap_zalloc_node(q->depth, GFP_KERNEL, q->node);
	if (!q->slots || !q->slot_map)
		goto fail;

	q->entries = roundup_pow_of_two(q->depth) * 2;
	q->sq_off = ALIGN(sizeof(struct azbuse_ring_hdr), SMP_CACHE_BYTES);
	q->cq_off = q->sq_off + q->entries * sizeof(struct azbuse_sqe);
	q->ring_bytes = PAGE_ALIGN(q->cq_off +
				   q->entries * sizeof(struct azbuse_cqe));
	q->ring_nr_pages = q->ring_bytes >> PAGE_SHIFT;

	q->ring_pages = kcalloc_node(q->ring_nr_pages, sizeof(*q->ring_pages),
				     GFP_KERNEL, q->node);
	if (!q->ring_pages)
		goto fail;
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
	azbk_queue_free_ring(q);
	return -ENOMEM;
}

void azbk_queue_free_ring(struct azbk_queue *q)
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
	kvfree(q->slots);
	q->slots = NULL;
	bitmap_free(q->slot_map);
	q->slot_map = NULL;
}

/*
 * Arena memory must be anonymous, shmem or hugetlb.  Pinning a regular
 * file's page-cache pages for writing leaves them dirtied behind the
 * filesystem's back (6.5 and later refuse it in GUP; 6.1 does not).
 * Checked on the pinned pages themselves, so no remap can slip past.
 */
static bool azbk_arena_pages_ok(struct page **pages, unsigned long nr)
{
	struct folio *last = NULL;
	unsigned long i;

	for (i = 0; i < nr; i++) {
		struct folio *folio = page_folio(pages[i]);
		struct address_space *mapping;

		if (folio == last)
			continue;
		last = folio;
		if (folio_test_anon(folio) || PageHuge(pages[i]))
			continue;
		mapping = folio_mapping(folio);
		if (!mapping || !shmem_mapping(mapping))
			return false;
		cond_resched();
	}
	return true;
}

void azbk_arena_put(struct azbk_arena *a)
{
	if (a->addr)
		vunmap(a->addr);
	if (a->pages && a->nr_pages)
		unpin_user_pages_dirty_lock(a->pages, a->nr_pages, true);
	kvfree(a->pages);
	if (a->mm) {
		account_locked_vm(a->mm, a->nr_pages, false);
		mmdrop(a->mm);
	}
	if (a->wake)
		eventfd_ctx_put(a->wake);
	memset(a, 0, sizeof(*a));
}

/*
 * Everything ATTACH does that can sleep or fault, with no lock held and no
 * queue quiesced: checks, charges RLIMIT_MEMLOCK (as io_uring does for its
 * registered buffers), pins and maps the arena and takes the wake_fd.
 */
int azbk_arena_get(struct azbk_queue *q, struct azbk_arena *a, u64 addr,
		  u64 bytes, int wake_fd)
{
	u64 want = (u64)q->depth * q->dev->info.max_io_bytes;
	unsigned long nr = want >> PAGE_SHIFT;
	long pinned;
	int ret;

	memset(a, 0, sizeof(*a));
	if (bytes != want)
		return -EINVAL;
	if (!addr || !PAGE_ALIGNED(addr) || addr + bytes < addr)
		return -EINVAL;

	ret = account_locked_vm(current->mm, nr, true);
	if (ret)
		return ret;
	a->mm = current->mm;
	mmgrab(a->mm);
	a->pages = kvcalloc(nr, sizeof(*a->pages), GFP_KERNEL);
	if (!a->pages) {
		ret = -ENOMEM;
		goto fail;
	}
	a->nr_pages = nr;
	pinned = pin_user_pages_fast(addr, nr, FOLL_WRITE | FOLL_LONGTERM,
				     a->pages);
	if (pinned != nr) {
		if (pinned > 0)
			unpin_user_pages(a->pages, pinned);
		kvfree(a->pages);
		a->pages = NULL;
		ret = pinned < 0 ? pinned : -EFAULT;
		goto fail;
	}
	if (!azbk_arena_pages_ok(a->pages, nr)) {
		ret = -EINVAL;
		goto fail;
	}
	a->addr = vmap(a->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!a->addr) {
		ret = -ENOMEM;
		goto fail;
	}
	if (wake_fd >= 0) {
		a->wake = eventfd_ctx_fdget(wake_fd);
		if (IS_ERR(a->wake)) {
			ret = PTR_ERR(a->wake);
			a->wake = NULL;
			goto fail;
		}
	}
	return 0;
fail:
	azbk_arena_put(a);
	return ret;
}

/*
 * Called with q->lock held.  No quiesce is needed: queue_rq touches the
 * ring, slots and arena only after it reads attached, which is stored last.
 */
int azbk_queue_attach(struct azbk_queue *q, struct azbk_arena *a,
		     bool nodata_writes)
{
	if (q->attached)
		return -EBUSY;
	q->arena = *a;
	q->nodata_writes = nodata_writes;
	memset(a, 0, sizeof(*a));
	/* A new runtime starts from an empty ring and free slots. */
	memset(q->hdr, 0, sizeof(*q->hdr));
	WRITE_ONCE(q->sq_tail, 0);
	q->cq_head = 0;
	/* queue_rq sees the arena and the reset ring before attached. */
	smp_store_release(&q->attached, true);
	return 0;
}

/*
 * Drops the runtime's wake_fd.  queue_rq and commit_rqs read it without a
 * lock, so only with them unable to run on this queue.
 */
void azbk_queue_put_wake(struct azbk_queue *q)
{
	if (q->arena.wake) {
		eventfd_ctx_put(q->arena.wake);
		q->arena.wake = NULL;
	}
}

/*
 * Ring flags are changed with cmpxchg, so the kernel's own updates never
 * undo each other (COMMIT's NEED_WAKEUP must not erase detach's DEAD).
 * The word is in the runtime's memory: a runtime that keeps rewriting it
 * gets a few tries, not a kernel thread spinning on its behalf.
 */
static void azbk_ring_update_flags(struct azbk_queue *q, u32 set, u32 clear)
{
	u32 *p = &q->hdr->flags.val, old = READ_ONCE(*p);
	unsigned int tries;

	for (tries = 0; tries < 16; tries++) {
		u32 want = (old | set) & ~clear, seen;

		if (want == old)
			return;
		seen = cmpxchg(p, old, want);
		if (seen == old)
			return;
		old = seen;
	}
}

void azbk_ring_set_flag(struct azbk_queue *q, u32 flag)
{
	azbk_ring_update_flags(q, flag, 0);
}

void azbk_ring_clear_flag(struct azbk_queue *q, u32 flag)
{
	azbk_ring_update_flags(q, 0, flag);
}

/*
 * Called with q->lock held, queue_rq unable to run on this queue and every
 * request the runtime held already taken back: the slots are all free again.
 */
void azbk_queue_detach(struct azbk_queue *q)
{
	unsigned int i;

	WRITE_ONCE(q->attached, false);
	azbk_arena_put(&q->arena);
	for (i = 0; i < q->depth; i++)
		atomic_set(&q->slots[i].owner, 0);
	bitmap_zero(q->slot_map, q->depth);
	atomic_set(&q->nr_orphans, 0);
	azbk_ring_set_flag(q, AZBUSE_RING_DEAD);
	wake_up_all(&q->wait);
}

/*
 * A claimed request the runtime redirected: the extents leave the slot
 * before it is freed, then the kernel does the I/O.  False if the list
 * was bad (the request fails).
 */
static bool azbk_complete_redirect(struct azbk_queue *q, struct request *rq,
				  unsigned int slot, int nr)
{
	int ret = azbk_redirect_prepare(q, rq, azbk_slot_data(q, slot), nr);

	azbk_slot_put(q, slot);
	if (ret) {
		blk_mq_end_request(rq, BLK_STS_IOERR);
		/* Out of memory is the kernel's failure, not the runtime's. */
		return ret == -ENOMEM;
	}
	azbk_redirect_issue(rq);
	return true;
}

/*
 * One CQE: false if the runtime sent something that is not its to end.
 * *freed is set when the CQE gave back the slot of a request already ended.
 * A request that succeeded whole joins iob, if the block layer takes it
 * there, and ends with the batch.
 */
static bool azbk_complete_one(struct azbk_queue *q, const struct azbuse_cqe *c,
			     bool *freed, struct io_comp_batch *iob)
{
	unsigned int lbs = q->dev->info.logical_bs;
	struct azbk_slot *sl;
	struct request *rq;
	unsigned int bytes;
	int res = c->result;
	bool ok = true;

	if (c->tag >= q->depth || !c->gen || (c->gen & AZBK_SLOT_ORPHAN) ||
	    (c->flags & ~AZBUSE_CQE_F_REDIRECT))
		return false;
	sl = &q->slots[c->tag];
	if (atomic_cmpxchg(&sl->owner, c->gen, 0) != c->gen) {
		/* The late answer for a request that was ended without it. */
		if (atomic_cmpxchg(&sl->owner, c->gen | AZBK_SLOT_ORPHAN, 0) !=
		    (c->gen | AZBK_SLOT_ORPHAN))
			return false;
		azbk_slot_put(q, c->tag);
		atomic_dec(&q->nr_orphans);
		*freed = true;
		return true;
	}
	/* Claimed: the request is live and only this caller may end it. */
	rq = sl->rq;
	if (c->flags & AZBUSE_CQE_F_REDIRECT)
		return azbk_complete_redirect(q, rq, c->tag, res);
	bytes = req_op(rq) == REQ_OP_FLUSH ? 0 : blk_rq_bytes(rq);
	if (res >= 0 && azbk_cmd(rq)->nodata) {
		/* Data the runtime never had cannot have been written. */
		azbk_slot_put(q, c->tag);
		blk_mq_end_request(rq, BLK_STS_IOERR);
		return false;
	}
	if (res < 0) {
		azbk_slot_put(q, c->tag);
		blk_mq_end_request(rq, azbk_errno_status(res));
		return true;
	}
	if (res > bytes) {
		/* Claims more than was asked: fail it rather than trust it. */
		res = 0;
		ok = false;
	}
	res = round_down(res, lbs);
	if (req_op(rq) == REQ_OP_READ && res)
		azbk_copy_from_slot(rq, azbk_slot_data(q, c->tag), res);
	/* Free before ending: the tag's next request finds its own slot. */
	azbk_slot_put(q, c->tag);
	if (res == bytes) {
		/*
		 * In a batch, tags go back and bios end together: what
		 * blk_mq_end_request() does per request, once per CQE run.
		 */
		if (!blk_mq_add_to_batch(rq, iob, false,
					 blk_mq_end_request_batch))
			blk_mq_end_request(rq, BLK_STS_OK);
		return ok;
	}
	/* Short: what was done succeeds, the rest fails. */
	if (res)
		blk_update_request(rq, BLK_STS_OK, res);
	blk_mq_end_request(rq, BLK_STS_IOERR);
	return ok;
}

/*
 * Called with q->lock held, by COMMIT or (by_poll) a polling submitter.
 * Requests that succeeded may be left in iob (NULL: none are) for the
 * caller to end with iob->complete().  Returns CQEs reaped or -EINVAL if
 * any bad.
 */
int azbk_queue_reap(struct azbk_queue *q, bool by_poll,
		    struct io_comp_batch *iob)
{
	/* CQEs up to the tail the runtime published are fully written. */
	u32 tail = smp_load_acquire(&q->hdr->cq_tail.val);
	u32 n = AZBUSE_RING_USED(q->cq_head, tail);
	bool bad = false, freed = false;
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
		if (!azbk_complete_one(q, &c, &freed, iob))
			bad = true;
		/* Up to 8192 CQEs, each copying up to 1 MiB. */
		if ((i & 63) == 63)
			cond_resched();
	}
	q->cq_head = tail;
	/* Slots before the head may be reused by the runtime. */
	smp_store_release(&q->hdr->cq_head.val, tail);
	/* A request may be waiting for a slot (BLK_STS_RESOURCE). */
	if (freed)
		blk_mq_run_hw_queue(q->hctx, true);
	if (!by_poll)
		azbk_poll_note_done(q, n);
	return bad ? -EINVAL : n;
}

/*
 * Takes back every request the runtime holds on q.  Called with queue_rq
 * quiesced and COMMIT shut out (attached false), so only the timeout
 * handler may race, and the cmpxchg decides.
 */
static void azbk_queue_take_back(struct azbk_queue *q, bool requeue)
{
	unsigned int i;

	for (i = 0; q->slots && i < q->depth; i++) {
		struct azbk_slot *sl = &q->slots[i];
		u32 gen = atomic_read(&sl->owner);
		struct request *rq;

		if (!azbk_slot_orphan(q, i, gen))
			continue;
		rq = sl->rq;
		if (requeue) {
			blk_mq_requeue_request(rq, false);
		} else {
			azbk_cmd(rq)->status = BLK_STS_IOERR;
			blk_mq_complete_request(rq);
		}
	}
}

/* Fails every request the runtime holds; queue_rq must be quiesced. */
void azbk_dev_abort_inflight(struct azbk_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_queues; i++)
		azbk_queue_take_back(&dev->queues[i], false);
}

/*
 * Recovery: takes back every request the dead runtime held and queues it
 * again, to be issued to the next runtime; queue_rq must be quiesced.
 */
void azbk_dev_requeue_inflight(struct azbk_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_queues; i++)
		azbk_queue_take_back(&dev->queues[i], true);
}
