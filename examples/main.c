// SPDX-License-Identifier: MIT
/*
 * xmirror: serve /dev/azbuseN from two files through the xmirror engine, or
 * check two such files offline.  A storage appliance embedding the azbuse
 * runtime looks like this: its own engine, the server API, signal handling.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <azbuse.h>

#include "xmirror.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xmirror [options] FILE_A FILE_B\n"
		"       xmirror --check FILE_A FILE_B\n"
		"Serve a new /dev/azbuseN mirrored onto FILE_A and FILE_B, with a checksum\n"
		"per block, until SIGINT or SIGTERM; prints the device path once it serves.\n"
		"New (empty) files need -s; existing ones keep their size.\n\n"
		"  -s, --size SIZE        device size (K, M, G, T: powers of 1024)\n"
		"  -b, --block-size BS    block size, 512..4096 (default 4096)\n"
		"  -q, --queues N         hardware queues (default: one per CPU)\n"
		"  -d, --depth N          requests per queue (default 128)\n"
		"      --check            compare the copies and their checksums; exit 1\n"
		"                         if a block is damaged or the copies differ\n"
		"  -h, --help             this help\n");
}

/* One line saying what is wrong (and with which argument), then exit 2. */
static __attribute__((noreturn)) void die_usage(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "xmirror: %s '%s'\n", what, arg);
	else
		fprintf(stderr, "xmirror: %s\n", what);
	fprintf(stderr, "Try 'xmirror --help'.\n");
	exit(2);
}

static uint32_t parse_u32(const char *arg)
{
	uint64_t v;

	if (azb_parse_size(arg, &v) || !v || v > UINT32_MAX)
		die_usage("not a positive number:", arg);
	return (uint32_t)v;
}

/* Serves until a signal or the device's removal; the exit status. */
static int serve(struct azb_server_opts *o)
{
	const struct timespec tick = { .tv_sec = 0, .tv_nsec = 200000000 };
	struct azb_server *s;
	char path[32];
	sigset_t sigs;
	int rc, sig;

	/* Blocked before the pollers start, so they inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = azb_server_create(o, &s);
	if (rc) {
		fprintf(stderr, "xmirror: %s\n", strerror(-rc));
		return 1;
	}
	rc = azb_server_start(s);
	if (rc) {
		fprintf(stderr, "xmirror: start: %s\n", strerror(-rc));
		azb_server_destroy(s);
		return 1;
	}
	azb_blk_path(azb_server_dev_id(s), path, sizeof(path));
	printf("%s\n", path);
	fflush(stdout);

	do
		sig = sigtimedwait(&sigs, NULL, &tick);
	while (sig < 0 && azb_server_running(s));
	rc = azb_server_stop(s);
	/* Removed from outside: the pollers report it, it is no failure. */
	if (rc == -ENODEV && sig < 0)
		rc = 0;
	if (rc)
		fprintf(stderr, "xmirror: serving failed: %s\n", strerror(-rc));
	azb_server_destroy(s);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size",	required_argument, NULL, 's' },
		{ "block-size",	required_argument, NULL, 'b' },
		{ "queues",	required_argument, NULL, 'q' },
		{ "depth",	required_argument, NULL, 'd' },
		{ "check",	no_argument,	   NULL, 'c' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct azb_server_opts o;
	char *target;
	int c, check = 0;

	azb_server_opts_init(&o);
	/* Flushes and FUA writes reach the engine: it keeps them. */
	o.dev.flags |= AZB_DEV_WRITE_CACHE;
	while ((c = getopt_long(argc, argv, "s:b:q:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (azb_parse_size(optarg, &o.dev.dev_bytes) ||
			    !o.dev.dev_bytes)
				die_usage("not a size:", optarg);
			break;
		case 'b':
			o.dev.logical_bs = parse_u32(optarg);
			break;
		case 'q':
			o.dev.nr_queues = parse_u32(optarg);
			break;
		case 'd':
			o.dev.queue_depth = parse_u32(optarg);
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'xmirror --help'.\n");
			return 2;
		}
	}
	if (argc - optind != 2)
		die_usage("needs two files, FILE_A and FILE_B", NULL);
	if (check) {
		c = xm_check(argv[optind], argv[optind + 1]);
		if (c < 0)
			fprintf(stderr, "xmirror: check: %s\n", strerror(-c));
		return c ? 1 : 0;
	}

	if (asprintf(&target, "%s,%s", argv[optind], argv[optind + 1]) < 0) {
		fprintf(stderr, "xmirror: out of memory\n");
		return 1;
	}
	o.engine = &xm_engine_ops;
	o.target = target;
	c = serve(&o);
	free(target);
	return c;
}
