// SPDX-License-Identifier: GPL-2.0
/*
 * Device lifetime: ADD builds the blk-mq disk, its queues and rings and the
 * runtime's char device; REMOVE tears them down.  The struct azbk_dev itself
 * lives until the last reference (the char device, an open runtime) goes,
 * because the runtime's rings may still be mapped.
 */
#include <linux/idr.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "azb.h"
#include "compat.h"

static DEFINE_IDR(azbk_devs);
static DEFINE_MUTEX(azbk_devs_lock);	/* the idr and ADD/REMOVE */

static const struct block_device_operations azbk_bdev_ops = {
	.owner = THIS_MODULE,
};

/*
 * Discard and write-zeroes limits: defaults for zero fields, and limits the
 * block layer can split requests to (a discard larger than max_discard_bytes
 * would otherwise reach queue_rq).  Block sizes are already checked.
 */
static int azbk_dev_check_discard(struct azbuse_dev_info *info)
{
	u32 lbs = info->logical_bs;

	if (!(info->flags & AZBUSE_DEV_F_DISCARD)) {
		if (info->max_discard_bytes || info->discard_granularity)
			return -EINVAL;
	} else {
		if (!info->discard_granularity)
			info->discard_granularity = info->physical_bs;
		if (!info->max_discard_bytes)
			info->max_discard_bytes = AZBUSE_MAX_DISCARD_BYTES;
		if (!is_power_of_2(info->discard_granularity) ||
		    info->discard_granularity < lbs ||
		    info->max_discard_bytes % lbs ||
		    info->max_discard_bytes < info->discard_granularity ||
		    info->max_discard_bytes < info->physical_bs ||
		    info->max_discard_bytes > AZBUSE_MAX_DISCARD_BYTES)
			return -EINVAL;
	}
	if (!(info->flags & AZBUSE_DEV_F_WRITE_ZEROES))
		return info->max_write_zeroes_bytes ? -EINVAL : 0;
	if (!info->max_write_zeroes_bytes)
		info->max_write_zeroes_bytes = AZBUSE_MAX_WRITE_ZEROES_BYTES;
	if (info->max_write_zeroes_bytes % lbs ||
	    info->max_write_zeroes_bytes > AZBUSE_MAX_WRITE_ZEROES_BYTES)
		return -EINVAL;
	return 0;
}

/*
 * A device size the block layer can hold: a whole number of blocks, and
 * no more bytes than a loff_t (the bdev's size) can count.
 */
bool azbk_dev_size_ok(u64 bytes, u32 logical_bs)
{
	return bytes && !(bytes % logical_bs) && bytes <= (u64)LLONG_MAX;
}

/* Most hardware queues a device may have: one per possible CPU. */
unsigned int azbk_max_queues(void)
{
	return min_t(unsigned int, num_possible_cpus(), AZBUSE_MAX_QUEUES);
}

