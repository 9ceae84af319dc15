// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * azb-hostile redirect ID FILE: a runtime that redirects (AZBUSE_FEAT_
 * REDIRECT) and gets it wrong in every way it can.
 *
 * SET_FILES first: bad structs, bad descriptors, the device itself, a
 * pipe, a read-only file for a writable use, and all-or-nothing on a
 * partly bad list.  Then queue 0 is served with AZBUSE_ATTACH_REDIRECT by
 * a thread while this one does one O_DIRECT request at a time at a known
 * offset; the server answers that request as the scenario says (every
 * other request, a partition probe say, gets a good redirect).  A bad
 * answer must fail that request alone with EIO, and COMMIT must say
 * EINVAL; the good ones must move the right bytes to and from FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hostile.h"

#define RD_OFF		(1u << 20)	/* where the scripted requests go */
#define RD_LEN		(64u << 10)
#define RD_SLOT_RW	0		/* FILE, read-write */
#define RD_SLOT_RO	1		/* FILE, read-only */

enum rd_answer {
	RD_GOOD,		/* one extent: FILE at the same offset */
	RD_SCATTER,		/* four extents, in reverse order in FILE */
	RD_HOLE_HEAD,		/* first 4 KiB a hole, the rest good */
	RD_EMPTY_SLOT,		/* a slot nobody registered */
	RD_SLOT_64,		/* slot numbers past the table */
	RD_SLOT_BIG,
	RD_MISALIGNED_OFF,
	RD_MISALIGNED_LEN,
	RD_OVERLAP,
	RD_SHORT,		/* extents cover less than the request */
	RD_LONG,		/* and more */
	RD_ZERO_LEN,
	RD_PAST_FILE,
	RD_NONE,		/* zero extents */
	RD_TOO_MANY,		/* AZBUSE_MAX_EXTENTS + 1 */
	RD_READ_ONLY,		/* a write to the read-only slot */
	RD_HOLE_WRITE,		/* a write naming a hole */
	RD_PLAIN,		/* a plain "done": no data was ever sent */
	RD_BAD_FLAG,		/* an unknown CQE flag, then the good answer */
};

static const char *const rd_names[] = {
	"good", "scatter", "hole-head", "empty-slot", "slot-64", "slot-big",
	"misaligned-offset", "misaligned-length", "overlap", "short", "long",
	"zero-length", "past-file", "no-extents", "too-many", "read-only",
	"hole-write", "plain-answer", "bad-flag",
};

static struct mserver srv;
static uint64_t file_bytes;
static volatile enum rd_answer answer;
/*
 * The scripted request's number (rd_io counts them) and, once its COMMIT
 * returned, that COMMIT's errno, published under the number it answered.
 * A good answer's read may end before its COMMIT returns, so a bare errno
 * could be the last request's, landing after the next one began.
 */
static unsigned int rd_seq, commit_seq;
static int commit_errno;
static volatile bool serving = true;

static void put_extent(struct azbuse_extent *x, uint32_t file, uint32_t len,
		       uint64_t off)
{
	x->file = file;
	x->len = len;
	x->offset = off;
}

/* Writes the scenario's extents to the slot; returns how many (or -1). */
static int rd_extents(const struct azbuse_sqe *e, struct azbuse_extent *x)
{
	uint64_t off = e->sector << 9;
	uint32_t len = e->nr_bytes, q = len / 4;
	int i;

	switch (answer) {
	case RD_GOOD:
	case RD_BAD_FLAG:
		put_extent(x, RD_SLOT_RW, len, off);
		return 1;
	case RD_SCATTER:
		/* Part i of the request at the (3 - i)th quarter in FILE. */
		for (i = 0; i < 4; i++)
			put_extent(&x[i], RD_SLOT_RW, q, off + (3 - i) * q);
		return 4;
	case RD_HOLE_HEAD:
		put_extent(&x[0], AZBUSE_FILE_HOLE, 4096, 0);
		put_extent(&x[1], RD_SLOT_RW, len - 4096, off + 4096);
		return 2;
	case RD_EMPTY_SLOT:
		put_extent(x, 7, len, off);
		return 1;
	case RD_SLOT_64:
		put_extent(x, AZBUSE_MAX_FILES, len, off);
		return 1;
	case RD_SLOT_BIG:
		put_extent(x, 0x7fffffff, len, off);
		return 1;
	case RD_MISALIGNED_OFF:
		put_extent(x, RD_SLOT_RW, len, off + 1);
		return 1;
	case RD_MISALIGNED_LEN:
		put_extent(&x[0], RD_SLOT_RW, 511, off);
		put_extent(&x[1], RD_SLOT_RW, len - 511, off + 511);
		return 2;
	case RD_OVERLAP:
		put_extent(&x[0], RD_SLOT_RW, len / 2, off);
		put_extent(&x[1], RD_SLOT_RW, len / 2, off + 4096);
		return 2;
	case RD_SHORT:
		put_extent(x, RD_SLOT_RW, len - 4096, off);
		return 1;
	case RD_LONG:
		put_extent(&x[0], RD_SLOT_RW, len, off);
		put_extent(&x[1], RD_SLOT_RW, 4096, off + 2 * len);
		return 2;
	case RD_ZERO_LEN:
		put_extent(&x[0], RD_SLOT_RW, 0, off);
		put_extent(&x[1], RD_SLOT_RW, len, off);
		return 2;
	case RD_PAST_FILE:
		put_extent(x, RD_SLOT_RW, len, file_bytes - 4096);
		return 1;
	case RD_NONE:
		return 0;
	case RD_TOO_MANY:
		for (i = 0; i <= AZBUSE_MAX_EXTENTS; i++)
			put_extent(&x[i], AZBUSE_FILE_HOLE, 512, 0);
		return AZBUSE_MAX_EXTENTS + 1;
	case RD_READ_ONLY:
		put_extent(x, RD_SLOT_RO, len, off);
		return 1;
	case RD_HOLE_WRITE:
		put_extent(x, AZBUSE_FILE_HOLE, len, 0);
		return 1;
	case RD_PLAIN:
		return -1;
	}
	return -1;
}

