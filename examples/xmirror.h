/* SPDX-License-Identifier: MIT */
/*
 * xmirror: an azbuse storage engine that keeps the device on two files, each
 * with a checksum per block, and serves a read from the second copy (and
 * repairs the first) when the first copy's checksum does not match.
 *
 * It uses the public API of <azbuse.h> only, as any program embedding the
 * runtime would.
 *
 * Each file:  [0, 4 KiB)        header: magic, device size, block size
 *             [4 KiB, +size)    the device's data
 *             then              one 64-bit checksum per block
 */
#ifndef XMIRROR_H
#define XMIRROR_H

#include <azbuse.h>

/* The engine; its target is "FILE_A,FILE_B". */
extern const struct azb_engine_ops xm_engine_ops;

/*
 * Checks both files offline: every block against its file's checksum, and
 * the two copies against each other.  Prints a summary; returns 0 if all is
 * well, 1 if a block is damaged or the copies differ, -errno if the files
 * could not be read.
 */
int xm_check(const char *file_a, const char *file_b);

#endif /* XMIRROR_H */
