// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azbusectl: add, remove and inspect azbuse devices through /dev/azbusectl.
 * A thin layer over the runtime's device control calls.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azbuse.h>

#include "cli.h"

#define AZB_PROG	"azbusectl"


struct azb_cmd {
	const char	*name;
	const char	*prog;		/* for messages: "azbusectl add" */
	const char	*usage;
	bool		dev_opts;	/* takes the device options of cli.h */
	const char	*more_usage;	/* its own options, after those */
	int		(*run)(const struct azb_cmd *cmd, int argc, char **argv);
};

/* Long-only options of the subcommands. */
enum {
	OPT_ROTATIONAL = AZB_OPT_TOOL,
	OPT_NO_DISCARD,
	OPT_NO_WRITE_ZEROES,
	OPT_RECOVERY,
	OPT_GRACE,
	OPT_JSON,
};

static const char azb_add_usage[] =
"add [ID] -s SIZE [options]\n"
"    Create /dev/azbuseID (the lowest free id if ID is omitted) and print its\n"
"    path.  It fails I/O until a runtime serves it (azbuse-run --dev ID).\n";

static const char azb_add_more_usage[] =
"        --rotational       report a rotational disk\n"
"        --no-discard       no DISCARD requests\n"
"        --no-write-zeroes  no WRITE_ZEROES requests\n"
"        --recovery         when the runtime dies, hold I/O until a new one\n"
"                           attaches (azbuse-run --dev ID), at most --grace\n"
"        --grace SECONDS    how long --recovery holds I/O, 1..3600 (default 30)\n";

static const char azb_remove_usage[] =
"remove ID... | --all\n"
"    Remove devices; ID is N, azbuseN or /dev/azbuseN.  --all removes every\n"
"    device (their servers see the device go and exit).\n";

static const char azb_list_usage[] =
"list [--json]\n"
"    List devices: id, path, size, block size, queues, poll queues, depth,\n"
"    state, serving pid, flags, and what the device is served from (the\n"
"    engine and target its server gave it).\n";

static const char azb_info_usage[] =
"info ID [--json]\n"
"    Show everything the kernel reports about one device.\n";

static const char azb_features_usage[] =
"features [--json]\n"
"    Show the module's ABI version, features and limits.\n";

static const struct option azb_json_opts[] = {
	{ "json",	no_argument,	NULL, OPT_JSON },
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void azb_print_cmd_usage(const struct azb_cmd *cmd)
{
	printf("%s", cmd->usage);
	if (cmd->dev_opts)
		azb_cli_dev_usage("    ");
	if (cmd->more_usage)
		printf("%s", cmd->more_usage);
}

static __attribute__((noreturn)) void azb_cmd_help(const struct azb_cmd *cmd)
{
	printf("Usage: %s ", AZB_PROG);
	azb_print_cmd_usage(cmd);
	exit(AZB_EXIT_OK);
}

/* Parses the options of list, info and features: --json and --help. */
static bool azb_parse_json_opt(const struct azb_cmd *cmd, int argc, char **argv)
{
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", azb_json_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			azb_cmd_help(cmd);
		default:
			azb_cli_try_help(cmd->prog);
		}
	}
	return json;
}

static const char *azb_state_name(enum azb_dev_state s)
{
	switch (s) {
	case AZB_STATE_IDLE:
		return "idle";
	case AZB_STATE_LIVE:
		return "live";
	case AZB_STATE_REMOVING:
		return "removing";
	case AZB_STATE_RECOVERING:
		return "recovering";
	}
	return "unknown";
}

struct azb_flag_name {
	uint64_t	bit;
	const char	*name;
};

static const struct azb_flag_name azb_dev_flag_names[] = {
	{ AZB_DEV_READ_ONLY,	"ro" },
	{ AZB_DEV_ROTATIONAL,	"rotational" },
	{ AZB_DEV_WRITE_CACHE,	"write-cache" },
	{ AZB_DEV_DISCARD,	"discard" },
	{ AZB_DEV_WRITE_ZEROES,	"write-zeroes" },
	{ AZB_DEV_RECOVERY,	"recovery" },
};

