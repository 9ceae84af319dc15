// SPDX-License-Identifier: MIT
//! A sparse memory store shared by all queues without a lock: 1 MiB
//! chunks allocated on first write (a chunk never written reads as zeros),
//! each a slice of atomic words, so queues on different CPUs may read and
//! write at once, as they may on a disk (the kernel orders what must be).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

const CHUNK: u64 = 1 << 20;
const WORDS: usize = (CHUNK / 8) as usize;

pub struct Sparse {
    chunks: Vec<OnceLock<Box<[AtomicU64]>>>,
}

impl Sparse {
    pub fn new(bytes: u64) -> Sparse {
        let n = ((bytes + CHUNK - 1) / CHUNK) as usize;
        Sparse { chunks: (0..n).map(|_| OnceLock::new()).collect() }
    }

    /// Calls f on each (chunk index, word index in it, byte range of the
    /// request) piece of len bytes at off; both are whole 8-byte words
    /// (block-aligned requests always are).
    fn pieces(off: u64, len: usize, mut f: impl FnMut(usize, usize, std::ops::Range<usize>)) {
        let mut done = 0usize;
        while done < len {
            let at = off + done as u64;
            let in_chunk = ((CHUNK - at % CHUNK) as usize).min(len - done);
            f((at / CHUNK) as usize, (at % CHUNK / 8) as usize, done..done + in_chunk);
            done += in_chunk;
        }
    }

    pub fn read(&self, off: u64, buf: &mut [u8]) {
        Self::pieces(off, buf.len(), |c, w, r| match self.chunks[c].get() {
            None => buf[r].fill(0),
            Some(words) => {
                for (dst, src) in buf[r].chunks_exact_mut(8).zip(&words[w..]) {
                    dst.copy_from_slice(&src.load(Relaxed).to_ne_bytes());
                }
            }
        });
    }

    pub fn write(&self, off: u64, buf: &[u8]) {
        Self::pieces(off, buf.len(), |c, w, r| {
            let words = self.chunks[c].get_or_init(|| (0..WORDS).map(|_| AtomicU64::new(0)).collect());
            for (src, dst) in buf[r].chunks_exact(8).zip(&words[w..]) {
                dst.store(u64::from_ne_bytes(src.try_into().unwrap()), Relaxed);
            }
        });
    }

    /// Zeros len bytes at off (chunks never written are zeros already).
    pub fn zero(&self, off: u64, len: u32) {
        Self::pieces(off, len as usize, |c, w, r| {
            if let Some(words) = self.chunks[c].get() {
                for dst in &words[w..w + r.len() / 8] {
                    dst.store(0, Relaxed);
                }
            }
        });
    }
}
