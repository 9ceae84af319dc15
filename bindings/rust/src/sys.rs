// SPDX-License-Identifier: LGPL-2.1-or-later
//! The C API of libazbuse (include/azbuse.h), as declared by hand and
//! checked against the header at build time: build.rs compiles a probe
//! that prints the header's sizes, offsets and constants, and the const
//! blocks at the end of this file fail the build on any difference.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

pub const AZB_ENGINE_OPS_VERSION: c_uint = 1;
pub const AZB_IO_QUEUED: c_int = 1;
pub const AZB_IO_REDIRECTED: c_int = 2;
pub const AZB_ENGINE_F_NEEDS_TARGET: c_uint = 1 << 0;
pub const AZB_ENGINE_F_NO_TARGET: c_uint = 1 << 1;
pub const AZB_ENGINE_F_WAKE_FD: c_uint = 1 << 2;
pub const AZB_ENGINE_PLUGIN_ABI: c_uint = 1;
pub const AZB_ID_ANY: u32 = 0xffff_ffff;

pub const AZB_DEV_READ_ONLY: u64 = 1 << 0;
pub const AZB_DEV_WRITE_CACHE: u64 = 1 << 2;
pub const AZB_DEV_DISCARD: u64 = 1 << 3;
pub const AZB_DEV_WRITE_ZEROES: u64 = 1 << 4;

pub const AZB_IO_FUA: u32 = 1 << 0;
pub const AZB_IO_PREFLUSH: u32 = 1 << 1;
pub const AZB_IO_NOUNMAP: u32 = 1 << 5;
pub const AZB_FILE_READ_ONLY: c_uint = 1 << 0;

pub const AZB_OP_READ: u32 = 0;
pub const AZB_OP_WRITE: u32 = 1;
pub const AZB_OP_FLUSH: u32 = 2;
pub const AZB_OP_DISCARD: u32 = 3;
pub const AZB_OP_WRITE_ZEROES: u32 = 4;

pub const AZB_POLL_ADAPTIVE: u32 = 0;
pub const AZB_POLL_BUSY: u32 = 1;
pub const AZB_POLL_SLEEP: u32 = 2;
pub const AZB_PIN_NODE: u32 = 0;
pub const AZB_PIN_QUEUE: u32 = 1;
pub const AZB_SCHED_BATCH: u32 = 0;
pub const AZB_SCHED_INHERIT: u32 = 1;

pub const AZB_LOG_ERR: c_int = 3;
pub const AZB_LOG_WARNING: c_int = 4;
pub const AZB_LOG_NOTICE: c_int = 5;
pub const AZB_STATS_BATCH_BUCKETS: usize = 14;

/// Opaque: the runtime's own.
#[repr(C)]
pub struct azb_server {
    _private: [u8; 0],
}
#[repr(C)]
pub struct azb_queue {
    _private: [u8; 0],
}
#[repr(C)]
pub struct azb_engine_opt {
    _private: [u8; 0],
}
/// struct pollfd of <poll.h>.
#[repr(C)]
pub struct pollfd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

#[repr(C)]
pub struct azb_io {
    pub op: u32,
    pub flags: u32,
    pub offset: u64,
    pub len: u32,
    pub ioprio: u16,
    pub tag: u16,
    pub buf: *mut c_void,
    pub engine_ctx: *mut c_void,
}

#[repr(C)]
pub struct azb_engine_opts {
    pub size: usize,
    pub dev_bytes: u64,
    pub logical_bs: u32,
    pub read_only: bool,
    pub params: *const c_char,
    pub write_cache: bool,
}

#[repr(C)]
pub struct azb_engine {
    pub ops: *const azb_engine_ops,
    pub priv_: *mut c_void,
    pub dev_bytes: u64,
    pub logical_bs: u32,
    pub dev_flags: u64,
    pub emulate: u32,
    pub max_discard_bytes: u32,
    pub discard_granularity: u32,
    pub max_write_zeroes_bytes: u32,
    pub server: *mut azb_server,
    pub nr_files: c_uint,
    pub files: [c_int; 64],
    pub file_flags: [u32; 64],
    pub redirect: bool,
}

#[repr(C)]
pub struct azb_engine_queue {
    pub engine: *mut azb_engine,
    pub priv_: *mut c_void,
    pub qid: c_uint,
    pub depth: c_uint,
    pub arena: *mut c_void,
    pub arena_bytes: usize,
    pub max_io_bytes: u32,
    pub rt: *mut azb_queue,
    pub wake_fd: c_int,
    pub redirect: bool,
}

pub type OpenFn = unsafe extern "C" fn(*mut azb_engine, *const c_char, *const azb_engine_opts) -> c_int;
pub type EngineFn = unsafe extern "C" fn(*mut azb_engine);
pub type QueueInitFn = unsafe extern "C" fn(*mut azb_engine_queue) -> c_int;
pub type QueueFn = unsafe extern "C" fn(*mut azb_engine_queue);
pub type IoFn = unsafe extern "C" fn(*mut azb_engine_queue, *mut azb_io) -> c_int;
pub type ReapFn = unsafe extern "C" fn(*mut azb_engine_queue) -> c_int;
pub type WaitFn = unsafe extern "C" fn(*mut azb_engine_queue, c_uint);

