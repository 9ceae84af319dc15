// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Poller placement (placement.h): hwloc for the topology and CPU binding,
 * libnuma's system call wrappers for memory policy.  libnuma's allocation
 * helpers are not used because they print to stderr when the kernel
 * refuses a policy (a container may); here that only means the memory
 * follows the poller's first touch, which is on its CPUs anyway.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <hwloc.h>
#include <numa.h>
#include <numaif.h>
#include "alloc.h"
#include "placement.h"

/* Node masks for mbind()/set_mempolicy(): Linux has at most 1024 nodes. */
#define AZB_MAX_NODES	1024
#define AZB_LONG_BITS	(8 * sizeof(unsigned long))

struct azb_place_queue {
	hwloc_bitmap_t	kernel;		/* CPUs blk-mq maps to the queue */
	int		ring_node;
	hwloc_bitmap_t	cpus;		/* where its poller runs */
	int		node;		/* where its memory goes, or -1 */
	bool		poll;		/* a poll queue */
};

struct azb_placement {
	hwloc_topology_t	topo;
	bool			topo_init;
	hwloc_bitmap_t		usable;	/* CPUs pollers may run on */
	bool			numa;	/* memory policies work here */
	bool			node_wide; /* AZB_PIN_NODE */
	unsigned int		nr;
	struct azb_place_queue	*q;
};

void azb_placement_free(struct azb_placement *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->nr; i++) {
		hwloc_bitmap_free(p->q[i].kernel);
		hwloc_bitmap_free(p->q[i].cpus);
	}
	azb_free(p->q);
	hwloc_bitmap_free(p->usable);
	if (p->topo_init)
		hwloc_topology_destroy(p->topo);
	azb_free(p);
}

/*
 * The CPUs pollers may use: cpus if given, else those of the process (the
 * union of its threads' affinities: a program that pinned the thread
 * creating the server to one CPU has not put its pollers there).
 */
static int azb_placement_usable(struct azb_placement *p, const char *cpus)
{
	hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(p->topo);

	if (cpus) {
		if (!*cpus || hwloc_bitmap_list_sscanf(p->usable, cpus) < 0)
			return -EINVAL;
	} else if (hwloc_get_cpubind(p->topo, p->usable, HWLOC_CPUBIND_PROCESS)) {
		hwloc_bitmap_copy(p->usable, allowed);
	}
	/* Offline CPUs and those a cgroup withholds drop out. */
	hwloc_bitmap_and(p->usable, p->usable, allowed);
	return hwloc_bitmap_iszero(p->usable) ? -EINVAL : 0;
}

int azb_placement_new(const char *cpus, bool node_wide,
		      struct azb_placement **out)
{
	struct azb_placement *p;
	int ret;

	p = azb_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	ret = -ENOMEM;
	p->usable = hwloc_bitmap_alloc();
	if (!p->usable)
		goto fail;
	if (hwloc_topology_init(&p->topo))
		goto fail;
	p->topo_init = true;
	/*
	 * CPUs and NUMA nodes matter, caches do not.  Packages and cores stay:
	 * a NUMA node's CPUs are those of the object it hangs from.
	 */
	hwloc_topology_set_cache_types_filter(p->topo, HWLOC_TYPE_FILTER_KEEP_NONE);
	hwloc_topology_set_icache_types_filter(p->topo, HWLOC_TYPE_FILTER_KEEP_NONE);
	if (hwloc_topology_load(p->topo)) {
		ret = errno ? -errno : -EIO;
		goto fail;
	}
	ret = azb_placement_usable(p, cpus);
	if (ret)
		goto fail;
	p->numa = numa_available() >= 0;
	p->node_wide = node_wide;
	*out = p;
	return 0;
fail:
	azb_placement_free(p);
	return ret;
}

int azb_placement_queues(struct azb_placement *p, unsigned int nr)
{
	unsigned int i;

	p->q = azb_zalloc(nr * sizeof(*p->q));
	if (!p->q)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		p->nr++;
		p->q[i].ring_node = -1;
		p->q[i].node = -1;
		p->q[i].kernel = hwloc_bitmap_alloc();
		p->q[i].cpus = hwloc_bitmap_alloc();
		if (!p->q[i].kernel || !p->q[i].cpus)
			return -ENOMEM;
	}
	return 0;
}

void azb_placement_set_queue(struct azb_placement *p, unsigned int qid,
			     const uint64_t *mask, unsigned int nr_cpus,
			     int ring_node)
{
	struct azb_place_queue *q = &p->q[qid];
	unsigned int c;

	q->ring_node = ring_node;
	hwloc_bitmap_zero(q->kernel);
	for (c = 0; mask && c < nr_cpus; c++)
		if (mask[c / 64] & (1ULL << (c % 64)))
			hwloc_bitmap_set(q->kernel, c);
}

/* The one node all of cpus lie on, else fallback. */
static int azb_cpus_node(const struct azb_placement *p, hwloc_const_cpuset_t cpus,
			 int fallback)
{
	hwloc_nodeset_t nodes = hwloc_bitmap_alloc();
	int node = fallback;

	if (!nodes)
		return fallback;
	hwloc_cpuset_to_nodeset(p->topo, cpus, nodes);
	if (hwloc_bitmap_weight(nodes) == 1)
		node = hwloc_bitmap_first(nodes);
	hwloc_bitmap_free(nodes);
	return node;
}

/*
 * AZB_PIN_NODE: from the queue's own CPUs to every usable CPU of their
 * node(s).  The scheduler then moves a poller off a CPU its submitter keeps
 * busy; memory stays on the node.
 */
