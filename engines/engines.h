/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The built-in engines' ops, one per file in engines/; engines.c lists them
 * in the one table the runtime and the tools look engines up in.
 */
#ifndef AZB_ENGINES_H
#define AZB_ENGINES_H

#include <azbuse.h>

extern const struct azb_engine_ops azb_engine_null;
extern const struct azb_engine_ops azb_engine_mem;
extern const struct azb_engine_ops azb_engine_odirect;
extern const struct azb_engine_ops azb_engine_nbd;
extern const struct azb_engine_ops azb_engine_rbd;
extern const struct azb_engine_ops azb_engine_stripe;

#endif /* AZB_ENGINES_H */
