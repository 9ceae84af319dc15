// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rbd engine against a real single-node Ceph cluster (ci/ceph/cluster:
 * ceph-mon and a memstore ceph-osd on 127.0.0.1 in a temporary directory),
 * served by the real poller: data round trips at full queue depth with a
 * handle per queue and a shared one, one handle by default on a writable
 * image, every op and flag, zeroes and
 * discards read back, a snapshot served read-only with its own data, bad
 * targets and options, and the OSD stopped under I/O (ETIMEDOUT with
 * op_timeout, then I/O again once it is back).  Skips when Ceph is not
 * installed.
 */
#include <errno.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ring_emul.h"
#include "check.h"

#define DEPTH	16
#define MAX_IO	(128u << 10)
#define IMG_MB	64
#define DEV	((uint64_t)IMG_MB << 20)
#define OBJ	(4u << 20)	/* RBD's default object size */

static const struct azb_engine_ops *ops;
static char dir[] = "/tmp/azb-test-rbd.XXXXXX";
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* Runs "ci/ceph/cluster ARGS DIR ..."; returns its exit status. */
static int cluster(const char *verb, const char *extra)
{
	char cmd[512];
	int rc;

	snprintf(cmd, sizeof(cmd), "ci/ceph/cluster %s %s %s >/dev/null",
		 verb, dir, extra ? extra : "");
	rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static int rig_open(struct azb_emul_served *r, const char *target,
		    const char *params, bool ro)
{
	struct azb_engine_opts o = {
		.size = sizeof(o), .read_only = ro, .params = params,
	};

	return azb_emul_served_open(r, ops, target, &o, AZB_POLL_ADAPTIVE,
				    DEPTH, MAX_IO);
}

/* Full-depth random writes and reads checked against a shadow copy. */
static void test_data(const char *params)
{
	static unsigned char shadow[2 << 20];
	const uint64_t base = 8ull << 20;
	struct azb_emul_served r;
	int rc;

	if (rig_open(&r, "rbd/img", params, false)) {
		FAIL("cannot serve rbd/img with %s", params);
		return;
	}
	CHECK(r.e.dev_bytes == DEV, "size %llu", (unsigned long long)r.e.dev_bytes);
	CHECK(r.e.dev_flags & AZB_DEV_DISCARD, "discard not offered");
	CHECK(r.e.dev_flags & AZB_DEV_WRITE_ZEROES, "write-zeroes not offered");
	CHECK(!(r.e.dev_flags & AZB_DEV_READ_ONLY), "writable image");
	CHECK(r.e.discard_granularity >= 4096 &&
	      !(r.e.discard_granularity & (r.e.discard_granularity - 1)),
	      "discard granularity %u", r.e.discard_granularity);
	memset(shadow, 0, sizeof(shadow));
	/* Start from zeroes: an earlier run may have written here. */
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, 0, base,
				sizeof(shadow));
	CHECK(rc == (int)sizeof(shadow), "zeroing the test range: %d", rc);
	rc = azb_emul_served_shadow(&r, base, shadow, sizeof(shadow), 20, 32,
				    &rng);
	CHECK(!rc, "%s: %d requests failed or read wrong data", params, rc);
	azb_emul_served_close(&r);
	CHECK(!r.em.bad, "%llu CQEs refused", (unsigned long long)r.em.bad);
}

/* Reads len bytes at off through r; true if all of them are byte b. */
static bool reads_as(struct azb_emul_served *r, uint64_t off, uint32_t len,
		     unsigned char b)
{
	unsigned char *slot = azb_emul_slot(&r->em, 0);
	uint32_t i;

	memset(slot, b ^ 0xff, len);
	if (azb_emul_served_io(r, AZBUSE_OP_READ, 0, off, len) != (int)len)
		return false;
	for (i = 0; i < len && slot[i] == b; i++)
		;
	return i == len;
}

