// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azb-ublk-null: a ublk server with a null target, written for azbuse's
 * benchmarks (perf/).  Debian ships no ublk server, and a benchmark against
 * a slow peer proves nothing, so this one is built the way the kernel's own
 * selftest server (tools/testing/selftests/ublk/kublk.c) is, and as fast as
 * the ublk protocol allows:
 *
 *  - one thread and one io_uring per hardware queue, pinned like kublk to
 *    the first CPU of the queue's affinity (--no-affinity leaves it free);
 *  - the ring is SINGLE_ISSUER + DEFER_TASKRUN + COOP_TASKRUN, the char
 *    device a fixed file and the ring fd registered: the kernel's dispatch
 *    task work runs inside our io_uring_enter, with no signal or IPI;
 *  - FETCH_REQ for every tag at start, then each request is answered with
 *    COMMIT_AND_FETCH_REQ; one io_uring_submit_and_wait() per loop commits
 *    every request the last wakeup delivered and waits for the next ones;
 *  - where ublk_drv has automatic buffer registration (UBLK_F_AUTO_BUF_REG,
 *    Linux 6.16 and later) the kernel registers each request's pages in
 *    this queue's io_uring buffer table at dispatch and drops them at
 *    COMMIT_AND_FETCH: no copy, as kublk --auto_zc.  Older drivers, or
 *    --copy, copy data between the bio and a per-tag buffer here.  The
 *    null target never touches the data either way.  (kublk's null target
 *    sends an io_uring NOP on the registered buffer per I/O; this one
 *    completes at once, as azbuse's null engine does.)
 *
 * It prints /dev/ublkbN once the device serves I/O, and on SIGINT, SIGTERM
 * or SIGHUP stops the device, lets every queue drain and deletes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/ublk_cmd.h>

/*
 * Automatic buffer registration needs a ublk_cmd.h with segment limits
 * (7.x; the Makefile takes the sid root's): see azb_ublk_serve().  Built
 * against an older one, this server always has the kernel copy.
 */
#ifndef UBLK_PARAM_TYPE_SEGMENT
#undef UBLK_F_AUTO_BUF_REG
#define UBLK_F_AUTO_BUF_REG	0
#endif

#include <azbuse.h>

#include "cli.h"

#define AZB_PROG		"azb-ublk-null"
#define AZB_UBLK_CTL		"/dev/ublk-control"
#define AZB_UBLK_DEF_DEPTH	128
#define AZB_UBLK_DEF_IO		(256u << 10)
/* How long to wait for udev-less devtmpfs to show /dev/ublkcN. */
#define AZB_UBLK_OPEN_TRIES	300

/* user_data of an I/O command: the tag, and the op for error messages. */
#define AZB_UBLK_UD(tag, op)	((__u64)(tag) | ((__u64)_IOC_NR(op) << 16))
#define AZB_UBLK_UD_TAG(ud)	((unsigned int)((ud) & 0xffff))

struct azb_ublk_queue {
	unsigned int		qid;
	unsigned int		depth;
	int			cdev_fd;	/* /dev/ublkcN */
	const struct ublksrv_io_desc *descs;	/* mmapped, read-only */
	size_t			descs_bytes;
	char			*bufs;		/* depth x max_io bytes, or NULL */
	bool			auto_reg;	/* UBLK_F_AUTO_BUF_REG: no bufs */
	size_t			bufs_bytes;
	uint32_t		max_io;
	int			cpu;		/* -1: not pinned */
	struct io_uring		ring;
	unsigned int		cmds;		/* commands the kernel holds */
	uint64_t		ios;
	int			error;
	pthread_t		thread;
	atomic_int		*ready;		/* counts queues set up */
};

struct azb_ublk_dev {
	int			ctl_fd;
	struct io_uring		ctl;
	struct ublksrv_ctrl_dev_info info;
	int			cdev_fd;
	struct azb_ublk_queue	*q;
};

/* ---- control commands (uring_cmd on /dev/ublk-control) ------------------ */

static int azb_ublk_ctrl(struct azb_ublk_dev *d, unsigned int op, void *buf,
			 unsigned int len, __u64 data)
{
	struct ublksrv_ctrl_cmd *c;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	sqe = io_uring_get_sqe(&d->ctl);
	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = d->ctl_fd;
	sqe->cmd_op = op;
	c = (struct ublksrv_ctrl_cmd *)sqe->cmd;
	c->dev_id = d->info.dev_id;
	c->queue_id = (__u16)-1;
	c->addr = (__u64)(uintptr_t)buf;
	c->len = len;
	c->data[0] = data;
	ret = io_uring_submit(&d->ctl);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&d->ctl, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&d->ctl, cqe);
	return ret;
}

