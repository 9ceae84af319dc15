// SPDX-License-Identifier: MIT
//! The null engine: completes every request at once and touches no data,
//! as the C `null` engine.  Shared by the `null` server and the `rustnull`
//! plugin.

use azbuse::{Errno, Flags, Geometry, QueueEngine, QueueInfo, StorageEngine};

pub struct Null {
    pub size: u64,
}
pub struct NullQueue;

impl StorageEngine for Null {
    type Queue = NullQueue;
    fn size(&self) -> u64 {
        self.size
    }
    fn geometry(&self) -> Geometry {
        Geometry { discard: true, write_zeroes: true, ..Geometry::default() }
    }
    fn open_queue(&self, _q: &QueueInfo) -> Result<NullQueue, Errno> {
        Ok(NullQueue)
    }
}

impl QueueEngine for NullQueue {
    fn read(&mut self, _off: u64, _buf: &mut [u8], _f: Flags) -> Result<(), Errno> {
        Ok(())
    }
    fn write(&mut self, _off: u64, _buf: &[u8], _f: Flags) -> Result<(), Errno> {
        Ok(())
    }
    fn discard(&mut self, _off: u64, _len: u32, _f: Flags) -> Result<(), Errno> {
        Ok(())
    }
    fn write_zeroes(&mut self, _off: u64, _len: u32, _f: Flags) -> Result<(), Errno> {
        Ok(())
    }
}

