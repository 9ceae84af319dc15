// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Poller placement on this machine's topology: a queue's poller goes to
 * the kernel's CPUs for it among those allowed, queues without one share
 * the allowed CPUs fairly, a bad CPU list is refused, binding really
 * changes the thread's affinity, and arena memory lands on the node asked.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <numaif.h>
#include "placement.h"
#include "check.h"

/* Two CPUs this process may run on, for the cases that need them. */
static int cpu_a = -1, cpu_b = -1;

static void find_cpus(void)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (cpu_a < 0)
			cpu_a = c;
		else if (cpu_b < 0)
			cpu_b = c;
	}
}

/* Whether the next placements widen pollers to their node (--pin node). */
static bool node_wide;

/*
 * Places nr queues: queue i's kernel CPUs are lo[i]..hi[i] (lo -1: none),
 * its ring on node[i] (NULL: unknown).
 */
static struct azb_placement *place_on(const char *cpus, unsigned int nr,
				      const int *lo, const int *hi,
				      const int *node)
{
	struct azb_placement *p;
	unsigned int i;
	int c;

	if (azb_placement_new(cpus, node_wide, &p) ||
	    azb_placement_queues(p, nr)) {
		fprintf(stderr, "test_placement: placement setup failed\n");
		exit(1);
	}
	for (i = 0; i < nr; i++) {
		uint64_t mask[2] = { 0, 0 };

		for (c = lo[i]; c >= 0 && c <= hi[i]; c++)
			mask[c / 64] |= 1ULL << (c % 64);
		azb_placement_set_queue(p, i, lo[i] >= 0 ? mask : NULL, 128,
					node ? node[i] : -1);
	}
	azb_placement_compute(p);
	return p;
}

/* Queue i's kernel CPU is cpu[i] (-1: none). */
static struct azb_placement *place(const char *cpus, unsigned int nr,
				   const int *cpu)
{
	return place_on(cpus, nr, cpu, cpu, NULL);
}

static void expect_list(const struct azb_placement *p, unsigned int qid,
			const char *want)
{
	char got[64];

	azb_placement_cpulist(p, qid, got, sizeof(got));
	CHECK(!strcmp(got, want), "queue %u on CPUs %s, want %s", qid, got,
	      want);
}

static void expect_cpus(const struct azb_placement *p, unsigned int qid,
			int cpu)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", cpu);
	expect_list(p, qid, want);
}

static void expect_node(const struct azb_placement *p, unsigned int qid,
			int node)
{
	CHECK(azb_placement_node(p, qid) == node, "queue %u on node %d, want %d",
	      qid, azb_placement_node(p, qid), node);
}

/*
 * Two nodes of two CPUs each ({0,1} and {2,3}), as hwloc's synthetic
 * topology: pollers and their memory follow the queue's CPUs, and a queue
 * moved off its CPUs prefers its own node, then the least loaded CPU.
 */
static void test_two_nodes(void)
{
	static const int lo2[] = { 0, 2 }, hi2[] = { 1, 3 }, ring2[] = { 0, 1 };
	static const int none[] = { -1, -1, -1 }, ring3[] = { -1, 1, 0 };
	static const int span[] = { 1 }, span_hi[] = { 2 }, span_ring[] = { 1 };
	struct azb_placement *p;

	setenv("HWLOC_SYNTHETIC", "pack:2 numa:1 core:2 pu:1", 1);
	p = place_on(NULL, 2, lo2, hi2, ring2);
	expect_list(p, 0, "0-1");
	expect_list(p, 1, "2-3");
	expect_node(p, 0, 0);
	expect_node(p, 1, 1);
	azb_placement_free(p);

	/* --cpus 2: queue 0 moves to node 1, and its memory with it. */
	p = place_on("2", 2, lo2, hi2, ring2);
	expect_list(p, 0, "2");
	expect_list(p, 1, "2");
	expect_node(p, 0, 1);
	expect_node(p, 1, 1);
	azb_placement_free(p);

	p = place_on("1,2", 3, none, none, ring3);
	expect_list(p, 0, "1");
	expect_list(p, 1, "2");
	expect_list(p, 2, "1");
	expect_node(p, 2, 0);
	azb_placement_free(p);

	/* CPUs on two nodes: the memory goes to the ring's node. */
	p = place_on(NULL, 1, span, span_hi, span_ring);
	expect_list(p, 0, "1-2");
	expect_node(p, 0, 1);
	azb_placement_free(p);
	unsetenv("HWLOC_SYNTHETIC");
}

/*
 * --pin node on the same two nodes: each poller may use its queue's whole
 * node among the usable CPUs, never the other node, and its memory stays
 * on that node.
 */