/* ---- the I/O path ------------------------------------------------------- */

static void azb_ublk_queue_cmd(struct azb_ublk_queue *q, unsigned int op,
			       unsigned int tag, int result)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct ublksrv_io_cmd *c;

	/*
	 * The SQ has depth entries and at most depth commands exist, so this
	 * only guards against a kernel that returned more CQEs than asked.
	 */
	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
		if (!sqe) {
			q->error = -EBUSY;
			return;
		}
	}
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;
	sqe->cmd_op = op;
	sqe->user_data = AZB_UBLK_UD(tag, op);
	c = (struct ublksrv_io_cmd *)sqe->cmd;
	c->q_id = q->qid;
	c->tag = tag;
	c->result = result;
	/*
	 * With automatic registration the command carries no buffer and
	 * sqe->addr names the buffer-table slot for the request (index in
	 * bits 0-15, no flags): the tag, so that slots never collide.
	 */
	if (q->auto_reg)
		sqe->addr = tag;
	else
		c->addr = (__u64)(uintptr_t)(q->bufs + (size_t)tag * q->max_io);
	q->cmds++;
}

/* The null target: every op succeeds at once, data is never touched. */
static int azb_ublk_null_result(const struct ublksrv_io_desc *iod)
{
	switch (ublksrv_get_op(iod)) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		return (int)(iod->nr_sectors << 9);
	case UBLK_IO_OP_FLUSH:
		return 0;
	}
	return -EOPNOTSUPP;
}

static void azb_ublk_handle(struct azb_ublk_queue *q,
			    const struct io_uring_cqe *cqe)
{
	unsigned int tag = AZB_UBLK_UD_TAG(cqe->user_data);

	q->cmds--;
	if (cqe->res == UBLK_IO_RES_OK && tag < q->depth) {
		q->ios++;
		azb_ublk_queue_cmd(q, UBLK_U_IO_COMMIT_AND_FETCH_REQ, tag,
				   azb_ublk_null_result(&q->descs[tag]));
	} else if (cqe->res != UBLK_IO_RES_ABORT && !q->error) {
		/* The device is going away (ABORT) or something broke. */
		q->error = cqe->res < 0 ? cqe->res : -EPROTO;
		fprintf(stderr, AZB_PROG ": queue %u tag %u: command failed: %s\n",
			q->qid, tag, strerror(-q->error));
	}
}

static int azb_ublk_ring_init(struct azb_ublk_queue *q)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
		.cq_entries = q->depth,
	};
	int ret;

	ret = io_uring_queue_init_params(q->depth, &q->ring, &p);
	if (ret)
		return ret;
	ret = io_uring_register_files(&q->ring, &q->cdev_fd, 1);
	if (ret)
		return ret;
	/* An empty slot per tag for the kernel to register requests in. */
	if (q->auto_reg) {
		ret = io_uring_register_buffers_sparse(&q->ring, q->depth);
		if (ret)
			return ret;
	}
	/* Saves the fd lookup in every io_uring_enter; optional. */
	io_uring_register_ring_fd(&q->ring);
	return 0;
}

static void *azb_ublk_queue_main(void *arg)
{
	struct azb_ublk_queue *q = arg;
	struct io_uring_cqe *cqe;
	unsigned int tag, head, n;
	int ret;

	if (q->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(q->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/*
	 * The ring must belong to this thread (SINGLE_ISSUER), and the kernel
	 * makes the thread that fetches a queue's tags its daemon.
	 */
	ret = azb_ublk_ring_init(q);
	if (ret) {
		q->error = ret;
		fprintf(stderr, AZB_PROG ": queue %u: io_uring setup: %s\n",
			q->qid, strerror(-ret));
		atomic_fetch_add(q->ready, 1);
		return NULL;
	}
	for (tag = 0; tag < q->depth; tag++)
		azb_ublk_queue_cmd(q, UBLK_U_IO_FETCH_REQ, tag, 0);
	ret = io_uring_submit(&q->ring);
	if (ret != (int)q->depth) {
		q->error = ret < 0 ? ret : -EIO;
		fprintf(stderr, AZB_PROG ": queue %u: FETCH_REQ: %s\n", q->qid,
			strerror(-q->error));
	}
	atomic_fetch_add(q->ready, 1);

	while (q->cmds && !q->error) {
		ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY) {
			q->error = ret;
			fprintf(stderr, AZB_PROG ": queue %u: io_uring_enter: %s\n",
				q->qid, strerror(-ret));
			break;
		}
		n = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			azb_ublk_handle(q, cqe);
			n++;
		}
		io_uring_cq_advance(&q->ring, n);
	}
	io_uring_queue_exit(&q->ring);
	return NULL;
}

