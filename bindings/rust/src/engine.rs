// SPDX-License-Identifier: LGPL-2.1-or-later
//! The engine side: the traits an engine implements, the request it gets,
//! and the C entry points (one set per engine type, monomorphised) that the
//! runtime's pollers call.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::os::unix::io::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::sys;

/// Request flags: the kernel's, unchanged (`AZB_IO_*` of azbuse.h).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u32);

impl Flags {
    pub const FUA: Flags = Flags(1 << 0);
    pub const PREFLUSH: Flags = Flags(1 << 1);
    pub const SYNC: Flags = Flags(1 << 2);
    pub const META: Flags = Flags(1 << 3);
    pub const PRIO: Flags = Flags(1 << 4);
    pub const NOUNMAP: Flags = Flags(1 << 5);
    pub const RAHEAD: Flags = Flags(1 << 6);
    pub const BACKGROUND: Flags = Flags(1 << 7);
    pub const IDLE: Flags = Flags(1 << 8);
    pub const FAILFAST: Flags = Flags(1 << 9);
    pub const NOWAIT: Flags = Flags(1 << 10);

    pub const fn empty() -> Flags {
        Flags(0)
    }
    pub const fn bits(self) -> u32 {
        self.0
    }
    /// True if every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 11] = [
            "FUA", "PREFLUSH", "SYNC", "META", "PRIO", "NOUNMAP", "RAHEAD", "BACKGROUND", "IDLE",
            "FAILFAST", "NOWAIT",
        ];
        let set: Vec<&str> =
            NAMES.iter().enumerate().filter(|(i, _)| self.0 & (1 << i) != 0).map(|(_, n)| *n).collect();
        write!(f, "Flags({})", if set.is_empty() { "-".to_string() } else { set.join("|") })
    }
}

/// What a request asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
}

impl Op {
    fn from_raw(op: u32) -> Option<Op> {
        Some(match op {
            sys::AZB_OP_READ => Op::Read,
            sys::AZB_OP_WRITE => Op::Write,
            sys::AZB_OP_FLUSH => Op::Flush,
            sys::AZB_OP_DISCARD => Op::Discard,
            sys::AZB_OP_WRITE_ZEROES => Op::WriteZeroes,
            _ => return None,
        })
    }
}

/// What the device is, as the engine serves it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Geometry {
    /// Logical block size (512..4096, a power of two); 0: the runtime's.
    pub logical_block_size: u32,
    /// The engine serves only reads.
    pub read_only: bool,
    /// The engine serves DISCARD / WRITE_ZEROES: the kernel sends them.
    pub discard: bool,
    pub write_zeroes: bool,
    /// Flags the target cannot honour, which the runtime emulates with
    /// FLUSHes around the request: `Flags::PREFLUSH`, `Flags::FUA` (see
    /// `emulate` of `struct azb_engine` in azbuse.h).  The engine then never
    /// sees them.
    pub emulate: Flags,
}

/// A queue being set up: what `StorageEngine::open_queue` learns.
#[derive(Clone, Copy, Debug)]
pub struct QueueInfo {
    pub qid: u32,
    /// Requests in flight at most (tags 0..depth).
    pub depth: u32,
    /// The largest READ or WRITE, in bytes.
    pub max_io_bytes: u32,
    /// The kernel takes redirects on this queue (`StorageEngine::
    /// redirect_files` offered files and the kernel took them).
    pub redirect: bool,
}

/// A storage engine: one per device, shared by its queues.
///
/// The runtime runs one polling thread per hardware queue; each calls its
/// own queue's [`QueueEngine`] (made by [`open_queue`](Self::open_queue) on
/// that thread), so a queue's state needs no lock, and what the queues
/// share lives here (`&self`: `Sync`).
pub trait StorageEngine: Send + Sync + 'static {
    /// The per-queue state, owned by the queue's polling thread.
    type Queue: QueueEngine;

    /// Bytes the engine can serve.  A server asked for a size serves that
    /// many (at most this); otherwise this many.
    fn size(&self) -> u64;

    /// Block size, read-only, discard and write-zeroes support, flush
    /// emulation.  Default: 512-byte blocks, read-write, reads, writes and
    /// flushes only.
    fn geometry(&self) -> Geometry {
        Geometry::default()
    }

    /// Files or block devices the kernel may do the I/O on itself
    /// (redirect, see azbuse.h): each an fd open for reading (and writing,
    /// unless the flag says read-only) that stays open as long as the
    /// engine.  Their index in this list is what [`Io::redirect`] takes.
    fn redirect_files(&self) -> Vec<(RawFd, bool)> {
        Vec::new()
    }

    /// Called on each queue's polling thread before its first request.
    fn open_queue(&self, info: &QueueInfo) -> Result<Self::Queue, Errno>;
}

