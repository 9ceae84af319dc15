// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sizes, device ids, device paths and engine option lists: the values
 * users type, at every boundary and with junk around them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <azbuse.h>
#include <uapi/linux/azbuse.h>
#include "check.h"
#include "opts.h"
#include "../../tools/cli.h"

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;
	int rc = azb_parse_size(s, &v);

	if (rc || v != want)
		FAIL("azb_parse_size(\"%s\"): rc %d value %llu, want 0 and %llu",
		     s, rc, (unsigned long long)v, (unsigned long long)want);
}

static void size_bad(const char *s, int want_rc)
{
	uint64_t v = 0xdeadbeef;
	int rc = azb_parse_size(s, &v);

	if (rc != want_rc)
		FAIL("azb_parse_size(\"%s\"): rc %d, want %d", s, rc, want_rc);
	if (v != 0xdeadbeef)
		FAIL("azb_parse_size(\"%s\") wrote %llu on error", s,
		     (unsigned long long)v);
}

static void test_sizes(void)
{
	size_ok("0", 0);
	size_ok("1", 1);
	size_ok("512", 512);
	size_ok("512B", 512);
	size_ok("512b", 512);
	size_ok("007", 7);
	size_ok("1K", 1024);
	size_ok("1k", 1024);
	size_ok("4KiB", 4096);
	size_ok("4kib", 4096);
	size_ok("64M", 64ULL << 20);
	size_ok("3MiB", 3ULL << 20);
	size_ok("1G", 1ULL << 30);
	size_ok("64g", 64ULL << 30);
	size_ok("2GiB", 2ULL << 30);
	size_ok("1T", 1ULL << 40);
	size_ok("5TiB", 5ULL << 40);
	size_ok("1P", 1ULL << 50);
	size_ok("16383P", 16383ULL << 50);
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("18446744073709551615B", UINT64_MAX);
	size_ok("1E", 1ULL << 60);
	size_ok("15EiB", 15ULL << 60);
	/* Fractions that come to whole bytes, as azbusectl list prints them. */
	size_ok("1.5G", 3ULL << 29);
	size_ok("1.25k", 1280);
	size_ok("0.5K", 512);
	size_ok("1367187.5K", 1400000000ULL);
	size_ok("2.000M", 2ULL << 20);
	size_ok("15.5E", 31ULL << 59);

	size_bad(NULL, -EINVAL);
	size_bad("", -EINVAL);
	size_bad("K", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("+1", -EINVAL);
	size_bad(" 1", -EINVAL);
	size_bad("1 ", -EINVAL);
	size_bad("1 K", -EINVAL);
	size_bad("0.1K", -EINVAL);	/* 102.4 bytes */
	size_bad("1.5", -EINVAL);	/* a fraction of a byte */
	size_bad("1.5B", -EINVAL);
	size_bad("1.G", -EINVAL);
	size_bad(".5G", -EINVAL);
	size_bad("1..5G", -EINVAL);
	size_bad("1.5.5G", -EINVAL);
	size_bad("1,5G", -EINVAL);
	size_bad("16E", -ERANGE);
	size_bad("15.99999E", -EINVAL);
	size_bad("0x10", -EINVAL);
	size_bad("1KB", -EINVAL);	/* 1000 or 1024: refused */
	size_bad("1GB", -EINVAL);
	size_bad("1X", -EINVAL);
	size_bad("1Ki", -EINVAL);
	size_bad("1KiBs", -EINVAL);
	size_bad("1BB", -EINVAL);
	size_bad("1GG", -EINVAL);
	size_bad("99999999999999999999999junk", -EINVAL);

	size_bad("18446744073709551616", -ERANGE);
	size_bad("99999999999999999999999", -ERANGE);
	size_bad("16384P", -ERANGE);
	size_bad("17179869184G", -ERANGE);
	size_bad("18014398509481984K", -ERANGE);
}

static void id_ok(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeef;
	int rc = azb_parse_dev_id(s, &v);

	if (rc || v != want)
		FAIL("azb_parse_dev_id(\"%s\"): rc %d id %u, want 0 and %u",
		     s, rc, v, want);
}

static void id_bad(const char *s)
{
	uint32_t v = 0xdeadbeef;
	int rc = azb_parse_dev_id(s, &v);

	if (rc != -EINVAL)
		FAIL("azb_parse_dev_id(\"%s\"): rc %d, want -EINVAL", s, rc);
	if (v != 0xdeadbeef)
		FAIL("azb_parse_dev_id(\"%s\") wrote %u on error", s, v);
}

/* azbusectl's sizes: exact, the largest unit that stays short, and -s reads them back. */
static void test_size_format(void)
{
	static const struct {
		uint64_t bytes;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { 512, "512" }, { 1023, "1023" }, { 1024, "1K" },
		{ 1536, "1.5K" }, { 4095, "4095" }, { 3ULL << 29, "1.5G" },
		{ 1280ULL << 20, "1.25G" }, { (1ULL << 30) + (1ULL << 20), "1025M" },
		{ 1400000000ULL, "1367187.5K" }, { 5ULL << 40, "5T" },
		{ (1ULL << 30) + 512, "1048576.5K" }, { UINT64_MAX, "18446744073709551615" },
		{ 15ULL << 60, "15E" },
	};
	char buf[64];
	uint64_t back;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		azb_cli_fmt_size(cases[i].bytes, buf, sizeof(buf));
		CHECK(!strcmp(buf, cases[i].want), "%llu bytes printed '%s', want '%s'",
		      (unsigned long long)cases[i].bytes, buf, cases[i].want);
		CHECK(!azb_parse_size(buf, &back) && back == cases[i].bytes,
		      "'%s' reads back as %llu, not %llu", buf,
		      (unsigned long long)back, (unsigned long long)cases[i].bytes);
	}
	/* Every multiple of 512 up to 64M prints and reads back exactly. */
	for (back = 0, i = 0; i < (64u << 20) / 512; i += 97) {
		uint64_t b = (uint64_t)i * 512, r = 0;

		azb_cli_fmt_size(b, buf, sizeof(buf));
		if (azb_parse_size(buf, &r) || r != b) {
			FAIL("%llu printed '%s' reads back as %llu",
			     (unsigned long long)b, buf, (unsigned long long)r);
			break;
		}
	}
}

