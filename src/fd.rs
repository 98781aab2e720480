//! Owned and borrowed file descriptors, in the shape of std's `std::os::fd`.
//!
//! With the `std` feature these *are* std's types and traits, re-exported: an fd from
//! baremsg is a [`std::os::fd::OwnedFd`], a `File`'s `as_fd()` is a [`BorrowedFd`]
//! baremsg takes as is, and every crate built on std's fds mixes with baremsg without a
//! conversion. Without `std` they are baremsg's own, with the same API, so code written
//! without `std` compiles unchanged with it (cargo builds one baremsg per program, with
//! the features of all its users).
//!
//! What std's types do not have, fd flags and duplication with baremsg's error type,
//! are the free functions here ([`is_cloexec`], [`set_nonblocking`], [`try_clone`],
//! ...), which take any [`AsFd`] and return [`Errno`] in both builds.
//!
//! Every fd the safe layers create or receive is an [`OwnedFd`], closed exactly once
//! when dropped; fds to send go in as [`BorrowedFd`]s. Every fd baremsg creates is
//! close-on-exec.
//!
//! ```
//! use baremsg::fd::{self, AsFd};
//!
//! # fn main() -> Result<(), baremsg::Errno> {
//! let (r, w) = fd::pipe()?;
//! assert!(fd::is_cloexec(&r)?);
//! fd::write_all(w.as_fd(), b"ping")?;
//! let mut buf = [0u8; 4];
//! assert_eq!(fd::read(&r, &mut buf)?, 4);
//! assert_eq!(&buf, b"ping");
//!
//! fd::set_nonblocking(&r, true)?;
//! assert_eq!(fd::read(&r, &mut buf), Err(baremsg::Errno::EAGAIN));
//! let again = fd::try_clone(&r)?; // F_DUPFD_CLOEXEC: a new fd, the same pipe
//! assert!(fd::is_nonblocking(&again)?); // O_NONBLOCK belongs to the open pipe
//! # Ok(())
//! # }
//! ```

use core::ffi::CStr;

use crate::sys;
use crate::Errno;

#[cfg(feature = "std")]
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
pub use own::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// baremsg's own fd types, for builds without std: the API of `std::os::fd`'s.
#[cfg(not(feature = "std"))]
mod own {
    use core::fmt;
    use core::marker::PhantomData;

    use crate::sys;

    /// A raw file descriptor number.
    pub type RawFd = i32;

    /// An open file descriptor that closes when dropped.
    ///
    /// Invariant: the fd is open (non-negative) and nobody else closes it.
    #[repr(transparent)]
    pub struct OwnedFd {
        fd: RawFd,
    }