/// One queue's side of an engine.  Every call comes from the queue's own
/// polling thread.
///
/// Implement the operations the engine serves; each gets the request's
/// data as a slice of the runtime's buffer (no copy) and its flags, and
/// returns when the request is done.  An engine that finishes requests
/// later (the network, io_uring) implements [`submit`](Self::submit)
/// instead and completes each request through its [`Pending`] handle.
///
/// A panic in any of these fails the request with EIO and is reported;
/// it never unwinds into the runtime.
pub trait QueueEngine: 'static {
    fn read(&mut self, offset: u64, buf: &mut [u8], flags: Flags) -> Result<(), Errno> {
        let _ = (offset, buf, flags);
        Err(Errno::EOPNOTSUPP)
    }
    fn write(&mut self, offset: u64, buf: &[u8], flags: Flags) -> Result<(), Errno> {
        let _ = (offset, buf, flags);
        Err(Errno::EOPNOTSUPP)
    }
    /// Make completed writes durable.  Default: nothing to do (no cache).
    fn flush(&mut self, flags: Flags) -> Result<(), Errno> {
        let _ = flags;
        Ok(())
    }
    fn discard(&mut self, offset: u64, len: u32, flags: Flags) -> Result<(), Errno> {
        let _ = (offset, len, flags);
        Err(Errno::EOPNOTSUPP)
    }
    fn write_zeroes(&mut self, offset: u64, len: u32, flags: Flags) -> Result<(), Errno> {
        let _ = (offset, len, flags);
        Err(Errno::EOPNOTSUPP)
    }

    /// Every request comes here first.  The default hands it to the
    /// method of its op and completes it with the result.  Override it to
    /// complete later: `io.defer()` gives a [`Pending`] handle to finish
    /// the request from any thread (what `submit` then returns is ignored),
    /// or to answer with a redirect ([`Io::redirect`]).
    fn submit(&mut self, mut io: Io<'_>) -> Result<(), Errno> {
        let (off, flags) = (io.offset(), io.flags());
        match io.op() {
            Op::Read => self.read(off, io.data_mut(), flags),
            Op::Write => self.write(off, io.data(), flags),
            Op::Flush => self.flush(flags),
            Op::Discard => self.discard(off, io.len(), flags),
            Op::WriteZeroes => self.write_zeroes(off, io.len(), flags),
        }
    }

    /// While deferred requests are outstanding, the polling thread calls
    /// this on each pass before collecting their completions: drive
    /// progress that must happen on this thread.  Default: nothing.
    fn poll(&mut self) {}
}

/// How `submit` ended, as `Io`'s methods record it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Now,
    Deferred,
    Redirected,
}

/// What a request asks for, as [`Io`] and [`Pending`] show it (they
/// dereference to it).
pub struct Request {
    io: *mut sys::azb_io,
    op: Op,
    /// The queue takes redirects: a WRITE comes without its data.
    redirect_q: bool,
}

impl Request {
    pub fn op(&self) -> Op {
        self.op
    }
    pub fn flags(&self) -> Flags {
        Flags(unsafe { (*self.io).flags })
    }
    /// Bytes from the start of the device.
    pub fn offset(&self) -> u64 {
        unsafe { (*self.io).offset }
    }
    /// Bytes; 0 for a FLUSH.
    pub fn len(&self) -> u32 {
        unsafe { (*self.io).len }
    }
    /// The request's slot: 0..depth of its queue.
    pub fn tag(&self) -> u16 {
        unsafe { (*self.io).tag }
    }
    /// A WRITE's data (empty for other ops, and for a WRITE on a redirect
    /// queue, which must be redirected or failed).
    pub fn data(&self) -> &[u8] {
        if self.op != Op::Write || self.redirect_q {
            return &[];
        }
        unsafe { std::slice::from_raw_parts((*self.io).buf as *const u8, self.len() as usize) }
    }
    /// Where a READ's data goes (empty for other ops).
    pub fn data_mut(&mut self) -> &mut [u8] {
        if self.op != Op::Read {
            return &mut [];
        }
        unsafe { std::slice::from_raw_parts_mut((*self.io).buf as *mut u8, self.len() as usize) }
    }
}

