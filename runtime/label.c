// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The label and serial a server gives its device (AZBUSE_FEAT_LABEL): what
 * `azbusectl list` shows and what udev names /dev/disk/by-id links after.
 * By default the label is "ENGINE TARGET" and the serial, for an engine
 * with a target, "ENGINE-TARGET" with every character a by-id name cannot
 * hold replaced: the same target gives the same link after a restart.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "internal.h"

static bool azb_serial_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
}

/* Copies s to dst (len bytes), each character not ok() as 'bad'. */
static void azb_clean_copy(char *dst, size_t len, const char *s,
			   bool (*ok)(int c), char bad)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = ok((unsigned char)s[i]) ? s[i] : bad;
	dst[i] = '\0';
}

static bool azb_label_char(int c)
{
	return c >= 0x20 && c < 0x7f;
}

void azb_label_setup(int fd, const struct azb_server_opts *o)
{
	struct azbuse_label l = { .size = sizeof(l) };
	char buf[AZBUSE_LABEL_LEN + AZBUSE_SERIAL_LEN];
	const char *target = o->target;

	if (o->label) {
		azb_clean_copy(l.label, sizeof(l.label), o->label, azb_label_char, '?');
	} else {
		snprintf(buf, sizeof(buf), "%s%s%s", o->engine->name,
			 target ? " " : "", target ? target : "");
		azb_clean_copy(l.label, sizeof(l.label), buf, azb_label_char, '?');
	}
	if (o->serial) {
		azb_clean_copy(l.serial, sizeof(l.serial), o->serial, azb_serial_char, '_');
	} else if (target) {
		/* "/srv/disk.img" names the same by-id link as "srv/disk.img". */
		while (*target == '/')
			target++;
		snprintf(buf, sizeof(buf), "%s-%s", o->engine->name, target);
		azb_clean_copy(l.serial, sizeof(l.serial), buf, azb_serial_char, '_');
	}
	if (ioctl(fd, AZBUSE_IOC_SET_LABEL, &l) < 0)
		azb_log(AZB_LOG_WARNING, "azbuse: cannot label the device: %s",
			strerror(errno));
}

/* Reads /sys/block/azbuseN/azbuse/NAME, without its newline, into buf. */
static int azb_sysfs_read(uint32_t dev_id, const char *name, char *buf,
			  size_t len)
{
	char path[96];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/sys/block/%s%u/azbuse/%s",
		 AZBUSE_BLK_DEV_NAME, dev_id, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int azb_dev_get_label(uint32_t dev_id, char *label, size_t llen,
		      char *serial, size_t slen)
{
	char path[64];
	int ret = 0;

	if ((!label || !llen) && (!serial || !slen))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/block/%s%u", AZBUSE_BLK_DEV_NAME, dev_id);
	if (access(path, F_OK))
		return -ENODEV;
	if (label && llen)
		ret = azb_sysfs_read(dev_id, "label", label, llen);
	if (!ret && serial && slen)
		ret = azb_sysfs_read(dev_id, "serial", serial, slen);
	return ret == -ENOENT ? -EOPNOTSUPP : ret;
}
