// SPDX-License-Identifier: MIT
/*
 * xmirror: a mirror of two files with a checksum per block (see xmirror.h).
 *
 * Writes go to file A, then to file B, each followed by its checksums, so a
 * daemon killed mid-write leaves at most one copy of a block stale.  Reads
 * come from A; a block whose checksum does not match is read from B, and if
 * B's copy is good it is returned and written back over A.  Only when both
 * copies are damaged does the read fail (EIO).
 *
 * The checksum rotates and XORs the block's 64-bit words: any damaged word
 * changes it, a zeroed block sums to 0, so new files (all zeros) need no
 * initialisation.  The tables are mapped; a FLUSH writes them and the data
 * out, a FUA write its own part of them.
 *
 * Pollers of different queues run at once.  Per-block consistency (data
 * and checksum written together, a read never seeing half a write) comes
 * from 64 mutexes, each guarding every 64th group of 16 blocks; a request
 * takes the stripes it covers in ascending order, so two requests never
 * deadlock.  Per-queue state (a block of scratch memory) needs no lock.
 *
 * Requests run synchronously in queue(): simple, and good enough for files
 * in the page cache.  An engine for slow storage would queue them to an
 * io_uring in queue(), submit in commit() and complete them in reap().
 *
 * Limits of an example: after a power loss (not a daemon crash), a block
 * written since the last FLUSH may fail its checksum in both copies and read
 * as EIO until it is written again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xmirror.h"

#define XM_MAGIC	"AZBXMIR1"
#define XM_HDR_BYTES	4096ULL
#define XM_DEF_BS	4096U
/* The checksum table starts on this boundary: a page on any machine. */
#define XM_ALIGN	65536ULL
#define XM_STRIPES	64
#define XM_STRIPE_SHIFT	4	/* 16 blocks per stripe group */
#define XM_CHECK_BLOCKS	256	/* blocks per read when checking */

struct xm_header {
	char		magic[8];
	uint64_t	dev_bytes;
	uint32_t	block_size;
	uint32_t	pad;
};

struct xm_copy {
	const char	*path;
	int		fd;
	uint64_t	*sums;		/* mapped checksum table */
};

struct xm {
	struct xm_copy	copy[2];	/* A, B */
	uint64_t	dev_bytes;
	uint32_t	bs;
	uint64_t	nr_blocks;
	uint64_t	sums_off;
	size_t		sums_bytes;	/* mapped length */
	size_t		page;
	bool		read_only;
	pthread_mutex_t	stripes[XM_STRIPES];
	uint64_t	repaired;	/* blocks of A rewritten from B */
	char		*target;	/* "A,B", split in place */
};

struct xm_queue {
	void		*scratch;	/* one block */
};

static uint64_t xm_round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

static uint64_t xm_sum(const void *p, uint32_t len)
{
	const unsigned char *c = p;
	uint64_t s = 0, w;
	uint32_t i;

	for (i = 0; i < len; i += sizeof(w)) {
		memcpy(&w, c + i, sizeof(w));
		s = ((s << 1) | (s >> 63)) ^ w;
	}
	return s;
}