static void *rd_serve(void *arg)
{
	(void)arg;
	while (serving) {
		struct azbuse_sqe e;
		bool scripted = false;
		unsigned int seq = 0;
		int ret;

		while (mserver_next(&srv, &e)) {
			struct azbuse_extent *x = (void *)mserver_slot(&srv, e.tag);
			int n;

			if (e.op != AZBUSE_OP_READ && e.op != AZBUSE_OP_WRITE) {
				mserver_post(&srv, e.tag, e.gen, 0);
				continue;
			}
			EXPECT(e.op == AZBUSE_OP_READ ||
			       (e.flags & AZBUSE_IO_F_NODATA),
			       "a WRITE on a redirect queue came with its data");
			if ((e.sector << 9) != RD_OFF) {
				put_extent(x, RD_SLOT_RW, e.nr_bytes, e.sector << 9);
				mserver_post_flags(&srv, e.tag, e.gen, 1,
						   AZBUSE_CQE_F_REDIRECT);
				continue;
			}
			scripted = true;
			seq = __atomic_load_n(&rd_seq, __ATOMIC_ACQUIRE);
			if (answer == RD_BAD_FLAG) {
				/* Refused without ending it; then answered. */
				mserver_post_flags(&srv, e.tag, e.gen, 1, 1u << 7);
				ret = mserver_commit(&srv, 0);
				EXPECT(ret < 0 && errno == EINVAL,
				       "an unknown CQE flag was taken: %d errno %d",
				       ret, errno);
			}
			n = rd_extents(&e, x);
			if (n < 0)
				mserver_post(&srv, e.tag, e.gen, e.nr_bytes);
			else
				mserver_post_flags(&srv, e.tag, e.gen, n,
						   AZBUSE_CQE_F_REDIRECT);
		}
		ret = mserver_commit(&srv, 50);
		if (scripted) {
			commit_errno = ret < 0 ? errno : 0;
			__atomic_store_n(&commit_seq, seq, __ATOMIC_RELEASE);
		}
		if (ret < 0 && errno == ENODEV)
			break;
	}
	return NULL;
}

static int set_files(int fd, uint32_t first, uint32_t nr, uint32_t flags,
		     const int32_t *fds)
{
	struct azbuse_files f = {
		.size = sizeof(f), .first = first, .nr = nr, .flags = flags,
		.fds_ptr = (uintptr_t)fds,
	};

	return ioctl(fd, AZBUSE_IOC_SET_FILES, &f) < 0 ? errno : 0;
}

