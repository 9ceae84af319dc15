// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The runtime's flush emulation (engine->emulate): a request flagged
 * PREFLUSH reaches the engine as a FLUSH and then itself, one flagged FUA
 * as itself and then a FLUSH, each step only after the one before
 * succeeded, without the flags emulated; a failed step ends the request
 * with its error.  Checked with an engine that completes at once and with
 * one that completes later, from reap(), and sends what queue() gave it
 * only in commit() (so a step started inside reap() must be committed).
 * The kernel side is the userspace emulation of the ring.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	32
#define MAX_IO	(64u << 10)
#define DEV	(16ull << 20)
#define CALLS	512

/* What queue() saw, in order. */
struct call {
	uint16_t	tag;
	enum azb_op	op;
	uint32_t	flags;
	uint32_t	len;
	uint64_t	offset;
};

static struct call calls[CALLS];
static unsigned int nr_calls;
static uint32_t emulate;	/* what open() declares */
static bool async;		/* complete from reap(), sent by commit() */
static int fail_call = -1;	/* this call (index) fails with EIO */

/* async: queued by queue(), then sent by commit(), then done in reap(). */
static struct azb_io *queued[DEPTH], *sent[DEPTH];
static int queued_res[DEPTH], sent_res[DEPTH];
static unsigned int nr_queued, nr_sent;

static int step_open(struct azb_engine *e, const char *t,
		     const struct azb_engine_opts *o)
{
	e->dev_bytes = o->dev_bytes;
	e->emulate = emulate;
	return 0;
}

static int step_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	int res = 0;

	if (nr_calls == (unsigned int)fail_call)
		res = -EIO;
	if (nr_calls < CALLS)
		calls[nr_calls] = (struct call){ io->tag, io->op, io->flags,
						  io->len, io->offset };
	nr_calls++;
	if (!async)
		return res;
	queued_res[nr_queued] = res;
	queued[nr_queued++] = io;
	return AZB_IO_QUEUED;
}

static void step_commit(struct azb_engine_queue *q)
{
	unsigned int i;

	for (i = 0; i < nr_queued; i++) {
		sent_res[nr_sent] = queued_res[i];
		sent[nr_sent++] = queued[i];
	}
	nr_queued = 0;
}

static int step_reap(struct azb_engine_queue *q)
{
	struct azb_io *done[DEPTH];
	int res[DEPTH];
	unsigned int n = nr_sent, i;

	/* A snapshot: completing may queue a request's next step. */
	memcpy(done, sent, n * sizeof(*done));
	memcpy(res, sent_res, n * sizeof(*res));
	nr_sent = 0;
	for (i = 0; i < n; i++)
		azb_io_complete(q, done[i], res[i]);
	return (int)n;
}

static const struct azb_engine_ops step_ops = {
	.name = "step", .version = AZB_ENGINE_OPS_VERSION,
	.open = step_open, .queue = step_queue, .commit = step_commit,
	.reap = step_reap,
};

static struct azb_emul_rig rig;

static void start(uint32_t emul, bool async_, enum azb_poll_mode mode)
{
	emulate = emul;
	async = async_;
	fail_call = -1;
	nr_calls = nr_queued = nr_sent = 0;
	CHECK(azb_emul_rig_init(&rig, &step_ops, mode, 20, DEPTH, MAX_IO,
				DEV) == 0, "rig");
	azb_emul_rig_start(&rig);
}

/* One request on tag 3; its result. */
static int one(uint8_t op, uint32_t flags, uint32_t len)
{
	nr_calls = 0;
	azb_emul_submit(&rig.em, 3, op, flags, 64, len);
	return azb_emul_wait(&rig.em, 3);
}

/* The engine saw exactly the ops in want (ended by -1). */
static void expect_ops(const char *what, const int *want)
{
	unsigned int i;

	for (i = 0; want[i] >= 0; i++)
		;
	CHECK(nr_calls == i, "%s: the engine saw %u requests, not %u", what,
	      nr_calls, i);
	for (i = 0; i < nr_calls && want[i] >= 0; i++)
		CHECK(calls[i].op == (enum azb_op)want[i] && calls[i].tag == 3,
		      "%s: request %u is op %d on tag %u, not op %d", what, i,
		      calls[i].op, calls[i].tag, want[i]);
}

#define OPS(...)	((const int[]){ __VA_ARGS__, -1 })
#define F	AZB_OP_FLUSH
#define W	AZB_OP_WRITE

