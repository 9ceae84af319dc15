// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's messages (azb_log, azb_set_log): by default one line each
 * on stderr up to NOTICE; a program's callback gets them instead, without
 * the newline, with their level, and nothing reaches stderr; levels above
 * the maximum are dropped; an engine's message (a bad option, through
 * azb_engine_opt_next) takes the same road; NULL restores stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <azbuse.h>
#include "check.h"

struct seen {
	int	n;
	int	level[8];
	char	msg[8][256];
};

static void collect(void *arg, int level, const char *msg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->level[s->n] = level;
		snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", msg);
	}
	s->n++;
}

/* What the library wrote on stderr while fn ran. */
static void capture_stderr(void (*fn)(void), char *buf, size_t len)
{
	int fd = memfd_create("err", 0), saved = dup(2);
	ssize_t n;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void log_three(void)
{
	azb_log(AZB_LOG_ERR, "an error %d", 1);
	azb_log(AZB_LOG_NOTICE, "a notice");
	azb_log(AZB_LOG_INFO, "an info");
}

static const struct azb_engine_opt no_opts[] = { { .key = NULL } };
static const struct azb_engine_ops quiet_ops = {
	.name = "quiet", .version = AZB_ENGINE_OPS_VERSION, .opts = no_opts,
};

static void bad_option(void)
{
	struct azb_engine_optval v;
	const char *p = "loud=1";

	CHECK(azb_engine_opt_next(&quiet_ops, &p, &v) == -EINVAL,
	      "a bad option was taken");
}

int main(void)
{
	struct seen s = { 0 };
	char err[1024];

	/* The default: stderr, a line each, up to NOTICE. */
	capture_stderr(log_three, err, sizeof(err));
	CHECK(!strcmp(err, "an error 1\na notice\n"),
	      "default stderr output: '%s'", err);

	/* A callback: every message up to its maximum, nothing on stderr. */
	azb_set_log(collect, &s, AZB_LOG_INFO);
	capture_stderr(log_three, err, sizeof(err));
	capture_stderr(bad_option, err + strlen(err), sizeof(err) - strlen(err));
	CHECK(!err[0], "stderr got '%s' with a callback set", err);
	CHECK(s.n == 4, "the callback got %d messages, want 4", s.n);
	CHECK(s.level[0] == AZB_LOG_ERR && !strcmp(s.msg[0], "an error 1"),
	      "first: %d '%s'", s.level[0], s.msg[0]);
	CHECK(s.level[2] == AZB_LOG_INFO && !strcmp(s.msg[2], "an info"),
	      "third: %d '%s'", s.level[2], s.msg[2]);
	CHECK(s.level[3] == AZB_LOG_ERR &&
	      !strcmp(s.msg[3], "quiet engine: unknown option 'loud' (it takes none)"),
	      "the engine's message: %d '%s'", s.level[3], s.msg[3]);

	/* Errors only. */
	s.n = 0;
	azb_set_log(collect, &s, AZB_LOG_ERR);
	log_three();
	CHECK(s.n == 1 && !strcmp(s.msg[0], "an error 1"),
	      "max ERR: %d messages", s.n);

	/* Back to stderr, debug included. */
	azb_set_log(NULL, NULL, AZB_LOG_DEBUG);
	capture_stderr(log_three, err, sizeof(err));
	CHECK(!strcmp(err, "an error 1\na notice\nan info\n"),
	      "stderr again: '%s'", err);
	if (failures)
		return 1;
	printf("test_log: ok\n");
	return 0;
}