static int32_t write_byte(struct azb_emul_served *r, uint32_t flags,
			  uint64_t off, uint32_t len, unsigned char b)
{
	memset(azb_emul_slot(&r->em, 0), b, len);
	return azb_emul_served_io(r, AZBUSE_OP_WRITE, flags, off, len);
}

/* Every op and flag succeeds and does what it says. */
static void test_ops(void)
{
	const uint64_t at = 16ull << 20;	/* object-aligned */
	struct azb_emul_served r;
	int rc;

	if (rig_open(&r, "rbd/img", NULL, false)) {
		FAIL("cannot serve rbd/img");
		return;
	}
	rc = write_byte(&r, AZBUSE_IO_F_FUA, at, 65536, 0xab);
	CHECK(rc == 65536, "FUA write: %d", rc);
	CHECK(reads_as(&r, at, 65536, 0xab), "FUA write did not land");
	rc = azb_emul_served_io(&r, AZBUSE_OP_FLUSH, 0, 0, 0);
	CHECK(rc == 0, "flush: %d", rc);
	rc = write_byte(&r, AZBUSE_IO_F_PREFLUSH | AZBUSE_IO_F_FUA, at + 65536,
			4096, 0xcd);
	CHECK(rc == 4096, "PREFLUSH+FUA write: %d", rc);
	CHECK(reads_as(&r, at + 65536, 4096, 0xcd), "PREFLUSH write did not land");
	/* Write-zeroes, with and without NOUNMAP, reads back as zeroes. */
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, AZBUSE_IO_F_NOUNMAP,
				at, 8192);
	CHECK(rc == 8192, "write zeroes NOUNMAP: %d", rc);
	rc = azb_emul_served_io(&r, AZBUSE_OP_WRITE_ZEROES, 0, at + 8192, 8192);
	CHECK(rc == 8192, "write zeroes: %d", rc);
	CHECK(reads_as(&r, at, 16384, 0), "zeroed range is not zeroes");
	CHECK(reads_as(&r, at + 16384, 4096, 0xab), "zeroing went too far");
	/* A discard of whole objects removes them: zeroes. */
	CHECK(write_byte(&r, 0, at + OBJ, 65536, 0x11) == 65536, "write");
	rc = azb_emul_served_io(&r, AZBUSE_OP_DISCARD, 0, at + OBJ, OBJ);
	CHECK(rc == (int)OBJ, "discard of an object: %d", rc);
	CHECK(reads_as(&r, at + OBJ, 65536, 0), "discarded object is not zeroes");
	/* One below librbd's granularity succeeds (and may keep the data). */
	rc = azb_emul_served_io(&r, AZBUSE_OP_DISCARD, 0, at + 65536, 4096);
	CHECK(rc == 4096, "small discard: %d", rc);
	/* Past the end of the image: refused by librbd, an error. */
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, DEV, 4096);
	CHECK(rc < 0, "read past the image: %d", rc);
	azb_emul_served_close(&r);
}

/* The test's own handle on rbd/img, outside the engine. */
struct admin {
	rados_t		cl;
	rados_ioctx_t	ioctx;
	rbd_image_t	img;
	int		stage;	/* what close_image() undoes */
};

static int open_image(struct admin *a, bool read_only)
{
	int rc;

	a->stage = 0;
	rc = rados_create(&a->cl, "admin");
	if (rc)
		return rc;
	a->stage = 1;
	rc = rados_conf_read_file(a->cl, NULL);
	if (!rc)
		rc = rados_connect(a->cl);
	if (!rc)
		rc = rados_ioctx_create(a->cl, "rbd", &a->ioctx);
	if (rc)
		return rc;
	a->stage = 2;
	rc = read_only ? rbd_open_read_only(a->ioctx, "img", &a->img, NULL) :
			 rbd_open(a->ioctx, "img", &a->img, NULL);
	if (!rc)
		a->stage = 3;
	return rc;
}