static void test_steps(bool async_, enum azb_poll_mode mode)
{
	const char *how = async_ ? "async" : "sync";
	int rc;

	start(AZB_IO_PREFLUSH | AZB_IO_FUA, async_, mode);

	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA |
	      AZBUSE_IO_F_SYNC, 8192);
	CHECK(rc == 8192, "%s: PREFLUSH+FUA write: %d", how, rc);
	expect_ops("PREFLUSH+FUA write", OPS(F, W, F));
	CHECK(calls[0].flags == 0 && calls[0].len == 0 &&
	      calls[0].offset == 0, "%s: pre-flush flags %#x len %u", how,
	      calls[0].flags, calls[0].len);
	CHECK(calls[1].flags == AZB_IO_SYNC && calls[1].len == 8192 &&
	      calls[1].offset == 64 * 512, "%s: the write as flags %#x len %u at %llu",
	      how, calls[1].flags, calls[1].len,
	      (unsigned long long)calls[1].offset);

	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == 4096, "%s: FUA write: %d", how, rc);
	expect_ops("FUA write", OPS(W, F));
	CHECK(calls[0].flags == 0, "FUA reached the engine: %#x",
	      calls[0].flags);

	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH, 4096);
	CHECK(rc == 4096, "%s: PREFLUSH write: %d", how, rc);
	expect_ops("PREFLUSH write", OPS(F, W));

	rc = one(AZBUSE_OP_FLUSH, AZBUSE_IO_F_PREFLUSH, 0);
	CHECK(rc == 0, "%s: PREFLUSH flush: %d", how, rc);
	expect_ops("PREFLUSH flush", OPS(F));
	CHECK(calls[0].flags == 0, "PREFLUSH reached the engine: %#x",
	      calls[0].flags);

	rc = one(AZBUSE_OP_READ, AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == 4096, "%s: FUA read: %d", how, rc);
	expect_ops("FUA read", OPS(AZB_OP_READ));

	rc = one(AZBUSE_OP_WRITE_ZEROES, AZBUSE_IO_F_FUA | AZBUSE_IO_F_NOUNMAP,
		 65536);
	CHECK(rc == 65536, "%s: FUA write-zeroes: %d", how, rc);
	expect_ops("FUA write-zeroes", OPS(AZB_OP_WRITE_ZEROES, F));
	CHECK(calls[0].flags == AZB_IO_NOUNMAP, "write-zeroes flags %#x",
	      calls[0].flags);

	/* A failed step ends the request: nothing after it. */
	fail_call = 0;
	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == -EIO, "%s: failed pre-flush: %d", how, rc);
	expect_ops("failed pre-flush", OPS(F));
	fail_call = 1;
	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == -EIO, "%s: failed write: %d", how, rc);
	expect_ops("failed write", OPS(F, W));
	fail_call = 2;
	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == -EIO, "%s: failed post-flush: %d", how, rc);
	expect_ops("failed post-flush", OPS(F, W, F));
	fail_call = -1;
	CHECK(rig.q.stats.errors == 3, "%s: %llu errors counted, not 3", how,
	      (unsigned long long)rig.q.stats.errors);
	CHECK(rig.q.stats.ios[AZB_OP_WRITE] == 6 &&
	      rig.q.stats.ios[AZB_OP_FLUSH] == 1,
	      "%s: counted %llu writes, %llu flushes: the requests, not the steps",
	      how, (unsigned long long)rig.q.stats.ios[AZB_OP_WRITE],
	      (unsigned long long)rig.q.stats.ios[AZB_OP_FLUSH]);
	azb_emul_rig_stop(&rig);
}

/* Only PREFLUSH emulated: FUA is the engine's own and reaches it. */
static void test_preflush_only(void)
{
	int rc;

	start(AZB_IO_PREFLUSH, false, AZB_POLL_BUSY);
	rc = one(AZBUSE_OP_WRITE, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA, 4096);
	CHECK(rc == 4096, "PREFLUSH+FUA write: %d", rc);
	expect_ops("PREFLUSH emulated, FUA not", OPS(F, W));
	CHECK(calls[1].flags == AZB_IO_FUA, "the write's flags %#x",
	      calls[1].flags);
	azb_emul_rig_stop(&rig);
}

/* Every tag at once, steps interleaved: each request's own in order. */
static void test_full_depth(void)
{
	unsigned int i, j, seen;

	start(AZB_IO_PREFLUSH | AZB_IO_FUA, true, AZB_POLL_ADAPTIVE);
	for (i = 0; i < DEPTH; i++)
		azb_emul_submit(&rig.em, i, AZBUSE_OP_WRITE,
				AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA,
				i * 8, 4096);
	for (i = 0; i < DEPTH; i++)
		CHECK(azb_emul_wait(&rig.em, i) == 4096, "tag %u", i);
	CHECK(nr_calls == 3 * DEPTH, "%u steps for %u requests", nr_calls,
	      DEPTH);
	for (i = 0; i < DEPTH; i++) {
		int want[3] = { F, W, F };

		seen = 0;
		for (j = 0; j < nr_calls && j < CALLS; j++) {
			if (calls[j].tag != i)
				continue;
			CHECK(seen < 3 && calls[j].op == (enum azb_op)want[seen],
			      "tag %u: step %u is op %d", i, seen, calls[j].op);
			seen++;
		}
		CHECK(seen == 3, "tag %u: %u steps", i, seen);
	}
	azb_emul_rig_stop(&rig);
}

int main(void)
{
	/* A step never committed would hang a wait: fail instead. */
	alarm(120);
	test_steps(false, AZB_POLL_BUSY);
	test_steps(true, AZB_POLL_BUSY);
	test_steps(true, AZB_POLL_ADAPTIVE);
	test_preflush_only();
	test_full_depth();
	if (failures) {
		fprintf(stderr, "test_emulate: %d failures\n", failures);
		return 1;
	}
	printf("test_emulate: ok\n");
	return 0;
}
