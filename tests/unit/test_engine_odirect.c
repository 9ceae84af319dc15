// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The odirect engine on a real file, driven by the real poller against the
 * userspace kernel side of the ring (ring_emul.c): what open() takes from
 * the target and refuses; a full queue of random reads, writes (FUA,
 * PREFLUSH), flushes, discards and write-zeroes (with and without NOUNMAP)
 * checked against a reference copy and then against the file itself; the
 * space a discard frees and a NOUNMAP write-zeroes keeps; a read past a
 * file that shrank fails with EIO; a read-only target refuses writes.  Runs
 * with busy, adaptive (the engine's wait) and SQPOLL rings.
 *
 * The file lives in $TMPDIR (else /var/tmp): skips (77) where O_DIRECT or
 * io_uring is not available.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring_emul.h"
#include "check.h"

#define DEPTH	32
#define MAX_IO	(128U << 10)
#define DEV	(16ULL << 20)
#define STRIPE	(DEV / DEPTH)	/* one request's range per round */
#define ROUNDS	40

static const struct azb_engine_ops *ops;
static char path[4096];
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	return azb_emul_rnd(&rng);
}

/* A queue served by the real poller thread, as the server runs one. */
static int rig_open(struct azb_emul_served *r, const char *params, bool ro,
		    enum azb_poll_mode mode)
{
	struct azb_engine_opts o = {
		.size = sizeof(o), .read_only = ro, .params = params,
	};

	return azb_emul_served_open(r, ops, path, &o, mode, DEPTH, MAX_IO);
}