static const struct azb_flag_name azb_feat_names[] = {
	{ AZBUSE_FEAT_READ_WRITE,	"read-write" },
	{ AZBUSE_FEAT_FLUSH_FUA,	"flush-fua" },
	{ AZBUSE_FEAT_DISCARD,		"discard" },
	{ AZBUSE_FEAT_WRITE_ZEROES,	"write-zeroes" },
	{ AZBUSE_FEAT_RECOVERY,		"recovery" },
	{ AZBUSE_FEAT_WAIT,		"wait" },
	{ AZBUSE_FEAT_REQ_FLAGS,	"req-flags" },
	{ AZBUSE_FEAT_TIMEOUT,		"timeout" },
	{ AZBUSE_FEAT_QUEUE_CPUS,	"queue-cpus" },
	{ AZBUSE_FEAT_RESIZE,		"resize" },
	{ AZBUSE_FEAT_WAKE_FD,		"wake-fd" },
	{ AZBUSE_FEAT_ORPHAN_SLOTS,	"orphan-slots" },
	{ AZBUSE_FEAT_REDIRECT,		"redirect" },
	{ AZBUSE_FEAT_POLL_QUEUES,	"poll-queues" },
	{ AZBUSE_FEAT_LABEL,		"label" },
};

/*
 * Bit names joined by ',' ("-" for none), or as a JSON array; bits without
 * a name (from a newer kernel) show as one hex value.  Returns the
 * characters printed.
 */
static int azb_print_flags(uint64_t bits, const struct azb_flag_name *t,
			   size_t n, bool json)
{
	const char *sep = "";
	int w = 0;
	size_t i;

	if (json)
		w += printf("[");
	for (i = 0; i < n; i++) {
		if (!(bits & t[i].bit))
			continue;
		w += printf(json ? "%s\"%s\"" : "%s%s", sep, t[i].name);
		sep = json ? ", " : ",";
		bits &= ~t[i].bit;
	}
	if (bits)
		w += printf(json ? "%s\"0x%llx\"" : "%s0x%llx", sep,
			    (unsigned long long)bits);
	else if (!json && !*sep)
		w += printf("-");
	if (json)
		w += printf("]");
	return w;
}

#define AZB_PRINT_FLAGS(bits, names, json) \
	azb_print_flags(bits, names, sizeof(names) / sizeof(names[0]), json)

