// SPDX-License-Identifier: GPL-2.0
/*
 * azbuse.ko: serve a block device from userspace through per-queue shared
 * rings.  Module setup: a dynamic block major, a char device region for the
 * runtime's /dev/azbusecN nodes, and the control device.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include "azb.h"
#include "version.h"	/* written by ci/build-kmod and the DKMS tree */

unsigned int azbk_fail_add;
module_param_named(fail_add, azbk_fail_add, uint, 0600);
MODULE_PARM_DESC(fail_add, "testing only: ADD steps to fail (1 queues, 2 rings, 4 disk)");

int azbk_blk_major;
dev_t azbk_chr_base;

struct class azbk_chr_class = {
	.name = AZBUSE_CHR_DEV_NAME,
};

static int __init azbk_init(void)
{
	int ret;

	ret = register_blkdev(0, AZBUSE_BLK_DEV_NAME);
	if (ret < 0)
		return ret;
	azbk_blk_major = ret;

	ret = alloc_chrdev_region(&azbk_chr_base, 0, AZBUSE_MAX_DEV_ID + 1,
				  AZBUSE_CHR_DEV_NAME);
	if (ret)
		goto unreg_blk;
	ret = class_register(&azbk_chr_class);
	if (ret)
		goto unreg_chr;
	ret = azbk_ctl_init();
	if (ret)
		goto unreg_class;
	return 0;

unreg_class:
	class_unregister(&azbk_chr_class);
unreg_chr:
	unregister_chrdev_region(azbk_chr_base, AZBUSE_MAX_DEV_ID + 1);
unreg_blk:
	unregister_blkdev(azbk_blk_major, AZBUSE_BLK_DEV_NAME);
	return ret;
}

/*
 * Open block devices and runtimes hold module references, so what is left
 * here is devices nobody uses: remove them.
 */
static void __exit azbk_exit(void)
{
	azbk_ctl_exit();
	azbk_dev_remove_all();
	class_unregister(&azbk_chr_class);
	unregister_chrdev_region(azbk_chr_base, AZBUSE_MAX_DEV_ID + 1);
	unregister_blkdev(azbk_blk_major, AZBUSE_BLK_DEV_NAME);
}

module_init(azbk_init);
module_exit(azbk_exit);
MODULE_DESCRIPTION("azbuse: userspace block devices over per-queue rings");
MODULE_AUTHOR("azbuse developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(AZBK_VERSION);
