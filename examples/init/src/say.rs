//! Lines on stderr, each written with one `write` so that lines from the init and from
//! the service do not interleave within a line. No `core::fmt`: it would be most of the
//! program's size.

use baremsg::fd::{self, BorrowedFd};

/// A line being built: `baremsg-init: ` and then the parts; what does not fit in the
/// buffer is cut off.
pub struct Line {
    buf: [u8; 600],
    len: usize,
}

impl Line {
    #[inline(never)]
    pub fn new() -> Self {
        let mut line = Self {
            buf: [0; 600],
            len: 0,
        };
        line.s(b"baremsg-init: ");
        line
    }

    /// Adds bytes.
    #[inline(never)]
    pub fn s(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            // Room is kept for the newline.
            if self.len + 1 >= self.buf.len() {
                break;
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        self
    }

    /// Adds `n` in decimal.
    #[inline(never)]
    pub fn n(&mut self, n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let text = decimal(n, &mut digits);
        self.s(text)
    }

    /// Adds `n` in decimal, with its sign.
    #[inline(never)]
    pub fn i(&mut self, n: i64) -> &mut Self {
        if n < 0 {
            self.s(b"-");
        }
        self.n(n.unsigned_abs())
    }

    /// Adds an errno as `errno N`.
    #[inline(never)]
    pub fn errno(&mut self, e: baremsg::Errno) -> &mut Self {
        self.s(b"errno ").i(i64::from(e.raw()))
    }

    /// Writes the line and a newline to stderr, ignoring errors (there is nowhere else
    /// to report them).
    #[inline(never)]
    pub fn emit(&mut self) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b'\n';
            self.len += 1;
        }
        // SAFETY: fd 2 is the process's standard error, which the init never closes; if
        // it was never open, the write fails with EBADF.
        let err = unsafe { BorrowedFd::borrow_raw(2) };
        let _ = fd::write_all(err, self.buf.get(..self.len).unwrap_or(&[]));
    }
}

/// `n` in decimal, at the end of `buf`.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    while start > 0 {
        start -= 1;
        if let Some(d) = buf.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or(&[])
}
