//! A total parser for control data: any bytes, any lengths, no panic, no read outside
//! the slice.

use core::mem::size_of;

use crate::fd::RawFd;
use crate::sys::{
    cmsg_align, KernelSize, Ucred, SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET,
};
use crate::Error;

/// Size of `struct cmsghdr`, which is also where data starts (it is already aligned).
pub(super) const HDR: usize = size_of::<crate::sys::Cmsghdr>();

/// What control data is aligned to (`CMSG_ALIGN`): `sizeof(long)`.
pub(super) const ALIGN: usize = size_of::<usize>();

/// A header's `cmsg_len` (saturated to `usize`), `cmsg_level` and `cmsg_type`.
#[inline(always)]
pub(super) fn header(hdr: &[u8; HDR]) -> (usize, i32, i32) {
    const KS: usize = size_of::<KernelSize>();
    let (len, tail) = hdr.split_at(KS);
    let mut len_bytes = [0u8; KS];
    len_bytes.copy_from_slice(len);
    // A length that does not even fit in usize is certainly past the end.
    let len = usize::try_from(KernelSize::from_ne_bytes(len_bytes)).unwrap_or(usize::MAX);
    let level = i32::from_ne_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let ty = i32::from_ne_bytes([tail[4], tail[5], tail[6], tail[7]]);
    (len, level, ty)
}

/// [`header`] of a header at an address aligned for `struct cmsghdr`: three aligned
/// loads, where [`header`] assembles bytes on targets without fast unaligned loads
/// (riscv64).
///
/// # Safety
/// `hdr` starts at an address aligned for `struct cmsghdr` (`align_of::<usize>()`).
#[inline(always)]
pub(super) unsafe fn header_aligned(hdr: &[u8; HDR]) -> (usize, i32, i32) {
    debug_assert!(super::is_aligned(hdr));
    // SAFETY: `hdr` is `HDR` bytes, a whole `struct cmsghdr`, aligned for it (the
    // caller's promise); every bit pattern is a valid `Cmsghdr`.
    let h = unsafe { hdr.as_ptr().cast::<crate::sys::Cmsghdr>().read() };
    // A length that does not even fit in usize is certainly past the end.
    let len = usize::try_from(h.cmsg_len).unwrap_or(usize::MAX);
    (len, h.cmsg_level, h.cmsg_type)
}

/// Where the only message of `buf` ends, when it is `level`/`ty` and nothing follows it
/// but what is shorter than a header (which [`step`] reads as the end): the usual
/// received control data, read in one step. `end` is `cmsg_len` clamped to `buf`, as
/// [`step`] clamps it; below `HDR` the header is malformed, and `buf.get(HDR..end)`,
/// the data, is `None`.
///
/// # Safety
/// `buf` starts at an address aligned for `struct cmsghdr`.
#[inline(always)]
pub(super) unsafe fn lone(buf: &[u8], level: i32, ty: i32) -> Option<usize> {
    let hdr = buf.first_chunk::<HDR>()?;
    // SAFETY: `hdr` starts `buf`, aligned (the caller's promise).
    let (len, got_level, got_ty) = unsafe { header_aligned(hdr) };
    // The subtraction cannot wrap: `buf` holds a header.
    if len < buf.len() - (ALIGN - 1) || (got_level, got_ty) != (level, ty) {
        return None;
    }
    Some(len.min(buf.len()))
}

/// One step of the walk over control data.
pub(super) enum Step {
    /// No further message: the rest is shorter than a header.
    End,
    /// A header whose `cmsg_len` is shorter than a header: the walk cannot go on.
    Malformed,
    /// A message: its data is `data_start..data_end` of the slice; the next header is at
    /// `next` (clamped to the slice's length). `truncated`: `cmsg_len` ran past the end.
    Msg {
        level: i32,
        ty: i32,
        data_start: usize,
        data_end: usize,
        next: usize,
        truncated: bool,
    },
}

/// Reads the header at `pos` of `buf` and tells where its data and the next header are.
#[inline(always)]
pub(super) fn step(buf: &[u8], pos: usize) -> Step {
    // SAFETY: reading unaligned has no precondition.
    unsafe { step_in::<false>(buf, pos) }
}

/// [`step`], reading the header with aligned loads when `ALIGNED` ([`header_aligned`]).
///
/// # Safety
/// With `ALIGNED`: `buf` starts at an address aligned for `struct cmsghdr`, and `pos` is
/// 0 or a `next` that a step over `buf` returned (which is aligned, or `buf`'s length).
#[inline(always)]
pub(super) unsafe fn step_in<const ALIGNED: bool>(buf: &[u8], pos: usize) -> Step {
    let Some(rest) = buf.get(pos..) else {
        return Step::End;
    };
    let Some(hdr) = rest.first_chunk::<HDR>() else {
        return Step::End;
    };
    let (len, level, ty) = if ALIGNED {
        // SAFETY: `pos` is 0 or an aligned offset of an aligned `buf` (the caller's
        // promise; a `next` equal to the length leaves no header to read).
        unsafe { header_aligned(hdr) }
    } else {
        header(hdr)
    };
    if len < HDR {
        return Step::Malformed;
    }
    let end = len.min(rest.len());
    // `end` <= rest.len() <= isize::MAX, so aligning it cannot overflow; a message cut
    // short by the end of the buffer (`len` past it) leaves nothing after it.
    let next = cmsg_align(end).min(rest.len());
    Step::Msg {
        level,
        ty,
        data_start: pos + HDR,
        data_end: pos + end,
        next: pos + next,
        truncated: len > rest.len(),
    }
}

