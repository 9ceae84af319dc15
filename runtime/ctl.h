/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Conversions between the public device structs (include/azbuse.h) and the
 * kernel's (include/uapi/linux/azbuse.h), shared by the control calls in
 * ctl.c and the server, which reads device info from /dev/azbusecN.
 */
#ifndef AZB_RUNTIME_CTL_H
#define AZB_RUNTIME_CTL_H

#include <azbuse.h>
#include <uapi/linux/azbuse.h>

/*
 * Fills *u for ADD: size set, reserved and output fields zero.  Values too
 * wide for a uapi field saturate, so the kernel rejects them rather than
 * see a silently truncated one.
 */
void azb_ctl_params_to_uapi(const struct azb_dev_params *p,
			    struct azbuse_dev_info *u);

/* Fills *out from what the kernel reported; -EPROTO if it makes no sense. */
int azb_ctl_info_from_uapi(const struct azbuse_dev_info *u,
			   struct azb_dev_info *out);

#endif /* AZB_RUNTIME_CTL_H */