/// One request, for the length of a `submit` call.
pub struct Io<'a> {
    req: Request,
    q: *mut sys::azb_engine_queue,
    outcome: &'a Cell<Outcome>,
    shared: &'a Arc<Shared>,
    _not_send: PhantomData<*mut u8>,
}

impl std::ops::Deref for Io<'_> {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.req
    }
}

impl std::ops::DerefMut for Io<'_> {
    fn deref_mut(&mut self) -> &mut Request {
        &mut self.req
    }
}

impl<'a> Io<'a> {
    /// Finish the request later, from any thread, through the handle.
    pub fn defer(self) -> Pending {
        self.outcome.set(Outcome::Deferred);
        Pending {
            req: Request { io: self.req.io, op: self.req.op, redirect_q: self.req.redirect_q },
            shared: Arc::clone(self.shared),
            done: false,
        }
    }
    /// Answer a READ or WRITE with where its bytes are: `file` (an index
    /// into [`StorageEngine::redirect_files`]) at `offset`; the kernel then
    /// moves them.  Only on a queue with `QueueInfo::redirect`.
    pub fn redirect(self, file: u32, offset: u64) -> Result<(), Errno> {
        let ret = unsafe { sys::azb_io_redirect(self.q, self.req.io, file, offset) };
        if ret == sys::AZB_IO_REDIRECTED {
            self.outcome.set(Outcome::Redirected);
            Ok(())
        } else {
            Err(Errno(if ret < 0 { -ret } else { 5 }))
        }
    }
}

/// A request the engine finishes later: `Send`, so any thread may hold it.
/// [`complete`](Self::complete) hands the result to the queue's polling
/// thread, which ends the request.  Dropped without completing, it fails
/// the request with EIO.  The server waits for every pending request when
/// it stops: complete them all.
pub struct Pending {
    req: Request,
    shared: Arc<Shared>,
    done: bool,
}

// The slot the handle points at belongs to it alone until it completes:
// the runtime gives the tag to no other request before then.
unsafe impl Send for Pending {}

impl std::ops::Deref for Pending {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.req
    }
}

impl std::ops::DerefMut for Pending {
    fn deref_mut(&mut self) -> &mut Request {
        &mut self.req
    }
}

impl Pending {
    /// Ends the request with `res`.
    pub fn complete(mut self, res: Result<(), Errno>) {
        self.done = true;
        self.shared.push(self.req.io, res.map_or_else(|e| e.neg(), |_| 0));
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            self.shared.push(self.req.io, Errno::EIO.neg());
        }
    }
}

/// A finished deferred request, on its way to the polling thread.
struct Done(*mut sys::azb_io, c_int);
unsafe impl Send for Done {}

/// What a queue's polling thread shares with the threads that complete
/// its deferred requests: one queue's own, never another's.
pub(crate) struct Shared {
    done: Mutex<Vec<Done>>,
    count: AtomicUsize,
    sleeping: AtomicBool,
    efd: RawFd,
}

extern "C" {
    fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn close(fd: c_int) -> c_int;
}
const EFD_CLOEXEC: c_int = 0o2000000;
const EFD_NONBLOCK: c_int = 0o4000;
const POLLIN: i16 = 1;

