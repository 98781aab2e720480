//! Batches: many messages in one syscall (`sendmmsg(2)`, `recvmmsg(2)`), each with its
//! own buffers and control data, into and out of arrays the caller provides. Nothing is
//! allocated: the kernel's `struct mmsghdr` array lives on the stack, for at most
//! [`MMSG_MAX`] messages per call.
//!
//! ```
//! use baremsg::cmsg::{space_for_fds, CmsgBuf, Encoder};
//! use baremsg::fd::{self, AsFd};
//! use baremsg::io::{IoSlice, IoSliceMut};
//! use baremsg::unix::{RecvEntry, SendEntry, UnixDatagram};
//!
//! # fn main() -> Result<(), baremsg::Error> {
//! let (a, b) = UnixDatagram::pair()?;
//! let (r, _w) = fd::pipe()?;
//! let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
//! let mut enc = ctl.encoder();
//! enc.push_rights(&[r.as_fd()])?;
//! let rights = enc.finish();
//! let (one, two) = ([IoSlice::new(b"one")], [IoSlice::new(b"two")]);
//! let sent = a.send_mmsg(&[SendEntry::new(&one).control(&rights), SendEntry::new(&two)])?;
//! assert_eq!(sent, 2);
//!
//! let (mut d0, mut d1) = ([0u8; 8], [0u8; 8]);
//! let (mut i0, mut i1) = ([IoSliceMut::new(&mut d0)], [IoSliceMut::new(&mut d1)]);
//! let (mut c0, mut c1) = (CmsgBuf::<{ space_for_fds(4) }>::new(), CmsgBuf::<{ space_for_fds(4) }>::new());
//! let mut entries = [RecvEntry::new(&mut i0, &mut c0), RecvEntry::new(&mut i1, &mut c1)];
//! let mut got = b.recv_mmsg(&mut entries, None)?;
//! assert_eq!(got.len(), 2);
//! let mut first = got.next().unwrap();
//! assert_eq!(first.data, b"one");
//! let passed = first.control.take_fds().next(); // owned, close-on-exec
//! assert!(passed.is_some());
//! let second = got.next().unwrap();
//! assert_eq!((second.data, second.control.is_empty()), (&b"two"[..], true));
//! # Ok(())
//! # }
//! ```

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;
use core::time::Duration;

use super::sockopt::socket_type;
use super::UnixAddr;
use crate::cmsg::{Cmsgs, ReceivedControl};
use crate::fd::{AsFd, AsRawFd, BorrowedFd};
use crate::io::{IoSlice, IoSliceMut};
use crate::sys::{self, Iovec, Mmsghdr, Msghdr, SockaddrUn, Timespec};
use crate::Error;

/// The most messages one [`send_mmsg`] or [`recv_mmsg`] call hands the kernel; entries
/// beyond it wait for the next call, as those the kernel did not get to do. Their
/// `struct mmsghdr`s live on the stack: 64 of them are 4 KiB on 64-bit targets.
pub const MMSG_MAX: usize = 64;

/// The most buffers one message may have (`UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// One message to send in a batch: its buffers, its control data (the fds in it stay
/// borrowed until the send), and where it goes if the socket is not connected.
#[derive(Clone, Copy, Debug)]
pub struct SendEntry<'a> {
    bufs: &'a [IoSlice<'a>],
    control: &'a [u8],
    fds: usize,
    to: Option<&'a UnixAddr>,
}

impl<'a> SendEntry<'a> {
    /// A message of the buffers `bufs`, without control data.
    #[inline]
    pub fn new(bufs: &'a [IoSlice<'a>]) -> Self {
        Self {
            bufs,
            control: &[],
            fds: 0,
            to: None,
        }
    }

    /// With the control messages `control` (as an [`Encoder`](crate::cmsg::Encoder)
    /// made them: fds, credentials).
    #[inline]
    pub fn control(self, control: &'a Cmsgs<'_, '_>) -> Self {
        Self {
            control: control.as_bytes(),
            fds: control.fd_count(),
            ..self
        }
    }

    /// To the address `addr` (`msg_name`).
    #[inline]
    pub fn to(self, addr: &'a UnixAddr) -> Self {
        Self {
            to: Some(addr),
            ..self
        }
    }
}

