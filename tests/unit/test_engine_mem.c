// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mem engine through its ops only, checked against a reference copy of
 * the disk: random reads, writes, write-zeroes and discards at unaligned
 * 512-byte multiples, I/O across chunk boundaries, never-written ranges
 * reading as zeros, out-of-range requests, a 64 GiB disk that costs next to
 * no memory, and two queues writing at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring_emul.h"
#include "check.h"

#define CHUNK		(64ULL << 10)	/* the engine's allocation unit */
#define MAX_IO		(1U << 20)
/* Not a multiple of CHUNK: the last chunk is partly outside the disk. */
#define DEV_BYTES	((8ULL << 20) + (12 << 10))
#define GARBAGE		0xa5

static const struct azb_engine_ops *ops;

struct disk {
	struct azb_engine	e;
	struct azb_engine_queue	q;
	unsigned char		*slot;	/* the queue's arena: one slot */
};

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	return azb_emul_rnd(&rng_state);
}

static int disk_open(struct disk *d, uint64_t bytes, bool ro)
{
	struct azb_engine_opts o = {
		.size = sizeof(o),
		.dev_bytes = bytes,
		.read_only = ro,
	};
	int rc;

	memset(d, 0, sizeof(*d));
	d->slot = aligned_alloc(4096, MAX_IO);
	if (!d->slot)
		return -ENOMEM;
	d->e.ops = ops;
	rc = ops->open(&d->e, NULL, &o);
	if (rc)
		goto free;
	d->q.engine = &d->e;
	d->q.depth = 1;
	d->q.arena = d->slot;
	d->q.arena_bytes = MAX_IO;
	d->q.max_io_bytes = MAX_IO;
	if (ops->queue_init) {
		rc = ops->queue_init(&d->q);
		if (rc)
			goto close;
	}
	return 0;
close:
	if (ops->close)
		ops->close(&d->e);
free:
	free(d->slot);
	return rc;
}

static void disk_close(struct disk *d)
{
	if (ops->queue_exit)
		ops->queue_exit(&d->q);
	if (ops->close)
		ops->close(&d->e);
	free(d->slot);
}

/* One request on queue q, with the data in buf. */
static int do_io(struct azb_engine_queue *q, enum azb_op op, uint64_t off,
		 uint32_t len, void *buf)
{
	struct azb_io io = {
		.op = op,
		.offset = off,
		.len = len,
		.buf = buf,
	};

	return ops->queue(q, &io);
}

static const char *op_name(enum azb_op op)
{
	static const char *const names[] = {
		"read", "write", "flush", "discard", "write-zeroes",
	};

	return op <= AZB_OP_WRITE_ZEROES ? names[op] : "?";
}

/* Applies op to both the engine and ref; a read is compared with ref. */
static void check_io(struct disk *d, unsigned char *ref, enum azb_op op,
		     uint64_t off, uint32_t len)
{
	uint64_t v;
	uint32_t i;
	int rc;

	if (op == AZB_OP_WRITE)
		for (i = 0; i < len; i += sizeof(v)) {
			v = rnd();
			memcpy(d->slot + i, &v, sizeof(v));
		}
	else
		memset(d->slot, GARBAGE, len);
	rc = do_io(&d->q, op, off, len, d->slot);
	if (rc) {
		FAIL("%s of %u at %llu: %d", op_name(op), len,
		     (unsigned long long)off, rc);
		return;
	}
	switch (op) {
	case AZB_OP_WRITE:
		memcpy(ref + off, d->slot, len);
		break;
	case AZB_OP_DISCARD:
	case AZB_OP_WRITE_ZEROES:
		memset(ref + off, 0, len);
		break;
	case AZB_OP_READ:
		for (i = 0; i < len; i++)
			if (d->slot[i] != ref[off + i])
				break;
		if (i < len)
			FAIL("read of %u at %llu: byte %llu is 0x%02x, want 0x%02x",
			     len, (unsigned long long)off,
			     (unsigned long long)(off + i), d->slot[i],
			     ref[off + i]);
		break;
	default:
		break;
	}
}

