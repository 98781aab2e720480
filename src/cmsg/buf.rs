//! Aligned control buffers sized at compile time.

use core::ops::{Deref, DerefMut};

use super::Encoder;

/// A control-message buffer of `N` bytes, aligned for `struct cmsghdr` (to `sizeof(long)`,
/// as `CMSG_ALIGN` requires), so it can live on the stack. It starts zeroed.
///
/// ```
/// use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf};
/// let buf = CmsgBuf::<{ space_for_fds(3) + space_for_credentials() }>::new();
/// assert_eq!(buf.len(), space_for_fds(3) + space_for_credentials());
/// ```
#[derive(Clone)]
#[repr(C)]
pub struct CmsgBuf<const N: usize> {
    _align: [usize; 0],
    bytes: [u8; N],
}

impl<const N: usize> CmsgBuf<N> {
    /// A zeroed buffer.
    pub const fn new() -> Self {
        Self {
            _align: [],
            bytes: [0; N],
        }
    }

    /// An encoder writing into this buffer from its start.
    #[inline]
    pub fn encoder<'fd>(&mut self) -> Encoder<'_, 'fd> {
        Encoder::from_aligned(&mut self.bytes)
    }
}

impl<const N: usize> Default for CmsgBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Deref for CmsgBuf<N> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl<const N: usize> DerefMut for CmsgBuf<N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl<const N: usize> core::fmt::Debug for CmsgBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CmsgBuf").field("capacity", &N).finish()
    }
}

/// Whether `buf` starts at an address aligned for `struct cmsghdr`.
#[inline]
pub(crate) fn is_aligned<T>(buf: &[T]) -> bool {
    (buf.as_ptr() as usize) % core::mem::align_of::<usize>() == 0
}
