// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device control: the /dev/azbusectl ioctls behind azb_dev_*() and
 * azb_get_features(), and the names and ids of /dev/azbuseN devices.
 *
 * Each call opens the control node afresh: control calls are rare, and a
 * library that keeps no descriptor open has nothing to leak into children or
 * to go stale when the module is reloaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

/* The public flag and state values are the kernel's, so they copy as is. */
_Static_assert(AZB_DEV_READ_ONLY == AZBUSE_DEV_F_READ_ONLY &&
	       AZB_DEV_ROTATIONAL == AZBUSE_DEV_F_ROTATIONAL &&
	       AZB_DEV_WRITE_CACHE == AZBUSE_DEV_F_WRITE_CACHE &&
	       AZB_DEV_DISCARD == AZBUSE_DEV_F_DISCARD &&
	       AZB_DEV_WRITE_ZEROES == AZBUSE_DEV_F_WRITE_ZEROES &&
	       AZB_DEV_RECOVERY == AZBUSE_DEV_F_RECOVERY,
	       "AZB_DEV_* must equal AZBUSE_DEV_F_*");
_Static_assert(AZB_STATE_IDLE == AZBUSE_STATE_IDLE &&
	       AZB_STATE_LIVE == AZBUSE_STATE_LIVE &&
	       AZB_STATE_REMOVING == AZBUSE_STATE_REMOVING,
	       "AZB_STATE_* must equal AZBUSE_STATE_*");
_Static_assert(AZB_ID_ANY == AZBUSE_ID_ANY, "AZB_ID_ANY != AZBUSE_ID_ANY");

#define AZB_CTL_PATH	"/dev/" AZBUSE_CTL_DEV_NAME

