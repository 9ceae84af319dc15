// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azb-hostile: a hostile or broken runtime, for guest tests of azbuse.ko.
 * It talks to the module through the uapi header alone, as any program
 * could, and checks that every bad value is refused with an errno.
 *
 *   azb-hostile ctl SEED N        N random and boundary ioctls on /dev/azbusectl
 *   azb-hostile chr ID SEED N     N random ioctls, mmaps and ring values on
 *                                 /dev/azbusecID while I/O runs on /dev/azbuseID
 *   azb-hostile stall ID          attach every queue (poll queues too), never
 *                                 complete anything
 *   azb-hostile unpriv ID         as user nobody: every entry point refused
 *   azb-hostile lateread ID SECTOR
 *                                 serve a 1-queue device from memory, but hold
 *                                 the first READ at or past SECTOR beyond the
 *                                 device's timeout, then answer it; until
 *                                 SIGTERM.  Fails if its slot is given to
 *                                 another request meanwhile or the late
 *                                 answer is refused.
 *   azb-hostile stale ID          serve a 1-queue device from memory and
 *                                 commit stale CQEs (answered tags, old
 *                                 generations) after every batch; until the
 *                                 device goes away or SIGTERM
 *   azb-hostile filearena ID FILE an arena on a shared mapping of FILE is
 *                                 refused; one on a memfd is accepted
 *   azb-hostile addrace N         ADD and REMOVE of one id racing, N rounds
 *   azb-hostile uffdattach ID     attach queue 0 and serve it from memory;
 *                                 attach queue 1 with an arena whose pages
 *                                 a userfaultfd holds back, and while that
 *                                 attach waits: I/O on queue 0 and control
 *                                 ioctls still answer.  Then let it finish.
 *   azb-hostile redirect ID FILE  register files wrongly, then serve queue 0
 *                                 with redirects to FILE, good and bad
 *                                 (hostile_redirect.c)
 *
 * Exits 0 when every check held, 1 otherwise (each failure printed).
 * The kernel's own log is checked by the test driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/userfaultfd.h>
#include <unistd.h>
#include <linux/azbuse.h>
#include "hostile.h"

static void valid_info(struct azbuse_dev_info *i)
{
	memset(i, 0, sizeof(*i));
	i->size = sizeof(*i);
	i->dev_id = AZBUSE_ID_ANY;
	i->dev_bytes = 16 << 20;
	i->nr_queues = 1;
	i->queue_depth = 4;
	i->max_io_bytes = 64 << 10;
}

/* Each deliberately bad ADD must fail; nothing may be created by it. */
static void ctl_boundaries(int fd)
{
	struct azbuse_dev_info i;
	struct azbuse_dev_list l;
	struct azbuse_dev_id d;
	struct azbuse_features f;

#define BAD_ADD(what, stmt) do { \
	valid_info(&i); \
	stmt; \
	errno = 0; \
	EXPECT(ioctl(fd, AZBUSE_CTL_ADD, &i) < 0 && errno, \
	       "ADD with %s succeeded", what); \
} while (0)
	BAD_ADD("size 0", i.size = 0);
	BAD_ADD("size+1", i.size = sizeof(i) + 1);
	BAD_ADD("reserved[0]", i.reserved[0] = 1);
	BAD_ADD("last reserved", i.reserved[sizeof(i.reserved) /
					   sizeof(i.reserved[0]) - 1] = 1ull << 63);
	BAD_ADD("pad2", i.__pad2 = 1);
	BAD_ADD("unknown flag", i.flags = 1ull << 40);
	BAD_ADD("state set", i.state = 1);
	BAD_ADD("owner set", i.owner_pid = 1);
	BAD_ADD("zero bytes", i.dev_bytes = 0);
	BAD_ADD("unaligned bytes", i.dev_bytes = 4097);
	BAD_ADD("huge bytes", i.dev_bytes = ~0ull);
	BAD_ADD("bs 256", i.logical_bs = 256);
	BAD_ADD("bs 8192", i.logical_bs = 8192);
	BAD_ADD("bs 1536", i.logical_bs = 1536);
	BAD_ADD("pbs < lbs", (i.logical_bs = 4096, i.physical_bs = 512));
	BAD_ADD("max_io 1000", i.max_io_bytes = 1000);
	BAD_ADD("max_io 2M", i.max_io_bytes = 2 << 20);
	BAD_ADD("queues 65535", i.nr_queues = 65535);
	BAD_ADD("depth 65535", i.queue_depth = 65535);
	BAD_ADD("arena too big", (i.queue_depth = 4096,
				  i.max_io_bytes = 1 << 20));
	BAD_ADD("id too big", i.dev_id = AZBUSE_MAX_DEV_ID + 1);
	BAD_ADD("timeout 1ms", i.timeout_ms = 1);
	BAD_ADD("grace without recovery", i.recovery_ms = 5000);
