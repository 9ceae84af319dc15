// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The runtime's poller against the userspace kernel-side emulation of the
 * ring: data integrity through the mem engine, batched completions, request
 * flags reaching the engine, and hostile SQEs failed without harm.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	32
#define MAX_IO	(64u << 10)
#define DEV	(16ull << 20)

/* A recording engine: completes at once and remembers what it saw. */
static uint32_t seen_flags[DEPTH];
static enum azb_op seen_op[DEPTH];
static unsigned int seen_n;

static int rec_open(struct azb_engine *e, const char *t,
		    const struct azb_engine_opts *o)
{
	e->dev_bytes = o->dev_bytes;
	return 0;
}

static int rec_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	if (seen_n < DEPTH) {
		seen_flags[seen_n] = io->flags;
		seen_op[seen_n] = io->op;
		seen_n++;
	}
	return 0;
}

static const struct azb_engine_ops rec_ops = {
	.name = "rec", .version = AZB_ENGINE_OPS_VERSION,
	.open = rec_open, .queue = rec_queue,
};

/* Every rig here: the queue's poll mode and a 20 us adaptive spin. */
static int rig_init(struct azb_emul_rig *r, const struct azb_engine_ops *ops,
		    enum azb_poll_mode mode)
{
	return azb_emul_rig_init(r, ops, mode, 20, DEPTH, MAX_IO, DEV);
}

static void test_integrity(enum azb_poll_mode mode)
{
	static unsigned char ref[DEV];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct azb_emul_rig r;
	unsigned int round, t, bad = 0;
	uint64_t sect[DEPTH];
	uint32_t len[DEPTH];

	memset(ref, 0, sizeof(ref));
	CHECK(rig_init(&r, azb_engine_find("mem"), mode) == 0, "rig");
	azb_emul_rig_start(&r);
	for (round = 0; round < 50; round++) {
		/* A full queue of writes to disjoint ranges, then read back. */
		for (t = 0; t < DEPTH; t++) {
			unsigned char *slot = azb_emul_slot(&r.em, t);
			uint32_t i;

			len[t] = (1 + azb_emul_rnd(&seed) % (MAX_IO / 512)) * 512;
			sect[t] = (t * (DEV / DEPTH) +
				   azb_emul_rnd(&seed) % (DEV / DEPTH - MAX_IO)) / 512;
			for (i = 0; i < len[t]; i++)
				slot[i] = (unsigned char)azb_emul_rnd(&seed);
			memcpy(ref + sect[t] * 512, slot, len[t]);
			azb_emul_submit(&r.em, t, AZBUSE_OP_WRITE, 0, sect[t],
					len[t]);
		}
		for (t = 0; t < DEPTH; t++)
			CHECK(azb_emul_wait(&r.em, t) == (int32_t)len[t],
			      "write result");
		for (t = 0; t < DEPTH; t++) {
			memset(azb_emul_slot(&r.em, t), 0xee, len[t]);
			azb_emul_submit(&r.em, t, AZBUSE_OP_READ, 0, sect[t],
					len[t]);
		}
		for (t = 0; t < DEPTH; t++) {
			CHECK(azb_emul_wait(&r.em, t) == (int32_t)len[t],
			      "read result");
			if (memcmp(azb_emul_slot(&r.em, t),
				   ref + sect[t] * 512, len[t]))
				bad++;
		}
	}
	CHECK(bad == 0, "mode %d: %u reads differ from what was written",
	      mode, bad);
	CHECK(r.em.bad == 0, "kernel side refused %llu CQEs",
	      (unsigned long long)r.em.bad);
	CHECK(r.q.stats.ios[AZB_OP_WRITE] == 50 * DEPTH, "write count %llu",
	      (unsigned long long)r.q.stats.ios[AZB_OP_WRITE]);
	azb_emul_rig_stop(&r);
}

/* Requests published together complete with one commit, not one each. */
static void test_batching(void)
{
	struct azb_emul_rig r;
	unsigned int t;

	CHECK(rig_init(&r, azb_engine_find("null"), AZB_POLL_SLEEP) == 0,
	      "rig");
	for (t = 0; t < DEPTH; t++)
		azb_emul_submit(&r.em, t, AZBUSE_OP_READ, 0, t * 8, 4096);
	azb_emul_rig_start(&r);
	for (t = 0; t < DEPTH; t++)
		CHECK(azb_emul_wait(&r.em, t) == 4096, "null read");
	CHECK(r.q.stats.batches == 1, "%u requests took %llu commits",
	      DEPTH, (unsigned long long)r.q.stats.batches);
	azb_emul_rig_stop(&r);
}