static void test_dev_ids(void)
{
	char buf[32];

	id_ok("0", 0);
	id_ok("3", 3);
	id_ok("azbuse3", 3);
	id_ok("/dev/azbuse3", 3);
	id_ok("azbuse0", 0);
	id_ok("/dev/azbuse0", 0);
	id_ok("65535", AZBUSE_MAX_DEV_ID);
	id_ok("/dev/azbuse65535", AZBUSE_MAX_DEV_ID);

	id_bad(NULL);
	id_bad("");
	id_bad("azbuse");
	id_bad("/dev/azbuse");
	id_bad("/dev/");
	id_bad("/dev/3");
	id_bad("dev/azbuse3");
	id_bad("/dev/azbusec3");	/* the char device is not an id */
	id_bad("azbusec3");
	id_bad("/dev/sda");
	id_bad("nbd0");
	id_bad("-1");
	id_bad("+1");
	id_bad(" 1");
	id_bad("1 ");
	id_bad("1a");
	id_bad("0x1");
	id_bad("03");
	id_bad("azbuse03");
	id_bad("65536");
	id_bad("4294967295");
	id_bad("4294967296");
	id_bad("99999999999999999999999");
	id_bad("/dev/azbuse65536");
	id_bad("azbuse3/");

	azb_blk_path(7, buf, sizeof(buf));
	if (strcmp(buf, "/dev/azbuse7"))
		FAIL("azb_blk_path(7) = \"%s\"", buf);
	azb_chr_path(7, buf, sizeof(buf));
	if (strcmp(buf, "/dev/azbusec7"))
		FAIL("azb_chr_path(7) = \"%s\"", buf);
	azb_blk_path(AZBUSE_MAX_DEV_ID, buf, sizeof(buf));
	if (strcmp(buf, "/dev/azbuse65535"))
		FAIL("azb_blk_path(max) = \"%s\"", buf);
	/* What azb_blk_path() writes, azb_parse_dev_id() reads back. */
	id_ok(buf, AZBUSE_MAX_DEV_ID);
	/* A short buffer is cut, never overrun. */
	memset(buf, 'x', sizeof(buf));
	azb_blk_path(12345, buf, 8);
	if (strcmp(buf, "/dev/az") || buf[8] != 'x')
		FAIL("azb_blk_path(12345) into 8 bytes = \"%.8s\"", buf);
}