static int xm_pread(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* the file is shorter than its header says */
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int xm_pwrite(int fd, const void *buf, size_t len, uint64_t off,
		     int flags)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	ssize_t n;

	while (iov.iov_len) {
		n = pwritev2(fd, &iov, 1, (off_t)off, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
		off += n;
	}
	return 0;
}

/* Reads and checks a file's header; *empty if the file has no bytes yet. */
static int xm_read_header(const char *path, int fd, struct xm_header *h,
			  bool *empty)
{
	struct stat st;
	uint64_t need;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	*empty = st.st_size == 0;
	if (*empty)
		return 0;
	rc = xm_pread(fd, h, sizeof(*h), 0);
	if (rc || memcmp(h->magic, XM_MAGIC, sizeof(h->magic))) {
		fprintf(stderr, "xmirror: %s is not an xmirror file\n", path);
		return -EINVAL;
	}
	if (h->block_size < 512 || h->block_size > 4096 ||
	    (h->block_size & (h->block_size - 1)) || !h->dev_bytes ||
	    h->dev_bytes % h->block_size) {
		fprintf(stderr, "xmirror: %s: bad header\n", path);
		return -EINVAL;
	}
	need = xm_round_up(XM_HDR_BYTES + h->dev_bytes, XM_ALIGN) +
	       h->dev_bytes / h->block_size * sizeof(uint64_t);
	if ((uint64_t)st.st_size < need) {
		fprintf(stderr, "xmirror: %s is shorter than its header says\n",
			path);
		return -EINVAL;
	}
	return 0;
}

static void xm_set_shape(struct xm *m, uint64_t dev_bytes, uint32_t bs)
{
	m->dev_bytes = dev_bytes;
	m->bs = bs;
	m->nr_blocks = dev_bytes / bs;
	m->sums_off = xm_round_up(XM_HDR_BYTES + dev_bytes, XM_ALIGN);
	m->page = (size_t)sysconf(_SC_PAGESIZE);
	m->sums_bytes = xm_round_up(m->nr_blocks * sizeof(uint64_t), m->page);
}

/* Writes the header of a new file and sizes it: all zeros is consistent. */
static int xm_create(struct xm_copy *c, const struct xm_header *h,
		     uint64_t total)
{
	int rc = xm_pwrite(c->fd, h, sizeof(*h), 0, 0);

	if (!rc && ftruncate(c->fd, (off_t)total))
		rc = -errno;
	if (rc)
		fprintf(stderr, "xmirror: cannot create %s: %s\n", c->path,
			strerror(-rc));
	return rc;
}

/*
 * Takes the shape from the files' headers, or, for two new (empty) files,
 * from the options, and creates them.
 */
static int xm_layout(struct xm *m, const struct azb_engine_opts *o)
{
	struct xm_header h[2] = { 0 };
	bool empty[2];
	int i, rc;

	for (i = 0; i < 2; i++) {
		rc = xm_read_header(m->copy[i].path, m->copy[i].fd, &h[i],
				    &empty[i]);
		if (rc)
			return rc;
	}
	if (empty[0] != empty[1]) {
		i = empty[0] ? 0 : 1;
		fprintf(stderr, "xmirror: %s is empty but %s holds a mirror: copy it over first\n",
			m->copy[i].path, m->copy[!i].path);
		return -EINVAL;
	}
	if (empty[0]) {
		if (m->read_only || !o->dev_bytes) {
			fprintf(stderr, "xmirror: new files need a size (-s) and write access\n");
			return -EINVAL;
		}
		memcpy(h[0].magic, XM_MAGIC, sizeof(h[0].magic));
		h[0].dev_bytes = o->dev_bytes;
		h[0].block_size = o->logical_bs ? o->logical_bs : XM_DEF_BS;
		if (h[0].dev_bytes % h[0].block_size) {
			fprintf(stderr, "xmirror: the size is not a multiple of the %u-byte block\n",
				h[0].block_size);
			return -EINVAL;
		}
		xm_set_shape(m, h[0].dev_bytes, h[0].block_size);
		for (i = 0; i < 2; i++) {
			rc = xm_create(&m->copy[i], &h[0],
				       m->sums_off + m->sums_bytes);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (h[0].dev_bytes != h[1].dev_bytes ||
	    h[0].block_size != h[1].block_size) {
		fprintf(stderr, "xmirror: %s and %s mirror different devices\n",
			m->copy[0].path, m->copy[1].path);
		return -EINVAL;
	}
	if ((o->dev_bytes && o->dev_bytes != h[0].dev_bytes) ||
	    (o->logical_bs && o->logical_bs != h[0].block_size)) {
		fprintf(stderr, "xmirror: the files hold a %llu-byte device of %u-byte blocks; the options ask for another\n",
			(unsigned long long)h[0].dev_bytes, h[0].block_size);
		return -EINVAL;
	}
	xm_set_shape(m, h[0].dev_bytes, h[0].block_size);
	return 0;
}

static int xm_map_sums(struct xm *m, struct xm_copy *c)
{
	int prot = PROT_READ | (m->read_only ? 0 : PROT_WRITE);
	void *p;

	p = mmap(NULL, m->sums_bytes, prot, MAP_SHARED, c->fd,
		 (off_t)m->sums_off);
	if (p == MAP_FAILED) {
		fprintf(stderr, "xmirror: cannot map the checksums of %s: %s\n",
			c->path, strerror(errno));
		return -errno;
	}
	c->sums = p;
	return 0;
}

/* Opens both files (read-only or read-write) and maps their checksums. */
static int xm_open_files(struct xm *m, const struct azb_engine_opts *o)
{
	int flags = m->read_only ? O_RDONLY : O_RDWR | O_CREAT;
	int i, rc;

	for (i = 0; i < 2; i++) {
		m->copy[i].fd = open(m->copy[i].path, flags | O_CLOEXEC, 0600);
		if (m->copy[i].fd < 0) {
			rc = -errno;
			fprintf(stderr, "xmirror: cannot open %s: %s\n",
				m->copy[i].path, strerror(-rc));
			return rc;
		}
	}
	rc = xm_layout(m, o);
	for (i = 0; !rc && i < 2; i++)
		rc = xm_map_sums(m, &m->copy[i]);
	return rc;
}

static void xm_free(struct xm *m)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (m->copy[i].sums)
			munmap(m->copy[i].sums, m->sums_bytes);
		if (m->copy[i].fd >= 0)
			close(m->copy[i].fd);
	}
	free(m->target);
	free(m);
}

/* Splits "A,B" and opens both copies; NULL (and a message) on failure. */
static struct xm *xm_new(const char *target, const struct azb_engine_opts *o,
			 int *rc)
{
	struct xm *m;
	char *comma;

	m = calloc(1, sizeof(*m));
	if (!m || !(m->target = strdup(target ? target : ""))) {
		free(m);
		*rc = -ENOMEM;
		return NULL;
	}
	m->copy[0].fd = m->copy[1].fd = -1;
	m->read_only = o->read_only;
	comma = strchr(m->target, ',');
	if (!comma || comma == m->target || !comma[1] || strchr(comma + 1, ',')) {
		fprintf(stderr, "xmirror: the target must be FILE_A,FILE_B, not '%s'\n",
			m->target);
		xm_free(m);
		*rc = -EINVAL;
		return NULL;
	}
	*comma = '\0';
	m->copy[0].path = m->target;
	m->copy[1].path = comma + 1;
	*rc = xm_open_files(m, o);
	if (*rc) {
		xm_free(m);
		return NULL;
	}
	return m;
}

static int xm_open(struct azb_engine *e, const char *target,
		   const struct azb_engine_opts *o)
{
	struct xm *m;
	int i, rc;

	m = xm_new(target, o, &rc);
	if (!m)
		return rc;
	for (i = 0; i < XM_STRIPES; i++)
		pthread_mutex_init(&m->stripes[i], NULL);
	e->priv = m;
	e->dev_bytes = m->dev_bytes;
	e->logical_bs = m->bs;
	e->dev_flags = m->read_only ? AZB_DEV_READ_ONLY : 0;
	return 0;
}

static void xm_close(struct azb_engine *e)
{
	struct xm *m = e->priv;
	int i;

	fprintf(stderr, "xmirror: repaired %llu blocks of %s from %s\n",
		(unsigned long long)m->repaired, m->copy[0].path,
		m->copy[1].path);
	for (i = 0; i < XM_STRIPES; i++)
		pthread_mutex_destroy(&m->stripes[i]);
	xm_free(m);
}

static int xm_queue_init(struct azb_engine_queue *q)
{
	struct xm *m = q->engine->priv;
	struct xm_queue *xq;

	xq = calloc(1, sizeof(*xq));
	if (!xq)
		return -ENOMEM;
	if (posix_memalign(&xq->scratch, 4096, m->bs)) {
		free(xq);
		return -ENOMEM;
	}
	q->priv = xq;
	return 0;
}

static void xm_queue_exit(struct azb_engine_queue *q)
{
	struct xm_queue *xq = q->priv;

	free(xq->scratch);
	free(xq);
}

/* The stripes blocks first..last fall in, as a bit mask. */
static uint64_t xm_stripe_mask(uint64_t first, uint64_t last)
{
	uint64_t g, g0 = first >> XM_STRIPE_SHIFT, g1 = last >> XM_STRIPE_SHIFT;
	uint64_t mask = 0;

	if (g1 - g0 >= XM_STRIPES - 1)
		return ~0ULL;
	for (g = g0; g <= g1; g++)
		mask |= 1ULL << (g % XM_STRIPES);
	return mask;
}

static void xm_lock(struct xm *m, uint64_t mask)
{
	int i;

	for (i = 0; i < XM_STRIPES; i++)
		if (mask & (1ULL << i))
			pthread_mutex_lock(&m->stripes[i]);
}

static void xm_unlock(struct xm *m, uint64_t mask)
{
	int i;

	for (i = XM_STRIPES - 1; i >= 0; i--)
		if (mask & (1ULL << i))
			pthread_mutex_unlock(&m->stripes[i]);
}

/* Writes the checksum-table pages of blocks first..last to disk. */
static int xm_sync_sums(struct xm *m, struct xm_copy *c, uint64_t first,
			uint64_t last)
{
	uintptr_t start = (uintptr_t)&c->sums[first] & ~(uintptr_t)(m->page - 1);
	uintptr_t end = (uintptr_t)&c->sums[last + 1];

	return msync((void *)start, end - start, MS_SYNC) ? -errno : 0;
}

static int xm_flush(struct xm *m)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (msync(m->copy[i].sums, m->sums_bytes, MS_SYNC) ||
		    fdatasync(m->copy[i].fd))
			return -errno;
	}
	return 0;
}