#undef BAD_ADD

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.dev_id = AZBUSE_MAX_DEV_ID + 5;
	EXPECT(ioctl(fd, AZBUSE_CTL_REMOVE, &d) < 0 && errno == ENODEV,
	       "REMOVE of a missing id: errno %d", errno);
	d.reserved[1] = 1;
	EXPECT(ioctl(fd, AZBUSE_CTL_REMOVE, &d) < 0 && errno == EINVAL,
	       "REMOVE with reserved set: errno %d", errno);

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.capacity = 16;
	l.ids_ptr = 0x10;	/* unmapped */
	errno = 0;
	EXPECT(ioctl(fd, AZBUSE_CTL_LIST, &l) == 0 || errno == EFAULT,
	       "LIST to a bad pointer: errno %d", errno);
	l.ids_ptr = 0;
	EXPECT(ioctl(fd, AZBUSE_CTL_LIST, &l) < 0 && errno == EINVAL,
	       "LIST with capacity and no buffer: errno %d", errno);

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f) - 8;
	EXPECT(ioctl(fd, AZBUSE_CTL_GET_FEATURES, &f) < 0 && errno == EINVAL,
	       "FEATURES with a short size: errno %d", errno);
	EXPECT(ioctl(fd, _IOWR(AZBUSE_IOC_MAGIC, 0x8f, struct azbuse_features),
		     &f) < 0 && errno == ENOTTY, "unknown ioctl: errno %d", errno);
	EXPECT(ioctl(fd, AZBUSE_CTL_ADD, (void *)8) < 0 && errno == EFAULT,
	       "ADD from a bad pointer: errno %d", errno);
}

static void cmd_ctl(unsigned long n)
{
	static const unsigned long cmds[] = {
		AZBUSE_CTL_ADD, AZBUSE_CTL_REMOVE, AZBUSE_CTL_GET_INFO,
		AZBUSE_CTL_LIST, AZBUSE_CTL_GET_FEATURES, AZBUSE_IOC_COMMIT,
		AZBUSE_IOC_ATTACH_QUEUE,
	};
	uint32_t ids[64];
	unsigned int nids = 0, k;
	int fd = open_ctl();
	unsigned long it;

	ctl_boundaries(fd);
	for (it = 0; it < n; it++) {
		union {
			struct azbuse_dev_info i;
			struct azbuse_dev_id d;
			struct azbuse_dev_list l;
			struct azbuse_features f;
			unsigned char raw[512];
		} u;
		unsigned long cmd = cmds[rnd() % (sizeof(cmds) / sizeof(cmds[0]))];

		if (rnd() % 8 == 0)	/* any number at all */
			cmd = _IOC(rnd() % 4, AZBUSE_IOC_MAGIC, rnd() % 256,
				   rnd() % 512);
		rnd_fill(&u, sizeof(u));
		if (rnd() % 2) {	/* mostly well-formed, one field off */
			if (cmd == AZBUSE_CTL_ADD || cmd == AZBUSE_CTL_GET_INFO) {
				valid_info(&u.i);
				switch (rnd() % 6) {
				case 0: u.i.dev_bytes = rnd_val(); break;
				case 1: u.i.logical_bs = rnd_val(); break;
				case 2: u.i.max_io_bytes = rnd_val(); break;
				case 3: u.i.queue_depth = rnd_val(); break;
				case 4: u.i.dev_id = rnd() % 8; break;
				case 5: u.i.timeout_ms = rnd_val(); break;
				}
			} else if (cmd == AZBUSE_CTL_REMOVE) {
				memset(&u.d, 0, sizeof(u.d));
				u.d.size = sizeof(u.d);
				u.d.dev_id = nids ? ids[rnd() % nids] : rnd_val();
			} else if (cmd == AZBUSE_CTL_LIST) {
				memset(&u.l, 0, sizeof(u.l));
				u.l.size = sizeof(u.l);
				u.l.capacity = rnd() % 64;
				u.l.ids_ptr = rnd() % 2 ? (uintptr_t)ids : rnd_val();
			}
		}
		if (ioctl(fd, cmd, &u) == 0 && cmd == AZBUSE_CTL_ADD &&
		    nids < 64)
			ids[nids++] = u.i.dev_id;
		if (nids == 64) {	/* keep the guest's memory in bounds */
			for (k = 0; k < nids; k++) {
				struct azbuse_dev_id d = { .size = sizeof(d),
							   .dev_id = ids[k] };
				ioctl(fd, AZBUSE_CTL_REMOVE, &d);
			}
			nids = 0;
		}
	}
	for (k = 0; k < nids; k++) {
		struct azbuse_dev_id d = { .size = sizeof(d), .dev_id = ids[k] };

		ioctl(fd, AZBUSE_CTL_REMOVE, &d);
	}
	close(fd);
}

