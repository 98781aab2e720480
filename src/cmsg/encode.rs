//! Encoding control messages to send.

use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};

use super::buf::is_aligned;
use super::parse::HDR;
use crate::fd::{AsRawFd, BorrowedFd};
use crate::sys::{
    cmsg_len, cmsg_space, KernelSize, Ucred, SCM_CREDENTIALS, SCM_MAX_FD, SCM_PIDFD, SCM_RIGHTS,
    SOL_SOCKET,
};
use crate::Error;

/// Writes control messages one after another into an aligned buffer.
///
/// `'fd` is the lifetime of the fds encoded: the [`Cmsgs`] it finishes with keeps them
/// borrowed, so they cannot be closed before the message is sent.
pub struct Encoder<'b, 'fd> {
    /// Invariant: aligned for `struct cmsghdr`; `buf[..len]` is initialized (every byte
    /// was written by `push`), and nothing else is ever written to it, so a buffer that
    /// came in initialized stays initialized.
    buf: &'b mut [MaybeUninit<u8>],
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

    #[inline]
    pub(crate) fn from_aligned(buf: &'b mut [u8]) -> Self {
        let len = buf.len();
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`; the encoder writes only
        // initialized bytes (the type's invariant), so `buf` stays initialized for its
        // owner.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), len) };
        Self::from_aligned_uninit(buf)
    }

    #[inline]
    pub(crate) fn from_aligned_uninit(buf: &'b mut [MaybeUninit<u8>]) -> Self {
        Self {
            buf,
            len: 0,
            fds: 0,
            _fds: PhantomData,
        }
    }

    /// Appends one message of `data_len` bytes of data, which `fill` writes (all of
    /// them).
    #[inline(always)]
    fn push(
        &mut self,
        level: i32,
        ty: i32,
        data_len: usize,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]),
    ) -> Result<(), Error> {
        const KS: usize = size_of::<KernelSize>();
        const WORD: usize = size_of::<usize>();
        let space = cmsg_space(data_len);
        let start = self.len;
        let capacity = self.buf.len();
        let Some(msg) = self
            .buf
            .get_mut(start..)
            .and_then(|rest| rest.get_mut(..space))
        else {
            return Err(Error::ControlBufferTooSmall {
                needed: start.saturating_add(space),
                capacity,
            });
        };
        // The padding after the data is shorter than a word: zero the message's last
        // word (`space` is a whole number of words, at least the header's two), then
        // write the header and the data over the part of it they cover. One store, no
        // call to memset.
        put_n(&mut msg[space - WORD..], [0; WORD]);
        let (hdr, rest) = msg.split_at_mut(HDR);
        put_n(hdr, (cmsg_len(data_len) as KernelSize).to_ne_bytes());
        put_n(&mut hdr[KS..], level.to_ne_bytes());
        put_n(&mut hdr[KS + 4..], ty.to_ne_bytes());
        fill(&mut rest[..data_len]);
        self.len = start + space;
        Ok(())
    }

    /// Appends an `SCM_RIGHTS` message passing `fds`. Refuses more than 253 fds in all
    /// (`SCM_MAX_FD`, the kernel's limit for one `sendmsg`) with [`Error::TooManyFds`].
    /// An empty slice adds nothing.
    #[inline]
    pub fn push_rights(&mut self, fds: &[BorrowedFd<'fd>]) -> Result<(), Error> {
        if fds.is_empty() {
            return Ok(());
        }
        let count = self.fds + fds.len();
        if count > SCM_MAX_FD {
            return Err(Error::TooManyFds { count });
        }
        self.push(SOL_SOCKET, SCM_RIGHTS, fds.len() * 4, |data| {
            if let ([fd], Some(slot)) = (fds, data.get_mut(..4)) {
                // One fd, the common case, without a call to memcpy.
                put_n(slot, fd.as_raw_fd().to_ne_bytes());
                return;
            }
            for (slot, fd) in data.chunks_exact_mut(4).zip(fds) {
                put_n(slot, fd.as_raw_fd().to_ne_bytes());
            }
        })?;
        self.fds = count;
        Ok(())
    }

    /// Appends an `SCM_CREDENTIALS` message. The kernel checks them: a process may send
    /// its own pid, uid and gid (or, with privileges, others).
    #[inline]
    pub fn push_credentials(&mut self, cred: &Ucred) -> Result<(), Error> {
        self.push(SOL_SOCKET, SCM_CREDENTIALS, size_of::<Ucred>(), |data| {
            put_n(data, cred.pid.to_ne_bytes());
            put_n(&mut data[4..], cred.uid.to_ne_bytes());
            put_n(&mut data[8..], cred.gid.to_ne_bytes());
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
        self.push(level, ty, data.len(), |d| put(d, data))
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
        self.push(level, ty, data.len(), |d| put(d, data))
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
    #[inline]
    pub fn finish(self) -> Cmsgs<'b, 'fd> {
        let written: &'b [MaybeUninit<u8>] = &self.buf[..self.len];
        // SAFETY: `push` wrote every byte of `buf[..len]` (the type's invariant).
        let bytes = unsafe { core::slice::from_raw_parts(written.as_ptr().cast(), written.len()) };
        Cmsgs {
            bytes,
            fds: self.fds,
            _fds: PhantomData,
        }
    }
}

/// Writes the `N` bytes of `src` at the start of `dst` (at least `N` long: the callers'
/// slices are cut to fit), as one store where the target has one of that width: a
/// byte loop (`put`) stays a loop at `opt-level = "s"` on some targets (arm, riscv64).
#[inline(always)]
fn put_n<const N: usize>(dst: &mut [MaybeUninit<u8>], src: [u8; N]) {
    if let Some(d) = dst.first_chunk_mut::<N>() {
        *d = src.map(MaybeUninit::new);
    }
}

/// Writes `src` into `dst` (of the same length): `MaybeUninit`'s `copy_from_slice`.
#[inline(always)]
fn put(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
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
    #[inline]
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
