/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Engine options: the "KEY[=VALUE],..." list azbuse-run builds from -o and
 * from the engines' own long options, split one option at a time.
 * azb_engine_opt_next() (azbuse.h) checks each against the engine's table.
 */
#ifndef AZB_ENGINE_OPTS_H
#define AZB_ENGINE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct azb_opt {
	const char	*key;	/* where the whole "KEY[=VALUE]" starts */
	int		len;	/* the whole option's length, for "%.*s" */
	size_t		klen;
	const char	*val;	/* NULL: no '=' */
	size_t		vlen;
};

/*
 * The next non-empty option of *list (NULL or "" is an empty list), and
 * *list moves past it; false once none is left.
 */
bool azb_opt_next(const char **list, struct azb_opt *o);
bool azb_opt_key_is(const struct azb_opt *o, const char *key);
/* The value as a decimal number 0..max; false if it is anything else. */
bool azb_opt_uint(const struct azb_opt *o, unsigned long max,
		  unsigned long *v);

#endif /* AZB_ENGINE_OPTS_H */