/* Keeps requests in flight on the block device while the fuzzer runs. */
static volatile bool io_stop;

static void *io_thread(void *arg)
{
	const char *path = arg;
	void *buf;
	int fd = open(path, O_RDWR | O_DIRECT);

	if (fd < 0 || posix_memalign(&buf, 4096, 65536))
		return NULL;
	memset(buf, 0x5a, 65536);
	while (!io_stop) {
		off_t off = (off_t)(rnd() % 256) * 4096;

		if (rnd() % 2)
			(void)!pread(fd, buf, 4096 << (rnd() % 4), off);
		else
			(void)!pwrite(fd, buf, 4096 << (rnd() % 4), off);
	}
	free(buf);
	close(fd);
	return NULL;
}

/* The queue's CPU mask: sizes, pointers and reserved fields checked. */
static void queue_cpus_boundaries(int fd, uint32_t nr_cpus)
{
	size_t need = (nr_cpus + 63) / 64 * 8;
	struct azbuse_queue_info qi;
	uint64_t *mask = calloc(1, need + 8);
	uint32_t c, seen = 0;

	EXPECT(nr_cpus > 0, "QUEUE_INFO reports no CPUs");
	if (!mask || !nr_cpus)
		goto out;
	memset(&qi, 0, sizeof(qi));
	qi.size = sizeof(qi);
	qi.cpus_ptr = (uintptr_t)mask;
	qi.cpus_bytes = need;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) == 0,
	       "QUEUE_INFO with a CPU mask: %s", strerror(errno));
	for (c = 0; c < nr_cpus; c++)
		seen += !!(mask[c / 64] & (1ULL << (c % 64)));
	EXPECT(seen > 0, "queue 0 has no CPUs in its mask");
	qi.cpus_bytes = need - 8;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 &&
	       errno == EOVERFLOW, "QUEUE_INFO with a short mask buffer");
	qi.cpus_bytes = need + 4;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 &&
	       errno == EINVAL, "QUEUE_INFO with a mask of 8n+4 bytes");
	qi.cpus_bytes = need;
	qi.cpus_ptr = 16;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 &&
	       errno == EFAULT, "QUEUE_INFO with a bad mask pointer");
	qi.cpus_ptr = (uintptr_t)mask;
	qi.reserved[2] = 1;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 &&
	       errno == EINVAL, "QUEUE_INFO with a reserved field set");
	qi.reserved[2] = 0;
	qi.flags = AZBUSE_QUEUE_F_POLL;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 &&
	       errno == EINVAL, "QUEUE_INFO with an output (flags) set");
out:
	free(mask);
}

/* SET_SIZE: sizes a loff_t cannot hold are refused; the device keeps its own. */
static void set_size_boundaries(int fd)
{
	static const uint64_t bad[] = {
		0, 511, 1ull << 63, ~0ull - 511, ~0ull,
	};
	struct azbuse_dev_info info = { .size = sizeof(info) };
	struct azbuse_set_size ss = { .size = sizeof(ss) };
	unsigned int k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ss.dev_bytes = bad[k];
		errno = 0;
		EXPECT(ioctl(fd, AZBUSE_IOC_SET_SIZE, &ss) < 0 && errno == EINVAL,
		       "SET_SIZE to %llu bytes: errno %d",
		       (unsigned long long)bad[k], errno);
	}
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_INFO, &info) == 0 &&
	       info.dev_bytes > 0 && info.dev_bytes < (1ull << 40),
	       "device size after refused SET_SIZE: %llu",
	       (unsigned long long)info.dev_bytes);
}

