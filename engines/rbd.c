// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * rbd: serves the device from a Ceph RBD image through librbd.
 *
 * TARGET is [POOL/[NAMESPACE/]]IMAGE[@SNAP] (pool "rbd" by default); a
 * snapshot is served read-only.  Engine options (azbuse-run -o KEY=VALUE,
 * or --ceph-conf / --ceph-id / --ceph-keyring):
 *   conf=PATH        ceph.conf (default: librados's search, $CEPH_CONF)
 *   id=NAME          client id, as in client.NAME (default admin)
 *   keyring=PATH     keyring file (default: what the conf names)
 *   op_timeout=SEC   fail a request the cluster has not answered in SEC
 *                    seconds with ETIMEDOUT (default 0: wait, as krbd
 *                    does; the device's own I/O timeout still applies)
 *   handles=queue|device  one image handle per queue or one for the
 *                    device.  Default: one for a writable device, because
 *                    librbd's write-around cache acks a write before the
 *                    OSD has it and holds back only reads of the same
 *                    handle until it does (and with exclusive-lock,
 *                    handles would pass the lock around on every write);
 *                    one per queue for a read-only device.  handles=queue
 *                    on a writable device turns librbd's cache off, so a
 *                    read on any queue sees every completed write.
 *
 * Requests read and write the queue's arena slots directly (rbd_aio_read
 * and rbd_aio_write2 take the caller's buffer).  Completions: librbd calls
 * back on its own thread; the callback only pushes the request on its
 * queue's lock-free list (and wakes the poller if it sleeps), and the
 * poller completes it.  This is the hand-off rbd_set_image_notification()
 * + rbd_poll_io_events() would make too (librbd's thread appends to a
 * locked list and writes an eventfd on every completion), without the
 * lock, without an eventfd write while the poller spins, and it works the
 * same for a handle shared by every queue.
 *
 * Ops and flags:
 *   READ, WRITE    rbd_aio_read / rbd_aio_write2; PREFLUSH -> rbd_aio_flush
 *                  that completes before the write is issued; FUA -> an
 *                  rbd_aio_flush after the write (librbd's write-around or
 *                  writeback cache may ack a write before the OSDs have it);
 *                  those flushes are the runtime's (engine->emulate)
 *   FLUSH          rbd_aio_flush
 *   DISCARD        rbd_aio_discard; librbd skips discards smaller than its
 *                  rbd_discard_granularity_bytes (64 KiB by default), so
 *                  that is the discard granularity the device advertises
 *   WRITE_ZEROES   rbd_aio_write_zeroes; NOUNMAP -> thick provisioning
 * A negative result from librbd reaches the kernel as that errno.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engines.h"

/* How long queue_exit() waits for the cluster to answer what is in flight. */
#define AZB_RBD_EXIT_WAIT_S	10

struct azb_rbd {
	rados_t		cluster;
	rados_ioctx_t	ioctx;
	rbd_image_t	image;		/* open() learns the image with it */
	struct azb_engine *engine;
	/*
	 * Resizes: every handle watches the image and records the size it
	 * sees; the device takes the smallest, so it grows only once every
	 * handle takes I/O up to the new end, and shrinks as soon as one
	 * sees the image shrink.
	 */
	pthread_mutex_t	size_lock;
	struct azb_rbd_watch *watches;	/* the handles', under size_lock */
	struct azb_rbd_watch *main_watch;
	char		*spec;		/* TARGET, for messages */
	char		*name;
	char		*snap;
	bool		read_only;
	bool		shared;		/* every queue uses image */
	/* A queue left requests in the cluster: keep the cluster alive. */
	atomic_bool	leaked;
};

/*
 * Per-request state, in the queue's own array rather than the runtime's
 * request space: a queue that stops with requests still in the cluster
 * leaves this memory to librbd's late callbacks.
 */
struct azb_rbd_io {
	struct azb_io		*io;
	struct azb_rbd_queue	*rq;
	struct azb_rbd_io	*next;	/* on the queue's done list */
	int			err;	/* the call's error, -errno */
};

/* One image handle's watch on the image's header. */
struct azb_rbd_watch {
	struct azb_rbd		*rbd;
	rbd_image_t		image;
	uint64_t		handle;	/* from rbd_update_watch() */
	uint64_t		size;	/* the image's size as seen by image */
	struct azb_rbd_watch	*next;
};

struct azb_rbd_queue {
	struct azb_rbd		*rbd;
	rbd_image_t		image;
	bool			own_image;
	struct azb_rbd_watch	*watch;	/* with own_image */
	struct azb_rbd_io	*ios;	/* one per tag */
	/* Pushed by librbd's threads, taken all at once by the poller. */
	_Atomic(struct azb_rbd_io *) done;
	atomic_uint		in_cluster;	/* librbd calls not answered */
	atomic_bool		sleeping;	/* the poller waits on efd */
	int			efd;
};

/* Parsed engine options. */
struct azb_rbd_opts {
	char		*conf, *id, *keyring;
	unsigned int	op_timeout;
	int		handles;	/* -1 auto, 0 per queue, 1 per device */
};

static void azb_rbd_opts_free(struct azb_rbd_opts *ro)
{
	free(ro->conf);
	free(ro->id);
	free(ro->keyring);
}

enum {
	AZB_RBD_OPT_CONF, AZB_RBD_OPT_ID, AZB_RBD_OPT_KEYRING,
	AZB_RBD_OPT_OP_TIMEOUT, AZB_RBD_OPT_HANDLES,
};

static const struct azb_engine_ops azb_engine_rbd;

static const struct azb_engine_opt azb_rbd_opts[] = {
	[AZB_RBD_OPT_CONF] = {
		.key = "conf", .kind = AZB_EOPT_TEXT, .arg = "PATH",
		.flag = "ceph-conf",
		.help = "the cluster's ceph.conf (default: librados's search, "
			"$CEPH_CONF)",
	},
	[AZB_RBD_OPT_ID] = {
		.key = "id", .kind = AZB_EOPT_TEXT, .arg = "NAME",
		.flag = "ceph-id",
		.help = "the client id, as in client.NAME (default admin)",
	},
	[AZB_RBD_OPT_KEYRING] = {
		.key = "keyring", .kind = AZB_EOPT_TEXT, .arg = "PATH",
		.flag = "ceph-keyring",
		.help = "the keyring (default: what the conf names)",
	},
	[AZB_RBD_OPT_OP_TIMEOUT] = {
		.key = "op_timeout", .kind = AZB_EOPT_UINT, .arg = "SECONDS",
		.max = 3600,
		.help = "fail a request the cluster has not answered in SECONDS "
			"with ETIMEDOUT (default 0: wait, as krbd does)",
	},
	[AZB_RBD_OPT_HANDLES] = {
		.key = "handles", .kind = AZB_EOPT_CHOICE,
		.choices = "queue|device",
		.help = "an image handle per queue or one for the device "
			"(default: one for a writable device, one per queue "
			"for a read-only one)",
	},
	{ .key = NULL },
};

/* "key=value,..." into ro; 0 or -EINVAL after saying why. */
static int azb_rbd_parse_params(struct azb_rbd_opts *ro, const char *params)
{
	struct azb_engine_optval v;
	char **dst;
	int ret;

	ro->handles = -1;
	while ((ret = azb_engine_opt_next(&azb_engine_rbd, &params, &v)) > 0) {
		switch (v.opt - azb_rbd_opts) {
		case AZB_RBD_OPT_CONF:
			dst = &ro->conf;
			break;
		case AZB_RBD_OPT_ID:
			dst = &ro->id;
			break;
		case AZB_RBD_OPT_KEYRING:
			dst = &ro->keyring;
			break;
		case AZB_RBD_OPT_OP_TIMEOUT:
			ro->op_timeout = (unsigned int)v.num;
			continue;
		default:	/* handles: 0 per queue, 1 per device */
			ro->handles = (int)v.num;
			continue;
		}
		free(*dst);
		*dst = strndup(v.val, v.vlen);
		if (!*dst)
			return -ENOMEM;
	}
	return ret;
}

/* Splits [POOL/[NS/]]IMAGE[@SNAP]; 0 or -EINVAL.  Parts point into buf. */
static int azb_rbd_parse_spec(char *buf, const char **pool, const char **ns,
			      char **image, char **snap)
{
	char *s1, *s2, *at;

	*pool = "rbd";
	*ns = "";
	*snap = NULL;
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		*snap = at + 1;
		if (!**snap)
			return -EINVAL;
	}
	*image = buf;
	s1 = strchr(buf, '/');
	if (s1) {
		*s1 = '\0';
		*pool = buf;
		*image = s1 + 1;
		s2 = strchr(s1 + 1, '/');
		if (s2) {
			*s2 = '\0';
			*ns = s1 + 1;
			*image = s2 + 1;
			if (!**ns)
				return -EINVAL;
		}
	}
	if (!**pool || !**image || strchr(*image, '/'))
		return -EINVAL;
	return 0;
}

static int azb_rbd_conf_set(struct azb_rbd *rbd, const char *k, const char *v)
{
	int ret = rados_conf_set(rbd->cluster, k, v);

	if (ret < 0)
		azb_log(AZB_LOG_ERR, "rbd engine: cannot set %s=%s: %s", k, v,
			strerror(-ret));
	return ret;
}

/*
 * Connects to the cluster and opens the pool: 0 or -errno, said why.
 * write_cache: the device has a volatile write cache; no_cache: librbd's
 * own cache must stay off (writable handles per queue).
 */
static int azb_rbd_connect(struct azb_rbd *rbd, const struct azb_rbd_opts *ro,
			   const char *pool, const char *ns, bool write_cache,
			   bool no_cache)
{
	char secs[16];
	int ret;

	ret = rados_create(&rbd->cluster, ro->id ? ro->id : "admin");
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: rados_create: %s", strerror(-ret));
		rbd->cluster = NULL;
		return ret;
	}
	ret = rados_conf_read_file(rbd->cluster, ro->conf);
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: cannot read the Ceph configuration %s: %s",
			ro->conf ? ro->conf : "(default search, $CEPH_CONF)",
			strerror(-ret));
		return ret;
	}
	ret = rados_conf_parse_env(rbd->cluster, NULL);
	if (!ret && ro->keyring)
		ret = azb_rbd_conf_set(rbd, "keyring", ro->keyring);
	/*
	 * librbd's cache (write-around by default) stays write-through until
	 * the first flush, for guests that never flush.  A device with a
	 * volatile write cache gets FLUSH and FUA from the kernel: let the
	 * cache work from the start, as QEMU does for cache=writeback.  The
	 * cache orders a read behind an acked write only within its handle,
	 * so writable handles per queue go without it.
	 */
	if (!ret && no_cache)
		ret = azb_rbd_conf_set(rbd, "rbd_cache", "false");
	else if (!ret && write_cache)
		ret = azb_rbd_conf_set(rbd, "rbd_cache_writethrough_until_flush",
				       "false");
	if (!ret && ro->op_timeout) {
		snprintf(secs, sizeof(secs), "%u", ro->op_timeout);
		ret = azb_rbd_conf_set(rbd, "rados_osd_op_timeout", secs);
		if (!ret)
			ret = azb_rbd_conf_set(rbd, "rados_mon_op_timeout", secs);
	}
	if (ret < 0)
		return ret;
	ret = rados_connect(rbd->cluster);
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: cannot connect to the Ceph cluster: %s",
			strerror(-ret));
		return ret;
	}
	ret = rados_ioctx_create(rbd->cluster, pool, &rbd->ioctx);
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: pool '%s': %s", pool,
			strerror(-ret));
		rbd->ioctx = NULL;
		return ret;
	}
	rados_ioctx_set_namespace(rbd->ioctx, ns);
	return 0;
}

