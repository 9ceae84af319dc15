/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between 6.1, 6.12 and 7.2, in one place, so
 * the driver reads as one version.
 */
#ifndef AZBK_COMPAT_H
#define AZBK_COMPAT_H

#include <linux/version.h>
#include <linux/blk-mq.h>
#include <linux/mm.h>

struct azbk_limits {
	unsigned int logical_bs;
	unsigned int physical_bs;
	unsigned int max_sectors;
	unsigned int max_discard_sectors;	/* 0: no discard */
	unsigned int discard_granularity;	/* bytes */
	unsigned int max_write_zeroes_sectors;	/* 0: no write-zeroes */
	bool write_cache;
	bool rotational;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
/* Limits and features are fixed when the disk is allocated. */
static inline struct gendisk *azbk_alloc_disk(struct blk_mq_tag_set *set,
					     const struct azbk_limits *l,
					     void *data)
{
	struct queue_limits lim = {
		.logical_block_size = l->logical_bs,
		.physical_block_size = l->physical_bs,
		.io_min = l->physical_bs,
		.max_hw_sectors = l->max_sectors,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.discard_granularity = l->discard_granularity,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
	};

	if (l->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
	if (l->rotational)
		lim.features |= BLK_FEAT_ROTATIONAL;
	return blk_mq_alloc_disk(set, &lim, data);
}
#else
static inline struct gendisk *azbk_alloc_disk(struct blk_mq_tag_set *set,
					     const struct azbk_limits *l,
					     void *data)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, data);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_bs);
	blk_queue_physical_block_size(q, l->physical_bs);
	blk_queue_io_min(q, l->physical_bs);
	blk_queue_max_hw_sectors(q, l->max_sectors);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	q->limits.discard_granularity = l->discard_granularity;
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	blk_queue_write_cache(q, l->write_cache, l->write_cache);
	if (!l->rotational)
		blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return disk;
}
#endif

/*
 * From 6.11 a polled bio on a device without a poll queue fails with
 * EOPNOTSUPP (blk_mq_can_poll()); 6.1 serves it as ordinary I/O.
 */
#define AZBK_POLLED_NEEDS_POLL_QUEUE \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0))

/*
 * 6.14 made merging the default and removed the flag that asked for it
 * (an enum constant, so it cannot be tested with #ifdef).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define AZBK_MQ_F_SHOULD_MERGE		0
#else
#define AZBK_MQ_F_SHOULD_MERGE		BLK_MQ_F_SHOULD_MERGE
#endif

/* eventfd_signal() lost its count argument in 6.8. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define azbk_eventfd_signal(ctx)		eventfd_signal(ctx)
#else
#define azbk_eventfd_signal(ctx)		eventfd_signal(ctx, 1)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define azbk_vm_flags_set(vma, f)	vm_flags_set(vma, f)
#define azbk_vm_flags_clear(vma, f)	vm_flags_clear(vma, f)
#else
#define azbk_vm_flags_set(vma, f)	((vma)->vm_flags |= (f))
#define azbk_vm_flags_clear(vma, f)	((vma)->vm_flags &= ~(f))
#endif

#endif /* AZBK_COMPAT_H */
