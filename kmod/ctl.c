// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/azbusectl: add, remove, list and query devices.  Root only; every
 * struct from userspace carries its size and zeroed reserved fields.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "azb.h"

static long azbk_ctl_add(void __user *argp)
{
	struct azbuse_dev_info info;
	int ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	ret = azbk_dev_add(&info);
	if (ret)
		return ret;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long azbk_ctl_remove(void __user *argp)
{
	struct azbuse_dev_id d;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.size != sizeof(d) || memchr_inv(d.reserved, 0, sizeof(d.reserved)))
		return -EINVAL;
	return azbk_dev_remove(d.dev_id);
}

static long azbk_ctl_get_info(void __user *argp)
{
	struct azbuse_dev_info info;
	int ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.size != sizeof(info))
		return -EINVAL;
	ret = azbk_dev_get_info(info.dev_id, &info);
	if (ret)
		return ret;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long azbk_ctl_list(void __user *argp)
{
	struct azbuse_dev_list l;
	u32 *ids = NULL, cap;
	long ret = 0;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (l.size != sizeof(l) || l.__pad ||
	    memchr_inv(l.reserved, 0, sizeof(l.reserved)) ||
	    l.count || (l.capacity && !l.ids_ptr))
		return -EINVAL;
	/* No more ids can exist; the list is copied out after the lock. */
	cap = min_t(u32, l.capacity, AZBUSE_MAX_DEV_ID + 1);
	if (cap) {
		ids = kvcalloc(cap, sizeof(*ids), GFP_KERNEL);
		if (!ids)
			return -ENOMEM;
	}
	l.count = azbk_dev_list(ids, cap);
	if (cap && copy_to_user(u64_to_user_ptr(l.ids_ptr), ids,
				min(cap, l.count) * sizeof(*ids)))
		ret = -EFAULT;
	kvfree(ids);
	if (!ret && copy_to_user(argp, &l, sizeof(l)))
		ret = -EFAULT;
	return ret;
}

static long azbk_ctl_features(void __user *argp)
{
	struct azbuse_features f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.size != sizeof(f))
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.abi_version = AZBUSE_ABI_VERSION;
	f.features = AZBUSE_FEAT_READ_WRITE | AZBUSE_FEAT_FLUSH_FUA |
		     AZBUSE_FEAT_WAIT | AZBUSE_FEAT_REQ_FLAGS |
		     AZBUSE_FEAT_TIMEOUT | AZBUSE_FEAT_RECOVERY |
		     AZBUSE_FEAT_DISCARD | AZBUSE_FEAT_WRITE_ZEROES |
		     AZBUSE_FEAT_QUEUE_CPUS | AZBUSE_FEAT_RESIZE |
		     AZBUSE_FEAT_WAKE_FD | AZBUSE_FEAT_ORPHAN_SLOTS |
		     AZBUSE_FEAT_REDIRECT | AZBUSE_FEAT_POLL_QUEUES |
		     AZBUSE_FEAT_LABEL;
	f.max_queues = azbk_max_queues();
	f.max_depth = AZBUSE_MAX_DEPTH;
	f.max_io_bytes = AZBUSE_MAX_IO_BYTES;
	return copy_to_user(argp, &f, sizeof(f)) ? -EFAULT : 0;
}

static long azbk_ctl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case AZBUSE_CTL_ADD:
		return azbk_ctl_add(argp);
	case AZBUSE_CTL_REMOVE:
		return azbk_ctl_remove(argp);
	case AZBUSE_CTL_GET_INFO:
		return azbk_ctl_get_info(argp);
	case AZBUSE_CTL_LIST:
		return azbk_ctl_list(argp);
	case AZBUSE_CTL_GET_FEATURES:
		return azbk_ctl_features(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations azbk_ctl_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= azbk_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice azbk_ctl_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= AZBUSE_CTL_DEV_NAME,
	.fops	= &azbk_ctl_fops,
	.mode	= 0600,
};

int azbk_ctl_init(void)
{
	return misc_register(&azbk_ctl_misc);
}

void azbk_ctl_exit(void)
{
	misc_deregister(&azbk_ctl_misc);
}
