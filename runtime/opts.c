// SPDX-License-Identifier: LGPL-2.1-or-later
/* Engine options (opts.h, and azb_engine_opt_next() of azbuse.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <azbuse.h>
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

/* What an option's value looks like in a message: "SECONDS", "a|b", "". */
static const char *azb_opt_value_name(const struct azb_engine_opt *t)
{
	return t->kind == AZB_EOPT_FLAG ? "" :
	       t->kind == AZB_EOPT_CHOICE ? t->choices : t->arg;
}

/* "key, key=ARG, ..." of an engine's table, for a message. */
static void azb_opt_known(const struct azb_engine_opt *t, char *buf,
			  size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; t && t->key && n < len; t++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s",
				      n ? ", " : "", t->key,
				      t->kind == AZB_EOPT_FLAG ? "" : "=",
				      azb_opt_value_name(t));
}

/* Index of val among "a|b|c", or -1. */
static int azb_opt_choice(const char *choices, const char *val, size_t vlen)
{
	const char *p = choices, *end;
	int i;

	for (i = 0; p && *p; i++, p = *end ? end + 1 : end) {
		end = strchrnul(p, '|');
		if ((size_t)(end - p) == vlen && !memcmp(p, val, vlen))
			return i;
	}
	return -1;
}

static int azb_opt_bad(const struct azb_engine_ops *ops,
		       const struct azb_opt *o, const char *why)
{
	azb_log(AZB_LOG_ERR, "%s engine: option '%.*s': %s", ops->name, o->len,
		o->key, why);
	return -EINVAL;
}

int azb_engine_opt_next(const struct azb_engine_ops *ops, const char **params,
			struct azb_engine_optval *v)
{
	const struct azb_engine_opt *t;
	struct azb_opt o;
	char why[256], num[32];
	unsigned long n;
	int i;

	if (!azb_opt_next(params, &o))
		return 0;
	for (t = ops->opts; t && t->key && !azb_opt_key_is(&o, t->key); t++)
		;
	if (!t || !t->key) {
		azb_opt_known(ops->opts, why, sizeof(why));
		azb_log(AZB_LOG_ERR, "%s engine: unknown option '%.*s' (%s%s)",
			ops->name, (int)o.klen, o.key, *why ? "known: " : "it takes none",
			why);
		return -EINVAL;
	}
	memset(v, 0, sizeof(*v));
	v->opt = t;
	v->val = o.val;
	v->vlen = o.vlen;
	if (t->kind == AZB_EOPT_FLAG) {
		if (o.val)
			return azb_opt_bad(ops, &o, "takes no value");
		return 1;
	}
	if (!o.vlen) {
		snprintf(why, sizeof(why), "needs a value (%s=%s)", t->key,
			 azb_opt_value_name(t));
		return azb_opt_bad(ops, &o, why);
	}
	switch (t->kind) {
	case AZB_EOPT_UINT:
		if (!azb_opt_uint(&o, t->max, &n)) {
			snprintf(why, sizeof(why), "wants %s, 0..%lu", t->arg,
				 t->max);
			return azb_opt_bad(ops, &o, why);
		}
		v->num = n;
		break;
	case AZB_EOPT_SIZE:
		if (o.vlen >= sizeof(num))
			return azb_opt_bad(ops, &o, "not a size");
		memcpy(num, o.val, o.vlen);
		num[o.vlen] = '\0';
		if (azb_parse_size(num, &v->num))
			return azb_opt_bad(ops, &o, "not a size (4096, 64K, 1M, ...)");
		break;
	case AZB_EOPT_CHOICE:
		i = azb_opt_choice(t->choices, o.val, o.vlen);
		if (i < 0) {
			snprintf(why, sizeof(why), "wants %s", t->choices);
			return azb_opt_bad(ops, &o, why);
		}
		v->num = (uint64_t)i;
		break;
	default:
		break;
	}
	return 1;
}
