//! Encoding control messages to send.

use core::marker::PhantomData;
use core::mem::size_of;

use super::buf::is_aligned;
use crate::fd::{AsRawFd, BorrowedFd};
use crate::sys::{
    cmsg_len, cmsg_space, Cmsghdr, KernelSize, Ucred, SCM_CREDENTIALS, SCM_MAX_FD, SCM_PIDFD,
    SCM_RIGHTS, SOL_SOCKET,
};
use crate::Error;

/// Writes control messages one after another into an aligned buffer.
///
/// `'fd` is the lifetime of the fds encoded: the [`Cmsgs`] it finishes with keeps them
/// borrowed, so they cannot be closed before the message is sent.
pub struct Encoder<'b, 'fd> {
    buf: &'b mut [u8],
    len: usize,
    fds: usize,
    _fds: PhantomData<BorrowedFd<'fd>>,
}

/// Encoded control messages, ready for `send_msg`. Borrows the fds it names.
#[derive(Clone, Copy, Debug)]
pub struct Cmsgs<'b, 'fd> {
    bytes: &'b [u8],
    fds: usize,
    _fds: PhantomData<BorrowedFd<'fd>>,
}

impl<'b, 'fd> Encoder<'b, 'fd> {
    /// An encoder over `buf`, which must be aligned for `struct cmsghdr` (a [`CmsgBuf`]
    /// is; see [`CmsgBuf::encoder`](super::CmsgBuf::encoder)).
    ///
    /// [`CmsgBuf`]: super::CmsgBuf
    pub fn new(buf: &'b mut [u8]) -> Result<Self, Error> {
        if !is_aligned(buf) {
            return Err(Error::ControlBufferMisaligned);
        }
        Ok(Self::from_aligned(buf))
    }

