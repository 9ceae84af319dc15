// SPDX-License-Identifier: GPL-2.0
/*
 * Redirect: the runtime answers a READ or WRITE with where its data lives,
 * a list of extents of files it registered, and the kernel moves the data
 * itself between the request's own pages and those files with asynchronous
 * direct I/O, as the loop driver does.  No CPU copies a byte.
 *
 * Ownership: the CQE that redirects claims the request (its slot's
 * generation), so neither the timeout handler nor an abort can end it while
 * its pages are under file I/O; only the last extent's completion does.
 * Each extent holds a reference on its file, so emptying a file slot or the
 * runtime's death never frees a file under I/O, and del_gendisk() waits for
 * these requests like for any other.
 *
 * Extents are issued from COMMIT with IOCB_NOWAIT, so the poller never
 * blocks on a file; one that would block (EAGAIN, returned or delivered at
 * completion) or a file that cannot say so is issued, blocking, from the
 * device's workqueue.
 */
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "azb.h"

/* Inode holding the data: the block device's own for a device node. */
static struct inode *azbk_file_host(struct file *f)
{
	return f->f_mapping->host;
}

static struct file *azbk_file_get(struct azbk_dev *dev, u32 idx)
{
	struct file *f;

	rcu_read_lock();
	f = rcu_dereference(dev->files[idx]);
	/* Its slot's reference is dropped only after a grace period. */
	if (f)
		get_file(f);
	rcu_read_unlock();
	return f;
}

/* Bytes an extent may reach: a redirect never grows a file. */
static loff_t azbk_file_bytes(struct file *f)
{
	struct inode *inode = azbk_file_host(f);

	if (S_ISBLK(inode->i_mode))
		return bdev_nr_bytes(I_BDEV(inode));
	return i_size_read(inode);
}

/* True if IOCB_NOWAIT is honoured rather than ignored or refused. */
static bool azbk_file_nowait(struct file *f)
{
	struct inode *inode = azbk_file_host(f);

	if (!(f->f_mode & FMODE_NOWAIT))
		return false;
	return !S_ISBLK(inode->i_mode) || bdev_nowait(I_BDEV(inode));
}

/* Drops what the request's extents hold; the request is not ended. */
static void azbk_redirect_release(struct azbk_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_rios; i++)
		if (cmd->rios[i].iocb.ki_filp)
			fput(cmd->rios[i].iocb.ki_filp);
	if (cmd->rios != cmd->inline_rios)
		kfree(cmd->rios);
	kfree(cmd->bvec);
	cmd->rios = NULL;
	cmd->bvec = NULL;
	cmd->nr_rios = 0;
}

static void azbk_redirect_end(struct azbk_cmd *cmd)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	int err = atomic_read(&cmd->rio_error);

	azbk_redirect_release(cmd);
	cmd->status = err ? azbk_errno_status(err) : BLK_STS_OK;
	/* May be in interrupt context: .complete ends it. */
	blk_mq_complete_request(rq);
}

static void azbk_rio_put(struct azbk_cmd *cmd)
{
	if (atomic_dec_and_test(&cmd->rio_pending))
		azbk_redirect_end(cmd);
}

static void azbk_rio_retry(struct azbk_rio *rio)
{
	queue_work(rio->cmd->q->dev->rio_wq, &rio->work);
}

static void azbk_rio_complete(struct kiocb *iocb, long ret)
{
	struct azbk_rio *rio = container_of(iocb, struct azbk_rio, iocb);
	struct azbk_cmd *cmd = rio->cmd;

	if (rio->sb_held) {
		struct super_block *sb = file_inode(iocb->ki_filp)->i_sb;

		/* Freeze protection was handed over at submission. */
		__sb_writers_acquired(sb, SB_FREEZE_WRITE);
		sb_end_write(sb);
		rio->sb_held = false;
	}
	/*
	 * Would have blocked (or did only part of it, which NOWAIT allows):
	 * all of it again, from the worker.  Rewriting the same bytes or
	 * reading them again is harmless.
	 */
	if (rio->nowait && ret != rio->len &&
	    (ret == -EAGAIN || ret == -EOPNOTSUPP || ret >= 0)) {
		azbk_rio_retry(rio);
		return;
	}
	/* Short counts as failed: bytes never read are never reported read. */
	if (ret != rio->len)
		atomic_cmpxchg(&cmd->rio_error, 0, ret < 0 ? (int)ret : -EIO);
	azbk_rio_put(cmd);
}

