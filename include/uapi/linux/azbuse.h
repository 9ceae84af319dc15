/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * azbuse: serve a Linux block device from userspace.
 *
 * The only header shared by the kernel module and userspace.  It follows the
 * kernel's uapi rules: fixed-width __u types, explicit padding, reserved
 * fields that must be zero, _IOC-encoded ioctl numbers, and a size field in
 * every setup struct that must equal the struct's size.  The ioctl numbers
 * encode that size too, so a struct does not grow in place: new fields come
 * out of the reserved space (zero means "not used"), or with a new ioctl.
 *
 * Devices:
 *   /dev/azbusectl   control (misc device, CAP_SYS_ADMIN): ADD, REMOVE,
 *                    GET_INFO, LIST, GET_FEATURES.
 *   /dev/azbuseN     the block device users do I/O on.
 *   /dev/azbusecN    the runtime's char device for device N: mmap one ring
 *                    per hardware queue, attach each queue with a data arena,
 *                    commit completions and wait.  One opener at a time.
 *
 * Rings (one per hardware queue, mmapped from /dev/azbusecN at
 * AZBUSE_RING_OFFSET(qid), AZBUSE_IOC_GET_QUEUE_INFO gives the layout):
 *
 *   struct azbuse_ring_hdr   indices, each on its own cache line
 *   SQ: sq_entries x struct azbuse_sqe   kernel produces, runtime consumes
 *   CQ: cq_entries x struct azbuse_cqe   runtime produces, kernel consumes
 *
 * Indices are free-running __u32; an index maps to slot (idx & (entries - 1))
 * and entries are powers of two.  An SQE's tag names its arena slot: bytes
 * [tag * max_io_bytes, (tag + 1) * max_io_bytes) of that queue's arena.  The
 * kernel copies write data there before publishing the SQE and copies read
 * data back from there when it reaps the CQE.  A slot belongs to the
 * runtime from its SQE until the kernel reaps the CQE that answers it (same
 * tag and gen), even when the request was ended without it (timeout): the
 * kernel gives the slot to no other request before that CQE
 * (AZBUSE_FEAT_ORPHAN_SLOTS), so a late answer is harmless and is counted
 * as reaped, not refused.
 */
#ifndef _UAPI_LINUX_AZBUSE_H
#define _UAPI_LINUX_AZBUSE_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define AZBUSE_ABI_VERSION	1

#define AZBUSE_CTL_DEV_NAME	"azbusectl"
#define AZBUSE_BLK_DEV_NAME	"azbuse"	/* /dev/azbuseN */
#define AZBUSE_CHR_DEV_NAME	"azbusec"	/* /dev/azbusecN */

/* Limits the kernel enforces on device parameters. */
#define AZBUSE_MAX_DEV_ID	65535
#define AZBUSE_MAX_QUEUES	1024
#define AZBUSE_MAX_DEPTH	4096
#define AZBUSE_MIN_IO_BYTES	4096
#define AZBUSE_MAX_IO_BYTES	(1U << 20)
#define AZBUSE_MAX_ARENA_BYTES	(1ULL << 30)	/* depth * max_io_bytes */
/*
 * Largest DISCARD / WRITE_ZEROES request (also the default): its length
 * must fit the CQE's __s32 result.
 */
#define AZBUSE_MAX_DISCARD_BYTES	(1U << 30)
#define AZBUSE_MAX_WRITE_ZEROES_BYTES	(1U << 30)

/* Defaults the kernel applies to a zero field in ADD. */
#define AZBUSE_DEF_DEPTH	128
#define AZBUSE_DEF_IO_BYTES	(256U << 10)
#define AZBUSE_DEF_TIMEOUT_MS	30000
#define AZBUSE_DEF_RECOVERY_MS	30000

/* Ranges the kernel accepts for timeout_ms and recovery_ms. */
#define AZBUSE_MIN_TIMEOUT_MS	1000
#define AZBUSE_MAX_TIMEOUT_MS	3600000

#define AZBUSE_ID_ANY		0xffffffffU