/// One control message as found in the bytes, nothing decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCmsg<'a> {
    /// `cmsg_level`.
    pub level: i32,
    /// `cmsg_type`.
    pub ty: i32,
    /// The data, clamped to the buffer.
    pub data: &'a [u8],
    /// `cmsg_len` ran past the end of the buffer (the data was cut short).
    pub truncated: bool,
}

/// Walks control data without taking ownership of anything in it.
///
/// Total: for any `bytes` it yields messages, then ends; a header whose `cmsg_len` is
/// below the header size yields one `Err(MalformedControl)` and ends the walk; a
/// `cmsg_len` past the end yields the clamped message with `truncated` set and ends; a
/// tail shorter than a header ends the walk.
#[derive(Clone, Debug)]
pub struct RawCmsgs<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> RawCmsgs<'a> {
    /// A walk over `bytes`, as filled in by `recvmsg` (`msg_controllen` bytes).
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { buf: bytes, pos: 0 }
    }
}

impl<'a> Iterator for RawCmsgs<'a> {
    type Item = Result<RawCmsg<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match step(self.buf, self.pos) {
            Step::End => None,
            Step::Malformed => {
                let offset = self.pos;
                self.pos = self.buf.len();
                Some(Err(Error::MalformedControl { offset }))
            }
            Step::Msg {
                level,
                ty,
                data_start,
                data_end,
                next,
                truncated,
            } => {
                self.pos = next;
                Some(Ok(RawCmsg {
                    level,
                    ty,
                    data: &self.buf[data_start..data_end],
                    truncated,
                }))
            }
        }
    }
}

impl core::iter::FusedIterator for RawCmsgs<'_> {}

/// The fd numbers of an `SCM_RIGHTS` message, not owned: see
/// [`ReceivedControl`](super::ReceivedControl) for owned fds.
#[derive(Clone, Debug)]
pub struct RawFds<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for RawFds<'_> {
    type Item = RawFd;
    fn next(&mut self) -> Option<RawFd> {
        self.chunks
            .next()
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for RawFds<'_> {}

#[inline]
fn expect(msg: &RawCmsg<'_>, ty: i32, len_ok: bool) -> Result<(), Error> {
    if msg.level != SOL_SOCKET || msg.ty != ty || !len_ok {
        return Err(Error::BadControlLength {
            level: msg.level,
            ty: msg.ty,
            len: msg.data.len(),
        });
    }
    Ok(())
}

/// Decodes an `SCM_RIGHTS` message into its fd numbers (Go's `ParseUnixRights`).
/// Errors unless the message is `SOL_SOCKET`/`SCM_RIGHTS` with a whole number of fds.
pub fn parse_unix_rights<'a>(msg: &RawCmsg<'a>) -> Result<RawFds<'a>, Error> {
    expect(msg, SCM_RIGHTS, msg.data.len() % 4 == 0)?;
    Ok(RawFds {
        chunks: msg.data.chunks_exact(4),
    })
}

/// Decodes an `SCM_CREDENTIALS` message (Go's `ParseUnixCredentials`). Errors unless the
/// message is `SOL_SOCKET`/`SCM_CREDENTIALS` with exactly a `struct ucred` of data.
#[inline]
pub fn parse_unix_credentials(msg: &RawCmsg<'_>) -> Result<Ucred, Error> {
    expect(msg, SCM_CREDENTIALS, msg.data.len() == size_of::<Ucred>())?;
    ucred_from(msg.data).ok_or(Error::BadControlLength {
        level: msg.level,
        ty: msg.ty,
        len: msg.data.len(),
    })
}

/// The `struct ucred` that `data` is exactly, if it is one.
#[inline(always)]
pub(super) fn ucred_from(data: &[u8]) -> Option<Ucred> {
    let d: &[u8; size_of::<Ucred>()] = data.try_into().ok()?;
    Some(Ucred {
        pid: i32::from_ne_bytes([d[0], d[1], d[2], d[3]]),
        uid: u32::from_ne_bytes([d[4], d[5], d[6], d[7]]),
        gid: u32::from_ne_bytes([d[8], d[9], d[10], d[11]]),
    })
}

/// Decodes an `SCM_PIDFD` message (Linux 6.5+, with `SO_PASSPIDFD`) into its fd number.
pub fn parse_pidfd(msg: &RawCmsg<'_>) -> Result<RawFd, Error> {
    expect(msg, SCM_PIDFD, msg.data.len() == 4)?;
    let d = msg.data;
    Ok(i32::from_ne_bytes([d[0], d[1], d[2], d[3]]))
}