static void azbk_rio_issue(struct azbk_rio *rio, bool nowait)
{
	struct request *rq = blk_mq_rq_from_pdu(rio->cmd);
	struct file *f = rio->iocb.ki_filp;
	struct inode *inode = file_inode(f);
	/* The file consumes its own copy; a retry starts from the template. */
	struct iov_iter iter = rio->iter;
	unsigned int noio;
	ssize_t ret;

	rio->nowait = nowait;
	rio->iocb = (struct kiocb) {
		.ki_filp	= f,
		.ki_pos		= rio->pos,
		.ki_complete	= azbk_rio_complete,
		.ki_flags	= IOCB_DIRECT | (nowait ? IOCB_NOWAIT : 0),
		.ki_ioprio	= req_get_ioprio(rq),
	};
	/* Allocations under this I/O must not recurse into the device. */
	noio = memalloc_noio_save();
	if (req_op(rq) == REQ_OP_WRITE) {
		if (rq->cmd_flags & REQ_FUA)
			rio->iocb.ki_flags |= IOCB_DSYNC;
		if (S_ISREG(inode->i_mode)) {
			/* As aio does: held across the asynchronous write. */
			if (!nowait) {
				sb_start_write(inode->i_sb);
			} else if (!sb_start_write_trylock(inode->i_sb)) {
				ret = -EAGAIN;
				goto done;
			}
			__sb_writers_release(inode->i_sb, SB_FREEZE_WRITE);
			rio->sb_held = true;
		}
		ret = f->f_op->write_iter(&rio->iocb, &iter);
	} else {
		ret = f->f_op->read_iter(&rio->iocb, &iter);
	}
done:
	memalloc_noio_restore(noio);
	if (ret != -EIOCBQUEUED)
		azbk_rio_complete(&rio->iocb, ret);
}

static void azbk_rio_work(struct work_struct *work)
{
	azbk_rio_issue(container_of(work, struct azbk_rio, work), false);
}

/* Points each extent's iterator at its part of the request's pages. */
static int azbk_redirect_iters(struct azbk_cmd *cmd, struct request *rq)
{
	unsigned int dir = req_op(rq) == REQ_OP_WRITE ? ITER_SOURCE : ITER_DEST;
	unsigned int nr_bvec = 0, offset, i;
	struct req_iterator it;
	struct bio_vec tmp, *fill;
	const struct bio_vec *bvec;	/* 7.x: __bvec_iter_bvec() is const */
	size_t done = 0;

	rq_for_each_bvec(tmp, rq, it)
		nr_bvec++;
	if (rq->bio != rq->biotail) {
		/* Several bios: one array, as loop builds (bios may be split). */
		fill = kmalloc_array(nr_bvec, sizeof(*fill), GFP_NOIO);
		if (!fill)
			return -ENOMEM;
		cmd->bvec = fill;
		rq_for_each_bvec(tmp, rq, it)
			*fill++ = tmp;
		bvec = cmd->bvec;
		offset = 0;
	} else {
		/* One bio, perhaps split: start where its iterator is. */
		offset = rq->bio->bi_iter.bi_bvec_done;
		bvec = __bvec_iter_bvec(rq->bio->bi_io_vec, rq->bio->bi_iter);
	}
	for (i = 0; i < cmd->nr_rios; i++) {
		struct azbk_rio *rio = &cmd->rios[i];

		iov_iter_bvec(&rio->iter, dir, bvec, nr_bvec, blk_rq_bytes(rq));
		rio->iter.iov_offset = offset;
		iov_iter_advance(&rio->iter, done);
		iov_iter_truncate(&rio->iter, rio->len);
		done += rio->len;
	}
	return 0;
}