static int azb_cmd_add(const struct azb_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		AZB_CLI_DEV_LONGOPTS,
		{ "rotational",		no_argument, NULL, OPT_ROTATIONAL },
		{ "no-discard",		no_argument, NULL, OPT_NO_DISCARD },
		{ "no-write-zeroes",	no_argument, NULL, OPT_NO_WRITE_ZEROES },
		{ "recovery",		no_argument, NULL, OPT_RECOVERY },
		{ "grace",		required_argument, NULL, OPT_GRACE },
		{ "help",		no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = cmd->prog;
	struct azb_dev_params p;
	struct azb_dev_info info;
	struct azb_features f;
	char path[32];
	int c, rc;

	azb_dev_params_init(&p);
	/*
	 * Flushes, FUA, discards and write-zeroes all reach the runtime,
	 * the last two where the module supports them.
	 */
	p.flags = AZB_DEV_WRITE_CACHE | AZB_DEV_DISCARD | AZB_DEV_WRITE_ZEROES;

	while ((c = getopt_long(argc, argv, AZB_CLI_DEV_OPTSTRING "h", opts,
				NULL)) != -1) {
		if (azb_cli_dev_opt(prog, c, optarg, &p))
			continue;
		switch (c) {
		case OPT_ROTATIONAL:
			p.flags |= AZB_DEV_ROTATIONAL;
			break;
		case OPT_NO_DISCARD:
			p.flags &= ~AZB_DEV_DISCARD;
			break;
		case OPT_NO_WRITE_ZEROES:
			p.flags &= ~AZB_DEV_WRITE_ZEROES;
			break;
		case OPT_RECOVERY:
			p.flags |= AZB_DEV_RECOVERY;
			break;
		case OPT_GRACE:
			p.recovery_ms = 1000 * azb_cli_uint(prog, "--grace",
				optarg, 1, AZBUSE_MAX_TIMEOUT_MS / 1000);
			break;
		case 'h':
			azb_cmd_help(cmd);
		default:
			azb_cli_try_help(prog);
		}
	}
	if (optind < argc)
		p.dev_id = azb_cli_dev_id(prog, argv[optind++]);
	if (optind < argc)
		azb_die_usage(prog, "unexpected argument '%s'", argv[optind]);
	if (!p.dev_bytes)
		azb_die_usage(prog, "-s SIZE is required");
	if (p.recovery_ms && !(p.flags & AZB_DEV_RECOVERY))
		azb_die_usage(prog, "--grace needs --recovery");
	azb_cli_dev_check(prog, &p);

	rc = azb_cli_dev_check_kernel(prog, &p, &f);
	if (!rc) {
		if (!(f.features & AZBUSE_FEAT_DISCARD))
			p.flags &= ~AZB_DEV_DISCARD;
		if (!(f.features & AZBUSE_FEAT_WRITE_ZEROES))
			p.flags &= ~AZB_DEV_WRITE_ZEROES;
		rc = azb_dev_add(&p, &info);
	}
	if (rc == -EEXIST && p.dev_id != AZB_ID_ANY) {
		fprintf(stderr, "%s: add: device %u already exists\n", AZB_PROG,
			p.dev_id);
		return AZB_EXIT_FAIL;
	}
	if (rc) {
		fprintf(stderr, "%s: add: %s\n", AZB_PROG, azb_cli_errmsg(rc));
		return AZB_EXIT_FAIL;
	}
	azb_blk_path(info.params.dev_id, path, sizeof(path));
	printf("%s\n", path);
	return AZB_EXIT_OK;
}

/* Message for a device call that failed on one id. */
static void azb_dev_error(const char *what, uint32_t id, int rc)
{
	if (rc == -ENODEV || (rc == -ENOENT && !azb_cli_no_module(rc)))
		fprintf(stderr, "%s: %s: device %u does not exist\n", AZB_PROG,
			what, id);
	else if (azb_cli_no_module(rc))
		fprintf(stderr, "%s: %s: %s\n", AZB_PROG, what,
			azb_cli_errmsg(rc));
	else
		fprintf(stderr, "%s: %s: device %u: %s\n", AZB_PROG, what, id,
			azb_cli_errmsg(rc));
}

static int azb_list_ids(uint32_t **ids);

static int azb_cmd_remove(const struct azb_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	uint32_t *ids;
	int c, i, n, rc, status = AZB_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			azb_cmd_help(cmd);
		else if (c == 'a')
			all = true;
		else
			azb_cli_try_help(cmd->prog);
	}
	n = argc - optind;
	if (all && n)
		azb_die_usage(cmd->prog, "--all takes no device ID");
	if (!n && !all)
		azb_die_usage(cmd->prog, "missing device ID (or --all)");
	if (all) {
		n = azb_list_ids(&ids);
		if (n < 0) {
			fprintf(stderr, "%s: remove: %s\n", AZB_PROG, azb_cli_errmsg(n));
			return AZB_EXIT_FAIL;
		}
	} else {
		ids = calloc(n, sizeof(*ids));
		if (!ids) {
			fprintf(stderr, "%s: remove: out of memory\n", AZB_PROG);
			return AZB_EXIT_FAIL;
		}
		/* Check every id before removing any. */
		for (i = 0; i < n; i++)
			ids[i] = azb_cli_dev_id(cmd->prog, argv[optind + i]);
	}
	for (i = 0; i < n; i++) {
		rc = azb_dev_remove(ids[i]);
		/* --all: one removed meanwhile is gone as asked. */
		if (!rc || (all && (rc == -ENODEV || rc == -ENOENT)))
			continue;
		azb_dev_error("remove", ids[i], rc);
		status = AZB_EXIT_FAIL;
		if (azb_cli_no_module(rc))
			break;
	}
	free(ids);
	return status;
}

