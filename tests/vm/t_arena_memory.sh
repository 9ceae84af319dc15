# An arena on a shared mapping of a regular file (page cache the kernel
# would dirty behind the filesystem's back) is refused on every kernel;
# one on shmem (a memfd) is accepted.
source "$(dirname "$0")/lib.sh"
azb_load
fs=$(azb_ext4 64)
"$AZBUSECTL" add 4 -s 16M -q 1 -d 4 --max-io 64K >/dev/null || fail "add"
"$AZB_HOSTILE" filearena 4 "$fs/arena" >"$AZB_WORK/out" 2>&1 || fail "$(cat "$AZB_WORK/out")"
"$AZBUSECTL" remove 4 || fail "remove"
rmmod azbuse || fail "rmmod"
note "file-backed arena refused, memfd arena accepted"
