// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The server: opens the engine, creates (or attaches to) a device, maps each
 * queue's ring and runs one poller per queue.  Each poller binds itself to
 * its queue's CPUs, then allocates and registers its data arena and makes
 * its per-request state, so all of it lands on the poller's NUMA node.
 * Stopping a device it created removes it while the pollers still serve,
 * so the kernel drains every request before the rings go.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "alloc.h"
#include "internal.h"
#include "placement.h"

#define AZB_DEF_SPIN_US	50

/* Cache-line aligned: pollers never share a line of their state. */
struct azb_server_queue {
	struct azb_queue	q __attribute__((aligned(64)));
	struct azb_server	*srv;
	void			*ring;
	size_t			ring_bytes;
	void			*arena;
	size_t			arena_bytes;
	bool			thread_started;
	int			policy;		/* the poller's, once it runs */
	volatile bool		exited;
};

struct azb_server {
	struct azb_server_opts	opts;
	struct azb_engine	engine;
	bool			engine_open;
	struct azb_dev_info	info;
	/* azb_engine_resize() may change the size (under lock). */
	bool			resizable;
	bool			wake_fds;	/* AZBUSE_FEAT_WAKE_FD */
	uint32_t		dev_id;
	bool			created;	/* remove it when done */
	int			fd;
	unsigned int		nr_queues;
	struct azb_server_queue	*queues;
	struct azb_placement	*place;
	bool			sched_warned;	/* SCHED_BATCH refused, said once */

	/* Start-up handshake: each poller reports its engine queue setup. */
	pthread_mutex_t		lock;
	pthread_cond_t		cond;
	unsigned int		reported;
	int			start_err;
};

void azb_server_opts_init(struct azb_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	azb_dev_params_init(&o->dev);
	o->attach_id = AZB_ID_ANY;
	o->poll = AZB_POLL_ADAPTIVE;
	o->poll_spin_us = AZB_DEF_SPIN_US;
}

static int azb_server_open_engine(struct azb_server *s)
{
	const struct azb_server_opts *o = &s->opts;
	struct azb_engine_opts eo = {
		.size = sizeof(eo),
		.dev_bytes = o->dev.dev_bytes,
		.logical_bs = o->dev.logical_bs,
		.read_only = o->dev.flags & AZB_DEV_READ_ONLY,
		.write_cache = o->dev.flags & AZB_DEV_WRITE_CACHE,
		.params = o->engine_params,
	};
	struct azb_engine_optval v;
	const char *p = o->engine_params;
	int ret;

	/*
	 * An engine that declares its options (even none) gets only those:
	 * a mistyped one fails here, before any device exists.
	 */
	if (o->engine->opts)
		while ((ret = azb_engine_opt_next(o->engine, &p, &v)))
			if (ret < 0)
				return ret;

	if (o->attach_id != AZB_ID_ANY) {
		/* Serving an existing device: the engine takes its shape. */
		eo.dev_bytes = s->info.params.dev_bytes;
		eo.logical_bs = s->info.params.logical_bs;
		eo.read_only = s->info.params.flags & AZB_DEV_READ_ONLY;
		eo.write_cache = s->info.params.flags & AZB_DEV_WRITE_CACHE;
	}
	s->engine.ops = o->engine;
	ret = o->engine->open(&s->engine, o->target, &eo);
	if (ret)
		return ret;
	s->engine_open = true;
	if (o->attach_id != AZB_ID_ANY &&
	    s->engine.dev_bytes < s->info.params.dev_bytes)
		return -ENOSPC;	/* the engine cannot hold the device */
	return 0;
}

