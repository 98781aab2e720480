//! Unix socket addresses: a filesystem path, an abstract name, or unnamed.

use core::fmt;
use core::mem::size_of;

use crate::sys::{SockaddrUn, SUN_PATH_LEN, SUN_PATH_OFFSET};
use crate::Error;

/// A Unix socket address (`struct sockaddr_un` and its length).
///
/// ```
/// use baremsg::unix::{AddrKind, UnixAddr};
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let path = UnixAddr::parse(b"/run/app.sock")?;
/// assert_eq!(path.kind(), AddrKind::Path(b"/run/app.sock"));
/// let name = UnixAddr::parse(b"@app")?; // the abstract namespace
/// assert_eq!(name.as_abstract(), Some(&b"app"[..]));
/// assert_eq!(name.to_string(), "@app");
/// assert!(UnixAddr::from_path(&[b'x'; 108]).is_err()); // does not fit in sun_path
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct UnixAddr {
    raw: SockaddrUn,
    len: u32,
}

/// What a [`UnixAddr`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrKind<'a> {
    /// A filesystem path (without the trailing NUL).
    Path(&'a [u8]),
    /// A name in the abstract namespace (without the leading NUL).
    Abstract(&'a [u8]),
    /// No name: a socket that was never bound, or one end of a socketpair.
    Unnamed,
}

impl UnixAddr {
    /// A filesystem path address. The path must be non-empty, hold no NUL byte and fit in
    /// `sun_path` with its terminating NUL (at most 107 bytes).
    pub fn from_path(path: &[u8]) -> Result<Self, Error> {
        if path.is_empty() || path.len() >= SUN_PATH_LEN || path.contains(&0) {
            return Err(Error::InvalidAddress);
        }
        let mut raw = SockaddrUn::new();
        raw.sun_path[..path.len()].copy_from_slice(path);
        Ok(Self {
            raw,
            len: (SUN_PATH_OFFSET + path.len() + 1) as u32,
        })
    }

    /// An abstract-namespace address (Linux): `name` follows a NUL byte and may hold any
    /// bytes, at most 107 of them. Shown with a leading `@`.
    pub fn from_abstract(name: &[u8]) -> Result<Self, Error> {
        if name.len() >= SUN_PATH_LEN {
            return Err(Error::InvalidAddress);
        }
        let mut raw = SockaddrUn::new();
        raw.sun_path[1..=name.len()].copy_from_slice(name);
        Ok(Self {
            raw,
            len: (SUN_PATH_OFFSET + 1 + name.len()) as u32,
        })
    }

    /// Parses the common text form: a leading `@` means an abstract name, anything else
    /// is a path.
    pub fn parse(s: &[u8]) -> Result<Self, Error> {
        match s.split_first() {
            Some((b'@', name)) => Self::from_abstract(name),
            _ => Self::from_path(s),
        }
    }

    /// The unnamed address.
    pub const fn unnamed() -> Self {
        Self {
            raw: SockaddrUn::new(),
            len: SUN_PATH_OFFSET as u32,
        }
    }

    /// An address as the kernel filled it in (`len` bytes of `raw`).
    #[inline]
    pub(crate) fn from_raw(raw: SockaddrUn, len: u32) -> Self {
        let mut addr = Self { raw, len: 0 };
        addr.set_len(len);
        addr
    }

    /// Where the kernel may write an address, and how many bytes it may write: for
    /// `recvmsg`'s `msg_name` and `recvfrom`'s `src_addr`, then [`set_len`](Self::set_len).
    #[inline]
    pub(crate) fn as_raw_mut(&mut self) -> (*mut SockaddrUn, u32) {
        (&mut self.raw, size_of::<SockaddrUn>() as u32)
    }

    /// Sets the length the kernel reported, clamped to the structure.
    #[inline]
    pub(crate) fn set_len(&mut self, len: u32) {
        self.len = len.min(size_of::<SockaddrUn>() as u32);
    }

    /// What the address names.
    pub fn kind(&self) -> AddrKind<'_> {
        let len = (self.len as usize).saturating_sub(SUN_PATH_OFFSET);
        let path = &self.raw.sun_path[..len.min(SUN_PATH_LEN)];
        match path.split_first() {
            None => AddrKind::Unnamed,
            Some((0, name)) => AddrKind::Abstract(name),
            Some(_) => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                AddrKind::Path(&path[..end])
            }
        }
    }

    /// The path, if this is a filesystem address.
    pub fn as_path(&self) -> Option<&[u8]> {
        match self.kind() {
            AddrKind::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The abstract name, if this is an abstract address.
    pub fn as_abstract(&self) -> Option<&[u8]> {
        match self.kind() {
            AddrKind::Abstract(n) => Some(n),
            _ => None,
        }
    }

    /// Whether this is the unnamed address.
    pub fn is_unnamed(&self) -> bool {
        self.kind() == AddrKind::Unnamed
    }

    /// The raw address, for syscalls.
    pub fn as_raw(&self) -> (&SockaddrUn, u32) {
        (&self.raw, self.len)
    }
}

impl PartialEq for UnixAddr {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind()
    }
}

impl Eq for UnixAddr {}

/// Writes bytes as text: valid UTF-8 as is, anything else as `\xNN`.
fn write_bytes(f: &mut fmt::Formatter<'_>, mut bytes: &[u8]) -> fmt::Result {
    while !bytes.is_empty() {
        match core::str::from_utf8(bytes) {
            Ok(s) => return f.write_str(s),
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                // SAFETY: from_utf8 vouched for the first `valid_up_to` bytes.
                f.write_str(unsafe { core::str::from_utf8_unchecked(good) })?;
                let skip = e.error_len().unwrap_or(bad.len());
                for b in &bad[..skip] {
                    write!(f, "\\x{b:02x}")?;
                }
                bytes = &bad[skip..];
            }
        }
    }
    Ok(())
}

impl fmt::Display for UnixAddr {
    /// A path as is, an abstract name with a leading `@`, unnamed as `(unnamed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            AddrKind::Path(p) => write_bytes(f, p),
            AddrKind::Abstract(n) => {
                f.write_str("@")?;
                write_bytes(f, n)
            }
            AddrKind::Unnamed => f.write_str("(unnamed)"),
        }
    }
}

impl fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnixAddr(\"{self}\")")
    }
}

#[cfg(feature = "std")]
mod std_interop {
    use super::UnixAddr;
    use crate::Error;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    /// A filesystem path address, as [`UnixAddr::from_path`] (std's sockets take paths).
    impl TryFrom<&Path> for UnixAddr {
        type Error = Error;
        fn try_from(path: &Path) -> Result<Self, Error> {
            UnixAddr::from_path(path.as_os_str().as_bytes())
        }
    }

    /// A filesystem path address, as [`UnixAddr::from_path`].
    impl TryFrom<&OsStr> for UnixAddr {
        type Error = Error;
        fn try_from(path: &OsStr) -> Result<Self, Error> {
            UnixAddr::from_path(path.as_bytes())
        }
    }

    impl UnixAddr {
        /// The path, if this is a filesystem address, as a std [`Path`].
        pub fn as_std_path(&self) -> Option<&Path> {
            self.as_path().map(|p| Path::new(OsStr::from_bytes(p)))
        }
    }
}