/// Sends the messages `msgs` on the socket `fd` in one call (`sendmmsg(2)`, with
/// `MSG_NOSIGNAL`); returns how many went, from the first: fewer than `msgs.len()` when
/// the kernel stopped early (a full socket buffer on a nonblocking socket, an error
/// after the first message: it is then reported by the next call), and at most
/// [`MMSG_MAX`]. An error is returned only when no message went.
///
/// On a stream socket a message counted may have gone in part (the kernel counts a
/// short write); batches are meant for datagram and seqpacket sockets.
///
/// Refused before the syscall, the whole batch: a message with more than 1024 buffers
/// ([`Error::TooManyBuffers`]), control data with an empty payload on a stream socket
/// ([`Error::ControlWithoutPayload`]; for a bare fd the kind is asked with `SO_TYPE`,
/// once, only when such a message is in the batch).
#[inline]
pub fn send_mmsg(fd: impl AsFd, msgs: &[SendEntry<'_>]) -> Result<usize, Error> {
    send_mmsg_kind(fd.as_fd(), None, msgs, sys::MSG_NOSIGNAL)
}

/// [`send_mmsg`] with the flags exactly as given (`MSG_NOSIGNAL` is not added).
#[inline]
pub fn send_mmsg_with_flags(
    fd: impl AsFd,
    msgs: &[SendEntry<'_>],
    flags: i32,
) -> Result<usize, Error> {
    send_mmsg_kind(fd.as_fd(), None, msgs, flags)
}

/// An empty buffer, for messages without one: the same to the kernel, and qemu-user 7.2
/// does not make a call whose message has no iovecs (see `msg.rs`).
fn empty_iov() -> Iovec {
    Iovec {
        iov_base: ptr::null_mut(),
        iov_len: 0,
    }
}

/// The `struct mmsghdr` array on the stack, of which the first `len` are initialized.
struct Headers {
    hdrs: [MaybeUninit<Mmsghdr>; MMSG_MAX],
    len: usize,
}

impl Headers {
    #[inline(always)]
    fn new() -> Self {
        Self {
            // SAFETY: an array of `MaybeUninit` needs no initialization.
            hdrs: unsafe { MaybeUninit::uninit().assume_init() },
            len: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, msg_hdr: Msghdr) {
        self.hdrs[self.len].write(Mmsghdr {
            msg_hdr,
            msg_len: 0,
        });
        self.len += 1;
    }

    /// The initialized headers.
    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [Mmsghdr] {
        // SAFETY: the first `len` were written by `push`.
        unsafe { core::slice::from_raw_parts_mut(self.hdrs.as_mut_ptr().cast(), self.len) }
    }
}

#[inline(always)]
pub(crate) fn send_mmsg_kind(
    fd: BorrowedFd<'_>,
    mut ty: Option<i32>,
    msgs: &[SendEntry<'_>],
    flags: i32,
) -> Result<usize, Error> {
    let msgs = &msgs[..msgs.len().min(MMSG_MAX)];
    if msgs.is_empty() {
        return Ok(0);
    }
    let mut empty = empty_iov();
    let mut hdrs = Headers::new();
    for m in msgs {
        if m.bufs.len() > IOV_MAX {
            return Err(Error::TooManyBuffers);
        }
        if m.fds > sys::SCM_MAX_FD {
            return Err(Error::TooManyFds { count: m.fds });
        }
        if !m.control.is_empty() && m.bufs.iter().all(|b| b.is_empty()) {
            // The kind asked once, the first time it matters.
            let kind = *ty.get_or_insert_with(|| socket_type(fd).unwrap_or(-1));
            if kind == sys::SOCK_STREAM {
                return Err(Error::ControlWithoutPayload);
            }
        }
        let mut h = Msghdr::new();
        if let Some(a) = m.to {
            let (raw, len) = a.as_raw();
            h.msg_name = (raw as *const SockaddrUn).cast_mut().cast::<c_void>();
            h.msg_namelen = len;
        }
        if m.bufs.is_empty() {
            h.msg_iov = &mut empty;
            h.set_iovlen(1);
        } else {
            h.msg_iov = IoSlice::as_iovecs(m.bufs).cast_mut();
            h.set_iovlen(m.bufs.len());
        }
        if !m.control.is_empty() {
            h.msg_control = m.control.as_ptr().cast_mut().cast();
            h.set_controllen(m.control.len());
        }
        hdrs.push(h);
    }
    let hdrs = hdrs.as_mut_slice();
    // SAFETY: every pointer in every header is valid for reads of its length (the kernel
    // writes only `msg_len`, into `hdrs`); the fds in the control data are borrowed by
    // the entries, so they are open.
    Ok(unsafe { sys::sendmmsg(fd.as_raw_fd(), hdrs.as_mut_ptr(), hdrs.len() as u32, flags) }?)
}

/// One message's place in a batch receive: its buffers, its control buffer (aligned, as
/// a [`CmsgBuf`](crate::cmsg::CmsgBuf) is; may be empty) and, if asked, where the
/// sender's address goes. [`recv_mmsg`] fills it; what it received is read from the
/// [`RecvBatch`] the call returns.
#[derive(Debug)]
pub struct RecvEntry<'a> {
    iov: *mut Iovec,
    iovlen: usize,
    control: &'a mut [u8],
    from: Option<&'a mut UnixAddr>,
    /// Set by the receive: bytes, `msg_flags`, control bytes.
    bytes: usize,
    flags: i32,
    control_len: usize,
    _bufs: PhantomData<&'a mut [u8]>,
}

// SAFETY: the raw iovec pointer stands for the `&'a mut [IoSliceMut]` it came from,
// which is `Send` and `Sync`.
unsafe impl Send for RecvEntry<'_> {}
// SAFETY: as above; `&RecvEntry` gives no access to the buffers.
unsafe impl Sync for RecvEntry<'_> {}

impl<'a> RecvEntry<'a> {
    /// A place for one message: payload into `bufs`, control data into `control`.
    #[inline]
    pub fn new<'b: 'a>(bufs: &'a mut [IoSliceMut<'b>], control: &'a mut [u8]) -> Self {
        Self {
            iov: IoSliceMut::as_iovecs(bufs),
            iovlen: bufs.len(),
            control,
            from: None,
            bytes: 0,
            flags: 0,
            control_len: 0,
            _bufs: PhantomData,
        }
    }

    /// Also asks for the sender's address, written into `from`.
    #[inline]
    pub fn from(self, from: &'a mut UnixAddr) -> Self {
        Self {
            from: Some(from),
            ..self
        }
    }
}

/// One message of a [`RecvBatch`].
#[derive(Debug)]
pub struct BatchMsg<'e> {
    /// Its place in the entries given to [`recv_mmsg`].
    pub index: usize,
    /// Payload bytes received: at most the buffers' total, unless `MSG_TRUNC` was
    /// passed to [`recv_mmsg_with_flags`] (then the real length).
    pub bytes: usize,
    /// `msg_flags` as the kernel set them for this message (`MSG_TRUNC`, `MSG_CTRUNC`).
    pub flags: i32,
    /// The payload as received in the entry's first buffer (all of it when there is one
    /// buffer).
    pub data: &'e [u8],
    /// The sender's address, when the entry asked for it.
    pub from: Option<&'e UnixAddr>,
    /// This message's control data, owning every fd in it.
    pub control: ReceivedControl<'e>,
}

impl BatchMsg<'_> {
    /// The payload did not fit in the entry's buffers and the rest was dropped
    /// (`MSG_TRUNC`).
    pub fn is_truncated(&self) -> bool {
        self.flags & sys::MSG_TRUNC != 0
    }

    /// Control data did not fit in the entry's control buffer, or the kernel could not
    /// install every fd: some was dropped (`MSG_CTRUNC`); what did arrive is in
    /// [`control`](Self::control). The caveat of
    /// [`RecvMsg::is_control_truncated`](super::RecvMsg::is_control_truncated) about
    /// emulators holds here too.
    pub fn is_control_truncated(&self) -> bool {
        self.flags & sys::MSG_CTRUNC != 0
    }
}