static int azb_server_add_device(struct azb_server *s)
{
	struct azb_dev_params p = s->opts.dev;

	if (!p.dev_bytes)
		p.dev_bytes = s->engine.dev_bytes;
	struct azb_features f;
	uint64_t can = AZB_DEV_READ_ONLY;
	int ret;

	if (!p.logical_bs)
		p.logical_bs = s->engine.logical_bs;
	if (!p.dev_bytes)
		return -EINVAL;
	/* Ask for what the engine serves, as far as this kernel offers it. */
	ret = azb_get_features(&f);
	if (ret)
		return ret;
	if (f.features & AZBUSE_FEAT_DISCARD)
		can |= AZB_DEV_DISCARD;
	if (f.features & AZBUSE_FEAT_WRITE_ZEROES)
		can |= AZB_DEV_WRITE_ZEROES;
	p.flags |= s->engine.dev_flags & can;
	/* Limits the caller left at 0 come from the engine's target. */
	if ((p.flags & AZB_DEV_DISCARD) && !p.max_discard_bytes &&
	    !p.discard_granularity) {
		p.max_discard_bytes = s->engine.max_discard_bytes;
		p.discard_granularity = s->engine.discard_granularity;
	}
	if (p.max_discard_bytes > AZBUSE_MAX_DISCARD_BYTES)
		p.max_discard_bytes = AZBUSE_MAX_DISCARD_BYTES;
	if ((p.flags & AZB_DEV_WRITE_ZEROES) && !p.max_write_zeroes_bytes)
		p.max_write_zeroes_bytes = s->engine.max_write_zeroes_bytes;
	return azb_dev_add(&p, &s->info);
}

static int azb_server_map_queue(struct azb_server *s, unsigned int qid)
{
	struct azb_server_queue *sq = &s->queues[qid];
	struct azb_queue *q = &sq->q;
	struct azbuse_queue_info qi;
	uint64_t *mask;
	int ret;

	ret = azb_kdev_map_queue(s->fd, qid, &qi, &sq->ring);
	if (ret)
		return ret;
	/* Where the queue's requests come from: its poller goes there. */
	if (qi.nr_cpus) {
		mask = azb_zalloc(AZB_CPU_WORDS(qi.nr_cpus) * sizeof(*mask));
		if (!mask)
			return -ENOMEM;
		ret = azb_kdev_queue_cpus(s->fd, qid, qi.nr_cpus, mask);
		if (!ret)
			azb_placement_set_queue(s->place, qid, mask,
						qi.nr_cpus, qi.numa_node);
		azb_free(mask);
		if (ret)
			return ret;
	} else {
		azb_placement_set_queue(s->place, qid, NULL, 0, qi.numa_node);
	}
	sq->ring_bytes = qi.ring_bytes;
	q->hdr = sq->ring;
	q->sq = (struct azbuse_sqe *)((char *)sq->ring + qi.sq_off);
	q->cq = (struct azbuse_cqe *)((char *)sq->ring + qi.cq_off);
	q->entries = qi.sq_entries;
	q->qid = qid;
	q->depth = qi.depth;
	q->max_io_bytes = qi.max_io_bytes;
	q->dev_bytes = s->info.params.dev_bytes;
	q->commit = azb_kdev_commit;
	q->commit_ctx = (void *)(intptr_t)s->fd;
	q->poll = s->opts.poll;
	q->spin_us = s->opts.poll_spin_us;
	q->poll_queue = qi.flags & AZBUSE_QUEUE_F_POLL;
	if (q->poll_queue)
		azb_placement_set_poll(s->place, qid);
	q->batch = s->opts.batch;
	sq->arena_bytes = qi.arena_bytes;
	return 0;
}