/* Serves a block of A that failed its checksum from B, and repairs A. */
static int xm_read_fallback(struct xm *m, struct xm_queue *xq, uint64_t blk,
			    void *dst)
{
	uint64_t off = XM_HDR_BYTES + blk * m->bs;
	int rc;

	rc = xm_pread(m->copy[1].fd, xq->scratch, m->bs, off);
	if (rc)
		return rc;
	if (xm_sum(xq->scratch, m->bs) != m->copy[1].sums[blk]) {
		fprintf(stderr, "xmirror: block %llu is damaged in both copies\n",
			(unsigned long long)blk);
		return -EIO;
	}
	memcpy(dst, xq->scratch, m->bs);
	if (m->read_only)
		return 0;
	rc = xm_pwrite(m->copy[0].fd, xq->scratch, m->bs, off, 0);
	if (rc)
		return rc;
	m->copy[0].sums[blk] = m->copy[1].sums[blk];
	__atomic_add_fetch(&m->repaired, 1, __ATOMIC_RELAXED);
	return 0;
}

static int xm_read(struct xm *m, struct xm_queue *xq, struct azb_io *io,
		   uint64_t first)
{
	char *buf = io->buf;
	uint64_t i, n = io->len / m->bs;
	bool a_read;
	int rc;

	/* If A cannot be read at all, B serves every block. */
	a_read = !xm_pread(m->copy[0].fd, buf, io->len,
			   XM_HDR_BYTES + io->offset);
	for (i = 0; i < n; i++) {
		if (a_read && xm_sum(buf + i * m->bs, m->bs) ==
			      m->copy[0].sums[first + i])
			continue;
		rc = xm_read_fallback(m, xq, first + i, buf + i * m->bs);
		if (rc)
			return rc;
	}
	return 0;
}