/* Opens one handle on the image, read-only for a snapshot or --ro. */
static int azb_rbd_open_image(struct azb_rbd *rbd, rbd_image_t *image)
{
	if (rbd->read_only)
		return rbd_open_read_only(rbd->ioctx, rbd->name, image,
					  rbd->snap);
	return rbd_open(rbd->ioctx, rbd->name, image, NULL);
}

/* The smallest size any handle sees goes to the device; under size_lock. */
static void azb_rbd_apply_size(struct azb_rbd *rbd)
{
	struct azb_rbd_watch *w;
	uint64_t size = UINT64_MAX;
	int ret;

	for (w = rbd->watches; w; w = w->next)
		if (w->size < size)
			size = w->size;
	size &= ~4095ULL;
	if (!size || size == rbd->engine->dev_bytes)
		return;
	ret = azb_engine_resize(rbd->engine, size);
	if (ret)
		azb_log(AZB_LOG_WARNING, "rbd engine: image %s now holds %" PRIu64 " bytes; the device keeps its size: %s",
			rbd->spec, size, strerror(-ret));
	else if (rbd->engine->dev_bytes == size)
		azb_log(AZB_LOG_NOTICE, "rbd engine: image %s resized: the device now has %" PRIu64 " bytes",
			rbd->spec, size);
}