/* The label and serial of a device, "" where the module has none. */
static void azb_label_of(uint32_t id, char *label, size_t llen, char *serial,
			 size_t slen)
{
	if (azb_dev_get_label(id, label, llen, serial, slen)) {
		label[0] = '\0';
		serial[0] = '\0';
	}
}

/* s as a JSON string: printable ASCII (the kernel checks), " and \ escaped. */
static void azb_print_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void azb_print_info_json(const struct azb_dev_info *d, const char *indent)
{
	const struct azb_dev_params *p = &d->params;
	char path[32], label[AZBUSE_LABEL_LEN], serial[AZBUSE_SERIAL_LEN];

	azb_blk_path(p->dev_id, path, sizeof(path));
	printf("%s{\"id\": %u, \"device\": \"%s\", ", indent, p->dev_id, path);
	azb_chr_path(p->dev_id, path, sizeof(path));
	printf("\"char_device\": \"%s\", \"size\": %llu, "
	       "\"logical_bs\": %u, \"physical_bs\": %u, "
	       "\"max_io_bytes\": %u, \"queues\": %u, \"poll_queues\": %u, "
	       "\"depth\": %u, "
	       "\"timeout_ms\": %u, \"recovery_ms\": %u, "
	       "\"state\": \"%s\", \"pid\": %d, "
	       "\"flags\": %llu, \"flag_names\": ",
	       path, (unsigned long long)p->dev_bytes, p->logical_bs,
	       p->physical_bs, p->max_io_bytes, p->nr_queues,
	       p->nr_poll_queues, p->queue_depth, p->timeout_ms,
	       p->recovery_ms, azb_state_name(d->state), d->owner_pid,
	       (unsigned long long)p->flags);
	AZB_PRINT_FLAGS(p->flags, azb_dev_flag_names, true);
	azb_label_of(p->dev_id, label, sizeof(label), serial, sizeof(serial));
	printf(", \"label\": ");
	azb_print_json_str(label);
	printf(", \"serial\": ");
	azb_print_json_str(serial);
	printf(", \"blk_major\": %u, \"blk_minor\": %u, "
	       "\"chr_major\": %u, \"chr_minor\": %u}",
	       d->blk_major, d->blk_minor, d->chr_major, d->chr_minor);
}

static void azb_print_row(const struct azb_dev_info *d)
{
	const struct azb_dev_params *p = &d->params;
	char path[32], size[16], label[AZBUSE_LABEL_LEN], serial[AZBUSE_SERIAL_LEN];
	int w;

	azb_blk_path(p->dev_id, path, sizeof(path));
	azb_cli_fmt_size(p->dev_bytes, size, sizeof(size));
	printf("%-5u %-14s %7s %5u %6u %5u %5u %-8s %7d ", p->dev_id, path,
	       size, p->logical_bs, p->nr_queues, p->nr_poll_queues,
	       p->queue_depth,
	       azb_state_name(d->state), d->owner_pid);
	w = AZB_PRINT_FLAGS(p->flags, azb_dev_flag_names, false);
	azb_label_of(p->dev_id, label, sizeof(label), serial, sizeof(serial));
	printf("%*s %s\n", w < 30 ? 30 - w : 0, "", *label ? label : "-");
}

static int azb_cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* All device ids, sorted; *ids is malloc'ed.  Returns the count or -errno. */
static int azb_list_ids(uint32_t **ids)
{
	uint32_t *buf = NULL, *nbuf;
	int n = 0, cap;

	/* Devices come and go between calls: retry until the buffer fits. */
	do {
		cap = n + 16;
		nbuf = realloc(buf, cap * sizeof(*buf));
		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		n = azb_dev_list(buf, cap);
		if (n < 0) {
			free(buf);
			return n;
		}
	} while (n > cap);
	qsort(buf, n, sizeof(*buf), azb_cmp_id);
	*ids = buf;
	return n;
}