/* ---- device setup ------------------------------------------------------- */

static int azb_ublk_open_cdev(unsigned int id)
{
	char path[32];
	int i, fd = -1;

	snprintf(path, sizeof(path), "/dev/ublkc%u", id);
	for (i = 0; i < AZB_UBLK_OPEN_TRIES && fd < 0; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			break;
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0)
		fprintf(stderr, AZB_PROG ": %s: %s\n", path, strerror(errno));
	return fd;
}

static int azb_ublk_map_queue(struct azb_ublk_dev *d, struct azb_ublk_queue *q)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	/* The kernel places each queue's descriptors at a fixed stride. */
	size_t stride = (UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc) +
			 pg - 1) & ~(pg - 1);
	void *p;

	q->descs_bytes = (q->depth * sizeof(struct ublksrv_io_desc) + pg - 1) &
			 ~(pg - 1);
	p = mmap(NULL, q->descs_bytes, PROT_READ, MAP_SHARED | MAP_POPULATE,
		 d->cdev_fd, UBLKSRV_CMD_BUF_OFFSET + q->qid * stride);
	if (p == MAP_FAILED)
		return -errno;
	q->descs = p;
	if (q->auto_reg)
		return 0;
	q->bufs_bytes = (size_t)q->depth * q->max_io;
	p = mmap(NULL, q->bufs_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	q->bufs = p;
	return 0;
}

/* The first CPU blk-mq maps to the queue, as kublk picks it. */
static int azb_ublk_queue_cpu(struct azb_ublk_dev *d, unsigned int qid)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	if (azb_ublk_ctrl(d, UBLK_U_CMD_GET_QUEUE_AFFINITY, &set, sizeof(set),
			  qid) < 0)
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

static void azb_usage(void)
{
	printf("Usage: " AZB_PROG " [options]\n"
	       "Serve a ublk block device with a null target (reads return whatever the\n"
	       "buffer holds, writes are dropped) until SIGINT, SIGTERM or SIGHUP; prints\n"
	       "the device path (/dev/ublkbN) once it serves I/O.  A peer for azbuse's\n"
	       "benchmarks: needs ublk_drv (Linux 6.0 or later) and root.\n\n"
	       "  -q, --queues N       hardware queues, one thread each (default 1)\n"
	       "  -d, --depth DEPTH    requests per queue, 1..%u (default %u)\n"
	       "  -s, --size SIZE      device size (default 1G)\n"
	       "      --max-io BYTES   largest request, 4K..1M (default 256K)\n"
	       "      --no-affinity    do not pin queue threads to their queue's CPU\n"
	       "      --copy           have the kernel copy data to and from a buffer\n"
	       "                       here even where ublk_drv can register request\n"
	       "                       pages instead (UBLK_F_AUTO_BUF_REG, the default)\n"
	       "  -h, --help           this help\n\n"
	       "Exit status: 0 stopped cleanly, 1 failed, 2 the command line was wrong.\n",
	       UBLK_MAX_QUEUE_DEPTH, AZB_UBLK_DEF_DEPTH);
}

enum { OPT_MAX_IO = 256, OPT_NO_AFFINITY, OPT_COPY };

