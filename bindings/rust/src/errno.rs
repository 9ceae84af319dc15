// SPDX-License-Identifier: LGPL-2.1-or-later
//! Errors as the kernel and libazbuse speak them: an errno.

use std::fmt;

/// An errno value (positive): what a request fails with, what a libazbuse
/// call returned.  The block layer sees a failed request's errno.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const EIO: Errno = Errno(5);
    pub const ENOMEM: Errno = Errno(12);
    pub const EBUSY: Errno = Errno(16);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOSPC: Errno = Errno(28);
    pub const EROFS: Errno = Errno(30);
    pub const EOPNOTSUPP: Errno = Errno(95);
    pub const ETIMEDOUT: Errno = Errno(110);

    /// From a C return value: 0 or more is success, -errno an error.
    pub fn result(ret: i32) -> Result<i32, Errno> {
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(ret)
        }
    }

    /// The C side's -errno.
    pub fn neg(self) -> i32 {
        -self.0.abs()
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({}: {})", self.0, self)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The C library's message, without io::Error's " (os error N)".
        let s = std::io::Error::from_raw_os_error(self.0).to_string();
        let s = s.split(" (os error").next().unwrap_or(&s).to_string();
        f.write_str(&s)
    }
}

impl std::error::Error for Errno {}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

impl From<std::io::Error> for Errno {
    /// An io::Error with no errno becomes EIO.
    fn from(e: std::io::Error) -> Self {
        Errno(e.raw_os_error().unwrap_or(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_and_neg() {
        assert_eq!(Errno::result(0), Ok(0));
        assert_eq!(Errno::result(4096), Ok(4096));
        assert_eq!(Errno::result(-22), Err(Errno::EINVAL));
        assert_eq!(Errno::EIO.neg(), -5);
    }

    #[test]
    fn display_is_strerror() {
        assert_eq!(Errno::ENOSPC.to_string(), "No space left on device");
        let io: std::io::Error = Errno::EROFS.into();
        assert_eq!(io.raw_os_error(), Some(30));
        assert_eq!(Errno::from(std::io::Error::new(std::io::ErrorKind::Other, "x")), Errno::EIO);
    }
}
