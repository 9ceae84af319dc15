// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azbuse-run: serve one azbuse device with one of the built-in engines until
 * SIGINT, SIGTERM or SIGHUP, or until the device is removed.
 *
 * It creates the device (and removes it on exit) unless --dev names one that
 * exists, as made by "azbusectl add".
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <azbuse.h>

#include "cli.h"
#include "engine_cli.h"
#include "lifecycle.h"
#include "statsline.h"

#define AZB_PROG		"azbuse-run"
#define AZB_DEF_ENGINE		"mem"
#define AZB_WAIT_MS		200

enum {
	OPT_DEV = AZB_OPT_TOOL,
	OPT_POLL,
	OPT_SPIN_US,
	OPT_CPUS,
	OPT_PIN,
	OPT_SCHED,
	OPT_STATS,
	OPT_STATS_JSON,
	OPT_VERSION,
	OPT_QUIET,
	OPT_LABEL,
	OPT_SERIAL,
	OPT_RUN,
	OPT_DAEMON,
	OPT_PIDFILE,
	OPT_ENGINE_FLAG,	/* + index into azb_eflags */
};

/* The most long options the engines may add (see azb_build_longopts). */
#define AZB_MAX_EFLAGS		64

static const struct option azb_core_opts[] = {
	AZB_CLI_DEV_LONGOPTS,
	{ "engine",	required_argument, NULL, 'e' },
	{ "dev",	required_argument, NULL, OPT_DEV },
	{ "poll",	required_argument, NULL, OPT_POLL },
	{ "spin-us",	required_argument, NULL, OPT_SPIN_US },
	{ "engine-opt",	required_argument, NULL, 'o' },
	{ "cpus",	required_argument, NULL, OPT_CPUS },
	{ "pin",	required_argument, NULL, OPT_PIN },
	{ "sched",	required_argument, NULL, OPT_SCHED },
	{ "stats",	required_argument, NULL, OPT_STATS },
	{ "stats-json",	no_argument, NULL, OPT_STATS_JSON },
	{ "help",	no_argument, NULL, 'h' },
	{ "version",	no_argument, NULL, OPT_VERSION },
	{ "verbose",	no_argument, NULL, 'v' },
	{ "quiet",	no_argument, NULL, OPT_QUIET },
	{ "label",	required_argument, NULL, OPT_LABEL },
	{ "serial",	required_argument, NULL, OPT_SERIAL },
	{ "run",	required_argument, NULL, OPT_RUN },
	{ "daemon",	no_argument, NULL, OPT_DAEMON },
	{ "pidfile",	required_argument, NULL, OPT_PIDFILE },
};
#define AZB_NR_CORE_OPTS	(sizeof(azb_core_opts) / sizeof(azb_core_opts[0]))

/*
 * The long options engines declare (struct azb_engine_opt.flag), each
 * spelling once, after the tool's own: the engine chosen must then
 * declare every one given (azb_engine_flags_apply).
 */
static const char *azb_eflags[AZB_MAX_EFLAGS];
static struct option azb_opts[AZB_NR_CORE_OPTS + AZB_MAX_EFLAGS + 1];

static void azb_build_longopts(void)
{
	const struct azb_engine_ops *const *e;
	const struct azb_engine_opt *t;
	unsigned int n = 0, i;

	memcpy(azb_opts, azb_core_opts, sizeof(azb_core_opts));
	for (e = azb_engine_list(); *e; e++) {
		for (t = (*e)->opts; t && t->key; t++) {
			if (!t->flag)
				continue;
			for (i = 0; i < n && strcmp(azb_eflags[i], t->flag); i++)
				;
			if (i < n || n == AZB_MAX_EFLAGS)
				continue;
			azb_eflags[n] = t->flag;
			azb_opts[AZB_NR_CORE_OPTS + n] = (struct option){
				t->flag, t->kind == AZB_EOPT_FLAG ?
					 no_argument : required_argument,
				NULL, OPT_ENGINE_FLAG + (int)n,
			};
			n++;
		}
	}
}