/* "KEY[=VALUE],..." as the engines see it (engines/opts.c). */
static void test_engine_opts(void)
{
	static const struct {
		const char *key, *val;	/* val NULL: no '=' */
	} want[] = {
		{ "sqpoll", NULL }, { "conf", "/etc/ceph/a=b.conf" },
		{ "id", "" }, { "", "=" },
	};
	const char *list = ",sqpoll,,conf=/etc/ceph/a=b.conf,id=,==,";
	struct azb_opt o;
	unsigned long v;
	unsigned int n = 0;

	while (azb_opt_next(&list, &o)) {
		if (n >= sizeof(want) / sizeof(want[0])) {
			FAIL("option %u '%.*s' beyond the list", n, o.len, o.key);
			break;
		}
		if (!azb_opt_key_is(&o, want[n].key) ||
		    (want[n].val ? !o.val || o.vlen != strlen(want[n].val) ||
				   memcmp(o.val, want[n].val, o.vlen) :
				   o.val != NULL))
			FAIL("option %u is '%.*s', want key '%s' value '%s'", n,
			     o.len, o.key, want[n].key,
			     want[n].val ? want[n].val : "(none)");
		n++;
	}
	if (n != sizeof(want) / sizeof(want[0]))
		FAIL("%u options, want %zu", n, sizeof(want) / sizeof(want[0]));
	if (azb_opt_next(&list, &o))
		FAIL("an option after the end");
	list = NULL;
	if (azb_opt_next(&list, &o))
		FAIL("an option in a NULL list");
	/* A key is all of it: "sqpollx" is not "sqpoll". */
	list = "sqpollx";
	if (!azb_opt_next(&list, &o) || azb_opt_key_is(&o, "sqpoll"))
		FAIL("'sqpollx' taken for sqpoll");

	/* Numbers: decimal digits only, within 0..max, no overflow. */
	static const struct {
		const char *opt;
		unsigned long max;
		bool ok;
		unsigned long v;
	} nums[] = {
		{ "t=0", 3600, true, 0 }, { "t=3600", 3600, true, 3600 },
		{ "t=3601", 3600, false, 0 }, { "t=-1", 3600, false, 0 },
		{ "t=+5", 3600, false, 0 }, { "t= 5", 3600, false, 0 },
		{ "t=5s", 3600, false, 0 }, { "t=", 3600, false, 0 },
		{ "t", 3600, false, 0 }, { "t=7", 0, false, 0 },
		{ "t=0", 0, true, 0 },
		{ "t=99999999999999999999999", 3600, false, 0 },
		{ "t=18446744073709551615", (unsigned long)-1, true,
		  (unsigned long)-1 },
		{ "t=18446744073709551616", (unsigned long)-1, false, 0 },
	};
	for (unsigned int i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		bool ok;

		list = nums[i].opt;
		v = 12345;
		ok = azb_opt_next(&list, &o) && azb_opt_uint(&o, nums[i].max, &v);
		if (ok != nums[i].ok || (ok && v != nums[i].v))
			FAIL("'%s' (max %lu): %s %lu, want %s %lu", nums[i].opt,
			     nums[i].max, ok ? "taken as" : "refused", v,
			     nums[i].ok ? "taken as" : "refused", nums[i].v);
	}
}

/* azb_engine_opt_next() against a table with every kind of option. */
enum { T_FLAG, T_NUM, T_SIZE, T_TEXT, T_PICK };
static const struct azb_engine_opt test_opts[] = {
	[T_FLAG] = { .key = "fast", .kind = AZB_EOPT_FLAG, .help = "h" },
	[T_NUM] = { .key = "secs", .kind = AZB_EOPT_UINT, .arg = "SECONDS",
		    .max = 60, .help = "h" },
	[T_SIZE] = { .key = "chunk", .kind = AZB_EOPT_SIZE, .arg = "SIZE",
		     .help = "h" },
	[T_TEXT] = { .key = "path", .kind = AZB_EOPT_TEXT, .arg = "PATH",
		     .help = "h" },
	[T_PICK] = { .key = "mode", .kind = AZB_EOPT_CHOICE,
		     .choices = "one|two|three", .help = "h" },
	{ .key = NULL },
};
static const struct azb_engine_ops test_ops = {
	.name = "test", .version = AZB_ENGINE_OPS_VERSION, .opts = test_opts,
};