#[repr(C)]
pub struct azb_engine_ops {
    pub name: *const c_char,
    pub help: *const c_char,
    pub version: c_uint,
    pub flags: c_uint,
    pub io_ctx_bytes: usize,
    pub opts: *const azb_engine_opt,
    pub open: Option<OpenFn>,
    pub close: Option<EngineFn>,
    pub queue_init: Option<QueueInitFn>,
    pub queue_exit: Option<QueueFn>,
    pub queue: Option<IoFn>,
    pub commit: Option<QueueFn>,
    pub reap: Option<ReapFn>,
    pub wait: Option<WaitFn>,
}

// Read-only tables of pointers to static data: a plugin's are statics.
unsafe impl Sync for azb_engine_ops {}

/// What a plugin exports as `azb_engine_plugin` (AZB_ENGINE_PLUGIN()).
#[repr(C)]
pub struct azb_engine_plugin {
    pub abi: c_uint,
    pub ops: *const azb_engine_ops,
    pub init: Option<unsafe extern "C" fn() -> c_int>,
}
unsafe impl Sync for azb_engine_plugin {}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct azb_dev_params {
    pub size: usize,
    pub dev_id: u32,
    pub nr_poll_queues: u32,
    pub dev_bytes: u64,
    pub flags: u64,
    pub logical_bs: u32,
    pub physical_bs: u32,
    pub max_io_bytes: u32,
    pub nr_queues: u32,
    pub queue_depth: u32,
    pub timeout_ms: u32,
    pub recovery_ms: u32,
    pub max_discard_bytes: u32,
    pub discard_granularity: u32,
    pub max_write_zeroes_bytes: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct azb_dev_info {
    pub params: azb_dev_params,
    pub state: u32,
    pub owner_pid: c_int,
    pub blk_major: c_uint,
    pub blk_minor: c_uint,
    pub chr_major: c_uint,
    pub chr_minor: c_uint,
}

#[repr(C)]
pub struct azb_server_opts {
    pub size: usize,
    pub engine: *const azb_engine_ops,
    pub target: *const c_char,
    pub dev: azb_dev_params,
    pub attach_id: u32,
    pub poll: u32,
    pub poll_spin_us: c_uint,
    pub batch: c_uint,
    pub engine_params: *const c_char,
    pub cpus: *const c_char,
    pub pin: u32,
    pub label: *const c_char,
    pub serial: *const c_char,
    pub sched: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct azb_queue_stats {
    pub ios: [u64; 5],
    pub bytes: u64,
    pub errors: u64,
    pub batches: u64,
    pub bad_completions: u64,
    pub op_bytes: [u64; 5],
    pub commits: u64,
    pub commit_waits: u64,
    pub engine_waits: u64,
    pub takes: u64,
    pub batch_hist: [u64; AZB_STATS_BATCH_BUCKETS],
    pub qd_sum: u64,
    pub qd_max: u64,
    pub busy_ns: u64,
    pub idle_ns: u64,
    pub redirects: u64,
    pub polled: u64,
}

extern "C" {
    pub fn azb_server_opts_init(o: *mut azb_server_opts);
    pub fn azb_server_create(o: *const azb_server_opts, out: *mut *mut azb_server) -> c_int;
    pub fn azb_server_start(s: *mut azb_server) -> c_int;
    pub fn azb_server_dev_id(s: *const azb_server) -> u32;
    pub fn azb_server_info(s: *const azb_server) -> *const azb_dev_info;
    pub fn azb_server_running(s: *const azb_server) -> bool;
    pub fn azb_server_stop(s: *mut azb_server) -> c_int;
    pub fn azb_server_destroy(s: *mut azb_server);
    pub fn azb_server_queue_stats(s: *const azb_server, qid: c_uint, st: *mut azb_queue_stats) -> c_int;
    pub fn azb_server_nr_queues(s: *const azb_server) -> c_uint;
    pub fn azb_io_complete(q: *mut azb_engine_queue, io: *mut azb_io, res: c_int);
    pub fn azb_engine_poll(q: *mut azb_engine_queue, fds: *mut pollfd, n: c_uint, timeout_us: c_uint) -> c_int;
    pub fn azb_engine_add_file(e: *mut azb_engine, fd: c_int, flags: c_uint) -> c_int;
    pub fn azb_io_redirect(q: *mut azb_engine_queue, io: *mut azb_io, file: c_uint, offset: u64) -> c_int;
    pub fn azb_engine_resize(e: *mut azb_engine, dev_bytes: u64) -> c_int;
    pub fn azb_log(level: c_int, fmt: *const c_char, ...);
    pub fn azb_parse_size(s: *const c_char, out: *mut u64) -> c_int;
    pub fn azb_blk_path(dev_id: u32, buf: *mut c_char, len: usize);
}

// The build-time check: every size, alignment, offset and constant above
// as azbuse.h has it (written by build.rs's probe of the header).
include!(concat!(env!("OUT_DIR"), "/layout_check.rs"));