    /// A file descriptor borrowed from an owner that keeps it open for `'fd`.
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct BorrowedFd<'fd> {
        fd: RawFd,
        _owner: PhantomData<&'fd OwnedFd>,
    }

    /// Borrows a file descriptor.
    pub trait AsFd {
        /// The fd, borrowed for as long as `self` is.
        fn as_fd(&self) -> BorrowedFd<'_>;
    }

    /// Exposes the raw number of a file descriptor, without ownership.
    pub trait AsRawFd {
        /// The fd's number.
        fn as_raw_fd(&self) -> RawFd;
    }

    /// Takes ownership of a raw file descriptor.
    pub trait FromRawFd {
        /// Wraps `fd`, which will be closed when the result is dropped.
        ///
        /// # Safety
        /// `fd` is open and owned by nobody else: nothing else will close it.
        unsafe fn from_raw_fd(fd: RawFd) -> Self;
    }

    /// Gives up ownership of a file descriptor without closing it.
    pub trait IntoRawFd {
        /// The fd's number; the caller now owns it.
        fn into_raw_fd(self) -> RawFd;
    }

    impl OwnedFd {
        /// Another fd for the same open file, close-on-exec (`F_DUPFD_CLOEXEC`). With
        /// the `std` feature this is std's, returning `std::io::Result`; the same in
        /// both builds: [`fd::try_clone`](super::try_clone).
        pub fn try_clone(&self) -> Result<OwnedFd, crate::Errno> {
            super::try_clone(self)
        }
    }

    impl Drop for OwnedFd {
        #[inline]
        fn drop(&mut self) {
            // SAFETY: we own the fd (type invariant). close releases the fd even when it
            // reports an error (EINTR, EIO), so there is nothing to retry.
            let _ = unsafe { sys::close(self.fd) };
        }
    }

    impl BorrowedFd<'_> {
        /// Borrows `fd`.
        ///
        /// # Safety
        /// `fd` stays open for `'fd`.
        #[inline]
        pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
            Self {
                fd,
                _owner: PhantomData,
            }
        }

        /// A new owned fd for the same open file, close-on-exec (`F_DUPFD_CLOEXEC`).
        /// With the `std` feature this is std's, returning `std::io::Result`; the same
        /// in both builds: [`fd::try_clone`](super::try_clone).
        pub fn try_clone_to_owned(&self) -> Result<OwnedFd, crate::Errno> {
            super::try_clone(self)
        }
    }

    impl AsFd for OwnedFd {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            BorrowedFd {
                fd: self.fd,
                _owner: PhantomData,
            }
        }
    }

    impl AsFd for BorrowedFd<'_> {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            *self
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &T {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            (**self).as_fd()
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &mut T {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            (**self).as_fd()
        }
    }

    impl AsRawFd for OwnedFd {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl AsRawFd for BorrowedFd<'_> {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl AsRawFd for RawFd {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            *self
        }
    }

    impl FromRawFd for OwnedFd {
        #[inline]
        unsafe fn from_raw_fd(fd: RawFd) -> Self {
            debug_assert!(fd >= 0, "OwnedFd from a negative fd");
            Self { fd }
        }
    }

    impl FromRawFd for RawFd {
        #[inline]
        unsafe fn from_raw_fd(fd: RawFd) -> Self {
            fd
        }
    }

    impl IntoRawFd for OwnedFd {
        #[inline]
        fn into_raw_fd(self) -> RawFd {
            let fd = self.fd;
            core::mem::forget(self);
            fd
        }
    }

    impl IntoRawFd for RawFd {
        #[inline]
        fn into_raw_fd(self) -> RawFd {
            self
        }
    }

    impl fmt::Debug for OwnedFd {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
        }
    }

    impl fmt::Debug for BorrowedFd<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
        }
    }
}

/// A new fd for the same open file, close-on-exec (`fcntl(2)` `F_DUPFD_CLOEXEC`): what
/// `OwnedFd::try_clone` does, with [`Errno`] as the error in both builds.
pub fn try_clone(fd: impl AsFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC only makes a new fd, which the OwnedFd below owns.
    let new = unsafe { sys::fcntl(fd.as_fd().as_raw_fd(), sys::F_DUPFD_CLOEXEC, 0) }?;
    // SAFETY: fcntl returned a new open fd that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new as RawFd) })
}

/// Whether close-on-exec is set on `fd` (`fcntl(2)` `F_GETFD`).
pub fn is_cloexec(fd: impl AsFd) -> Result<bool, Errno> {
    // SAFETY: F_GETFD only reads the fd's flags.
    let flags = unsafe { sys::fcntl(fd.as_fd().as_raw_fd(), sys::F_GETFD, 0) }?;
    Ok(flags as i32 & sys::FD_CLOEXEC != 0)
}

