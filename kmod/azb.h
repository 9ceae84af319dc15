/* SPDX-License-Identifier: GPL-2.0 */
/* azbuse.ko internals: one device, its queues and their rings. */
#ifndef AZBK_H
#define AZBK_H

#include <linux/blk-mq.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/azbuse.h>

#define AZBK_PART_SHIFT	4	/* 15 partitions per device */

struct azbk_cmd;

/*
 * One extent of a redirected request: direct I/O between part of the
 * request's pages and a registered file (redirect.c).
 */
struct azbk_rio {
	struct kiocb		iocb;		/* ki_filp holds a reference */
	struct iov_iter		iter;		/* this extent's pages */
	struct azbk_cmd		*cmd;
	struct work_struct	work;		/* issues it again, blocking */
	loff_t			pos;
	u32			len;
	u32			file;		/* slot, or AZBUSE_FILE_HOLE */
	bool			nowait;		/* issued with IOCB_NOWAIT */
	bool			sb_held;	/* freeze protection taken */
};

/* Extents a request carries without an allocation. */
#define AZBK_INLINE_RIOS	2

/*
 * Per-request state, in the blk-mq PDU: which arena slot the request was
 * given and the generation it was published with (0 until it is); for a
 * redirected request, its extents' I/O.
 */
struct azbk_cmd {
	struct azbk_queue *q;		/* whose ring and slot it has */
	u32		gen;
	u16		slot;
	blk_status_t	status;
	bool		nodata;		/* a WRITE published without its data */

	/* Redirect: extents in flight (+1 while they are issued). */
	atomic_t	rio_pending;
	atomic_t	rio_error;	/* first -errno, or 0 */
	u16		nr_rios;
	struct azbk_rio	*rios;		/* inline_rios or allocated */
	struct bio_vec	*bvec;		/* allocated for a multi-bio request */
	struct azbk_rio	inline_rios[AZBK_INLINE_RIOS];
};

/*
 * An arena slot.  The kernel, not blk-mq, owns the slots: a request ended
 * while the runtime still holds its slot (timeout, abort) leaves the slot
 * with the runtime until the runtime answers for it, so a reused tag never
 * shares bytes with a request the runtime is still reading or writing.
 *
 * owner is 0 while the slot is free or in the kernel's hands (see the
 * queue's slot_map), the SQE's generation while the runtime owns it for a
 * live request, and generation | AZBK_SLOT_ORPHAN once that request was
 * ended without it.  Whoever moves it away from a live generation with
 * cmpxchg alone ends the request; rq is read only after that.
 */
#define AZBK_SLOT_ORPHAN	(1U << 31)	/* generations use the low 31 bits */

struct azbk_slot {
	atomic_t	owner;
	struct request	*rq;
};

struct azbk_dev;

