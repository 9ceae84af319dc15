// SPDX-License-Identifier: LGPL-2.1-or-later
/* Engine options (opts.h). */
#include <string.h>
#include "opts.h"

bool azb_opt_next(const char **list, struct azb_opt *o)
{
	const char *p = *list, *end, *eq;

	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ',');
		if (end == p)
			continue;	/* "a,,b": nothing between commas */
		eq = memchr(p, '=', end - p);
		o->key = p;
		o->len = (int)(end - p);
		o->klen = (eq ? eq : end) - p;
		o->val = eq ? eq + 1 : NULL;
		o->vlen = eq ? (size_t)(end - (eq + 1)) : 0;
		*list = *end ? end + 1 : end;
		return true;
	}
	*list = p;
	return false;
}

static bool azb_opt_eq(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

bool azb_opt_key_is(const struct azb_opt *o, const char *key)
{
	return azb_opt_eq(o->key, o->klen, key);
}

bool azb_opt_val_is(const struct azb_opt *o, const char *val)
{
	return o->val && azb_opt_eq(o->val, o->vlen, val);
}

bool azb_opt_uint(const struct azb_opt *o, unsigned long max,
		  unsigned long *v)
{
	unsigned long n = 0;
	size_t i;

	if (!o->val || !o->vlen)
		return false;
	for (i = 0; i < o->vlen; i++) {
		unsigned int d = (unsigned char)o->val[i] - '0';

		if (d > 9 || d > max || n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*v = n;
	return true;
}
