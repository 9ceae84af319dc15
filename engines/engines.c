// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The table of built-in engines: the only place that lists them, so a new
 * engine is one file plus one line here.  Engines that need an outside
 * library are plugins (runtime/plugin.c), not listed here.
 */
#include "engines.h"

const struct azb_engine_ops *const azb_builtin_engines[] = {
	&azb_engine_null,
	&azb_engine_mem,
	&azb_engine_odirect,
	&azb_engine_stripe,
	NULL,
};
