// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sizes as people type them: "4096", "512B", "64K", "1g", "2GiB".
 *
 * Grammar: decimal digits (leading zeros are decimal, not octal), then an
 * optional unit, matched without regard to case:
 *   (none) or B           bytes
 *   K M G T P             powers of 1024
 *   KiB MiB GiB TiB PiB   the same, spelled out
 * "KB", "MB", ... are refused: some tools read them as powers of 1000, and
 * a block device size must not depend on which convention the reader had in
 * mind.  No sign, no spaces, no fractions.
 */
#include <errno.h>
#include <stdint.h>
#include <strings.h>

#include <azbuse.h>

static int azb_size_shift(const char *unit, unsigned int *shift)
{
	static const char units[] = "KMGTP";
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
	const char *unit = s;
	unsigned int shift;
	uint64_t v = 0;
	int d;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	while (*unit >= '0' && *unit <= '9')
		unit++;
	/* Junk is -EINVAL even when the digits before it would overflow. */
	if (azb_size_shift(unit, &shift))
		return -EINVAL;
	for (; s < unit; s++) {
		d = *s - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > UINT64_MAX >> shift)
		return -ERANGE;
	*out = v << shift;
	return 0;
}
