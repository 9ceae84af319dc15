// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stripe: RAID-0 over 2..16 files or block devices, TARGET "A,B[,C...]",
 * chunk bytes on each in turn (-o chunk=SIZE, default 128K).
 *
 * The engine only maps: a READ or WRITE becomes the extents (member,
 * offset, length) it covers, in order, and the kernel moves the data
 * between the request's own pages and the members, all extents at once
 * (redirect, see azbuse.h).  So it needs a kernel module that redirects;
 * on one that cannot, the queues refuse to start.  A FLUSH is an
 * fdatasync of every member, submitted together on the queue's io_uring.
 * Members open as the odirect engine opens its target (odirect_target.c):
 * O_DIRECT, a block device exclusively; the device is as large as the
 * smallest member allows, in whole chunks.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odirect.h"

#define AZB_ST_MAX_MEMBERS	16
#define AZB_ST_DEF_CHUNK	(128u << 10)
/* Up to 1 MiB requests split into at most 129 extents. */
#define AZB_ST_MIN_CHUNK	(8u << 10)
#define AZB_ST_MAX_CHUNK	(64u << 20)

struct azb_st {
	unsigned int	nr;			/* members */
	struct azb_od	m[AZB_ST_MAX_MEMBERS];	/* each opened as odirect would */
	int		file[AZB_ST_MAX_MEMBERS]; /* redirect index of each */
	uint32_t	chunk;			/* bytes, a power of two */
	unsigned int	chunk_shift;
};

/* A FLUSH's fsyncs still due, in the request's engine space. */
struct azb_st_io {
	struct azb_io	*io;
	unsigned int	left;
	int		err;
};

struct azb_st_queue {
	struct io_uring	ring;
};

static const struct azb_engine_opt azb_st_opts[] = {
	{
		.key = "chunk", .kind = AZB_EOPT_SIZE, .arg = "SIZE",
		.help = "bytes per member before the next one, a power of two "
			"from 8K to 64M (default 128K)",
	},
	{ .key = NULL },
};

static int azb_st_parse(struct azb_st *st, const char *params)
{
	struct azb_engine_optval v;
	int ret;

	st->chunk = AZB_ST_DEF_CHUNK;
	while ((ret = azb_engine_opt_next(&azb_engine_stripe, &params, &v)) > 0) {
		/* chunk, the one option */
		if (v.num < AZB_ST_MIN_CHUNK || v.num > AZB_ST_MAX_CHUNK ||
		    (v.num & (v.num - 1))) {
			azb_log(AZB_LOG_ERR, "stripe engine: chunk=%.*s: a power of two from 8K to 64M",
				(int)v.vlen, v.val);
			return -EINVAL;
		}
		st->chunk = (uint32_t)v.num;
	}
	if (ret)
		return ret;
	st->chunk_shift = (unsigned int)__builtin_ctz(st->chunk);
	return 0;
}

static void azb_st_close_members(struct azb_st *st)
{
	unsigned int i;

	for (i = 0; i < st->nr; i++)
		close(st->m[i].fd);
	st->nr = 0;
}

/* Opens each member of "A,B,...": odirect's checks, its size and block. */
static int azb_st_open_members(struct azb_st *st, const char *target,
			       const struct azb_engine_opts *o)
{
	struct azb_engine_opts mo = {
		.size = sizeof(mo),
		.read_only = o->read_only,
		.write_cache = o->write_cache,
	};
	char *list = strdup(target), *save = NULL, *path;
	int ret = 0;

	if (!list)
		return -ENOMEM;
	for (path = strtok_r(list, ",", &save); path;
	     path = strtok_r(NULL, ",", &save)) {
		struct azb_engine scratch = { 0 };

		if (st->nr == AZB_ST_MAX_MEMBERS) {
			azb_log(AZB_LOG_ERR, "stripe engine: at most %u members",
				AZB_ST_MAX_MEMBERS);
			ret = -EINVAL;
			break;
		}
		/* path lives in list; the message text is only needed here. */
		ret = azb_od_target_open(&st->m[st->nr], &scratch, path, &mo);
		if (ret)
			break;
		st->m[st->nr].path = NULL;
		st->nr++;
	}
	free(list);
	if (!ret && st->nr < 2) {
		azb_log(AZB_LOG_ERR, "stripe engine: TARGET is 2 or more files or block devices, comma-separated");
		ret = -EINVAL;
	}
	if (ret)
		azb_st_close_members(st);
	return ret;
}