static void chr_boundaries(int fd, uint16_t nr_queues)
{
	struct azbuse_queue_info qi = { .size = sizeof(qi), .qid = 0 };
	struct azbuse_queue_attach a = { .size = sizeof(a), .qid = 0 };
	struct azbuse_commit c = { .qid = nr_queues };
	void *p, *ro;

	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) == 0,
	       "QUEUE_INFO: %s", strerror(errno));
	qi.qid = nr_queues;
	EXPECT(ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0 && errno == EINVAL,
	       "QUEUE_INFO for a missing queue");
	qi.qid = 0;
	ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi);
	queue_cpus_boundaries(fd, qi.nr_cpus);

	p = mmap(NULL, qi.ring_bytes + 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	EXPECT(p == MAP_FAILED, "mmap of the wrong length succeeded");
	p = mmap(NULL, qi.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 4096);
	EXPECT(p == MAP_FAILED, "mmap at a wrong offset succeeded");
	p = mmap(NULL, qi.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 AZBUSE_RING_OFFSET(nr_queues));
	EXPECT(p == MAP_FAILED, "mmap of a missing queue succeeded");
	p = mmap(NULL, qi.ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 0);
	EXPECT(p == MAP_FAILED, "private mmap succeeded");
	p = mmap(NULL, qi.ring_bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT(p == MAP_FAILED, "executable mmap succeeded");

	EXPECT(ioctl(fd, AZBUSE_IOC_COMMIT, &c) < 0 && errno == EINVAL,
	       "COMMIT on a missing queue: errno %d", errno);
	c.qid = 0;
	c.flags = 0x8000;
	EXPECT(ioctl(fd, AZBUSE_IOC_COMMIT, &c) < 0 && errno == EINVAL,
	       "COMMIT with unknown flags: errno %d", errno);
	c.flags = 0;
	EXPECT(ioctl(fd, AZBUSE_IOC_COMMIT, &c) < 0 && errno == ENODEV,
	       "COMMIT before attach: errno %d", errno);

	a.arena_bytes = qi.arena_bytes;
	a.arena_addr = 0x1000;	/* unmapped */
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0,
	       "attach of an unmapped arena succeeded");
	p = mmap(NULL, qi.arena_bytes + 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.arena_addr = (uintptr_t)p + 512;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach of a misaligned arena: errno %d", errno);
	a.arena_addr = (uintptr_t)p;
	a.arena_bytes = qi.arena_bytes - 4096;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach of a short arena: errno %d", errno);
	a.arena_bytes = qi.arena_bytes;
	a.reserved[2] = 1;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach with reserved set: errno %d", errno);
	a.reserved[2] = 0;
	a.flags = 0x80;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach with unknown flags: errno %d", errno);
	a.flags = 0;
	a.wake_fd = 3;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach with a wake_fd but no flag: errno %d", errno);
	a.flags = AZBUSE_ATTACH_WAKE_FD;
	a.wake_fd = -1;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EBADF,
	       "attach with wake_fd -1: errno %d", errno);
	a.wake_fd = fd;	/* not an eventfd */
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EINVAL,
	       "attach with a wake_fd that is no eventfd: errno %d", errno);
	a.wake_fd = 0x7ffffff0;	/* not open */
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EBADF,
	       "attach with a closed wake_fd: errno %d", errno);
	a.flags = 0;
	a.wake_fd = 0;
	ro = mmap(NULL, qi.arena_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	a.arena_addr = (uintptr_t)ro;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0,
	       "attach of a read-only arena succeeded");
	munmap(ro, qi.arena_bytes);
	munmap(p, qi.arena_bytes + 4096);
	set_size_boundaries(fd);
}

/* Plays a runtime that answers with garbage as often as with sense. */
static void chr_round(int fd, struct qmap *m)
{
	struct azbuse_ring_hdr *h = m->ring;
	struct azbuse_sqe *sq = (void *)((char *)m->ring + m->qi.sq_off);
	struct azbuse_cqe *cq = (void *)((char *)m->ring + m->qi.cq_off);
	uint32_t ent = m->qi.cq_entries;
	struct azbuse_commit c = { .qid = m->qi.qid };
	uint32_t tail, head, k;

	switch (rnd() % 8) {
	case 0:		/* garbage indices */
		h->cq_tail.val = (uint32_t)rnd();
		h->sq_head.val = (uint32_t)rnd();
		break;
	case 1:		/* garbage entries */
		rnd_fill(cq, ent * sizeof(*cq));
		h->cq_tail.val = h->cq_head.val + rnd() % (ent + 2);
		break;
	default:	/* answer what is on the SQ, with random results */
		tail = __atomic_load_n(&h->sq_tail.val, __ATOMIC_ACQUIRE);
		head = h->sq_head.val;
		for (k = 0; head != tail && k < ent; head++, k++) {
			struct azbuse_sqe *e = &sq[head & (m->qi.sq_entries - 1)];
			struct azbuse_cqe *o = &cq[h->cq_tail.val & (ent - 1)];

			o->tag = e->tag + (rnd() % 8 == 0);
			o->gen = e->gen - (rnd() % 8 == 0);
			switch (rnd() % 5) {
			case 0: o->result = (int32_t)rnd_val(); break;
			case 1: o->result = -(int32_t)(rnd() % 200); break;
			case 2: o->result = e->nr_bytes + 512; break;
			default: o->result = e->nr_bytes; break;
			}
			h->cq_tail.val++;
			if (rnd() % 4 == 0) {	/* the same one again */
				cq[h->cq_tail.val & (ent - 1)] = *o;
				h->cq_tail.val++;
			}
		}
		__atomic_store_n(&h->sq_head.val, head, __ATOMIC_RELEASE);
		break;
	}
	c.flags = rnd() % 4 == 0 ? AZBUSE_COMMIT_WAIT : 0;
	c.wait_ms = 1 + rnd() % 20;
	errno = 0;
	if (ioctl(fd, AZBUSE_IOC_COMMIT, &c) < 0)
		EXPECT(errno == EINVAL || errno == EINTR,
		       "COMMIT failed with errno %d", errno);
}

