// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/azbusecN: the runtime's side of a device.  One opener at a time; it
 * maps each queue's ring, attaches each queue with its data arena, and
 * commits completions (optionally waiting for work) with one ioctl per
 * batch.  Closing it, or the runtime dying, fails everything it held
 * (or, for a recovery device, holds it for the next runtime).
 */
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "azb.h"
#include "compat.h"

static int azbk_chr_open(struct inode *inode, struct file *file)
{
	struct azbk_dev *dev = container_of(inode->i_cdev, struct azbk_dev, cdev);
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&dev->lock);
	if (dev->removing)
		ret = -ENODEV;
	else if (dev->opened)
		ret = -EBUSY;
	if (!ret) {
		dev->opened = true;
		dev->owner_pid = task_tgid_vnr(current);
		get_device(&dev->cdev_dev);
		file->private_data = dev;
	}
	mutex_unlock(&dev->lock);
	return ret;
}

/*
 * The runtime is gone: stop queue_rq from touching the rings, fail what it
 * held, and let new I/O fail fast until another runtime attaches.  A
 * recovery device whose runtime had attached instead requeues what the
 * runtime held and stays quiesced until a new runtime attaches every queue
 * or the grace period ends.  An opener that never attached (a runtime that
 * failed to start) starts no hold and leaves one already running alone.
 */
static int azbk_chr_release(struct inode *inode, struct file *file)
{
	struct file *old_files[AZBUSE_MAX_FILES];
	struct azbk_dev *dev = file->private_data;
	bool served = false;
	unsigned int i;

	mutex_lock(&dev->lock);
	if (dev->disk_added)
		blk_mq_quiesce_queue(dev->disk->queue);
	for (i = 0; i < dev->nr_queues; i++) {
		struct azbk_queue *q = &dev->queues[i];

		mutex_lock(&q->lock);
		served |= q->attached;
		WRITE_ONCE(q->attached, false);
		/* Now, while quiesced: commit_rqs may run once unquiesced. */
		azbk_queue_put_wake(q);
		mutex_unlock(&q->lock);
	}
	dev->nr_attached = 0;
	if (dev->disk_added && (dev->info.flags & AZBUSE_DEV_F_RECOVERY) &&
	    !dev->removing && served) {
		/* Stay quiesced: requests wait for the next runtime. */
		azbk_dev_requeue_inflight(dev);
		if (!dev->held) {
			dev->held = true;
			dev->held_until = jiffies +
				msecs_to_jiffies(dev->info.recovery_ms);
			mod_delayed_work(system_wq, &dev->grace_work,
					 msecs_to_jiffies(dev->info.recovery_ms));
		} else {
			/* Already held: the first quiesce still stands. */
			blk_mq_unquiesce_queue(dev->disk->queue);
		}
	} else if (dev->disk_added) {
		azbk_dev_abort_inflight(dev);
		blk_mq_unquiesce_queue(dev->disk->queue);
	}
	/* Only now: aborting needs no arena, but queue_rq might have. */
	for (i = 0; i < dev->nr_queues; i++) {
		struct azbk_queue *q = &dev->queues[i];

		mutex_lock(&q->lock);
		azbk_queue_detach(q);
		mutex_unlock(&q->lock);
	}
	/* Before the next opener can register its own. */
	azbk_files_take(dev, old_files);
	dev->opened = false;
	dev->owner_pid = 0;
	dev->label[0] = '\0';
	dev->serial[0] = '\0';
	azbk_dev_state_changed(dev);
	mutex_unlock(&dev->lock);
	/* Requests redirected to them hold their own references. */
	azbk_files_put(old_files, AZBUSE_MAX_FILES);
	put_device(&dev->cdev_dev);
	return 0;
}

/* A queue the runtime may use: it exists and blk-mq gave it a context. */
static struct azbk_queue *azbk_chr_queue(struct azbk_dev *dev, unsigned int qid)
{
	struct azbk_queue *q;

	if (qid >= dev->nr_queues)
		return NULL;
	q = &dev->queues[qid];
	return q->hctx && q->ring ? q : NULL;
}

