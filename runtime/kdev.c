// SPDX-License-Identifier: LGPL-2.1-or-later
/* The transport to azbuse.ko: the runtime's char device /dev/azbusecN. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

int azb_kdev_open(uint32_t dev_id, struct azbuse_dev_info *info)
{
	char path[32];
	int fd;

	azb_chr_path(dev_id, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, AZBUSE_IOC_GET_INFO, info) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int azb_kdev_map_queue(int fd, unsigned int qid, struct azbuse_queue_info *qi,
		       void **ring)
{
	void *p;

	memset(qi, 0, sizeof(*qi));
	qi->size = sizeof(*qi);
	qi->qid = qid;
	if (ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, qi) < 0)
		return -errno;
	p = mmap(NULL, qi->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 qi->mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	*ring = p;
	return 0;
}

int azb_kdev_queue_cpus(int fd, unsigned int qid, unsigned int nr_cpus,
			uint64_t *mask)
{
	struct azbuse_queue_info qi = {
		.size = sizeof(qi),
		.qid = qid,
		.cpus_ptr = (uintptr_t)mask,
		.cpus_bytes = AZB_CPU_WORDS(nr_cpus) * sizeof(uint64_t),
	};

	return ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 ? -errno : 0;
}

/*
 * wake_fd: an eventfd for the kernel to signal (AZBUSE_FEAT_WAKE_FD), or -1.
 * redirect: WRITEs come without data, the engine redirects them.
 */
int azb_kdev_attach(int fd, unsigned int qid, void *arena, uint64_t bytes,
		    int wake_fd, bool redirect)
{
	struct azbuse_queue_attach a = {
		.size = sizeof(a),
		.qid = qid,
		.arena_addr = (uintptr_t)arena,
		.arena_bytes = bytes,
		.wake_fd = wake_fd >= 0 ? wake_fd : 0,
		.flags = (wake_fd >= 0 ? AZBUSE_ATTACH_WAKE_FD : 0) |
			 (redirect ? AZBUSE_ATTACH_REDIRECT : 0),
	};

	return ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 ? -errno : 0;
}

int azb_kdev_commit(struct azb_queue *q, bool wait, unsigned int wait_ms)
{
	struct azbuse_commit c = {
		.qid = q->qid,
		.flags = wait ? AZBUSE_COMMIT_WAIT : 0,
		.wait_ms = wait_ms,
	};
	int ret = ioctl((int)(intptr_t)q->commit_ctx, AZBUSE_IOC_COMMIT, &c);

	return ret < 0 ? -errno : ret;
}