static void close_image(struct admin *a)
{
	if (a->stage >= 3)
		rbd_close(a->img);
	if (a->stage >= 2)
		rados_ioctx_destroy(a->ioctx);
	if (a->stage >= 1)
		rados_shutdown(a->cl);
	a->stage = 0;
}

/* Watchers of the image's header, one per writable handle; -1 on error. */
static int watchers(void)
{
	rbd_image_watcher_t w[16];
	size_t n = 16;
	struct admin a;
	int rc = open_image(&a, true);

	if (!rc)
		rc = rbd_watchers_list(a.img, w, &n);
	if (!rc)
		rbd_watchers_list_cleanup(w, n);
	close_image(&a);
	return rc ? -1 : (int)n;
}

/*
 * A writable device keeps one image handle by default: librbd's
 * write-around cache acks a write before the OSD has it and holds back
 * only reads of the same handle until then.  handles=queue adds one per
 * queue (the rig has one queue).
 */
static void test_handles(void)
{
	struct azb_emul_served r;
	int base = watchers(), n;

	CHECK(base >= 0, "cannot list the watchers of rbd/img");
	if (rig_open(&r, "rbd/img", NULL, false)) {
		FAIL("cannot serve rbd/img");
		return;
	}
	n = watchers();
	CHECK(n == base + 1, "a writable device holds %d image handles, want 1",
	      n - base);
	azb_emul_served_close(&r);
	if (rig_open(&r, "rbd/img", "handles=queue", false)) {
		FAIL("cannot serve rbd/img with handles=queue");
		return;
	}
	n = watchers();
	CHECK(n == base + 2, "handles=queue with one queue holds %d image handles, want 2",
	      n - base);
	azb_emul_served_close(&r);
}

/* A snapshot is served read-only and holds the data of its time. */
static void test_snapshot(void)
{
	const uint64_t at = 32ull << 20;
	struct azb_emul_served r, s;
	struct admin a;
	int rc;

	if (rig_open(&r, "rbd/img", NULL, false)) {
		FAIL("cannot serve rbd/img");
		return;
	}
	CHECK(write_byte(&r, 0, at, 4096, 0x01) == 4096, "write before snap");
	rc = open_image(&a, false);
	if (!rc) {
		rbd_snap_remove(a.img, "s1");
		rc = rbd_snap_create(a.img, "s1");
	}
	close_image(&a);
	if (rc) {
		FAIL("cannot make snapshot s1: %s", strerror(-rc));
		azb_emul_served_close(&r);
		return;
	}
	CHECK(write_byte(&r, 0, at, 4096, 0x02) == 4096, "write after snap");
	if (rig_open(&s, "rbd/img@s1", NULL, false)) {
		FAIL("cannot serve rbd/img@s1");
	} else {
		CHECK(s.e.dev_flags & AZB_DEV_READ_ONLY, "snapshot served writable");
		CHECK(!(s.e.dev_flags & (AZB_DEV_DISCARD | AZB_DEV_WRITE_ZEROES)),
		      "snapshot offers discard or write-zeroes");
		CHECK(reads_as(&s, at, 4096, 0x01), "snapshot has not the old data");
		azb_emul_served_close(&s);
	}
	CHECK(reads_as(&r, at, 4096, 0x02), "image has not the new data");
	azb_emul_served_close(&r);
}