static void azb_usage(void)
{
	const struct azb_engine_ops *const *e;

	/* Every plugin found, for the list below. */
	azb_engine_load_all();

	printf("Usage: %s [options] [TARGET]\n"
	       "Serve an azbuse block device from this process until SIGINT, SIGTERM or\n"
	       "SIGHUP; prints the device path (/dev/azbuseN) once it serves I/O.\n\n"
	       "  -e, --engine NAME      storage engine (default " AZB_DEF_ENGINE ")\n"
	       "      --dev ID           serve device ID made by 'azbusectl add' instead of\n"
	       "                         creating one; it keeps its own device options\n",
	       AZB_PROG);
	azb_cli_dev_usage("  ");
	printf("      --poll MODE        busy (never sleep), adaptive (spin, then sleep;\n"
	       "                         the default) or sleep\n"
	       "      --spin-us N        adaptive: microseconds to spin before sleeping,\n"
	       "                         0..1000000\n"
	       "  -o, --engine-opt K[=V] an engine option (repeatable); an engine's\n"
	       "                         own long options (below) set them too\n"
	       "      --cpus LIST        CPUs the pollers may run on, as 0-3,8 (default:\n"
	       "                         those this process may run on)\n"
	       "      --pin node|queue   where among them each poller runs: any CPU of\n"
	       "                         its queue's NUMA node (node, the default: a\n"
	       "                         busy submitter's poller moves to an idle CPU),\n"
	       "                         or only the CPUs blk-mq maps to its queue\n"
	       "      --sched POLICY     the pollers' scheduling policy: batch (the\n"
	       "                         default: SCHED_BATCH, so a woken poller lets\n"
	       "                         the thread that queued a request go on\n"
	       "                         queueing; a real-time or idle policy set with\n"
	       "                         chrt is kept) or inherit (this process's)\n"
	       "      --stats SECONDS    every SECONDS (1..3600), one line of rates over\n"
	       "                         the interval: I/Os by type, MiB/s, batch size,\n"
	       "                         queue depth, busy time, commits per I/O\n"
	       "      --stats-json       the --stats lines as JSON, per queue and counted\n"
	       "                         from the start (every second without --stats),\n"
	       "                         and a last one on exit\n"
	       "      --label TEXT       what the device is served from, for azbusectl\n"
	       "                         list (default: ENGINE TARGET)\n"
	       "      --serial ID        its /dev/disk/by-id/azbuse-ID link (default:\n"
	       "                         ENGINE-TARGET with a TARGET, else none)\n"
	       "      --run CMD          once the device serves, run 'sh -c CMD sh DEVICE'\n"
	       "                         ($AZBUSE_DEV is the device too), then drain,\n"
	       "                         remove the device and exit with CMD's status\n"
	       "      --daemon           serve in the background: return once the device\n"
	       "                         serves, printing its path; messages to syslog\n"
	       "      --pidfile FILE     write the serving process's pid to FILE\n"
	       "  -v, --verbose          more of the library's messages: how the device is\n"
	       "                         served (-v), where each poller runs (twice)\n"
	       "      --quiet            only the library's errors (no warnings or\n"
	       "                         notices such as a reconnect)\n"
	       "  -h, --help             this help\n"
	       "      --version          the version\n\n"
	       "Engines:\n");
	for (e = azb_engine_list(); *e; e++)
		printf("  %-10s %s%s\n", (*e)->name, (*e)->help,
		       (*e)->flags & AZB_ENGINE_F_NEEDS_TARGET ?
		       " (TARGET required)" : "");
	printf("\n'%s --engine NAME --help' lists the options of engine NAME.\n",
	       AZB_PROG);
	printf("\nWith a TARGET, -s defaults to all of it and -b to the block size O_DIRECT\n"
	       "on it needs; -b may only raise that.\n");
	printf("\nExit status: 0 stopped cleanly, 1 failed, 2 the command line was wrong;\n"
	       "with --run, CMD's status (128 + N if signal N ended it).\n");
}