/*
 * Runs on a librbd thread when the image's header changes (a resize, a
 * snapshot, a feature): the handle refreshes and reports its size.
 */
static void azb_rbd_updated(void *arg)
{
	struct azb_rbd_watch *w = arg;
	uint64_t size;

	if (rbd_get_size(w->image, &size) < 0)
		return;
	pthread_mutex_lock(&w->rbd->size_lock);
	w->size = size;
	azb_rbd_apply_size(w->rbd);
	pthread_mutex_unlock(&w->rbd->size_lock);
}

/* Watches image for resizes; NULL (said why) if it cannot. */
static struct azb_rbd_watch *azb_rbd_watch(struct azb_rbd *rbd,
					   rbd_image_t image)
{
	struct azb_rbd_watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return NULL;
	w->rbd = rbd;
	w->image = image;
	ret = rbd_get_size(image, &w->size);
	if (ret >= 0)
		ret = rbd_update_watch(image, &w->handle, azb_rbd_updated, w);
	if (ret >= 0) {
		/*
		 * Listed after the watch starts: a callback before this only
		 * finds the other handles' sizes, as it would have before.
		 */
		pthread_mutex_lock(&rbd->size_lock);
		w->next = rbd->watches;
		rbd->watches = w;
		pthread_mutex_unlock(&rbd->size_lock);
		return w;
	}
	azb_log(AZB_LOG_WARNING, "rbd engine: %s: resizes will go unnoticed: %s",
		rbd->spec, strerror(-ret));
	free(w);
	return NULL;
}