/* Device flags (struct azbuse_dev_info.flags). */
#define AZBUSE_DEV_F_READ_ONLY		(1ULL << 0)
#define AZBUSE_DEV_F_ROTATIONAL		(1ULL << 1)
#define AZBUSE_DEV_F_WRITE_CACHE	(1ULL << 2)	/* volatile cache + FUA */
#define AZBUSE_DEV_F_DISCARD		(1ULL << 3)
#define AZBUSE_DEV_F_WRITE_ZEROES	(1ULL << 4)
#define AZBUSE_DEV_F_RECOVERY		(1ULL << 5)

/* Device state (struct azbuse_dev_info.state, output only). */
#define AZBUSE_STATE_IDLE	0	/* no runtime attached: I/O fails */
#define AZBUSE_STATE_LIVE	1	/* a runtime has the char device open */
#define AZBUSE_STATE_REMOVING	2
#define AZBUSE_STATE_RECOVERING	3	/* runtime gone, I/O held for a new one */

/*
 * ADD (in/out), GET_INFO (dev_id in, rest out).  Zero fields in ADD take the
 * defaults above; the kernel writes back what it applied.
 */
struct azbuse_dev_info {
	__u32	size;		/* sizeof(struct azbuse_dev_info) */
	__u32	dev_id;		/* AZBUSE_ID_ANY or the id wanted */
	__u64	dev_bytes;	/* multiple of logical_bs */
	__u64	flags;		/* AZBUSE_DEV_F_* */
	__u32	logical_bs;	/* 512..4096, power of two; 0: 512 */
	__u32	physical_bs;	/* logical_bs..65536, power of two; 0: logical */
	__u32	max_io_bytes;	/* multiple of 4096; 0: default */
	__u16	nr_queues;	/* 0: one per possible CPU */
	__u16	queue_depth;	/* 0: default */
	__u32	timeout_ms;	/* per-request I/O timeout; 0: default */
	__u32	state;		/* out: AZBUSE_STATE_* */
	__s32	owner_pid;	/* out: pid of the attached runtime, or 0 */
	__u32	blk_major;	/* out */
	__u32	blk_minor;	/* out */
	__u32	chr_major;	/* out */
	__u32	chr_minor;	/* out */
	/*
	 * With F_RECOVERY: hold I/O this long for a new runtime;
	 * 0: AZBUSE_DEF_RECOVERY_MS.
	 */
	__u32	recovery_ms;
	/*
	 * With F_DISCARD: the largest discard (a multiple of logical_bs, at
	 * least the granularity and physical_bs; 0: AZBUSE_MAX_DISCARD_BYTES)
	 * and the unit the target frees space in (a power of two, at least
	 * logical_bs; 0: physical_bs).  With F_WRITE_ZEROES: the largest
	 * write-zeroes (a multiple of logical_bs; 0:
	 * AZBUSE_MAX_WRITE_ZEROES_BYTES).  Zero without the flag.
	 */
	__u32	max_discard_bytes;
	__u32	discard_granularity;
	__u32	max_write_zeroes_bytes;
	/*
	 * AZBUSE_FEAT_POLL_QUEUES: blk-mq poll queues (HCTX_TYPE_POLL) on
	 * top of nr_queues, with queue ids nr_queues .. nr_queues +
	 * nr_poll_queues - 1.  I/O submitted polled (io_uring IOPOLL,
	 * RWF_HIPRI) goes there, and its submitter reaps the CQEs the
	 * runtime published in the queue's CQ ring itself; the runtime need
	 * not COMMIT them unless nobody polls.  0: none (polled I/O is then
	 * served as ordinary I/O, also on kernels whose block layer refuses
	 * it on a device without poll queues).  At most max_queues.
	 */
	__u16	nr_poll_queues;
	__u16	__pad2;
	__u64	reserved[4];
};

/* REMOVE. */
struct azbuse_dev_id {
	__u32	size;		/* sizeof(struct azbuse_dev_id) */
	__u32	dev_id;
	__u64	reserved[2];
};

/* LIST: ids_ptr points to capacity __u32s; count returns how many exist. */
struct azbuse_dev_list {
	__u32	size;		/* sizeof(struct azbuse_dev_list) */
	__u32	capacity;	/* in: entries at ids_ptr */
	__u32	count;		/* out: devices that exist */
	__u32	__pad;
	__u64	ids_ptr;
	__u64	reserved[2];
};

