// SPDX-License-Identifier: LGPL-2.1-or-later
//! The server: a device and one polling thread per hardware queue, each
//! calling its queue's engine (`struct azb_server_opts` and the
//! `azb_server_*` calls of azbuse.h).

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::sync::Arc;

use crate::engine::{ops_for, StorageEngine, OPENING};
use crate::errno::Errno;
use crate::sys;

/// How an idle polling thread waits for requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Spin a while (`spin_us`), then sleep: the default.
    Adaptive,
    /// Never sleep (a CPU per queue).
    Busy,
    /// Sleep whenever idle.
    Sleep,
}

impl std::str::FromStr for Poll {
    type Err = String;
    fn from_str(s: &str) -> Result<Poll, String> {
        match s {
            "adaptive" => Ok(Poll::Adaptive),
            "busy" => Ok(Poll::Busy),
            "sleep" => Ok(Poll::Sleep),
            _ => Err(format!("'{}' is not one of adaptive, busy, sleep", s)),
        }
    }
}

/// Where each polling thread may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    /// Any CPU of its queue's NUMA node(s): the default.
    Node,
    /// Only the CPUs blk-mq maps to its queue.
    Queue,
}

/// The polling threads' scheduling policy (`enum azb_sched`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sched {
    /// SCHED_BATCH unless the starting thread has a real-time or idle
    /// policy: a woken polling thread lets the thread that queued a
    /// request go on queueing (the default).
    Batch,
    /// The starting thread's policy, whatever it is.
    Inherit,
}

/// Per-queue counters (`struct azb_queue_stats` of azbuse.h).
pub type QueueStats = sys::azb_queue_stats;

/// Options of a server, as `azbuse-run` takes them.  Zero values take the
/// kernel's or the runtime's defaults.
pub struct ServerBuilder<E: StorageEngine> {
    engine: Arc<E>,
    name: String,
    size: u64,
    queues: u32,
    depth: u32,
    poll: Poll,
    spin_us: u32,
    batch: u32,
    cpus: Option<String>,
    pin: Pin,
    sched: Sched,
    dev_id: Option<u32>,
    write_cache: bool,
    max_io_bytes: u32,
    timeout_ms: u32,
}

impl<E: StorageEngine> ServerBuilder<E> {
    /// The engine's name in the runtime's messages (default "rust").
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
    /// Bytes the device serves; 0 (default): the engine's `size()`.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = bytes;
        self
    }
    /// Hardware queues; 0 (default): one per CPU.
    pub fn queues(mut self, n: u32) -> Self {
        self.queues = n;
        self
    }
    /// Requests in flight per queue; 0: the kernel's default.
    pub fn depth(mut self, n: u32) -> Self {
        self.depth = n;
        self
    }
    pub fn poll(mut self, p: Poll) -> Self {
        self.poll = p;
        self
    }
    /// Adaptive polling: how long to spin before sleeping; 0: default.
    pub fn spin_us(mut self, us: u32) -> Self {
        self.spin_us = us;
        self
    }
    /// Most requests taken per pass; 0: a whole queue.
    pub fn batch(mut self, n: u32) -> Self {
        self.batch = n;
        self
    }
    /// CPUs the polling threads may use ("0-3,8"); default: the program's.
    pub fn cpus(mut self, list: &str) -> Self {
        self.cpus = Some(list.into());
        self
    }
    pub fn pin(mut self, p: Pin) -> Self {
        self.pin = p;
        self
    }
    pub fn sched(mut self, s: Sched) -> Self {
        self.sched = s;
        self
    }
    /// Create /dev/azbuseN with this N (default: the first free).
    pub fn dev_id(mut self, id: u32) -> Self {
        self.dev_id = Some(id);
        self
    }
    /// A volatile write cache (default: yes, as azbuse-run): the kernel
    /// sends FLUSH and FUA and the engine may complete writes before they
    /// are durable.  false: every completed write is durable.
    pub fn write_cache(mut self, on: bool) -> Self {
        self.write_cache = on;
        self
    }
    /// The largest request in bytes; 0: the kernel's default.
    pub fn max_io_bytes(mut self, n: u32) -> Self {
        self.max_io_bytes = n;
        self
    }
    /// Per-request timeout of the kernel; 0: its default.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = ms;
        self
    }

    /// Creates the device and starts serving it: it serves I/O on return.
    pub fn start(self) -> Result<Server<E>, Errno> {
        let name = CString::new(self.name.clone()).map_err(|_| Errno::EINVAL)?;
        let cpus = match &self.cpus {
            Some(c) => Some(CString::new(c.as_str()).map_err(|_| Errno::EINVAL)?),
            None => None,
        };
        let ops = Box::new(ops_for::<E>(&name));
        let mut o: sys::azb_server_opts = unsafe { std::mem::zeroed() };
        o.size = std::mem::size_of::<sys::azb_server_opts>();
        unsafe { sys::azb_server_opts_init(&mut o) };
        o.engine = &*ops;
        o.dev.dev_id = self.dev_id.unwrap_or(sys::AZB_ID_ANY);
        o.dev.dev_bytes = self.size;
        o.dev.nr_queues = self.queues;
        o.dev.queue_depth = self.depth;
        o.dev.max_io_bytes = self.max_io_bytes;
        o.dev.timeout_ms = self.timeout_ms;
        if self.write_cache {
            o.dev.flags |= sys::AZB_DEV_WRITE_CACHE;
        }
        o.poll = match self.poll {
            Poll::Adaptive => sys::AZB_POLL_ADAPTIVE,
            Poll::Busy => sys::AZB_POLL_BUSY,
            Poll::Sleep => sys::AZB_POLL_SLEEP,
        };
        o.pin = match self.pin {
            Pin::Node => sys::AZB_PIN_NODE,
            Pin::Queue => sys::AZB_PIN_QUEUE,
        };
        o.sched = match self.sched {
            Sched::Batch => sys::AZB_SCHED_BATCH,
            Sched::Inherit => sys::AZB_SCHED_INHERIT,
        };
        if self.spin_us != 0 {
            o.poll_spin_us = self.spin_us;
        }
        o.batch = self.batch;
        o.cpus = cpus.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());

        // open() takes the engine from here, on this thread.
        OPENING.with(|c| *c.borrow_mut() = Some(Box::new(Arc::clone(&self.engine))));
        let mut raw: *mut sys::azb_server = std::ptr::null_mut();
        let ret = unsafe { sys::azb_server_create(&o, &mut raw) };
        OPENING.with(|c| c.borrow_mut().take());
        Errno::result(ret)?;
        let mut s = Server { raw, engine: self.engine, _ops: ops, _name: name, stopped: false };
        Errno::result(unsafe { sys::azb_server_start(s.raw) }).map_err(|e| {
            s.stopped = true;
            e
        })?;
        Ok(s)
    }
}