static void test_bad_targets(void)
{
	static const char *const bad[] = {
		"", "/img", "rbd/", "rbd//img", "rbd/img@", "a/b/c/d",
		"nopool/img", "rbd/noimage", "rbd/img@nosnap",
	};
	static const char *const bad_params[] = {
		"bogus=1", "op_timeout=x", "op_timeout=-1", "op_timeout=99999",
		"handles=some", "conf", "id=", "conf=/nonexistent/ceph.conf",
	};
	struct azb_engine_opts o = { .size = sizeof(o) };
	struct azb_engine e = { .ops = ops };
	unsigned int i;
	int rc;

	CHECK(ops->open(&e, NULL, &o) == -EINVAL, "no target");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = ops->open(&e, bad[i], &o);
		CHECK(rc < 0, "target '%s' accepted", bad[i]);
		if (!rc)
			ops->close(&e);
	}
	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
		o.params = bad_params[i];
		rc = ops->open(&e, "rbd/img", &o);
		CHECK(rc < 0, "option '%s' accepted", bad_params[i]);
		if (!rc)
			ops->close(&e);
	}
	o.params = NULL;
	o.dev_bytes = DEV + 4096;
	CHECK(ops->open(&e, "rbd/img", &o) == -EINVAL, "-s beyond the image");
	o.dev_bytes = DEV / 2;
	rc = ops->open(&e, "img", &o);	/* pool rbd by default */
	CHECK(!rc && e.dev_bytes == DEV / 2, "-s below the image: %d", rc);
	if (!rc)
		ops->close(&e);
}

/*
 * The OSD stops: with op_timeout a read fails with ETIMEDOUT instead of
 * waiting; once the OSD is back the same handle reads again.
 */
static void test_osd_down(void)
{
	struct azb_emul_served r;
	time_t t0;
	int rc;

	if (rig_open(&r, "rbd/img", "op_timeout=3", false)) {
		FAIL("cannot serve rbd/img with op_timeout=3");
		return;
	}
	CHECK(write_byte(&r, 0, 40 << 20, 4096, 0x3c) == 4096, "write");
	rc = azb_emul_served_io(&r, AZBUSE_OP_FLUSH, 0, 0, 0);
	CHECK(rc == 0, "flush: %d", rc);
	if (cluster("osd-stop", NULL)) {
		FAIL("ci/ceph/cluster osd-stop failed");
		azb_emul_served_close(&r);
		return;
	}
	t0 = time(NULL);
	rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 40 << 20, 4096);
	CHECK(rc == -ETIMEDOUT, "read with the OSD down: %d", rc);
	CHECK(time(NULL) - t0 <= 20, "the failed read took %ld s",
	      (long)(time(NULL) - t0));
	if (cluster("osd-start", NULL)) {
		FAIL("ci/ceph/cluster osd-start failed");
	} else {
		rc = azb_emul_served_io(&r, AZBUSE_OP_READ, 0, 40 << 20, 4096);
		CHECK(rc == 4096, "read once the OSD is back: %d", rc);
	}
	azb_emul_served_close(&r);
}

int main(void)
{
	char arg[64];

	if (system("command -v ceph-mon ceph-osd >/dev/null 2>&1")) {
		printf("SKIP: Ceph (ceph-mon, ceph-osd) is not installed\n");
		return 77;
	}
	ops = azb_engine_find("rbd");
	if (!ops || !mkdtemp(dir)) {
		fprintf(stderr, "test_engine_rbd: no rbd engine or temp dir\n");
		return 1;
	}
	snprintf(arg, sizeof(arg), "--image rbd/img --size %d", IMG_MB);
	if (cluster("start", arg)) {
		fprintf(stderr, "test_engine_rbd: the cluster did not start (logs in %s)\n",
			dir);
		return 1;
	}
	snprintf(arg, sizeof(arg), "%s/ceph.conf", dir);
	setenv("CEPH_CONF", arg, 1);
	test_data("handles=queue");
	test_data("handles=device");
	test_handles();
	test_ops();
	test_snapshot();
	test_bad_targets();
	test_osd_down();
	cluster("stop", NULL);
	if (failures) {
		fprintf(stderr, "test_engine_rbd: %d check(s) failed (cluster logs in %s)\n",
			failures, dir);
		return 1;
	}
	snprintf(arg, sizeof(arg), "rm -rf %s", dir);
	if (system(arg))
		fprintf(stderr, "test_engine_rbd: could not remove %s\n", dir);
	printf("test_engine_rbd: ok\n");
	return 0;
}