int azb_server_create(const struct azb_server_opts *o, struct azb_server **out)
{
	struct azb_features f;
	struct azb_server *s;
	unsigned int i;
	int ret;

	if (!o || o->size != sizeof(*o) || !o->engine ||
	    o->engine->version != AZB_ENGINE_OPS_VERSION ||
	    (o->pin != AZB_PIN_NODE && o->pin != AZB_PIN_QUEUE) ||
	    (o->sched != AZB_SCHED_BATCH && o->sched != AZB_SCHED_INHERIT))
		return -EINVAL;
	s = azb_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *o;
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	/* A bad CPU list fails before anything is made. */
	ret = azb_placement_new(s->opts.cpus, s->opts.pin == AZB_PIN_NODE,
				&s->place);
	if (ret)
		goto fail;

	if (o->attach_id != AZB_ID_ANY) {
		ret = azb_dev_get_info(o->attach_id, &s->info);
		if (ret)
			goto fail;
	}
	ret = azb_server_open_engine(s);
	if (ret)
		goto fail;
	if (o->attach_id == AZB_ID_ANY) {
		ret = azb_server_add_device(s);
		if (ret)
			goto fail;
		s->created = true;
	}
	s->dev_id = s->info.params.dev_id;

	ret = azb_kdev_open(s->dev_id, &(struct azbuse_dev_info){0});
	if (ret < 0)
		goto fail;
	s->fd = ret;
	/* The poll queues come after the others. */
	s->nr_queues = s->info.params.nr_queues + s->info.params.nr_poll_queues;
	s->queues = azb_zalloc(s->nr_queues * sizeof(*s->queues));
	if (!s->queues) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < s->nr_queues; i++)
		s->queues[i].q.wake_fd = -1;
	ret = azb_placement_queues(s->place, s->nr_queues);
	if (ret)
		goto fail;
	for (i = 0; i < s->nr_queues; i++) {
		ret = azb_server_map_queue(s, i);
		if (ret)
			goto fail;
	}
	azb_placement_compute(s->place);
	if (!azb_get_features(&f)) {
		s->resizable = f.features & AZBUSE_FEAT_RESIZE;
		s->wake_fds = f.features & AZBUSE_FEAT_WAKE_FD;
		azb_redirect_setup(&s->engine, s->fd, f.features);
		if (f.features & AZBUSE_FEAT_LABEL)
			azb_label_setup(s->fd, &s->opts);
	}
	/* The engine may resize from now on, from any thread. */
	__atomic_store_n(&s->engine.server, s, __ATOMIC_RELEASE);
	*out = s;
	return 0;
fail:
	azb_server_destroy(s);
	return ret;
}

/*
 * In the queue's poller, once bound to its CPUs: the data arena on the
 * poller's node, registered with the kernel (which pins it, faulting it in
 * here), then the per-request state from the poller's own jemalloc arena.
 */
static int azb_server_queue_setup(struct azb_server_queue *sq)
{
	struct azb_server *s = sq->srv;
	struct azb_queue *q = &sq->q;
	int node = azb_placement_node(s->place, q->qid), ret;

	azb_alloc_thread_arena(node);
	sq->arena = azb_node_alloc(sq->arena_bytes, node);
	if (!sq->arena)
		return -errno;
	/* The kernel pins it: a forked child must not share or COW it. */
	madvise(sq->arena, sq->arena_bytes, MADV_DONTFORK);
	q->eq.arena = sq->arena;
	q->eq.arena_bytes = sq->arena_bytes;
	/* Only for an engine that can sleep on it: else it costs a signal. */
	if (s->wake_fds && (s->engine.ops->flags & AZB_ENGINE_F_WAKE_FD) &&
	    s->engine.ops->wait) {
		q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->wake_fd < 0)
			return -errno;
	}
	ret = azb_kdev_attach(s->fd, q->qid, sq->arena, sq->arena_bytes,
			      q->wake_fd, s->engine.redirect);
	if (ret)
		return ret;
	/* The engine's per-queue state is made here, by the thread using it. */
	return azb_queue_init(q, &s->engine);
}

/*
 * The calling poller's scheduling policy, as enum azb_sched says.  A
 * refusal (a seccomp filter, say) costs only the batching: logged, not
 * fatal.  Returns the policy the poller runs under.
 */
static int azb_poller_sched(struct azb_server *s)
{
	struct sched_param sp = { .sched_priority = 0 };
	int policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;

	if (s->opts.sched != AZB_SCHED_BATCH || policy != SCHED_OTHER)
		return policy;
	if (sched_setscheduler(0, SCHED_BATCH, &sp)) {
		int err = errno;

		if (!__atomic_exchange_n(&s->sched_warned, true, __ATOMIC_RELAXED))
			azb_log(AZB_LOG_WARNING, "azbuse%u: pollers keep the normal scheduling policy: SCHED_BATCH refused: %s",
				s->dev_id, strerror(err));
		return policy;
	}
	return SCHED_BATCH;
}

