// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option checking and error wording shared by the tools.  Every usage error
 * is one line naming the option and the value, so a user sees what to fix
 * without reading the manual.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <azbuse.h>

#include "cli.h"

void azb_die_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	azb_cli_try_help(prog);
}

void azb_cli_try_help(const char *prog)
{
	fprintf(stderr, "Try '%s --help'.\n", prog);
	exit(AZB_EXIT_USAGE);
}

unsigned int azb_cli_uint(const char *prog, const char *opt, const char *arg,
			  unsigned int min, unsigned int max)
{
	unsigned long long v = 0;
	const char *p = arg;

	if (!*p)
		azb_die_usage(prog, "%s: '' is not a number", opt);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			azb_die_usage(prog, "%s: '%s' is not a number", opt, arg);
		/* Saturate: anything past max is reported the same way. */
		if (v <= max)
			v = v * 10 + (unsigned int)(*p - '0');
	}
	if (v < min || v > max)
		azb_die_usage(prog, "%s: '%s' is not in %u..%u", opt, arg,
			      min, max);
	return (unsigned int)v;
}

uint64_t azb_cli_size(const char *prog, const char *opt, const char *arg)
{
	uint64_t v;
	int rc;

	rc = azb_parse_size(arg, &v);
	if (rc == -ERANGE)
		azb_die_usage(prog, "%s: '%s' is too large", opt, arg);
	if (rc)
		azb_die_usage(prog, "%s: '%s' is not a size (bytes, or a number with K, M, G, T or P)",
			      opt, arg);
	return v;
}

uint32_t azb_cli_dev_id(const char *prog, const char *arg)
{
	uint32_t id;

	if (azb_parse_dev_id(arg, &id))
		azb_die_usage(prog, "'%s' is not a device id (N, azbuseN or /dev/azbuseN, N in 0..%u)",
			      arg, AZBUSE_MAX_DEV_ID);
	return id;
}

/* CPU ids a list may name: Linux's largest NR_CPUS. */
#define AZB_CLI_MAX_CPUS	8192

/* Parses a CPU list ("0-3,8") into bits; false if it is malformed. */
static bool azb_cpulist_parse(const char *s, uint64_t *bits)
{
	memset(bits, 0, AZB_CLI_MAX_CPUS / 8);
	for (;;) {
		unsigned long a, b;
		char *end;

		if (*s < '0' || *s > '9')
			return false;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return false;
			b = strtoul(s, &end, 10);
		}
		if (a > b || b >= AZB_CLI_MAX_CPUS)
			return false;
		for (; a <= b; a++)
			bits[a / 64] |= 1ULL << (a % 64);
		if (*end != ',')
			return *end == '\0';
		s = end + 1;
	}
}

const char *azb_cli_cpus(const char *prog, const char *opt, const char *arg)
{
	static uint64_t want[AZB_CLI_MAX_CPUS / 64], online[AZB_CLI_MAX_CPUS / 64];
	char buf[4096];
	unsigned int c;
	size_t n;
	FILE *f;

	if (!azb_cpulist_parse(arg, want))
		azb_die_usage(prog, "%s: '%s' is not a CPU list (such as 0-3,8)",
			      opt, arg);
	/* Where sysfs says which CPUs are online, name one that is not. */
	f = fopen("/sys/devices/system/cpu/online", "r");
	if (!f)
		return arg;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!azb_cpulist_parse(buf, online))
		return arg;
	for (c = 0; c < AZB_CLI_MAX_CPUS; c++)
		if ((want[c / 64] & ~online[c / 64]) & (1ULL << (c % 64)))
			azb_die_usage(prog, "%s: CPU %u is not online (online: %s)",
				      opt, c, buf);
	return arg;
}

/* The kernel's I/O timeout range (kmod/dev.c), in seconds. */
/* A literal, for the help text; the kernel's limit in the uapi header. */
#define AZB_MAX_TIMEOUT_S	3600
_Static_assert(AZB_MAX_TIMEOUT_S * 1000 == AZBUSE_MAX_TIMEOUT_MS,
	       "--timeout range must match the kernel's");

#define AZB_STR_(x)		#x
#define AZB_STR(x)		AZB_STR_(x)

bool azb_cli_dev_opt(const char *prog, int c, const char *arg,
		     struct azb_dev_params *p)
{
	uint64_t v;

	switch (c) {
	case 's':
		p->dev_bytes = azb_cli_size(prog, "-s", arg);
		if (!p->dev_bytes)
			azb_die_usage(prog, "-s: the size must not be 0");
		return true;
	case 'q':
		p->nr_queues = azb_cli_uint(prog, "-q", arg, 1,
					    AZBUSE_MAX_QUEUES);
		return true;
	case 'd':
		p->queue_depth = azb_cli_uint(prog, "-d", arg, 1,
					      AZBUSE_MAX_DEPTH);
		return true;
	case 'b':
		p->logical_bs = azb_cli_uint(prog, "-b", arg, 512, 4096);
		if (p->logical_bs & (p->logical_bs - 1))
			azb_die_usage(prog, "-b: '%s' is not a power of two", arg);
		return true;
	case AZB_OPT_MAX_IO:
		v = azb_cli_size(prog, "--max-io", arg);
		if (v < AZBUSE_MIN_IO_BYTES || v > AZBUSE_MAX_IO_BYTES || v % 4096)
			azb_die_usage(prog, "--max-io: '%s' is not a multiple of 4K in 4K..1M",
				      arg);
		p->max_io_bytes = (uint32_t)v;
		return true;
	case AZB_OPT_TIMEOUT:
		p->timeout_ms = 1000 * azb_cli_uint(prog, "--timeout", arg, 1,
						    AZB_MAX_TIMEOUT_S);
		return true;
	case AZB_OPT_RO:
		p->flags |= AZB_DEV_READ_ONLY;
		return true;
	case AZB_OPT_NO_WRITE_CACHE:
		p->flags &= ~AZB_DEV_WRITE_CACHE;
		return true;
	case AZB_OPT_POLL_QUEUES:
		p->nr_poll_queues = azb_cli_uint(prog, "--poll-queues", arg, 0,
						 AZBUSE_MAX_QUEUES);
		return true;
	}
	return false;
}