/* Feature bits (struct azbuse_features.features). */
#define AZBUSE_FEAT_READ_WRITE	(1ULL << 0)
#define AZBUSE_FEAT_FLUSH_FUA	(1ULL << 1)
#define AZBUSE_FEAT_DISCARD	(1ULL << 2)
#define AZBUSE_FEAT_WRITE_ZEROES (1ULL << 3)
#define AZBUSE_FEAT_RECOVERY	(1ULL << 4)
#define AZBUSE_FEAT_WAIT	(1ULL << 5)	/* COMMIT with AZBUSE_COMMIT_WAIT */
#define AZBUSE_FEAT_REQ_FLAGS	(1ULL << 6)	/* sqe.flags carries AZBUSE_IO_F_* */
#define AZBUSE_FEAT_TIMEOUT	(1ULL << 7)	/* dev_info.timeout_ms honoured */
#define AZBUSE_FEAT_QUEUE_CPUS	(1ULL << 8)	/* queue_info reports the queue's CPUs */
#define AZBUSE_FEAT_RESIZE	(1ULL << 9)	/* AZBUSE_IOC_SET_SIZE */
#define AZBUSE_FEAT_WAKE_FD	(1ULL << 10)	/* queue_attach.wake_fd */
#define AZBUSE_FEAT_ORPHAN_SLOTS (1ULL << 11)	/* timed-out slots kept until answered */
#define AZBUSE_FEAT_REDIRECT	(1ULL << 12)	/* SET_FILES, redirect CQEs, ATTACH_REDIRECT */
#define AZBUSE_FEAT_POLL_QUEUES	(1ULL << 13)	/* dev_info.nr_poll_queues */
#define AZBUSE_FEAT_LABEL	(1ULL << 14)	/* SET_LABEL, sysfs azbuse/, state uevents */

struct azbuse_features {
	__u32	size;		/* sizeof(struct azbuse_features) */
	__u32	abi_version;	/* out: AZBUSE_ABI_VERSION */
	__u64	features;	/* out: AZBUSE_FEAT_* */
	__u32	max_queues;	/* out: most hardware queues a device can have */
	__u32	max_depth;	/* out */
	__u32	max_io_bytes;	/* out */
	__u32	__pad;
	__u64	reserved[4];
};

/* Per-queue information from /dev/azbusecN. */
struct azbuse_queue_info {
	__u32	size;		/* sizeof(struct azbuse_queue_info) */
	__u16	qid;		/* in */
	__u16	__pad;
	__u32	depth;		/* tags 0..depth-1 */
	__u32	sq_entries;	/* power of two */
	__u32	cq_entries;	/* power of two */
	__u32	sq_off;		/* byte offset of the SQ in the ring mapping */
	__u32	cq_off;		/* byte offset of the CQ in the ring mapping */
	__u32	ring_bytes;	/* exact length to mmap */
	__u64	mmap_offset;	/* AZBUSE_RING_OFFSET(qid) */
	__u32	max_io_bytes;	/* arena slot size */
	__s32	numa_node;	/* node of the ring memory, or -1 */
	__u64	arena_bytes;	/* depth * max_io_bytes: arena size to attach */
	/*
	 * The CPUs blk-mq maps to this queue (AZBUSE_FEAT_QUEUE_CPUS).  With
	 * cpus_ptr set the kernel writes a bitmask of cpus_bytes there: CPU c
	 * is bit (c % 64) of __u64 word (c / 64).  cpus_bytes must be a
	 * multiple of 8 that holds nr_cpus bits (EOVERFLOW if not).  nr_cpus,
	 * the number of CPU ids the kernel has, comes back in any case: a
	 * call with cpus_ptr 0 tells how large the buffer must be.
	 */
	__u64	cpus_ptr;	/* in: user buffer, or 0 */
	__u32	cpus_bytes;	/* in: its size */
	__u32	nr_cpus;	/* out */
	__u32	flags;		/* out: AZBUSE_QUEUE_F_* */
	__u32	__pad2;
	__u64	reserved[3];
};

/* The queue is a poll queue: its submitters reap its CQ themselves. */
#define AZBUSE_QUEUE_F_POLL	(1U << 0)