static const char *azb_policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:	return "SCHED_OTHER";
	case SCHED_BATCH:	return "SCHED_BATCH";
	case SCHED_IDLE:	return "SCHED_IDLE";
	case SCHED_FIFO:	return "SCHED_FIFO";
	case SCHED_RR:		return "SCHED_RR";
	default:		return "another policy";
	}
}

/* A poller thread: binds itself, sets its queue up, reports, then serves. */
static void *azb_server_poller(void *arg)
{
	struct azb_server_queue *sq = arg;
	struct azb_server *s = sq->srv;
	struct azb_queue *q = &sq->q;
	char name[16];
	sigset_t all;
	int ret;

	/* Signals belong to the application's threads, not to pollers. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Named for ps and /proc: azbDEV-qQUEUE. */
	snprintf(name, sizeof(name), "azb%u-q%u", s->dev_id, q->qid);
	pthread_setname_np(pthread_self(), name);

	sq->policy = azb_poller_sched(s);
	ret = azb_placement_bind(s->place, q->qid);
	if (!ret)
		ret = azb_server_queue_setup(sq);
	pthread_mutex_lock(&s->lock);
	if (ret && !s->start_err)
		s->start_err = ret;
	s->reported++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);

	if (!ret) {
		azb_poller_main(q);
		azb_queue_exit(q);
	}
	azb_alloc_thread_arena_put();
	sq->exited = true;
	return NULL;
}

static void azb_server_join(struct azb_server *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_queues; i++) {
		struct azb_server_queue *sq = &s->queues[i];

		if (sq->thread_started) {
			pthread_join(sq->q.thread, NULL);
			sq->thread_started = false;
		}
	}
}

static void azb_server_signal_stop(struct azb_server *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_queues; i++)
		s->queues[i].q.stop = true;
}

int azb_server_start(struct azb_server *s)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < s->nr_queues && !ret; i++) {
		struct azb_server_queue *sq = &s->queues[i];

		sq->srv = s;
		ret = -pthread_create(&sq->q.thread, NULL, azb_server_poller,
				      sq);
		if (!ret)
			sq->thread_started = true;
	}

	pthread_mutex_lock(&s->lock);
	while (!ret && s->reported < s->nr_queues)
		pthread_cond_wait(&s->cond, &s->lock);
	if (!ret)
		ret = s->start_err;
	pthread_mutex_unlock(&s->lock);
	if (ret) {
		azb_server_signal_stop(s);
		azb_server_join(s);
		return ret;
	}
	azb_log(AZB_LOG_INFO, "azbuse%u: serving, engine %s, %u queues x depth %u%s",
		s->dev_id, s->engine.ops->name, s->nr_queues,
		s->info.params.queue_depth,
		s->engine.redirect ? ", redirected" : "");
	for (i = 0; i < s->nr_queues; i++) {
		char cpus[128];
		int node;

		if (azb_server_queue_cpus(s, i, cpus, sizeof(cpus), &node) >= 0)
			azb_log(AZB_LOG_DEBUG, "azbuse%u: queue %u%s: poller on CPUs %s, node %d, %s",
				s->dev_id, i, s->queues[i].q.poll_queue ?
				" (poll queue)" : "", cpus, node,
				azb_policy_name(s->queues[i].policy));
	}
	return 0;
}

bool azb_server_running(const struct azb_server *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_queues; i++)
		if (s->queues[i].exited || s->queues[i].q.dead)
			return false;
	return true;
}

int azb_server_stop(struct azb_server *s)
{
	unsigned int i;
	int ret = 0;

	if (s->created) {
		/* Pollers serve while the kernel drains, then see ENODEV. */
		ret = azb_dev_remove(s->dev_id);
		if (ret == -ENODEV)
			ret = 0;
		s->created = false;
	}
	azb_server_signal_stop(s);
	azb_server_join(s);
	for (i = 0; i < s->nr_queues; i++)
		if (!ret && s->queues[i].q.error)
			ret = s->queues[i].q.error;
	return ret;
}