impl Shared {
    fn new(depth: usize) -> Result<Shared, Errno> {
        let efd = unsafe { eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
        if efd < 0 {
            return Err(Errno::from(std::io::Error::last_os_error()));
        }
        // Room for every tag: a completion never allocates.
        Ok(Shared { done: Mutex::new(Vec::with_capacity(depth)), count: AtomicUsize::new(0),
                    sleeping: AtomicBool::new(false), efd })
    }

    fn push(&self, io: *mut sys::azb_io, res: c_int) {
        {
            let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            done.push(Done(io, res));
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        // Pairs with wait_t: it stores sleeping, then looks at count.
        if self.sleeping.load(Ordering::SeqCst) {
            let one: u64 = 1;
            unsafe { write(self.efd, &one as *const u64 as *const c_void, 8) };
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        unsafe { close(self.efd) };
    }
}

/// A queue's state behind `azb_engine_queue.priv`.
struct QueueCtx<Q> {
    engine: Q,
    outcome: Cell<Outcome>,
    shared: Arc<Shared>,
    spare: Vec<Done>,
}

thread_local! {
    /// The engine azb_server_create() is about to open: open() runs in the
    /// creating thread, and its C arguments have no room for a pointer.
    pub(crate) static OPENING: RefCell<Option<Box<dyn Any>>> = RefCell::new(None);
}

pub(crate) fn log(level: c_int, msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    unsafe { sys::azb_log(level, b"%s\0".as_ptr() as *const c_char, msg.as_ptr()) };
}

fn panic_text(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}

/// Runs engine code; a panic becomes `None` after a line in the log.
fn guard<R>(what: &str, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(p) => {
            log(sys::AZB_LOG_ERR, &format!("rust engine: {} panicked: {}", what, panic_text(&*p)));
            None
        }
    }
}

unsafe fn engine_of<E: StorageEngine>(e: *mut sys::azb_engine) -> &'static Arc<E> {
    &*((*e).priv_ as *const Arc<E>)
}

unsafe extern "C" fn open_t<E: StorageEngine>(
    e: *mut sys::azb_engine,
    _target: *const c_char,
    o: *const sys::azb_engine_opts,
) -> c_int {
    let taken = OPENING.with(|c| c.borrow_mut().take());
    match taken.and_then(|b| b.downcast::<Arc<E>>().ok()) {
        Some(engine) => attach(e, o, *engine),
        None => Errno::EINVAL.neg(),
    }
}

/// Describes the device from the engine and hangs it on e.
unsafe fn attach<E: StorageEngine>(e: *mut sys::azb_engine, o: *const sys::azb_engine_opts,
                                   engine: Arc<E>) -> c_int {
    let wanted = (*o).dev_bytes;
    let described = guard("size/geometry", || (engine.size(), engine.geometry(), engine.redirect_files()));
    let (size, geo, files) = match described {
        Some(d) => d,
        None => return Errno::EIO.neg(),
    };
    if wanted > size {
        log(sys::AZB_LOG_ERR, &format!("rust engine: serves {} bytes, less than the {} asked for", size, wanted));
        return Errno::EINVAL.neg();
    }
    (*e).dev_bytes = if wanted != 0 { wanted } else { size };
    (*e).logical_bs = geo.logical_block_size;
    let mut flags = 0;
    if geo.read_only {
        flags |= sys::AZB_DEV_READ_ONLY;
    }
    if geo.discard {
        flags |= sys::AZB_DEV_DISCARD;
    }
    if geo.write_zeroes {
        flags |= sys::AZB_DEV_WRITE_ZEROES;
    }
    (*e).dev_flags = flags;
    (*e).emulate = geo.emulate.bits() & (sys::AZB_IO_PREFLUSH | sys::AZB_IO_FUA);
    for (fd, ro) in files {
        let ret = sys::azb_engine_add_file(e, fd, if ro { sys::AZB_FILE_READ_ONLY } else { 0 });
        if ret < 0 {
            return ret;
        }
    }
    (*e).priv_ = Box::into_raw(Box::new(engine)) as *mut c_void;
    0
}

unsafe fn opt_str<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        None
    } else {
        std::ffi::CStr::from_ptr(p).to_str().ok()
    }
}

