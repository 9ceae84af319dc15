// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * odirect: serves the device from a file or block device opened O_DIRECT,
 * with one io_uring per queue (odirect_target.c opens the target).
 *
 * Each queue's poller creates its ring in queue_init() and makes every
 * later call on it, so the ring is set up single-issuer.  The queue's arena
 * is registered as one fixed buffer and the target as a fixed file: reads
 * and writes move data straight between the target and the request's slot
 * (READ_FIXED / WRITE_FIXED).  queue() only prepares SQEs, commit() submits
 * the whole batch in one system call, reap() takes completions in batches
 * from the shared completion ring.
 *
 * Redirect (the default where the kernel takes it): READ and WRITE are
 * answered with "the same offset of the target" and the kernel does the
 * direct I/O on the request's own pages, so neither the data nor the
 * request touches io_uring.  Option "copy" keeps the path below instead.
 *
 * Every op keeps its meaning:
 *   READ, WRITE    FUA -> RWF_DSYNC on that write; PREFLUSH -> an fdatasync
 *                  linked before it
 *   FLUSH          fdatasync (IORING_OP_FSYNC with DATASYNC)
 *   DISCARD        file: punch hole; device: BLOCK_URING_CMD_DISCARD, or on
 *                  kernels before 6.12 BLKDISCARD, run synchronously
 *   WRITE_ZEROES   file: zero range, or a punch hole unless NOUNMAP;
 *                  device: fallocate ZERO_RANGE (BLKZEROOUT's meaning), or
 *                  PUNCH_HOLE (zeroing that may unmap) unless NOUNMAP
 *   FUA on DISCARD or WRITE_ZEROES -> an fdatasync linked after it
 * Without IORING_OP_FALLOCATE (kernels before 5.6) fallocate() runs
 * synchronously.  A short read or write is resubmitted for the rest; an
 * error reaches the kernel as the target's -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/ioprio.h>

#include "odirect.h"

/* linux/blkdev.h of Linux 6.12; older headers lack it. */
#define AZB_BLOCK_URING_CMD_DISCARD	_IO(0x12, 0)

/* CQEs taken per peek. */
#define AZB_OD_REAP_BATCH	64
/* --sqpoll: the kernel thread sleeps after this long without work. */
#define AZB_OD_SQPOLL_IDLE_MS	100

/* user_data bit 0: an fdatasync attached to a request (PREFLUSH, FUA). */
#define AZB_OD_AUX		1ULL

/* Per-request state, in the request's engine space. */
struct azb_od_io {
	struct azb_io	*io;
	uint32_t	done;	/* bytes of a read or write finished */
	uint8_t		parts;	/* SQEs whose completion is still due */
	bool		redirect; /* a PREFLUSH done: redirect the write */
	int		err;	/* the first error */
};

/* Per-queue state, owned by the queue's poller thread. */
struct azb_od_queue {
	struct io_uring	ring;
	struct azb_od	*od;
	int		fd;		/* registered index 0, or the fd */
	uint8_t		sqe_flags;	/* IOSQE_FIXED_FILE, or 0 */
	bool		fixed_bufs;	/* the arena is buffer 0 */
	bool		defer_taskrun;	/* completions need an io_uring_enter */
};

/* What the kernel's io_uring offers, found once at open(). */
struct azb_od_caps {
	bool	fallocate;	/* IORING_OP_FALLOCATE */
	bool	discard;	/* BLOCK_URING_CMD_DISCARD on this device */
};

struct azb_od_engine {
	struct azb_od		od;
	struct azb_od_caps	caps;
};

/*
 * Ring setup, best first: single issuer with completions run when the
 * poller asks (6.1+), then cooperative task running (5.19+), then plain.
 */
static int azb_od_ring_init(struct azb_od_queue *oq, unsigned int entries,
			    bool sqpoll)
{
	static const unsigned int plain[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER |
		IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	static const unsigned int polled[] = {
		IORING_SETUP_SQPOLL | IORING_SETUP_SUBMIT_ALL |
		IORING_SETUP_SINGLE_ISSUER,
		IORING_SETUP_SQPOLL,
	};
	const unsigned int *flags = sqpoll ? polled : plain;
	size_t i, n = sqpoll ? sizeof(polled) / sizeof(polled[0]) :
			       sizeof(plain) / sizeof(plain[0]);
	struct io_uring_params p;
	int ret = -EINVAL;

	for (i = 0; i < n && ret == -EINVAL; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flags[i];
		p.sq_thread_idle = sqpoll ? AZB_OD_SQPOLL_IDLE_MS : 0;
		ret = io_uring_queue_init_params(entries, &oq->ring, &p);
		if (!ret)
			oq->defer_taskrun = flags[i] & IORING_SETUP_DEFER_TASKRUN;
	}
	return ret;
}

/*
 * Asks a scratch ring what this kernel's io_uring can do.  A discard of
 * length 0 is refused with EINVAL by a kernel that has the command and
 * with EOPNOTSUPP by one that has not; it never touches data.
 */
static int azb_od_probe_caps(struct azb_od *od, struct azb_od_caps *caps)
{
	struct io_uring_probe *probe;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (ret) {
		azb_log(AZB_LOG_ERR, "odirect engine: io_uring is not available: %s",
			strerror(-ret));
		return ret;
	}
	probe = io_uring_get_probe_ring(&ring);
	caps->fallocate = probe &&
			  io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
	if (od->is_blk && od->discard && probe &&
	    io_uring_opcode_supported(probe, IORING_OP_URING_CMD)) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, od->fd, NULL, 0, 0);
		sqe->cmd_op = AZB_BLOCK_URING_CMD_DISCARD;
		if (io_uring_submit_and_wait(&ring, 1) == 1 &&
		    !io_uring_peek_cqe(&ring, &cqe)) {
			caps->discard = cqe->res == -EINVAL || cqe->res == 0;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
	return 0;
}

static int azb_od_open(struct azb_engine *e, const char *target,
		       const struct azb_engine_opts *o)
{
	struct azb_od_engine *oe;
	int ret;

	if (!target) {
		azb_log(AZB_LOG_ERR, "odirect engine: a target file or block device is required");
		return -EINVAL;
	}
	oe = calloc(1, sizeof(*oe));
	if (!oe)
		return -ENOMEM;
	ret = azb_od_target_open(&oe->od, e, target, o);
	if (ret) {
		free(oe);
		return ret;
	}
	ret = azb_od_probe_caps(&oe->od, &oe->caps);
	if (ret) {
		close(oe->od.fd);
		free(oe);
		return ret;
	}
	oe->od.file = -1;
	if (!oe->od.copy) {
		/* The runtime logs why if the kernel refuses it. */
		ret = azb_engine_add_file(e, oe->od.fd, oe->od.read_only ?
					  AZB_FILE_READ_ONLY : 0);
		oe->od.file = ret < 0 ? -1 : ret;
	}
	e->priv = oe;
	return 0;
}

static void azb_od_close(struct azb_engine *e)
{
	struct azb_od_engine *oe = e->priv;

	close(oe->od.fd);
	free(oe);
	e->priv = NULL;
}

static int azb_od_queue_init(struct azb_engine_queue *q)
{
	struct azb_od_engine *oe = q->engine->priv;
	struct iovec iov = { .iov_base = q->arena, .iov_len = q->arena_bytes };
	struct azb_od_queue *oq;
	int ret;

	oq = calloc(1, sizeof(*oq));
	if (!oq)
		return -ENOMEM;
	oq->od = &oe->od;
	/* At most two SQEs per request: the ring never runs out. */
	ret = azb_od_ring_init(oq, 2 * q->depth, oe->od.sqpoll);
	if (ret) {
		azb_log(AZB_LOG_ERR, "odirect engine: queue %u: cannot set up an io_uring%s: %s",
			q->qid, oe->od.sqpoll ? " with SQPOLL" : "",
			strerror(-ret));
		free(oq);
		return ret;
	}
	oq->fd = oe->od.fd;
	if (!io_uring_register_files(&oq->ring, &oe->od.fd, 1)) {
		oq->fd = 0;
		oq->sqe_flags = IOSQE_FIXED_FILE;
	}
	/*
	 * Only this poller enters the ring: a registered ring fd spares each
	 * io_uring_enter the file table lookup (5.18+; without it, the plain fd).
	 */
	io_uring_register_ring_fd(&oq->ring);
	ret = q->arena ? io_uring_register_buffers(&oq->ring, &iov, 1) : -EINVAL;
	oq->fixed_bufs = !ret;
	if (ret)
		azb_log(AZB_LOG_WARNING, "odirect engine: queue %u: cannot register its buffers with io_uring (%s); using unregistered ones",
			q->qid, strerror(-ret));
	q->priv = oq;
	return 0;
}

static void azb_od_queue_exit(struct azb_engine_queue *q)
{
	struct azb_od_queue *oq = q->priv;

	io_uring_queue_exit(&oq->ring);
	free(oq);
	q->priv = NULL;
}

/* Submits what is prepared; a failure leaves it for the next call. */
static void azb_od_submit(struct azb_od_queue *oq)
{
	if (!io_uring_sq_ready(&oq->ring))
		return;
	/* One call submits and runs the completions the kernel deferred. */
	if (oq->defer_taskrun)
		io_uring_submit_and_get_events(&oq->ring);
	else
		io_uring_submit(&oq->ring);
}

/* Room for n SQEs; false if the ring stays full (never, by its size). */
static bool azb_od_room(struct azb_od_queue *oq, unsigned int n)
{
	if (io_uring_sq_space_left(&oq->ring) >= n)
		return true;
	azb_od_submit(oq);
	if (oq->od->sqpoll && io_uring_sq_space_left(&oq->ring) < n)
		io_uring_sqring_wait(&oq->ring);
	return io_uring_sq_space_left(&oq->ring) >= n;
}

/* Ties a prepared SQE to its request; one more completion is due. */
static void azb_od_sqe_done(struct azb_od_queue *oq, struct io_uring_sqe *sqe,
			    struct azb_od_io *c, uint64_t aux, uint8_t link)
{
	sqe->flags |= oq->sqe_flags | link;
	io_uring_sqe_set_data64(sqe, (uintptr_t)c | aux);
	c->parts++;
}

/* The rest of a read or write, from c->done on. */
static void azb_od_prep_rw(struct azb_od_queue *oq, struct azb_od_io *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&oq->ring);
	struct azb_io *io = c->io;
	void *buf = (char *)io->buf + c->done;
	unsigned int len = io->len - c->done;
	uint64_t off = io->offset + c->done;

	if (io->op == AZB_OP_READ && oq->fixed_bufs)
		io_uring_prep_read_fixed(sqe, oq->fd, buf, len, off, 0);
	else if (io->op == AZB_OP_READ)
		io_uring_prep_read(sqe, oq->fd, buf, len, off);
	else if (oq->fixed_bufs)
		io_uring_prep_write_fixed(sqe, oq->fd, buf, len, off, 0);
	else
		io_uring_prep_write(sqe, oq->fd, buf, len, off);
	if (io->op == AZB_OP_WRITE && (io->flags & AZB_IO_FUA))
		sqe->rw_flags = RWF_DSYNC;
	/* Class NONE means "the submitter's": the ring's own then. */
	if (IOPRIO_PRIO_CLASS(io->ioprio))
		sqe->ioprio = io->ioprio;
	azb_od_sqe_done(oq, sqe, c, 0, 0);
}

static void azb_od_prep_fsync(struct azb_od_queue *oq, struct azb_od_io *c,
			      uint64_t aux, uint8_t link)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&oq->ring);

	io_uring_prep_fsync(sqe, oq->fd, IORING_FSYNC_DATASYNC);
	azb_od_sqe_done(oq, sqe, c, aux, link);
}