static void check_all(struct disk *d, unsigned char *ref)
{
	uint64_t off;

	for (off = 0; off < DEV_BYTES; off += MAX_IO)
		check_io(d, ref, AZB_OP_READ, off,
			 DEV_BYTES - off < MAX_IO ? DEV_BYTES - off : MAX_IO);
}

static void test_open_errors(void)
{
	struct disk d;
	int rc;

	rc = disk_open(&d, 0, false);
	if (rc != -EINVAL) {
		FAIL("open without a size: %d, want -EINVAL", rc);
		if (!rc)
			disk_close(&d);
	}
}

static void test_data(void)
{
	/* Edges: chunk boundaries crossed, whole chunks, the disk's end. */
	static const struct { enum azb_op op; uint64_t off; uint32_t len; } edges[] = {
		{ AZB_OP_WRITE, CHUNK - 512, 1024 },
		{ AZB_OP_WRITE, 3 * CHUNK - 512, 2 * CHUNK + 1024 },
		{ AZB_OP_WRITE, CHUNK, CHUNK },
		{ AZB_OP_WRITE, 0, 512 },
		{ AZB_OP_WRITE, DEV_BYTES - 512, 512 },
		{ AZB_OP_WRITE, DEV_BYTES - MAX_IO, MAX_IO },
		{ AZB_OP_WRITE_ZEROES, CHUNK - 1536, 2048 },
		{ AZB_OP_DISCARD, 3 * CHUNK + 512, CHUNK },
		{ AZB_OP_WRITE_ZEROES, 40 * CHUNK, 4 * CHUNK },	/* unwritten */
		{ AZB_OP_DISCARD, DEV_BYTES - 4096, 4096 },
		{ AZB_OP_READ, CHUNK - 4096, 3 * CHUNK },
	};
	unsigned char *ref;
	struct disk d;
	uint64_t off, len;
	unsigned int i;
	enum azb_op op;
	int rc;

	ref = calloc(1, DEV_BYTES);
	if (!ref) {
		FAIL("out of memory");
		return;
	}
	rc = disk_open(&d, DEV_BYTES, false);
	if (rc) {
		FAIL("open of %llu bytes: %d", (unsigned long long)DEV_BYTES, rc);
		free(ref);
		return;
	}
	if (d.e.dev_bytes != DEV_BYTES)
		FAIL("dev_bytes %llu, want %llu",
		     (unsigned long long)d.e.dev_bytes,
		     (unsigned long long)DEV_BYTES);

	/* Nothing written yet: all zeros, over a slot full of garbage. */
	check_all(&d, ref);

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_io(&d, ref, edges[i].op, edges[i].off, edges[i].len);
	check_all(&d, ref);

	for (i = 0; i < 4000; i++) {
		switch (rnd() % 10) {
		case 0:
			op = AZB_OP_WRITE_ZEROES;
			break;
		case 1:
			op = AZB_OP_DISCARD;
			break;
		case 2: case 3: case 4: case 5:
			op = AZB_OP_WRITE;
			break;
		default:
			op = AZB_OP_READ;
		}
		off = rnd() % (DEV_BYTES / 512) * 512;
		len = (1 + rnd() % (MAX_IO / 512)) * 512;
		if (len > DEV_BYTES - off)
			len = DEV_BYTES - off;
		check_io(&d, ref, op, off, (uint32_t)len);
	}
	check_all(&d, ref);

	rc = do_io(&d.q, AZB_OP_FLUSH, 0, 0, d.slot);
	if (rc)
		FAIL("flush: %d", rc);
	rc = do_io(&d.q, (enum azb_op)42, 0, 512, d.slot);
	if (rc >= 0)
		FAIL("unknown op: %d, want an error", rc);

	/* Out of range, including past the end of the last, partial chunk. */
	for (op = AZB_OP_READ; op <= AZB_OP_WRITE_ZEROES; op++) {
		if (op == AZB_OP_FLUSH)
			continue;
		rc = do_io(&d.q, op, DEV_BYTES, 512, d.slot);
		if (rc != -EIO)
			FAIL("%s at the end: %d, want -EIO", op_name(op), rc);
		rc = do_io(&d.q, op, DEV_BYTES - 512, 1024, d.slot);
		if (rc != -EIO)
			FAIL("%s across the end: %d, want -EIO", op_name(op), rc);
		rc = do_io(&d.q, op, UINT64_MAX - 511, 512, d.slot);
		if (rc != -EIO)
			FAIL("%s at 2^64 - 512: %d, want -EIO", op_name(op), rc);
		rc = do_io(&d.q, op, CHUNK * (DEV_BYTES / CHUNK + 1), 512,
			   d.slot);
		if (rc != -EIO)
			FAIL("%s past the last chunk: %d, want -EIO",
			     op_name(op), rc);
	}
	/* Refused requests changed nothing. */
	check_all(&d, ref);

	disk_close(&d);
	free(ref);
}