static int azb_cmd_list(const struct azb_cmd *cmd, int argc, char **argv)
{
	bool json = azb_parse_json_opt(cmd, argc, argv);
	const char *sep = "";
	struct azb_dev_info d;
	uint32_t *ids;
	int i, n, rc, status = AZB_EXIT_OK;

	if (optind < argc)
		azb_die_usage(cmd->prog, "unexpected argument '%s'", argv[optind]);
	n = azb_list_ids(&ids);
	if (n < 0) {
		fprintf(stderr, "%s: list: %s\n", AZB_PROG, azb_cli_errmsg(n));
		return AZB_EXIT_FAIL;
	}
	if (json)
		printf("[");
	else
		printf("%-5s %-14s %7s %5s %6s %5s %5s %-8s %7s %-30s %s\n", "ID",
		       "DEVICE", "SIZE", "BS", "QUEUES", "POLLQ", "DEPTH", "STATE",
		       "PID", "FLAGS", "SERVED FROM");
	for (i = 0; i < n; i++) {
		rc = azb_dev_get_info(ids[i], &d);
		/* Removed since it was listed: it is simply not there. */
		if (rc == -ENODEV || rc == -ENOENT)
			continue;
		if (rc) {
			azb_dev_error("list", ids[i], rc);
			status = AZB_EXIT_FAIL;
			continue;
		}
		if (json) {
			printf("%s\n", sep);
			azb_print_info_json(&d, "  ");
			sep = ",";
		} else {
			azb_print_row(&d);
		}
	}
	if (json)
		printf("%s]\n", *sep ? "\n" : "");
	free(ids);
	return status;
}

static int azb_cmd_info(const struct azb_cmd *cmd, int argc, char **argv)
{
	bool json = azb_parse_json_opt(cmd, argc, argv);
	const struct azb_dev_params *p;
	char blk[32], chr[32], size[16];
	char label[AZBUSE_LABEL_LEN], serial[AZBUSE_SERIAL_LEN];
	struct azb_dev_info d;
	uint32_t id;
	int rc;

	if (optind >= argc)
		azb_die_usage(cmd->prog, "missing device ID");
	id = azb_cli_dev_id(cmd->prog, argv[optind++]);
	if (optind < argc)
		azb_die_usage(cmd->prog, "unexpected argument '%s'", argv[optind]);
	rc = azb_dev_get_info(id, &d);
	if (rc) {
		azb_dev_error("info", id, rc);
		return AZB_EXIT_FAIL;
	}
	if (json) {
		azb_print_info_json(&d, "");
		printf("\n");
		return AZB_EXIT_OK;
	}
	p = &d.params;
	azb_blk_path(id, blk, sizeof(blk));
	azb_chr_path(id, chr, sizeof(chr));
	azb_cli_fmt_size(p->dev_bytes, size, sizeof(size));
	printf("device:       %s (%u:%u)\n", blk, d.blk_major, d.blk_minor);
	printf("char device:  %s (%u:%u)\n", chr, d.chr_major, d.chr_minor);
	printf("size:         %llu (%s)\n", (unsigned long long)p->dev_bytes,
	       size);
	printf("block size:   %u logical, %u physical\n", p->logical_bs,
	       p->physical_bs);
	printf("max I/O:      %u\n", p->max_io_bytes);
	printf("queues:       %u x depth %u\n", p->nr_queues, p->queue_depth);
	printf("poll queues:  %u\n", p->nr_poll_queues);
	printf("timeout:      %u ms\n", p->timeout_ms);
	if (p->flags & AZB_DEV_RECOVERY)
		printf("recovery:     holds I/O %u ms for a new runtime\n",
		       p->recovery_ms);
	printf("state:        %s\n", azb_state_name(d.state));
	printf("runtime pid:  %d\n", d.owner_pid);
	azb_label_of(id, label, sizeof(label), serial, sizeof(serial));
	printf("served from:  %s\n", *label ? label : "-");
	printf("serial:       %s\n", *serial ? serial : "-");
	printf("flags:        ");
	AZB_PRINT_FLAGS(p->flags, azb_dev_flag_names, false);
	printf("\n");
	return AZB_EXIT_OK;
}