/* The fallocate() mode serving a discard or write-zeroes; -1: BLKDISCARD. */
static int azb_od_space_mode(const struct azb_od *od, const struct azb_io *io)
{
	bool may_unmap = !(io->flags & AZB_IO_NOUNMAP);

	if (io->op == AZB_OP_DISCARD)
		return od->is_blk ? -1 : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	/* On a device, PUNCH_HOLE is a zeroing that may unmap, in hardware. */
	if (may_unmap && (od->is_blk ? od->blk_hw_zeroes : od->zeroes_may_punch))
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

/* The fallbacks for kernels whose io_uring cannot: done right here. */
static int azb_od_space_sync(const struct azb_od *od, const struct azb_io *io,
			     int mode)
{
	uint64_t range[2] = { io->offset, io->len };
	int ret;

	if (mode < 0)
		ret = ioctl(od->fd, BLKDISCARD, range);
	else
		ret = fallocate(od->fd, mode, (off_t)io->offset, (off_t)io->len);
	if (!ret && (io->flags & AZB_IO_FUA))
		ret = fdatasync(od->fd);
	return ret ? -errno : 0;
}

/* DISCARD and WRITE_ZEROES: space freed or zeroed, with no data moved. */
static int azb_od_queue_space(const struct azb_od_engine *oe,
			      struct azb_od_queue *oq, struct azb_od_io *c)
{
	const struct azb_od *od = &oe->od;
	struct azb_io *io = c->io;
	bool fua = io->flags & AZB_IO_FUA;
	struct io_uring_sqe *sqe;
	int mode;

	if (io->op == AZB_OP_DISCARD ? !od->discard : !od->write_zeroes)
		return -EOPNOTSUPP;
	mode = azb_od_space_mode(od, io);
	if (mode < 0 ? !oe->caps.discard : !oe->caps.fallocate)
		return azb_od_space_sync(od, io, mode);
	if (!azb_od_room(oq, 2))
		return -EIO;
	sqe = io_uring_get_sqe(&oq->ring);
	if (mode < 0) {
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, oq->fd, NULL, 0, 0);
		sqe->cmd_op = AZB_BLOCK_URING_CMD_DISCARD;
		sqe->addr = io->offset;
		sqe->addr3 = io->len;
	} else {
		io_uring_prep_fallocate(sqe, oq->fd, mode, (off_t)io->offset,
					(off_t)io->len);
	}
	/* FUA: the range must be stable before the request completes. */
	azb_od_sqe_done(oq, sqe, c, 0, fua ? IOSQE_IO_LINK : 0);
	if (fua)
		azb_od_prep_fsync(oq, c, AZB_OD_AUX, 0);
	return AZB_IO_QUEUED;
}