/// A device being served.  Dropping it stops serving (as [`stop`](
/// Self::stop)) and removes the device it created.
pub struct Server<E: StorageEngine> {
    raw: *mut sys::azb_server,
    engine: Arc<E>,
    // What the runtime points at while it runs.
    _ops: Box<sys::azb_engine_ops>,
    _name: CString,
    stopped: bool,
}

// The runtime's server calls are safe from any one thread at a time.
unsafe impl<E: StorageEngine> Send for Server<E> {}

impl<E: StorageEngine> Server<E> {
    /// A server of `engine`; set its options, then `start()`.
    pub fn builder(engine: E) -> ServerBuilder<E> {
        ServerBuilder {
            engine: Arc::new(engine),
            name: "rust".into(),
            size: 0,
            queues: 0,
            depth: 0,
            poll: Poll::Adaptive,
            spin_us: 0,
            batch: 0,
            cpus: None,
            pin: Pin::Node,
            sched: Sched::Batch,
            dev_id: None,
            write_cache: true,
            max_io_bytes: 0,
            timeout_ms: 0,
        }
    }

    /// The engine, shared with the polling threads.
    pub fn engine(&self) -> &E {
        &self.engine
    }
    /// N of /dev/azbuseN.
    pub fn dev_id(&self) -> u32 {
        unsafe { sys::azb_server_dev_id(self.raw) }
    }
    /// "/dev/azbuseN".
    pub fn device_path(&self) -> String {
        let mut buf = [0 as c_char; 64];
        unsafe {
            sys::azb_blk_path(self.dev_id(), buf.as_mut_ptr(), buf.len());
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        }
    }
    /// Bytes the device serves.
    pub fn size(&self) -> u64 {
        unsafe { (*sys::azb_server_info(self.raw)).params.dev_bytes }
    }
    pub fn nr_queues(&self) -> u32 {
        unsafe { sys::azb_server_nr_queues(self.raw) }
    }
    /// False once a polling thread stopped (the device was removed).
    pub fn running(&self) -> bool {
        !self.stopped && unsafe { sys::azb_server_running(self.raw) }
    }
    pub fn queue_stats(&self, qid: u32) -> Result<QueueStats, Errno> {
        let mut st = QueueStats::default();
        Errno::result(unsafe { sys::azb_server_queue_stats(self.raw, qid, &mut st) })?;
        Ok(st)
    }
    /// Finishes what the engine holds, then removes the device (requests
    /// still queued fail).  The first error a polling thread hit, if any.
    pub fn stop(&mut self) -> Result<(), Errno> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        Errno::result(unsafe { sys::azb_server_stop(self.raw) }).map(|_| ())
    }
}

impl<E: StorageEngine> Drop for Server<E> {
    fn drop(&mut self) {
        let _ = self.stop();
        unsafe { sys::azb_server_destroy(self.raw) };
    }
}