/// A plugin's open(): the engine is made here, from the command line.
unsafe extern "C" fn open_plugin_t<E: PluginEngine>(
    e: *mut sys::azb_engine,
    target: *const c_char,
    o: *const sys::azb_engine_opts,
) -> c_int {
    let (target, params) = (opt_str(target), opt_str((*o).params));
    let args = OpenArgs { target, params, size: (*o).dev_bytes, read_only: (*o).read_only,
                          write_cache: (*o).write_cache };
    match guard("open", || E::open(&args)) {
        Some(Ok(engine)) => attach(e, o, Arc::new(engine)),
        Some(Err(err)) => err.neg(),
        None => Errno::EIO.neg(),
    }
}

/// What `azbuse-run` (or any program that loads the plugin) asked for.
#[derive(Clone, Copy, Debug)]
pub struct OpenArgs<'a> {
    /// The TARGET argument.
    pub target: Option<&'a str>,
    /// Engine options, "KEY[=VALUE],..." (`-o`), if any.
    pub params: Option<&'a str>,
    /// The size asked for (`-s`), 0 if none.
    pub size: u64,
    pub read_only: bool,
    /// The device has a volatile write cache: the kernel sends FLUSH/FUA.
    pub write_cache: bool,
}

/// An engine built as a plugin, `NAME.so`, that `azbuse-run --engine NAME`
/// (or any program through `azb_engine_load()`) loads: see [`plugin!`](
/// crate::plugin).  The program makes the engine with [`open`](Self::open).
pub trait PluginEngine: StorageEngine + Sized {
    /// The engine's name: the plugin file must be called NAME.so.
    const NAME: &'static std::ffi::CStr;
    /// One line for `azbuse-run --help`.
    const HELP: &'static std::ffi::CStr;
    /// Whether a TARGET is required (true) or refused (false).
    const NEEDS_TARGET: bool;
    /// Makes the engine.  Options in `params` it does not know are an
    /// error (EINVAL, after a line through [`crate::log_error`]).
    fn open(args: &OpenArgs<'_>) -> Result<Self, Errno>;
}

/// The C ops of a plugin engine, built at compile time.
pub struct PluginOps<E>(PhantomData<E>);

impl<E: PluginEngine> PluginOps<E> {
    pub const OPS: sys::azb_engine_ops = sys::azb_engine_ops {
        name: E::NAME.as_ptr(),
        help: E::HELP.as_ptr(),
        version: sys::AZB_ENGINE_OPS_VERSION,
        flags: sys::AZB_ENGINE_F_WAKE_FD |
            if E::NEEDS_TARGET { sys::AZB_ENGINE_F_NEEDS_TARGET } else { sys::AZB_ENGINE_F_NO_TARGET },
        io_ctx_bytes: 0,
        // params reach open() whole; the engine checks them.
        opts: std::ptr::null(),
        open: Some(open_plugin_t::<E>),
        close: Some(close_t::<E>),
        queue_init: Some(queue_init_t::<E>),
        queue_exit: Some(queue_exit_t::<E>),
        queue: Some(queue_t::<E>),
        commit: None,
        reap: Some(reap_t::<E>),
        wait: Some(wait_t::<E>),
    };
}

unsafe extern "C" fn close_t<E: StorageEngine>(e: *mut sys::azb_engine) {
    if !(*e).priv_.is_null() {
        let engine = Box::from_raw((*e).priv_ as *mut Arc<E>);
        (*e).priv_ = std::ptr::null_mut();
        guard("drop", move || drop(engine));
    }
}

unsafe extern "C" fn queue_init_t<E: StorageEngine>(q: *mut sys::azb_engine_queue) -> c_int {
    let engine = engine_of::<E>((*q).engine);
    let info = QueueInfo { qid: (*q).qid, depth: (*q).depth, max_io_bytes: (*q).max_io_bytes,
                           redirect: (*q).redirect };
    let shared = match Shared::new(info.depth as usize) {
        Ok(s) => Arc::new(s),
        Err(e) => return e.neg(),
    };
    let made = match guard("open_queue", || engine.open_queue(&info)) {
        Some(Ok(qe)) => qe,
        Some(Err(e)) => return e.neg(),
        None => return Errno::EIO.neg(),
    };
    let ctx = QueueCtx { engine: made, outcome: Cell::new(Outcome::Now), shared,
                         spare: Vec::with_capacity(info.depth as usize) };
    (*q).priv_ = Box::into_raw(Box::new(ctx)) as *mut c_void;
    0
}

unsafe extern "C" fn queue_exit_t<E: StorageEngine>(q: *mut sys::azb_engine_queue) {
    if !(*q).priv_.is_null() {
        let ctx = Box::from_raw((*q).priv_ as *mut QueueCtx<E::Queue>);
        (*q).priv_ = std::ptr::null_mut();
        guard("queue drop", move || drop(ctx));
    }
}

/// Calls `submit` and turns its outcome into the runtime's result.
unsafe fn submit_one<Q: QueueEngine>(ctx: &mut QueueCtx<Q>, q: *mut sys::azb_engine_queue,
                                     io: *mut sys::azb_io) -> c_int {
    let op = match Op::from_raw((*io).op) {
        Some(op) => op,
        None => return Errno::EOPNOTSUPP.neg(),
    };
    let QueueCtx { engine, outcome, shared, .. } = ctx;
    outcome.set(Outcome::Now);
    let req = Io { req: Request { io, op, redirect_q: (*q).redirect }, q, outcome, shared,
                   _not_send: PhantomData };
    let res = guard("a request", || engine.submit(req));
    match (outcome.get(), res) {
        // A handle that panicked away completes with EIO when dropped.
        (Outcome::Deferred, _) => sys::AZB_IO_QUEUED,
        (Outcome::Redirected, Some(Ok(()))) => sys::AZB_IO_REDIRECTED,
        (_, Some(Ok(()))) => 0,
        (_, Some(Err(e))) => e.neg(),
        (_, None) => Errno::EIO.neg(),
    }
}

unsafe extern "C" fn queue_t<E: StorageEngine>(q: *mut sys::azb_engine_queue,
                                               io: *mut sys::azb_io) -> c_int {
    let ctx = &mut *((*q).priv_ as *mut QueueCtx<E::Queue>);
    submit_one(ctx, q, io)
}

unsafe extern "C" fn reap_t<E: StorageEngine>(q: *mut sys::azb_engine_queue) -> c_int {
    let ctx = (*q).priv_ as *mut QueueCtx<E::Queue>;
    let mut list = {
        let c = &mut *ctx;
        let engine = &mut c.engine;
        guard("poll", || engine.poll());
        if c.shared.count.load(Ordering::Acquire) == 0 {
            return 0;
        }
        // The spare list (room for every tag) goes to the completers;
        // theirs comes here: neither side ever allocates.
        let mut list = std::mem::take(&mut c.spare);
        let mut done = c.shared.done.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::swap(&mut *done, &mut list);
        c.shared.count.store(0, Ordering::SeqCst);
        list
    };
    let n = list.len();
    // Completing may hand a request's next step (flush emulation) to
    // queue_t on this very queue: no reference into ctx is held meanwhile.
    for d in list.drain(..) {
        sys::azb_io_complete(q, d.0, d.1);
    }
    (*ctx).spare = list;
    n as c_int
}

unsafe extern "C" fn wait_t<E: StorageEngine>(q: *mut sys::azb_engine_queue, timeout_us: c_uint) {
    let ctx = &*((*q).priv_ as *const QueueCtx<E::Queue>);
    let shared = &ctx.shared;
    let mut p = sys::pollfd { fd: shared.efd, events: POLLIN, revents: 0 };

    shared.sleeping.store(true, Ordering::SeqCst);
    if shared.count.load(Ordering::SeqCst) == 0 && sys::azb_engine_poll(q, &mut p, 1, timeout_us) > 0 {
        let mut n: u64 = 0;
        read(shared.efd, &mut n as *mut u64 as *mut c_void, 8);
    }
    shared.sleeping.store(false, Ordering::SeqCst);
}

/// The C ops of engine type E, named `name`.
pub(crate) fn ops_for<E: StorageEngine>(name: &CString) -> sys::azb_engine_ops {
    sys::azb_engine_ops {
        name: name.as_ptr(),
        help: b"an engine written in Rust\0".as_ptr() as *const c_char,
        version: sys::AZB_ENGINE_OPS_VERSION,
        flags: sys::AZB_ENGINE_F_WAKE_FD,
        io_ctx_bytes: 0,
        // Options are the Rust program's own: it takes none through params.
        opts: std::ptr::null(),
        open: Some(open_t::<E>),
        close: Some(close_t::<E>),
        queue_init: Some(queue_init_t::<E>),
        queue_exit: Some(queue_exit_t::<E>),
        queue: Some(queue_t::<E>),
        commit: None,
        reap: Some(reap_t::<E>),
        wait: Some(wait_t::<E>),
    }
}

#[cfg(test)]
mod tests {
    //! submit_one against hand-made C structs: dispatch, flags, errors and
    //! panics, without a kernel (deferred completion needs a runtime
    //! queue: the guest tests cover it).
    use super::*;