static void azb_widen_to_node(const struct azb_placement *p,
			      struct azb_place_queue *q)
{
	hwloc_nodeset_t nodes = hwloc_bitmap_alloc();
	hwloc_bitmap_t wide = hwloc_bitmap_alloc();

	if (nodes && wide) {
		hwloc_cpuset_to_nodeset(p->topo, q->cpus, nodes);
		hwloc_cpuset_from_nodeset(p->topo, wide, nodes);
		hwloc_bitmap_and(wide, wide, p->usable);
		/* Never narrower than the queue's own CPUs. */
		hwloc_bitmap_or(q->cpus, q->cpus, wide);
	}
	hwloc_bitmap_free(wide);
	hwloc_bitmap_free(nodes);
}

/*
 * A queue with no usable CPU of its own: the usable CPU with the fewest
 * pollers, preferring the queue's node; ties go to the lowest CPU.
 */
static void azb_place_shared(struct azb_placement *p, struct azb_place_queue *q,
			     unsigned int *load)
{
	hwloc_bitmap_t cand = hwloc_bitmap_dup(p->usable);
	hwloc_obj_t node = NULL;
	int cpu, best = -1;

	if (q->ring_node >= 0)
		node = hwloc_get_numanode_obj_by_os_index(p->topo,
							  (unsigned int)q->ring_node);
	if (cand && node && hwloc_bitmap_intersects(cand, node->cpuset))
		hwloc_bitmap_and(cand, cand, node->cpuset);
	hwloc_bitmap_foreach_begin(cpu, cand ? cand : p->usable) {
		if (best < 0 || (load && load[cpu] < load[best]))
			best = cpu;
	} hwloc_bitmap_foreach_end();
	hwloc_bitmap_free(cand);
	hwloc_bitmap_only(q->cpus, (unsigned int)best);
	if (load)
		load[best]++;
}

/* A poll queue's poller leaves its submitters' CPUs to them, if it can. */
static void azb_off_submitters(struct azb_place_queue *q)
{
	hwloc_bitmap_t rest = hwloc_bitmap_alloc();

	if (!rest)
		return;
	hwloc_bitmap_andnot(rest, q->cpus, q->kernel);
	if (!hwloc_bitmap_iszero(rest))
		hwloc_bitmap_copy(q->cpus, rest);
	hwloc_bitmap_free(rest);
}

void azb_placement_set_poll(struct azb_placement *p, unsigned int qid)
{
	p->q[qid].poll = true;
}

void azb_placement_compute(struct azb_placement *p)
{
	unsigned int i, *load;
	int cpu;

	load = azb_zalloc(((size_t)hwloc_bitmap_last(p->usable) + 1) *
			  sizeof(*load));
	/* First the queues that have usable CPUs of their own... */
	for (i = 0; i < p->nr; i++) {
		struct azb_place_queue *q = &p->q[i];

		hwloc_bitmap_and(q->cpus, q->kernel, p->usable);
		if (!load)
			continue;
		hwloc_bitmap_foreach_begin(cpu, q->cpus) {
			load[cpu]++;
		} hwloc_bitmap_foreach_end();
	}
	/* ... then the others share fairly. */
	for (i = 0; i < p->nr; i++)
		if (hwloc_bitmap_iszero(p->q[i].cpus))
			azb_place_shared(p, &p->q[i], load);
	for (i = 0; i < p->nr; i++) {
		p->q[i].node = azb_cpus_node(p, p->q[i].cpus, p->q[i].ring_node);
		if (p->node_wide)
			azb_widen_to_node(p, &p->q[i]);
		if (p->q[i].poll)
			azb_off_submitters(&p->q[i]);
	}
	azb_free(load);
}

/* A node mask for the memory policy calls; false if node is too large. */
static bool azb_node_mask(int node, unsigned long *mask)
{
	if (node < 0 || node >= AZB_MAX_NODES)
		return false;
	memset(mask, 0, AZB_MAX_NODES / 8);
	mask[node / AZB_LONG_BITS] = 1UL << (node % AZB_LONG_BITS);
	return true;
}

int azb_placement_bind(const struct azb_placement *p, unsigned int qid)
{
	const struct azb_place_queue *q = &p->q[qid];
	unsigned long mask[AZB_MAX_NODES / AZB_LONG_BITS];

	errno = 0;
	if (hwloc_set_cpubind(p->topo, q->cpus, HWLOC_CPUBIND_THREAD))
		return errno ? -errno : -EINVAL;
	/* Preferred, not bound: a full node must not fail the I/O path. */
	if (p->numa && azb_node_mask(q->node, mask))
		set_mempolicy(MPOL_PREFERRED, mask, AZB_MAX_NODES + 1);
	return 0;
}

int azb_placement_node(const struct azb_placement *p, unsigned int qid)
{
	return p->q[qid].node;
}

int azb_placement_cpulist(const struct azb_placement *p, unsigned int qid,
			  char *buf, size_t len)
{
	return hwloc_bitmap_list_snprintf(buf, len, p->q[qid].cpus);
}

void *azb_node_alloc(size_t bytes, int node)
{
	unsigned long mask[AZB_MAX_NODES / AZB_LONG_BITS];
	void *m;

	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* Before any page exists, so every page follows the policy. */
	if (azb_node_mask(node, mask) && numa_available() >= 0)
		mbind(m, bytes, MPOL_PREFERRED, mask, AZB_MAX_NODES + 1, 0);
	return m;
}

void azb_node_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}