/* A part of the request's data on FILE at POS, not yet issued. */
static void azbk_rio_init(struct azbk_rio *rio, struct azbk_cmd *cmd, u32 file,
			 loff_t pos, u32 len)
{
	memset(rio, 0, sizeof(*rio));
	rio->cmd = cmd;
	INIT_WORK(&rio->work, azbk_rio_work);
	rio->file = file;
	rio->pos = pos;
	rio->len = len;
}

/* One extent of the runtime's list, checked.  0 or -errno. */
static int azbk_rio_set(struct azbk_dev *dev, struct azbk_cmd *cmd,
		       unsigned int i, const struct azbuse_extent *e,
		       bool write, u64 left)
{
	struct azbk_rio *rio = &cmd->rios[i];
	u32 lbs = dev->info.logical_bs;
	struct file *f;
	loff_t size;
	unsigned int j;

	azbk_rio_init(rio, cmd, e->file, e->offset, e->len);
	cmd->nr_rios = i + 1;
	if (!e->len || e->len > left || ((e->len | e->offset) & (lbs - 1)))
		return -EINVAL;
	if (e->file == AZBUSE_FILE_HOLE)
		return write ? -EINVAL : 0;
	if (e->file >= AZBUSE_MAX_FILES)
		return -EINVAL;
	f = azbk_file_get(dev, e->file);
	if (!f)
		return -EBADF;
	rio->iocb.ki_filp = f;
	if (write && !(f->f_mode & FMODE_WRITE))
		return -EBADF;
	size = azbk_file_bytes(f);
	if (e->offset > size || e->len > size - e->offset)
		return -EINVAL;
	/* Two parts of one request on the same bytes: a broken map. */
	for (j = 0; j < i; j++) {
		const struct azbk_rio *o = &cmd->rios[j];

		if (o->file == e->file && o->pos < rio->pos + rio->len &&
		    rio->pos < o->pos + o->len)
			return -EINVAL;
	}
	return 0;
}

/*
 * The most of a block device one bio takes whole, or 0 (no limit here: a
 * regular file's filesystem builds its own bios).  A REQ_NOWAIT bio that
 * its target would have to split fails with EAGAIN (blk-merge), which
 * would send every such extent through the worker.  A page per segment is
 * an estimate: a request of smaller segments may still split, and then
 * takes the worker as before.
 */
static u32 azbk_rio_cap(struct azbk_dev *dev, const struct azbk_rio *rio)
{
	struct request_queue *q;
	struct inode *inode;
	u64 cap;

	if (rio->file == AZBUSE_FILE_HOLE)
		return 0;
	inode = azbk_file_host(rio->iocb.ki_filp);
	if (!S_ISBLK(inode->i_mode))
		return 0;
	q = bdev_get_queue(I_BDEV(inode));
	cap = min_t(u64, (u64)queue_max_sectors(q) << SECTOR_SHIFT,
		    (u64)queue_max_segments(q) << PAGE_SHIFT);
	return round_down(min_t(u64, cap, U32_MAX), dev->info.logical_bs);
}

/*
 * Cuts extents on block devices into pieces of at most azbk_rio_cap(), so
 * each is one bio the target takes with IOCB_NOWAIT from the poller.
 * Without memory for the pieces the extents stay whole (and may go
 * through the worker).
 */
