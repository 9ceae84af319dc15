// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mem: a sparse RAM disk.  Storage comes in 64 KiB chunks, allocated on the
 * first write that touches them, so "-s 64G" costs only what is written.
 *
 * The chunk pointer table is an anonymous MAP_NORESERVE mapping: the kernel
 * hands out zeroed pages (NULL pointers) as the table is touched, so even the
 * table of a huge, mostly unwritten disk costs next to nothing.
 *
 * Pollers of different queues call queue() at once.  A chunk pointer, once
 * set, never changes until close(), so readers need only an acquire load;
 * writers that find no chunk race to install one with a compare-and-swap and
 * the loser frees its copy.  Discard and write-zeroes therefore zero memory
 * rather than free chunks: a reader of another queue may be copying from it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engines.h"

#define AZB_MEM_CHUNK_SHIFT	16
#define AZB_MEM_CHUNK_BYTES	(1U << AZB_MEM_CHUNK_SHIFT)

struct azb_mem {
	/* All-bits-zero is NULL, so a fresh mapping is an empty table. */
	unsigned char	**chunks;
	size_t		nr_chunks;
	size_t		table_bytes;
	uint64_t	dev_bytes;
	bool		read_only;
};

static int azb_mem_open(struct azb_engine *e, const char *target,
			const struct azb_engine_opts *o)
{
	struct azb_mem *m;
	uint64_t nr;
	int rc;

	if (!o->dev_bytes) {
		azb_log(AZB_LOG_ERR, "mem engine: a device size is required (-s SIZE)");
		return -EINVAL;
	}
	nr = (o->dev_bytes >> AZB_MEM_CHUNK_SHIFT) +
	     !!(o->dev_bytes & (AZB_MEM_CHUNK_BYTES - 1));
	if (nr > SIZE_MAX / sizeof(*m->chunks)) {
		azb_log(AZB_LOG_ERR, "mem engine: %llu bytes is too large",
			(unsigned long long)o->dev_bytes);
		return -EFBIG;
	}

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->nr_chunks = nr;
	m->table_bytes = nr * sizeof(*m->chunks);
	m->dev_bytes = o->dev_bytes;
	m->read_only = o->read_only;
	m->chunks = mmap(NULL, m->table_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->chunks == MAP_FAILED) {
		rc = -errno;
		azb_log(AZB_LOG_ERR, "mem engine: cannot map a chunk table for %llu bytes: %s",
			(unsigned long long)o->dev_bytes, strerror(-rc));
		free(m);
		return rc;
	}
	/*
	 * One written chunk must cost one table page, not a 2 MiB huge page;
	 * advice only, so a kernel without THP may refuse it.
	 */
	madvise(m->chunks, m->table_bytes, MADV_NOHUGEPAGE);

	e->priv = m;
	e->dev_bytes = o->dev_bytes;
	e->logical_bs = o->logical_bs;
	/* No write cache of its own: whether flushes come is the user's choice. */
	e->dev_flags = AZB_DEV_DISCARD | AZB_DEV_WRITE_ZEROES;
	if (m->read_only)
		e->dev_flags |= AZB_DEV_READ_ONLY;
	return 0;
}

static void azb_mem_close(struct azb_engine *e)
{
	struct azb_mem *m = e->priv;
	size_t i;

	for (i = 0; i < m->nr_chunks; i++)
		free(m->chunks[i]);
	munmap(m->chunks, m->table_bytes);
	free(m);
	e->priv = NULL;
}

/* The chunk at idx, allocated (zeroed) if it has none yet; NULL: no memory. */
static unsigned char *azb_mem_chunk_get(struct azb_mem *m, size_t idx)
{
	unsigned char *c, *old = NULL;

	c = __atomic_load_n(&m->chunks[idx], __ATOMIC_ACQUIRE);
	if (c)
		return c;
	c = calloc(1, AZB_MEM_CHUNK_BYTES);
	if (!c)
		return NULL;
	if (__atomic_compare_exchange_n(&m->chunks[idx], &old, c, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return c;
	free(c);
	return old;
}

static int azb_mem_io(struct azb_mem *m, enum azb_op op, uint64_t off,
		      unsigned char *buf, uint32_t len)
{
	uint32_t in, n, done;
	unsigned char *c;
	size_t idx;

	/* buf may be NULL for discard and write-zeroes: index it only to copy. */
	for (done = 0; done < len; done += n, off += n) {
		idx = off >> AZB_MEM_CHUNK_SHIFT;
		in = off & (AZB_MEM_CHUNK_BYTES - 1);
		n = AZB_MEM_CHUNK_BYTES - in;
		if (n > len - done)
			n = len - done;

		if (op == AZB_OP_WRITE) {
			c = azb_mem_chunk_get(m, idx);
			if (!c)
				return -ENOMEM;
			memcpy(c + in, buf + done, n);
		} else {
			c = __atomic_load_n(&m->chunks[idx], __ATOMIC_ACQUIRE);
			if (op == AZB_OP_READ && c)
				memcpy(buf + done, c + in, n);
			else if (op == AZB_OP_READ)
				memset(buf + done, 0, n);
			else if (c)
				memset(c + in, 0, n);
		}
	}
	return 0;
}

static int azb_mem_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	struct azb_mem *m = q->engine->priv;

	switch (io->op) {
	case AZB_OP_FLUSH:
		/* Written data is already in RAM: there is no cache to empty. */
		return 0;
	case AZB_OP_READ:
		break;
	case AZB_OP_WRITE:
	case AZB_OP_DISCARD:
	case AZB_OP_WRITE_ZEROES:
		if (m->read_only)
			return -EROFS;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* The kernel never sends these; a bad one must not reach past the table. */
	if (io->offset > m->dev_bytes || io->len > m->dev_bytes - io->offset)
		return -EIO;
	return azb_mem_io(m, io->op, io->offset, io->buf, io->len);
}

/* It takes no options. */
static const struct azb_engine_opt azb_mem_opts[] = { { .key = NULL } };

const struct azb_engine_ops azb_engine_mem = {
	.name		= "mem",
	.help		= "sparse RAM disk, zero-filled, lost on exit (needs -s)",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NO_TARGET,
	.opts		= azb_mem_opts,
	.open		= azb_mem_open,
	.close		= azb_mem_close,
	.queue		= azb_mem_queue,
};