    pub(crate) fn from_aligned(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            fds: 0,
            _fds: PhantomData,
        }
    }

    /// Appends one message with `data`'s bytes as its data.
    fn push(
        &mut self,
        level: i32,
        ty: i32,
        data_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), Error> {
        let space = cmsg_space(data_len);
        let start = self.len;
        let needed = start + space;
        if needed > self.buf.len() {
            return Err(Error::ControlBufferTooSmall {
                needed,
                capacity: self.buf.len(),
            });
        }
        let msg = &mut self.buf[start..needed];
        let header = Cmsghdr {
            cmsg_len: cmsg_len(data_len) as KernelSize,
            cmsg_level: level,
            cmsg_type: ty,
        };
        let hdr = size_of::<Cmsghdr>();
        msg[..size_of::<KernelSize>()].copy_from_slice(&header.cmsg_len.to_ne_bytes());
        msg[size_of::<KernelSize>()..size_of::<KernelSize>() + 4]
            .copy_from_slice(&level.to_ne_bytes());
        msg[size_of::<KernelSize>() + 4..hdr].copy_from_slice(&ty.to_ne_bytes());
        fill(&mut msg[hdr..hdr + data_len]);
        msg[hdr + data_len..].fill(0);
        self.len = needed;
        Ok(())
    }

    /// Appends an `SCM_RIGHTS` message passing `fds`. Refuses more than 253 fds in all
    /// (`SCM_MAX_FD`, the kernel's limit for one `sendmsg`) with [`Error::TooManyFds`].
    /// An empty slice adds nothing.
    pub fn push_rights(&mut self, fds: &[BorrowedFd<'fd>]) -> Result<(), Error> {
        if fds.is_empty() {
            return Ok(());
        }
        let count = self.fds + fds.len();
        if count > SCM_MAX_FD {
            return Err(Error::TooManyFds { count });
        }
        self.push(SOL_SOCKET, SCM_RIGHTS, fds.len() * 4, |data| {
            for (slot, fd) in data.chunks_exact_mut(4).zip(fds) {
                slot.copy_from_slice(&fd.as_raw_fd().to_ne_bytes());
            }
        })?;
        self.fds = count;
        Ok(())
    }

    /// Appends an `SCM_CREDENTIALS` message. The kernel checks them: a process may send
    /// its own pid, uid and gid (or, with privileges, others).
    pub fn push_credentials(&mut self, cred: &Ucred) -> Result<(), Error> {
        self.push(SOL_SOCKET, SCM_CREDENTIALS, size_of::<Ucred>(), |data| {
            data[0..4].copy_from_slice(&cred.pid.to_ne_bytes());
            data[4..8].copy_from_slice(&cred.uid.to_ne_bytes());
            data[8..12].copy_from_slice(&cred.gid.to_ne_bytes());
        })
    }

    /// Appends a message with any level, type and data, except one that passes fds:
    /// `(SOL_SOCKET, SCM_RIGHTS)` and `(SOL_SOCKET, SCM_PIDFD)` are refused with
    /// [`Error::RawFdMessage`] and nothing is written, because the fd numbers in `data`
    /// are not borrowed and could be closed (or reused) before the message is sent. Use
    /// [`push_rights`](Self::push_rights) for fds, or
    /// [`push_raw_unchecked`](Self::push_raw_unchecked) to send such bytes on purpose.
    pub fn push_raw(&mut self, level: i32, ty: i32, data: &[u8]) -> Result<(), Error> {
        if level == SOL_SOCKET && (ty == SCM_RIGHTS || ty == SCM_PIDFD) {
            return Err(Error::RawFdMessage { ty });
        }
        self.push(level, ty, data.len(), |d| d.copy_from_slice(data))
    }

    /// Appends a message with any level, type and data, fd-passing ones included.
    ///
    /// # Safety
    ///
    /// Any fd numbers in `data` (an `SCM_RIGHTS` or `SCM_PIDFD` message) must stay open,
    /// naming the files meant, until the message is sent, as for
    /// [`push_rights`](Self::push_rights), which borrows them for that. They do not count
    /// toward the 253-fd limit [`push_rights`](Self::push_rights) enforces (the kernel
    /// still refuses more with `EINVAL`), nor toward [`Cmsgs::fd_count`].
    pub unsafe fn push_raw_unchecked(
        &mut self,
        level: i32,
        ty: i32,
        data: &[u8],
    ) -> Result<(), Error> {
        self.push(level, ty, data.len(), |d| d.copy_from_slice(data))
    }

    /// Bytes encoded so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is encoded yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The encoded messages.
    pub fn finish(self) -> Cmsgs<'b, 'fd> {
        let bytes: &'b [u8] = self.buf;
        Cmsgs {
            bytes: &bytes[..self.len],
            fds: self.fds,
            _fds: PhantomData,
        }
    }
}

impl<'b, 'fd> Cmsgs<'b, 'fd> {
    /// No control data.
    pub const fn empty() -> Cmsgs<'static, 'static> {
        Cmsgs {
            bytes: &[],
            fds: 0,
            _fds: PhantomData,
        }
    }

    /// The encoded bytes, aligned for `struct cmsghdr`.
    pub fn as_bytes(&self) -> &'b [u8] {
        self.bytes
    }

    /// Number of fds the messages pass.
    pub fn fd_count(&self) -> usize {
        self.fds
    }

    /// Whether there is no control data.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Encodes one `SCM_RIGHTS` message passing `fds` into `buf` (Go's `UnixRights`).
pub fn unix_rights<'b, 'fd>(
    buf: &'b mut [u8],
    fds: &[BorrowedFd<'fd>],
) -> Result<Cmsgs<'b, 'fd>, Error> {
    let mut enc = Encoder::new(buf)?;
    enc.push_rights(fds)?;
    Ok(enc.finish())
}

/// Encodes one `SCM_CREDENTIALS` message into `buf` (Go's `UnixCredentials`).
pub fn unix_credentials<'b>(buf: &'b mut [u8], cred: &Ucred) -> Result<Cmsgs<'b, 'static>, Error> {
    let mut enc = Encoder::new(buf)?;
    enc.push_credentials(cred)?;
    Ok(enc.finish())
}
