// SPDX-License-Identifier: MIT
//! filedisk: serves a file or block device, and lets the kernel move the
//! data: every READ and WRITE is answered with where its bytes are (a
//! redirect), and the kernel does direct I/O between the request's own
//! pages and the file, with no copy and no data through this process.  A
//! kernel that cannot redirect, or a file it cannot do direct I/O on, gets
//! the same engine through the runtime's buffers (pread/pwrite).
//!
//!     filedisk -q 2 /srv/disk.img     # size: the file's, unless -s

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::os::unix::io::{AsRawFd, RawFd};
use std::sync::Arc;

use azbuse::{Errno, Flags, Geometry, Io, Op, QueueEngine, QueueInfo, StorageEngine};

struct FileDisk {
    file: Arc<File>,
    size: u64,
}

struct FileQueue {
    file: Arc<File>,
    redirect: bool,
}

impl StorageEngine for FileDisk {
    type Queue = FileQueue;
    fn size(&self) -> u64 {
        self.size
    }
    fn geometry(&self) -> Geometry {
        Geometry { logical_block_size: 512, ..Geometry::default() }
    }
    // File 0 of every redirect below.
    fn redirect_files(&self) -> Vec<(RawFd, bool)> {
        vec![(self.file.as_raw_fd(), false)]
    }
    fn open_queue(&self, q: &QueueInfo) -> Result<FileQueue, Errno> {
        Ok(FileQueue { file: Arc::clone(&self.file), redirect: q.redirect })
    }
}

impl QueueEngine for FileQueue {
    fn submit(&mut self, mut io: Io<'_>) -> Result<(), Errno> {
        let off = io.offset();
        match io.op() {
            Op::Read | Op::Write if self.redirect => io.redirect(0, off),
            Op::Read => Ok(self.file.read_exact_at(io.data_mut(), off)?),
            Op::Write => {
                self.file.write_all_at(io.data(), off)?;
                if io.flags().contains(Flags::FUA) {
                    self.file.sync_data()?;
                }
                Ok(())
            }
            Op::Flush => Ok(self.file.sync_data()?),
            Op::Discard | Op::WriteZeroes => Err(Errno::EOPNOTSUPP),
        }
    }
}

fn main() {
    let a = common::args("filedisk", "Serve FILE (a file or block device); the kernel moves the data.",
                         "  FILE                   what to serve\n");
    let path = match a.rest.as_slice() {
        [p] => p.clone(),
        [] => common::usage_error("filedisk", "missing FILE"),
        _ => common::usage_error("filedisk", "one FILE only"),
    };
    let mut file = OpenOptions::new().read(true).write(true).open(&path).unwrap_or_else(|e| {
        eprintln!("filedisk: {}: {}", path, e);
        std::process::exit(1);
    });
    // A block device's size is where its end is; a file's, its length.
    let len = file.seek(SeekFrom::End(0)).unwrap_or(0) / 4096 * 4096;
    if len == 0 {
        eprintln!("filedisk: {}: less than 4 KiB", path);
        std::process::exit(1);
    }
    common::serve("filedisk", &a, FileDisk { file: Arc::new(file), size: len });
}
