//! Numbers as text without allocation: [`Decimal`] (one integer in decimal, on the
//! stack) and [`StackBuf`] (a fixed buffer that `write!` fills), for the values of
//! `STATUS=`, `MAINPID=`, `EXIT_STATUS=` and the like in a `no_std` program.
//!
//! ```
//! use baremsg::fmt::{Decimal, StackBuf};
//! use core::fmt::Write;
//!
//! assert_eq!(Decimal::from(4096u64).as_bytes(), b"4096");
//! assert_eq!(Decimal::from(i64::MIN).as_str(), "-9223372036854775808");
//!
//! let mut status = StackBuf::<64>::new();
//! write!(status, "STATUS={} workers, {}% busy", 3, 75).unwrap();
//! assert_eq!(status.as_bytes(), b"STATUS=3 workers, 75% busy");
//! // Too long for the buffer: an error, and the text written so far stays.
//! assert!(write!(StackBuf::<4>::new(), "{}", 123456).is_err());
//! ```

use core::fmt;

/// The most bytes an integer of 64 bits takes in decimal: `-9223372036854775808` and
/// `18446744073709551615` are 20.
pub const MAX_DECIMAL: usize = 20;

/// Writes `n` in decimal at the end of `out`; returns the digits.
pub(crate) fn decimal(mut n: u64, out: &mut [u8; MAX_DECIMAL]) -> &[u8] {
    let mut start = out.len();
    loop {
        start -= 1;
        out[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &out[start..]
}

/// One integer in decimal, ASCII, held on the stack: no sign for zero and positive
/// numbers, a leading `-` for negative ones, no leading zeros.
#[derive(Clone, Copy)]
pub struct Decimal {
    buf: [u8; MAX_DECIMAL],
    start: usize,
}

impl Decimal {
    /// `n` in decimal.
    pub fn unsigned(n: u64) -> Self {
        let mut buf = [0u8; MAX_DECIMAL];
        let start = MAX_DECIMAL - decimal(n, &mut buf).len();
        Self { buf, start }
    }

    /// `n` in decimal, with a `-` if it is negative.
    pub fn signed(n: i64) -> Self {
        let mut d = Self::unsigned(n.unsigned_abs());
        if n < 0 {
            // At most 19 digits for |i64::MIN|, so there is room for the sign.
            d.start -= 1;
            d.buf[d.start] = b'-';
        }
        d
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The text, as a `str` (it is ASCII).
    pub fn as_str(&self) -> &str {
        // Only digits and '-' are ever written.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

macro_rules! decimal_from {
    ($via:ident, $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(n: $t) -> Self {
                Self::$via(n as $wide)
            }
        }
    )*};
}
decimal_from!(unsigned, u64: u8, u16, u32, u64, usize);
decimal_from!(signed, i64: i8, i16, i32, i64, isize);

impl AsRef<[u8]> for Decimal {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad_integral(
            self.buf[self.start] != b'-',
            "",
            self.as_str().trim_start_matches('-'),
        )
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A buffer of `N` bytes on the stack that `write!` appends to (`core::fmt::Write`):
/// a message or a status text built from numbers and strings without allocation. A
/// write that does not fit fails with `fmt::Error` and leaves what fitted before it.
#[derive(Clone, Copy)]
pub struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `bytes`, all or nothing: `false` (and nothing appended) if they do not fit.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
                true
            }
            None => false,
        }
    }

    /// What was written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for StackBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

impl<const N: usize> AsRef<[u8]> for StackBuf<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl<const N: usize> fmt::Debug for StackBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StackBuf")
            .field(&self.as_bytes().escape_ascii())
            .finish()
    }
}