static int azbk_chr_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct azbk_dev *dev = file->private_data;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long qid = off >> AZBUSE_RING_OFFSET_SHIFT;
	struct azbk_queue *q;
	unsigned int i;
	int ret;

	/* An fd handed to an unprivileged process does not hand over rings. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (vma->vm_pgoff > (ULONG_MAX >> PAGE_SHIFT) ||
	    off != AZBUSE_RING_OFFSET(qid))
		return -EINVAL;
	q = azbk_chr_queue(dev, qid);
	if (!q || len != q->ring_bytes)
		return -EINVAL;
	/* Both sides must see the same pages: a private copy breaks that. */
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;

	/*
	 * A fork()ed child must not inherit the rings: its copy would keep
	 * the char device open, and the runtime's death would go unseen.
	 */
	azbk_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY);
	azbk_vm_flags_clear(vma, VM_MAYEXEC);
	for (i = 0; i < q->ring_nr_pages; i++) {
		ret = vm_insert_page(vma, vma->vm_start + i * PAGE_SIZE,
				     q->ring_pages[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Writes the CPUs blk-mq maps to q as __u64 words, so the runtime can run
 * the queue's poller next to its submitters.  The hctx lives as long as
 * the disk, which dev->lock keeps while disk_added.
 */
static long azbk_copy_queue_cpus(struct azbk_dev *dev, struct azbk_queue *q,
				u64 __user *dst, u32 bytes)
{
	unsigned int words = DIV_ROUND_UP(nr_cpu_ids, 64);
	long ret = 0;
	u64 *buf;

	if (bytes % sizeof(u64))
		return -EINVAL;
	if (bytes / sizeof(u64) < words)
		return -EOVERFLOW;
	buf = kcalloc(words, sizeof(u64), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&dev->lock);
	if (!dev->disk_added || dev->removing)
		ret = -ENODEV;
	else
		bitmap_to_arr64(buf, cpumask_bits(q->hctx->cpumask),
				nr_cpu_ids);
	mutex_unlock(&dev->lock);
	if (!ret && copy_to_user(dst, buf, words * sizeof(u64)))
		ret = -EFAULT;
	kfree(buf);
	return ret;
}

static long azbk_ioc_queue_info(struct azbk_dev *dev, void __user *argp)
{
	struct azbuse_queue_info qi;
	struct azbk_queue *q;
	u64 cpus_ptr;
	u32 cpus_bytes;
	long ret;

	if (copy_from_user(&qi, argp, sizeof(qi)))
		return -EFAULT;
	if (qi.size != sizeof(qi) || qi.flags || qi.__pad2 ||
	    memchr_inv(qi.reserved, 0, sizeof(qi.reserved)))
		return -EINVAL;
	q = azbk_chr_queue(dev, qi.qid);
	if (!q)
		return -EINVAL;
	cpus_ptr = qi.cpus_ptr;
	cpus_bytes = qi.cpus_bytes;
	if (cpus_ptr) {
		ret = azbk_copy_queue_cpus(dev, q, u64_to_user_ptr(cpus_ptr),
					  cpus_bytes);
		if (ret)
			return ret;
	}
	qi = (struct azbuse_queue_info) {
		.size = sizeof(qi),
		.qid = q->qid,
		.depth = q->depth,
		.sq_entries = q->entries,
		.cq_entries = q->entries,
		.sq_off = q->sq_off,
		.cq_off = q->cq_off,
		.ring_bytes = q->ring_bytes,
		.mmap_offset = AZBUSE_RING_OFFSET(q->qid),
		.max_io_bytes = dev->info.max_io_bytes,
		.numa_node = q->node,
		.arena_bytes = (u64)q->depth * dev->info.max_io_bytes,
		.cpus_ptr = cpus_ptr,
		.cpus_bytes = cpus_bytes,
		.flags = q->poll ? AZBUSE_QUEUE_F_POLL : 0,
		.nr_cpus = nr_cpu_ids,
	};
	return copy_to_user(argp, &qi, sizeof(qi)) ? -EFAULT : 0;
}

static long azbk_ioc_attach(struct azbk_dev *dev, void __user *argp)
{
	struct azbuse_queue_attach a;
	struct azbk_arena arena;
	struct azbk_queue *q;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.size != sizeof(a) || a.__pad ||
	    (a.flags & ~(AZBUSE_ATTACH_WAKE_FD | AZBUSE_ATTACH_REDIRECT)) ||
	    (!(a.flags & AZBUSE_ATTACH_WAKE_FD) && a.wake_fd) ||
	    memchr_inv(a.reserved, 0, sizeof(a.reserved)))
		return -EINVAL;
	if ((a.flags & AZBUSE_ATTACH_WAKE_FD) && a.wake_fd < 0)
		return -EBADF;
	q = azbk_chr_queue(dev, a.qid);
	if (!q)
		return -EINVAL;

	/*
	 * Pinning up to 1 GiB (which may fault, even on this very disk)
	 * happens before any lock: I/O on other queues, the recovery grace
	 * timer and control operations never wait for it.
	 */
	ret = azbk_arena_get(q, &arena, a.arena_addr, a.arena_bytes,
			    a.flags & AZBUSE_ATTACH_WAKE_FD ? a.wake_fd : -1);
	if (ret)
		return ret;

	mutex_lock(&dev->lock);
	if (dev->removing || !dev->disk_added) {
		ret = -ENODEV;
	} else {
		mutex_lock(&q->lock);
		ret = azbk_queue_attach(q, &arena,
				       a.flags & AZBUSE_ATTACH_REDIRECT);
		mutex_unlock(&q->lock);
	}
	if (!ret && ++dev->nr_attached == dev->nr_queues && dev->held) {
		/* Recovered: the held requests go to the new runtime. */
		dev->held = false;
		cancel_delayed_work(&dev->grace_work);
		azbk_dev_release_held(dev);
	}
	azbk_dev_state_changed(dev);
	mutex_unlock(&dev->lock);
	azbk_arena_put(&arena);	/* what attach did not take */
	return ret;
}

static long azbk_ioc_commit(struct azbk_dev *dev, void __user *argp)
{
	DEFINE_IO_COMP_BATCH(iob);
	struct azbuse_commit c;
	struct azbk_queue *q;
	long timeout;
	int ret;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~AZBUSE_COMMIT_WAIT)
		return -EINVAL;
	q = azbk_chr_queue(dev, c.qid);
	if (!q)
		return -EINVAL;

	mutex_lock(&q->lock);
	if (!q->attached) {
		mutex_unlock(&q->lock);
		return -ENODEV;
	}
	ret = azbk_queue_reap(q, false, &iob);
	mutex_unlock(&q->lock);
	/* Their slots are back; only blk-mq's tags and the bios remain. */
	if (iob.complete)	/* set by the first request batched */
		iob.complete(&iob);
	if (ret < 0 || !(c.flags & AZBUSE_COMMIT_WAIT))
		return ret;

	timeout = c.wait_ms ? msecs_to_jiffies(c.wait_ms) : MAX_SCHEDULE_TIMEOUT;
	/*
	 * Outside q->lock, so detach may run meanwhile: the flag updates are
	 * atomic and never touch DEAD, and the ring pages live as long as
	 * the device, which this open file holds.
	 */
	azbk_ring_set_flag(q, AZBUSE_RING_NEED_WAKEUP);
	/* The wait-queue barrier pairs with azbk_queue_kick()'s sleeper check. */
	wait_event_interruptible_timeout(q->wait,
					 azbk_queue_has_work(q) ||
					 !READ_ONCE(q->attached), timeout);
	azbk_ring_clear_flag(q, AZBUSE_RING_NEED_WAKEUP);
	if (!READ_ONCE(q->attached))
		return -ENODEV;
	return ret;
}

static long azbk_ioc_set_size(struct azbk_dev *dev, void __user *argp)
{
	struct azbuse_set_size ss;
	long ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&ss, argp, sizeof(ss)))
		return -EFAULT;
	if (ss.size != sizeof(ss) || ss.__pad ||
	    memchr_inv(ss.reserved, 0, sizeof(ss.reserved)))
		return -EINVAL;
	/* The bounds ADD applies. */
	if (!azbk_dev_size_ok(ss.dev_bytes, dev->info.logical_bs))
		return -EINVAL;

	mutex_lock(&dev->lock);
	if (dev->removing || !dev->disk_added) {
		ret = -ENODEV;
	} else if (ss.dev_bytes != dev->info.dev_bytes) {
		dev->info.dev_bytes = ss.dev_bytes;
		set_capacity_and_notify(dev->disk, ss.dev_bytes >> SECTOR_SHIFT);
	}
	mutex_unlock(&dev->lock);
	return ret;
}

static long azbk_chr_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct azbk_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;
	struct azbuse_dev_info info;

	switch (cmd) {
	case AZBUSE_IOC_COMMIT:
		return azbk_ioc_commit(dev, argp);
	case AZBUSE_IOC_GET_QUEUE_INFO:
		return azbk_ioc_queue_info(dev, argp);
	case AZBUSE_IOC_ATTACH_QUEUE:
		return azbk_ioc_attach(dev, argp);
	case AZBUSE_IOC_SET_FILES:
		return azbk_ioc_set_files(dev, argp);
	case AZBUSE_IOC_SET_SIZE:
		return azbk_ioc_set_size(dev, argp);
	case AZBUSE_IOC_SET_LABEL:
		return azbk_ioc_set_label(dev, argp);
	case AZBUSE_IOC_GET_INFO:
		if (copy_from_user(&info, argp, sizeof(info)))
			return -EFAULT;
		if (info.size != sizeof(info))
			return -EINVAL;
		azbk_dev_fill_info(dev, &info);
		return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

const struct file_operations azbk_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= azbk_chr_open,
	.release	= azbk_chr_release,
	.mmap		= azbk_chr_mmap,
	.unlocked_ioctl	= azbk_chr_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