void azb_cli_dev_usage(const char *indent)
{
	static const char *const lines[] = {
		"-s, --size SIZE        device size in bytes; K, M, G, T, P: powers of 1024",
		"-q, --queues N         hardware queues, 1.." AZB_STR(AZBUSE_MAX_QUEUES)
			" (default: one per CPU)",
		"-d, --depth DEPTH      requests per queue, 1.." AZB_STR(AZBUSE_MAX_DEPTH)
			" (default " AZB_STR(AZBUSE_DEF_DEPTH) ")",
		"-b, --block-size BS    logical block size: 512, 1024, 2048 or 4096",
		"    --max-io BYTES     largest request, 4K..1M in 4K steps (default 256K)",
		"    --timeout SECONDS  I/O timeout, 1.." AZB_STR(AZB_MAX_TIMEOUT_S)
			" (default 30)",
		"    --ro               read-only",
		"    --no-write-cache   no volatile write cache: no FLUSH or FUA requests",
		"    --poll-queues N    poll queues for polled I/O (io_uring IOPOLL), whose",
		"                       submitters reap completions themselves (default 0)",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		printf("%s%s\n", indent, lines[i]);
}

void azb_cli_dev_check(const char *prog, const struct azb_dev_params *p)
{
	uint32_t bs = p->logical_bs ? p->logical_bs : 512;
	uint64_t arena;

	if (p->dev_bytes % bs)
		azb_die_usage(prog, "-s: %llu bytes is not a multiple of the %u-byte block size",
			      (unsigned long long)p->dev_bytes, bs);
	/* The kernel refuses this too, but would not say which limit. */
	arena = (uint64_t)(p->queue_depth ? p->queue_depth : AZBUSE_DEF_DEPTH) *
		(p->max_io_bytes ? p->max_io_bytes : AZBUSE_DEF_IO_BYTES);
	if (arena > AZBUSE_MAX_ARENA_BYTES)
		azb_die_usage(prog, "depth x max I/O is %llu MiB per queue; the limit is %llu MiB",
			      (unsigned long long)(arena >> 20),
			      (unsigned long long)(AZBUSE_MAX_ARENA_BYTES >> 20));
}

int azb_cli_dev_check_kernel(const char *prog, const struct azb_dev_params *p,
			     struct azb_features *f)
{
	int rc = azb_get_features(f);

	if (rc)
		return rc;
	if (p->nr_queues > f->max_queues)
		azb_die_usage(prog, "-q: %u is more than the %u queues the module allows here",
			      p->nr_queues, f->max_queues);
	if (p->queue_depth > f->max_depth)
		azb_die_usage(prog, "-d: %u is more than the module's limit of %u",
			      p->queue_depth, f->max_depth);
	if (p->max_io_bytes > f->max_io_bytes)
		azb_die_usage(prog, "--max-io: %u is more than the module's limit of %u",
			      p->max_io_bytes, f->max_io_bytes);
	if (p->nr_poll_queues && !(f->features & AZBUSE_FEAT_POLL_QUEUES))
		azb_die_usage(prog, "--poll-queues: the loaded module has no poll queues");
	if (p->nr_poll_queues > f->max_queues)
		azb_die_usage(prog, "--poll-queues: %u is more than the %u queues the module allows here",
			      p->nr_poll_queues, f->max_queues);
	if ((p->flags & AZB_DEV_RECOVERY) &&
	    !(f->features & AZBUSE_FEAT_RECOVERY))
		azb_die_usage(prog, "--recovery: the loaded module does not support it");
	return 0;
}

bool azb_cli_no_module(int rc)
{
	return rc == -ENOENT &&
	       access("/dev/" AZBUSE_CTL_DEV_NAME, F_OK) && errno == ENOENT;
}

const char *azb_cli_errmsg(int rc)
{
	if (azb_cli_no_module(rc))
		return "azbuse module not loaded (/dev/" AZBUSE_CTL_DEV_NAME " missing)";
	return strerror(-rc);
}

void azb_cli_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int i;

	/*
	 * The largest unit in which the size is exact with at most three
	 * decimals ("1.5G", "1367187.5K"), so that -s reads it back to the
	 * byte (azb_parse_size()).
	 */
	for (i = 5; i >= 0; i--) {
		unsigned int shift = 10 * (unsigned int)(i + 1);
		uint64_t unit = 1ULL << shift, rem = bytes & (unit - 1);
		unsigned __int128 thousandths = (unsigned __int128)rem * 1000;
		unsigned int milli, digits = 3;

		if (bytes < unit || (thousandths & (unit - 1)))
			continue;
		milli = (unsigned int)(thousandths >> shift);
		for (; milli && milli % 10 == 0; milli /= 10)
			digits--;
		if (!milli)
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes >> shift), units[i]);
		else
			snprintf(buf, len, "%llu.%0*u%c",
				 (unsigned long long)(bytes >> shift), (int)digits,
				 milli, units[i]);
		return;
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

int azb_cli_stdout_done(const char *prog, int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	fprintf(stderr, "%s: cannot write to standard output: %s\n", prog,
		strerror(errno));
	return rc ? rc : AZB_EXIT_FAIL;
}