static void cmd_chr(uint32_t id, unsigned long n)
{
	char blk[64];
	struct azbuse_dev_info info = { .size = sizeof(info) };
	struct qmap m[64];
	pthread_t io;
	unsigned int q, nq;
	unsigned long it;
	int fd = open_chr(id), fd2;

	EXPECT(ioctl(fd, AZBUSE_IOC_GET_INFO, &info) == 0, "GET_INFO");
	snprintf(blk, sizeof(blk), "/dev/azbusec%u", id);
	fd2 = open(blk, O_RDWR);
	EXPECT(fd2 < 0 && errno == EBUSY, "a second open of %s: errno %d", blk,
	       errno);
	nq = info.nr_queues < 64 ? info.nr_queues : 64;
	chr_boundaries(fd, info.nr_queues);
	for (q = 0; q < nq; q++)
		EXPECT(attach(fd, q, &m[q]) == 0, "attach queue %u", q);
	EXPECT(attach(fd, 0, &m[0]) == -EBUSY, "attaching queue 0 twice");

	snprintf(blk, sizeof(blk), "/dev/azbuse%u", id);
	pthread_create(&io, NULL, io_thread, blk);
	for (it = 0; it < n; it++)
		chr_round(fd, &m[rnd() % nq]);
	/* Closing fails whatever is still held; the I/O thread sees errors. */
	close(fd);
	io_stop = true;
	pthread_join(io, NULL);
}