void azb_server_destroy(struct azb_server *s)
{
	unsigned int i;

	if (!s)
		return;
	/* A resize from the engine's thread finds nothing left to change. */
	pthread_mutex_lock(&s->lock);
	s->resizable = false;
	pthread_mutex_unlock(&s->lock);
	azb_server_signal_stop(s);
	azb_server_join(s);
	/* Closing the char device fails whatever the kernel still holds. */
	if (s->fd >= 0)
		close(s->fd);
	if (s->created)
		azb_dev_remove(s->dev_id);
	for (i = 0; s->queues && i < s->nr_queues; i++) {
		struct azb_server_queue *sq = &s->queues[i];

		if (sq->ring)
			munmap(sq->ring, sq->ring_bytes);
		if (sq->q.wake_fd >= 0)
			close(sq->q.wake_fd);
		azb_node_free(sq->arena, sq->arena_bytes);
	}
	azb_free(s->queues);
	azb_placement_free(s->place);
	if (s->engine_open && s->engine.ops->close)
		s->engine.ops->close(&s->engine);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	azb_free(s);
}

int azb_server_queue_stats(const struct azb_server *s, unsigned int qid,
			   struct azb_queue_stats *st)
{
	if (qid >= s->nr_queues)
		return -EINVAL;
	azb_stats_read(&s->queues[qid].q.stats, st);
	return 0;
}

bool azb_server_queue_is_poll(const struct azb_server *s, unsigned int qid)
{
	return qid < s->nr_queues && s->queues[qid].q.poll_queue;
}

int azb_server_queue_cpus(const struct azb_server *s, unsigned int qid,
			  char *cpus, size_t len, int *node)
{
	if (qid >= s->nr_queues)
		return -EINVAL;
	if (node)
		*node = azb_placement_node(s->place, qid);
	return azb_placement_cpulist(s->place, qid, cpus, len);
}

/* Every queue checks requests against size (see azb_sqe_to_io). */
static void azb_server_set_queue_bytes(struct azb_server *s, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < s->nr_queues; i++)
		__atomic_store_n(&s->queues[i].q.dev_bytes, size,
				 __ATOMIC_RELAXED);
}

int azb_engine_resize(struct azb_engine *e, uint64_t dev_bytes)
{
	struct azb_server *s = __atomic_load_n(&e->server, __ATOMIC_ACQUIRE);
	struct azbuse_set_size ss = { .size = sizeof(ss) };
	uint64_t old;
	int ret;

	if (!s)
		return -EOPNOTSUPP;
	/* A size the user asked for stays. */
	if (s->opts.dev.dev_bytes)
		return 0;
	ss.dev_bytes = dev_bytes - dev_bytes % s->info.params.logical_bs;
	pthread_mutex_lock(&s->lock);
	/* Not (or no longer) a running server's, or an old kernel. */
	if (!s->resizable) {
		pthread_mutex_unlock(&s->lock);
		return -EOPNOTSUPP;
	}
	old = s->info.params.dev_bytes;
	if (!ss.dev_bytes || ss.dev_bytes == old) {
		pthread_mutex_unlock(&s->lock);
		return ss.dev_bytes ? 0 : -EINVAL;
	}
	/*
	 * Growing: the queues take requests up to the new end before the
	 * kernel sends any.  Shrinking: the kernel stops sending past it
	 * first.
	 */
	if (ss.dev_bytes > old)
		azb_server_set_queue_bytes(s, ss.dev_bytes);
	ret = ioctl(s->fd, AZBUSE_IOC_SET_SIZE, &ss) < 0 ? -errno : 0;
	if (!ret) {
		s->info.params.dev_bytes = ss.dev_bytes;
		e->dev_bytes = ss.dev_bytes;
	}
	azb_server_set_queue_bytes(s, s->info.params.dev_bytes);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

uint32_t azb_server_dev_id(const struct azb_server *s)
{
	return s->dev_id;
}

const struct azb_dev_info *azb_server_info(const struct azb_server *s)
{
	return &s->info;
}

unsigned int azb_server_nr_queues(const struct azb_server *s)
{
	return s->nr_queues;
}