/* Validates ADD parameters and fills in defaults. */
int azbk_dev_check_params(struct azbuse_dev_info *info)
{
	const u64 known = AZBUSE_DEV_F_READ_ONLY | AZBUSE_DEV_F_ROTATIONAL |
			  AZBUSE_DEV_F_WRITE_CACHE | AZBUSE_DEV_F_RECOVERY |
			  AZBUSE_DEV_F_DISCARD | AZBUSE_DEV_F_WRITE_ZEROES;
	int ret;

	if (info->size != sizeof(*info) || info->__pad2 ||
	    memchr_inv(info->reserved, 0, sizeof(info->reserved)))
		return -EINVAL;
	/* Outputs must come in as zero, so they can become inputs later. */
	if (info->state || info->owner_pid || info->blk_major ||
	    info->blk_minor || info->chr_major || info->chr_minor)
		return -EINVAL;
	if (info->flags & ~known)
		return -EOPNOTSUPP;
	if (info->dev_id != AZBUSE_ID_ANY && info->dev_id > AZBUSE_MAX_DEV_ID)
		return -EINVAL;

	if (!info->logical_bs)
		info->logical_bs = SECTOR_SIZE;
	if (info->logical_bs < SECTOR_SIZE || info->logical_bs > 4096 ||
	    !is_power_of_2(info->logical_bs))
		return -EINVAL;
	if (!info->physical_bs)
		info->physical_bs = info->logical_bs;
	if (info->physical_bs < info->logical_bs ||
	    info->physical_bs > 65536 || !is_power_of_2(info->physical_bs))
		return -EINVAL;

	if (!azbk_dev_size_ok(info->dev_bytes, info->logical_bs))
		return -EINVAL;

	if (!info->max_io_bytes)
		info->max_io_bytes = AZBUSE_DEF_IO_BYTES;
	if (info->max_io_bytes < AZBUSE_MIN_IO_BYTES ||
	    info->max_io_bytes > AZBUSE_MAX_IO_BYTES ||
	    !PAGE_ALIGNED(info->max_io_bytes) ||
	    info->max_io_bytes < info->physical_bs)
		return -EINVAL;

	/*
	 * Possible CPUs, not CPU ids: with sparse ids, queues beyond them
	 * would get no CPUs and no tags from blk-mq.
	 */
	if (!info->nr_queues)
		info->nr_queues = azbk_max_queues();
	if (info->nr_queues > azbk_max_queues() ||
	    info->nr_poll_queues > azbk_max_queues())
		return -EINVAL;
	if (!info->queue_depth)
		info->queue_depth = AZBUSE_DEF_DEPTH;
	if (info->queue_depth > AZBUSE_MAX_DEPTH)
		return -EINVAL;
	if ((u64)info->queue_depth * info->max_io_bytes > AZBUSE_MAX_ARENA_BYTES)
		return -EINVAL;

	ret = azbk_dev_check_discard(info);
	if (ret)
		return ret;

	if (!info->timeout_ms)
		info->timeout_ms = AZBUSE_DEF_TIMEOUT_MS;
	if (info->timeout_ms < AZBUSE_MIN_TIMEOUT_MS ||
	    info->timeout_ms > AZBUSE_MAX_TIMEOUT_MS)
		return -EINVAL;
	if (!(info->flags & AZBUSE_DEV_F_RECOVERY)) {
		if (info->recovery_ms)
			return -EINVAL;
		return 0;
	}
	if (!info->recovery_ms)
		info->recovery_ms = AZBUSE_DEF_RECOVERY_MS;
	if (info->recovery_ms < AZBUSE_MIN_TIMEOUT_MS ||
	    info->recovery_ms > AZBUSE_MAX_TIMEOUT_MS)
		return -EINVAL;
	return 0;
}

void azbk_dev_fill_info(struct azbk_dev *dev, struct azbuse_dev_info *info)
{
	mutex_lock(&dev->lock);
	/* Under the lock: SET_SIZE changes dev_bytes. */
	*info = dev->info;
	if (dev->removing)
		info->state = AZBUSE_STATE_REMOVING;
	else if (dev->held)
		info->state = AZBUSE_STATE_RECOVERING;
	else if (dev->opened)
		info->state = AZBUSE_STATE_LIVE;
	else
		info->state = AZBUSE_STATE_IDLE;
	info->owner_pid = dev->opened ? dev->owner_pid : 0;
	mutex_unlock(&dev->lock);
}

/* Lets held requests go; with no runtime attached they fail with EIO. */
void azbk_dev_release_held(struct azbk_dev *dev)
{
	blk_mq_unquiesce_queue(dev->disk->queue);
	blk_mq_kick_requeue_list(dev->disk->queue);
}

/* No runtime came back within recovery_ms: stop holding I/O. */
static void azbk_dev_grace_expired(struct work_struct *work)
{
	struct azbk_dev *dev = container_of(to_delayed_work(work),
					   struct azbk_dev, grace_work);

	mutex_lock(&dev->lock);
	if (dev->held && !dev->removing) {
		if (time_before(jiffies, dev->held_until)) {
			/*
			 * A run meant for an earlier hold (it was waiting for
			 * the lock while a runtime recovered and died again):
			 * this hold has time left.
			 */
			schedule_delayed_work(&dev->grace_work,
					      dev->held_until - jiffies);
		} else {
			dev->held = false;
			azbk_dev_release_held(dev);
		}
	}
	azbk_dev_state_changed(dev);
	mutex_unlock(&dev->lock);
}

