#!/usr/bin/env python3
"""perf/thread-cpu.py DEVICE SECONDS [COMM_PREFIX...]

Where a block device's CPU goes, per I/O: samples, SECONDS apart, the
reads and writes DEVICE completed (/sys/block/DEVICE/stat), the guest's
CPU time (/proc/stat) and the user and system time and context switches
of every thread whose name starts with a COMM_PREFIX (default: fio, azb),
and prints each as microseconds (or switches) per I/O.  Tick-based
accounting: under QEMU TCG, sampling profilers see only idle, but the
scheduler's tick still charges each tick to the thread it interrupts.
"""
import os
import sys
import time


def threads(prefixes):
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            for tid in os.listdir('/proc/%s/task' % pid):
                base = '/proc/%s/task/%s/' % (pid, tid)
                stat = open(base + 'stat').read()
                comm = stat[stat.index('(') + 1:stat.rindex(')')]
                if not comm.startswith(tuple(prefixes)):
                    continue
                f = stat[stat.rindex(')') + 2:].split()
                sw = [int(l.split()[1]) for l in open(base + 'status')
                      if 'ctxt_switches' in l]
                out[(comm, tid)] = (int(f[11]), int(f[12]), sw[0], sw[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass	# the thread ended meanwhile
    return out


def snapshot(dev, prefixes):
    io = open('/sys/block/%s/stat' % dev).read().split()
    cpu = [int(x) for x in open('/proc/stat').readline().split()[1:]]
    return threads(prefixes), int(io[0]) + int(io[4]), cpu, time.monotonic()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().split('\n')[0])
    dev, secs = os.path.basename(sys.argv[1]), float(sys.argv[2])
    prefixes = sys.argv[3:] or ['fio', 'azb']
    a = snapshot(dev, prefixes)
    time.sleep(secs)
    b = snapshot(dev, prefixes)
    n, dt = b[1] - a[1], b[3] - a[3]
    if n <= 0:
        sys.exit('thread-cpu: %s completed no I/O in %.1f s' % (dev, dt))
    us = 1e6 / os.sysconf('SC_CLK_TCK')
    d = [y - x for x, y in zip(a[2], b[2])]
    busy = sum(d) - d[3] - d[4]		# all but idle and iowait
    print('%s: %d I/Os in %.1f s (%.0f IOPS); guest CPU per I/O %.2f us '
          '(user %.0f %%, system %.0f %%, idle %.0f %%)' %
          (dev, n, dt, n / dt, busy * us / n, 100.0 * d[0] / sum(d),
           100.0 * (d[2] + d[5] + d[6]) / sum(d), 100.0 * d[3] / sum(d)))
    print('| thread | tid | user us/IO | system us/IO | voluntary switches/IO | involuntary/IO |')
    print('|---|---:|---:|---:|---:|---:|')
    tot = [0, 0]
    for k in sorted(b[0]):
        if k not in a[0]:
            continue
        x = [q - p for p, q in zip(a[0][k], b[0][k])]
        if not any(x):
            continue	# idle the whole time: a job's parent, a main thread
        tot[0] += x[0]
        tot[1] += x[1]
        print('| %s | %s | %.2f | %.2f | %.3f | %.3f |' %
              (k[0], k[1], x[0] * us / n, x[1] * us / n, x[2] / n, x[3] / n))
    print('| all of these | | %.2f | %.2f | | |' % (tot[0] * us / n, tot[1] * us / n))


if __name__ == '__main__':
    main()