/* Data, then checksums, of one copy. */
static int xm_write_copy(struct xm *m, struct xm_copy *c, struct azb_io *io,
			 uint64_t first)
{
	bool fua = io->flags & AZB_IO_FUA;
	const char *buf = io->buf;
	uint64_t i, n = io->len / m->bs;
	int rc;

	rc = xm_pwrite(c->fd, buf, io->len, XM_HDR_BYTES + io->offset,
		       fua ? RWF_DSYNC : 0);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		c->sums[first + i] = xm_sum(buf + i * m->bs, m->bs);
	return fua ? xm_sync_sums(m, c, first, first + n - 1) : 0;
}

static int xm_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	struct xm *m = q->engine->priv;
	uint64_t first, last, mask;
	int rc;

	if ((io->flags & AZB_IO_PREFLUSH) || io->op == AZB_OP_FLUSH) {
		rc = xm_flush(m);
		if (rc || io->op == AZB_OP_FLUSH)
			return rc;
	}
	if (io->op != AZB_OP_READ && io->op != AZB_OP_WRITE)
		return -EOPNOTSUPP;
	if (!io->len || io->offset % m->bs || io->len % m->bs ||
	    io->offset + io->len > m->dev_bytes)
		return -EIO;
	if (io->op == AZB_OP_WRITE && m->read_only)
		return -EROFS;

	first = io->offset / m->bs;
	last = first + io->len / m->bs - 1;
	mask = xm_stripe_mask(first, last);
	xm_lock(m, mask);
	if (io->op == AZB_OP_READ) {
		rc = xm_read(m, q->priv, io, first);
	} else {
		rc = xm_write_copy(m, &m->copy[0], io, first);
		if (!rc)
			rc = xm_write_copy(m, &m->copy[1], io, first);
	}
	xm_unlock(m, mask);
	return rc;
}