static void azbk_dev_release(struct device *d)
{
	struct azbk_dev *dev = container_of(d, struct azbk_dev, cdev_dev);
	unsigned int i;

	for (i = 0; dev->queues && i < dev->nr_queues; i++)
		azbk_queue_free_ring(&dev->queues[i]);
	kvfree(dev->queues);
	/* Idle: del_gendisk() waited for every redirected request. */
	if (dev->rio_wq)
		destroy_workqueue(dev->rio_wq);
	kfree(dev);
}

/*
 * One struct azbk_queue per hardware queue with a ring, as blk-mq gave the
 * tag set (fewer than asked for in a kdump kernel, which also has no poll
 * map): the default queues, then the poll queues.  nr_queues is set only
 * once the array exists: the release function walks it.
 */
static int azbk_dev_init_queues(struct azbk_dev *dev)
{
	struct azbuse_dev_info *info = &dev->info;
	unsigned int i, nr_default, nr;

	if (dev->set.nr_maps <= HCTX_TYPE_POLL)
		dev->nr_poll_hctx = 0;
	if (dev->nr_poll_hctx != info->nr_poll_queues)
		info->nr_poll_queues = 0;	/* none, or one without a ring */
	nr_default = dev->set.nr_hw_queues - dev->nr_poll_hctx;
	nr = nr_default + info->nr_poll_queues;
	if (azbk_fail_at(AZBK_FAIL_QUEUES))
		return -ENOMEM;
	dev->queues = kvcalloc(nr, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		return -ENOMEM;
	dev->nr_queues = nr;
	info->nr_queues = nr_default;
	for (i = 0; i < dev->nr_queues; i++) {
		struct azbk_queue *q = &dev->queues[i];

		q->dev = dev;
		q->qid = i;
		q->poll = i >= nr_default;
		q->depth = dev->info.queue_depth;
		q->node = NUMA_NO_NODE;
		spin_lock_init(&q->sq_lock);
		mutex_init(&q->lock);
		init_waitqueue_head(&q->wait);
	}
	return 0;
}

/* Rings go on the node blk-mq chose for each hardware queue. */
static int azbk_dev_alloc_rings(struct azbk_dev *dev)
{
	struct blk_mq_hw_ctx *hctx;
	unsigned long i;
	int ret;

	if (azbk_fail_at(AZBK_FAIL_RINGS))
		return -ENOMEM;
	queue_for_each_hw_ctx(dev->disk->queue, hctx, i) {
		struct azbk_queue *q = hctx->driver_data;

		if (!q)
			continue;	/* the ringless poll queue */
		q->node = hctx->numa_node;
		ret = azbk_queue_alloc_ring(q);
		if (ret)
			return ret;
	}
	return 0;
}

static int azbk_dev_init_disk(struct azbk_dev *dev)
{
	struct azbuse_dev_info *info = &dev->info;
	struct azbk_limits lim = {
		.logical_bs = info->logical_bs,
		.physical_bs = info->physical_bs,
		.max_sectors = info->max_io_bytes >> SECTOR_SHIFT,
		.max_discard_sectors = info->max_discard_bytes >> SECTOR_SHIFT,
		.discard_granularity = info->discard_granularity,
		.max_write_zeroes_sectors =
			info->max_write_zeroes_bytes >> SECTOR_SHIFT,
		.write_cache = info->flags & AZBUSE_DEV_F_WRITE_CACHE,
		.rotational = info->flags & AZBUSE_DEV_F_ROTATIONAL,
	};
	struct gendisk *disk;
	int ret;

	dev->nr_poll_hctx = info->nr_poll_queues;
	if (!dev->nr_poll_hctx && AZBK_POLLED_NEEDS_POLL_QUEUE)
		dev->nr_poll_hctx = 1;
	dev->set.ops = &azbk_mq_ops;
	dev->set.nr_hw_queues = info->nr_queues + dev->nr_poll_hctx;
	dev->set.nr_maps = dev->nr_poll_hctx ? HCTX_MAX_TYPES : 1;
	dev->set.queue_depth = info->queue_depth;
	dev->set.numa_node = NUMA_NO_NODE;
	dev->set.cmd_size = sizeof(struct azbk_cmd);
	/*
	 * No I/O scheduler unless the admin picks one, as for loop: the
	 * engine (a file, NVMe, a network export) orders I/O itself, and
	 * with one hardware queue the kernel's default, mq-deadline, makes
	 * blk-mq insert every unplugged request and dispatch it from a
	 * kblockd worker, which preempts the submitter on every request
	 * (docs/design.md, Device lifetime).
	 */
	dev->set.flags = AZBK_MQ_F_SHOULD_MERGE | BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	dev->set.timeout = msecs_to_jiffies(info->timeout_ms);
	dev->set.driver_data = dev;
	ret = blk_mq_alloc_tag_set(&dev->set);
	if (ret)
		return ret;
	ret = azbk_dev_init_queues(dev);
	if (ret)
		goto free_set;

	disk = azbk_alloc_disk(&dev->set, &lim, dev);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_set;
	}
	dev->disk = disk;
	ret = azbk_dev_alloc_rings(dev);
	if (ret)
		goto put_disk;

	disk->major = azbk_blk_major;
	disk->first_minor = dev->id << AZBK_PART_SHIFT;
	disk->minors = 1 << AZBK_PART_SHIFT;
	disk->fops = &azbk_bdev_ops;
	disk->private_data = dev;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "%s%u",
		 AZBUSE_BLK_DEV_NAME, dev->id);
	set_capacity(disk, info->dev_bytes >> SECTOR_SHIFT);
	set_disk_ro(disk, info->flags & AZBUSE_DEV_F_READ_ONLY);
	return 0;