static void cmd_stall(uint32_t id)
{
	struct azbuse_dev_info info = { .size = sizeof(info) };
	struct qmap m;
	unsigned int q;
	int fd = open_chr(id);

	if (ioctl(fd, AZBUSE_IOC_GET_INFO, &info) < 0) {
		perror("azb-hostile: GET_INFO");
		exit(1);
	}
	/* Poll queues too: they come after the others. */
	for (q = 0; q < info.nr_queues + info.nr_poll_queues; q++)
		if (attach(fd, q, &m)) {
			fprintf(stderr, "azb-hostile: attach %u failed\n", q);
			exit(1);
		}
	printf("stalling\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void cmd_unpriv(uint32_t id)
{
	struct azbuse_features f = { .size = sizeof(f) };
	struct azbuse_queue_info qi = { .size = sizeof(qi) };
	struct azbuse_queue_attach a = { .size = sizeof(a) };
	int ctl = open_ctl(), chr = open_chr(id);
	char path[64];
	void *p;

	ioctl(chr, AZBUSE_IOC_GET_QUEUE_INFO, &qi);
	if (setgid(65534) || setuid(65534)) {
		perror("azb-hostile: setuid nobody");
		exit(1);
	}
	EXPECT(open("/dev/azbusectl", O_RDWR) < 0 && errno == EACCES,
	       "nobody opened /dev/azbusectl: errno %d", errno);
	snprintf(path, sizeof(path), "/dev/azbusec%u", id);
	EXPECT(open(path, O_RDWR) < 0 && errno == EACCES,
	       "nobody opened %s: errno %d", path, errno);
	/* Descriptors a root process leaked are no way in either. */
	EXPECT(ioctl(ctl, AZBUSE_CTL_GET_FEATURES, &f) < 0 && errno == EPERM,
	       "nobody used a leaked control fd: errno %d", errno);
	p = mmap(NULL, qi.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, chr,
		 qi.mmap_offset);
	EXPECT(p == MAP_FAILED && errno == EPERM,
	       "nobody mapped a ring from a leaked fd: errno %d", errno);
	p = mmap(NULL, qi.arena_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.arena_addr = (uintptr_t)p;
	a.arena_bytes = qi.arena_bytes;
	EXPECT(ioctl(chr, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 && errno == EPERM,
	       "nobody attached a queue from a leaked fd: errno %d", errno);
}

static void cmd_lateread(uint32_t id, uint64_t hold_sector)
{
	struct mserver s;
	struct azbuse_sqe e, held;
	bool holding = false, landed = false;
	unsigned long served = 0, reissued = 0;
	double held_at = 0, hold_s;
	int ret;

	mserver_open(&s, id, 1);
	/* What the held READ carries: nothing a verify write ever wrote. */
	memset(s.ram, 0xa5, s.info.dev_bytes);
	/* Well past the timeout: blk-mq checks deadlines once a second or so. */
	hold_s = s.info.timeout_ms / 1000.0 * 2 + 4;
	printf("serving\n");
	fflush(stdout);
	while (!stop_flag) {
		while (mserver_next(&s, &e)) {
			if (!holding && !landed && e.op == AZBUSE_OP_READ &&
			    e.sector >= hold_sector) {
				held = e;
				holding = true;
				held_at = now_s();
				printf("holding slot %u gen %u\n", e.tag, e.gen);
				fflush(stdout);
				continue;
			}
			if (holding && e.tag == held.tag) {
				/*
				 * The kernel gave the held slot to a new request.
				 * An engine's late read lands now, over the new
				 * request's bytes, as a real one would.
				 */
				reissued++;
				memcpy(mserver_slot(&s, held.tag),
				       s.ram + (held.sector << 9), held.nr_bytes);
			}
			mserver_post(&s, e.tag, e.gen, mserver_do(&s, &e));
			served++;
		}
		if (holding && now_s() - held_at > hold_s) {
			/* Answer the timed-out READ, as a slow engine does. */
			memcpy(mserver_slot(&s, held.tag),
			       s.ram + (held.sector << 9), held.nr_bytes);
			if (mserver_commit(&s, 0) < 0 && errno == ENODEV)
				break;
			mserver_post(&s, held.tag, held.gen, held.nr_bytes);
			ret = mserver_commit(&s, 0);
			EXPECT(ret >= 0, "the late answer to the timed-out READ "
			       "was refused: errno %d", errno);
			holding = false;
			landed = true;
			printf("landed after %.1f s\n", now_s() - held_at);
			fflush(stdout);
			continue;
		}
		if (mserver_commit(&s, 50) < 0 && errno != EINTR) {
			EXPECT(errno == ENODEV, "COMMIT: errno %d", errno);
			break;
		}
	}
	EXPECT(landed, "no READ past sector %llu came to hold",
	       (unsigned long long)hold_sector);
	EXPECT(!reissued, "the held slot went to %lu other requests "
	       "while the runtime still had it", reissued);
	printf("served %lu requests, held one, slot reissued %lu times\n",
	       served, reissued);
	close(s.fd);
}

static void cmd_stale(uint32_t id)
{
	struct mserver s;
	struct azbuse_sqe e;
	struct { uint16_t tag; uint32_t gen; } past[64];
	unsigned long served = 0, stale = 0, k, n = 0;
	int ret;

	mserver_open(&s, id, 1);
	printf("serving\n");
	fflush(stdout);
	while (!stop_flag) {
		while (mserver_next(&s, &e)) {
			mserver_post(&s, e.tag, e.gen, mserver_do(&s, &e));
			past[n++ % 64] = (typeof(past[0])){ e.tag, e.gen };
			served++;
		}
		ret = mserver_commit(&s, 0);
		if (ret < 0 && errno == ENODEV)
			break;
		EXPECT(ret >= 0, "COMMIT of good answers: errno %d", errno);
		/* Answers again for requests already ended: all refused. */
		for (k = 0; k < 8 && n; k++, stale++) {
			typeof(past[0]) p = past[rnd() % (n < 64 ? n : 64)];

			mserver_post(&s, p.tag, p.gen - (rnd() % 2), 4096);
		}
		ret = mserver_commit(&s, 20);
		if (ret < 0 && errno == ENODEV)
			break;
		EXPECT(ret < 0 ? errno == EINVAL || errno == EINTR : !k,
		       "stale answers: COMMIT returned %d errno %d", ret, errno);
	}
	printf("served %lu requests, committed %lu stale answers\n", served,
	       stale);
	close(s.fd);
}

static void cmd_filearena(uint32_t id, const char *path)
{
	struct azbuse_queue_info qi = { .size = sizeof(qi), .qid = 0 };
	struct azbuse_queue_attach a = { .size = sizeof(a), .qid = 0 };
	int fd = open_chr(id), ffd, mfd;
	void *p;

	if (ioctl(fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) < 0) {
		perror("azb-hostile: QUEUE_INFO");
		exit(1);
	}
	a.arena_bytes = qi.arena_bytes;
	ffd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (ffd < 0 || ftruncate(ffd, qi.arena_bytes)) {
		perror("azb-hostile: arena file");
		exit(1);
	}
	p = mmap(NULL, qi.arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, ffd,
		 0);
	EXPECT(p != MAP_FAILED, "mmap of %s: %s", path, strerror(errno));
	a.arena_addr = (uintptr_t)p;
	errno = 0;
	EXPECT(ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) < 0 &&
	       (errno == EINVAL || errno == EFAULT),
	       "an arena on a shared mapping of %s was accepted (errno %d)",
	       path, errno);
	munmap(p, qi.arena_bytes);
	close(ffd);

	/* shmem is fine: the kernel tracks nothing there to get wrong. */
	mfd = memfd_create("azb-arena", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, qi.arena_bytes)) {
		perror("azb-hostile: memfd");
		exit(1);
	}
	p = mmap(NULL, qi.arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		 0);
	a.arena_addr = (uintptr_t)p;
	EXPECT(p != MAP_FAILED && ioctl(fd, AZBUSE_IOC_ATTACH_QUEUE, &a) == 0,
	       "an arena on a memfd was refused: %s", strerror(errno));
	close(fd);
	munmap(p, qi.arena_bytes);
	close(mfd);
}

/* ADD and REMOVE of one id from two threads: each answer a sane one. */
static unsigned long race_rounds;

static void *race_remove(void *arg)
{
	int fd = open_ctl();
	unsigned long i;

	(void)arg;
	for (i = 0; i < race_rounds * 4; i++) {
		struct azbuse_dev_id d = { .size = sizeof(d), .dev_id = 77 };

		errno = 0;
		EXPECT(ioctl(fd, AZBUSE_CTL_REMOVE, &d) == 0 || errno == ENODEV,
		       "REMOVE racing ADD: errno %d", errno);
	}
	close(fd);
	return NULL;
}

static void cmd_addrace(unsigned long n)
{
	int fd = open_ctl();
	pthread_t t;
	unsigned long i, added = 0;

	race_rounds = n;
	pthread_create(&t, NULL, race_remove, NULL);
	for (i = 0; i < n; i++) {
		struct azbuse_dev_info info;

		valid_info(&info);
		info.dev_id = 77;
		errno = 0;
		if (ioctl(fd, AZBUSE_CTL_ADD, &info) == 0) {
			added++;
			EXPECT(info.dev_id == 77 && info.blk_major &&
			       info.chr_major && info.size == sizeof(info),
			       "ADD answered id %u majors %u/%u", info.dev_id,
			       info.blk_major, info.chr_major);
		} else {
			EXPECT(errno == EEXIST, "ADD racing REMOVE: errno %d",
			       errno);
		}
	}
	pthread_join(t, NULL);
	{
		struct azbuse_dev_id d = { .size = sizeof(d), .dev_id = 77 };

		ioctl(fd, AZBUSE_CTL_REMOVE, &d);
	}
	printf("%lu of %lu ADDs won the race\n", added, n);
	close(fd);
}

/* uffdattach: the server of queue 0 runs in a thread until told to stop. */
static volatile bool uffd_stop;

static void *uffd_serve(void *arg)
{
	struct mserver *s = arg;
	struct azbuse_sqe e;

	while (!uffd_stop) {
		while (mserver_next(s, &e))
			mserver_post(s, e.tag, e.gen, mserver_do(s, &e));
		if (mserver_commit(s, 20) < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

struct uffd_attach {
	int fd;
	struct azbuse_queue_attach a;
	int ret, err;
};

static void *uffd_do_attach(void *arg)
{
	struct uffd_attach *u = arg;

	u->ret = ioctl(u->fd, AZBUSE_IOC_ATTACH_QUEUE, &u->a);
	u->err = errno;
	return NULL;
}

/* Reads one block through queue 0: from a thread on one of its CPUs. */
struct q0_read {
	const char *path;
	int cpu;
	int ok;
};

static void *q0_reader(void *arg)
{
	struct q0_read *r = arg;
	cpu_set_t set;
	void *buf;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	fd = open(r->path, O_RDONLY | O_DIRECT);
	if (fd >= 0 && !posix_memalign(&buf, 4096, 4096)) {
		r->ok = pread(fd, buf, 4096, 0) == 4096;
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Waits up to secs for a thread to finish; false if it did not. */
static bool join_within(pthread_t t, int secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

/* GET_INFO on the control device; state is left 0 if it failed. */
static void *ctl_get_info(void *arg)
{
	struct azbuse_dev_info *info = arg;
	int ctl = open_ctl();

	if (ioctl(ctl, AZBUSE_CTL_GET_INFO, info) < 0)
		info->state = 0;
	close(ctl);
	return NULL;
}

static void cmd_uffdattach(uint32_t id)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy cp = { 0 };
	struct azbuse_queue_info qi = { .size = sizeof(qi), .qid = 0 };
	struct azbuse_dev_info info = { .size = sizeof(info) };
	struct uffd_attach u = { .ret = -1 };
	struct q0_read r = { 0 };
	struct pollfd pfd;
	struct mserver s;
	pthread_t server, att, reader, ctl_t;
	uint64_t mask[16] = { 0 };
	char blk[64];
	void *arena, *zeros;
	int uffd, c;

	mserver_open(&s, id, 2);
	pthread_create(&server, NULL, uffd_serve, &s);

	/* Queue 1's arena: no page until the fault handler says so. */
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("azb-hostile: userfaultfd");
		exit(1);
	}
	arena = mmap(NULL, s.m.qi.arena_bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)arena;
	reg.range.len = s.m.qi.arena_bytes;
	if (arena == MAP_FAILED || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		perror("azb-hostile: UFFDIO_REGISTER");
		exit(1);
	}
	u.fd = s.fd;
	u.a.size = sizeof(u.a);
	u.a.qid = 1;
	u.a.arena_addr = (uintptr_t)arena;
	u.a.arena_bytes = s.m.qi.arena_bytes;
	pthread_create(&att, NULL, uffd_do_attach, &u);
	pfd.fd = uffd;
	pfd.events = POLLIN;
	EXPECT(poll(&pfd, 1, 10000) == 1, "queue 1's attach never faulted");
	printf("queue 1's attach waits on a page fault\n");
	fflush(stdout);

	/* Meanwhile the control device answers... */
	info.dev_id = id;
	pthread_create(&ctl_t, NULL, ctl_get_info, &info);
	EXPECT(join_within(ctl_t, 20) && info.state,
	       "GET_INFO did not answer while an attach waits");
	/* ...and queue 0 serves I/O. */
	qi.cpus_ptr = (uintptr_t)mask;
	qi.cpus_bytes = sizeof(mask);
	EXPECT(ioctl(s.fd, AZBUSE_IOC_GET_QUEUE_INFO, &qi) == 0,
	       "QUEUE_INFO while an attach waits: errno %d", errno);
	for (c = 0; c < 1024 && !(mask[c / 64] & (1ull << (c % 64))); c++)
		;
	snprintf(blk, sizeof(blk), "/dev/azbuse%u", id);
	r.path = blk;
	r.cpu = c;
	pthread_create(&reader, NULL, q0_reader, &r);
	EXPECT(join_within(reader, 20) && r.ok,
	       "a read on queue 0 (CPU %d) while queue 1's attach waits "
	       "did not complete", c);
	printf("queue 0 served a read on CPU %d meanwhile\n", c);

	/*
	 * Let the attach finish: every page of the arena, copied in (a zero
	 * page would have to be broken for the pin's write on top).
	 */
	zeros = calloc(1, s.m.qi.arena_bytes);
	cp.dst = (uintptr_t)arena;
	cp.src = (uintptr_t)zeros;
	cp.len = s.m.qi.arena_bytes;
	EXPECT(zeros && (ioctl(uffd, UFFDIO_COPY, &cp) == 0 || errno == EEXIST),
	       "UFFDIO_COPY: errno %d", errno);
	free(zeros);
	EXPECT(join_within(att, 30), "queue 1's attach did not finish");
	/*
	 * 6.1's long-term GUP faults without FAULT_FLAG_ALLOW_RETRY's retry
	 * path: once the fault is resolved, the pin fails with EFAULT.
	 */
	EXPECT(u.ret == 0 || u.err == EFAULT,
	       "queue 1's attach failed: errno %d", u.err);
	printf("queue 1's attach %s\n", u.ret == 0 ? "succeeded" :
	       "failed with EFAULT once the fault was resolved");
	uffd_stop = true;
	pthread_join(server, NULL);
	close(s.fd);
	close(uffd);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "ctl")) {
		rng = num(argv[2]) | 1;
		cmd_ctl(num(argv[3]));
	} else if (argc == 5 && !strcmp(argv[1], "chr")) {
		rng = num(argv[3]) | 1;
		cmd_chr(num(argv[2]), num(argv[4]));
	} else if (argc == 3 && !strcmp(argv[1], "stall")) {
		cmd_stall(num(argv[2]));
	} else if (argc == 3 && !strcmp(argv[1], "unpriv")) {
		cmd_unpriv(num(argv[2]));
	} else if (argc == 4 && !strcmp(argv[1], "lateread")) {
		rng = 1;
		cmd_lateread(num(argv[2]), num(argv[3]));
	} else if (argc == 3 && !strcmp(argv[1], "stale")) {
		rng = 7;
		cmd_stale(num(argv[2]));
	} else if (argc == 4 && !strcmp(argv[1], "filearena")) {
		cmd_filearena(num(argv[2]), argv[3]);
	} else if (argc == 3 && !strcmp(argv[1], "addrace")) {
		cmd_addrace(num(argv[2]));
	} else if (argc == 3 && !strcmp(argv[1], "uffdattach")) {
		cmd_uffdattach(num(argv[2]));
	} else if (argc == 4 && !strcmp(argv[1], "redirect")) {
		cmd_redirect(num(argv[2]), argv[3]);
	} else {
		fprintf(stderr, "usage: azb-hostile ctl SEED N | chr ID SEED N | "
			"stall ID | unpriv ID | lateread ID SECTOR | stale ID | "
			"filearena ID FILE | addrace N | uffdattach ID | "
			"redirect ID FILE\n");
		return 2;
	}
	printf("azb-hostile %s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