/* What was served, summed over queues: one line on stderr at exit. */
static void azb_print_totals(const struct azb_server *s)
{
	struct azb_queue_stats t;

	azb_stats_total(s, &t);
	fprintf(stderr,
		"%s: served read %llu write %llu flush %llu discard %llu write-zeroes %llu, %llu bytes, %llu errors, %llu commits, %llu redirected\n",
		AZB_PROG, (unsigned long long)t.ios[AZB_OP_READ],
		(unsigned long long)t.ios[AZB_OP_WRITE],
		(unsigned long long)t.ios[AZB_OP_FLUSH],
		(unsigned long long)t.ios[AZB_OP_DISCARD],
		(unsigned long long)t.ios[AZB_OP_WRITE_ZEROES],
		(unsigned long long)t.bytes, (unsigned long long)t.errors,
		(unsigned long long)t.batches, (unsigned long long)t.redirects);
	if (t.bad_completions)
		fprintf(stderr, "%s: the kernel refused %llu completion batches\n",
			AZB_PROG, (unsigned long long)t.bad_completions);
}

/* The long name of option val, for messages. */
static const char *azb_opt_name(int val)
{
	const struct option *o;

	for (o = azb_opts; o->name && o->val != val; o++)
		;
	return o->name ? o->name : "?";
}

static enum azb_poll_mode azb_parse_poll(const char *arg)
{
	if (!strcmp(arg, "busy"))
		return AZB_POLL_BUSY;
	if (!strcmp(arg, "adaptive"))
		return AZB_POLL_ADAPTIVE;
	if (!strcmp(arg, "sleep"))
		return AZB_POLL_SLEEP;
	azb_die_usage(AZB_PROG, "--poll: '%s' is not busy, adaptive or sleep", arg);
}

static enum azb_pin azb_parse_pin(const char *arg)
{
	if (!strcmp(arg, "node"))
		return AZB_PIN_NODE;
	if (!strcmp(arg, "queue"))
		return AZB_PIN_QUEUE;
	azb_die_usage(AZB_PROG, "--pin: '%s' is not node or queue", arg);
}

static enum azb_sched azb_parse_sched(const char *arg)
{
	if (!strcmp(arg, "batch"))
		return AZB_SCHED_BATCH;
	if (!strcmp(arg, "inherit"))
		return AZB_SCHED_INHERIT;
	azb_die_usage(AZB_PROG, "--sched: '%s' is not batch or inherit", arg);
}

static const char *azb_sig_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	}
	return "SIGHUP";
}

static uint64_t azb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Serves until a signal or the device's removal, printing statistics
 * every stats_ms if sl is set; with a --run child, until the child ends
 * instead (its wait status in *child_status), passing it the signals.
 * Returns 0, or -errno when waiting for signals itself failed.
 */