put_disk:
	put_disk(disk);
	dev->disk = NULL;
free_set:
	blk_mq_free_tag_set(&dev->set);
	return ret;
}

static void azbk_dev_free_disk(struct azbk_dev *dev)
{
	put_disk(dev->disk);
	dev->disk = NULL;
	blk_mq_free_tag_set(&dev->set);
}

int azbk_dev_add(struct azbuse_dev_info *info)
{
	struct azbk_dev *dev;
	int ret, id;

	ret = azbk_dev_check_params(info);
	if (ret)
		return ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->lock);
	INIT_DELAYED_WORK(&dev->grace_work, azbk_dev_grace_expired);
	dev->info = *info;

	mutex_lock(&azbk_devs_lock);
	if (info->dev_id == AZBUSE_ID_ANY)
		id = idr_alloc(&azbk_devs, dev, 0, AZBUSE_MAX_DEV_ID + 1,
			       GFP_KERNEL);
	else
		id = idr_alloc(&azbk_devs, dev, info->dev_id, info->dev_id + 1,
			       GFP_KERNEL);
	if (id < 0) {
		ret = id == -ENOSPC && info->dev_id != AZBUSE_ID_ANY ?
		      -EEXIST : id;
		mutex_unlock(&azbk_devs_lock);
		kfree(dev);
		return ret;
	}
	dev->id = id;
	dev->info.dev_id = id;

	/* From here the device's refcount frees it. */
	device_initialize(&dev->cdev_dev);
	dev->cdev_dev.class = &azbk_chr_class;
	dev->cdev_dev.devt = MKDEV(MAJOR(azbk_chr_base), id);
	dev->cdev_dev.release = azbk_dev_release;
	ret = dev_set_name(&dev->cdev_dev, "%s%u", AZBUSE_CHR_DEV_NAME, id);
	if (ret)
		goto put_dev;
	/* Redirected I/O that would block the poller; reclaim may need it. */
	dev->rio_wq = alloc_workqueue("azbuse%u_rio",
				      WQ_UNBOUND | WQ_MEM_RECLAIM, 0, id);
	if (!dev->rio_wq) {
		ret = -ENOMEM;
		goto put_dev;
	}
	ret = azbk_dev_init_disk(dev);
	if (ret)
		goto put_dev;

	cdev_init(&dev->cdev, &azbk_chr_fops);
	dev->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&dev->cdev, &dev->cdev_dev);
	if (ret)
		goto free_disk;

	/*
	 * No runtime serves the device yet, so a partition scan now would only
	 * read errors.  Suppress it for add_disk() alone: once served, the
	 * usual BLKRRPART (partprobe, blockdev --rereadpt) works.
	 */
	set_bit(GD_SUPPRESS_PART_SCAN, &dev->disk->state);
	ret = azbk_fail_at(AZBK_FAIL_DISK) ? -ENOMEM :
	      device_add_disk(NULL, dev->disk, azbk_disk_groups);
	clear_bit(GD_SUPPRESS_PART_SCAN, &dev->disk->state);
	if (ret)
		goto del_cdev;
	mutex_lock(&dev->lock);	/* the char device is open to runtimes */
	dev->disk_added = true;
	mutex_unlock(&dev->lock);

	dev->info.blk_major = azbk_blk_major;
	dev->info.blk_minor = dev->disk->first_minor;
	dev->info.chr_major = MAJOR(dev->cdev_dev.devt);
	dev->info.chr_minor = MINOR(dev->cdev_dev.devt);
	/* Under the lock: a REMOVE of this id may free dev once it drops. */
	azbk_dev_fill_info(dev, info);
	mutex_unlock(&azbk_devs_lock);
	return 0;