static int azb_od_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	const struct azb_od_engine *oe = q->engine->priv;
	const struct azb_od *od = &oe->od;
	struct azb_od_queue *oq = q->priv;
	struct azb_od_io *c = io->engine_ctx;

	if (io->op > AZB_OP_WRITE_ZEROES)
		return -EOPNOTSUPP;
	if (io->op != AZB_OP_FLUSH) {
		/* The kernel never sends these; they must not reach the target. */
		if (io->offset > od->bytes || io->len > od->bytes - io->offset)
			return -EIO;
		if ((io->offset | io->len) & (od->lbs - 1))
			return -EINVAL;
	}
	if (od->read_only && io->op != AZB_OP_READ && io->op != AZB_OP_FLUSH)
		return -EROFS;
	memset(c, 0, sizeof(*c));
	c->io = io;
	if (q->redirect && (io->op == AZB_OP_READ || io->op == AZB_OP_WRITE)) {
		if (io->op == AZB_OP_READ || !(io->flags & AZB_IO_PREFLUSH))
			return azb_io_redirect(q, io, od->file, io->offset);
		/* The flush first; its completion redirects the write. */
		if (!azb_od_room(oq, 1))
			return -EIO;
		c->redirect = true;
		azb_od_prep_fsync(oq, c, AZB_OD_AUX, 0);
		return AZB_IO_QUEUED;
	}
	switch (io->op) {
	case AZB_OP_READ:
	case AZB_OP_WRITE:
		if (!azb_od_room(oq, 2))
			return -EIO;
		/* A flush the block layer left on the write: fdatasync first. */
		if (io->op == AZB_OP_WRITE && (io->flags & AZB_IO_PREFLUSH))
			azb_od_prep_fsync(oq, c, AZB_OD_AUX, IOSQE_IO_LINK);
		azb_od_prep_rw(oq, c);
		break;
	case AZB_OP_FLUSH:
		if (!azb_od_room(oq, 1))
			return -EIO;
		azb_od_prep_fsync(oq, c, 0, 0);
		break;
	case AZB_OP_DISCARD:
	case AZB_OP_WRITE_ZEROES:
		return azb_od_queue_space(oe, oq, c);
	}
	return AZB_IO_QUEUED;
}