static int make_file(uint64_t bytes)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)bytes)) {
		FAIL("cannot make %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static uint64_t file_blocks(void)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

static void test_open(void)
{
	struct azb_engine_opts o = { .size = sizeof(o) };
	struct azb_engine e = { .ops = ops };
	int rc;

	if (make_file((1ULL << 20) + 100))
		return;
	rc = ops->open(&e, NULL, &o);
	if (rc != -EINVAL)
		FAIL("open without a target: %d, want -EINVAL", rc);
	rc = ops->open(&e, "/nonexistent/azbuse", &o);
	if (rc != -ENOENT)
		FAIL("open of a missing file: %d, want -ENOENT", rc);
	rc = ops->open(&e, "/", &o);
	if (rc != -EINVAL)
		FAIL("open of a directory: %d, want -EINVAL", rc);
	o.params = "sqpoll,bogus";
	rc = ops->open(&e, path, &o);
	if (rc != -EINVAL)
		FAIL("open with an unknown option: %d, want -EINVAL", rc);
	o.params = NULL;
	o.logical_bs = 256;
	rc = ops->open(&e, path, &o);
	if (rc != -EINVAL)
		FAIL("open with 256-byte blocks: %d, want -EINVAL", rc);
	o.logical_bs = 0;
	o.dev_bytes = 2ULL << 20;
	rc = ops->open(&e, path, &o);
	if (rc != -ENOSPC)
		FAIL("open asking for more than the file: %d, want -ENOSPC", rc);
	o.dev_bytes = 4096 + 512;
	o.logical_bs = 4096;
	rc = ops->open(&e, path, &o);
	if (rc != -EINVAL)
		FAIL("open with a size not in blocks: %d, want -EINVAL", rc);

	/* The size from the file, down to whole blocks; -b raises blocks. */
	o.dev_bytes = 0;
	rc = ops->open(&e, path, &o);
	if (rc) {
		FAIL("open with 4 KiB blocks: %d", rc);
	} else {
		if (e.dev_bytes != 1ULL << 20 || e.logical_bs != 4096)
			FAIL("size %llu block %u, want 1 MiB and 4096",
			     (unsigned long long)e.dev_bytes, e.logical_bs);
		if (e.dev_flags & AZB_DEV_READ_ONLY)
			FAIL("a writable file came out read-only");
		ops->close(&e);
	}
	o.logical_bs = 0;
	o.read_only = true;
	rc = ops->open(&e, path, &o);
	if (rc) {
		FAIL("read-only open: %d", rc);
	} else {
		if (!(e.dev_flags & AZB_DEV_READ_ONLY) ||
		    (e.dev_flags & (AZB_DEV_DISCARD | AZB_DEV_WRITE_ZEROES)))
			FAIL("read-only open: flags 0x%llx",
			     (unsigned long long)e.dev_flags);
		ops->close(&e);
	}
	if (make_file(100))
		return;
	o.read_only = false;
	rc = ops->open(&e, path, &o);
	if (rc != -EINVAL)
		FAIL("open of a 100-byte file: %d, want -EINVAL", rc);
}

static void fill(unsigned char *p, uint32_t len)
{
	uint64_t v;
	uint32_t i;

	for (i = 0; i < len; i += sizeof(v)) {
		v = rnd();
		memcpy(p + i, &v, sizeof(v));
	}
}

/* A length in 512-byte units, 1..max bytes. */
static uint32_t rnd_len(uint64_t max)
{
	return (uint32_t)(1 + rnd() % (max / 512)) * 512;
}

/*
 * ROUNDS rounds of a full queue of requests, one per stripe so that none
 * overlap, then the file itself compared with the reference.
 */
static void test_data(const char *params, enum azb_poll_mode mode,
		      const char *name)
{
	static unsigned char ref[DEV], back[DEV];
	unsigned int round, t, n_ops[5] = { 0 };
	uint64_t off[DEPTH];
	uint32_t len[DEPTH];
	uint8_t op[DEPTH];
	struct azb_emul_served r;
	int rc, fd;

	if (make_file(DEV))
		return;
	memset(ref, 0, sizeof(ref));
	rc = rig_open(&r, params, false, mode);
	if (rc) {
		FAIL("%s: open: %d", name, rc);
		return;
	}
	for (round = 0; round < ROUNDS; round++) {
		for (t = 0; t < DEPTH; t++) {
			uint64_t base = t * STRIPE;
			uint32_t flags = 0, k = rnd() % 10;

			op[t] = k < 4 ? AZBUSE_OP_WRITE : k < 7 ?
				AZBUSE_OP_READ : k == 7 ? AZBUSE_OP_FLUSH :
				k == 8 ? AZBUSE_OP_DISCARD :
				AZBUSE_OP_WRITE_ZEROES;
			if ((op[t] == AZBUSE_OP_DISCARD &&
			     !(r.e.dev_flags & AZB_DEV_DISCARD)) ||
			    (op[t] == AZBUSE_OP_WRITE_ZEROES &&
			     !(r.e.dev_flags & AZB_DEV_WRITE_ZEROES)))
				op[t] = AZBUSE_OP_WRITE;
			/* Discards reach past a slot: up to the stripe. */
			len[t] = op[t] == AZBUSE_OP_FLUSH ? 0 :
				 rnd_len(op[t] >= AZBUSE_OP_DISCARD ?
					 STRIPE : MAX_IO);
			off[t] = op[t] == AZBUSE_OP_FLUSH ? 0 :
				 base + rnd() % ((STRIPE - len[t]) / 512 + 1) *
				 512;
			if (rnd() % 3 == 0)
				flags |= AZBUSE_IO_F_FUA;
			if (op[t] == AZBUSE_OP_WRITE && rnd() % 4 == 0)
				flags |= AZBUSE_IO_F_PREFLUSH;
			if (op[t] == AZBUSE_OP_WRITE_ZEROES && rnd() % 2)
				flags |= AZBUSE_IO_F_NOUNMAP;
			if (op[t] == AZBUSE_OP_WRITE)
				fill(azb_emul_slot(&r.em, t), len[t]);
			else
				memset(azb_emul_slot(&r.em, t), 0xa5, MAX_IO);
			n_ops[op[t]]++;
			azb_emul_submit(&r.em, t, op[t], flags, off[t] >> 9,
					len[t]);
		}
		for (t = 0; t < DEPTH; t++) {
			unsigned char *slot = azb_emul_slot(&r.em, t);

			rc = azb_emul_wait(&r.em, t);
			if (rc != (int32_t)len[t]) {
				FAIL("%s: op %u of %u at %llu: result %d",
				     name, op[t], len[t],
				     (unsigned long long)off[t], rc);
				continue;
			}
			if (op[t] == AZBUSE_OP_WRITE)
				memcpy(ref + off[t], slot, len[t]);
			else if (op[t] >= AZBUSE_OP_DISCARD)
				memset(ref + off[t], 0, len[t]);
			else if (op[t] == AZBUSE_OP_READ &&
				 memcmp(slot, ref + off[t], len[t]))
				FAIL("%s: read of %u at %llu differs", name,
				     len[t], (unsigned long long)off[t]);
		}
	}
	azb_emul_served_close(&r);
	if (r.em.bad)
		FAIL("%s: the ring refused %llu completions", name,
		     (unsigned long long)r.em.bad);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, back, DEV, 0) != (ssize_t)DEV)
		FAIL("%s: cannot read %s back", name, path);
	else if (memcmp(back, ref, DEV))
		FAIL("%s: the file differs from what was written", name);
	if (fd >= 0)
		close(fd);
	printf("%s: %u reads, %u writes, %u flushes, %u discards, %u write-zeroes\n",
	       name, n_ops[0], n_ops[1], n_ops[2], n_ops[3], n_ops[4]);
}