static const struct option azb_opts[] = {
	{ "queues",	required_argument, NULL, 'q' },
	{ "depth",	required_argument, NULL, 'd' },
	{ "size",	required_argument, NULL, 's' },
	{ "max-io",	required_argument, NULL, OPT_MAX_IO },
	{ "no-affinity", no_argument, NULL, OPT_NO_AFFINITY },
	{ "copy",	no_argument, NULL, OPT_COPY },
	{ "help",	no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int azb_ublk_serve(struct azb_ublk_dev *d, uint64_t dev_bytes,
			  bool affinity, const sigset_t *sigs)
{
	struct ublksrv_ctrl_dev_info *info = &d->info;
	struct ublk_params par = {
		.len = sizeof(par),
		.types = UBLK_PARAM_TYPE_BASIC,
		.basic = {
			.logical_bs_shift = 9,
			.physical_bs_shift = 12,
			.io_opt_shift = 12,
			.io_min_shift = 9,
			.max_sectors = info->max_io_buf_bytes >> 9,
			.dev_sectors = dev_bytes >> 9,
		},
	};
	atomic_int ready = 0;
	unsigned int i, started = 0;
	int ret, sig, err = 0;

#ifdef UBLK_PARAM_TYPE_SEGMENT
	/*
	 * With automatic registration, keep every segment inside a page and
	 * at most 32 of them, as kublk does: io_buffer_register_bvec() sizes
	 * a request's bvec table by its physical segments, which must then
	 * not be fewer than its bvecs (no merging across pages), and up to
	 * 32 bvecs come from io_uring's cache, not kvmalloc.
	 */
	if (info->flags & UBLK_F_AUTO_BUF_REG) {
		par.types |= UBLK_PARAM_TYPE_SEGMENT;
		par.seg.seg_boundary_mask = 4095;
		par.seg.max_segment_size = 4096;
		par.seg.max_segments = 32;
	}
#endif
	ret = azb_ublk_ctrl(d, UBLK_U_CMD_SET_PARAMS, &par, sizeof(par), 0);
	if (ret < 0) {
		fprintf(stderr, AZB_PROG ": SET_PARAMS: %s\n", strerror(-ret));
		return ret;
	}
	d->cdev_fd = azb_ublk_open_cdev(info->dev_id);
	if (d->cdev_fd < 0)
		return -ENODEV;
	d->q = calloc(info->nr_hw_queues, sizeof(*d->q));
	if (!d->q)
		return -ENOMEM;
	for (i = 0; i < info->nr_hw_queues; i++) {
		struct azb_ublk_queue *q = &d->q[i];

		q->qid = i;
		q->depth = info->queue_depth;
		q->max_io = info->max_io_buf_bytes;
		q->cdev_fd = d->cdev_fd;
		q->auto_reg = info->flags & UBLK_F_AUTO_BUF_REG;
		q->ready = &ready;
		q->cpu = affinity ? azb_ublk_queue_cpu(d, i) : -1;
		ret = azb_ublk_map_queue(d, q);
		if (ret) {
			fprintf(stderr, AZB_PROG ": queue %u: mmap: %s\n", i,
				strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < info->nr_hw_queues; i++) {
		ret = -pthread_create(&d->q[i].thread, NULL,
				      azb_ublk_queue_main, &d->q[i]);
		if (ret)
			goto out;
		started++;
	}
	while (atomic_load(&ready) < (int)started)
		usleep(1000);
	for (i = 0; i < started; i++)
		if (d->q[i].error)
			ret = d->q[i].error;
	if (ret)
		goto out;
	/* Waits until every tag of every queue was fetched. */
	ret = azb_ublk_ctrl(d, UBLK_U_CMD_START_DEV, NULL, 0, getpid());
	if (ret < 0) {
		fprintf(stderr, AZB_PROG ": START_DEV: %s\n", strerror(-ret));
		goto out;
	}
	printf("/dev/ublkb%u\n", info->dev_id);
	fflush(stdout);
	sigwait(sigs, &sig);
out:
	/* STOP_DEV drains I/O, then aborts every fetch: the queues end. */
	if (started)
		azb_ublk_ctrl(d, UBLK_U_CMD_STOP_DEV, NULL, 0, 0);
	for (i = 0; i < started; i++) {
		pthread_join(d->q[i].thread, NULL);
		if (d->q[i].error && !err)
			err = d->q[i].error;
	}
	for (i = 0; i < info->nr_hw_queues; i++) {
		if (d->q[i].descs)
			munmap((void *)d->q[i].descs, d->q[i].descs_bytes);
		if (d->q[i].bufs)
			munmap(d->q[i].bufs, d->q[i].bufs_bytes);
	}
	if (started && !ret) {
		uint64_t total = 0;

		for (i = 0; i < info->nr_hw_queues; i++)
			total += d->q[i].ios;
		fprintf(stderr, AZB_PROG ": /dev/ublkb%u: %llu requests served\n",
			info->dev_id, (unsigned long long)total);
	}
	free(d->q);
	close(d->cdev_fd);
	return ret ? ret : err;
}

int main(int argc, char **argv)
{
	struct azb_ublk_dev d = { .ctl_fd = -1, .cdev_fd = -1 };
	unsigned int queues = 1, depth = AZB_UBLK_DEF_DEPTH;
	uint32_t max_io = AZB_UBLK_DEF_IO;
	uint64_t dev_bytes = 1ull << 30, features = 0;
	bool affinity = true, copy = false;
	sigset_t sigs;
	int c, ret;

	argv[0] = AZB_PROG;
	while ((c = getopt_long(argc, argv, "q:d:s:h", azb_opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			queues = azb_cli_uint(AZB_PROG, "-q", optarg, 1,
					      UBLK_MAX_NR_QUEUES);
			break;
		case 'd':
			depth = azb_cli_uint(AZB_PROG, "-d", optarg, 1,
					     UBLK_MAX_QUEUE_DEPTH);
			break;
		case 's':
			dev_bytes = azb_cli_size(AZB_PROG, "-s", optarg);
			if (!dev_bytes || dev_bytes % 4096)
				azb_die_usage(AZB_PROG, "-s: '%s' is not a nonzero multiple of 4K",
					      optarg);
			break;
		case OPT_MAX_IO:
			max_io = (uint32_t)azb_cli_size(AZB_PROG, "--max-io", optarg);
			if (max_io < 4096 || max_io > (1u << 20) || max_io % 4096)
				azb_die_usage(AZB_PROG, "--max-io: '%s' is not 4K..1M in 4K steps",
					      optarg);
			break;
		case OPT_NO_AFFINITY:
			affinity = false;
			break;
		case OPT_COPY:
			copy = true;
			break;
		case 'h':
			azb_usage();
			return AZB_EXIT_OK;
		default:
			azb_cli_try_help(AZB_PROG);
		}
	}
	if (optind < argc)
		azb_die_usage(AZB_PROG, "unexpected argument '%s'", argv[optind]);

	/* Every thread inherits the mask: only sigwait() sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	d.ctl_fd = open(AZB_UBLK_CTL, O_RDWR | O_CLOEXEC);
	if (d.ctl_fd < 0) {
		fprintf(stderr, AZB_PROG ": " AZB_UBLK_CTL ": %s%s\n",
			strerror(errno), errno == ENOENT ?
			" (modprobe ublk_drv; Linux 6.0 or later)" : "");
		return AZB_EXIT_FAIL;
	}
	ret = io_uring_queue_init(4, &d.ctl, IORING_SETUP_SQE128);
	if (ret) {
		fprintf(stderr, AZB_PROG ": io_uring: %s\n", strerror(-ret));
		return AZB_EXIT_FAIL;
	}
	d.info.dev_id = (__u32)-1;
	ret = azb_ublk_ctrl(&d, UBLK_U_CMD_GET_FEATURES, &features,
			    sizeof(features), 0);
	if (ret < 0 || !(features & UBLK_F_CMD_IOCTL_ENCODE)) {
		fprintf(stderr, AZB_PROG ": ublk_drv lacks ioctl-encoded commands (Linux 6.5 or later needed)\n");
		return AZB_EXIT_FAIL;
	}
	d.info.nr_hw_queues = queues;
	d.info.queue_depth = depth;
	d.info.max_io_buf_bytes = max_io;
	/*
	 * Completing commands in the daemon's task is the only mode 6.12 has;
	 * asking for it keeps older kernels on the same path.
	 */
	d.info.flags = UBLK_F_CMD_IOCTL_ENCODE | UBLK_F_URING_CMD_COMP_IN_TASK;
	if (!copy && (features & UBLK_F_AUTO_BUF_REG))
		d.info.flags |= UBLK_F_AUTO_BUF_REG;
	ret = azb_ublk_ctrl(&d, UBLK_U_CMD_ADD_DEV, &d.info, sizeof(d.info), 0);
	if (ret < 0) {
		fprintf(stderr, AZB_PROG ": ADD_DEV: %s\n", strerror(-ret));
		return AZB_EXIT_FAIL;
	}
	/* ADD_DEV wrote back the flags the driver kept; the benchmark logs it. */
	fprintf(stderr, AZB_PROG ": data: %s\n",
		(d.info.flags & UBLK_F_AUTO_BUF_REG) ?
		"automatic buffer registration (no copy)" :
		copy ? "copied by the kernel (--copy)" :
		!UBLK_F_AUTO_BUF_REG ? "copied by the kernel (built without segment limits)" :
		"copied by the kernel (ublk_drv has no UBLK_F_AUTO_BUF_REG)");
	ret = azb_ublk_serve(&d, dev_bytes, affinity, &sigs);
	if (azb_ublk_ctrl(&d, UBLK_U_CMD_DEL_DEV, NULL, 0, 0) < 0 && !ret)
		ret = -EIO;
	io_uring_queue_exit(&d.ctl);
	close(d.ctl_fd);
	return ret ? AZB_EXIT_FAIL : AZB_EXIT_OK;
}