/* Ends a watch; waits for its callback if one runs. */
static void azb_rbd_unwatch(struct azb_rbd *rbd, struct azb_rbd_watch *w)
{
	struct azb_rbd_watch **p;

	if (!w)
		return;
	rbd_update_unwatch(w->image, w->handle);
	pthread_mutex_lock(&rbd->size_lock);
	for (p = &rbd->watches; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&rbd->size_lock);
	free(w);
}

static void azb_rbd_free(struct azb_rbd *rbd)
{
	/*
	 * Late callbacks of a queue that gave up waiting need librbd and
	 * this struct: leave them all to those (the process is ending).
	 */
	if (atomic_load(&rbd->leaked))
		return;
	azb_rbd_unwatch(rbd, rbd->main_watch);
	if (rbd->image)
		rbd_close(rbd->image);
	if (rbd->ioctx)
		rados_ioctx_destroy(rbd->ioctx);
	if (rbd->cluster)
		rados_shutdown(rbd->cluster);
	free(rbd->spec);
	free(rbd->name);
	free(rbd->snap);
	pthread_mutex_destroy(&rbd->size_lock);
	free(rbd);
}

/* librbd's discard granularity: discards smaller than it do nothing. */
static uint32_t azb_rbd_discard_granularity(struct azb_rbd *rbd)
{
	char buf[32];
	unsigned long v;

	if (rados_conf_get(rbd->cluster, "rbd_discard_granularity_bytes",
			   buf, sizeof(buf)) < 0)
		return 64 << 10;
	v = strtoul(buf, NULL, 10);
	/* The kernel wants a power of two; round up to one. */
	if (v <= 4096)
		return 4096;
	if (v > (1UL << 30))
		return 1U << 30;
	return 1U << (64 - __builtin_clzl(v - 1));
}

/*
 * Opens rbd's image and checks it can serve a device of dev_bytes (0: all
 * of it): its size in *size.  0, or -errno after saying why.
 */
