// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's messages (azbuse.h: azb_log, azb_set_log): engine and
 * runtime code never writes to stdio; a program routes or silences them.
 *
 * One sink per process, not per server: messages come from engine code on
 * threads the runtime does not own (librbd's callbacks, a reconnecting
 * connection), where no server is at hand.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <azbuse.h>

/* Messages are rare (errors, reconnects): a lock costs nothing here. */
static pthread_mutex_t azb_log_lock = PTHREAD_MUTEX_INITIALIZER;
static azb_log_fn azb_log_sink;		/* NULL: stderr */
static void *azb_log_arg;
static int azb_log_max = AZB_LOG_NOTICE;

void azb_set_log(azb_log_fn fn, void *arg, int max_level)
{
	pthread_mutex_lock(&azb_log_lock);
	azb_log_sink = fn;
	azb_log_arg = arg;
	azb_log_max = max_level;
	pthread_mutex_unlock(&azb_log_lock);
}

void azb_log(int level, const char *fmt, ...)
{
	azb_log_fn fn;
	char msg[1024];
	va_list ap;
	void *arg;
	int max;

	pthread_mutex_lock(&azb_log_lock);
	fn = azb_log_sink;
	arg = azb_log_arg;
	max = azb_log_max;
	pthread_mutex_unlock(&azb_log_lock);
	if (level > max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fn)
		fn(arg, level, msg);
	else
		fprintf(stderr, "%s\n", msg);
}