/*
 * Attach a queue: register its data arena (pinned until the device closes,
 * charged to RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK).  The
 * arena must be anonymous, shmem (memfd, MAP_SHARED|MAP_ANONYMOUS) or
 * hugetlb memory: a regular file's pages are refused with EINVAL.
 */
struct azbuse_queue_attach {
	__u32	size;		/* sizeof(struct azbuse_queue_attach) */
	__u16	qid;
	__u16	__pad;
	__u64	arena_addr;	/* page aligned */
	__u64	arena_bytes;	/* == azbuse_queue_info.arena_bytes */
	/*
	 * With AZBUSE_ATTACH_WAKE_FD (AZBUSE_FEAT_WAKE_FD): an eventfd the
	 * kernel signals when it adds an SQ entry while the ring header's
	 * engine_wait is non-zero, so a runtime that sleeps on its engine's
	 * completions (poll() on the engine's fds and this one) also wakes
	 * for new requests.  Held until the queue is detached.
	 */
	__s32	wake_fd;
	__u32	flags;		/* AZBUSE_ATTACH_* */
	__u64	reserved[3];
};

#define AZBUSE_ATTACH_WAKE_FD	(1U << 0)
/*
 * AZBUSE_FEAT_REDIRECT: the kernel does not copy WRITE data into the arena
 * (the SQE carries AZBUSE_IO_F_NODATA); the runtime answers every WRITE
 * with a redirect or an error.  A plain answer to such a WRITE fails it.
 */
#define AZBUSE_ATTACH_REDIRECT	(1U << 1)

/*
 * COMMIT: the kernel reaps the queue's CQ (completing those requests) and,
 * with AZBUSE_COMMIT_WAIT, then sleeps until the SQ has an entry the runtime
 * has not consumed, wait_ms passes, a signal arrives or the device goes away.
 * Returns the number of CQEs reaped, or -1 with errno (ENODEV once the
 * device is gone).  Fixed size: this is the hot path.
 */
#define AZBUSE_COMMIT_WAIT	(1U << 0)

struct azbuse_commit {
	__u16	qid;
	__u16	flags;		/* AZBUSE_COMMIT_* */
	__u32	wait_ms;	/* with WAIT: 0 waits without a time limit */
};

/*
 * AZBUSE_IOC_SET_SIZE: the runtime's target grew or shrank; the device
 * takes the new size (a multiple of the logical block size) and the kernel
 * tells userspace (a change uevent with RESIZE=1).  I/O beyond a smaller
 * size fails from then on; requests already handed out are the runtime's.
 */
struct azbuse_set_size {
	__u32	size;		/* sizeof(struct azbuse_set_size) */
	__u32	__pad;
	__u64	dev_bytes;
	__u64	reserved[2];
};

#define AZBUSE_IOC_MAGIC	0xAB
#define AZBUSE_CTL_ADD		_IOWR(AZBUSE_IOC_MAGIC, 0x80, struct azbuse_dev_info)
#define AZBUSE_CTL_REMOVE	_IOW(AZBUSE_IOC_MAGIC, 0x81, struct azbuse_dev_id)
#define AZBUSE_CTL_GET_INFO	_IOWR(AZBUSE_IOC_MAGIC, 0x82, struct azbuse_dev_info)
#define AZBUSE_CTL_LIST		_IOWR(AZBUSE_IOC_MAGIC, 0x83, struct azbuse_dev_list)
#define AZBUSE_CTL_GET_FEATURES	_IOWR(AZBUSE_IOC_MAGIC, 0x84, struct azbuse_features)

/* On /dev/azbusecN.  GET_INFO there ignores dev_id and reports that device. */
#define AZBUSE_IOC_GET_INFO	_IOWR(AZBUSE_IOC_MAGIC, 0x90, struct azbuse_dev_info)
#define AZBUSE_IOC_GET_QUEUE_INFO _IOWR(AZBUSE_IOC_MAGIC, 0x91, struct azbuse_queue_info)
#define AZBUSE_IOC_ATTACH_QUEUE	_IOW(AZBUSE_IOC_MAGIC, 0x92, struct azbuse_queue_attach)
#define AZBUSE_IOC_COMMIT	_IOW(AZBUSE_IOC_MAGIC, 0x93, struct azbuse_commit)
#define AZBUSE_IOC_SET_SIZE	_IOW(AZBUSE_IOC_MAGIC, 0x94, struct azbuse_set_size)