static int azb_rbd_open_checked(struct azb_rbd *rbd, uint64_t dev_bytes,
				bool split, uint64_t *size)
{
	uint64_t features;
	int ret;

	ret = azb_rbd_open_image(rbd, &rbd->image);
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: cannot open image %s: %s",
			rbd->spec, strerror(-ret));
		rbd->image = NULL;
		return ret;
	}
	ret = rbd_get_size(rbd->image, size);
	if (!ret)
		ret = rbd_get_features(rbd->image, &features);
	if (ret < 0) {
		azb_log(AZB_LOG_ERR, "rbd engine: %s: %s", rbd->spec, strerror(-ret));
		return ret;
	}
	if (*size < 4096) {
		azb_log(AZB_LOG_ERR, "rbd engine: image %s of %" PRIu64 " bytes is too small to serve",
			rbd->spec, *size);
		return -EINVAL;
	}
	if (dev_bytes > *size) {
		azb_log(AZB_LOG_ERR, "rbd engine: %s holds %" PRIu64 " bytes, less than the %" PRIu64 " asked for",
			rbd->spec, *size, dev_bytes);
		return -EINVAL;
	}
	if (split && (features & RBD_FEATURE_EXCLUSIVE_LOCK))
		azb_log(AZB_LOG_WARNING, "rbd engine: %s has exclusive-lock: a handle per queue passes the lock around on writes",
			rbd->spec);
	return 0;
}

/* What the device is, from the image: size, flags, discard granularity. */
static void azb_rbd_describe(struct azb_engine *e, struct azb_rbd *rbd,
			     uint64_t dev_bytes, uint64_t size)
{
	rbd->engine = e;
	e->priv = rbd;
	/* -s may serve less; else whole 4 KiB blocks of the image. */
	e->dev_bytes = dev_bytes ? dev_bytes : size & ~4095ULL;
	e->logical_bs = 0;
	e->dev_flags = AZB_DEV_WRITE_ZEROES;
	if (rbd->read_only)
		e->dev_flags = AZB_DEV_READ_ONLY;
	else
		e->dev_flags |= AZB_DEV_DISCARD;
	e->discard_granularity = azb_rbd_discard_granularity(rbd);
	/* librbd has no FUA and orders nothing: the runtime's FLUSHes. */
	e->emulate = AZB_IO_PREFLUSH | AZB_IO_FUA;
}

static int azb_rbd_open(struct azb_engine *e, const char *target,
			const struct azb_engine_opts *o)
{
	struct azb_rbd_opts ro = { 0 };
	const char *pool, *ns;
	struct azb_rbd *rbd;
	char *buf, *name, *snap;
	uint64_t size;
	bool split;	/* writable handles per queue */
	int ret;

	if (!target) {
		azb_log(AZB_LOG_ERR, "rbd engine: an image is required ([POOL/[NAMESPACE/]]IMAGE[@SNAP])");
		return -EINVAL;
	}
	ret = azb_rbd_parse_params(&ro, o->params);
	if (ret) {
		azb_rbd_opts_free(&ro);
		return ret;
	}
	rbd = calloc(1, sizeof(*rbd));
	buf = strdup(target);
	if (!rbd || !buf || !(rbd->spec = strdup(target))) {
		free(rbd);
		free(buf);
		azb_rbd_opts_free(&ro);
		return -ENOMEM;
	}
	pthread_mutex_init(&rbd->size_lock, NULL);
	if (azb_rbd_parse_spec(buf, &pool, &ns, &name, &snap)) {
		azb_log(AZB_LOG_ERR, "rbd engine: '%s' is not [POOL/[NAMESPACE/]]IMAGE[@SNAP]",
			target);
		ret = -EINVAL;
		goto fail;
	}
	rbd->name = strdup(name);
	rbd->snap = snap ? strdup(snap) : NULL;
	if (!rbd->name || (snap && !rbd->snap)) {
		ret = -ENOMEM;
		goto fail;
	}
	rbd->read_only = o->read_only || snap;
	/* See handles= at the top of this file. */
	rbd->shared = ro.handles >= 0 ? ro.handles : !rbd->read_only;
	split = !rbd->shared && !rbd->read_only;
	if (split)
		azb_log(AZB_LOG_NOTICE, "rbd engine: handles=queue on a writable device: librbd's cache is off, so that each queue reads what the others wrote");
	ret = azb_rbd_connect(rbd, &ro, pool, ns, o->write_cache, split);
	if (!ret)
		ret = azb_rbd_open_checked(rbd, o->dev_bytes, split, &size);
	if (ret)
		goto fail;
	free(buf);
	azb_rbd_opts_free(&ro);
	azb_rbd_describe(e, rbd, o->dev_bytes, size);
	/*
	 * Last: a resize callback compares with e->dev_bytes.  A snapshot
	 * never changes size.
	 */
	if (!rbd->snap)
		rbd->main_watch = azb_rbd_watch(rbd, rbd->image);
	return 0;
fail:
	azb_rbd_opts_free(&ro);
	free(buf);
	azb_rbd_free(rbd);
	return ret < 0 ? ret : -EIO;
}