const struct azb_engine_ops xm_engine_ops = {
	.name		= "xmirror",
	.help		= "mirror onto FILE_A,FILE_B with a checksum per block",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NEEDS_TARGET,
	.open		= xm_open,
	.close		= xm_close,
	.queue_init	= xm_queue_init,
	.queue_exit	= xm_queue_exit,
	.queue		= xm_queue,
};

int xm_check(const char *file_a, const char *file_b)
{
	struct azb_engine_opts o = { .size = sizeof(o), .read_only = true };
	uint64_t blk, i, n, bad[2] = { 0, 0 }, differ = 0;
	char target[8192], *buf[2] = { NULL, NULL };
	struct xm *m;
	size_t len;
	int c, rc;

	if ((size_t)snprintf(target, sizeof(target), "%s,%s", file_a, file_b) >=
	    sizeof(target))
		return -ENAMETOOLONG;
	m = xm_new(target, &o, &rc);
	if (!m)
		return rc;
	for (c = 0; c < 2; c++)
		if (posix_memalign((void **)&buf[c], 4096,
				   (size_t)m->bs * XM_CHECK_BLOCKS))
			rc = -ENOMEM;
	for (blk = 0; !rc && blk < m->nr_blocks; blk += n) {
		n = m->nr_blocks - blk;
		if (n > XM_CHECK_BLOCKS)
			n = XM_CHECK_BLOCKS;
		len = n * m->bs;
		for (c = 0; !rc && c < 2; c++)
			rc = xm_pread(m->copy[c].fd, buf[c], len,
				      XM_HDR_BYTES + blk * m->bs);
		for (i = 0; !rc && i < n; i++) {
			for (c = 0; c < 2; c++)
				bad[c] += xm_sum(buf[c] + i * m->bs, m->bs) !=
					  m->copy[c].sums[blk + i];
			differ += !!memcmp(buf[0] + i * m->bs,
					   buf[1] + i * m->bs, m->bs);
		}
	}
	if (!rc) {
		printf("xmirror: %llu blocks of %u bytes: %llu bad in %s, %llu bad in %s, %llu differ\n",
		       (unsigned long long)m->nr_blocks, m->bs,
		       (unsigned long long)bad[0], file_a,
		       (unsigned long long)bad[1], file_b,
		       (unsigned long long)differ);
		rc = bad[0] || bad[1] || differ;
	}
	free(buf[0]);
	free(buf[1]);
	xm_free(m);
	return rc;
}