/// The messages one [`recv_mmsg`] received, in order, each handed out once as a
/// [`BatchMsg`]. Owns every fd in them: those of messages not handed out, or not taken
/// from a [`BatchMsg`]'s control, are closed when it is dropped.
#[derive(Debug)]
pub struct RecvBatch<'e, 'a> {
    rest: &'e mut [RecvEntry<'a>],
    index: usize,
}

impl RecvBatch<'_, '_> {
    /// How many messages are left to hand out.
    pub fn len(&self) -> usize {
        self.rest.len()
    }

    /// Whether none is left.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

impl<'e> Iterator for RecvBatch<'e, '_> {
    type Item = BatchMsg<'e>;

    #[inline]
    fn next(&mut self) -> Option<BatchMsg<'e>> {
        let (e, rest) = core::mem::take(&mut self.rest).split_first_mut()?;
        self.rest = rest;
        let index = self.index;
        self.index += 1;
        Some(hand_out(e, index))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len(), Some(self.rest.len()))
    }
}

impl ExactSizeIterator for RecvBatch<'_, '_> {}

impl Drop for RecvBatch<'_, '_> {
    fn drop(&mut self) {
        for e in self.rest.iter_mut() {
            drop(received_control(e.control, &mut e.control_len));
        }
    }
}