/// Sets or clears close-on-exec on `fd` (`fcntl(2)` `F_SETFD`).
pub fn set_cloexec(fd: impl AsFd, on: bool) -> Result<(), Errno> {
    let flags = if on { sys::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD only changes the fd's own flags.
    unsafe { sys::fcntl(fd.as_fd().as_raw_fd(), sys::F_SETFD, flags as usize) }.map(drop)
}

/// Whether `O_NONBLOCK` is set on the open file `fd` refers to (`fcntl(2)` `F_GETFL`).
pub fn is_nonblocking(fd: impl AsFd) -> Result<bool, Errno> {
    // SAFETY: F_GETFL only reads flags.
    let flags = unsafe { sys::fcntl(fd.as_fd().as_raw_fd(), sys::F_GETFL, 0) }?;
    Ok(flags as i32 & sys::O_NONBLOCK != 0)
}

/// Sets or clears `O_NONBLOCK` on the open file `fd` refers to (`fcntl(2)` `F_GETFL`,
/// `F_SETFL`); it is shared by every fd for that file: calls that would wait fail with
/// `EAGAIN` instead.
pub fn set_nonblocking(fd: impl AsFd, on: bool) -> Result<(), Errno> {
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: F_GETFL only reads flags.
    let flags = unsafe { sys::fcntl(fd, sys::F_GETFL, 0) }? as i32;
    let new = if on {
        flags | sys::O_NONBLOCK
    } else {
        flags & !sys::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: F_SETFL changes the open file's status flags only.
        unsafe { sys::fcntl(fd, sys::F_SETFL, new as usize) }?;
    }
    Ok(())
}

/// `read(2)` on `fd`.
#[inline]
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length; the fd is open for the borrow.
    unsafe { sys::read(fd.as_fd().as_raw_fd(), buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)` on `fd`.
#[inline]
pub fn write(fd: impl AsFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is readable for its length; the fd is open for the borrow.
    unsafe { sys::write(fd.as_fd().as_raw_fd(), buf.as_ptr(), buf.len()) }
}

/// Writes all of `buf` to `fd` (`write(2)`), retrying short writes and `EINTR`.
pub fn write_all(fd: impl AsFd, mut buf: &[u8]) -> Result<(), Errno> {
    let fd = fd.as_fd();
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(Errno::EPIPE),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A close-on-exec pipe: `(read end, write end)` (`pipe2(2)` with `O_CLOEXEC`).
pub fn pipe() -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [-1; 2];
    // SAFETY: both new fds are wrapped in OwnedFds at once.
    unsafe {
        sys::pipe2(&mut fds, sys::O_CLOEXEC)?;
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// A close-on-exec anonymous file (`memfd_create(2)` with `MFD_CLOEXEC` added to `flags`).
pub fn memfd_create(name: &CStr, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: `name` is NUL-terminated; the new fd is wrapped at once.
    unsafe {
        let fd = sys::memfd_create(name.as_ptr().cast(), flags | sys::MFD_CLOEXEC)?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// `openat(2)`: opens `path` relative to directory `dir` (`None`: the working directory;
/// an absolute `path` ignores it), close-on-exec always (`O_CLOEXEC` is added to `flags`),
/// creating it with `mode` if `flags` has `O_CREAT`. For a privileged parent that opens
/// the files a service may use and hands it the fds (`O_PATH`, `O_NOFOLLOW`,
/// `O_DIRECTORY` as the kernel defines them, in [`sys`]).
///
/// ```
/// use baremsg::{fd, sys};
/// let etc = fd::openat(None, c"/etc", sys::O_DIRECTORY | sys::O_PATH, 0)?;
/// let hosts = fd::openat(Some(fd::AsFd::as_fd(&etc)), c"hostname", sys::O_RDONLY, 0);
/// assert!(fd::is_cloexec(&etc)?);
/// # let _ = hosts;
/// # Ok::<(), baremsg::Errno>(())
/// ```
pub fn openat(
    dir: Option<BorrowedFd<'_>>,
    path: &CStr,
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    let dirfd = dir.map_or(sys::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `path` is NUL-terminated, `dir` is open (borrowed); the new fd is wrapped
    // at once.
    unsafe {
        let fd = sys::openat(dirfd, path.as_ptr().cast(), flags | sys::O_CLOEXEC, mode)?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}
