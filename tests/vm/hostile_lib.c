// SPDX-License-Identifier: GPL-2.0-or-later
/* azb-hostile's shared parts (hostile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "hostile.h"

int failures;


uint64_t rng;

uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Boundary values first, then anything. */
uint64_t rnd_val(void)
{
	static const uint64_t edges[] = {
		0, 1, 2, 511, 512, 513, 4095, 4096, 4097, 65535, 65536,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		(1ull << 63), ~0ull, AZBUSE_MAX_DEPTH, AZBUSE_MAX_DEPTH + 1,
		AZBUSE_MAX_IO_BYTES, AZBUSE_MAX_IO_BYTES + 4096,
	};

	if (rnd() % 2)
		return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
	return rnd() >> (rnd() % 64);
}

void rnd_fill(void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = (unsigned char)rnd();
}

int open_ctl(void)
{
	int fd = open("/dev/azbusectl", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("azb-hostile: /dev/azbusectl");
		exit(1);
	}
	return fd;
}

int open_chr(uint32_t id)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/azbusec%u", id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "azb-hostile: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

int attach_flags(int fd, unsigned int qid, struct qmap *m, uint32_t flags)
{
	struct azbuse_queue_attach a = {
		.size = sizeof(a), .qid = qid, .flags = flags,
	};

	memset(&m->qi, 0, sizeof(m->qi));
	m->qi.size = sizeof(m->qi);
	m->qi.qid = qid;
	if (ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &m->qi) < 0)
		return -errno;
	m->ring = mmap(NULL, m->qi.ring_bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, m->qi.mmap_offset);
	if (m->ring == MAP_FAILED)
		return -errno;
	m->arena = mmap(NULL, m->qi.arena_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->arena == MAP_FAILED)
		return -errno;
	a.arena_addr = (uintptr_t)m->arena;
	a.arena_bytes = m->qi.arena_bytes;
	return ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 ? -errno : 0;
}

int attach(int fd, unsigned int qid, struct qmap *m)
{
	return attach_flags(fd, qid, m, 0);
}

volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void mserver_open_flags(struct mserver *s, uint32_t id,
			unsigned int nr_queues, uint32_t flags)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	memset(s, 0, sizeof(*s));
	s->fd = open_chr(id);
	s->info.size = sizeof(s->info);
	if (ioctl(s->fd, AZBUSE_IOC_GET_INFO, &s->info) < 0 ||
	    s->info.nr_queues != nr_queues) {
		fprintf(stderr, "azb-hostile: device %u: need %u queue(s)\n", id,
			nr_queues);
		exit(1);
	}
	s->ram = calloc(1, s->info.dev_bytes);
	if (!s->ram || attach_flags(s->fd, 0, &s->m, flags)) {
		fprintf(stderr, "azb-hostile: cannot serve device %u\n", id);
		exit(1);
	}
	s->h = s->m.ring;
	s->sq = (void *)((char *)s->m.ring + s->m.qi.sq_off);
	s->cq = (void *)((char *)s->m.ring + s->m.qi.cq_off);
}

void mserver_open(struct mserver *s, uint32_t id, unsigned int nr_queues)
{
	mserver_open_flags(s, id, nr_queues, 0);
}

unsigned char *mserver_slot(struct mserver *s, uint16_t tag)
{
	return (unsigned char *)s->m.arena + (size_t)tag * s->m.qi.max_io_bytes;
}

void mserver_post_flags(struct mserver *s, uint16_t tag, uint32_t gen,
			int32_t res, uint16_t flags)
{
	struct azbuse_cqe *o = &s->cq[s->cq_tail & (s->m.qi.cq_entries - 1)];

	o->tag = tag;
	o->flags = flags;
	o->gen = gen;
	o->result = res;
	s->cq_tail++;
	__atomic_store_n(&s->h->cq_tail.val, s->cq_tail, __ATOMIC_RELEASE);
}

void mserver_post(struct mserver *s, uint16_t tag, uint32_t gen, int32_t res)
{
	mserver_post_flags(s, tag, gen, res, 0);
}

/* Does what the SQE asks, on the slot it names; returns the result. */
int32_t mserver_do(struct mserver *s, const struct azbuse_sqe *e)
{
	uint64_t off = e->sector << 9;

	if (e->op == AZBUSE_OP_FLUSH)
		return 0;
	if (e->tag >= s->m.qi.depth || off > s->info.dev_bytes ||
	    e->nr_bytes > s->info.dev_bytes - off)
		return -EINVAL;
	if (e->op == AZBUSE_OP_READ)
		memcpy(mserver_slot(s, e->tag), s->ram + off, e->nr_bytes);
	else if (e->op == AZBUSE_OP_WRITE)
		memcpy(s->ram + off, mserver_slot(s, e->tag), e->nr_bytes);
	else
		return -EOPNOTSUPP;
	return e->nr_bytes;
}

/* The next SQE, or NULL; copied, as a runtime must. */
bool mserver_next(struct mserver *s, struct azbuse_sqe *e)
{
	uint32_t tail = __atomic_load_n(&s->h->sq_tail.val, __ATOMIC_ACQUIRE);

	if (s->sq_head == tail)
		return false;
	*e = s->sq[s->sq_head & (s->m.qi.sq_entries - 1)];
	s->sq_head++;
	__atomic_store_n(&s->h->sq_head.val, s->sq_head, __ATOMIC_RELEASE);
	return true;
}

/* COMMIT (waiting up to wait_ms if asked); the ioctl's result, errno kept. */
int mserver_commit(struct mserver *s, unsigned int wait_ms)
{
	struct azbuse_commit c = { .qid = 0 };

	if (wait_ms) {
		c.flags = AZBUSE_COMMIT_WAIT;
		c.wait_ms = wait_ms;
	}
	return ioctl(s->fd, AZBUSE_IOC_COMMIT, &c);
}

unsigned long num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end) {
		fprintf(stderr, "azb-hostile: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