static void test_node_wide(void)
{
	static const int one[] = { 0, 3 }, ring2[] = { 0, 1 };
	static const int none[] = { -1, -1 }, ring_none[] = { 1, 0 };
	static const int span[] = { 1 }, span_hi[] = { 2 }, span_ring[] = { 1 };
	struct azb_placement *p;

	setenv("HWLOC_SYNTHETIC", "pack:2 numa:1 core:2 pu:1", 1);
	node_wide = true;
	p = place_on(NULL, 2, one, one, ring2);
	expect_list(p, 0, "0-1");
	expect_list(p, 1, "2-3");
	expect_node(p, 0, 0);
	expect_node(p, 1, 1);
	azb_placement_free(p);

	/* --cpus 0,2-3: node 0 has only CPU 0 left. */
	p = place_on("0,2-3", 2, one, one, ring2);
	expect_list(p, 0, "0");
	expect_list(p, 1, "2-3");
	azb_placement_free(p);

	/* No CPU of its own: the shared CPU's node, widened. */
	p = place_on("1,2-3", 2, none, none, ring_none);
	expect_list(p, 0, "2-3");
	expect_list(p, 1, "1");
	expect_node(p, 0, 1);
	expect_node(p, 1, 0);
	azb_placement_free(p);

	/* CPUs on two nodes: both nodes, the memory on the ring's node. */
	p = place_on(NULL, 1, span, span_hi, span_ring);
	expect_list(p, 0, "0-3");
	expect_node(p, 0, 1);
	azb_placement_free(p);
	node_wide = false;
	unsetenv("HWLOC_SYNTHETIC");
}

static void test_refused(void)
{
	static const char *const bad[] = { "", "x", "1-0", "99999" };
	struct azb_placement *p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = NULL;
		CHECK(azb_placement_new(bad[i], false, &p) == -EINVAL,
		      "CPU list '%s' accepted", bad[i]);
		azb_placement_free(p);
	}
}

static void test_own_cpus(void)
{
	int cpu[2] = { cpu_a, cpu_b };
	struct azb_placement *p;

	p = place(NULL, 2, cpu);
	expect_cpus(p, 0, cpu_a);
	expect_cpus(p, 1, cpu_b);
	azb_placement_free(p);
}

/* Queues without a usable CPU share the allowed ones, least loaded first. */
static void test_shared(void)
{
	int none[3] = { -1, -1, -1 }, mixed[3] = { cpu_b, -1, -1 };
	char list[32];
	struct azb_placement *p;

	snprintf(list, sizeof(list), "%d,%d", cpu_a, cpu_b);
	p = place(list, 3, none);
	expect_cpus(p, 0, cpu_a);
	expect_cpus(p, 1, cpu_b);
	expect_cpus(p, 2, cpu_a);
	azb_placement_free(p);

	p = place(list, 3, mixed);
	expect_cpus(p, 0, cpu_b);
	expect_cpus(p, 1, cpu_a);
	expect_cpus(p, 2, cpu_a);
	azb_placement_free(p);

	/* --cpus leaves the kernel's CPU out: the queue moves. */
	snprintf(list, sizeof(list), "%d", cpu_a);
	p = place(list, 3, mixed);
	expect_cpus(p, 0, cpu_a);
	expect_cpus(p, 1, cpu_a);
	expect_cpus(p, 2, cpu_a);
	azb_placement_free(p);
}

struct bind_arg {
	const struct azb_placement *p;
	int ret;
	cpu_set_t set;
};

static void *bind_thread(void *a)
{
	struct bind_arg *b = a;

	b->ret = azb_placement_bind(b->p, 1);
	sched_getaffinity(0, sizeof(b->set), &b->set);
	return NULL;
}

/* Binding changes the calling thread's affinity to the queue's CPUs. */
static void test_bind(void)
{
	int cpu[2] = { cpu_a, cpu_b };
	struct bind_arg b = { 0 };
	pthread_t t;

	b.p = place(NULL, 2, cpu);
	pthread_create(&t, NULL, bind_thread, &b);
	pthread_join(t, NULL);
	CHECK(b.ret == 0, "bind: %s", strerror(-b.ret));
	CHECK(CPU_COUNT(&b.set) == 1 && CPU_ISSET(cpu_b, &b.set),
	      "bound thread runs on %d CPUs, not only %d", CPU_COUNT(&b.set),
	      cpu_b);
	CHECK(azb_placement_node(b.p, 1) == numa_node_of_cpu(cpu_b),
	      "queue node %d, CPU %d is on node %d",
	      azb_placement_node(b.p, 1), cpu_b, numa_node_of_cpu(cpu_b));
	azb_placement_free((struct azb_placement *)b.p);
}

/* Arena memory is on the node asked for. */
static void test_node_alloc(void)
{
	int node = numa_node_of_cpu(cpu_a), where = -1;
	size_t bytes = 1 << 20;
	char *m = azb_node_alloc(bytes, node);

	CHECK(m != NULL, "azb_node_alloc: %s", strerror(errno));
	if (!m)
		return;
	m[0] = 1;
	m[bytes - 1] = 1;
	if (numa_available() >= 0 &&
	    !get_mempolicy(&where, NULL, 0, m + bytes - 1,
			   MPOL_F_NODE | MPOL_F_ADDR))
		CHECK(where == node, "arena page on node %d, want %d", where,
		      node);
	azb_node_free(m, bytes);
}

int main(void)
{
	find_cpus();
	test_refused();
	test_node_alloc();
	test_two_nodes();
	test_node_wide();
	if (cpu_b < 0) {
		printf("test_placement: one CPU: multi-CPU cases skipped\n");
	} else {
		test_own_cpus();
		test_shared();
		test_bind();
	}
	if (failures) {
		fprintf(stderr, "test_placement: %d checks failed\n", failures);
		return 1;
	}
	printf("test_placement: ok\n");
	return 0;
}
