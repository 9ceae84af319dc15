// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * null: completes every request at once and never touches data, as SPDK's
 * null bdev and the kernel's null_blk do.  It measures what the runtime and
 * the kernel cost per I/O, and is the smallest complete engine: the template
 * for a new one.
 *
 * It keeps no state, so it has no close() or per-queue hooks.
 */
#include <errno.h>
#include <stdio.h>

#include "engines.h"

static int azb_null_open(struct azb_engine *e, const char *target,
			 const struct azb_engine_opts *o)
{
	/* With no target to take a size from, the size must be given. */
	if (!o->dev_bytes) {
		azb_log(AZB_LOG_ERR, "null engine: a device size is required (-s SIZE)");
		return -EINVAL;
	}
	e->dev_bytes = o->dev_bytes;
	e->logical_bs = o->logical_bs;
	/*
	 * Discards reach it too, so their cost is measured.  Whether flushes
	 * do (a write cache) is the user's choice: nothing here needs them.
	 */
	e->dev_flags = AZB_DEV_DISCARD | AZB_DEV_WRITE_ZEROES;
	return 0;
}

static int azb_null_queue(struct azb_engine_queue *q, struct azb_io *io)
{
	switch (io->op) {
	case AZB_OP_READ:
	case AZB_OP_WRITE:
	case AZB_OP_FLUSH:
	case AZB_OP_DISCARD:
	case AZB_OP_WRITE_ZEROES:
		return 0;
	}
	return -EOPNOTSUPP;
}

/* It takes no options. */
static const struct azb_engine_opt azb_null_opts[] = { { .key = NULL } };

const struct azb_engine_ops azb_engine_null = {
	.name		= "null",
	.help		= "complete every request at once, keep no data (needs -s)",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NO_TARGET,
	.opts		= azb_null_opts,
	.open		= azb_null_open,
	.queue		= azb_null_queue,
};
