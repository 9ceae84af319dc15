// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The table of built-in engines: the only place that lists them, so a new
 * engine is one file plus one line here.
 */
#include <string.h>

#include "engines.h"

static const struct azb_engine_ops *const azb_engines[] = {
	&azb_engine_null,
	&azb_engine_mem,
	&azb_engine_odirect,
	&azb_engine_nbd,
	&azb_engine_rbd,
	&azb_engine_stripe,
	NULL,
};

const struct azb_engine_ops *azb_engine_find(const char *name)
{
	const struct azb_engine_ops *const *e;

	if (!name)
		return NULL;
	for (e = azb_engines; *e; e++)
		if (!strcmp((*e)->name, name))
			return *e;
	return NULL;
}

const struct azb_engine_ops *const *azb_engine_list(void)
{
	return azb_engines;
}
