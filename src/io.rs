//! Buffers for scatter/gather I/O, laid out as the kernel's `struct iovec` so a slice of
//! them is passed to `sendmsg`/`recvmsg` as is.
//!
//! ```
//! use baremsg::cmsg::Cmsgs;
//! use baremsg::io::{IoSlice, IoSliceMut};
//! use baremsg::unix::UnixSeqpacket;
//!
//! # fn main() -> Result<(), baremsg::Error> {
//! let (a, b) = UnixSeqpacket::pair()?;
//! // Gather: one message from two buffers; scatter: into two others.
//! a.send_msg(&[IoSlice::new(b"head:"), IoSlice::new(b"body")], &Cmsgs::empty())?;
//! let (mut x, mut y) = ([0u8; 3], [0u8; 8]);
//! let got = b.recv_msg(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)], &mut [])?;
//! assert_eq!(got.bytes, 9);
//! assert_eq!((&x, &y[..6]), (b"hea", &b"d:body"[..]));
//! # Ok(())
//! # }
//! ```

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::sys::Iovec;

/// A buffer to send: a `struct iovec` borrowing `&'a [u8]`.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct IoSlice<'a> {
    iov: Iovec,
    _buf: PhantomData<&'a [u8]>,
}

/// A buffer to receive into: a `struct iovec` borrowing `&'a mut [u8]`.
#[repr(transparent)]
pub struct IoSliceMut<'a> {
    iov: Iovec,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> IoSlice<'a> {
    /// Wraps `buf`.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            iov: Iovec::from_slice(buf),
            _buf: PhantomData,
        }
    }

    /// The raw iovecs of `bufs`.
    #[inline]
    pub(crate) fn as_iovecs(bufs: &[IoSlice<'_>]) -> *const Iovec {
        bufs.as_ptr().cast()
    }
}

impl<'a> IoSliceMut<'a> {
    /// Wraps `buf`.
    #[inline]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            iov: Iovec::from_mut_slice(buf),
            _buf: PhantomData,
        }
    }

    /// The raw iovecs of `bufs`.
    #[inline]
    pub(crate) fn as_iovecs(bufs: &mut [IoSliceMut<'_>]) -> *mut Iovec {
        bufs.as_mut_ptr().cast()
    }
}

impl Deref for IoSlice<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: the iovec was built from a `&'a [u8]` that is still borrowed.
        unsafe { core::slice::from_raw_parts(self.iov.iov_base.cast(), self.iov.len()) }
    }
}

impl Deref for IoSliceMut<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: the iovec was built from a `&'a mut [u8]` that is still borrowed.
        unsafe { core::slice::from_raw_parts(self.iov.iov_base.cast(), self.iov.len()) }
    }
}

impl DerefMut for IoSliceMut<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { core::slice::from_raw_parts_mut(self.iov.iov_base.cast(), self.iov.len()) }
    }
}

impl fmt::Debug for IoSlice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Debug for IoSliceMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
