/* SPDX-License-Identifier: GPL-2.0 */
/* azbuse.ko internals: one device, its queues and their rings. */
#ifndef AZB_H
#define AZB_H

#include <linux/blk-mq.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/azbuse.h>

#define AZB_PART_SHIFT	4	/* 15 partitions per device */

/*
 * Per-request state, in the blk-mq PDU.  owner holds the generation number
 * published in the SQE while the runtime owns the request, 0 otherwise.
 * Whoever moves it from that number to 0 (completion, timeout or abort)
 * alone ends the request, and a stale CQE for a reused tag cannot match.
 */
struct azb_cmd {
	atomic_t	owner;
	blk_status_t	status;
};

struct azb_dev;

/* One hardware queue and its ring. */
struct azb_queue {
	struct azb_dev		*dev;
	struct blk_mq_hw_ctx	*hctx;
	unsigned int		qid;
	unsigned int		depth;
	int			node;

	/* The ring: pages vmapped for the kernel, inserted into the mmap. */
	struct page		**ring_pages;
	unsigned int		ring_nr_pages;
	void			*ring;
	struct azbuse_ring_hdr	*hdr;
	struct azbuse_sqe	*sq;
	struct azbuse_cqe	*cq;
	u32			entries;	/* SQ and CQ, power of two */
	u32			sq_off, cq_off, ring_bytes;

	/* Producer side (queue_rq); private copies never trust user memory. */
	spinlock_t		sq_lock;
	u32			sq_tail;
	u32			gen;

	/* Consumer side (COMMIT) and attach state. */
	struct mutex		lock;
	u32			cq_head;
	bool			attached;	/* read locklessly by queue_rq */
	struct page		**arena_pages;
	unsigned long		arena_nr_pages;
	void			*arena;		/* vmap of the pinned arena */

	wait_queue_head_t	wait;
	/* The runtime's wake_fd, or NULL; set and cleared with queue_rq quiesced. */
	struct eventfd_ctx	*wake;
};

struct azb_dev {
	struct device		cdev_dev;	/* refcount: frees the device */
	struct cdev		cdev;
	u32			id;
	struct azbuse_dev_info	info;		/* parameters as applied */

	struct blk_mq_tag_set	set;
	struct gendisk		*disk;
	bool			disk_added;

	/* Serializes open/release/attach/remove of this device. */
	struct mutex		lock;
	bool			opened;
	pid_t			owner_pid;
	bool			removing;
	/*
	 * Recovery: the runtime died, the queue is quiesced with its requests
	 * requeued, until every queue is attached again or grace_work fires.
	 */
	bool			held;
	unsigned int		nr_attached;
	struct delayed_work	grace_work;

	unsigned int		nr_queues;
	struct azb_queue	*queues;
};

/* main.c */
extern int azb_blk_major;
extern dev_t azb_chr_base;
extern struct class azb_chr_class;

/* dev.c */
int azb_dev_add(struct azbuse_dev_info *info);
int azb_dev_remove(u32 id);
int azb_dev_get_info(u32 id, struct azbuse_dev_info *info);
int azb_dev_list(u32 __user *ids, u32 capacity, u32 *count);
void azb_dev_remove_all(void);
void azb_dev_fill_info(struct azb_dev *dev, struct azbuse_dev_info *info);
void azb_dev_release_held(struct azb_dev *dev);
int azb_dev_check_params(struct azbuse_dev_info *info);

/* queue.c */
extern const struct blk_mq_ops azb_mq_ops;
int azb_queue_alloc_ring(struct azb_queue *q);
void azb_queue_free_ring(struct azb_queue *q);
int azb_queue_attach(struct azb_queue *q, u64 addr, u64 bytes, int wake_fd);
void azb_queue_put_wake(struct azb_queue *q);
void azb_queue_detach(struct azb_queue *q);
int azb_queue_reap(struct azb_queue *q);
bool azb_queue_has_work(struct azb_queue *q);
void azb_dev_abort_inflight(struct azb_dev *dev);
void azb_dev_requeue_inflight(struct azb_dev *dev);

/* chardev.c */
extern const struct file_operations azb_chr_fops;

/* ctl.c */
int azb_ctl_init(void);
void azb_ctl_exit(void);

#endif /* AZB_H */