/* The device's block size and size: whole chunks of the smallest member. */
static int azb_st_shape(struct azb_st *st, struct azb_engine *e,
			const struct azb_engine_opts *o)
{
	uint64_t per = UINT64_MAX, bytes;
	uint32_t lbs = o->logical_bs ? o->logical_bs : 512;
	unsigned int i;

	for (i = 0; i < st->nr; i++) {
		if (st->m[i].lbs > lbs)
			lbs = st->m[i].lbs;
		if (st->m[i].bytes < per)
			per = st->m[i].bytes;
	}
	per -= per % st->chunk;
	if (!per) {
		azb_log(AZB_LOG_ERR, "stripe engine: a member is smaller than one %u-byte chunk",
			st->chunk);
		return -EINVAL;
	}
	if (lbs > st->chunk) {
		azb_log(AZB_LOG_ERR, "stripe engine: chunk %u is smaller than the %u-byte block",
			st->chunk, lbs);
		return -EINVAL;
	}
	bytes = per * st->nr;
	if (o->dev_bytes) {
		if (o->dev_bytes > bytes || o->dev_bytes % lbs) {
			azb_log(AZB_LOG_ERR, "stripe engine: size %" PRIu64 ": the members hold %" PRIu64 " bytes in %u-byte blocks",
				o->dev_bytes, bytes, lbs);
			return -EINVAL;
		}
		bytes = o->dev_bytes;
	}
	e->dev_bytes = bytes;
	e->logical_bs = lbs;
	e->dev_flags = o->read_only ? AZB_DEV_READ_ONLY : 0;
	return 0;
}

static int azb_st_open(struct azb_engine *e, const char *target,
		       const struct azb_engine_opts *o)
{
	struct azb_st *st;
	unsigned int i;
	int ret;

	if (!target) {
		azb_log(AZB_LOG_ERR, "stripe engine: TARGET is 2 or more files or block devices, comma-separated");
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = azb_st_parse(st, o->params);
	if (!ret)
		ret = azb_st_open_members(st, target, o);
	if (!ret) {
		ret = azb_st_shape(st, e, o);
		if (ret)
			azb_st_close_members(st);
	}
	for (i = 0; !ret && i < st->nr; i++) {
		ret = azb_engine_add_file(e, st->m[i].fd, o->read_only ?
					  AZB_FILE_READ_ONLY : 0);
		st->file[i] = ret;
		ret = ret < 0 ? ret : 0;
		if (ret)
			azb_st_close_members(st);
	}
	if (ret) {
		free(st);
		return ret;
	}
	e->priv = st;
	return 0;
}

static void azb_st_close(struct azb_engine *e)
{
	struct azb_st *st = e->priv;

	azb_st_close_members(st);
	free(st);
	e->priv = NULL;
}

static int azb_st_queue_init(struct azb_engine_queue *q)
{
	struct azb_st *st = q->engine->priv;
	struct azb_st_queue *sq;
	int ret;

	if (!q->redirect) {
		azb_log(AZB_LOG_ERR, "stripe engine: queue %u: the kernel module does not redirect I/O to the members, which stripe needs",
			q->qid);
		return -EOPNOTSUPP;
	}
	sq = calloc(1, sizeof(*sq));
	if (!sq)
		return -ENOMEM;
	/* Room for many FLUSHes, one fsync per member each. */
	ret = io_uring_queue_init(q->depth * st->nr < 4096 ?
				  q->depth * st->nr : 4096, &sq->ring, 0);
	if (ret) {
		azb_log(AZB_LOG_ERR, "stripe engine: queue %u: io_uring: %s",
			q->qid, strerror(-ret));
		free(sq);
		return ret;
	}
	q->priv = sq;
	return 0;
}

static void azb_st_queue_exit(struct azb_engine_queue *q)
{
	struct azb_st_queue *sq = q->priv;

	io_uring_queue_exit(&sq->ring);
	free(sq);
	q->priv = NULL;
}

/* The extents covering [off, off + len), neighbours on one member merged. */
static unsigned int azb_st_map(const struct azb_st *st, uint64_t off,
			       uint32_t len, struct azb_extent *x)
{
	unsigned int n = 0;

	while (len) {
		uint64_t c = off >> st->chunk_shift;
		uint32_t in = (uint32_t)(off & (st->chunk - 1));
		uint32_t part = st->chunk - in < len ? st->chunk - in : len;
		unsigned int m = (unsigned int)(c % st->nr);
		uint64_t moff = (c / st->nr) * st->chunk + in;

		if (n && x[n - 1].file == (uint32_t)st->file[m] &&
		    x[n - 1].offset + x[n - 1].len == moff) {
			x[n - 1].len += part;
		} else {
			x[n].file = (uint32_t)st->file[m];
			x[n].len = part;
			x[n].offset = moff;
			n++;
		}
		off += part;
		len -= part;
	}
	return n;
}

static int azb_st_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	const struct azb_st *st = q->engine->priv;
	struct azb_st_queue *sq = q->priv;
	struct azb_st_io *c = io->engine_ctx;
	struct azb_extent x[AZB_MAX_EXTENTS];
	unsigned int i;

	switch (io->op) {
	case AZB_OP_READ:
	case AZB_OP_WRITE:
		/* The kernel checked the range; the chunk floor bounds n. */
		return azb_io_redirect_extents(q, io, x,
			azb_st_map(st, io->offset, io->len, x));
	case AZB_OP_FLUSH:
		if (io_uring_sq_space_left(&sq->ring) < st->nr)
			io_uring_submit(&sq->ring);	/* frees the SQ */
		if (io_uring_sq_space_left(&sq->ring) < st->nr)
			return -EIO;
		c->io = io;
		c->left = st->nr;
		c->err = 0;
		for (i = 0; i < st->nr; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&sq->ring);

			io_uring_prep_fsync(sqe, st->m[i].fd,
					    IORING_FSYNC_DATASYNC);
			io_uring_sqe_set_data(sqe, c);
		}
		return AZB_IO_QUEUED;
	default:
		return -EOPNOTSUPP;
	}
}

