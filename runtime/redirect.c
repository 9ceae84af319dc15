// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Redirect, the runtime's half: the files an engine offers are registered
 * with the kernel (AZBUSE_IOC_SET_FILES) once the device is open, and an
 * engine's answer "these bytes are there" becomes an extent list in the
 * request's slot and a CQE flagged AZBUSE_CQE_F_REDIRECT.  The kernel then
 * moves the data itself.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "internal.h"

/* The engine's extents are written to the slot as the kernel reads them. */
_Static_assert(sizeof(struct azb_extent) == sizeof(struct azbuse_extent) &&
	       offsetof(struct azb_extent, file) ==
	       offsetof(struct azbuse_extent, file) &&
	       offsetof(struct azb_extent, len) ==
	       offsetof(struct azbuse_extent, len) &&
	       offsetof(struct azb_extent, offset) ==
	       offsetof(struct azbuse_extent, offset),
	       "struct azb_extent must match struct azbuse_extent");
_Static_assert(AZB_MAX_FILES == AZBUSE_MAX_FILES &&
	       AZB_MAX_EXTENTS == AZBUSE_MAX_EXTENTS &&
	       AZB_FILE_HOLE == AZBUSE_FILE_HOLE &&
	       AZB_FILE_READ_ONLY == AZBUSE_FILE_F_READ_ONLY,
	       "redirect limits must match the kernel's");

int azb_engine_add_file(struct azb_engine *e, int fd, unsigned int flags)
{
	if (fd < 0 || (flags & ~AZB_FILE_READ_ONLY))
		return -EINVAL;
	if (e->nr_files >= AZB_MAX_FILES)
		return -ENOSPC;
	e->files[e->nr_files] = fd;
	e->file_flags[e->nr_files] = flags;
	return e->nr_files++;
}

/*
 * Registers the engine's files on the device open at fd, one call per run
 * of equal flags.  Sets e->redirect; on failure logs why (azb_log) and
 * leaves the engine to serve from the arena.
 */
void azb_redirect_setup(struct azb_engine *e, int fd, uint64_t features)
{
	unsigned int i, j;

	e->redirect = false;
	if (!e->nr_files)
		return;
	if (!(features & AZBUSE_FEAT_REDIRECT)) {
		azb_log(AZB_LOG_WARNING, "azbuse: %s engine: this azbuse.ko cannot redirect I/O to files; data goes through the runtime's memory",
			e->ops->name);
		return;
	}
	for (i = 0; i < e->nr_files; i = j) {
		struct azbuse_files f = {
			.size = sizeof(f),
			.first = i,
			.flags = e->file_flags[i],
			.fds_ptr = (uintptr_t)&e->files[i],
		};

		for (j = i + 1; j < e->nr_files &&
		     e->file_flags[j] == e->file_flags[i]; j++)
			;
		f.nr = j - i;
		if (ioctl(fd, AZBUSE_IOC_SET_FILES, &f) < 0) {
			azb_log(AZB_LOG_WARNING, "azbuse: %s engine: the kernel cannot do direct I/O on file %u (%s); data goes through the runtime's memory",
				e->ops->name, i, strerror(errno));
			if (i) {
				/* Take back what the kernel already took. */
				int none[AZB_MAX_FILES];

				memset(none, 0xff, sizeof(none));
				f.first = 0;
				f.nr = i;
				f.flags = 0;
				f.fds_ptr = (uintptr_t)none;
				ioctl(fd, AZBUSE_IOC_SET_FILES, &f);
			}
			return;
		}
	}
	e->redirect = true;
}

int azb_io_redirect_extents(struct azb_engine_queue *eq, struct azb_io *io,
			    const struct azb_extent *ext, unsigned int n)
{
	struct azb_queue *q = eq->rt;
	struct azb_slot *s = (struct azb_slot *)io;

	if (!eq->redirect || (io->op != AZB_OP_READ && io->op != AZB_OP_WRITE))
		return -EOPNOTSUPP;
	if (!n || n > AZB_MAX_EXTENTS ||
	    n * sizeof(*ext) > q->max_io_bytes)
		return -E2BIG;
	memcpy(io->buf, ext, n * sizeof(*ext));
	s->redirect_extents = n;
	return AZB_IO_REDIRECTED;
}

int azb_io_redirect(struct azb_engine_queue *eq, struct azb_io *io,
		    unsigned int file, uint64_t offset)
{
	struct azb_extent e = {
		.file = file,
		.len = io->len,
		.offset = offset,
	};

	return azb_io_redirect_extents(eq, io, &e, 1);
}
