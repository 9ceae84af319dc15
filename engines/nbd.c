// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * nbd: serves the device from an NBD server (qemu-nbd, nbdkit and its
 * plugins, another host's export) through libnbd, one connection per
 * queue, every command asynchronous.
 *
 * TARGET is an NBD URI: nbd://HOST[:PORT]/EXPORT, nbds://... (TLS), or
 * nbd+unix:///EXPORT?socket=PATH.  open() connects once to learn the
 * export (size, block size, what it supports) and each queue's poller then
 * opens its own connection in queue_init() and makes every later call on
 * it: libnbd's state machine runs in that poller only, so no thread of
 * libnbd's own hands completions over.
 *
 * Commands read and write the request's arena slot directly, one command
 * per request.  A completion callback only notes that the command finished
 * (libnbd forbids calling the handle from inside its callbacks); reap()
 * then completes the request, outside libnbd.  Ops and flags:
 *   READ, WRITE    NBD_CMD_READ / WRITE; FUA -> NBD_CMD_FLAG_FUA, or, when
 *                  the server has no FUA, a FLUSH after the write completes;
 *                  PREFLUSH -> a FLUSH that completes before the write is
 *                  sent (NBD orders nothing between commands in flight);
 *                  those FLUSHes are the runtime's (engine->emulate)
 *   FLUSH          NBD_CMD_FLUSH (a server without it has no cache to
 *                  flush: success, and no flag asks for one)
 *   DISCARD        NBD_CMD_TRIM, offered only if the server has it
 *   WRITE_ZEROES   NBD_CMD_WRITE_ZEROES, NOUNMAP -> NBD_CMD_FLAG_NO_HOLE,
 *                  offered only if the server has it
 * An error from the server reaches the kernel as its errno.  A lost
 * connection does not fail the I/O at once: the queue reconnects (libnbd's
 * non-blocking connect, driven from reap(), first at once, then with
 * backoff from 100 ms to 5 s) and holds its requests, those that were in
 * flight and those that arrive, for up to reconnect=SECONDS (default 30,
 * the device's default I/O timeout; 0: fail at once).  After a reconnect
 * each held command is sent again (a write may reach the server twice, as
 * any retried write).  A request held longer fails with EIO.
 *
 * A FLUSH covers only the writes of its own connection unless the server
 * says otherwise (multi-conn), so a writable export without multi-conn is
 * served through one queue only.
 */
#include <errno.h>
#include <inttypes.h>
#include <libnbd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines.h"

/* Default of reconnect=: the kernel's default I/O timeout. */
#define AZB_NBD_RECONNECT_MS	30000
/* Pause between reconnection attempts: doubles from the first to the last. */
#define AZB_NBD_BACKOFF_MIN_MS	100
#define AZB_NBD_BACKOFF_MAX_MS	5000

/* What the export offers, learned once in open(). */
struct azb_nbd {
	char		*uri;
	unsigned int	reconnect_ms;	/* how long requests wait for it */
	uint64_t	size;
	bool		read_only;
	bool		can_flush;
	bool		can_fua;
	bool		can_trim;
	bool		can_zero;
	bool		multi_conn;
};

/* Per-request state, in the request's engine space. */
struct azb_nbd_io {
	struct azb_io		*io;
	struct azb_nbd_queue	*nq;
	bool			sent;	/* its command is (or was) in flight */
	int			err;	/* the command's error, -errno */
	uint64_t		held_since;	/* ns; 0: never held */
};

struct azb_nbd_queue {
	struct nbd_handle	*h;
	const struct azb_nbd	*nbd;
	/* Requests whose command finished, for reap() to move on. */
	struct azb_nbd_io	**done;
	unsigned int		nr_done;
	/* Requests waiting for the connection to come back. */
	struct azb_nbd_io	**held;
	unsigned int		nr_held;
	bool			down;		/* the connection was lost */
	bool			connecting;	/* a new one is under way */
	uint64_t		next_try_ns;
	unsigned int		backoff_ms;
};

/* How a request stands after azb_nbd_advance(). */
enum azb_nbd_state {
	AZB_NBD_IN_FLIGHT,
	AZB_NBD_HELD,
	AZB_NBD_ENDED,
};

static uint64_t azb_nbd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* libnbd's message for the last failed call, for one-line errors. */
static const char *azb_nbd_error(void)
{
	const char *m = nbd_get_error();

	return m ? m : "unknown error";
}

/* -errno of the last failed libnbd call; EIO when it names none. */
static int azb_nbd_errno(void)
{
	int e = nbd_get_errno();

	return e > 0 ? -e : -EIO;
}

/* A connected handle, or NULL after printing why not. */
static struct nbd_handle *azb_nbd_connect(const char *uri, const char *who)
{
	struct nbd_handle *h = nbd_create();

	if (!h) {
		azb_log(AZB_LOG_ERR, "nbd engine: %s: %s", who, azb_nbd_error());
		return NULL;
	}
	if (nbd_connect_uri(h, uri) == -1) {
		azb_log(AZB_LOG_ERR, "nbd engine: %s: cannot connect to %s: %s",
			who, uri, azb_nbd_error());
		nbd_close(h);
		return NULL;
	}
	return h;
}

static const struct azb_engine_ops azb_engine_nbd;

static const struct azb_engine_opt azb_nbd_opts[] = {
	{
		.key = "reconnect", .kind = AZB_EOPT_UINT, .arg = "SECONDS",
		.max = 3600, .flag = "reconnect",
		.help = "how long requests wait for a lost server to come back "
			"(default 30; 0: fail them at once)",
	},
	{ .key = NULL },
};

static int azb_nbd_parse_params(struct azb_nbd *nbd, const char *params)
{
	struct azb_engine_optval v;
	int ret;

	nbd->reconnect_ms = AZB_NBD_RECONNECT_MS;
	while ((ret = azb_engine_opt_next(&azb_engine_nbd, &params, &v)) > 0)
		nbd->reconnect_ms = v.num * 1000;	/* the one option */
	return ret;
}

static int azb_nbd_open(struct azb_engine *e, const char *target,
			const struct azb_engine_opts *o)
{
	struct nbd_handle *h;
	struct azb_nbd *nbd;
	int64_t size, min_bs;

	if (!target) {
		azb_log(AZB_LOG_ERR, "nbd engine: an NBD URI is required (nbd://HOST/EXPORT or nbd+unix:///EXPORT?socket=PATH)");
		return -EINVAL;
	}
	nbd = calloc(1, sizeof(*nbd));
	if (!nbd)
		return -ENOMEM;
	if (azb_nbd_parse_params(nbd, o->params)) {
		free(nbd);
		return -EINVAL;
	}
	nbd->uri = strdup(target);
	if (!nbd->uri) {
		free(nbd);
		return -ENOMEM;
	}
	h = azb_nbd_connect(target, "export");
	if (!h) {
		free(nbd->uri);
		free(nbd);
		return -EIO;
	}
	size = nbd_get_size(h);
	min_bs = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	nbd->size = size > 0 ? (uint64_t)size : 0;
	nbd->read_only = nbd_is_read_only(h) == 1;
	nbd->can_flush = nbd_can_flush(h) == 1;
	nbd->can_fua = nbd_can_fua(h) == 1;
	nbd->can_trim = nbd_can_trim(h) == 1;
	nbd->can_zero = nbd_can_zero(h) == 1;
	nbd->multi_conn = nbd_can_multi_conn(h) == 1;
	nbd_close(h);

	if (nbd->size < 4096) {
		azb_log(AZB_LOG_ERR, "nbd engine: %s: export of %" PRId64 " bytes is too small to serve",
			target, size);
		free(nbd->uri);
		free(nbd);
		return -EINVAL;
	}
	if (o->dev_bytes > nbd->size) {
		azb_log(AZB_LOG_ERR, "nbd engine: %s holds %" PRIu64 " bytes, less than the %" PRIu64 " asked for",
			target, nbd->size, o->dev_bytes);
		free(nbd->uri);
		free(nbd);
		return -EINVAL;
	}
	if (nbd->read_only && !o->read_only)
		azb_log(AZB_LOG_NOTICE, "nbd engine: %s is read-only: serving it read-only",
			target);
	e->priv = nbd;
	/* -s may serve less; else whole 4 KiB blocks of the export. */
	e->dev_bytes = o->dev_bytes ? o->dev_bytes : nbd->size & ~4095ULL;
	/* The server's smallest block, when it is one the kernel takes. */
	e->logical_bs = min_bs >= 512 && min_bs <= 4096 &&
			!(min_bs & (min_bs - 1)) ? (uint32_t)min_bs : 0;
	e->dev_flags = 0;
	if (nbd->read_only)
		e->dev_flags |= AZB_DEV_READ_ONLY;
	if (nbd->can_trim)
		e->dev_flags |= AZB_DEV_DISCARD;
	if (nbd->can_zero)
		e->dev_flags |= AZB_DEV_WRITE_ZEROES;
	/* Flags the server cannot take become FLUSHes of the runtime's. */
	e->emulate = 0;
	if (nbd->can_flush)
		e->emulate = AZB_IO_PREFLUSH | (nbd->can_fua ? 0 : AZB_IO_FUA);
	return 0;
}

static void azb_nbd_close(struct azb_engine *e)
{
	struct azb_nbd *nbd = e->priv;

	free(nbd->uri);
	free(nbd);
	e->priv = NULL;
}

static int azb_nbd_queue_init(struct azb_engine_queue *q)
{
	const struct azb_nbd *nbd = q->engine->priv;
	struct azb_nbd_queue *nq;
	char who[32];

	if (q->qid > 0 && !nbd->multi_conn &&
	    !(q->engine->dev_flags & AZB_DEV_READ_ONLY)) {
		azb_log(AZB_LOG_ERR, "nbd engine: %s does not allow several writable connections (no multi-conn): serve it with -q 1",
			nbd->uri);
		return -EINVAL;
	}
	nq = calloc(1, sizeof(*nq));
	if (!nq)
		return -ENOMEM;
	nq->done = calloc(q->depth, sizeof(*nq->done));
	nq->held = calloc(q->depth, sizeof(*nq->held));
	if (!nq->done || !nq->held) {
		free(nq->done);
		free(nq->held);
		free(nq);
		return -ENOMEM;
	}
	snprintf(who, sizeof(who), "queue %u", q->qid);
	nq->h = azb_nbd_connect(nbd->uri, who);
	if (!nq->h) {
		free(nq->done);
		free(nq->held);
		free(nq);
		return -EIO;
	}
	nq->nbd = nbd;
	q->priv = nq;
	return 0;
}

static void azb_nbd_queue_exit(struct azb_engine_queue *q)
{
	struct azb_nbd_queue *nq = q->priv;

	/* Closing drops whatever is still in flight (the server is gone). */
	if (nq->h)
		nbd_close(nq->h);
	free(nq->done);
	free(nq->held);
	free(nq);
	q->priv = NULL;
}

/* Runs inside libnbd: only notes the result for reap(). */
static int azb_nbd_cmd_done(void *user_data, int *error)
{
	struct azb_nbd_io *c = user_data;
	struct azb_nbd_queue *nq = c->nq;

	if (*error && !c->err)
		c->err = -*error;
	/* At most one command per request is in flight: room for all. */
	nq->done[nq->nr_done++] = c;
	return 1;	/* libnbd retires the command itself */
}

/* Sends the request's command; 0, 1 if it needs none, or -errno. */
static int azb_nbd_issue(struct azb_nbd_queue *nq, struct azb_nbd_io *c)
{
	const struct azb_nbd *nbd = nq->nbd;
	struct azb_io *io = c->io;
	nbd_completion_callback cb = {
		.callback = azb_nbd_cmd_done, .user_data = c,
	};
	/* Without FUA or FLUSH the server has no cache: nothing to ask for. */
	uint32_t flags = (io->flags & AZB_IO_FUA) && nbd->can_fua ?
			 LIBNBD_CMD_FLAG_FUA : 0;
	int64_t cookie;

	switch (io->op) {
	case AZB_OP_READ:
		cookie = nbd_aio_pread(nq->h, io->buf, io->len, io->offset,
				       cb, 0);
		break;
	case AZB_OP_WRITE:
		cookie = nbd_aio_pwrite(nq->h, io->buf, io->len, io->offset,
					cb, flags);
		break;
	case AZB_OP_FLUSH:
		if (!nbd->can_flush)
			return 1;
		cookie = nbd_aio_flush(nq->h, cb, 0);
		break;
	case AZB_OP_DISCARD:
		if (!nbd->can_trim)
			return -EOPNOTSUPP;
		cookie = nbd_aio_trim(nq->h, io->len, io->offset, cb, flags);
		break;
	case AZB_OP_WRITE_ZEROES:
		if (!nbd->can_zero)
			return -EOPNOTSUPP;
		if (io->flags & AZB_IO_NOUNMAP)
			flags |= LIBNBD_CMD_FLAG_NO_HOLE;
		cookie = nbd_aio_zero(nq->h, io->len, io->offset, cb, flags);
		break;
	default:
		return -EOPNOTSUPP;
	}
	return cookie == -1 ? azb_nbd_errno() : 0;
}

/* The connection is gone (the server closed it, or it broke). */
static bool azb_nbd_lost(struct azb_nbd_queue *nq)
{
	return !nq->h || nbd_aio_is_dead(nq->h) || nbd_aio_is_closed(nq->h);
}

/* Marks the connection lost: reconnect at once, then back off. */
static void azb_nbd_mark_down(struct azb_nbd_queue *nq)
{
	if (nq->down)
		return;
	nq->down = true;
	nq->connecting = false;
	nq->next_try_ns = azb_nbd_now_ns();
	nq->backoff_ms = AZB_NBD_BACKOFF_MIN_MS;
	azb_log(AZB_LOG_WARNING, "nbd engine: lost the connection to %s; reconnecting",
		nq->nbd->uri);
}

/* Whether a request that could not go on waits for a new connection. */
static bool azb_nbd_may_hold(struct azb_nbd_queue *nq, struct azb_nbd_io *c)
{
	if (!nq->nbd->reconnect_ms || !(nq->down || azb_nbd_lost(nq)))
		return false;
	azb_nbd_mark_down(nq);
	return !c->held_since || azb_nbd_now_ns() - c->held_since <
				 nq->nbd->reconnect_ms * 1000000ull;
}

static void azb_nbd_hold(struct azb_nbd_queue *nq, struct azb_nbd_io *c)
{
	c->err = 0;
	c->sent = false;
	if (!c->held_since)
		c->held_since = azb_nbd_now_ns();
	/* A request is in flight, done or held, never two of them. */
	nq->held[nq->nr_held++] = c;
}

/*
 * Sends the request's command, or takes its result once it came back.
 * Ended: *res is the request's result.  A command that failed with the
 * connection lost is held and sent again once it is back.
 */
static enum azb_nbd_state azb_nbd_advance(struct azb_nbd_queue *nq,
					  struct azb_nbd_io *c, int *res)
{
	int ret;

	if (nq->down && nq->nbd->reconnect_ms) {
		azb_nbd_hold(nq, c);
		return AZB_NBD_HELD;
	}
	if (!c->sent) {
		ret = azb_nbd_issue(nq, c);
		if (!ret) {
			c->sent = true;
			return AZB_NBD_IN_FLIGHT;
		}
		c->err = ret < 0 ? ret : 0;
	}
	if (c->err && azb_nbd_may_hold(nq, c)) {
		azb_nbd_hold(nq, c);
		return AZB_NBD_HELD;
	}
	*res = c->err;
	return AZB_NBD_ENDED;
}

static int azb_nbd_queue_io(struct azb_engine_queue *q, struct azb_io *io)
{
	struct azb_nbd_queue *nq = q->priv;
	struct azb_nbd_io *c = io->engine_ctx;
	int res = 0;

	c->io = io;
	c->nq = nq;
	c->sent = false;
	c->err = 0;
	c->held_since = 0;
	if (azb_nbd_advance(nq, c, &res) != AZB_NBD_ENDED)
		return AZB_IO_QUEUED;
	return res;
}

/* Ends every request whose command finished; returns how many. */
static int azb_nbd_finish(struct azb_engine_queue *q, struct azb_nbd_queue *nq)
{
	int ended = 0;

	while (nq->nr_done) {
		struct azb_nbd_io *c = nq->done[--nq->nr_done];
		int res = 0;

		/* A command that failed with the connection may be held. */
		if (azb_nbd_advance(nq, c, &res) != AZB_NBD_ENDED)
			continue;
		azb_io_complete(q, c->io, res);
		ended++;
	}
	return ended;
}

/*
 * Lets libnbd send and receive what it can: at once, or with sleep, after
 * waiting up to timeout_us for the socket or the queue's wake-up.
 */
static void azb_nbd_progress(struct azb_engine_queue *q,
			     struct azb_nbd_queue *nq, bool sleep,
			     unsigned int timeout_us)
{
	struct pollfd p = { .fd = -1 };
	unsigned int dir;
	int ret;

	if (nq->h) {
		dir = nbd_aio_get_direction(nq->h);
		if (dir & LIBNBD_AIO_DIRECTION_READ)
			p.events |= POLLIN;
		if (dir & LIBNBD_AIO_DIRECTION_WRITE)
			p.events |= POLLOUT;
		/* A dead handle has no fd (-1): poll() skips it. */
		if (p.events)
			p.fd = nbd_aio_get_fd(nq->h);
	}
	if (sleep)
		ret = azb_engine_poll(q, &p, 1, timeout_us);
	else
		ret = p.fd < 0 ? 0 : poll(&p, 1, 0);
	if (ret <= 0)
		return;
	/* Errors end in the dead state, which fails the commands. */
	if (p.revents & (POLLIN | POLLHUP | POLLERR))
		nbd_aio_notify_read(nq->h);
	if (p.revents & POLLOUT)
		nbd_aio_notify_write(nq->h);
}

/* Fails the held requests that waited too long; returns how many. */
static int azb_nbd_expire(struct azb_engine_queue *q, struct azb_nbd_queue *nq)
{
	uint64_t limit = nq->nbd->reconnect_ms * 1000000ull;
	uint64_t now = azb_nbd_now_ns();
	unsigned int i, kept = 0;
	int ended = 0;

	for (i = 0; i < nq->nr_held; i++) {
		struct azb_nbd_io *c = nq->held[i];

		if (now - c->held_since < limit) {
			nq->held[kept++] = c;
			continue;
		}
		azb_io_complete(q, c->io, -EIO);
		ended++;
	}
	nq->nr_held = kept;
	return ended;
}

/* The export that answers must be the one served. */
static bool azb_nbd_same_export(struct azb_nbd_queue *nq)
{
	int64_t size = nbd_get_size(nq->h);

	if (size >= 0 && (uint64_t)size == nq->nbd->size)
		return true;
	azb_log(AZB_LOG_WARNING, "nbd engine: %s came back with %lld bytes instead of %llu: not using it",
		nq->nbd->uri, (long long)size,
		(unsigned long long)nq->nbd->size);
	return false;
}

/* Back up: every held request goes on from where it stopped. */
static int azb_nbd_resume(struct azb_engine_queue *q, struct azb_nbd_queue *nq)
{
	unsigned int n = nq->nr_held, i;
	int ended = 0;

	azb_log(AZB_LOG_NOTICE, "nbd engine: reconnected to %s; resending %u request%s",
		nq->nbd->uri, n, n == 1 ? "" : "s");
	nq->down = false;
	nq->nr_held = 0;
	for (i = 0; i < n; i++) {
		struct azb_nbd_io *c = nq->held[i];
		int res = 0;

		/* Re-holding appends behind i: the slots before it are free. */
		if (azb_nbd_advance(nq, c, &res) == AZB_NBD_ENDED) {
			azb_io_complete(q, c->io, res);
			ended++;
		}
	}
	return ended;
}

/* The next attempt after a failed one, each pause twice the last. */
static void azb_nbd_backoff(struct azb_nbd_queue *nq, uint64_t now)
{
	nq->next_try_ns = now + nq->backoff_ms * 1000000ull;
	nq->backoff_ms = nq->backoff_ms * 2 > AZB_NBD_BACKOFF_MAX_MS ?
			 AZB_NBD_BACKOFF_MAX_MS : nq->backoff_ms * 2;
}

/* One step of reconnecting, without blocking; returns requests ended. */
static int azb_nbd_reconnect(struct azb_engine_queue *q,
			     struct azb_nbd_queue *nq)
{
	uint64_t now;
	int ended = azb_nbd_expire(q, nq);

	if (nq->connecting) {
		if (nbd_aio_is_connecting(nq->h))
			return ended;
		nq->connecting = false;
		if (nbd_aio_is_ready(nq->h) && azb_nbd_same_export(nq))
			return ended + azb_nbd_resume(q, nq);
		azb_nbd_backoff(nq, azb_nbd_now_ns());
		return ended;
	}
	now = azb_nbd_now_ns();
	if (now < nq->next_try_ns)
		return ended;
	if (nq->h)
		nbd_close(nq->h);
	nq->h = nbd_create();
	if (nq->h && nbd_aio_connect_uri(nq->h, nq->nbd->uri) != -1) {
		nq->connecting = true;
	} else {
		azb_nbd_backoff(nq, now);
		if (nq->h) {
			nbd_close(nq->h);
			nq->h = NULL;
		}
	}
	return ended;
}

static int azb_nbd_reap(struct azb_engine_queue *q)
{
	struct azb_nbd_queue *nq = q->priv;
	int ended;

	azb_nbd_progress(q, nq, false, 0);
	ended = azb_nbd_finish(q, nq);
	if (nq->down)
		ended += azb_nbd_reconnect(q, nq);
	return ended;
}

static void azb_nbd_wait(struct azb_engine_queue *q, unsigned int timeout_us)
{
	struct azb_nbd_queue *nq = q->priv;

	if (nq->nr_done)
		return;
	if (nq->down && !nq->connecting) {
		/* No socket to watch: sleep until the next attempt at most. */
		uint64_t now = azb_nbd_now_ns();

		if (nq->next_try_ns <= now)
			return;
		if ((nq->next_try_ns - now) / 1000 < timeout_us)
			timeout_us = (unsigned int)((nq->next_try_ns - now) / 1000);
	}
	azb_nbd_progress(q, nq, true, timeout_us);
}

static const struct azb_engine_ops azb_engine_nbd = {
	.name		= "nbd",
	.help		= "an NBD server, by nbd:// or nbd+unix:// URI",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NEEDS_TARGET | AZB_ENGINE_F_WAKE_FD,
	.io_ctx_bytes	= sizeof(struct azb_nbd_io),
	.opts		= azb_nbd_opts,
	.open		= azb_nbd_open,
	.close		= azb_nbd_close,
	.queue_init	= azb_nbd_queue_init,
	.queue_exit	= azb_nbd_queue_exit,
	.queue		= azb_nbd_queue_io,
	.reap		= azb_nbd_reap,
	.wait		= azb_nbd_wait,
};

/* A plugin (runtime/plugin.c): libazbuse itself does not link libnbd. */
AZB_ENGINE_PLUGIN(azb_engine_nbd, NULL);