static int azb_serve(struct azb_server *s, const sigset_t *sigs, bool *removed,
		     struct azb_statsline *sl, unsigned int stats_ms,
		     pid_t child, int *child_status)
{
	uint64_t next = azb_now_ms() + stats_ms, now;
	struct timespec wait;
	int sig;

	for (;;) {
		uint64_t ms = AZB_WAIT_MS;

		now = azb_now_ms();
		if (sl && now >= next) {
			azb_statsline_print(sl, false);
			/* Keep the cadence; skip what a stall missed. */
			next += stats_ms * ((now - next) / stats_ms + 1);
		}
		if (sl && next - now < ms)
			ms = next - now;
		wait.tv_sec = 0;
		wait.tv_nsec = (long)ms * 1000000L;
		sig = sigtimedwait(sigs, NULL, &wait);
		if (child > 0 && sig > 0) {
			/* The command decides when serving ends. */
			if (sig != SIGCHLD) {
				kill(child, sig);
			} else if (waitpid(child, child_status, WNOHANG) == child) {
				return 0;
			}
			continue;
		}
		if (sig > 0) {
			fprintf(stderr, "%s: %s, stopping\n", AZB_PROG,
				azb_sig_name(sig));
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (child > 0) {
			*removed = !azb_server_running(s);
			continue;
		}
		if (!azb_server_running(s)) {
			fprintf(stderr, "%s: device removed, exiting\n", AZB_PROG);
			*removed = true;
			return 0;
		}
	}
}







/*
 * An option getopt_long() did not take (opterr is 0, so this says it, as
 * glibc would): a long option of an engine other than the one chosen is
 * named as such, its plugin loaded to know.
 */
static void azb_bad_option(int c, char **argv, const char *engine)
{
	const char *arg = argv[optind - 1];
	bool is_long = !strncmp(arg, "--", 2);
	char who[128], flag[64];

	/* For a long option, optopt is its value, not a character. */
	if (c == ':' && is_long)
		azb_die_usage(AZB_PROG, "option '%s' requires an argument", arg);
	if (c == ':')
		azb_die_usage(AZB_PROG, "option requires an argument -- '%c'", optopt);
	if (!is_long)
		azb_die_usage(AZB_PROG, "invalid option -- '%c'", optopt);
	if (optopt)	/* a known one, given a value it does not take */
		azb_die_usage(AZB_PROG, "option '%.*s' doesn't allow an argument",
			      (int)strcspn(arg, "="), arg);
	snprintf(flag, sizeof(flag), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	azb_engine_load_all();
	azb_engines_with_flag(flag, who, sizeof(who));
	if (*who)
		azb_die_usage(AZB_PROG, "--%s is an option of engine %s, not '%s'",
			      flag, who, engine);
	azb_die_usage(AZB_PROG, "unrecognized option '%s'", arg);
}

/* What the command line asks for. */
struct azb_run {
	struct azb_server_opts	o;
	unsigned int		stats_s;	/* 0: no statistics */
	bool			stats_json;
	const char		*run;		/* --run CMD */
	bool			daemon;
	const char		*pidfile;
	struct azb_params	params;		/* o.engine_params points here */
};

/*
 * Parses and checks the command line into r; exits on a usage error, and
 * after --help or --version.
 */
static void azb_parse_args(int argc, char **argv, struct azb_run *r)
{
	const char *engine_name = AZB_DEF_ENGINE, *named;
	struct azb_server_opts *o = &r->o;
	const struct azb_engine_ops *eng;
	struct azb_eflag_arg eflag[AZB_MAX_EFLAGS];
	unsigned int neflags = 0;
	bool help = false, engine_given = false;
	int c, dev_opt = 0;	/* a device option seen */
	int log_level = AZB_LOG_NOTICE;

	named = azb_engine_arg(argc, argv);
	if (named)
		azb_engine_get(AZB_PROG, named);
	azb_build_longopts();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" AZB_CLI_DEV_OPTSTRING "e:o:hv",
				azb_opts, NULL)) != -1) {
		if (azb_cli_dev_opt(AZB_PROG, c, optarg, &o->dev)) {
			dev_opt = c;
			continue;
		}
		switch (c) {
		case 'e':
			engine_name = optarg;
			engine_given = true;
			break;
		case OPT_DEV:
			o->attach_id = azb_cli_dev_id(AZB_PROG, optarg);
			break;
		case OPT_POLL:
			o->poll = azb_parse_poll(optarg);
			break;
		case OPT_SPIN_US:
			o->poll_spin_us = azb_cli_uint(AZB_PROG, "--spin-us",
						       optarg, 0, 1000000);
			break;
		case 'o':
			azb_params_add(AZB_PROG, &r->params, "-o", optarg, NULL);
			break;
		case OPT_CPUS:
			o->cpus = azb_cli_cpus(AZB_PROG, "--cpus", optarg);
			break;
		case OPT_PIN:
			o->pin = azb_parse_pin(optarg);
			break;
		case OPT_SCHED:
			o->sched = azb_parse_sched(optarg);
			break;
		case OPT_STATS:
			r->stats_s = azb_cli_uint(AZB_PROG, "--stats", optarg,
						  1, 3600);
			break;
		case OPT_STATS_JSON:
			r->stats_json = true;
			break;
		case 'h':
			help = true;	/* after the rest: --engine NAME --help */
			break;
		case 'v':
			if (log_level < AZB_LOG_DEBUG)
				log_level = (log_level < AZB_LOG_NOTICE ?
					     AZB_LOG_NOTICE : log_level) + 1;
			break;
		case OPT_QUIET:
			log_level = AZB_LOG_ERR;
			break;
		case OPT_LABEL:
			o->label = optarg;
			break;
		case OPT_SERIAL:
			o->serial = optarg;
			break;
		case OPT_RUN:
			if (!*optarg)
				azb_die_usage(AZB_PROG, "--run: empty command");
			r->run = optarg;
			break;
		case OPT_DAEMON:
			r->daemon = true;
			break;
		case OPT_PIDFILE:
			r->pidfile = optarg;
			break;
		case OPT_VERSION:
			printf("%s %s (kernel ABI %d)\n", AZB_PROG,
			       AZB_VERSION, AZBUSE_ABI_VERSION);
			exit(AZB_EXIT_OK);
		case '?':
		case ':':
			azb_bad_option(c, argv, engine_name);
			break;
		default:
			if (c < OPT_ENGINE_FLAG || neflags == AZB_MAX_EFLAGS)
				azb_cli_try_help(AZB_PROG);
			eflag[neflags].flag = azb_eflags[c - OPT_ENGINE_FLAG];
			eflag[neflags++].val = optarg;
		}
	}
	azb_set_log(NULL, NULL, log_level);
	if (optind < argc)
		o->target = argv[optind++];
	if (optind < argc)
		azb_die_usage(AZB_PROG, "unexpected argument '%s' (one TARGET at most)",
			      argv[optind]);

	if (help && !engine_given) {
		azb_usage();
		exit(AZB_EXIT_OK);
	}
	eng = azb_engine_get(AZB_PROG, engine_name);
	if (help) {
		azb_engine_usage(eng);
		exit(AZB_EXIT_OK);
	}
	o->engine = eng;
	if ((eng->flags & AZB_ENGINE_F_NEEDS_TARGET) && !o->target)
		azb_die_usage(AZB_PROG, "engine '%s' needs a TARGET", eng->name);
	if ((eng->flags & AZB_ENGINE_F_NO_TARGET) && o->target)
		azb_die_usage(AZB_PROG, "engine '%s' takes no TARGET, got '%s'",
			      eng->name, o->target);
	if (r->stats_json && !r->stats_s)
		r->stats_s = 1;
	if (r->run && r->daemon)
		azb_die_usage(AZB_PROG, "--run and --daemon cannot be used together");
	if (r->daemon && r->stats_s)
		azb_die_usage(AZB_PROG, "--stats cannot be used with --daemon (no terminal)");
	azb_engine_flags_apply(AZB_PROG, eng, eflag, neflags, &r->params);
	if (r->params.len)
		o->engine_params = r->params.buf;
	if (o->attach_id != AZB_ID_ANY && dev_opt)
		azb_die_usage(AZB_PROG, "--%s cannot be used with --dev: the device has its own",
			      azb_opt_name(dev_opt));
	if (o->attach_id == AZB_ID_ANY && !o->dev.dev_bytes &&
	    (eng->flags & AZB_ENGINE_F_NO_TARGET))
		azb_die_usage(AZB_PROG, "engine '%s' needs -s SIZE", eng->name);
	azb_cli_dev_check(AZB_PROG, &o->dev);
}