static void azbk_redirect_split(struct azbk_dev *dev, struct azbk_cmd *cmd)
{
	unsigned int i, k = 0, total = 0;
	struct azbk_rio *pieces;

	for (i = 0; i < cmd->nr_rios; i++) {
		u32 cap = azbk_rio_cap(dev, &cmd->rios[i]);

		total += cap && cmd->rios[i].len > cap ?
			 DIV_ROUND_UP(cmd->rios[i].len, cap) : 1;
	}
	if (total == cmd->nr_rios || total > U16_MAX)
		return;
	pieces = kmalloc_array(total, sizeof(*pieces), GFP_NOIO);
	if (!pieces)
		return;
	for (i = 0; i < cmd->nr_rios; i++) {
		const struct azbk_rio *r = &cmd->rios[i];
		u32 cap = azbk_rio_cap(dev, r), off = 0;

		do {
			struct azbk_rio *p = &pieces[k++];
			u32 len = cap ? min(cap, r->len - off) : r->len;

			azbk_rio_init(p, cmd, r->file, r->pos + off, len);
			/* The first piece takes over the extent's reference. */
			p->iocb.ki_filp = r->iocb.ki_filp;
			if (off && p->iocb.ki_filp)
				get_file(p->iocb.ki_filp);
			off += len;
		} while (off < r->len);
	}
	if (cmd->rios != cmd->inline_rios)
		kfree(cmd->rios);
	cmd->rios = pieces;
	cmd->nr_rios = total;
}

/*
 * Takes the runtime's extent list for a claimed request out of its slot
 * (the runtime may rewrite the slot at once) and checks it.  0 or -errno;
 * on success the request is the redirect's, to be issued with
 * azbk_redirect_issue().
 */
int azbk_redirect_prepare(struct azbk_queue *q, struct request *rq,
			 const void *slot, int nr)
{
	struct azbk_dev *dev = q->dev;
	struct azbk_cmd *cmd = azbk_cmd(rq);
	bool write = req_op(rq) == REQ_OP_WRITE;
	u64 left = blk_rq_bytes(rq);
	int i, ret;

	cmd->nr_rios = 0;
	cmd->bvec = NULL;
	cmd->rios = cmd->inline_rios;
	if (!write && req_op(rq) != REQ_OP_READ)
		return -EINVAL;
	if (nr < 1 || nr > AZBUSE_MAX_EXTENTS ||
	    nr * sizeof(struct azbuse_extent) > dev->info.max_io_bytes)
		return -EINVAL;
	if (nr > AZBK_INLINE_RIOS) {
		cmd->rios = kmalloc_array(nr, sizeof(*cmd->rios), GFP_NOIO);
		if (!cmd->rios) {
			cmd->rios = cmd->inline_rios;
			return -ENOMEM;
		}
	}
	for (i = 0; i < nr; i++) {
		struct azbuse_extent e;

		memcpy(&e, slot + i * sizeof(e), sizeof(e));
		ret = azbk_rio_set(dev, cmd, i, &e, write, left);
		if (ret)
			goto fail;
		left -= e.len;
	}
	ret = -EINVAL;
	if (left)
		goto fail;
	azbk_redirect_split(dev, cmd);
	ret = azbk_redirect_iters(cmd, rq);
	if (ret)
		goto fail;
	return 0;
fail:
	azbk_redirect_release(cmd);
	return ret;
}

/* Starts a prepared request's extents; the last to finish ends it. */
void azbk_redirect_issue(struct request *rq)
{
	struct azbk_cmd *cmd = azbk_cmd(rq);
	unsigned int i;

	atomic_set(&cmd->rio_error, 0);
	/* The extra count keeps the request until every extent is issued. */
	atomic_set(&cmd->rio_pending, cmd->nr_rios + 1);
	for (i = 0; i < cmd->nr_rios; i++) {
		struct azbk_rio *rio = &cmd->rios[i];

		if (rio->file == AZBUSE_FILE_HOLE) {
			struct iov_iter iter = rio->iter;

			iov_iter_zero(rio->len, &iter);
			azbk_rio_put(cmd);
		} else if (azbk_file_nowait(rio->iocb.ki_filp)) {
			azbk_rio_issue(rio, true);
		} else {
			azbk_rio_retry(rio);
		}
	}
	azbk_rio_put(cmd);
}