/// The control data an entry received (`control_len` bytes of `control`), owning its
/// fds. Called once per received entry: a `RecvBatch` hands each out or drops it once,
/// and `control_len` is reset here.
#[inline(always)]
fn received_control<'e>(control: &'e mut [u8], control_len: &mut usize) -> ReceivedControl<'e> {
    let len = core::mem::take(control_len).min(control.len());
    // SAFETY: `recv_mmsg` set `control_len` from this receive's `msg_controllen`: every
    // header and every message's data in those bytes were written by the kernel in this
    // receive (only the padding after a message was not, and no walk reads it), so
    // every fd in them was installed for it and nobody else owns it. `control_len` is
    // reset above: no second `ReceivedControl` over the same fds.
    unsafe { ReceivedControl::new(&mut control[..len]) }
}

#[inline(always)]
fn hand_out<'e>(e: &'e mut RecvEntry<'_>, index: usize) -> BatchMsg<'e> {
    let data: &'e [u8] = if e.iovlen == 0 {
        &[]
    } else {
        // SAFETY: `e.iov` points at the `e.iovlen` iovecs of the `&'a mut
        // [IoSliceMut<'b>]` the entry borrows ('b: 'a: 'e); the first describes a
        // buffer borrowed as mutably, so nothing else reads or writes it while `e` is
        // borrowed; the kernel wrote its first `bytes` (capped to its length) bytes.
        unsafe {
            let iov = &*e.iov;
            let n = e.bytes.min(iov.iov_len as usize);
            if n == 0 {
                &[]
            } else {
                core::slice::from_raw_parts(iov.iov_base.cast::<u8>(), n)
            }
        }
    };
    BatchMsg {
        index,
        bytes: e.bytes,
        flags: e.flags,
        data,
        from: e.from.as_deref(),
        control: received_control(e.control, &mut e.control_len),
    }
}

/// Receives up to `entries.len()` messages (at most [`MMSG_MAX`]) from the socket `fd`
/// in one call (`recvmmsg(2)`, with `MSG_CMSG_CLOEXEC`), each into its own entry.
///
/// Waits until every entry is filled, unless the socket is nonblocking (then it takes
/// what is queued, `EAGAIN` if nothing is) or `timeout` runs out. As the kernel checks
/// it, the timeout is looked at only after each message: the call still waits for the
/// first one, and for each next one while time is left (see `BUGS` in `recvmmsg(2)`).
/// To wait for the first message only and take whatever else is queued then, pass
/// `MSG_WAITFORONE` to [`recv_mmsg_with_flags`].
///
/// Returns the messages received, each with its own length, flags, address and control
/// data (owning its fds, truncation reported per message). An error is returned only
/// when no message arrived; one after the first is kept by the kernel for the next call.
///
/// Refused before the syscall: an entry with more than 1024 buffers
/// ([`Error::TooManyBuffers`]), or with a misaligned control buffer
/// ([`Error::ControlBufferMisaligned`]).
#[inline]
pub fn recv_mmsg<'e, 'a>(
    fd: impl AsFd,
    entries: &'e mut [RecvEntry<'a>],
    timeout: Option<Duration>,
) -> Result<RecvBatch<'e, 'a>, Error> {
    recv_mmsg_with_flags(fd, entries, sys::MSG_CMSG_CLOEXEC, timeout)
}