del_cdev:
	cdev_device_del(&dev->cdev, &dev->cdev_dev);
free_disk:
	azbk_dev_free_disk(dev);
put_dev:
	idr_remove(&azbk_devs, id);
	mutex_unlock(&azbk_devs_lock);
	put_device(&dev->cdev_dev);
	return ret;
}

/*
 * Tears a device down, the caller having taken it out of the idr.  The
 * runtime, if attached, keeps serving while del_gendisk() drains the queue,
 * so writeback and in-flight I/O complete; then the rings are marked dead
 * and the runtime's pollers see ENODEV.
 */
static void azbk_dev_destroy(struct azbk_dev *dev)
{
	unsigned int i;
	bool held;

	mutex_lock(&dev->lock);
	dev->removing = true;
	held = dev->held;
	dev->held = false;
	azbk_dev_state_changed(dev);
	mutex_unlock(&dev->lock);
	/* Held requests fail now: del_gendisk() waits for every request. */
	cancel_delayed_work_sync(&dev->grace_work);
	if (held)
		azbk_dev_release_held(dev);

	del_gendisk(dev->disk);

	mutex_lock(&dev->lock);
	for (i = 0; i < dev->nr_queues; i++) {
		struct azbk_queue *q = &dev->queues[i];

		mutex_lock(&q->lock);
		azbk_queue_detach(q);
		mutex_unlock(&q->lock);
	}
	dev->disk_added = false;
	mutex_unlock(&dev->lock);

	cdev_device_del(&dev->cdev, &dev->cdev_dev);
	azbk_dev_free_disk(dev);
	put_device(&dev->cdev_dev);
}

int azbk_dev_remove(u32 id)
{
	struct azbk_dev *dev;

	mutex_lock(&azbk_devs_lock);
	dev = idr_find(&azbk_devs, id);
	if (dev)
		idr_remove(&azbk_devs, id);
	mutex_unlock(&azbk_devs_lock);
	if (!dev)
		return -ENODEV;
	azbk_dev_destroy(dev);
	return 0;
}

void azbk_dev_remove_all(void)
{
	struct azbk_dev *dev;
	int id;

	for (;;) {
		mutex_lock(&azbk_devs_lock);
		id = 0;
		dev = idr_get_next(&azbk_devs, &id);
		if (dev)
			idr_remove(&azbk_devs, id);
		mutex_unlock(&azbk_devs_lock);
		if (!dev)
			break;
		azbk_dev_destroy(dev);
	}
	idr_destroy(&azbk_devs);
}

int azbk_dev_get_info(u32 id, struct azbuse_dev_info *info)
{
	struct azbk_dev *dev;

	mutex_lock(&azbk_devs_lock);
	dev = idr_find(&azbk_devs, id);
	if (dev)
		azbk_dev_fill_info(dev, info);
	mutex_unlock(&azbk_devs_lock);
	return dev ? 0 : -ENODEV;
}

/*
 * Fills ids (a kernel buffer of capacity entries) with the devices' ids;
 * the caller copies them out after the lock is dropped.
 */
u32 azbk_dev_list(u32 *ids, u32 capacity)
{
	struct azbk_dev *dev;
	u32 n = 0;
	int id;

	mutex_lock(&azbk_devs_lock);
	idr_for_each_entry(&azbk_devs, dev, id) {
		if (n < capacity)
			ids[n] = id;
		n++;
	}
	mutex_unlock(&azbk_devs_lock);
	return n;
}
