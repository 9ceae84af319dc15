// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The server: opens the engine, creates (or attaches to) a device, maps each
 * queue's ring, registers each queue's data arena and runs one poller per
 * queue.  Stopping a device it created removes it while the pollers still
 * serve, so the kernel drains every request before the rings go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#define AZB_DEF_SPIN_US	50

struct azb_server_queue {
	struct azb_queue	q;
	struct azb_server	*srv;
	void			*ring;
	size_t			ring_bytes;
	void			*arena;
	size_t			arena_bytes;
	bool			thread_started;
	volatile bool		exited;
};

struct azb_server {
	struct azb_server_opts	opts;
	struct azb_engine	engine;
	bool			engine_open;
	struct azb_dev_info	info;
	uint32_t		dev_id;
	bool			created;	/* remove it when done */
	int			fd;
	unsigned int		nr_queues;
	struct azb_server_queue	*queues;

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
		.params = o->engine_params,
	};
	int ret;

	if (o->attach_id != AZB_ID_ANY) {
		/* Serving an existing device: the engine takes its shape. */
		eo.dev_bytes = s->info.params.dev_bytes;
		eo.logical_bs = s->info.params.logical_bs;
		eo.read_only = s->info.params.flags & AZB_DEV_READ_ONLY;
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
	int ret;

	ret = azb_kdev_map_queue(s->fd, qid, &qi, &sq->ring);
	if (ret)
		return ret;
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
	q->batch = s->opts.batch;

	sq->arena_bytes = qi.arena_bytes;
	sq->arena = mmap(NULL, sq->arena_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sq->arena == MAP_FAILED) {
		sq->arena = NULL;
		return -errno;
	}
	/* The kernel pins it: a forked child must not share or COW it. */
	madvise(sq->arena, sq->arena_bytes, MADV_DONTFORK);
	q->eq.arena = sq->arena;
	q->eq.arena_bytes = sq->arena_bytes;
	return 0;
}

int azb_server_create(const struct azb_server_opts *o, struct azb_server **out)
{
	struct azb_server *s;
	unsigned int i;
	int ret;

	if (!o || o->size != sizeof(*o) || !o->engine ||
	    o->engine->version != AZB_ENGINE_OPS_VERSION)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *o;
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);

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
	s->nr_queues = s->info.params.nr_queues;
	s->queues = calloc(s->nr_queues, sizeof(*s->queues));
	if (!s->queues) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < s->nr_queues; i++) {
		ret = azb_server_map_queue(s, i);
		if (ret)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	azb_server_destroy(s);
	return ret;
}

/* A poller thread: sets up its engine queue, reports, then serves. */
static void *azb_server_poller(void *arg)
{
	struct azb_server_queue *sq = arg;
	struct azb_server *s = sq->srv;
	struct azb_queue *q = &sq->q;
	sigset_t all;
	int ret;

	/* Signals belong to the application's threads, not to pollers. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	/* The engine's per-queue state is made here, by the thread using it. */
	ret = azb_queue_init(q, &s->engine);
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

		ret = azb_kdev_attach(s->fd, i, sq->arena, sq->arena_bytes);
		if (ret)
			break;
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
	}
	return ret;
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
		if (sq->arena)
			munmap(sq->arena, sq->arena_bytes);
	}
	free(s->queues);
	if (s->engine_open && s->engine.ops->close)
		s->engine.ops->close(&s->engine);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int azb_server_queue_stats(const struct azb_server *s, unsigned int qid,
			   struct azb_queue_stats *st)
{
	const struct azb_queue_stats *src;
	unsigned int i;

	if (qid >= s->nr_queues)
		return -EINVAL;
	src = &s->queues[qid].q.stats;
	for (i = 0; i < 5; i++)
		st->ios[i] = __atomic_load_n(&src->ios[i], __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&src->errors, __ATOMIC_RELAXED);
	st->batches = __atomic_load_n(&src->batches, __ATOMIC_RELAXED);
	st->bad_completions = __atomic_load_n(&src->bad_completions,
					      __ATOMIC_RELAXED);
	return 0;
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