/*
 * AZBUSE_IOC_SET_FILES (AZBUSE_FEAT_REDIRECT): the files a runtime's
 * redirects name.  Slots first..first+nr-1 take the descriptors at fds_ptr
 * (__s32 each; -1 empties the slot).  Every file must be a regular file or
 * a block device that can do direct I/O at the device's logical block
 * size, and neither this device nor a file on it (EINVAL, ELOOP).  On a
 * writable device a file opened without write access needs
 * AZBUSE_FILE_F_READ_ONLY (else EBADF), and serves only reads.  All or
 * nothing: on an error no slot changes.  Requests already redirected keep
 * their files until they end; closing /dev/azbusecN empties every slot.
 */
#define AZBUSE_MAX_FILES	64
#define AZBUSE_FILE_F_READ_ONLY	(1U << 0)

struct azbuse_files {
	__u32	size;		/* sizeof(struct azbuse_files) */
	__u32	first;		/* first slot, < AZBUSE_MAX_FILES */
	__u32	nr;		/* 1..AZBUSE_MAX_FILES - first */
	__u32	flags;		/* AZBUSE_FILE_F_* */
	__u64	fds_ptr;
	__u64	reserved[2];
};

#define AZBUSE_IOC_SET_FILES	_IOW(AZBUSE_IOC_MAGIC, 0x95, struct azbuse_files)

/*
 * AZBUSE_FEAT_LABEL: what a device is, for people and udev, in
 * /sys/block/azbuseN/azbuse/:
 *   state   unserved (no runtime, or one still attaching its queues),
 *           serving (a runtime attached every queue), recovering (the
 *           runtime died; I/O is held for the next one) or removing
 *   pid     the serving runtime's process id, 0 when none
 *   label   what the runtime serves it from ("odirect /srv/disk.img")
 *   serial  a stable identity the runtime gives it, for /dev/disk/by-id
 * Each change of state sends a change uevent with AZBUSE_STATE=<state>.
 *
 * AZBUSE_IOC_SET_LABEL sets label (printable ASCII) and serial (letters,
 * digits, '.', '_', '-', ':'; may be empty), each NUL-terminated within
 * its array; anything else is EINVAL.  Closing /dev/azbusecN clears both.
 */
#define AZBUSE_LABEL_LEN	128
#define AZBUSE_SERIAL_LEN	64

struct azbuse_label {
	__u32	size;		/* sizeof(struct azbuse_label) */
	__u32	flags;		/* none yet: 0 */
	char	label[AZBUSE_LABEL_LEN];
	char	serial[AZBUSE_SERIAL_LEN];
	__u64	reserved[2];
};

#define AZBUSE_IOC_SET_LABEL	_IOW(AZBUSE_IOC_MAGIC, 0x96, struct azbuse_label)

/*
 * A redirect (struct azbuse_cqe.flags AZBUSE_CQE_F_REDIRECT, result = the
 * number of extents): the runtime wrote result struct azbuse_extent into
 * the request's arena slot, in order; together they cover the request
 * (their lengths add up to nr_bytes).  The kernel then reads or writes the
 * request's own pages from or to those files with direct I/O and ends the
 * request when the last extent is done; the slot is free again as soon as
 * the CQE is reaped.  Offsets and lengths are multiples of the logical
 * block size, an extent lies within its file, and extents of one file do
 * not overlap.  A hole (file AZBUSE_FILE_HOLE) reads as zeros; a WRITE
 * cannot name one.  A bad list fails the request (EIO; COMMIT reports
 * EINVAL); a failed or short extent fails the whole request with the
 * file's error.  A FUA WRITE is written with O_DSYNC semantics.
 */
#define AZBUSE_CQE_F_REDIRECT	(1U << 0)
#define AZBUSE_FILE_HOLE	0xffffffffU
#define AZBUSE_MAX_EXTENTS	256

struct azbuse_extent {
	__u32	file;		/* SET_FILES slot, or AZBUSE_FILE_HOLE */
	__u32	len;		/* bytes */
	__u64	offset;		/* bytes into the file */
};