/* Discard frees space, NOUNMAP write-zeroes keeps it; both read zeros. */
static void test_space(void)
{
	const uint32_t mib = 1U << 20, big = 4U << 20;
	uint64_t before, after;
	unsigned char *slot;
	struct azb_emul_served r;
	uint32_t i;
	int32_t rc;

	if (make_file(DEV))
		return;
	if (rig_open(&r, NULL, false, AZB_POLL_BUSY)) {
		FAIL("space: open failed");
		return;
	}
	if (!(r.e.dev_flags & AZB_DEV_DISCARD) ||
	    !(r.e.dev_flags & AZB_DEV_WRITE_ZEROES)) {
		printf("space: the file system cannot punch holes or zero ranges: skipped\n");
		azb_emul_served_close(&r);
		return;
	}
	slot = azb_emul_slot(&r.em, 0);
	/* 4 MiB of data, 4 MiB-aligned: whole file system blocks. */
	for (i = 0; i < big; i += MAX_IO) {
		memset(slot, 0x5a, MAX_IO);
		rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE, 0, big + i, MAX_IO);
		if (rc != (int32_t)MAX_IO)
			FAIL("write at %u: %d", big + i, rc);
	}
	before = file_blocks();
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, AZBUSE_IO_F_NOUNMAP, big, mib);
	after = file_blocks();
	if (rc != (int32_t)mib || after + mib / 2 < before)
		FAIL("NOUNMAP write-zeroes: %d, allocation %llu -> %llu",
		     rc, (unsigned long long)before, (unsigned long long)after);
	before = after;
	rc = azb_emul_served_io(&r, AZBUSE_OP_DISCARD, 0, big + mib, 2 * mib);
	after = file_blocks();
	if (rc != (int32_t)(2 * mib) || after + mib > before)
		FAIL("discard of 2 MiB: %d, allocation %llu -> %llu",
		     rc, (unsigned long long)before, (unsigned long long)after);
	before = after;
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, 0, big + 3 * mib, mib);
	after = file_blocks();
	if (rc != (int32_t)mib || after + mib / 2 > before)
		FAIL("write-zeroes that may unmap: %d, allocation %llu -> %llu",
		     rc, (unsigned long long)before, (unsigned long long)after);
	for (i = 0; i < big; i += MAX_IO) {
		memset(slot, 0xa5, MAX_IO);
		rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, big + i, MAX_IO);
		if (rc != (int32_t)MAX_IO || slot[0] ||
		    memcmp(slot, slot + 1, MAX_IO - 1))
			FAIL("read of zeroed range at %u: %d or not zeros",
			     big + i, rc);
	}
	azb_emul_served_close(&r);
}

/* Errors: past a file that shrank (a short read, then none), read-only. */
static void test_errors(void)
{
	struct azb_emul_served r;
	int32_t rc;

	if (make_file(DEV) || rig_open(&r, NULL, false, AZB_POLL_ADAPTIVE))
		return;
	if (truncate(path, DEV - 6144))
		FAIL("truncate: %s", strerror(errno));
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, DEV - 8192, 8192);
	if (rc != -EIO)
		FAIL("read across the file's new end: %d, want -EIO", rc);
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, DEV - 16384, 8192);
	if (rc != 8192)
		FAIL("read before the file's end: %d, want 8192", rc);
	azb_emul_served_close(&r);

	if (make_file(DEV) || rig_open(&r, NULL, true, AZB_POLL_SLEEP))
		return;
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE, 0, 0, 4096);
	if (rc != -EROFS)
		FAIL("write to a read-only target: %d, want -EROFS", rc);
	rc = azb_emul_served_io(&r, AZBUSE_OP_DISCARD, 0, 0, 4096);
	if (rc != -EROFS)
		FAIL("discard on a read-only target: %d, want -EROFS", rc);
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 0, 4096);
	if (rc != 4096)
		FAIL("read of a read-only target: %d", rc);
	rc = azb_emul_served_io(&r, AZBUSE_OP_FLUSH, 0, 0, 0);
	if (rc)
		FAIL("flush of a read-only target: %d", rc);
	azb_emul_served_close(&r);
}

/* Skips unless O_DIRECT and io_uring work here. */
static void check_usable(void)
{
	struct azb_engine_opts o = { .size = sizeof(o) };
	struct azb_engine e = { .ops = ops };
	int fd;

	if (make_file(1 << 20))
		exit(1);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: no O_DIRECT in %s: %s\n", path, strerror(errno));
		unlink(path);
		exit(77);
	}
	close(fd);
	if (ops->open(&e, path, &o)) {
		printf("SKIP: the odirect engine cannot open %s (io_uring?)\n",
		       path);
		unlink(path);
		exit(77);
	}
	ops->close(&e);
}

int main(void)
{
	const char *dir = getenv("TMPDIR");
	struct azb_emul_served r;

	ops = azb_engine_find("odirect");
	if (!ops) {
		fprintf(stderr, "FAIL: no engine 'odirect' in the table\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/azb-odirect-test.%d",
		 dir && *dir ? dir : "/var/tmp", (int)getpid());
	check_usable();

	test_open();
	test_data(NULL, AZB_POLL_BUSY, "busy");
	test_data(NULL, AZB_POLL_ADAPTIVE, "adaptive");
	test_space();
	test_errors();
	/* SQPOLL may be refused (old kernel, no privilege): then skipped. */
	if (!make_file(DEV) && !rig_open(&r, "sqpoll", false, AZB_POLL_BUSY)) {
		azb_emul_served_close(&r);
		test_data("sqpoll", AZB_POLL_BUSY, "sqpoll");
	} else {
		printf("sqpoll: no SQPOLL ring here: skipped\n");
	}
	unlink(path);
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
