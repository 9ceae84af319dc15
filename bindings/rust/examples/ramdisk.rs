// SPDX-License-Identifier: MIT
//! ramdisk: a sparse memory disk, the original azbuse's example.  Memory
//! is taken as data is written (1 MiB at a time); discard and write-zeroes
//! zero it.  All queues share the store without a lock.
//!
//!     ramdisk -s 4G -q 2          # prints /dev/azbuseN, serves until ^C

mod common;

use std::sync::Arc;

use azbuse::{Errno, Flags, Geometry, QueueEngine, QueueInfo, StorageEngine};
use common::sparse::Sparse;

struct Ramdisk {
    size: u64,
    store: Arc<Sparse>,
}

/// A queue's view: the shared store.
struct RamdiskQueue {
    store: Arc<Sparse>,
}

impl StorageEngine for Ramdisk {
    type Queue = RamdiskQueue;
    fn size(&self) -> u64 {
        self.size
    }
    fn geometry(&self) -> Geometry {
        Geometry { discard: true, write_zeroes: true, ..Geometry::default() }
    }
    fn open_queue(&self, _q: &QueueInfo) -> Result<RamdiskQueue, Errno> {
        Ok(RamdiskQueue { store: Arc::clone(&self.store) })
    }
}

impl QueueEngine for RamdiskQueue {
    fn read(&mut self, off: u64, buf: &mut [u8], _f: Flags) -> Result<(), Errno> {
        self.store.read(off, buf);
        Ok(())
    }
    // Memory is as durable as this disk gets: FUA and FLUSH need nothing.
    fn write(&mut self, off: u64, buf: &[u8], _f: Flags) -> Result<(), Errno> {
        self.store.write(off, buf);
        Ok(())
    }
    fn discard(&mut self, off: u64, len: u32, _f: Flags) -> Result<(), Errno> {
        self.store.zero(off, len);
        Ok(())
    }
    fn write_zeroes(&mut self, off: u64, len: u32, _f: Flags) -> Result<(), Errno> {
        self.store.zero(off, len);
        Ok(())
    }
}

fn main() {
    let a = common::args("ramdisk", "Serve a sparse memory disk of SIZE bytes.", "");
    if let Some(x) = a.rest.first() {
        common::usage_error("ramdisk", &format!("unexpected argument '{}'", x));
    }
    if a.size == 0 {
        common::usage_error("ramdisk", "-s SIZE is required");
    }
    common::serve("ramdisk", &a, Ramdisk { size: a.size, store: Arc::new(Sparse::new(a.size)) });
}
