// SPDX-License-Identifier: LGPL-2.1-or-later
//! Storage engines in Rust for azbuse: serve a Linux block device,
//! `/dev/azbuseN`, from a safe [`StorageEngine`], at the C runtime's speed.
//!
//! The crate binds libazbuse (`azbuse.h`): the kernel module queues each
//! request on a ring per hardware queue, one polling thread per queue
//! takes them and calls that queue's [`QueueEngine`], with the request's
//! data as a slice of the runtime's buffer (no copy), and completes it
//! with what the engine returns.
//!
//! # An engine in a page
//!
//! ```no_run
//! use azbuse::{Errno, Flags, QueueEngine, QueueInfo, Server, StorageEngine};
//!
//! /// Reads zeros, takes writes and forgets them.
//! struct Zero { size: u64 }
//! struct ZeroQueue;
//!
//! impl StorageEngine for Zero {
//!     type Queue = ZeroQueue;
//!     fn size(&self) -> u64 { self.size }
//!     // Runs on each queue's polling thread: per-queue state, no locks.
//!     fn open_queue(&self, _q: &QueueInfo) -> Result<ZeroQueue, Errno> { Ok(ZeroQueue) }
//! }
//!
//! impl QueueEngine for ZeroQueue {
//!     fn read(&mut self, _off: u64, buf: &mut [u8], _f: Flags) -> Result<(), Errno> {
//!         buf.fill(0);
//!         Ok(())
//!     }
//!     fn write(&mut self, _off: u64, _buf: &[u8], _f: Flags) -> Result<(), Errno> { Ok(()) }
//! }
//!
//! fn main() -> Result<(), Errno> {
//!     azbuse::block_stop_signals();          // before the threads start
//!     let mut server = Server::builder(Zero { size: 1 << 30 }).queues(2).start()?;
//!     println!("{}", server.device_path());  // /dev/azbuseN serves I/O now
//!     azbuse::wait_stop_signal();            // SIGINT, SIGTERM, SIGHUP
//!     server.stop()                          // drain, remove the device
//! }
//! ```
//!
//! Build it with the azbuse module loaded and libazbuse installed
//! (`libazbuse-dev`) or built in the source tree this crate comes from.
//!
//! - An engine's operations (`read`, `write`, `flush`, `discard`,
//!   `write_zeroes`) get the request's [`Flags`] (FUA, PREFLUSH, ...) as the
//!   kernel sent them.  [`Geometry`] says which ops the device offers and
//!   which flags the runtime should emulate with flushes instead.
//! - To complete later (the network, io_uring), override
//!   [`QueueEngine::submit`] and call [`Io::defer`]: the [`Pending`] handle
//!   is `Send` and completes the request from any thread.
//! - An engine whose bytes are in files can answer with [`Io::redirect`]:
//!   the kernel moves the data itself.
//! - A panic in engine code fails that request with EIO and is logged; it
//!   never unwinds into the runtime.
//! - Errors are [`Errno`]s: what a request fails with is what the block
//!   layer sees.
//!
//! A Rust engine can also be a plugin, `NAME.so`, that `azbuse-run --engine
//! NAME` and any program embedding libazbuse load by name: implement
//! [`PluginEngine`] (how the engine is made from TARGET and `-o` options)
//! and write `azbuse::plugin!(MyEngine);` in a `cdylib` crate.
//!
//! Examples (`cargo run --example NAME -- -s 1G -q 2`): `ramdisk`, a sparse
//! memory disk; `null`, for measuring the binding's cost; `filedisk`, a file
//! or block device served by redirects (the kernel moves the data);
//! `faulty`, a memory disk for tests (panics on purpose, completes from
//! another thread);
//! `rustnull`, the null engine as a plugin (`librustnull.so`, installed as
//! `rustnull.so`).

mod engine;
mod errno;
mod server;
mod signal;
pub mod cli;
pub mod sys;

pub use engine::{Flags, Geometry, Io, Op, OpenArgs, Pending, PluginEngine, PluginOps, QueueEngine,
                 QueueInfo, Request, StorageEngine};

/// Makes this crate (`crate-type = ["cdylib"]`) an azbuse engine plugin
/// serving `$engine` (a [`PluginEngine`]): build it as NAME.so into a
/// directory of `$AZBUSE_ENGINE_PATH` or the installed plugin directory,
/// and `azbuse-run --engine NAME` serves it.
#[macro_export]
macro_rules! plugin {
    ($engine:ty) => {
        #[no_mangle]
        #[used]
        pub static azb_engine_plugin: $crate::sys::azb_engine_plugin = $crate::sys::azb_engine_plugin {
            abi: $crate::sys::AZB_ENGINE_PLUGIN_ABI,
            ops: &<$crate::PluginOps<$engine>>::OPS,
            init: None,
        };
    };
}
pub use errno::Errno;
pub use server::{Pin, Poll, QueueStats, Sched, Server, ServerBuilder};
pub use signal::{block_stop_signals, wait_stop_signal};

/// Logs a line through libazbuse's log (stderr unless the program set
/// another sink), at `AZB_LOG_ERR`, `_WARNING` or `_NOTICE`.
pub fn log_error(msg: &str) {
    engine::log(sys::AZB_LOG_ERR, msg)
}
pub fn log_warning(msg: &str) {
    engine::log(sys::AZB_LOG_WARNING, msg)
}
pub fn log_notice(msg: &str) {
    engine::log(sys::AZB_LOG_NOTICE, msg)
}
