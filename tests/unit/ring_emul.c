// SPDX-License-Identifier: LGPL-2.1-or-later
/* Kernel side of a queue, in userspace: see ring_emul.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>
#include "ring_emul.h"

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int azb_emul_init(struct azb_emul *em, struct azb_queue *q, unsigned int depth,
		  uint32_t max_io_bytes, uint64_t dev_bytes)
{
	size_t sq_off, cq_off;

	memset(em, 0, sizeof(*em));
	/* Same sizing as azb_queue_alloc_ring() in kmod/queue.c. */
	em->entries = pow2_at_least(depth) * 2;
	sq_off = (sizeof(struct azbuse_ring_hdr) + 63) & ~(size_t)63;
	cq_off = sq_off + em->entries * sizeof(struct azbuse_sqe);
	em->ring_bytes = (cq_off + em->entries * sizeof(struct azbuse_cqe) +
			  4095) & ~(size_t)4095;
	em->ring = mmap(NULL, em->ring_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (em->ring == MAP_FAILED)
		return -errno;
	em->arena_bytes = (size_t)depth * max_io_bytes;
	em->arena = mmap(NULL, em->arena_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (em->arena == MAP_FAILED) {
		munmap(em->ring, em->ring_bytes);
		return -errno;
	}
	em->tags = calloc(depth, sizeof(*em->tags));
	if (!em->tags)
		return -ENOMEM;
	em->hdr = em->ring;
	em->sq = (void *)((char *)em->ring + sq_off);
	em->cq = (void *)((char *)em->ring + cq_off);
	em->depth = depth;
	em->max_io_bytes = max_io_bytes;
	em->wake_fd = -1;
	pthread_mutex_init(&em->lock, NULL);
	pthread_cond_init(&em->cond, NULL);

	memset(q, 0, sizeof(*q));
	q->hdr = em->hdr;
	q->wake_fd = -1;	/* no kernel here to wake an engine wait */
	q->sq = em->sq;
	q->cq = em->cq;
	q->entries = em->entries;
	q->depth = depth;
	q->max_io_bytes = max_io_bytes;
	q->dev_bytes = dev_bytes;
	q->eq.arena = em->arena;
	q->eq.arena_bytes = em->arena_bytes;
	q->commit = azb_emul_commit;
	q->commit_ctx = em;
	return 0;
}

void azb_emul_exit(struct azb_emul *em)
{
	munmap(em->ring, em->ring_bytes);
	munmap(em->arena, em->arena_bytes);
	free(em->tags);
	if (em->wake_fd >= 0)
		close(em->wake_fd);
	pthread_cond_destroy(&em->cond);
	pthread_mutex_destroy(&em->lock);
}

void *azb_emul_slot(struct azb_emul *em, unsigned int tag)
{
	return (char *)em->arena + (size_t)tag * em->max_io_bytes;
}

static void azb_emul_publish(struct azb_emul *em, const struct azbuse_sqe *e)
{
	em->sq[AZBUSE_RING_SLOT(em->sq_tail, em->entries)] = *e;
	em->sq_tail++;
	__atomic_store_n(&em->hdr->sq_tail.val, em->sq_tail, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&em->cond);
	/* As azb_queue_kick(): tail, full barrier, then the runtime's flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (em->wake_fd >= 0 &&
	    __atomic_load_n(&em->hdr->engine_wait.val, __ATOMIC_RELAXED)) {
		uint64_t one = 1;

		em->wake_signals++;
		if (write(em->wake_fd, &one, sizeof(one)) < 0)
			em->bad++;
	}
}

/* Before azb_queue_init(), or with the engine's copy set as well. */
static int azb_emul_wake_init(struct azb_emul *em, struct azb_queue *q)
{
	em->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (em->wake_fd < 0)
		return -errno;
	q->wake_fd = q->eq.wake_fd = em->wake_fd;
	return 0;
}

int azb_emul_enable_wake(struct azb_emul_rig *r)
{
	return azb_emul_wake_init(&r->em, &r->q);
}

uint32_t azb_emul_submit(struct azb_emul *em, unsigned int tag, uint8_t op,
			 uint32_t flags, uint64_t sector, uint32_t nr_bytes)
{
	struct azbuse_sqe e = {
		.op = op, .tag = tag, .flags = flags, .sector = sector,
		.nr_bytes = nr_bytes,
	};

	pthread_mutex_lock(&em->lock);
	if (!++em->gen)
		++em->gen;
	e.gen = em->gen;
	em->tags[tag].gen = e.gen;
	em->tags[tag].done = false;
	azb_emul_publish(em, &e);
	pthread_mutex_unlock(&em->lock);
	return e.gen;
}

void azb_emul_submit_raw(struct azb_emul *em, const struct azbuse_sqe *e)
{
	pthread_mutex_lock(&em->lock);
	azb_emul_publish(em, e);
	pthread_mutex_unlock(&em->lock);
}

int32_t azb_emul_wait(struct azb_emul *em, unsigned int tag)
{
	int32_t r;

	pthread_mutex_lock(&em->lock);
	while (!em->tags[tag].done)
		pthread_cond_wait(&em->cond, &em->lock);
	r = em->tags[tag].result;
	pthread_mutex_unlock(&em->lock);
	return r;
}

/* The checks of azb_complete_one() in kmod/queue.c. */
static bool azb_emul_complete(struct azb_emul *em, const struct azbuse_cqe *c)
{
	struct azb_emul_tag *t;

	if (c->tag >= em->depth)
		return false;
	t = &em->tags[c->tag];
	if (!c->gen || t->gen != c->gen)
		return false;
	t->gen = 0;
	t->done = true;
	t->result = c->result;
	em->completed++;
	return true;
}

int azb_emul_commit(struct azb_queue *q, bool wait, unsigned int wait_ms)
{
	struct azb_emul *em = q->commit_ctx;
	uint32_t tail, n, i;
	bool bad = false;
	struct timespec ts;

	pthread_mutex_lock(&em->lock);
	em->commits++;
	tail = __atomic_load_n(&em->hdr->cq_tail.val, __ATOMIC_ACQUIRE);
	n = AZBUSE_RING_USED(em->cq_head, tail);
	if (n > em->entries) {
		bad = true;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		struct azbuse_cqe c =
			em->cq[AZBUSE_RING_SLOT(em->cq_head + i, em->entries)];

		if (!azb_emul_complete(em, &c)) {
			em->bad++;
			bad = true;
		}
	}
	em->cq_head = tail;
	__atomic_store_n(&em->hdr->cq_head.val, tail, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&em->cond);
	if (wait) {
		em->waits++;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
		ts.tv_sec += wait_ms / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		while (em->sq_tail ==
		       __atomic_load_n(&em->hdr->sq_head.val, __ATOMIC_ACQUIRE) &&
		       !q->stop)
			if (pthread_cond_timedwait(&em->cond, &em->lock, &ts))
				break;
	}
	pthread_mutex_unlock(&em->lock);
	return bad ? -EINVAL : (int)n;
}

int azb_emul_rig_init(struct azb_emul_rig *r, const struct azb_engine_ops *ops,
		      enum azb_poll_mode mode, unsigned int spin_us,
		      unsigned int depth, uint32_t max_io_bytes,
		      uint64_t dev_bytes)
{
	struct azb_engine_opts o = { .size = sizeof(o), .dev_bytes = dev_bytes };
	int ret;

	memset(r, 0, sizeof(*r));
	r->e.ops = ops;
	ret = ops->open(&r->e, NULL, &o);
	if (ret)
		return ret;
	ret = azb_emul_init(&r->em, &r->q, depth, max_io_bytes, dev_bytes);
	if (ret)
		return ret;
	r->q.poll = mode;
	r->q.spin_us = spin_us;
	return azb_queue_init(&r->q, &r->e);
}

void azb_emul_rig_start(struct azb_emul_rig *r)
{
	pthread_create(&r->q.thread, NULL, azb_poller_main, &r->q);
}

void azb_emul_rig_stop(struct azb_emul_rig *r)
{
	r->q.stop = true;
	pthread_join(r->q.thread, NULL);
	azb_queue_exit(&r->q);
	if (r->e.ops->close)
		r->e.ops->close(&r->e);
	azb_emul_exit(&r->em);
}

static void *azb_emul_served_thread(void *arg)
{
	struct azb_emul_served *r = arg;
	int ret;

	ret = azb_queue_init(&r->q, &r->e);
	pthread_mutex_lock(&r->lock);
	r->init = ret;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (ret)
		return NULL;
	azb_poller_main(&r->q);
	azb_queue_exit(&r->q);
	return NULL;
}

int azb_emul_served_open(struct azb_emul_served *r,
			 const struct azb_engine_ops *ops, const char *target,
			 const struct azb_engine_opts *o, enum azb_poll_mode mode,
			 unsigned int depth, uint32_t max_io_bytes)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->e.ops = ops;
	ret = ops->open(&r->e, target, o);
	if (ret)
		return ret;
	ret = azb_emul_init(&r->em, &r->q, depth, max_io_bytes, r->e.dev_bytes);
	if (ret)
		goto close;
	/* As the server does where the kernel has AZBUSE_FEAT_WAKE_FD. */
	if ((ops->flags & AZB_ENGINE_F_WAKE_FD) && ops->wait) {
		ret = azb_emul_wake_init(&r->em, &r->q);
		if (ret)
			goto exit;
	}
	r->q.poll = mode;
	r->q.spin_us = 20;
	r->init = 1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_create(&r->thread, NULL, azb_emul_served_thread, r);
	pthread_mutex_lock(&r->lock);
	while (r->init == 1)
		pthread_cond_wait(&r->cond, &r->lock);
	ret = r->init;
	pthread_mutex_unlock(&r->lock);
	if (!ret)
		return 0;
	pthread_join(r->thread, NULL);
exit:
	azb_emul_exit(&r->em);
close:
	ops->close(&r->e);
	return ret;
}

void azb_emul_served_close(struct azb_emul_served *r)
{
	r->q.stop = true;
	pthread_join(r->thread, NULL);
	azb_emul_exit(&r->em);
	r->e.ops->close(&r->e);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

int32_t azb_emul_served_io(struct azb_emul_served *r, uint8_t op,
			   uint32_t flags, uint64_t off, uint32_t len)
{
	azb_emul_submit(&r->em, 0, op, flags, off >> 9, len);
	return azb_emul_wait(&r->em, 0);
}

int azb_emul_served_shadow(struct azb_emul_served *r, uint64_t base,
			   unsigned char *shadow, uint64_t span,
			   unsigned int rounds, unsigned int max_blocks,
			   uint64_t *rng)
{
	const unsigned int depth = r->q.depth;
	uint64_t per = span / depth, off[AZB_EMUL_MAX_DEPTH];
	uint32_t len[AZB_EMUL_MAX_DEPTH];
	unsigned int round, t;
	int bad = 0;

	if (depth > AZB_EMUL_MAX_DEPTH || per < 4096ull * max_blocks)
		return -1;
	for (round = 0; round < rounds; round++) {
		bool write = round % 2 == 0;

		/* Disjoint ranges per round: one per tag. */
		for (t = 0; t < depth; t++) {
			len[t] = 4096 * (1 + azb_emul_rnd(rng) % max_blocks);
			off[t] = per * t + 4096 * (azb_emul_rnd(rng) %
						   ((per - len[t]) / 4096 + 1));
			if (write) {
				unsigned char *slot = azb_emul_slot(&r->em, t);
				uint32_t i;

				for (i = 0; i < len[t]; i++)
					slot[i] = (unsigned char)azb_emul_rnd(rng);
				memcpy(shadow + off[t], slot, len[t]);
			} else {
				memset(azb_emul_slot(&r->em, t), 0x5a, len[t]);
			}
			azb_emul_submit(&r->em, t, write ? AZBUSE_OP_WRITE :
					AZBUSE_OP_READ, 0, (base + off[t]) >> 9,
					len[t]);
		}
		for (t = 0; t < depth; t++) {
			int32_t rc = azb_emul_wait(&r->em, t);

			if (rc != (int32_t)len[t]) {
				fprintf(stderr, "round %u tag %u: result %d, not %u\n",
					round, t, rc, len[t]);
				bad++;
			} else if (!write && memcmp(azb_emul_slot(&r->em, t),
						    shadow + off[t], len[t])) {
				fprintf(stderr, "round %u tag %u: data differs\n",
					round, t);
				bad++;
			}
		}
	}
	return bad;
}

uint64_t azb_emul_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
