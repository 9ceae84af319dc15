// SPDX-License-Identifier: MIT
//! faulty: a sparse memory disk for testing the binding (and an engine's
//! error paths): a READ that covers byte --panic-at OFFSET panics in the
//! engine, which fails only that request, with EIO; with --defer, each
//! queue hands its requests to a thread of its own, which completes them
//! through their Pending handles, as an engine waiting on the network
//! would.
//!
//!     faulty -s 1G -q 2 --panic-at 1M --defer

mod common;

use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use azbuse::{Errno, Geometry, Io, Op, Pending, QueueEngine, QueueInfo, StorageEngine};
use common::sparse::Sparse;

struct Faulty {
    size: u64,
    store: Arc<Sparse>,
    panic_at: Option<u64>,
    defer: bool,
}

struct FaultyQueue {
    store: Arc<Sparse>,
    panic_at: Option<u64>,
    worker: Option<(Sender<Pending>, JoinHandle<()>)>,
}

/// Serves one request against the store: its result.
fn serve(store: &Sparse, panic_at: Option<u64>, op: Op, off: u64, len: u32,
         read_buf: Option<&mut [u8]>, write_buf: &[u8]) -> Result<(), Errno> {
    match op {
        Op::Read => {
            if let Some(p) = panic_at {
                if p >= off && p < off + len as u64 {
                    panic!("faulty: a read of byte {} (as asked)", p);
                }
            }
            store.read(off, read_buf.unwrap_or(&mut []));
        }
        Op::Write => store.write(off, write_buf),
        Op::Flush => {}
        Op::Discard | Op::WriteZeroes => store.zero(off, len),
    }
    Ok(())
}

impl StorageEngine for Faulty {
    type Queue = FaultyQueue;
    fn size(&self) -> u64 {
        self.size
    }
    fn geometry(&self) -> Geometry {
        Geometry { discard: true, write_zeroes: true, ..Geometry::default() }
    }
    fn open_queue(&self, _q: &QueueInfo) -> Result<FaultyQueue, Errno> {
        let worker = if self.defer {
            let (tx, rx) = channel::<Pending>();
            let (store, panic_at) = (Arc::clone(&self.store), self.panic_at);
            let h = std::thread::spawn(move || {
                for mut p in rx {
                    let (op, off, len) = (p.op(), p.offset(), p.len());
                    // A panic here drops p, which fails the request (EIO).
                    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match op {
                        Op::Read => serve(&store, panic_at, op, off, len, Some(p.data_mut()), &[]),
                        _ => serve(&store, panic_at, op, off, len, None, p.data()),
                    }));
                    p.complete(res.unwrap_or(Err(Errno::EIO)));
                }
            });
            Some((tx, h))
        } else {
            None
        };
        Ok(FaultyQueue { store: Arc::clone(&self.store), panic_at: self.panic_at, worker })
    }
}

impl QueueEngine for FaultyQueue {
    fn submit(&mut self, mut io: Io<'_>) -> Result<(), Errno> {
        if let Some((tx, _)) = &self.worker {
            // The worker completes it; if it is gone, dropping fails it.
            let _ = tx.send(io.defer());
            return Ok(());
        }
        let (op, off, len) = (io.op(), io.offset(), io.len());
        match op {
            Op::Read => serve(&self.store, self.panic_at, op, off, len, Some(io.data_mut()), &[]),
            _ => serve(&self.store, self.panic_at, op, off, len, None, io.data()),
        }
    }
}

impl Drop for FaultyQueue {
    fn drop(&mut self) {
        if let Some((tx, h)) = self.worker.take() {
            drop(tx);
            let _ = h.join();
        }
    }
}

fn main() {
    let extra = "      --panic-at OFFSET  a READ covering byte OFFSET (a size) panics\n      \
                 --defer            complete every request from a thread of its queue\n";
    let a = common::args("faulty", "Serve a memory disk that fails on purpose, for tests.", extra);
    let (mut panic_at, mut defer) = (None, false);
    let mut rest = a.rest.iter();
    while let Some(x) = rest.next() {
        match x.as_str() {
            "--defer" => defer = true,
            "--panic-at" => {
                let v = rest.next().unwrap_or_else(|| common::usage_error("faulty", "option '--panic-at' requires an argument"));
                panic_at = Some(azbuse::cli::parse_size(v).unwrap_or_else(|| {
                    common::usage_error("faulty", &format!("--panic-at: '{}' is not a size", v))
                }));
            }
            _ => common::usage_error("faulty", &format!("unrecognized argument '{}'", x)),
        }
    }
    if a.size == 0 {
        common::usage_error("faulty", "-s SIZE is required");
    }
    let store = Arc::new(Sparse::new(a.size));
    common::serve("faulty", &a, Faulty { size: a.size, store, panic_at, defer });
}