static void azb_rbd_close(struct azb_engine *e)
{
	struct azb_rbd *rbd = e->priv;

	azb_rbd_free(rbd);
	e->priv = NULL;
}

static int azb_rbd_queue_init(struct azb_engine_queue *q)
{
	struct azb_rbd *rbd = q->engine->priv;
	struct azb_rbd_queue *rq;
	int ret;

	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->rbd = rbd;
	rq->ios = calloc(q->depth, sizeof(*rq->ios));
	rq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!rq->ios || rq->efd < 0) {
		ret = rq->ios ? -errno : -ENOMEM;
		goto fail;
	}
	if (rbd->shared) {
		rq->image = rbd->image;
	} else {
		ret = azb_rbd_open_image(rbd, &rq->image);
		if (ret < 0) {
			azb_log(AZB_LOG_ERR, "rbd engine: queue %u: cannot open image %s: %s",
				q->qid, rbd->spec, strerror(-ret));
			goto fail;
		}
		rq->own_image = true;
		if (!rbd->snap)
			rq->watch = azb_rbd_watch(rbd, rq->image);
	}
	q->priv = rq;
	return 0;
fail:
	if (rq->efd >= 0)
		close(rq->efd);
	free(rq->ios);
	free(rq);
	return ret;
}

/* Waits up to secs for librbd to answer every call of rq; true if it did. */
static bool azb_rbd_quiesce(struct azb_rbd_queue *rq, unsigned int secs)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int i;

	for (i = 0; i < secs * 100; i++) {
		if (!atomic_load(&rq->in_cluster))
			return true;
		nanosleep(&ts, NULL);
	}
	return !atomic_load(&rq->in_cluster);
}

static void azb_rbd_queue_exit(struct azb_engine_queue *q)
{
	struct azb_rbd_queue *rq = q->priv;

	q->priv = NULL;
	/*
	 * A request the cluster never answered (an OSD down, no op_timeout)
	 * still has a librbd callback to come, which writes rq: leave rq to
	 * it rather than wait forever to stop.
	 */
	if (!azb_rbd_quiesce(rq, AZB_RBD_EXIT_WAIT_S)) {
		azb_log(AZB_LOG_WARNING, "rbd engine: queue %u: %u requests still unanswered by the cluster after %u s; not waiting",
			q->qid, atomic_load(&rq->in_cluster),
			AZB_RBD_EXIT_WAIT_S);
		atomic_store(&rq->rbd->leaked, true);
		return;
	}
	if (rq->own_image) {
		azb_rbd_unwatch(rq->rbd, rq->watch);
		rbd_close(rq->image);
	}
	close(rq->efd);
	free(rq->ios);
	free(rq);
}

/* Runs on a librbd thread: notes the result and hands c to the poller. */
static void azb_rbd_cb(rbd_completion_t comp, void *arg)
{
	struct azb_rbd_io *c = arg;
	struct azb_rbd_queue *rq = c->rq;
	struct azb_rbd_io *head;
	ssize_t r = rbd_aio_get_return_value(comp);

	rbd_aio_release(comp);
	c->err = r < 0 ? (int)r : 0;
	head = atomic_load_explicit(&rq->done, memory_order_relaxed);
	do {
		c->next = head;
	} while (!atomic_compare_exchange_weak(&rq->done, &head, c));
	atomic_fetch_sub(&rq->in_cluster, 1);
	/* Pairs with the poller's store to sleeping, then load of done. */
	if (atomic_load(&rq->sleeping)) {
		uint64_t one = 1;

		if (write(rq->efd, &one, sizeof(one)) < 0) {
			/* Full counter: the poller is woken already. */
		}
	}
}

