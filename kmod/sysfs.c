// SPDX-License-Identifier: GPL-2.0
/*
 * What a device tells userspace about itself (AZBUSE_FEAT_LABEL): its
 * state, serving pid, label and serial under /sys/block/azbuseN/azbuse/,
 * a change uevent on every change of state (udev marks an unserved disk
 * not ready), and the SET_LABEL ioctl that sets label and serial.
 */
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/kobject.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include "azb.h"

static const char *const azbk_state_names[] = {
	[AZBK_UNSERVED]		= "unserved",
	[AZBK_SERVING]		= "serving",
	[AZBK_RECOVERING]	= "recovering",
	[AZBK_REMOVING]		= "removing",
};

/* Under dev->lock. */
static enum azbk_state azbk_dev_state(struct azbk_dev *dev)
{
	if (dev->removing)
		return AZBK_REMOVING;
	if (dev->held)
		return AZBK_RECOVERING;
	if (dev->opened && dev->nr_queues && dev->nr_attached == dev->nr_queues)
		return AZBK_SERVING;
	return AZBK_UNSERVED;
}

/*
 * Under dev->lock, after anything that may change the state: tells udev.
 * Not while the disk is not (or no longer) added: its own add and remove
 * events say it all, and the kobject must be live for the event.
 */
void azbk_dev_state_changed(struct azbk_dev *dev)
{
	enum azbk_state s = azbk_dev_state(dev);
	char env[32];
	char *envp[] = { env, NULL };

	if (s == dev->last_state)
		return;
	dev->last_state = s;
	if (!dev->disk_added || dev->removing)
		return;
	snprintf(env, sizeof(env), "AZBUSE_STATE=%s", azbk_state_names[s]);
	kobject_uevent_env(&disk_to_dev(dev->disk)->kobj, KOBJ_CHANGE, envp);
}

static struct azbk_dev *azbk_sysfs_dev(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct azbk_dev *dev = azbk_sysfs_dev(d);
	enum azbk_state s;

	mutex_lock(&dev->lock);
	s = azbk_dev_state(dev);
	mutex_unlock(&dev->lock);
	return sysfs_emit(buf, "%s\n", azbk_state_names[s]);
}

static ssize_t pid_show(struct device *d, struct device_attribute *attr,
			char *buf)
{
	struct azbk_dev *dev = azbk_sysfs_dev(d);
	pid_t pid;

	mutex_lock(&dev->lock);
	pid = dev->opened ? dev->owner_pid : 0;
	mutex_unlock(&dev->lock);
	return sysfs_emit(buf, "%d\n", pid);
}

static ssize_t label_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct azbk_dev *dev = azbk_sysfs_dev(d);
	ssize_t n;

	mutex_lock(&dev->lock);
	n = sysfs_emit(buf, "%s\n", dev->label);
	mutex_unlock(&dev->lock);
	return n;
}

static ssize_t serial_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	struct azbk_dev *dev = azbk_sysfs_dev(d);
	ssize_t n;

	mutex_lock(&dev->lock);
	n = sysfs_emit(buf, "%s\n", dev->serial);
	mutex_unlock(&dev->lock);
	return n;
}

static DEVICE_ATTR_RO(state);
static DEVICE_ATTR_RO(pid);
static DEVICE_ATTR_RO(label);
static DEVICE_ATTR_RO(serial);

static struct attribute *azbk_disk_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_pid.attr,
	&dev_attr_label.attr,
	&dev_attr_serial.attr,
	NULL,
};

static const struct attribute_group azbk_disk_group = {
	.name	= "azbuse",
	.attrs	= azbk_disk_attrs,
};

const struct attribute_group *azbk_disk_groups[] = {
	&azbk_disk_group,
	NULL,
};

/* NUL-terminated within len, and every character passes ok(). */
static bool azbk_text_ok(const char *s, size_t len, int (*ok)(int c))
{
	size_t n = strnlen(s, len);

	if (n == len)
		return false;
	while (n--)
		if (!ok((unsigned char)s[n]))
			return false;
	return true;
}

static int azbk_label_char(int c)
{
	return c >= 0x20 && c < 0x7f;
}

/* What a /dev/disk/by-id name may hold without escaping. */
static int azbk_serial_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
}

long azbk_ioc_set_label(struct azbk_dev *dev, void __user *argp)
{
	struct azbuse_label *l;
	long ret = 0;

	l = memdup_user(argp, sizeof(*l));
	if (IS_ERR(l))
		return PTR_ERR(l);
	if (l->size != sizeof(*l) || l->flags ||
	    memchr_inv(l->reserved, 0, sizeof(l->reserved)) ||
	    !azbk_text_ok(l->label, sizeof(l->label), azbk_label_char) ||
	    !azbk_text_ok(l->serial, sizeof(l->serial), azbk_serial_char)) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&dev->lock);
	if (dev->removing) {
		ret = -ENODEV;
	} else {
		strscpy(dev->label, l->label, sizeof(dev->label));
		strscpy(dev->serial, l->serial, sizeof(dev->serial));
	}
	mutex_unlock(&dev->lock);
out:
	kfree(l);
	return ret;
}
