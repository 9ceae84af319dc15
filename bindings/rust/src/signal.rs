// SPDX-License-Identifier: LGPL-2.1-or-later
//! Serving until told to stop, as azbuse-run does: SIGINT, SIGTERM and
//! SIGHUP are blocked in every thread (call [`block_stop_signals`] before
//! starting the server, whose threads inherit the mask) and taken by
//! [`wait_stop_signal`] in one.

use std::os::raw::c_int;

/// glibc's sigset_t: 1024 bits.
#[repr(C)]
struct SigSet([u64; 16]);

extern "C" {
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigaddset(set: *mut SigSet, sig: c_int) -> c_int;
    fn pthread_sigmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwait(set: *const SigSet, sig: *mut c_int) -> c_int;
}

const SIG_BLOCK: c_int = 0;
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

fn stop_set() -> SigSet {
    let mut set = SigSet([0; 16]);
    unsafe {
        sigemptyset(&mut set);
        for s in [SIGHUP, SIGINT, SIGTERM] {
            sigaddset(&mut set, s);
        }
    }
    set
}

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and the threads
/// it starts from now on.
pub fn block_stop_signals() {
    let set = stop_set();
    unsafe { pthread_sigmask(SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Waits for one of them; returns which.
pub fn wait_stop_signal() -> i32 {
    let set = stop_set();
    let mut sig: c_int = 0;
    while unsafe { sigwait(&set, &mut sig) } != 0 {}
    sig
}