static inline struct azbk_cmd *azbk_cmd(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

/* A queue's pinned arena and the runtime's wake_fd, as ATTACH sets them up. */
struct azbk_arena {
	struct page		**pages;
	unsigned long		nr_pages;
	void			*addr;		/* vmap of the pinned pages */
	struct mm_struct	*mm;		/* charged for the pinned pages */
	struct eventfd_ctx	*wake;
};

/* One hardware queue and its ring. */
struct azbk_queue {
	struct azbk_dev		*dev;
	struct blk_mq_hw_ctx	*hctx;
	unsigned int		qid;
	unsigned int		depth;
	int			node;
	bool			poll;		/* a poll queue (HCTX_TYPE_POLL) */
	/*
	 * Poll queue: requests ended other than by .poll (COMMIT, timeout,
	 * redirect), for .poll to report so a polling submitter stops.
	 */
	atomic_t		done_elsewhere;

	/* The ring: pages vmapped for the kernel, inserted into the mmap. */
	struct page		**ring_pages;
	unsigned int		ring_nr_pages;
	void			*ring;
	struct azbuse_ring_hdr	*hdr;
	struct azbuse_sqe	*sq;
	struct azbuse_cqe	*cq;
	u32			entries;	/* SQ and CQ, power of two */
	u32			sq_off, cq_off, ring_bytes;

	/* Arena slots: depth of them, a bit set in slot_map while in use. */
	struct azbk_slot		*slots;
	unsigned long		*slot_map;
	atomic_t		nr_orphans;

	/* Producer side (queue_rq); private copies never trust user memory. */
	spinlock_t		sq_lock ____cacheline_aligned_in_smp;
	u32			sq_tail;
	u32			gen;

	/* Consumer side (COMMIT) and attach state. */
	struct mutex		lock ____cacheline_aligned_in_smp;
	u32			cq_head;
	bool			attached;	/* read locklessly by queue_rq */
	/* Set while attached; queue_rq reads them only after attached. */
	struct azbk_arena	arena;
	bool			nodata_writes;	/* AZBUSE_ATTACH_REDIRECT */

	wait_queue_head_t	wait;
};

/* What /sys/block/azbuseN/azbuse/state says (sysfs.c). */
enum azbk_state {
	AZBK_UNSERVED,
	AZBK_SERVING,
	AZBK_RECOVERING,
	AZBK_REMOVING,
};

struct azbk_dev {
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
	unsigned long		held_until;	/* jiffies: the hold ends */
	unsigned int		nr_attached;
	struct delayed_work	grace_work;

	/* Default queues then poll queues, each with a ring. */
	unsigned int		nr_queues;
	struct azbk_queue	*queues;
	/*
	 * Hardware queues of the poll map: info.nr_poll_queues, or 1 without
	 * a ring where the block layer refuses polled I/O on a device without
	 * a poll queue: its requests go to the submitting CPU's default queue.
	 */
	unsigned int		nr_poll_hctx;

	/*
	 * Files the runtime's redirects name (AZBUSE_IOC_SET_FILES), read
	 * under RCU; a slot is emptied, then a grace period passes, then its
	 * reference is dropped, so a reader's get_file() always finds one.
	 * Changed under lock.
	 */
	struct file __rcu	*files[AZBUSE_MAX_FILES];
	/* Issues extents that would block the poller (redirect.c). */
	struct workqueue_struct	*rio_wq;

	/* What sysfs shows (sysfs.c); under lock. */
	enum azbk_state		last_state;	/* as last told to udev */
	char			label[AZBUSE_LABEL_LEN];
	char			serial[AZBUSE_SERIAL_LEN];
};

/* main.c */
/*
 * Test hook (module parameter fail_add): the ADD steps named by these bits
 * fail with ENOMEM, so the tests reach every unwind path.  0 in use.
 */
#define AZBK_FAIL_QUEUES	(1U << 0)
#define AZBK_FAIL_RINGS	(1U << 1)
#define AZBK_FAIL_DISK	(1U << 2)
extern unsigned int azbk_fail_add;

static inline bool azbk_fail_at(unsigned int step)
{
	return READ_ONCE(azbk_fail_add) & step;
}

extern int azbk_blk_major;
extern dev_t azbk_chr_base;
extern struct class azbk_chr_class;

/* dev.c */
int azbk_dev_add(struct azbuse_dev_info *info);
int azbk_dev_remove(u32 id);
int azbk_dev_get_info(u32 id, struct azbuse_dev_info *info);
u32 azbk_dev_list(u32 *ids, u32 capacity);
bool azbk_dev_size_ok(u64 bytes, u32 logical_bs);
unsigned int azbk_max_queues(void);
void azbk_dev_remove_all(void);
void azbk_dev_fill_info(struct azbk_dev *dev, struct azbuse_dev_info *info);
void azbk_dev_release_held(struct azbk_dev *dev);
int azbk_dev_check_params(struct azbuse_dev_info *info);

/* sysfs.c */
extern const struct attribute_group *azbk_disk_groups[];
void azbk_dev_state_changed(struct azbk_dev *dev);
long azbk_ioc_set_label(struct azbk_dev *dev, void __user *argp);

/* queue.c */
extern const struct blk_mq_ops azbk_mq_ops;
int azbk_queue_alloc_ring(struct azbk_queue *q);
void azbk_queue_free_ring(struct azbk_queue *q);
int azbk_arena_get(struct azbk_queue *q, struct azbk_arena *a, u64 addr,
		  u64 bytes, int wake_fd);
void azbk_arena_put(struct azbk_arena *a);
int azbk_queue_attach(struct azbk_queue *q, struct azbk_arena *a,
		     bool nodata_writes);
void azbk_queue_put_wake(struct azbk_queue *q);
void azbk_queue_detach(struct azbk_queue *q);
void azbk_ring_set_flag(struct azbk_queue *q, u32 flag);
void azbk_ring_clear_flag(struct azbk_queue *q, u32 flag);
int azbk_queue_reap(struct azbk_queue *q, bool by_poll,
		    struct io_comp_batch *iob);
bool azbk_queue_has_work(struct azbk_queue *q);
void azbk_dev_abort_inflight(struct azbk_dev *dev);
void azbk_dev_requeue_inflight(struct azbk_dev *dev);
blk_status_t azbk_errno_status(int err);

/* redirect.c */
int azbk_redirect_prepare(struct azbk_queue *q, struct request *rq,
			 const void *slot, int nr);
void azbk_redirect_issue(struct request *rq);
long azbk_ioc_set_files(struct azbk_dev *dev, void __user *argp);
void azbk_files_take(struct azbk_dev *dev, struct file **old);
void azbk_files_put(struct file **old, unsigned int nr);

/* chardev.c */
extern const struct file_operations azbk_chr_fops;

/* ctl.c */
int azbk_ctl_init(void);
void azbk_ctl_exit(void);

#endif /* AZBK_H */
