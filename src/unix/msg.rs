//! Sending and receiving on any Unix socket fd: payloads, control messages, fds.
//!
//! Every function here takes the socket as any [`AsFd`]: a baremsg [`Socket`](super::Socket),
//! std's `UnixStream`/`UnixDatagram`, tokio's (inside `try_io`/`async_io`), or a bare
//! [`BorrowedFd`]. The [`Socket`](super::Socket) methods of the same names are one-line
//! calls of the `_kind` forms below, with the kind the type names (`None`: unknown; how
//! the kind-specific rules are then found is in the [`unix`](super) docs).

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr;

use super::sockopt::socket_type;
use super::UnixAddr;
use crate::cmsg::{space_for_fds, Cmsgs, Encoder, ReceivedControl, SPACE_MAX};
use crate::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use crate::io::{IoSlice, IoSliceMut};
use crate::sys::{self, Msghdr, SockaddrUn};
use crate::Error;

/// What [`recv_msg`] received.
#[derive(Debug)]
pub struct RecvMsg<'c> {
    /// Payload bytes received: at most the buffers' total, unless `MSG_TRUNC` was
    /// passed to [`recv_msg_with_flags`] (then the real length).
    pub bytes: usize,
    /// `msg_flags` as the kernel set them (`MSG_TRUNC`, `MSG_CTRUNC`, ...).
    pub flags: i32,
    /// The control data, owning every fd in it.
    pub control: ReceivedControl<'c>,
}

impl RecvMsg<'_> {
    /// The payload did not fit in the buffers and the rest was dropped (`MSG_TRUNC`;
    /// datagram and seqpacket sockets).
    pub fn is_truncated(&self) -> bool {
        self.flags & sys::MSG_TRUNC != 0
    }

    /// Control data did not fit in the control buffer, or the kernel could not install
    /// every fd (the receiver's fd limit): some of it was dropped (`MSG_CTRUNC`). What
    /// did arrive is in [`control`](Self::control).
    ///
    /// This is the kernel's word, and baremsg's guarantees rest on it: the kernel closes
    /// the fds it could not deliver. Under an emulator that translates control data
    /// (qemu-user 7.2 for aarch64, armv7 and riscv64 guests), a control buffer too small
    /// for what arrives can instead leave the fds that did not fit open in the process,
    /// and `MSG_CTRUNC` unset; nothing in the received bytes tells (what fitted looks
    /// like a message that fitted exactly). [`recv_fds`] gives the kernel room for a
    /// whole message and is immune; with a caller's buffer, size it for the most the
    /// peer may send where such an emulator may run the program.
    pub fn is_control_truncated(&self) -> bool {
        self.flags & sys::MSG_CTRUNC != 0
    }
}

/// What [`recv_fds`] received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvFds {
    /// Payload bytes received.
    pub bytes: usize,
    /// How many fds were stored in the slots, from the first.
    pub fds: usize,
    /// The payload was cut short (`MSG_TRUNC`).
    pub truncated: bool,
    /// Fds or other control data were dropped: more fds came than there were slots, or
    /// the kernel could not install them all (`MSG_CTRUNC`). The fds that did arrive are
    /// in the slots.
    pub control_truncated: bool,
}

/// Runs `f` on an aligned, uninitialized scratch control buffer of `len` bytes (at most
/// [`SPACE_MAX`]) on the stack.
#[inline(always)]
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [MaybeUninit<u8>]) -> R) -> R {
    let mut storage = MaybeUninit::<crate::cmsg::CmsgBuf<SPACE_MAX>>::uninit();
    let len = len.min(SPACE_MAX);
    // SAFETY: `len` <= SPACE_MAX, the storage's size; a slice of `MaybeUninit<u8>` may
    // cover uninitialized memory.
    let buf = unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), len) };
    f(buf)
}

/// `buf`, zeroed, as bytes: what a receive into scratch space hands the kernel. The
/// kernel does not write every byte of what it reports in `msg_controllen` (the padding
/// between a message's `CMSG_LEN` and its `CMSG_SPACE`, 4 bytes after an odd number of
/// fds or after credentials on 64-bit), so the buffer must be initialized before any of
/// it is viewed as `[u8]`.
#[inline(always)]
fn zeroed(buf: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    let len = buf.len();
    // SAFETY: `buf` is writable for `len` bytes; after the write every byte is
    // initialized, and `MaybeUninit<u8>` has the layout of `u8`.
    unsafe {
        ptr::write_bytes(buf.as_mut_ptr(), 0, len);
        core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), len)
    }
}

