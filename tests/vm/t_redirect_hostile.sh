# A runtime that redirects wrongly (azb-hostile redirect): every bad file
# registration is refused with its errno (the device itself: ELOOP, a
# read-only file for a writable use: EBADF, a partly bad list changes
# nothing), every bad extent list fails its request alone with EIO while
# COMMIT says EINVAL, and the good answers move the right bytes between the
# request and the file (one extent, four scattered, a hole).  No oops, no
# WARN, no D state, and the module unloads.
source "$(dirname "$0")/lib.sh"
azb_load
mnt=$(azb_ext4 96)
truncate -s 40M "$mnt/file"
"$AZBUSECTL" add 6 -s 32M -q 1 -d 8 --max-io 64K >/dev/null || fail "add"
"$AZB_HOSTILE" redirect 6 "$mnt/file" >"$AZB_WORK/out" 2>&1 ||
	fail "azb-hostile redirect: $(cat "$AZB_WORK/out")"
note "$(tail -n 1 "$AZB_WORK/out")"
"$AZBUSECTL" remove 6 || fail "remove"
azb_no_d_state
rmmod azbuse || fail "rmmod with no device left"