static void test_flags(void)
{
	struct azb_emul_rig r;

	seen_n = 0;
	CHECK(rig_init(&r, &rec_ops, AZB_POLL_BUSY) == 0, "rig");
	azb_emul_rig_start(&r);
	azb_emul_submit(&r.em, 0, AZBUSE_OP_WRITE,
			AZBUSE_IO_F_FUA | AZBUSE_IO_F_SYNC, 0, 4096);
	azb_emul_wait(&r.em, 0);
	azb_emul_submit(&r.em, 1, AZBUSE_OP_FLUSH, AZBUSE_IO_F_PREFLUSH, 0, 0);
	CHECK(azb_emul_wait(&r.em, 1) == 0, "flush result");
	azb_emul_submit(&r.em, 2, AZBUSE_OP_READ,
			AZBUSE_IO_F_RAHEAD | AZBUSE_IO_F_META, 8, 512);
	azb_emul_wait(&r.em, 2);
	CHECK(seen_n == 3, "engine saw %u requests", seen_n);
	CHECK(seen_op[0] == AZB_OP_WRITE &&
	      seen_flags[0] == (AZB_IO_FUA | AZB_IO_SYNC), "write flags %#x",
	      seen_flags[0]);
	CHECK(seen_op[1] == AZB_OP_FLUSH && seen_flags[1] == AZB_IO_PREFLUSH,
	      "flush flags %#x", seen_flags[1]);
	CHECK(seen_op[2] == AZB_OP_READ &&
	      seen_flags[2] == (AZB_IO_RAHEAD | AZB_IO_META),
	      "read flags %#x", seen_flags[2]);
	azb_emul_rig_stop(&r);
}

/* A broken kernel side: every bad SQE gets an error, the poller lives. */
static void test_hostile(void)
{
	struct azb_emul_rig r;
	struct azbuse_sqe e;
	uint64_t before;

	CHECK(rig_init(&r, azb_engine_find("mem"), AZB_POLL_ADAPTIVE) == 0,
	      "rig");
	azb_emul_rig_start(&r);
	azb_emul_submit(&r.em, 0, 99, 0, 0, 4096);
	CHECK(azb_emul_wait(&r.em, 0) == -EOPNOTSUPP, "unknown op");
	azb_emul_submit(&r.em, 1, AZBUSE_OP_READ, 0, 0, MAX_IO + 512);
	CHECK(azb_emul_wait(&r.em, 1) == -EINVAL, "oversized");
	azb_emul_submit(&r.em, 2, AZBUSE_OP_WRITE, 0, DEV / 512, 512);
	CHECK(azb_emul_wait(&r.em, 2) == -EINVAL, "past the end");
	azb_emul_submit(&r.em, 3, AZBUSE_OP_WRITE, 0, UINT64_MAX / 4, 512);
	CHECK(azb_emul_wait(&r.em, 3) == -EINVAL, "sector overflow");
	azb_emul_submit(&r.em, 4, AZBUSE_OP_FLUSH, 0, 0, 4096);
	CHECK(azb_emul_wait(&r.em, 4) == -EINVAL, "flush with data");
	azb_emul_submit(&r.em, 5, AZBUSE_OP_READ, 0, 0, 0);
	CHECK(azb_emul_wait(&r.em, 5) == -EINVAL, "empty read");

	/* A tag the queue does not have: answered, refused, survived. */
	before = r.em.commits;
	memset(&e, 0, sizeof(e));
	e.op = AZBUSE_OP_READ;
	e.tag = DEPTH + 7;
	e.gen = 12345;
	e.nr_bytes = 4096;
	azb_emul_submit_raw(&r.em, &e);
	azb_emul_submit(&r.em, 6, AZBUSE_OP_READ, 0, 0, 4096);
	CHECK(azb_emul_wait(&r.em, 6) == 4096, "read after a bad tag");
	CHECK(r.em.commits > before, "no commit after bad tag");
	CHECK(r.em.bad == 1, "bad CQEs %llu", (unsigned long long)r.em.bad);
	azb_emul_rig_stop(&r);
}

int main(void)
{
	test_integrity(AZB_POLL_BUSY);
	test_integrity(AZB_POLL_ADAPTIVE);
	test_integrity(AZB_POLL_SLEEP);
	test_batching();
	test_flags();
	test_hostile();
	if (failures) {
		fprintf(stderr, "test_ring: %d checks failed\n", failures);
		return 1;
	}
	printf("test_ring: ok\n");
	return 0;
}