/// Whether control data must be refused for an empty payload: the socket is a stream
/// (`ty`, or `SO_TYPE` when the kind is not known) and every buffer is empty.
#[inline(always)]
fn empty_on_stream(fd: BorrowedFd<'_>, ty: Option<i32>, bufs: &[IoSlice<'_>]) -> bool {
    match ty {
        Some(ty) => ty == sys::SOCK_STREAM && bufs.iter().all(|b| b.is_empty()),
        // Asked only here: a send with control data and no payload, never the hot path.
        None => bufs.iter().all(|b| b.is_empty()) && socket_type(fd) == Ok(sys::SOCK_STREAM),
    }
}

/// Sends `buf` on the socket `fd` (`send(2)`, as `sendto` with `MSG_NOSIGNAL`: a closed
/// peer is `EPIPE`, not `SIGPIPE`); returns the bytes sent.
// Always: the hot path of `Socket::send`/`recv`, which i686 builds did not inline.
#[inline(always)]
pub fn send(fd: impl AsFd, buf: &[u8]) -> Result<usize, Error> {
    // SAFETY: `buf` is readable for its length; no address.
    Ok(unsafe {
        sys::sendto(
            fd.as_fd().as_raw_fd(),
            buf.as_ptr(),
            buf.len(),
            sys::MSG_NOSIGNAL,
            ptr::null(),
            0,
        )
    }?)
}

