// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The native benchmark (perf/native-bench.c, build/perf/azb-native-bench)
 * builds and runs: a tiny configuration completes, counts every I/O right
 * (the program checks its own counts and exits 1 otherwise) and writes one
 * JSON record per configuration.  No timing is judged here.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define IOS	20000

/* Runs cmd with sh; returns its exit status, or -1. */
static int run(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

int main(void)
{
	char self[PATH_MAX], bench[PATH_MAX + 32], cmd[3 * PATH_MAX];
	char json[] = "/tmp/azb-native-bench.XXXXXX";
	char line[512];
	unsigned int n = 0, queues, batch;
	unsigned long long ios;
	ssize_t len;
	FILE *f;
	int fd, rc;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self[len] = 0;
	/* build/tests/test_native_bench -> build/perf/azb-native-bench */
	snprintf(bench, sizeof(bench), "%s/../perf/azb-native-bench",
		 dirname(self));
	if (access(bench, X_OK)) {
		fprintf(stderr, "FAIL: %s: %s (make unit builds it)\n", bench,
			strerror(errno));
		return 1;
	}
	fd = mkstemp(json);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);

	snprintf(cmd, sizeof(cmd), "'%s' -q 1,2 -b 1,16 -n %d --json '%s' >/dev/null",
		 bench, IOS, json);
	rc = run(cmd);
	CHECK(rc == 0, "%s: exit %d", cmd, rc);

	f = fopen(json, "r");
	CHECK(f != NULL, "no JSON written to %s", json);
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "{\"queues\":");

		if (!p)
			continue;
		if (sscanf(p, "{\"queues\": %u, \"batch\": %u, \"ios\": %llu",
			   &queues, &batch, &ios) != 3) {
			CHECK(0, "unreadable record: %s", line);
			continue;
		}
		n++;
		/* Measured I/Os: the window opens at a batch boundary. */
		CHECK(queues >= 1 && queues <= 2 && (batch == 1 || batch == 16),
		      "unexpected record: %s", line);
		CHECK(ios + queues * batch > (unsigned long long)queues * IOS &&
		      ios <= (unsigned long long)queues * IOS,
		      "%u queues batch %u measured %llu I/Os, want %u per queue",
		      queues, batch, ios, IOS);
		CHECK(strstr(line, "\"iops_per_core\": ") &&
		      !strstr(line, "\"iops_per_core\": 0,"),
		      "no per-core rate: %s", line);
	}
	if (f)
		fclose(f);
	unlink(json);
	CHECK(n == 4, "%u records, want 4 (queues 1,2 x batch 1,16)", n);

	/* A wrong command line is a usage error, not a run. */
	snprintf(cmd, sizeof(cmd), "'%s' -b 0 2>/dev/null", bench);
	rc = run(cmd);
	CHECK(rc == 2, "-b 0: exit %d, want 2", rc);
	snprintf(cmd, sizeof(cmd), "'%s' -e odirect 2>/dev/null", bench);
	rc = run(cmd);
	CHECK(rc == 2, "-e odirect (needs a target): exit %d, want 2", rc);

	if (failures) {
		fprintf(stderr, "test_native_bench: %d checks failed\n", failures);
		return 1;
	}
	printf("test_native_bench: ok\n");
	return 0;
}
