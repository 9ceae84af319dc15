#!/usr/bin/env bash
# Install everything azbuse needs to build, test and benchmark on Debian 12:
# toolchain and libraries, the bookworm-backports suite, and the kernel
# images + headers of the supported kernels for the QEMU guests: 6.1 from
# bookworm, 6.12 from backports, 7.2 from sid in a build root of its own
# (ci/sid-kernel).  Idempotent: a second run changes nothing.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "ci/deps.sh: must run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/azbuse-deps.stamp
self_sum=$(cat "$0" "$(dirname "$0")/sid-kernel" "$(dirname "$0")/host-mirror" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_sum" ] && [ -z "${AZB_DEPS_FORCE:-}" ]; then
	exit 0
fi

# bookworm-backports, derived from the machine's own sources (same mirror and
# keyring), so no host name is written here.
bp=/etc/apt/sources.list.d/azbuse-backports.sources
if [ ! -f "$bp" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	src=/etc/apt/sources.list.d/debian.sources
	uri=$("$(dirname "$0")/host-mirror") || { echo "ci/deps.sh: no bookworm mirror in the host's apt sources" >&2; exit 1; }
	key=$(awk '/^Signed-By:/ {print $2; exit}' "$src" 2>/dev/null || true)
	{
		echo "Types: deb"
		echo "URIs: $uri"
		echo "Suites: bookworm-backports"
		echo "Components: main"
		[ -n "$key" ] && echo "Signed-By: $key"
	} > "$bp"
fi

apt-get update -q >/dev/null

# What building, packaging and installing azbuse needs (the README's
# native section lists the same) ...
build_pkgs=(build-essential make gcc pkg-config kmod dpkg-dev debhelper dh-dkms dkms
      liburing-dev libnuma-dev libhwloc-dev libjemalloc-dev libnbd-dev
      librbd-dev librados-dev groff-base man-db rustc-web cargo-web)
# ... and what its tests and benchmarks add: QEMU guests and their kernels
# (below), fio, a Ceph cluster and nbdkit to serve from, lintian.
test_pkgs=(cpio xz-utils zstd busybox-static qemu-system-x86 fio util-linux bc
      e2fsprogs dmsetup python3 strace nbdkit nbd-client gnuplot-nox
      ceph-mon ceph-osd ceph-common rbd-nbd python3-rados python3-rbd
      qemu-utils debootstrap lintian)
pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}")
apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null

# Newest 6.1 kernel from bookworm and newest 6.12 from backports; a kernel
# that cannot be had is reported, and its guest tests skip.
# apt-cache search takes an extended regex on package names.
newest() { apt-cache search --names-only "$1" 2>/dev/null | awk '{print $1}' |
	sed 's/^linux-image-//' | sort -V | tail -n 1; }
k61=$(newest '^linux-image-6\.1\.0-[0-9]+-amd64$')
k612=$(newest '^linux-image-6\.12\.[0-9]+\+(bpo|deb12)-amd64$')
for k in "$k61" "$k612"; do
	[ -n "$k" ] || { echo "ci/deps.sh: a kernel series is not available; its guest tests will skip" >&2; continue; }
	t=()
	case "$k" in 6.12*) t=(-t bookworm-backports) ;; esac
	apt-get install -y -q --no-install-recommends "${t[@]}" "linux-image-$k" "linux-headers-$k" >/dev/null ||
		echo "ci/deps.sh: could not install kernel $k; its guest tests will skip" >&2
done

# Newest 7.x from sid, in its own root: its kbuild needs sid's toolchain.
# Not stamped done without it, so the next run tries again.
if "$(dirname "$0")/sid-kernel" 7 >/dev/null; then
	echo "$self_sum" > "$stamp"
else
	echo "ci/deps.sh: no Linux 7.x from sid; its guest tests will skip" >&2
fi
