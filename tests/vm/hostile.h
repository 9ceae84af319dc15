/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * azb-hostile's shared parts (hostile_lib.c): checks, a random source, the
 * device nodes, and a small memory-backed server of queue 0 that modes
 * misbehave from.
 */
#ifndef AZB_HOSTILE_H
#define AZB_HOSTILE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/azbuse.h>

extern int failures;

#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "azb-hostile: FAIL line %d: ", __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

/* xorshift64: the same values for the same seed. */
extern uint64_t rng;
uint64_t rnd(void);
/* Boundary values first, then anything. */
uint64_t rnd_val(void);
void rnd_fill(void *p, size_t n);

int open_ctl(void);
int open_chr(uint32_t id);

struct qmap {
	struct azbuse_queue_info qi;
	void *ring;
	void *arena;
};

/* Maps and attaches queue qid properly (attach flags); 0 or -errno. */
int attach_flags(int fd, unsigned int qid, struct qmap *m, uint32_t flags);
int attach(int fd, unsigned int qid, struct qmap *m);

/*
 * A small memory-backed server on queue 0 of a device, for the modes that
 * must answer correctly while they misbehave in one way.
 */
struct mserver {
	int fd;
	struct qmap m;
	struct azbuse_dev_info info;
	unsigned char *ram;
	struct azbuse_ring_hdr *h;
	struct azbuse_sqe *sq;
	struct azbuse_cqe *cq;
	uint32_t sq_head, cq_tail;
};

/* Set by SIGTERM and SIGINT once mserver_open() ran. */
extern volatile sig_atomic_t stop_flag;
double now_s(void);

/* Serves queue 0 of device id, which must have nr_queues queues. */
void mserver_open(struct mserver *s, uint32_t id, unsigned int nr_queues);
/* The same, attached with AZBUSE_ATTACH_* flags. */
void mserver_open_flags(struct mserver *s, uint32_t id,
			unsigned int nr_queues, uint32_t flags);
unsigned char *mserver_slot(struct mserver *s, uint16_t tag);
void mserver_post(struct mserver *s, uint16_t tag, uint32_t gen, int32_t res);
void mserver_post_flags(struct mserver *s, uint16_t tag, uint32_t gen,
			int32_t res, uint16_t flags);
/* Does what the SQE asks, on the slot it names; returns the result. */
int32_t mserver_do(struct mserver *s, const struct azbuse_sqe *e);
/* The next SQE, or false; copied, as a runtime must. */
bool mserver_next(struct mserver *s, struct azbuse_sqe *e);
/* COMMIT (waiting up to wait_ms if asked); the ioctl's result, errno kept. */
int mserver_commit(struct mserver *s, unsigned int wait_ms);

unsigned long num(const char *s);

/* Modes in files of their own. */
void cmd_redirect(uint32_t id, const char *file);	/* hostile_redirect.c */

#endif /* AZB_HOSTILE_H */