    #[derive(Default)]
    struct Rec {
        seen: Vec<(Op, u64, u32, Flags)>,
    }
    impl QueueEngine for Rec {
        fn read(&mut self, off: u64, buf: &mut [u8], f: Flags) -> Result<(), Errno> {
            self.seen.push((Op::Read, off, buf.len() as u32, f));
            if off == 4096 {
                panic!("read at 4096");
            }
            buf.fill(0xab);
            Ok(())
        }
        fn write(&mut self, off: u64, buf: &[u8], f: Flags) -> Result<(), Errno> {
            self.seen.push((Op::Write, off, buf.len() as u32, f));
            if buf.iter().any(|&b| b != 0x5a) {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
    }

    fn ctx() -> QueueCtx<Rec> {
        QueueCtx { engine: Rec::default(), outcome: Cell::new(Outcome::Now),
                   shared: Arc::new(Shared::new(4).unwrap()), spare: Vec::new() }
    }

    fn run(c: &mut QueueCtx<Rec>, op: u32, off: u64, buf: &mut [u8], flags: u32) -> c_int {
        let mut q: sys::azb_engine_queue = unsafe { std::mem::zeroed() };
        let mut io = sys::azb_io { op, flags, offset: off, len: buf.len() as u32, ioprio: 0, tag: 1,
                                   buf: buf.as_mut_ptr() as *mut c_void, engine_ctx: std::ptr::null_mut() };
        unsafe { submit_one(c, &mut q, &mut io) }
    }

    #[test]
    fn dispatch_by_op_with_flags() {
        let mut c = ctx();
        let mut buf = vec![0u8; 8192];
        assert_eq!(run(&mut c, sys::AZB_OP_READ, 0, &mut buf, 0), 0);
        assert!(buf.iter().all(|&b| b == 0xab), "read data did not reach the buffer");
        buf.fill(0x5a);
        let fua_sync = (Flags::FUA | Flags::SYNC).bits();
        assert_eq!(run(&mut c, sys::AZB_OP_WRITE, 8192, &mut buf, fua_sync), 0);
        assert_eq!(c.engine.seen[1], (Op::Write, 8192, 8192, Flags::FUA | Flags::SYNC));
        buf[5] = 0;
        assert_eq!(run(&mut c, sys::AZB_OP_WRITE, 0, &mut buf, 0), -22, "an Err is its -errno");
        assert_eq!(run(&mut c, sys::AZB_OP_FLUSH, 0, &mut [], 0), 0, "flush defaults to done");
        assert_eq!(run(&mut c, sys::AZB_OP_DISCARD, 0, &mut buf, 0), -95, "no discard: EOPNOTSUPP");
        assert_eq!(run(&mut c, 9, 0, &mut buf, 0), -95, "unknown op");
    }

    #[test]
    fn a_panic_fails_only_its_request() {
        let mut c = ctx();
        let mut buf = vec![0u8; 4096];
        assert_eq!(run(&mut c, sys::AZB_OP_READ, 4096, &mut buf, 0), -5);
        assert_eq!(run(&mut c, sys::AZB_OP_READ, 0, &mut buf, 0), 0, "the next request is served");
        assert_eq!(c.engine.seen.len(), 2);
    }

    #[test]
    fn flags_print_by_name() {
        assert_eq!(format!("{:?}", Flags::FUA | Flags::NOUNMAP), "Flags(FUA|NOUNMAP)");
        assert!((Flags::FUA | Flags::SYNC).contains(Flags::SYNC));
        assert!(!Flags::FUA.contains(Flags::PREFLUSH));
    }
}