static void azb_st_commit(struct azb_engine_queue *q)
{
	struct azb_st_queue *sq = q->priv;

	if (io_uring_sq_ready(&sq->ring))
		io_uring_submit(&sq->ring);
}

static int azb_st_reap(struct azb_engine_queue *q)
{
	struct azb_st_queue *sq = q->priv;
	struct io_uring_cqe *cqe;
	int done = 0;

	while (!io_uring_peek_cqe(&sq->ring, &cqe)) {
		struct azb_st_io *c = io_uring_cqe_get_data(cqe);

		if (cqe->res < 0 && !c->err)
			c->err = cqe->res;
		io_uring_cqe_seen(&sq->ring, cqe);
		if (--c->left)
			continue;
		azb_io_complete(q, c->io, c->err);
		done++;
	}
	return done;
}

static void azb_st_wait(struct azb_engine_queue *q, unsigned int timeout_us)
{
	struct azb_st_queue *sq = q->priv;
	struct __kernel_timespec ts = {
		.tv_sec = timeout_us / 1000000,
		.tv_nsec = (timeout_us % 1000000) * 1000LL,
	};
	struct io_uring_cqe *cqe;

	io_uring_wait_cqe_timeout(&sq->ring, &cqe, &ts);
}

const struct azb_engine_ops azb_engine_stripe = {
	.name		= "stripe",
	.help		= "RAID-0 over files or block devices A,B,...; the kernel moves the data (-o chunk=SIZE)",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NEEDS_TARGET,
	.io_ctx_bytes	= sizeof(struct azb_st_io),
	.opts		= azb_st_opts,
	.open		= azb_st_open,
	.close		= azb_st_close,
	.queue_init	= azb_st_queue_init,
	.queue_exit	= azb_st_queue_exit,
	.queue		= azb_st_queue,
	.commit		= azb_st_commit,
	.reap		= azb_st_reap,
	.wait		= azb_st_wait,
};