static void azb_od_commit(struct azb_engine_queue *q)
{
	azb_od_submit(q->priv);
}

/*
 * One completion; true if it finished its request.  A read or write that
 * moved fewer bytes than asked goes on from there; one that moved none
 * ran past the target's end.
 */
static bool azb_od_cqe(struct azb_engine_queue *q, struct azb_od_queue *oq,
		       uint64_t ud, int res)
{
	struct azb_od_io *c = (struct azb_od_io *)(uintptr_t)(ud & ~AZB_OD_AUX);
	struct azb_io *io = c->io;
	bool rw = !(ud & AZB_OD_AUX) &&
		  (io->op == AZB_OP_READ || io->op == AZB_OP_WRITE);

	if (rw && (res > 0 || res == -EAGAIN)) {
		if (res > 0)
			c->done += (uint32_t)res < io->len - c->done ?
				   (uint32_t)res : io->len - c->done;
		res = 0;
		if (c->done < io->len) {
			if (azb_od_room(oq, 1)) {
				c->parts--;
				azb_od_prep_rw(oq, c);
				return false;
			}
			res = -EIO;
		}
	} else if (rw && !res) {
		res = -EIO;
	}
	/* A failed PREFLUSH cancels its write: report the cause. */
	if (res < 0 && (!c->err || c->err == -ECANCELED))
		c->err = res;
	if (--c->parts)
		return false;
	if (c->redirect && !c->err)
		c->err = azb_io_redirect(q, io, oq->od->file, io->offset);
	azb_io_complete(q, io, c->err);
	return true;
}

