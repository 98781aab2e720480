//! Owned and borrowed file descriptors, in the shape of std's `std::os::fd`, for
//! programs without std; with the `std` feature they convert losslessly to and from
//! std's types.
//!
//! Every fd the safe layers create or receive is an [`OwnedFd`], closed exactly once
//! when dropped; fds to send go in as [`BorrowedFd`]s. Every fd baremsg creates is
//! close-on-exec.

use core::ffi::CStr;
use core::fmt;
use core::marker::PhantomData;

use crate::sys;
use crate::Errno;

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
    /// Another fd for the same open file, close-on-exec (`F_DUPFD_CLOEXEC`).
    pub fn try_clone(&self) -> Result<OwnedFd, Errno> {
        self.as_fd().try_clone_to_owned()
    }

    /// Borrows this fd.
    #[inline]
    pub fn borrow(&self) -> BorrowedFd<'_> {
        self.as_fd()
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

impl<'fd> BorrowedFd<'fd> {
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
    pub fn try_clone_to_owned(&self) -> Result<OwnedFd, Errno> {
        // SAFETY: the new fd is owned by the OwnedFd we build.
        let fd = unsafe { sys::fcntl(self.fd, sys::F_DUPFD_CLOEXEC, 0) }?;
        // SAFETY: fcntl returned a new open fd that nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// Whether close-on-exec is set (`F_GETFD`).
    pub fn is_cloexec(&self) -> Result<bool, Errno> {
        // SAFETY: F_GETFD only reads the fd's flags.
        let flags = unsafe { sys::fcntl(self.fd, sys::F_GETFD, 0) }?;
        Ok(flags as i32 & sys::FD_CLOEXEC != 0)
    }

    /// Sets or clears close-on-exec (`F_SETFD`).
    pub fn set_cloexec(&self, on: bool) -> Result<(), Errno> {
        let flags = if on { sys::FD_CLOEXEC } else { 0 };
        // SAFETY: F_SETFD only changes the fd's own flags.
        unsafe { sys::fcntl(self.fd, sys::F_SETFD, flags as usize) }.map(drop)
    }

    /// Whether `O_NONBLOCK` is set on the open file (`F_GETFL`).
    pub fn is_nonblocking(&self) -> Result<bool, Errno> {
        // SAFETY: F_GETFL only reads flags.
        let flags = unsafe { sys::fcntl(self.fd, sys::F_GETFL, 0) }?;
        Ok(flags as i32 & sys::O_NONBLOCK != 0)
    }

    /// Sets or clears `O_NONBLOCK` on the open file (`F_SETFL`); it is shared by every fd
    /// for that file.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Errno> {
        // SAFETY: F_GETFL only reads flags.
        let flags = unsafe { sys::fcntl(self.fd, sys::F_GETFL, 0) }? as i32;
        let new = if on {
            flags | sys::O_NONBLOCK
        } else {
            flags & !sys::O_NONBLOCK
        };
        if new != flags {
            // SAFETY: F_SETFL changes the open file's status flags only.
            unsafe { sys::fcntl(self.fd, sys::F_SETFL, new as usize) }?;
        }
        Ok(())
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

impl FromRawFd for OwnedFd {
    #[inline]
    unsafe fn from_raw_fd(fd: RawFd) -> Self {
        debug_assert!(fd >= 0, "OwnedFd from a negative fd");
        Self { fd }
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

/// `read(2)` on a borrowed fd.
#[inline]
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length; the fd is open for the borrow.
    unsafe { sys::read(fd.fd, buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)` on a borrowed fd.
#[inline]
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is readable for its length; the fd is open for the borrow.
    unsafe { sys::write(fd.fd, buf.as_ptr(), buf.len()) }
}

/// Writes all of `buf`, retrying short writes and `EINTR`.
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> Result<(), Errno> {
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

#[cfg(feature = "std")]
mod std_interop {
    use super::*;
    use std::os::fd as stdfd;

    impl From<stdfd::OwnedFd> for OwnedFd {
        fn from(fd: stdfd::OwnedFd) -> Self {
            // SAFETY: ownership moves from std's OwnedFd to ours.
            unsafe { OwnedFd::from_raw_fd(stdfd::IntoRawFd::into_raw_fd(fd)) }
        }
    }

    impl From<OwnedFd> for stdfd::OwnedFd {
        fn from(fd: OwnedFd) -> Self {
            // SAFETY: ownership moves from our OwnedFd to std's.
            unsafe { stdfd::FromRawFd::from_raw_fd(fd.into_raw_fd()) }
        }
    }

    impl<'fd> From<stdfd::BorrowedFd<'fd>> for BorrowedFd<'fd> {
        fn from(fd: stdfd::BorrowedFd<'fd>) -> Self {
            // SAFETY: std's borrow keeps the fd open for 'fd.
            unsafe { BorrowedFd::borrow_raw(stdfd::AsRawFd::as_raw_fd(&fd)) }
        }
    }

    impl<'fd> From<BorrowedFd<'fd>> for stdfd::BorrowedFd<'fd> {
        fn from(fd: BorrowedFd<'fd>) -> Self {
            // SAFETY: our borrow keeps the fd open for 'fd.
            unsafe { stdfd::BorrowedFd::borrow_raw(fd.fd) }
        }
    }

    impl stdfd::AsFd for OwnedFd {
        fn as_fd(&self) -> stdfd::BorrowedFd<'_> {
            self.borrow().into()
        }
    }

    impl stdfd::AsRawFd for OwnedFd {
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }
}