static void test_declared_opts(void)
{
	static const struct {
		const char *list;
		int ret;		/* of the first call */
		int which;		/* its entry */
		uint64_t num;
		const char *val;
	} cases[] = {
		{ "fast", 1, T_FLAG, 0, NULL },
		{ "secs=60", 1, T_NUM, 60, "60" },
		{ "secs=0", 1, T_NUM, 0, "0" },
		{ "chunk=64K", 1, T_SIZE, 64 << 10, "64K" },
		{ "path=/a b", 1, T_TEXT, 0, "/a b" },
		{ "mode=three", 1, T_PICK, 2, "three" },
		{ "mode=one", 1, T_PICK, 0, "one" },
		{ "", 0, 0, 0, NULL },
		{ ",,", 0, 0, 0, NULL },
		/* refused */
		{ "slow", -EINVAL, 0, 0, NULL },
		{ "fastx", -EINVAL, 0, 0, NULL },
		{ "fast=1", -EINVAL, 0, 0, NULL },
		{ "secs", -EINVAL, 0, 0, NULL },
		{ "secs=", -EINVAL, 0, 0, NULL },
		{ "secs=61", -EINVAL, 0, 0, NULL },
		{ "secs=1m", -EINVAL, 0, 0, NULL },
		{ "chunk=lots", -EINVAL, 0, 0, NULL },
		{ "chunk=123456789012345678901234567890K", -EINVAL, 0, 0, NULL },
		{ "path=", -EINVAL, 0, 0, NULL },
		{ "mode=four", -EINVAL, 0, 0, NULL },
		{ "mode=on", -EINVAL, 0, 0, NULL },
		{ "mode=ones", -EINVAL, 0, 0, NULL },	/* not taken for "one" */
		{ "mode", -EINVAL, 0, 0, NULL },
	};
	struct azb_engine_optval v;
	const char *p;
	unsigned int i;
	int ret, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = cases[i].list;
		memset(&v, 0xa5, sizeof(v));
		ret = azb_engine_opt_next(&test_ops, &p, &v);
		if (ret != cases[i].ret) {
			FAIL("'%s': %d, want %d", cases[i].list, ret, cases[i].ret);
			continue;
		}
		if (ret != 1)
			continue;
		CHECK(v.opt == &test_opts[cases[i].which], "'%s': entry %ld",
		      cases[i].list, (long)(v.opt - test_opts));
		CHECK(v.num == cases[i].num, "'%s': number %llu, want %llu",
		      cases[i].list, (unsigned long long)v.num,
		      (unsigned long long)cases[i].num);
		CHECK(cases[i].val ? v.val && v.vlen == strlen(cases[i].val) &&
			!memcmp(v.val, cases[i].val, v.vlen) : !v.val,
		      "'%s': value '%.*s'", cases[i].list, v.val ? (int)v.vlen : 6,
		      v.val ? v.val : "(none)");
	}
	/* A list walks to its end; a bad one stops where it is bad. */
	p = "fast,secs=5,mode=two";
	for (n = 0; (ret = azb_engine_opt_next(&test_ops, &p, &v)) > 0; n++)
		;
	CHECK(ret == 0 && n == 3, "a list of three: %d options, then %d", n, ret);
	p = "fast,bogus,secs=5";
	for (n = 0; (ret = azb_engine_opt_next(&test_ops, &p, &v)) > 0; n++)
		;
	CHECK(ret == -EINVAL && n == 1, "stops at 'bogus': %d options, then %d",
	      n, ret);
	/* An empty table takes nothing; NULL params is an empty list. */
	static const struct azb_engine_opt none[] = { { .key = NULL } };
	static const struct azb_engine_ops none_ops = { .name = "none", .opts = none };
	p = "x";
	CHECK(azb_engine_opt_next(&none_ops, &p, &v) == -EINVAL,
	      "an engine with no options took one");
	p = NULL;
	CHECK(azb_engine_opt_next(&test_ops, &p, &v) == 0, "NULL params");
}

int main(void)
{
	test_sizes();
	test_size_format();
	test_dev_ids();
	test_engine_opts();
	test_declared_opts();
	if (failures) {
		fprintf(stderr, "test_parse: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_parse: ok\n");
	return 0;
}