/* A file the device may redirect to.  0 or -errno. */
static int azbk_file_check(struct azbk_dev *dev, struct file *f, u32 flags)
{
	struct inode *inode = azbk_file_host(f);
	struct block_device *bdev = NULL;

	if (S_ISBLK(inode->i_mode))
		bdev = I_BDEV(inode);
	else if (S_ISREG(inode->i_mode))
		bdev = inode->i_sb->s_bdev;
	else
		return -EINVAL;
	if (!(f->f_mode & FMODE_CAN_ODIRECT) || !f->f_op->read_iter ||
	    !f->f_op->write_iter)
		return -EINVAL;
	if (!(f->f_mode & FMODE_READ))
		return -EBADF;
	/* This device, or a file on it: I/O that waits for itself. */
	if (bdev && bdev->bd_disk == dev->disk)
		return -ELOOP;
	/*
	 * Every extent is whole blocks of this device and every page
	 * segment meets this device's alignment: enough for the target if
	 * its own are no larger (loop's rule).
	 */
	if (bdev && (bdev_logical_block_size(bdev) > dev->info.logical_bs ||
		     bdev_dma_alignment(bdev) >
		     queue_dma_alignment(dev->disk->queue)))
		return -EINVAL;
	if (!(dev->info.flags & AZBUSE_DEV_F_READ_ONLY) &&
	    !(flags & AZBUSE_FILE_F_READ_ONLY) && !(f->f_mode & FMODE_WRITE))
		return -EBADF;
	return 0;
}

void azbk_files_put(struct file **old, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr && !old[i]; i++)
		;
	if (i == nr)
		return;
	/* Readers that saw a file took their reference before this. */
	synchronize_rcu();
	for (i = 0; i < nr; i++)
		if (old[i])
			fput(old[i]);
}

long azbk_ioc_set_files(struct azbk_dev *dev, void __user *argp)
{
	struct file *files[AZBUSE_MAX_FILES] = {};
	struct file *old[AZBUSE_MAX_FILES] = {};
	s32 fds[AZBUSE_MAX_FILES];
	struct azbuse_files a;
	unsigned int i;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.size != sizeof(a) || (a.flags & ~AZBUSE_FILE_F_READ_ONLY) ||
	    memchr_inv(a.reserved, 0, sizeof(a.reserved)) ||
	    a.first >= AZBUSE_MAX_FILES || !a.nr ||
	    a.nr > AZBUSE_MAX_FILES - a.first)
		return -EINVAL;
	if (copy_from_user(fds, u64_to_user_ptr(a.fds_ptr),
			   a.nr * sizeof(fds[0])))
		return -EFAULT;
	for (i = 0; i < a.nr; i++) {
		if (fds[i] == -1)
			continue;
		ret = -EBADF;
		files[i] = fds[i] < 0 ? NULL : fget(fds[i]);
		if (!files[i])
			goto fail;
		ret = azbk_file_check(dev, files[i], a.flags);
		if (ret)
			goto fail;
	}

	mutex_lock(&dev->lock);
	if (dev->removing || !dev->disk_added) {
		mutex_unlock(&dev->lock);
		ret = -ENODEV;
		goto fail;
	}
	for (i = 0; i < a.nr; i++) {
		old[i] = rcu_dereference_protected(dev->files[a.first + i],
						   lockdep_is_held(&dev->lock));
		rcu_assign_pointer(dev->files[a.first + i], files[i]);
	}
	mutex_unlock(&dev->lock);
	azbk_files_put(old, a.nr);
	return 0;
fail:
	for (i = 0; i < a.nr; i++)
		if (files[i])
			fput(files[i]);
	return ret;
}

/*
 * Empties every file slot (the runtime closed its char device), with
 * dev->lock held; the caller hands old to azbk_files_put() after unlocking.
 */
void azbk_files_take(struct azbk_dev *dev, struct file **old)
{
	unsigned int i;

	for (i = 0; i < AZBUSE_MAX_FILES; i++)
		old[i] = rcu_replace_pointer(dev->files[i], NULL,
					     lockdep_is_held(&dev->lock));
}
