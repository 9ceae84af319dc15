// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * odirect: opening the target and finding out what it needs and supports.
 *
 * - Size: BLKGETSIZE64 or st_size, rounded down to the block size.
 * - Block size: the O_DIRECT alignment the target needs: BLKSSZGET for a
 *   device; for a file, statx(STATX_DIOALIGN) (Linux 6.1+), else the
 *   logical block size of its file system's device, else 4096.  -b may
 *   raise it, never lower it: O_DIRECT would fail every smaller request.
 * - Discard and write-zeroes: a device's own limits, from sysfs.  For a
 *   file, what fallocate() does on a scratch O_TMPFILE beside it, so the
 *   probe never touches the target's data or its allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "odirect.h"

#define AZB_OD_MAX_BS	4096	/* the largest logical block azbuse offers */

#define azb_od_err(od, fmt, ...) \
	azb_log(AZB_LOG_ERR, "odirect engine: %s: " fmt, (od)->path, ##__VA_ARGS__)

static bool azb_od_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

enum { AZB_OD_OPT_SQPOLL, AZB_OD_OPT_COPY };

const struct azb_engine_opt azb_od_opts[] = {
	[AZB_OD_OPT_SQPOLL] = {
		.key = "sqpoll", .kind = AZB_EOPT_FLAG, .flag = "sqpoll",
		.help = "a kernel thread per queue submits the engine's I/O "
			"(IORING_SETUP_SQPOLL): fewer system calls, one more "
			"busy CPU",
	},
	[AZB_OD_OPT_COPY] = {
		.key = "copy", .kind = AZB_EOPT_FLAG,
		.help = "copy through the ring's buffers with io_uring "
			"instead of redirecting (the default where the kernel "
			"has redirect)",
	},
	{ .key = NULL },
};

static int azb_od_parse_params(struct azb_od *od, const char *params)
{
	struct azb_engine_optval v;
	int ret;

	while ((ret = azb_engine_opt_next(&azb_engine_odirect, &params, &v)) > 0) {
		switch (v.opt - azb_od_opts) {
		case AZB_OD_OPT_SQPOLL:
			od->sqpoll = true;
			break;
		case AZB_OD_OPT_COPY:
			od->copy = true;
			break;
		}
	}
	return ret;
}

/*
 * A queue attribute of block device major:minor from sysfs; a partition
 * has its disk's queue one directory up.  0 or -errno.
 */
static int azb_od_sysfs_queue(dev_t dev, const char *attr, uint64_t *val)
{
	static const char *const fmts[] = {
		"/sys/dev/block/%u:%u/queue/%s",
		"/sys/dev/block/%u:%u/../queue/%s",
	};
	char path[PATH_MAX];
	unsigned long long v;
	unsigned int i;
	FILE *f;
	int n;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), fmts[i], major(dev), minor(dev),
			 attr);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fscanf(f, "%llu", &v);
		fclose(f);
		if (n == 1) {
			*val = v;
			return 0;
		}
	}
	return -ENOENT;
}

/* The offset alignment O_DIRECT on this file needs; 0: no O_DIRECT. */
static uint32_t azb_od_file_align(struct azb_od *od, const struct stat *st)
{
	struct statx stx;
	uint64_t v;

	if (!statx(od->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN))
		return stx.stx_dio_offset_align;
	/* Older kernels: the file system's device decides. */
	if (!azb_od_sysfs_queue(st->st_dev, "logical_block_size", &v) &&
	    azb_od_pow2(v) && v <= AZB_OD_MAX_BS)
		return (uint32_t)v;
	return AZB_OD_MAX_BS;
}

static bool azb_od_falloc_ok(int fd, int mode, off_t off, off_t len)
{
	/* A full file system still proves the mode is understood. */
	return !fallocate(fd, mode, off, len) || errno == ENOSPC;
}

/*
 * Which fallocate() modes the file's file system serves.  A scratch file
 * in the same directory is tried; without one (no O_TMPFILE, a read-only
 * directory, a full disk), only a punch past the target's end, which
 * changes nothing, and no zero range.
 */