/* Creates or attaches the device and serves it until told to stop. */
static int azb_run(struct azb_run *r)
{
	struct azb_server_opts *o = &r->o;
	unsigned int stats_s = r->stats_s;
	bool removed = false, stats_json = r->stats_json, sl_ready = false;
	bool pid_written = false;
	struct azb_statsline sl;
	struct azb_features f;
	struct azb_server *s;
	char path[32], status[64];
	sigset_t sigs;
	int rc, stop_rc, child_status = 0;
	pid_t child = 0;

	/* Limits first: no engine is opened for a device the module refuses. */
	if (o->attach_id == AZB_ID_ANY) {
		rc = azb_cli_dev_check_kernel(AZB_PROG, &o->dev, &f);
		if (rc) {
			fprintf(stderr, "%s: %s\n", AZB_PROG, azb_cli_errmsg(rc));
			return AZB_EXIT_FAIL;
		}
	}

	/* Before any thread: the daemon is the child that serves. */
	if (r->daemon)
		azb_daemon_begin(AZB_PROG);
	rc = azb_server_create(o, &s);
	if (rc == -ENODEV && o->attach_id != AZB_ID_ANY) {
		fprintf(stderr, "%s: --dev: device %u does not exist\n",
			AZB_PROG, o->attach_id);
		return AZB_EXIT_FAIL;
	}
	if (rc) {
		fprintf(stderr, "%s: %s\n", AZB_PROG, azb_cli_errmsg(rc));
		return AZB_EXIT_FAIL;
	}

	/* Blocked in every poller too, so only sigtimedwait() takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* A --run command's end is taken by sigtimedwait() too. */
	if (r->run)
		sigaddset(&sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = azb_server_start(s);
	if (rc) {
		fprintf(stderr, "%s: start: %s\n", AZB_PROG, azb_cli_errmsg(rc));
		azb_server_destroy(s);
		return AZB_EXIT_FAIL;
	}
	azb_blk_path(azb_server_dev_id(s), path, sizeof(path));
	if (r->pidfile) {
		rc = azb_pidfile_write(r->pidfile);
		if (rc) {
			fprintf(stderr, "%s: --pidfile %s: %s\n", AZB_PROG,
				r->pidfile, strerror(-rc));
			goto stop;
		}
		pid_written = true;
	}
	if (r->daemon) {
		rc = azb_daemon_ready(AZB_PROG, path);
	} else {
		/* A caller that cannot learn the device must not be left with it. */
		printf("%s\n", path);
		rc = fflush(stdout) || ferror(stdout) ? -(errno ? errno : EIO) : 0;
		if (rc)
			fprintf(stderr, "%s: cannot write the device path: %s\n",
				AZB_PROG, strerror(-rc));
	}
	if (rc)
		goto stop;
	snprintf(status, sizeof(status), "READY=1\nSTATUS=Serving %s", path);
	azb_notify(status);
	if (r->run) {
		child = azb_run_command(r->run, path);
		if (child < 0) {
			rc = child;
			fprintf(stderr, "%s: --run: cannot start the command: %s\n",
				AZB_PROG, strerror(-rc));
			goto stop;
		}
	}
	if (stats_s) {
		if (!stats_json)
			azb_statsline_placement(s, stderr);
		azb_statsline_init(&sl, s, stdout, stats_json);
		sl_ready = true;
	}

	rc = azb_serve(s, &sigs, &removed, stats_s ? &sl : NULL,
		       stats_s * 1000, child, &child_status);
	if (rc)
		fprintf(stderr, "%s: waiting for signals: %s\n", AZB_PROG,
			strerror(-rc));
stop:
	azb_notify("STOPPING=1\nSTATUS=Draining and stopping");
	stop_rc = azb_server_stop(s);
	if (stats_json && sl_ready)
		azb_statsline_print(&sl, true);
	azb_print_totals(s);
	/* The pollers of a removed device report it gone: that is the stop. */
	if (removed && stop_rc == -ENODEV)
		stop_rc = 0;
	if (stop_rc) {
		fprintf(stderr, "%s: serving failed: %s\n", AZB_PROG,
			strerror(-stop_rc));
		rc = rc ? rc : stop_rc;
	}
	azb_server_destroy(s);
	if (pid_written)
		unlink(r->pidfile);
	if (rc)
		return AZB_EXIT_FAIL;
	return child > 0 ? azb_exit_status(child_status) : AZB_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct azb_run r = { .stats_s = 0 };

	/* getopt_long() starts its messages with argv[0]. */
	argv[0] = (char *)AZB_PROG;
	azb_server_opts_init(&r.o);
	r.o.attach_id = AZB_ID_ANY;
	/* Flushes and FUA reach the engine unless the user opts out. */
	r.o.dev.flags |= AZB_DEV_WRITE_CACHE;
	azb_parse_args(argc, argv, &r);
	return azb_cli_stdout_done(AZB_PROG, azb_run(&r));
}
