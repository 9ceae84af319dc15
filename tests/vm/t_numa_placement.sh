# vm: -s 2,sockets=2 -m 2G -q -object -q memory-backend-ram,id=m0,size=1G -q -object -q memory-backend-ram,id=m1,size=1G -q -numa -q node,nodeid=0,cpus=0,memdev=m0 -q -numa -q node,nodeid=1,cpus=1,memdev=m1
# NUMA placement in a guest with two nodes of one CPU each (the "# vm:"
# line above asks tests/run for it): each queue's poller runs on the CPUs
# blk-mq maps to its queue (sysfs mq/Q/cpu_list), its data arena's pages
# are on those CPUs' node, and so are its ring's pages (allocated by the
# kernel); the runtime reports the same placement; --cpus moves pollers
# and their memory with them.
source "$(dirname "$0")/lib.sh"
[ -d /sys/devices/system/node/node1 ] || skip "the guest has one NUMA node"
azb_load

# check_placement DEV PID QUEUES [CPUS]: every poller of PID on its queue's
# CPUs (or on CPUS, from --cpus), its arena and ring on their node.
check_placement() {
	local dev=$1 pid=$2 queues=$3 want=${4:-} tid q
	[ "$(azb_pollers "$pid" | wc -l)" = "$queues" ] ||
		fail "$(azb_pollers "$pid" | wc -l) poller threads, want $queues"
	azb_pollers "$pid" | while read -r tid q; do
		echo "$tid $q $(awk '/^Cpus_allowed_list:/ {print $2}' /proc/"$pid"/task/"$tid"/status)" \
			"$(cat /sys/block/"$dev"/mq/"$q"/cpu_list | tr -d ' ')"
	done >"$AZB_WORK/threads"
	# -d 16 --max-io 64K: 16 slots of 16 pages.
	python3 - "$pid" "$want" "$AZB_WORK/threads" 256 <<'PY' || exit 1
import glob, os, re, sys

pid, want, threads = sys.argv[1], sys.argv[2], sys.argv[3]
arena_pages = int(sys.argv[4])

def cpus(s):
    out = set()
    for part in s.split(','):
        a, _, b = part.partition('-')
        out.update(range(int(a), int(b or a) + 1))
    return out

def node_of(cpu):
    return int(glob.glob('/sys/devices/system/cpu/cpu%d/node*' % cpu)[0].rsplit('node', 1)[1])

def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)

# Which queue each ring mapping is: its offset is qid << 24.
ring_q = {}
for line in open('/proc/%s/maps' % pid):
    f = line.split()
    if len(f) >= 6 and re.match(r'/dev/azbusec\d+$', f[5]):
        ring_q[f[0].split('-')[0]] = int(f[2], 16) >> 24

# Pages by node of the arenas (anonymous, with the runtime's preferred
# node as their policy; adjacent ones may share a mapping), summed by the
# node they prefer, and of each ring.
arenas, rings = {}, {}
for line in open('/proc/%s/numa_maps' % pid):
    f = line.split()
    pages = {int(k[1:]): int(v) for k, v in
             (x.split('=') for x in f[2:] if re.match(r'N\d+=', x))}
    m = re.match(r'prefer[^:]*:(\d+)$', f[1])
    if m and 'anon=' in line:
        a = arenas.setdefault(int(m.group(1)), {})
        for n, c in pages.items():
            a[n] = a.get(n, 0) + c
    if f[0].lstrip('0') in {a.lstrip('0') for a in ring_q}:
        q = [ring_q[a] for a in ring_q if a.lstrip('0') == f[0].lstrip('0')][0]
        rings[q] = pages

queue_nodes = []
for line in open(threads):
    tid, q, allowed, kernel = line.split()
    q = int(q)
    expect = cpus(want) if want else cpus(kernel)
    if cpus(allowed) != expect:
        fail('queue %d poller (thread %s) runs on %s, want %s (blk-mq: %s)'
             % (q, tid, allowed, sorted(expect), kernel))
    nodes = {node_of(c) for c in expect}
    if len(nodes) != 1:
        fail('queue %d: CPUs %s span nodes %s' % (q, sorted(expect), nodes))
    node = nodes.pop()
    queue_nodes.append(node)
    print('  queue %d: thread %s on CPUs %s (blk-mq: %s), node %d'
          % (q, tid, allowed, kernel, node))
    if not want:
        # The kernel put the ring on the node of the queue's CPUs.
        r = rings.get(q)
        if not r:
            fail('queue %d: no pages of its ring in numa_maps' % q)
        if set(r) != {node}:
            fail('queue %d: ring pages on nodes %s, want %d' % (q, r, node))
        print('  queue %d: ring %d pages on node %d' % (q, sum(r.values()), node))

# An arena per queue (all of it pinned, so all of it mapped), wholly on
# its queue's node.
for n in set(queue_nodes) | set(arenas):
    want_pages = queue_nodes.count(n) * arena_pages
    got = arenas.get(n, {})
    if got != ({n: want_pages} if want_pages else {}):
        fail('arenas preferring node %d have pages %s, want %d on node %d'
             % (n, got, want_pages, n))
    print('  arenas of node %d: %d pages, all on node %d' % (n, want_pages, n))
PY
}

# check_reported DEV OUT: the runtime's own report (--stats-json) agrees
# with blk-mq's map and each CPU's node.
check_reported() {
	local dev=$1 q cpus node kernel knode
	azb_reported_cpus "$2" >"$AZB_WORK/reported"
	[ -s "$AZB_WORK/reported" ] || fail "the runtime reports no queues"
	while read -r q cpus node; do
		kernel=$(tr -d ' ' </sys/block/"$dev"/mq/"$q"/cpu_list)
		knode=$(basename /sys/devices/system/cpu/cpu"$kernel"/node*)
		knode=${knode#node}
		[ "$cpus" = "$kernel" ] && [ "$node" = "$knode" ] ||
			fail "runtime reports queue $q on CPUs $cpus node $node, blk-mq maps CPU $kernel of node $knode"
	done <"$AZB_WORK/reported"
}

azb_serve "$AZB_WORK/run" -q 2 -d 16 --max-io 64K -e mem -s 64M --stats-json
dev=$(basename "$AZB_DEV")
# Traffic on both queues: each CPU submits to its own queue.
for c in 0 1; do
	taskset -c $c dd if=/dev/zero of="$AZB_DEV" bs=64k count=16 \
		seek=$((c * 16)) oflag=direct 2>/dev/null || fail "write from CPU $c"
done
check_placement "$dev" "$AZB_RUN_PID" 2
sleep 1.2
check_reported "$dev" "$AZB_WORK/run"
azb_stop "$AZB_WORK/run"
note "each poller and its memory are on its queue's node"

# --cpus 1: both pollers on CPU 1, both arenas on node 1.
azb_serve "$AZB_WORK/run2" -q 2 -d 16 --max-io 64K -e mem -s 64M --cpus 1
dd if=/dev/zero of="$AZB_DEV" bs=64k count=16 oflag=direct 2>/dev/null ||
	fail "write with --cpus 1"
check_placement "$(basename "$AZB_DEV")" "$AZB_RUN_PID" 2 1
note "--cpus 1 moved both pollers and their arenas to node 1"
