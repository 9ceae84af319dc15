/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * odirect engine internals, shared by its two files: odirect_target.c
 * opens the target and finds out what it needs and supports; odirect.c
 * runs the I/O on one io_uring per queue.
 */
#ifndef AZB_ODIRECT_H
#define AZB_ODIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "engines.h"

/* What the target is, needs and supports; fixed once open() returns. */
struct azb_od {
	int		fd;		/* O_DIRECT */
	const char	*path;		/* for messages */
	bool		is_blk;		/* a block device, else a regular file */
	bool		read_only;
	uint64_t	bytes;		/* what the device serves */
	uint32_t	lbs;		/* the device's logical block size */
	bool		sqpoll;		/* params: "sqpoll" */
	/* params: "copy": data through the arena, not redirected. */
	bool		copy;
	int		file;		/* redirect index, or -1 */
	/* Discard: file punch hole, or device discard. */
	bool		discard;
	/* Write-zeroes: file zero range, or device zero-out. */
	bool		write_zeroes;
	/* File: a punch hole may serve a write-zeroes that may unmap. */
	bool		zeroes_may_punch;
	/* Block device: it zeroes in place and may unmap (REQ_OP_WRITE_ZEROES). */
	bool		blk_hw_zeroes;
};

/*
 * Opens target and fills od and e (size, block size, flags, discard
 * limits).  Prints one line on stderr saying why on failure.
 */
/* The engine's options (odirect_target.c parses them). */
extern const struct azb_engine_opt azb_od_opts[];

int azb_od_target_open(struct azb_od *od, struct azb_engine *e,
		       const char *target, const struct azb_engine_opts *o);

#endif /* AZB_ODIRECT_H */
