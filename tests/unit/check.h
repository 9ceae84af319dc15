/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unit tests' one assertion helper: a failed check prints where and
 * why, counts, and lets the test go on so one run shows every failure;
 * main() exits non-zero when failures is not 0.
 */
#ifndef AZB_TEST_CHECK_H
#define AZB_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define FAIL(...) do {						\
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
	fprintf(stderr, __VA_ARGS__);				\
	fputc('\n', stderr);					\
	failures++;						\
} while (0)

#define CHECK(cond, ...) do {					\
	if (!(cond))						\
		FAIL(__VA_ARGS__);				\
} while (0)

#endif