/* Issues the request's librbd call: 0 (in flight) or -errno. */
static int azb_rbd_issue(struct azb_rbd_queue *rq, struct azb_rbd_io *c)
{
	struct azb_io *io = c->io;
	rbd_completion_t comp;
	int ret;

	if (io->op > AZB_OP_WRITE_ZEROES)
		return -EOPNOTSUPP;
	ret = rbd_aio_create_completion(c, azb_rbd_cb, &comp);
	if (ret < 0)
		return ret;
	atomic_fetch_add(&rq->in_cluster, 1);
	switch (io->op) {
	case AZB_OP_READ:
		ret = rbd_aio_read(rq->image, io->offset, io->len, io->buf,
				   comp);
		break;
	case AZB_OP_WRITE:
		ret = rbd_aio_write2(rq->image, io->offset, io->len, io->buf,
				     comp, 0);
		break;
	case AZB_OP_FLUSH:
		ret = rbd_aio_flush(rq->image, comp);
		break;
	case AZB_OP_DISCARD:
		ret = rbd_aio_discard(rq->image, io->offset, io->len, comp);
		break;
	case AZB_OP_WRITE_ZEROES:
		ret = rbd_aio_write_zeroes(rq->image, io->offset, io->len, comp,
			io->flags & AZB_IO_NOUNMAP ?
			RBD_WRITE_ZEROES_FLAG_THICK_PROVISION : 0, 0);
		break;
	}
	if (ret < 0) {
		/* Refused at once: no callback comes. */
		atomic_fetch_sub(&rq->in_cluster, 1);
		rbd_aio_release(comp);
		return ret;
	}
	return 0;
}

static int azb_rbd_queue_io(struct azb_engine_queue *q, struct azb_io *io)
{
	struct azb_rbd_queue *rq = q->priv;
	struct azb_rbd_io *c = &rq->ios[io->tag];
	int ret;

	c->io = io;
	c->rq = rq;
	c->err = 0;
	ret = azb_rbd_issue(rq, c);
	return ret ? ret : AZB_IO_QUEUED;
}

static int azb_rbd_reap(struct azb_engine_queue *q)
{
	struct azb_rbd_queue *rq = q->priv;
	struct azb_rbd_io *c, *next;
	int ended = 0;

	if (!atomic_load_explicit(&rq->done, memory_order_relaxed))
		return 0;
	c = atomic_exchange(&rq->done, NULL);
	for (; c; c = next) {
		next = c->next;
		azb_io_complete(q, c->io, c->err);
		ended++;
	}
	return ended;
}

static void azb_rbd_wait(struct azb_engine_queue *q, unsigned int timeout_us)
{
	struct azb_rbd_queue *rq = q->priv;
	struct pollfd p = { .fd = rq->efd, .events = POLLIN };
	uint64_t n;

	atomic_store(&rq->sleeping, true);
	/* A completion pushed before the store above is seen here. */
	if (!atomic_load(&rq->done) && azb_engine_poll(q, &p, 1, timeout_us) > 0 &&
	    (p.revents & POLLIN) && read(rq->efd, &n, sizeof(n)) < 0) {
		/* Another wake-up took it first. */
	}
	atomic_store(&rq->sleeping, false);
}

static const struct azb_engine_ops azb_engine_rbd = {
	.name		= "rbd",
	.help		= "a Ceph RBD image, [POOL/[NAMESPACE/]]IMAGE[@SNAP] (librbd)",
	.version	= AZB_ENGINE_OPS_VERSION,
	.flags		= AZB_ENGINE_F_NEEDS_TARGET | AZB_ENGINE_F_WAKE_FD,
	.io_ctx_bytes	= 0,
	.opts		= azb_rbd_opts,
	.open		= azb_rbd_open,
	.close		= azb_rbd_close,
	.queue_init	= azb_rbd_queue_init,
	.queue_exit	= azb_rbd_queue_exit,
	.queue		= azb_rbd_queue_io,
	.reap		= azb_rbd_reap,
	.wait		= azb_rbd_wait,
};

/* A plugin (runtime/plugin.c): libazbuse itself does not link librbd. */
AZB_ENGINE_PLUGIN(azb_engine_rbd, NULL);
