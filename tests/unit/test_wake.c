// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A poller asleep in its engine while the engine holds a request wakes for
 * a new request when the queue has a wake_fd (AZBUSE_FEAT_WAKE_FD), and
 * sleeps long (few engine waits) instead of waking every millisecond; a
 * stray signal ends one sleep only.
 * The kernel side is the userspace emulation of the ring.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	8
#define MAX_IO	(4u << 10)
#define DEV	(1ull << 20)
#define HELD	0	/* this tag's request stays in the engine */

static struct azb_io *held;
static volatile bool release_held;

static int hold_open(struct azb_engine *e, const char *t,
		     const struct azb_engine_opts *o)
{
	e->dev_bytes = o->dev_bytes;
	return 0;
}

/* Holds tag HELD until released; ends every other request at once. */
static int hold_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	if (io->tag != HELD)
		return 0;
	held = io;
	return AZB_IO_QUEUED;
}

static int hold_reap(struct azb_engine_queue *q)
{
	if (!held || !release_held)
		return 0;
	azb_io_complete(q, held, 0);
	held = NULL;
	return 1;
}

/* Sleeps on the wake_fd only, as an engine whose own fds stay quiet. */
static void hold_wait(struct azb_engine_queue *q, unsigned int timeout_us)
{
	azb_engine_poll(q, NULL, 0, timeout_us);
}

static const struct azb_engine_ops hold_ops = {
	.name		= "hold",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_WAKE_FD,
	.open		= hold_open,
	.queue		= hold_queue,
	.reap		= hold_reap,
	.wait		= hold_wait,
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_wake(void)
{
	struct timespec settle = { 0, 60 * 1000 * 1000 };
	struct azb_emul_rig r;
	double t0, worst = 0;
	uint64_t waits, one = 1;
	unsigned int i;

	CHECK(azb_emul_rig_init(&r, &hold_ops, AZB_POLL_SLEEP, 0, DEPTH,
				MAX_IO, DEV) == 0, "rig");
	CHECK(azb_emul_enable_wake(&r) == 0, "wake_fd: %s", strerror(errno));
	azb_emul_rig_start(&r);
	azb_emul_submit(&r.em, HELD, AZBUSE_OP_READ, 0, 0, MAX_IO);
	for (i = 1; i <= 5; i++) {
		/* Long enough for the poller to be asleep in the engine. */
		nanosleep(&settle, NULL);
		t0 = now_ms();
		azb_emul_submit(&r.em, i, AZBUSE_OP_READ, 0, 8, MAX_IO);
		CHECK(azb_emul_wait(&r.em, i) == (int32_t)MAX_IO,
		      "request %u failed", i);
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	/*
	 * Without the wake-up each would wait out a 200 ms sleep; with a
	 * 1 ms sleep instead there would be hundreds of engine waits.
	 */
	CHECK(worst < 100, "a new request waited %.1f ms for a poller asleep in its engine",
	      worst);
	CHECK(r.q.stats.engine_waits >= 5 && r.q.stats.engine_waits < 40,
	      "%llu engine waits in ~300 ms: want a few long sleeps",
	      (unsigned long long)r.q.stats.engine_waits);
	CHECK(r.em.wake_signals >= 5, "the kernel side signalled %llu times",
	      (unsigned long long)r.em.wake_signals);
	/*
	 * A signal with nothing new (late, or from commit_rqs) ends one
	 * sleep, not every sleep after it.
	 */
	waits = r.q.stats.engine_waits;
	CHECK(write(r.em.wake_fd, &one, sizeof(one)) == sizeof(one), "signal");
	nanosleep(&settle, NULL);
	nanosleep(&settle, NULL);
	CHECK(r.q.stats.engine_waits - waits < 10,
	      "%llu engine waits in 120 ms after a stray signal",
	      (unsigned long long)(r.q.stats.engine_waits - waits));
	release_held = true;
	CHECK(azb_emul_wait(&r.em, HELD) == (int32_t)MAX_IO, "held request");
	azb_emul_rig_stop(&r);
}

int main(void)
{
	test_wake();
	if (failures)
		return 1;
	printf("wake: ok\n");
	return 0;
}