static void test_read_only(void)
{
	struct disk d;
	int rc;

	rc = disk_open(&d, 1 << 20, true);
	if (rc) {
		FAIL("read-only open: %d", rc);
		return;
	}
	if (!(d.e.dev_flags & AZB_DEV_READ_ONLY))
		FAIL("read-only open: dev_flags lack AZB_DEV_READ_ONLY");
	memset(d.slot, GARBAGE, 4096);
	rc = do_io(&d.q, AZB_OP_WRITE, 0, 4096, d.slot);
	if (rc != -EROFS)
		FAIL("write to a read-only disk: %d, want -EROFS", rc);
	rc = do_io(&d.q, AZB_OP_WRITE_ZEROES, 0, 4096, d.slot);
	if (rc != -EROFS)
		FAIL("write-zeroes to a read-only disk: %d, want -EROFS", rc);
	rc = do_io(&d.q, AZB_OP_READ, 0, 4096, d.slot);
	if (rc || d.slot[0] || memcmp(d.slot, d.slot + 1, 4095))
		FAIL("read of a read-only disk: %d, or not zeros", rc);
	disk_close(&d);
}

static long rss_bytes(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* 64 GiB on a machine that may have far less: only what is written costs. */
static void test_sparse(void)
{
	const uint64_t bytes = 64ULL << 30;
	const uint64_t offs[] = { 0, bytes / 2 - 512, bytes - 4096 };
	long before, opened, written;
	struct disk d;
	unsigned int i;
	int rc;

	before = rss_bytes();
	if (before < 0) {
		FAIL("cannot read /proc/self/statm");
		return;
	}
	rc = disk_open(&d, bytes, false);
	if (rc) {
		FAIL("open of 64 GiB: %d", rc);
		return;
	}
	opened = rss_bytes();
	if (opened - before > (1L << 20))
		FAIL("open of 64 GiB grew RSS by %ld KiB", (opened - before) >> 10);

	for (i = 0; i < 3; i++) {
		memset(d.slot, 0x11 * (i + 1), 4096);
		rc = do_io(&d.q, AZB_OP_WRITE, offs[i], 4096, d.slot);
		if (rc)
			FAIL("write at %llu: %d", (unsigned long long)offs[i], rc);
	}
	for (i = 0; i < 3; i++) {
		memset(d.slot, 0, 4096);
		rc = do_io(&d.q, AZB_OP_READ, offs[i], 4096, d.slot);
		if (rc || d.slot[0] != 0x11 * (i + 1) ||
		    memcmp(d.slot, d.slot + 1, 4095))
			FAIL("read back at %llu: %d or wrong data",
			     (unsigned long long)offs[i], rc);
	}
	memset(d.slot, GARBAGE, MAX_IO);
	rc = do_io(&d.q, AZB_OP_READ, bytes / 4, MAX_IO, d.slot);
	if (rc || d.slot[0] || memcmp(d.slot, d.slot + 1, MAX_IO - 1))
		FAIL("read of an unwritten MiB: %d or not zeros", rc);
	written = rss_bytes();
	if (written - before > (4L << 20))
		FAIL("three 4 KiB writes to 64 GiB grew RSS by %ld KiB",
		     (written - before) >> 10);
	disk_close(&d);
}

/*
 * Two queues write interleaved 12 KiB stripes of a fresh disk at once: both
 * find most chunks missing at the same moment and race to install them.  A
 * write that went to a chunk that lost the race would read back as zeros.
 */
#define STRIPE		(12U << 10)
#define RACE_BYTES	(4ULL << 20)
#define RACE_ROUNDS	20

struct racer {
	struct disk		*d;
	struct azb_engine_queue	q;
	unsigned char		*slot;
	unsigned int		id;
	pthread_barrier_t	*start;
	int			errors;
};

static unsigned char pattern(uint64_t off, unsigned int id)
{
	return (unsigned char)((off >> 9) * 31 + id * 101 + 1);
}

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	uint64_t off, i;

	pthread_barrier_wait(r->start);
	for (off = (uint64_t)r->id * STRIPE; off < RACE_BYTES;
	     off += 2 * STRIPE) {
		uint32_t len = RACE_BYTES - off < STRIPE ? RACE_BYTES - off : STRIPE;

		for (i = 0; i < len; i++)
			r->slot[i] = pattern(off + i, r->id);
		if (do_io(&r->q, AZB_OP_WRITE, off, len, r->slot))
			r->errors++;
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct racer r[2];
	pthread_t t[2];
	pthread_barrier_t start;
	struct disk d;
	uint64_t off, i;
	unsigned int round, k, bad = 0;
	int rc;

	for (round = 0; round < RACE_ROUNDS && !bad; round++) {
		rc = disk_open(&d, RACE_BYTES, false);
		if (rc) {
			FAIL("open: %d", rc);
			return;
		}
		pthread_barrier_init(&start, NULL, 2);
		for (k = 0; k < 2; k++) {
			r[k] = (struct racer){
				.d = &d, .q = d.q, .id = k, .start = &start,
			};
			r[k].q.qid = k;
			r[k].slot = aligned_alloc(4096, STRIPE);
			if (!r[k].slot) {
				FAIL("out of memory");
				return;
			}
			r[k].q.arena = r[k].slot;
			r[k].q.arena_bytes = STRIPE;
			r[k].q.max_io_bytes = STRIPE;
		}
		for (k = 0; k < 2; k++)
			if (pthread_create(&t[k], NULL, racer_main, &r[k])) {
				FAIL("pthread_create failed");
				return;
			}
		for (k = 0; k < 2; k++) {
			pthread_join(t[k], NULL);
			if (r[k].errors)
				FAIL("round %u: queue %u: %d writes failed",
				     round, k, r[k].errors);
			free(r[k].slot);
		}
		pthread_barrier_destroy(&start);

		for (off = 0; off < RACE_BYTES && !bad; off += STRIPE) {
			uint32_t len = RACE_BYTES - off < STRIPE ?
				       RACE_BYTES - off : STRIPE;
			unsigned int id = (off / STRIPE) % 2;

			rc = do_io(&d.q, AZB_OP_READ, off, len, d.slot);
			for (i = 0; !rc && i < len; i++)
				if (d.slot[i] != pattern(off + i, id))
					break;
			if (rc || i < len) {
				FAIL("round %u: stripe at %llu: rc %d, byte %llu lost",
				     round, (unsigned long long)off, rc,
				     (unsigned long long)(off + i));
				bad++;
			}
		}
		disk_close(&d);
	}
}

int main(void)
{
	ops = azb_engine_find("mem");
	if (!ops) {
		fprintf(stderr, "FAIL: no engine 'mem' in the table\n");
		return 1;
	}
	if (!(ops->flags & AZB_ENGINE_F_NO_TARGET))
		FAIL("flags 0x%x lack AZB_ENGINE_F_NO_TARGET", ops->flags);
	test_open_errors();
	test_data();
	test_read_only();
	test_sparse();
	test_concurrent();
	if (failures) {
		fprintf(stderr, "test_engine_mem: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_engine_mem: ok\n");
	return 0;
}