static int azb_cmd_features(const struct azb_cmd *cmd, int argc, char **argv)
{
	bool json = azb_parse_json_opt(cmd, argc, argv);
	struct azb_features f;
	int rc;

	if (optind < argc)
		azb_die_usage(cmd->prog, "unexpected argument '%s'", argv[optind]);
	rc = azb_get_features(&f);
	if (rc) {
		fprintf(stderr, "%s: features: %s\n", AZB_PROG, azb_cli_errmsg(rc));
		return AZB_EXIT_FAIL;
	}
	if (json) {
		printf("{\"abi_version\": %u, \"features\": %llu, \"feature_names\": ",
		       f.abi_version, (unsigned long long)f.features);
		AZB_PRINT_FLAGS(f.features, azb_feat_names, true);
		printf(", \"max_queues\": %u, \"max_depth\": %u, \"max_io_bytes\": %u}\n",
		       f.max_queues, f.max_depth, f.max_io_bytes);
		return AZB_EXIT_OK;
	}
	printf("abi version:  %u\n", f.abi_version);
	printf("features:     ");
	AZB_PRINT_FLAGS(f.features, azb_feat_names, false);
	printf("\nmax queues:   %u\n", f.max_queues);
	printf("max depth:    %u\n", f.max_depth);
	printf("max I/O:      %u\n", f.max_io_bytes);
	return AZB_EXIT_OK;
}

static const struct azb_cmd azb_cmds[] = {
	{ "add", AZB_PROG " add", azb_add_usage, true, azb_add_more_usage,
	  azb_cmd_add },
	{ "remove", AZB_PROG " remove", azb_remove_usage, false, NULL,
	  azb_cmd_remove },
	{ "list", AZB_PROG " list", azb_list_usage, false, NULL, azb_cmd_list },
	{ "info", AZB_PROG " info", azb_info_usage, false, NULL, azb_cmd_info },
	{ "features", AZB_PROG " features", azb_features_usage, false, NULL,
	  azb_cmd_features },
};

#define AZB_NR_CMDS	(sizeof(azb_cmds) / sizeof(azb_cmds[0]))

static void azb_usage(void)
{
	size_t i;

	printf("Usage: %s COMMAND [options]\n"
	       "Add, remove and inspect azbuse block devices (needs root and the azbuse module).\n\n"
	       "Commands:\n", AZB_PROG);
	for (i = 0; i < AZB_NR_CMDS; i++) {
		printf("  ");
		azb_print_cmd_usage(&azb_cmds[i]);
	}
	printf("\n'%s COMMAND --help' shows one command.  Exit status: 0 done,\n"
	       "1 the request failed, 2 the command line was wrong.\n"
	       "  -h, --help     this help\n"
	       "      --version  the version\n", AZB_PROG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help",	no_argument, NULL, 'h' },
		{ "version",	no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct azb_cmd *cmd = NULL;
	size_t i;
	int c;

	/* getopt_long() starts its messages with argv[0]. */
	argv[0] = (char *)AZB_PROG;
	/* '+': stop at the command, whose options follow it. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			azb_usage();
			return AZB_EXIT_OK;
		case 'V':
			printf("%s %s (kernel ABI %d)\n", AZB_PROG,
			       AZB_VERSION, AZBUSE_ABI_VERSION);
			return AZB_EXIT_OK;
		default:
			azb_cli_try_help(AZB_PROG);
		}
	}
	if (optind >= argc)
		azb_die_usage(AZB_PROG, "missing command (add, remove, list, info or features)");
	for (i = 0; i < AZB_NR_CMDS; i++)
		if (!strcmp(argv[optind], azb_cmds[i].name))
			cmd = &azb_cmds[i];
	if (!cmd)
		azb_die_usage(AZB_PROG, "unknown command '%s'", argv[optind]);

	argc -= optind;
	argv += optind;
	argv[0] = (char *)cmd->prog;
	/* 0 makes glibc's getopt start afresh on the command's arguments. */
	optind = 0;
	return azb_cli_stdout_done(AZB_PROG, cmd->run(cmd, argc, argv));
}