/* -ENOENT when the control node is missing: the module is not loaded. */
static int azb_ctl_ioctl(unsigned long cmd, void *arg)
{
	int fd, rc = 0;

	fd = open(AZB_CTL_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, cmd, arg) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static uint16_t azb_sat_u16(uint32_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : v;
}

void azb_ctl_params_to_uapi(const struct azb_dev_params *p,
			    struct azbuse_dev_info *u)
{
	memset(u, 0, sizeof(*u));
	u->size = sizeof(*u);
	u->dev_id = p->dev_id;
	u->dev_bytes = p->dev_bytes;
	u->flags = p->flags;
	u->logical_bs = p->logical_bs;
	u->physical_bs = p->physical_bs;
	u->max_io_bytes = p->max_io_bytes;
	/* UINT16_MAX is above AZBUSE_MAX_QUEUES and AZBUSE_MAX_DEPTH. */
	u->nr_queues = azb_sat_u16(p->nr_queues);
	u->nr_poll_queues = azb_sat_u16(p->nr_poll_queues);
	u->queue_depth = azb_sat_u16(p->queue_depth);
	u->timeout_ms = p->timeout_ms;
	u->recovery_ms = p->recovery_ms;
	u->max_discard_bytes = p->max_discard_bytes;
	u->discard_granularity = p->discard_granularity;
	u->max_write_zeroes_bytes = p->max_write_zeroes_bytes;
}

int azb_ctl_info_from_uapi(const struct azbuse_dev_info *u,
			   struct azb_dev_info *out)
{
	if (u->dev_id > AZBUSE_MAX_DEV_ID || u->state > AZBUSE_STATE_RECOVERING)
		return -EPROTO;

	memset(out, 0, sizeof(*out));
	azb_dev_params_init(&out->params);
	out->params.dev_id = u->dev_id;
	out->params.dev_bytes = u->dev_bytes;
	out->params.flags = u->flags;
	out->params.logical_bs = u->logical_bs;
	out->params.physical_bs = u->physical_bs;
	out->params.max_io_bytes = u->max_io_bytes;
	out->params.nr_queues = u->nr_queues;
	out->params.nr_poll_queues = u->nr_poll_queues;
	out->params.queue_depth = u->queue_depth;
	out->params.timeout_ms = u->timeout_ms;
	out->params.recovery_ms = u->recovery_ms;
	out->params.max_discard_bytes = u->max_discard_bytes;
	out->params.discard_granularity = u->discard_granularity;
	out->params.max_write_zeroes_bytes = u->max_write_zeroes_bytes;
	out->state = (enum azb_dev_state)u->state;
	out->owner_pid = u->owner_pid;
	out->blk_major = u->blk_major;
	out->blk_minor = u->blk_minor;
	out->chr_major = u->chr_major;
	out->chr_minor = u->chr_minor;
	return 0;
}

void azb_dev_params_init(struct azb_dev_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->dev_id = AZB_ID_ANY;
}

int azb_dev_add(const struct azb_dev_params *p, struct azb_dev_info *info)
{
	struct azbuse_dev_info u;
	int rc;

	/* One layout so far: a caller built against another is refused. */
	if (!p || p->size != sizeof(*p))
		return -EINVAL;
	azb_ctl_params_to_uapi(p, &u);
	rc = azb_ctl_ioctl(AZBUSE_CTL_ADD, &u);
	if (rc)
		return rc;
	return info ? azb_ctl_info_from_uapi(&u, info) : 0;
}

int azb_dev_remove(uint32_t dev_id)
{
	struct azbuse_dev_id u;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.dev_id = dev_id;
	return azb_ctl_ioctl(AZBUSE_CTL_REMOVE, &u);
}

int azb_dev_get_info(uint32_t dev_id, struct azb_dev_info *info)
{
	struct azbuse_dev_info u;
	int rc;

	if (!info)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.dev_id = dev_id;
	rc = azb_ctl_ioctl(AZBUSE_CTL_GET_INFO, &u);
	if (rc)
		return rc;
	return azb_ctl_info_from_uapi(&u, info);
}

int azb_dev_list(uint32_t *ids, unsigned int cap)
{
	struct azbuse_dev_list u;
	int rc;

	if (!ids && cap)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.capacity = cap;
	u.ids_ptr = (uintptr_t)ids;
	rc = azb_ctl_ioctl(AZBUSE_CTL_LIST, &u);
	if (rc)
		return rc;
	if (u.count > AZBUSE_MAX_DEV_ID + 1U)
		return -EPROTO;
	return (int)u.count;
}

int azb_get_features(struct azb_features *f)
{
	struct azbuse_features u;
	int rc;

	if (!f)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	rc = azb_ctl_ioctl(AZBUSE_CTL_GET_FEATURES, &u);
	if (rc)
		return rc;
	memset(f, 0, sizeof(*f));
	f->abi_version = u.abi_version;
	f->features = u.features;
	f->max_queues = u.max_queues;
	f->max_depth = u.max_depth;
	f->max_io_bytes = u.max_io_bytes;
	return 0;
}

void azb_blk_path(uint32_t dev_id, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/%s%u", AZBUSE_BLK_DEV_NAME, dev_id);
}

void azb_chr_path(uint32_t dev_id, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/%s%u", AZBUSE_CHR_DEV_NAME, dev_id);
}

/*
 * Decimal digits only: no sign, no spaces, and no leading zero, since the
 * kernel names devices azbuse7, never azbuse007.
 */
int azb_parse_dev_id(const char *s, uint32_t *dev_id)
{
	static const char dev_prefix[] = "/dev/";
	static const char name_prefix[] = AZBUSE_BLK_DEV_NAME;
	uint32_t v = 0;

	if (!s)
		return -EINVAL;
	if (!strncmp(s, dev_prefix, sizeof(dev_prefix) - 1)) {
		s += sizeof(dev_prefix) - 1;
		if (strncmp(s, name_prefix, sizeof(name_prefix) - 1))
			return -EINVAL;
	}
	if (!strncmp(s, name_prefix, sizeof(name_prefix) - 1))
		s += sizeof(name_prefix) - 1;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > AZBUSE_MAX_DEV_ID)
			return -EINVAL;
	}
	*dev_id = v;
	return 0;
}
