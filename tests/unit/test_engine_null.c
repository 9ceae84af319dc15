// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The null engine through its ops: found in the table, refuses a missing
 * size, completes every op at once and never touches the data buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azbuse.h>
#include "check.h"

#define AZB_BUF_BYTES	(64 << 10)

static void test_open(const struct azb_engine_ops *ops)
{
	struct azb_engine_opts o = { .size = sizeof(o) };
	struct azb_engine e = { .ops = ops };
	int rc;

	rc = ops->open(&e, NULL, &o);
	if (rc != -EINVAL)
		FAIL("open without a size: %d, want -EINVAL", rc);

	o.dev_bytes = 1ULL << 40;
	o.logical_bs = 4096;
	rc = ops->open(&e, NULL, &o);
	if (rc)
		FAIL("open of 1 TiB: %d", rc);
	if (e.dev_bytes != 1ULL << 40)
		FAIL("dev_bytes %llu, want 1 TiB", (unsigned long long)e.dev_bytes);
	if (e.logical_bs != 4096)
		FAIL("logical_bs %u, want 4096", e.logical_bs);
	if (!(e.dev_flags & AZB_DEV_DISCARD) ||
	    !(e.dev_flags & AZB_DEV_WRITE_ZEROES))
		FAIL("dev_flags 0x%llx lack discard or write-zeroes",
		     (unsigned long long)e.dev_flags);
	if (ops->close)
		ops->close(&e);
}

static void test_ops(const struct azb_engine_ops *ops)
{
	static const enum azb_op all[] = {
		AZB_OP_READ, AZB_OP_WRITE, AZB_OP_FLUSH, AZB_OP_DISCARD,
		AZB_OP_WRITE_ZEROES,
	};
	struct azb_engine_opts o = { .size = sizeof(o), .dev_bytes = 1 << 30 };
	struct azb_engine e = { .ops = ops };
	struct azb_engine_queue q = { .engine = &e, .depth = 1,
				      .max_io_bytes = AZB_BUF_BYTES };
	unsigned char *buf, *ref;
	struct azb_io io;
	size_t i;
	int rc;

	buf = malloc(AZB_BUF_BYTES);
	ref = malloc(AZB_BUF_BYTES);
	if (!buf || !ref) {
		FAIL("out of memory");
		goto out;
	}
	for (i = 0; i < AZB_BUF_BYTES; i++)
		ref[i] = (unsigned char)(i * 7 + 3);
	memcpy(buf, ref, AZB_BUF_BYTES);
	q.arena = buf;
	q.arena_bytes = AZB_BUF_BYTES;

	rc = ops->open(&e, NULL, &o);
	if (rc) {
		FAIL("open: %d", rc);
		goto out;
	}
	rc = ops->queue_init ? ops->queue_init(&q) : 0;
	if (rc) {
		FAIL("queue_init: %d", rc);
		goto close;
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		memset(&io, 0, sizeof(io));
		io.op = all[i];
		io.flags = AZB_IO_FUA;
		io.offset = 4096;
		io.len = all[i] == AZB_OP_FLUSH ? 0 : AZB_BUF_BYTES;
		io.buf = buf;
		rc = ops->queue(&q, &io);
		if (rc)
			FAIL("op %d: %d, want 0 (done)", all[i], rc);
		if (memcmp(buf, ref, AZB_BUF_BYTES))
			FAIL("op %d changed the data buffer", all[i]);
	}
	memset(&io, 0, sizeof(io));
	io.op = (enum azb_op)42;
	io.buf = buf;
	rc = ops->queue(&q, &io);
	if (rc != -EOPNOTSUPP)
		FAIL("unknown op: %d, want -EOPNOTSUPP", rc);
	if (ops->commit)
		ops->commit(&q);
	rc = ops->reap ? ops->reap(&q) : 0;
	if (rc)
		FAIL("reap found %d requests, want 0", rc);
	if (ops->queue_exit)
		ops->queue_exit(&q);
close:
	if (ops->close)
		ops->close(&e);
out:
	free(buf);
	free(ref);
}

/* The table: every engine complete, each name once, unknown names NULL. */
static void test_table(void)
{
	const struct azb_engine_ops *const *e, *const *f;

	for (e = azb_engine_list(); *e; e++) {
		if (!(*e)->name || !(*e)->help || !(*e)->open || !(*e)->queue ||
		    (*e)->version != AZB_ENGINE_OPS_VERSION)
			FAIL("engine '%s' is incomplete",
			     (*e)->name ? (*e)->name : "(null)");
		else if (azb_engine_find((*e)->name) != *e)
			FAIL("azb_engine_find(\"%s\") finds another", (*e)->name);
		for (f = azb_engine_list(); f != e; f++)
			if ((*f)->name && (*e)->name &&
			    !strcmp((*f)->name, (*e)->name))
				FAIL("engine '%s' listed twice", (*e)->name);
	}
	if (azb_engine_find(NULL) || azb_engine_find("") ||
	    azb_engine_find("nul") || azb_engine_find("NULL"))
		FAIL("azb_engine_find() found an engine for a wrong name");
}

int main(void)
{
	const struct azb_engine_ops *ops = azb_engine_find("null");

	test_table();
	if (!ops) {
		fprintf(stderr, "FAIL: no engine 'null' in the table\n");
		return 1;
	}
	if (strcmp(ops->name, "null") || !ops->help || !*ops->help)
		FAIL("name '%s' or help missing", ops->name);
	if (ops->version != AZB_ENGINE_OPS_VERSION)
		FAIL("version %u, want %u", ops->version, AZB_ENGINE_OPS_VERSION);
	if (!(ops->flags & AZB_ENGINE_F_NO_TARGET) ||
	    (ops->flags & AZB_ENGINE_F_NEEDS_TARGET))
		FAIL("flags 0x%x: want NO_TARGET only", ops->flags);
	if (!ops->open || !ops->queue)
		FAIL("open or queue missing");
	else {
		test_open(ops);
		test_ops(ops);
	}
	if (failures) {
		fprintf(stderr, "test_engine_null: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_engine_null: ok\n");
	return 0;
}