static void azb_od_probe_file(struct azb_od *od, const struct stat *st,
			      uint32_t blk)
{
	const int keep = FALLOC_FL_KEEP_SIZE;
	char dir[PATH_MAX], *slash;
	bool punch = false, zero = false, probed = false;
	struct stat tst;
	void *buf;
	int fd;

	snprintf(dir, sizeof(dir), "%s", od->path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';	/* "/f" -> "/" */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	buf = calloc(2, blk);
	if (fd >= 0 && buf && !fstat(fd, &tst) && tst.st_dev == st->st_dev &&
	    pwrite(fd, buf, 2 * (size_t)blk, 0) == 2 * (ssize_t)blk) {
		punch = azb_od_falloc_ok(fd, FALLOC_FL_PUNCH_HOLE | keep, 0, blk);
		zero = azb_od_falloc_ok(fd, FALLOC_FL_ZERO_RANGE | keep, blk,
					blk);
		probed = true;
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	if (!probed && !od->read_only)
		punch = azb_od_falloc_ok(od->fd, FALLOC_FL_PUNCH_HOLE | keep,
					 (st->st_size + blk) / blk * blk, blk);
	od->discard = punch;
	od->write_zeroes = zero;
	od->zeroes_may_punch = punch;
}

/* Size and O_DIRECT alignment of a file, and what it can free or zero. */
static int azb_od_file_setup(struct azb_od *od, struct azb_engine *e,
			     const struct stat *st, uint64_t *size,
			     uint32_t *need)
{
	uint32_t blk = (uint32_t)st->st_blksize;

	*size = (uint64_t)st->st_size;
	*need = azb_od_file_align(od, st);
	if (!*need) {
		azb_od_err(od, "its file system does not support O_DIRECT here");
		return -EINVAL;
	}
	/* Space is freed in file system blocks: the discard granularity. */
	if (!azb_od_pow2(blk) || blk < *need || blk > (1U << 20))
		blk = *need < 512 ? 512 : *need;
	if (!od->read_only)
		azb_od_probe_file(od, st, blk);
	e->discard_granularity = blk;
	return 0;
}

/* Size, logical block size and discard limits of a block device. */
static int azb_od_blk_setup(struct azb_od *od, struct azb_engine *e,
			    const struct stat *st, uint64_t *size,
			    uint32_t *need)
{
	uint64_t max = 0, gran = 0, wz = 0;
	int ssz = 0;

	if (ioctl(od->fd, BLKGETSIZE64, size) || ioctl(od->fd, BLKSSZGET, &ssz)) {
		int err = errno;

		azb_od_err(od, "cannot read its size or block size: %s",
			   strerror(err));
		return -err;
	}
	*need = (uint32_t)ssz;
	if (od->read_only)
		return 0;
	/* BLKZEROOUT semantics: zeroes in place, or writes zeroes. */
	od->write_zeroes = true;
	od->blk_hw_zeroes = !azb_od_sysfs_queue(st->st_rdev,
						"write_zeroes_max_bytes",
						&wz) && wz;
	if (azb_od_sysfs_queue(st->st_rdev, "discard_max_bytes", &max) || !max)
		return 0;
	azb_od_sysfs_queue(st->st_rdev, "discard_granularity", &gran);
	od->discard = true;
	e->discard_granularity = azb_od_pow2(gran) && gran <= max &&
				 gran <= (1U << 30) ? (uint32_t)gran : 0;
	e->max_discard_bytes = max > (1U << 30) ? 1U << 30 : (uint32_t)max;
	return 0;
}

/* Settles the block size and the size against -b and -s.  0 or -errno. */
static int azb_od_shape(struct azb_od *od, struct azb_engine *e,
			const struct azb_engine_opts *o, uint64_t size,
			uint32_t need)
{
	uint32_t lbs;

	if (need < 512)
		need = 512;
	if (!azb_od_pow2(need) || need > AZB_OD_MAX_BS) {
		azb_od_err(od, "O_DIRECT needs %u-byte alignment; azbuse blocks are 512..4096 bytes",
			   need);
		return -EINVAL;
	}
	lbs = need;
	if (o->logical_bs) {
		if (o->logical_bs < need) {
			azb_od_err(od, "block size %u is smaller than the %u bytes O_DIRECT on it needs",
				   o->logical_bs, need);
			return -EINVAL;
		}
		lbs = o->logical_bs;
	}
	if (o->dev_bytes) {
		if (o->dev_bytes > size) {
			azb_od_err(od, "holds %" PRIu64 " bytes, fewer than the %" PRIu64 " asked for",
				   size, o->dev_bytes);
			return -ENOSPC;
		}
		if (o->dev_bytes % lbs) {
			azb_od_err(od, "size %" PRIu64 " is not a multiple of its %u-byte blocks",
				   o->dev_bytes, lbs);
			return -EINVAL;
		}
		size = o->dev_bytes;
	}
	size -= size % lbs;
	if (!size) {
		azb_od_err(od, "smaller than one %u-byte block", lbs);
		return -EINVAL;
	}
	od->bytes = size;
	od->lbs = lbs;
	e->dev_bytes = size;
	e->logical_bs = lbs;
	/* Discard limits in units the device's blocks can express. */
	if (e->discard_granularity < lbs)
		e->discard_granularity = 0;
	e->max_discard_bytes -= e->max_discard_bytes % lbs;
	if (e->max_discard_bytes && e->max_discard_bytes <
	    (e->discard_granularity ? e->discard_granularity : lbs))
		e->max_discard_bytes = 0;
	return 0;
}

int azb_od_target_open(struct azb_od *od, struct azb_engine *e,
		       const char *target, const struct azb_engine_opts *o)
{
	struct stat st;
	uint64_t size = 0;
	uint32_t need = 0;
	int flags, ret;

	memset(od, 0, sizeof(*od));
	e->dev_flags = 0;
	e->max_discard_bytes = 0;
	e->discard_granularity = 0;
	e->max_write_zeroes_bytes = 0;
	od->fd = -1;
	od->path = target;
	od->read_only = o->read_only;
	ret = azb_od_parse_params(od, o->params);
	if (ret)
		return ret;
	if (stat(target, &st)) {
		ret = -errno;
		azb_od_err(od, "%s", strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		azb_od_err(od, "not a regular file or a block device");
		return -EINVAL;
	}
	od->is_blk = S_ISBLK(st.st_mode);
	flags = (od->read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC;
	/* A device in use (mounted, another server) is refused: EBUSY. */
	if (od->is_blk)
		flags |= O_EXCL;
	od->fd = open(target, flags);
	if (od->fd < 0) {
		ret = -errno;
		if (errno == EINVAL)
			azb_od_err(od, "its file system does not support O_DIRECT");
		else if (errno == EBUSY)
			azb_od_err(od, "in use (mounted, or served already)");
		else
			azb_od_err(od, "%s%s", strerror(errno),
				   errno == EROFS || errno == EACCES ?
				   " (--ro serves it read-only)" : "");
		return ret;
	}
	if (fstat(od->fd, &st)) {
		ret = -errno;
		goto fail;
	}
	ret = od->is_blk ? azb_od_blk_setup(od, e, &st, &size, &need) :
			   azb_od_file_setup(od, e, &st, &size, &need);
	if (!ret)
		ret = azb_od_shape(od, e, o, size, need);
	if (ret)
		goto fail;
	if (od->read_only)
		e->dev_flags |= AZB_DEV_READ_ONLY;
	if (od->discard)
		e->dev_flags |= AZB_DEV_DISCARD;
	if (od->write_zeroes)
		e->dev_flags |= AZB_DEV_WRITE_ZEROES;
	return 0;
fail:
	close(od->fd);
	od->fd = -1;
	return ret;
}