/* Ring mapping: queue q's ring lives at this mmap offset. */
#define AZBUSE_RING_OFFSET_SHIFT 24
#define AZBUSE_RING_OFFSET(qid)	((__u64)(qid) << AZBUSE_RING_OFFSET_SHIFT)

/*
 * Ops (struct azbuse_sqe.op).  DISCARD and WRITE_ZEROES (only on a device
 * added with the matching flag) name a range but carry no data: their
 * arena slot is unused and nr_bytes may exceed max_io_bytes, up to the
 * device's max_discard_bytes / max_write_zeroes_bytes.  WRITE_ZEROES with
 * AZBUSE_IO_F_NOUNMAP must leave the range allocated.
 */
#define AZBUSE_OP_READ		0
#define AZBUSE_OP_WRITE		1
#define AZBUSE_OP_FLUSH		2
#define AZBUSE_OP_DISCARD	3
#define AZBUSE_OP_WRITE_ZEROES	4

/* Request flags (struct azbuse_sqe.flags), from the bio's REQ_* flags. */
#define AZBUSE_IO_F_FUA		(1U << 0)
#define AZBUSE_IO_F_PREFLUSH	(1U << 1)
#define AZBUSE_IO_F_SYNC	(1U << 2)
#define AZBUSE_IO_F_META	(1U << 3)
#define AZBUSE_IO_F_PRIO	(1U << 4)
#define AZBUSE_IO_F_NOUNMAP	(1U << 5)
#define AZBUSE_IO_F_RAHEAD	(1U << 6)
#define AZBUSE_IO_F_BACKGROUND	(1U << 7)
#define AZBUSE_IO_F_IDLE	(1U << 8)
#define AZBUSE_IO_F_FAILFAST	(1U << 9)
#define AZBUSE_IO_F_NOWAIT	(1U << 10)
/* A WRITE whose data is not in the slot (AZBUSE_ATTACH_REDIRECT). */
#define AZBUSE_IO_F_NODATA	(1U << 11)

struct azbuse_sqe {
	__u8	op;		/* AZBUSE_OP_* */
	__u8	__pad0;
	__u16	tag;		/* arena slot (< depth); echo in the CQE */
	__u32	flags;		/* AZBUSE_IO_F_* */
	__u64	sector;		/* 512-byte units */
	__u32	nr_bytes;	/* length; 0 for FLUSH */
	__u32	gen;		/* echo in the CQE: rejects stale completions */
	__u16	ioprio;
	__u16	__pad1;
	__u32	__pad2;
};

struct azbuse_cqe {
	__u16	tag;
	__u16	flags;		/* AZBUSE_CQE_F_*; 0 before AZBUSE_FEAT_REDIRECT */
	__u32	gen;
	/* bytes done (0..nr_bytes), -errno, or with REDIRECT the extents */
	__s32	result;
	__u32	__pad2;
};

/* Ring header flags, written by the kernel. */
#define AZBUSE_RING_NEED_WAKEUP	(1U << 0)	/* the runtime sleeps in COMMIT */
#define AZBUSE_RING_DEAD	(1U << 1)	/* the device is going away */

/* A cache line each, so producer and consumer never share one. */
struct azbuse_ring_idx {
	__u32	val;
	__u32	__pad[15];
};

struct azbuse_ring_hdr {
	struct azbuse_ring_idx	sq_tail;	/* kernel writes */
	struct azbuse_ring_idx	sq_head;	/* runtime writes */
	struct azbuse_ring_idx	cq_tail;	/* runtime writes */
	struct azbuse_ring_idx	cq_head;	/* kernel writes */
	struct azbuse_ring_idx	flags;		/* kernel writes: AZBUSE_RING_* */
	/*
	 * Runtime writes: non-zero while it sleeps outside COMMIT, on its
	 * engine and the queue's wake_fd.  Store it, then a full barrier,
	 * then look at sq_tail once more before sleeping: the kernel stores
	 * sq_tail, then a full barrier, then reads this.
	 */
	struct azbuse_ring_idx	engine_wait;
};

/* Ring index helpers, shared by the kernel, the runtime and the tests. */
#define AZBUSE_RING_SLOT(idx, entries)	((idx) & ((entries) - 1))
#define AZBUSE_RING_USED(head, tail)	((__u32)((tail) - (head)))

#endif /* _UAPI_LINUX_AZBUSE_H */