static int azb_od_reap(struct azb_engine_queue *q)
{
	struct azb_od_queue *oq = q->priv;
	struct io_uring_cqe *cqes[AZB_OD_REAP_BATCH];
	unsigned int n, i;
	int done = 0;

	do {
		n = io_uring_peek_batch_cqe(&oq->ring, cqes, AZB_OD_REAP_BATCH);
		for (i = 0; i < n; i++) {
			/* liburing's own timeouts, on kernels before 5.11. */
			if (cqes[i]->user_data == LIBURING_UDATA_TIMEOUT)
				continue;
			done += azb_od_cqe(q, oq, cqes[i]->user_data,
					   cqes[i]->res);
		}
		io_uring_cq_advance(&oq->ring, n);
	} while (n == AZB_OD_REAP_BATCH);
	/* Rests of short transfers, or a batch a full ring held back. */
	azb_od_submit(oq);
	return done;
}

static void azb_od_wait(struct azb_engine_queue *q, unsigned int timeout_us)
{
	struct azb_od_queue *oq = q->priv;
	struct __kernel_timespec ts = {
		.tv_sec = timeout_us / 1000000,
		.tv_nsec = (long long)(timeout_us % 1000000) * 1000,
	};
	struct io_uring_cqe *cqe;

	io_uring_wait_cqe_timeout(&oq->ring, &cqe, &ts);
}

const struct azb_engine_ops azb_engine_odirect = {
	.name		= "odirect",
	.help		= "a file or block device: direct I/O redirected to it (-o copy: io_uring)",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NEEDS_TARGET,
	.io_ctx_bytes	= sizeof(struct azb_od_io),
	.opts		= azb_od_opts,
	.open		= azb_od_open,
	.close		= azb_od_close,
	.queue_init	= azb_od_queue_init,
	.queue_exit	= azb_od_queue_exit,
	.queue		= azb_od_queue,
	.commit		= azb_od_commit,
	.reap		= azb_od_reap,
	.wait		= azb_od_wait,
};
