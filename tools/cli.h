/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What azbusectl and azbuse-run share: option values checked with one clear
 * message each, usage errors (exit 2), and the wording of control errors.
 *
 * prog is the name messages start with: "azbusectl add", "azbuse-run".
 */
#ifndef AZB_TOOLS_CLI_H
#define AZB_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <azbuse.h>


/* Exit statuses of both tools. */
#define AZB_EXIT_OK		0
#define AZB_EXIT_FAIL		1	/* the request failed */
#define AZB_EXIT_USAGE		2	/* the command line was wrong */

/* "PROG: message" and "Try 'PROG --help'." on stderr, then exit 2. */
void azb_die_usage(const char *prog, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * After getopt_long() returned '?': it has printed "ARGV0: what is wrong"
 * (argv[0] set to prog), so add the hint and exit 2.
 */
void azb_cli_try_help(const char *prog) __attribute__((noreturn));

/*
 * At the end of a command that exits with rc: what it printed must have
 * reached stdout (a full disk, a closed pipe); if not, says so and turns
 * a success into AZB_EXIT_FAIL.
 */
int azb_cli_stdout_done(const char *prog, int rc);

/* A decimal in min..max for option opt, or a usage error. */
unsigned int azb_cli_uint(const char *prog, const char *opt, const char *arg,
			  unsigned int min, unsigned int max);
/* A size as azb_parse_size() reads it, or a usage error. */
uint64_t azb_cli_size(const char *prog, const char *opt, const char *arg);
/* A device id ("3", "azbuse3", "/dev/azbuse3"), or a usage error. */
uint32_t azb_cli_dev_id(const char *prog, const char *arg);
/*
 * A CPU list ("0-3,8") of online CPUs, returned as given, or a usage
 * error naming what is wrong.
 */
const char *azb_cli_cpus(const char *prog, const char *opt, const char *arg);

/*
 * The text for a -errno from the device control calls: strerror(), except
 * that -ENOENT while /dev/azbusectl is missing means the module is not
 * loaded, which is what a user needs to hear.
 */
const char *azb_cli_errmsg(int rc);
/* True if rc says the module is not loaded. */
bool azb_cli_no_module(int rc);

/*
 * The device options both tools take: -s -q -d -b --max-io --timeout --ro
 * --no-write-cache --poll-queues.  A tool puts AZB_CLI_DEV_OPTSTRING in its option string
 * and AZB_CLI_DEV_LONGOPTS in its table, numbers its own long-only options
 * from AZB_OPT_TOOL, and hands each option to azb_cli_dev_opt().
 */
enum {
	AZB_OPT_MAX_IO = 256,
	AZB_OPT_TIMEOUT,
	AZB_OPT_RO,
	AZB_OPT_NO_WRITE_CACHE,
	AZB_OPT_POLL_QUEUES,
	AZB_OPT_TOOL,
};

#define AZB_CLI_DEV_OPTSTRING	"s:q:d:b:"
#define AZB_CLI_DEV_LONGOPTS						\
	{ "size",		required_argument, NULL, 's' },		\
	{ "queues",		required_argument, NULL, 'q' },		\
	{ "depth",		required_argument, NULL, 'd' },		\
	{ "block-size",		required_argument, NULL, 'b' },		\
	{ "max-io",		required_argument, NULL, AZB_OPT_MAX_IO }, \
	{ "timeout",		required_argument, NULL, AZB_OPT_TIMEOUT }, \
	{ "ro",			no_argument, NULL, AZB_OPT_RO },	\
	{ "no-write-cache",	no_argument, NULL, AZB_OPT_NO_WRITE_CACHE }, \
	{ "poll-queues",	required_argument, NULL, AZB_OPT_POLL_QUEUES }

/* Applies option c to p; false if c is not a device option. */
bool azb_cli_dev_opt(const char *prog, int c, const char *arg,
		     struct azb_dev_params *p);
/* The --help lines of the device options, each line starting with indent. */
void azb_cli_dev_usage(const char *indent);
/* Checks that hold between device options: size against block size, ... */
void azb_cli_dev_check(const char *prog, const struct azb_dev_params *p);
/*
 * Asks the loaded module for its features and limits (into *f) and refuses
 * parameters beyond them with a usage error.  Returns 0, or the -errno of
 * the query.
 */
int azb_cli_dev_check_kernel(const char *prog, const struct azb_dev_params *p,
			     struct azb_features *f);

/* "512", "4K", "1.5G": bytes in the largest unit that fits. */
void azb_cli_fmt_size(uint64_t bytes, char *buf, size_t len);

#endif /* AZB_TOOLS_CLI_H */