/// Receives into `buf` from the socket `fd` (`recv(2)`, as `recvfrom`); returns the bytes
/// received (0: end of stream). A datagram longer than `buf` is cut short silently: use
/// [`recv_msg`] to learn of it.
// Always: the hot path of `Socket::send`/`recv`, which i686 builds did not inline.
#[inline(always)]
pub fn recv(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Error> {
    // SAFETY: `buf` is writable for its length; no address.
    Ok(unsafe {
        sys::recvfrom(
            fd.as_fd().as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    }?)
}

/// Sends `buf` to `addr` (`sendto(2)`, `MSG_NOSIGNAL`), on a datagram socket `fd`.
#[inline]
pub fn send_to(fd: impl AsFd, buf: &[u8], addr: &UnixAddr) -> Result<usize, Error> {
    send_msg_with_flags(
        fd,
        &[IoSlice::new(buf)],
        &Cmsgs::empty(),
        Some(addr),
        sys::MSG_NOSIGNAL,
    )
}

/// Receives one datagram into `buf` (`recvfrom(2)`); returns its length (cut to
/// `buf`'s) and the sender's address.
#[inline]
pub fn recv_from(fd: impl AsFd, buf: &mut [u8]) -> Result<(usize, UnixAddr), Error> {
    let (got, from) = recv_msg_from(fd, &mut [IoSliceMut::new(buf)], &mut [])?;
    Ok((got.bytes, from))
}

/// Sends the buffers `bufs` with the control messages `control` on the socket `fd`
/// (`sendmsg(2)`, with `MSG_NOSIGNAL`); returns the payload bytes sent.
///
/// Refused before the syscall: control data with an empty payload on a stream socket
/// ([`Error::ControlWithoutPayload`]; for a bare fd the kind is asked with `SO_TYPE` in
/// that case only, see the [`unix`](super#kind-specific-rules-on-an-fd-of-unknown-kind)
/// docs), more than 1024 buffers.
#[inline]
pub fn send_msg(
    fd: impl AsFd,
    bufs: &[IoSlice<'_>],
    control: &Cmsgs<'_, '_>,
) -> Result<usize, Error> {
    send_msg_with_flags(fd, bufs, control, None, sys::MSG_NOSIGNAL)
}

/// [`send_msg`] to `addr` (`sendmsg(2)` with `msg_name`, `MSG_NOSIGNAL`).
#[inline]
pub fn send_msg_to(
    fd: impl AsFd,
    bufs: &[IoSlice<'_>],
    control: &Cmsgs<'_, '_>,
    addr: &UnixAddr,
) -> Result<usize, Error> {
    send_msg_with_flags(fd, bufs, control, Some(addr), sys::MSG_NOSIGNAL)
}

/// [`send_msg`] with an optional destination address and the flags exactly as given
/// (`sendmsg(2)`; `MSG_NOSIGNAL` is not added: without it a closed peer raises
/// `SIGPIPE`).
#[inline]
pub fn send_msg_with_flags(
    fd: impl AsFd,
    bufs: &[IoSlice<'_>],
    control: &Cmsgs<'_, '_>,
    to: Option<&UnixAddr>,
    flags: i32,
) -> Result<usize, Error> {
    send_msg_kind(fd.as_fd(), None, bufs, control, to, flags)
}

/// [`send_msg_with_flags`] on a socket whose type is `ty` (`SOCK_STREAM`, ...), or
/// unknown (`None`).
#[inline(always)]
pub(crate) fn send_msg_kind(
    fd: BorrowedFd<'_>,
    ty: Option<i32>,
    bufs: &[IoSlice<'_>],
    control: &Cmsgs<'_, '_>,
    to: Option<&UnixAddr>,
    flags: i32,
) -> Result<usize, Error> {
    let (name, namelen) = match to {
        Some(a) => {
            let (raw, len) = a.as_raw();
            ((raw as *const SockaddrUn).cast::<c_void>(), len)
        }
        None => (ptr::null(), 0),
    };
    let control = control.as_bytes();
    if control.is_empty() && bufs.len() <= 1 {
        let (p, n) = bufs
            .first()
            .map_or((ptr::null(), 0), |b| (b.as_ptr(), b.len()));
        // SAFETY: `p` is readable for `n` bytes; `name` for `namelen`.
        return Ok(unsafe { sys::sendto(fd.as_raw_fd(), p, n, flags, name, namelen) }?);
    }
    if bufs.len() > 1024 {
        return Err(Error::TooManyBuffers);
    }
    if !control.is_empty() && empty_on_stream(fd, ty, bufs) {
        return Err(Error::ControlWithoutPayload);
    }
    // No buffers travel as one empty buffer: the same to the kernel, and qemu-user 7.2
    // answers a sendmsg with no iovecs 0 without making it (the control data and its
    // fds would silently not go).
    let empty = [IoSlice::new(&[])];
    let bufs = if bufs.is_empty() { &empty[..] } else { bufs };
    let mut msg = Msghdr::new();
    msg.msg_name = name as *mut c_void;
    msg.msg_namelen = namelen;
    msg.msg_iov = IoSlice::as_iovecs(bufs) as *mut _;
    msg.set_iovlen(bufs.len());
    msg.msg_control = control.as_ptr() as *mut c_void;
    msg.set_controllen(control.len());
    // SAFETY: every pointer in `msg` is valid for its length; the fds in `control` are
    // borrowed by the `Cmsgs`, so they are open.
    Ok(unsafe { sys::sendmsg(fd.as_raw_fd(), &msg, flags) }?)
}

/// Receives into the buffers `bufs`, and control data into `control` (an aligned buffer
/// such as a [`CmsgBuf`](crate::cmsg::CmsgBuf); may be empty), from the socket `fd`, with
/// `MSG_CMSG_CLOEXEC` (`recvmsg(2)`). The sender's address is not asked for: see
/// [`recv_msg_from`].
///
/// Every fd that arrives is owned by the returned [`RecvMsg`]'s `control`. A payload
/// longer than the buffers (datagram, seqpacket) is reported by
/// [`RecvMsg::is_truncated`]; control data cut short, by
/// [`RecvMsg::is_control_truncated`].
#[inline]
pub fn recv_msg<'c>(
    fd: impl AsFd,
    bufs: &mut [IoSliceMut<'_>],
    control: &'c mut [u8],
) -> Result<RecvMsg<'c>, Error> {
    recv_msg_with_flags(fd, bufs, control, None, sys::MSG_CMSG_CLOEXEC)
}

/// [`recv_msg`], also returning the sender's address (`msg_name`): on a datagram socket,
/// where the datagram came from; on a connected socket, the peer's address
/// ([`UnixAddr::is_unnamed`] when the peer never bound one).
#[inline]
pub fn recv_msg_from<'c>(
    fd: impl AsFd,
    bufs: &mut [IoSliceMut<'_>],
    control: &'c mut [u8],
) -> Result<(RecvMsg<'c>, UnixAddr), Error> {
    recv_msg_from_kind(fd.as_fd(), None, bufs, control)
}

#[inline(always)]
pub(crate) fn recv_msg_from_kind<'c>(
    fd: BorrowedFd<'_>,
    ty: Option<i32>,
    bufs: &mut [IoSliceMut<'_>],
    control: &'c mut [u8],
) -> Result<(RecvMsg<'c>, UnixAddr), Error> {
    let mut from = UnixAddr::unnamed();
    let got = recv_msg_kind(
        fd,
        ty,
        bufs,
        control,
        Some(&mut from),
        sys::MSG_CMSG_CLOEXEC,
    )?;
    Ok((got, from))
}

/// [`recv_msg`] with the flags exactly as given (`recvmsg(2)`; without
/// `MSG_CMSG_CLOEXEC`, received fds are inherited across `execve`), writing the sender's
/// address into `from` when one is given.
///
/// With `MSG_TRUNC` in `flags`, [`RecvMsg::bytes`] is the datagram's real length, as the
/// kernel reports it, even where that exceeds the buffers.
#[inline]
pub fn recv_msg_with_flags<'c>(
    fd: impl AsFd,
    bufs: &mut [IoSliceMut<'_>],
    control: &'c mut [u8],
    from: Option<&mut UnixAddr>,
    flags: i32,
) -> Result<RecvMsg<'c>, Error> {
    recv_msg_kind(fd.as_fd(), None, bufs, control, from, flags)
}

/// [`recv_msg_with_flags`] on a socket whose type is `ty`, or unknown (`None`), into an
/// initialized control buffer: the control data handed back is its first
/// `msg_controllen` bytes, each either written by the kernel in this receive or left
/// as it was (the padding after a message).
#[inline(always)]
pub(crate) fn recv_msg_kind<'c>(
    fd: BorrowedFd<'_>,
    ty: Option<i32>,
    bufs: &mut [IoSliceMut<'_>],
    control: &'c mut [u8],
    mut from: Option<&mut UnixAddr>,
    flags: i32,
) -> Result<RecvMsg<'c>, Error> {
    let (name, mut namelen) = match &mut from {
        Some(a) => a.as_raw_mut(),
        None => (ptr::null_mut(), 0),
    };

    // Where the kind is known, the cheaper recvfrom; see the module docs.
    if let (true, Some(ty)) = (control.is_empty() && bufs.len() <= 1, ty) {
        let (p, n) = bufs
            .first_mut()
            .map_or((ptr::null_mut(), 0), |b| (b.as_mut_ptr(), b.len()));
        // On datagram and seqpacket sockets MSG_TRUNC makes recvfrom return the real
        // length, which tells truncation as recvmsg's msg_flags would (on a stream it
        // would discard the data instead).
        let extra = if ty != sys::SOCK_STREAM {
            sys::MSG_TRUNC
        } else {
            0
        };
        let lenp = if name.is_null() {
            ptr::null_mut()
        } else {
            &mut namelen as *mut u32
        };
        // SAFETY: `p` is writable for `n` bytes, `name` for `namelen`.
        let got = unsafe { sys::recvfrom(fd.as_raw_fd(), p, n, flags | extra, name.cast(), lenp) }?;
        if let Some(a) = from {
            a.set_len(namelen);
        }
        return Ok(RecvMsg {
            bytes: if flags & sys::MSG_TRUNC != 0 {
                got
            } else {
                got.min(n)
            },
            flags: if got > n { sys::MSG_TRUNC } else { 0 },
            control: ReceivedControl::empty(),
        });
    }
    if bufs.len() > 1024 {
        return Err(Error::TooManyBuffers);
    }
    if !control.is_empty() && !crate::cmsg::is_aligned(control) {
        return Err(Error::ControlBufferMisaligned);
    }
    // No buffers are received as one empty buffer, as in sends (qemu-user 7.2 would not
    // make the call, and the message would stay queued).
    let mut empty = [IoSliceMut::new(&mut [])];
    let bufs = if bufs.is_empty() {
        &mut empty[..]
    } else {
        bufs
    };
    let mut msg = Msghdr::new();
    msg.msg_name = name.cast();
    msg.msg_namelen = namelen;
    msg.msg_iov = IoSliceMut::as_iovecs(bufs);
    msg.set_iovlen(bufs.len());
    if !control.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.set_controllen(control.len());
    }
    // SAFETY: every pointer in `msg` is valid for writes of its length; the kernel writes
    // only bytes into `control`, which stays initialized.
    let got = unsafe { sys::recvmsg(fd.as_raw_fd(), &mut msg, flags) }?;
    if let Some(a) = from {
        a.set_len(msg.msg_namelen);
    }
    let controllen = msg.controllen().min(control.len());
    let control = &mut control[..controllen];
    Ok(RecvMsg {
        bytes: got,
        // The kernel echoes MSG_CMSG_CLOEXEC back in msg_flags; recvfrom's path cannot,
        // so it is masked here for the two paths to agree.
        flags: msg.msg_flags & !sys::MSG_CMSG_CLOEXEC,
        // SAFETY: every header and every message's data in the first `msg_controllen`
        // bytes were written by the kernel in this receive (only the padding after a
        // message was not, and no walk reads it as a header or an fd), so every fd in
        // them was installed for this receive and nobody else owns it.
        control: unsafe { ReceivedControl::new(control) },
    })
}

/// [`recv_msg_kind`] into uninitialized scratch space, zeroed first (see [`zeroed`]).
#[inline(always)]
fn recv_msg_uninit<'c>(
    fd: BorrowedFd<'_>,
    bufs: &mut [IoSliceMut<'_>],
    scratch: &'c mut [MaybeUninit<u8>],
    flags: i32,
) -> Result<RecvMsg<'c>, Error> {
    // The scratch is never empty here, so the kind does not matter.
    recv_msg_kind(fd, None, bufs, zeroed(scratch), None, flags)
}

/// Sends `buf` with the fds `fds` in one `SCM_RIGHTS` message on the socket `fd`
/// (`sendmsg(2)`, `MSG_NOSIGNAL`). More than 253 fds is [`Error::TooManyFds`]; on a
/// stream socket `buf` must not be empty ([`Error::ControlWithoutPayload`]).
#[inline]
pub fn send_fds(fd: impl AsFd, buf: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, Error> {
    send_fds_kind(fd.as_fd(), None, buf, fds)
}

#[inline(always)]
pub(crate) fn send_fds_kind(
    fd: BorrowedFd<'_>,
    ty: Option<i32>,
    buf: &[u8],
    fds: &[BorrowedFd<'_>],
) -> Result<usize, Error> {
    if fds.len() > sys::SCM_MAX_FD {
        return Err(Error::TooManyFds { count: fds.len() });
    }
    with_scratch(space_for_fds(fds.len()), |space| {
        let mut enc = Encoder::from_aligned_uninit(space);
        enc.push_rights(fds)?;
        send_msg_kind(
            fd,
            ty,
            &[IoSlice::new(buf)],
            &enc.finish(),
            None,
            sys::MSG_NOSIGNAL,
        )
    })
}

/// Receives into `buf` from the socket `fd`, and up to `fds.len()` fds (at most 253) into
/// the empty slots of `fds`, in order (`recvmsg(2)`, `MSG_CMSG_CLOEXEC`). Fds received
/// beyond the slots are closed, and `control_truncated` says so; credentials or a pidfd
/// that arrive too (with `SO_PASSCRED`/`SO_PASSPIDFD`) are dropped.
///
/// The kernel is given room for everything one message can carry (253 fds, credentials,
/// a pidfd), whatever the number of slots, and the fds beyond the slots are closed here:
/// so nothing is ever cut short on the way, even where an emulator mishandles a short
/// control buffer (qemu-user 7.2 leaves the fds that did not fit open and unreported;
/// see [`RecvMsg::is_control_truncated`]). `MSG_CTRUNC` is then only the kernel's: the
/// receiver's fd limit was reached.
pub fn recv_fds(
    fd: impl AsFd,
    buf: &mut [u8],
    fds: &mut [Option<OwnedFd>],
) -> Result<RecvFds, Error> {
    recv_fds_in(fd.as_fd(), buf, fds)
}

/// [`recv_fds`], not generic.
#[inline]
pub(crate) fn recv_fds_in(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut [Option<OwnedFd>],
) -> Result<RecvFds, Error> {
    with_scratch(SPACE_MAX, |scratch| {
        let mut bufs = [IoSliceMut::new(buf)];
        let got = recv_msg_uninit(fd, &mut bufs, scratch, sys::MSG_CMSG_CLOEXEC)?;
        let (bytes, truncated, ctrunc) =
            (got.bytes, got.is_truncated(), got.is_control_truncated());
        let mut stored = 0;
        let mut overflow = false;
        let mut slots = fds.iter_mut().filter(|s| s.is_none());
        got.control.drain_rights(|fd| match slots.next() {
            Some(slot) => {
                *slot = Some(fd);
                stored += 1;
            }
            None => overflow = true,
        });
        Ok(RecvFds {
            bytes,
            fds: stored,
            truncated,
            control_truncated: ctrunc || overflow,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmsg::space_for_credentials;
    use crate::fd::AsFd;
    use crate::unix::UnixStream;

    /// As below with two messages, credentials then one fd (on 64-bit each followed by
    /// 4 bytes of padding the kernel does not write), through `recv_fds`'s own path.
    #[test]
    fn scratch_padding_after_each_of_two_messages_holds_no_unwritten_byte() {
        let (a, b) = crate::unix::UnixDatagram::pair().unwrap();
        b.set_pass_cred(true).unwrap();
        let (r, _w) = crate::fd::pipe().unwrap();
        a.send_fds(b"x", &[r.as_fd()]).unwrap();
        let mut scratch = crate::cmsg::CmsgBuf::<{ SPACE_MAX }>::new();
        scratch.fill(0xAA);
        // SAFETY: as below.
        let scratch: &mut [MaybeUninit<u8>] =
            unsafe { core::slice::from_raw_parts_mut(scratch.as_mut_ptr().cast(), SPACE_MAX) };
        let mut byte = [0u8; 1];
        let mut bufs = [IoSliceMut::new(&mut byte)];
        let mut got =
            recv_msg_uninit(b.as_fd(), &mut bufs, scratch, sys::MSG_CMSG_CLOEXEC).unwrap();
        let bytes = got.control.as_bytes();
        assert_eq!(bytes.len(), space_for_credentials() + space_for_fds(1));
        assert!(!bytes.contains(&0xAA), "unwritten bytes: {bytes:02x?}");
        assert_eq!(got.control.take_fds().count(), 1);
    }

    /// issue 12, defect 5: the kernel does not write the padding between a message's
    /// `CMSG_LEN` and `CMSG_SPACE`, which `msg_controllen` counts. Scratch space filled
    /// with 0xAA stands for uninitialized memory (whatever the stack held): no byte of the
    /// control data a receive into scratch hands back may still hold it, or that byte
    /// would have been uninitialized under a `&mut [u8]`.
    #[test]
    fn control_received_into_scratch_holds_no_byte_the_receive_did_not_write() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, _w) = crate::fd::pipe().unwrap();
        // One fd: 16 + 4 bytes written on 64-bit, 24 reported (on 32-bit no padding).
        a.send_fds(b"x", &[r.as_fd()]).unwrap();
        let mut scratch = crate::cmsg::CmsgBuf::<{ SPACE_MAX }>::new();
        scratch.fill(0xAA);
        let len = space_for_fds(1) + space_for_credentials();
        // SAFETY: `CmsgBuf` holds `SPACE_MAX` initialized, aligned bytes; viewed as
        // `MaybeUninit<u8>` they are only written, with bytes.
        let scratch: &mut [MaybeUninit<u8>] =
            unsafe { core::slice::from_raw_parts_mut(scratch.as_mut_ptr().cast(), len) };
        let mut byte = [0u8; 1];
        let mut bufs = [IoSliceMut::new(&mut byte)];
        let got = recv_msg_uninit(b.as_fd(), &mut bufs, scratch, sys::MSG_CMSG_CLOEXEC).unwrap();
        let bytes = got.control.as_bytes();
        assert_eq!(
            bytes.len(),
            space_for_fds(1),
            "msg_controllen is CMSG_SPACE"
        );
        assert!(
            !bytes.contains(&0xAA),
            "the control data holds bytes this receive never wrote: {bytes:02x?}"
        );
    }
}