/* Every bad registration refused, with the errno it deserves. */
static void rd_set_files_checks(uint32_t id, int rw, int ro)
{
	struct azbuse_files f = { .size = sizeof(f), .nr = 1 };
	int32_t fds[AZBUSE_MAX_FILES + 1], two[2];
	int pipefd[2], self, err, i;
	char path[64];

	for (i = 0; i <= AZBUSE_MAX_FILES; i++)
		fds[i] = rw;
	f.fds_ptr = (uintptr_t)fds;
	f.size = sizeof(f) - 8;
	EXPECT(ioctl(srv.fd, AZBUSE_IOC_SET_FILES, &f) < 0 && errno == EINVAL,
	       "size %u taken: errno %d", f.size, errno);
	f.size = sizeof(f) + 8;
	EXPECT(ioctl(srv.fd, AZBUSE_IOC_SET_FILES, &f) < 0 && errno == EINVAL,
	       "size %u taken: errno %d", f.size, errno);
	f.size = sizeof(f);
	f.reserved[1] = 1;
	EXPECT(ioctl(srv.fd, AZBUSE_IOC_SET_FILES, &f) < 0 && errno == EINVAL,
	       "reserved bits taken: errno %d", errno);
	f.reserved[1] = 0;
	f.flags = 1u << 5;
	EXPECT(ioctl(srv.fd, AZBUSE_IOC_SET_FILES, &f) < 0 && errno == EINVAL,
	       "unknown flag taken: errno %d", errno);
	f.flags = 0;
	f.fds_ptr = 16;
	EXPECT(ioctl(srv.fd, AZBUSE_IOC_SET_FILES, &f) < 0 && errno == EFAULT,
	       "a bad fds pointer: errno %d", errno);
	f.fds_ptr = (uintptr_t)fds;
	err = set_files(srv.fd, 0, 0, 0, fds);
	EXPECT(err == EINVAL, "nr 0: errno %d", err);
	err = set_files(srv.fd, AZBUSE_MAX_FILES, 1, 0, fds);
	EXPECT(err == EINVAL, "first %u: errno %d", AZBUSE_MAX_FILES, err);
	err = set_files(srv.fd, 1, AZBUSE_MAX_FILES, 0, fds);
	EXPECT(err == EINVAL, "slots past the table: errno %d", err);
	err = set_files(srv.fd, 0xffffffff, 2, 0, fds);
	EXPECT(err == EINVAL, "first + nr wrapping: errno %d", err);
	two[0] = -5;
	err = set_files(srv.fd, 0, 1, 0, two);
	EXPECT(err == EBADF, "fd -5: errno %d", err);
	two[0] = 100000;
	err = set_files(srv.fd, 0, 1, 0, two);
	EXPECT(err == EBADF, "fd 100000: errno %d", err);

	if (pipe(pipefd) == 0) {
		err = set_files(srv.fd, 0, 1, 0, pipefd);
		EXPECT(err == EINVAL, "a pipe: errno %d", err);
		close(pipefd[0]);
		close(pipefd[1]);
	}
	snprintf(path, sizeof(path), "/dev/azbuse%u", id);
	self = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	EXPECT(self >= 0, "%s: %s", path, strerror(errno));
	if (self >= 0) {
		err = set_files(srv.fd, 0, 1, 0, &self);
		EXPECT(err == ELOOP, "the device itself: errno %d", err);
		close(self);
	}
	err = set_files(srv.fd, 0, 1, 0, &ro);
	EXPECT(err == EBADF, "a read-only fd for a writable device: errno %d", err);

	/* All or nothing: slot 7 stays empty when slot 8's fd is bad. */
	two[0] = rw;
	two[1] = -7;
	err = set_files(srv.fd, 7, 2, 0, two);
	EXPECT(err == EBADF, "a list with a bad fd: errno %d", err);

	err = set_files(srv.fd, RD_SLOT_RW, 1, 0, &rw);
	EXPECT(!err, "registering FILE: errno %d", err);
	err = set_files(srv.fd, RD_SLOT_RO, 1, AZBUSE_FILE_F_READ_ONLY, &ro);
	EXPECT(!err, "registering FILE read-only: errno %d", err);
}

/* One scripted request; returns 0 or the errno it failed with. */
static int rd_io(int blk, bool write, void *buf, enum rd_answer a)
{
	ssize_t n;

	answer = a;
	__atomic_store_n(&rd_seq, rd_seq + 1, __ATOMIC_RELEASE);
	n = write ? pwrite(blk, buf, RD_LEN, RD_OFF) :
		    pread(blk, buf, RD_LEN, RD_OFF);
	if (n == RD_LEN)
		return 0;
	return n < 0 ? errno : EIO;
}

/* A bad answer: that request fails with EIO and COMMIT says EINVAL. */
static void rd_bad(int blk, bool write, void *buf, enum rd_answer a)
{
	int err = rd_io(blk, write, buf, a), i;
	unsigned int seen = 0;

	EXPECT(err == EIO, "%s %s: errno %d, want EIO", rd_names[a],
	       write ? "write" : "read", err);
	for (i = 0; i < 100; i++) {
		seen = __atomic_load_n(&commit_seq, __ATOMIC_ACQUIRE);
		if (seen == rd_seq)
			break;
		usleep(10000);
	}
	EXPECT(seen == rd_seq && commit_errno == EINVAL,
	       "%s %s: COMMIT errno %d, want EINVAL%s", rd_names[a],
	       write ? "write" : "read", commit_errno,
	       seen == rd_seq ? "" : " (no COMMIT for it in 1 s)");
}

