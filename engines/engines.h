/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The built-in engines' ops, one per file in engines/; engines.c lists them
 * in the one table the runtime looks built-in engines up in.  (nbd.c and
 * rbd.c are plugins: each defines its ops for itself.)
 */
#ifndef AZB_ENGINES_H
#define AZB_ENGINES_H

#include <azbuse.h>

extern const struct azb_engine_ops azb_engine_null;
extern const struct azb_engine_ops azb_engine_mem;
extern const struct azb_engine_ops azb_engine_odirect;
extern const struct azb_engine_ops azb_engine_stripe;

/* NULL-ended: the runtime's lookup (runtime/plugin.c) starts here. */
extern const struct azb_engine_ops *const azb_builtin_engines[];

#endif /* AZB_ENGINES_H */