/// [`recv_mmsg`] with the flags exactly as given (without `MSG_CMSG_CLOEXEC`, received
/// fds are inherited across `execve`): `MSG_WAITFORONE`, `MSG_DONTWAIT`, `MSG_TRUNC` (a
/// message's `bytes` is then its real length), `MSG_PEEK`.
pub fn recv_mmsg_with_flags<'e, 'a>(
    fd: impl AsFd,
    entries: &'e mut [RecvEntry<'a>],
    flags: i32,
    timeout: Option<Duration>,
) -> Result<RecvBatch<'e, 'a>, Error> {
    recv_mmsg_in(fd.as_fd(), entries, flags, timeout)
}

/// [`recv_mmsg_with_flags`], not generic.
fn recv_mmsg_in<'e, 'a>(
    fd: BorrowedFd<'_>,
    entries: &'e mut [RecvEntry<'a>],
    flags: i32,
    timeout: Option<Duration>,
) -> Result<RecvBatch<'e, 'a>, Error> {
    let n = entries.len().min(MMSG_MAX);
    let entries = &mut entries[..n];
    let mut empty = empty_iov();
    let mut hdrs = Headers::new();
    for e in entries.iter_mut() {
        if e.iovlen > IOV_MAX {
            return Err(Error::TooManyBuffers);
        }
        if !e.control.is_empty() && !crate::cmsg::is_aligned(e.control) {
            return Err(Error::ControlBufferMisaligned);
        }
        let mut h = Msghdr::new();
        if let Some(a) = e.from.as_deref_mut() {
            let (raw, len) = a.as_raw_mut();
            h.msg_name = raw.cast();
            h.msg_namelen = len;
        }
        if e.iovlen == 0 {
            h.msg_iov = &mut empty;
            h.set_iovlen(1);
        } else {
            h.msg_iov = e.iov;
            h.set_iovlen(e.iovlen);
        }
        if !e.control.is_empty() {
            h.msg_control = e.control.as_mut_ptr().cast();
            h.set_controllen(e.control.len());
        }
        hdrs.push(h);
    }
    let hdrs = hdrs.as_mut_slice();
    let mut ts = timeout.map(Timespec::from_duration);
    // SAFETY: every pointer in every header is valid for writes of its length, for as
    // long as `entries` is borrowed; the kernel writes only bytes into the control
    // buffers, which stay initialized. The fds it installs are owned by the
    // `RecvBatch` built below, whatever happens: nothing after the call can fail.
    let got = unsafe {
        sys::recvmmsg_timeout(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            hdrs.len() as u32,
            flags,
            ts.as_mut(),
        )
    }?;
    let got = got.min(n);
    for (e, h) in entries.iter_mut().zip(hdrs.iter()).take(got) {
        e.bytes = h.msg_len as usize;
        // The kernel echoes MSG_CMSG_CLOEXEC back, as in `recv_msg`.
        e.flags = h.msg_hdr.msg_flags & !sys::MSG_CMSG_CLOEXEC;
        e.control_len = if e.control.is_empty() {
            0
        } else {
            h.msg_hdr.controllen().min(e.control.len())
        };
        if let Some(a) = e.from.as_deref_mut() {
            a.set_len(h.msg_hdr.msg_namelen);
        }
    }
    Ok(RecvBatch {
        rest: &mut entries[..got],
        index: 0,
    })
}
