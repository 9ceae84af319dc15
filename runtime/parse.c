// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sizes as people type them: "4096", "512B", "64K", "1g", "2GiB", "1.5G".
 *
 * Grammar: decimal digits (leading zeros are decimal, not octal), an
 * optional fraction (".5") when a unit follows, then an optional unit,
 * matched without regard to case:
 *   (none) or B             bytes
 *   K M G T P E             powers of 1024
 *   KiB MiB GiB TiB PiB EiB the same, spelled out
 * "KB", "MB", ... are refused: some tools read them as powers of 1000, and
 * a block device size must not depend on which convention the reader had in
 * mind.  A fraction must come to whole bytes ("1.5K" is 1536, "0.1K" is
 * refused): azbusectl list prints sizes so, and they read back exactly.
 * No sign, no spaces.
 */
#include <errno.h>
#include <stdint.h>
#include <strings.h>

#include <azbuse.h>

static int azb_size_shift(const char *unit, unsigned int *shift)
{
	static const char units[] = "KMGTPE";
	unsigned int i;

	if (!*unit || !strcasecmp(unit, "B")) {
		*shift = 0;
		return 0;
	}
	for (i = 0; units[i]; i++) {
		if ((*unit == units[i] || *unit == units[i] + ('a' - 'A')) &&
		    (!unit[1] || !strcasecmp(unit + 1, "iB"))) {
			*shift = 10 * (i + 1);
			return 0;
		}
	}
	return -EINVAL;
}

int azb_parse_size(const char *s, uint64_t *out)
{
	const char *unit = s, *frac = NULL;
	unsigned __int128 v = 0, f = 0, scale = 1;
	unsigned int shift;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	while (*unit >= '0' && *unit <= '9')
		unit++;
	if (*unit == '.') {
		frac = ++unit;
		while (*unit >= '0' && *unit <= '9')
			unit++;
		/* "1." or ".5" or a fraction of bytes: not a size. */
		if (unit == frac || unit - frac > 18 || !*unit ||
		    !strcasecmp(unit, "B"))
			return -EINVAL;
	}
	/* Junk is -EINVAL even when the digits before it would overflow. */
	if (azb_size_shift(unit, &shift))
		return -EINVAL;
	for (; s < (frac ? frac - 1 : unit); s++) {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > UINT64_MAX)
			return -ERANGE;
	}
	for (s = frac; frac && s < unit; s++) {
		f = f * 10 + (unsigned int)(*s - '0');
		scale *= 10;
	}
	/* v.f x 2^shift: the fraction must come to whole bytes. */
	f <<= shift;
	if (f % scale)
		return -EINVAL;
	v = (v << shift) + f / scale;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}