void cmd_redirect(uint32_t id, const char *file)
{
	unsigned char *buf, *got, *want;
	char path[64];
	pthread_t server;
	struct stat st;
	int rw, ro, blk, err, i;

	mserver_open_flags(&srv, id, 1, AZBUSE_ATTACH_REDIRECT);
	rw = open(file, O_RDWR | O_CLOEXEC);
	ro = open(file, O_RDONLY | O_CLOEXEC);
	if (rw < 0 || ro < 0 || fstat(rw, &st) ||
	    (uint64_t)st.st_size < srv.info.dev_bytes) {
		fprintf(stderr, "azb-hostile: %s: need a file of at least %llu bytes\n",
			file, (unsigned long long)srv.info.dev_bytes);
		exit(1);
	}
	file_bytes = st.st_size;
	rd_set_files_checks(id, rw, ro);
	pthread_create(&server, NULL, rd_serve, NULL);

	snprintf(path, sizeof(path), "/dev/azbuse%u", id);
	blk = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (blk < 0 || posix_memalign((void **)&buf, 4096, RD_LEN) ||
	    posix_memalign((void **)&got, 4096, RD_LEN) ||
	    !(want = malloc(RD_LEN))) {
		perror("azb-hostile: redirect set-up");
		exit(1);
	}
	printf("serving\n");
	fflush(stdout);

	/* Good: written to FILE at the same offset, read back from it. */
	for (i = 0; i < (int)RD_LEN; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	err = rd_io(blk, true, buf, RD_GOOD);
	EXPECT(!err, "good write: errno %d", err);
	err = rd_io(blk, false, got, RD_GOOD);
	EXPECT(!err && !memcmp(got, buf, RD_LEN), "good read: errno %d or other bytes", err);
	EXPECT(pread(rw, want, RD_LEN, RD_OFF) == RD_LEN &&
	       !memcmp(want, buf, RD_LEN), "FILE does not hold the written bytes");

	/* Scatter: each quarter lands where the map says. */
	for (i = 0; i < (int)RD_LEN; i++)
		buf[i] = (unsigned char)(i * 13 + 1);
	err = rd_io(blk, true, buf, RD_SCATTER);
	EXPECT(!err, "scatter write: errno %d", err);
	EXPECT(pread(rw, want, RD_LEN, RD_OFF) == RD_LEN, "reading FILE");
	for (i = 0; i < 4; i++)
		EXPECT(!memcmp(want + (3 - i) * (RD_LEN / 4), buf + i * (RD_LEN / 4),
			       RD_LEN / 4), "scatter: quarter %d misplaced", i);
	err = rd_io(blk, false, got, RD_SCATTER);
	EXPECT(!err && !memcmp(got, buf, RD_LEN), "scatter read: errno %d or other bytes", err);

	/* A hole reads as zeros, the rest from FILE. */
	memset(got, 0xee, RD_LEN);
	err = rd_io(blk, false, got, RD_HOLE_HEAD);
	EXPECT(!err, "hole read: errno %d", err);
	EXPECT(!memcmp(got + 4096, want + 4096, RD_LEN - 4096),
	       "hole read: the data part differs");
	for (i = 0; i < 4096; i++)
		if (got[i]) {
			EXPECT(0, "hole read: byte %d is %#x", i, got[i]);
			break;
		}

	rd_bad(blk, false, got, RD_EMPTY_SLOT);
	rd_bad(blk, false, got, RD_SLOT_64);
	rd_bad(blk, false, got, RD_SLOT_BIG);
	rd_bad(blk, false, got, RD_MISALIGNED_OFF);
	rd_bad(blk, false, got, RD_MISALIGNED_LEN);
	rd_bad(blk, true, buf, RD_OVERLAP);
	rd_bad(blk, false, got, RD_SHORT);
	rd_bad(blk, false, got, RD_LONG);
	rd_bad(blk, false, got, RD_ZERO_LEN);
	rd_bad(blk, false, got, RD_PAST_FILE);
	rd_bad(blk, false, got, RD_NONE);
	rd_bad(blk, false, got, RD_TOO_MANY);
	rd_bad(blk, true, buf, RD_READ_ONLY);
	rd_bad(blk, true, buf, RD_HOLE_WRITE);
	rd_bad(blk, true, buf, RD_PLAIN);
	/* A read may come from the read-only slot. */
	err = rd_io(blk, false, got, RD_READ_ONLY);
	EXPECT(!err && !memcmp(got, want, RD_LEN),
	       "read from the read-only slot: errno %d or other bytes", err);

	/* None of that changed FILE; the unknown flag is refused alone. */
	err = rd_io(blk, false, got, RD_BAD_FLAG);
	EXPECT(!err && !memcmp(got, want, RD_LEN),
	       "after the bad answers: errno %d or other bytes", err);

	serving = false;
	pthread_join(server, NULL);
	close(blk);
	close(srv.fd);
	close(rw);
	close(ro);
}
