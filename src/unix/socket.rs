//! Connected Unix sockets of the three kinds, written once over the kind.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};
use core::ptr;
use core::time::Duration;

use super::UnixAddr;
use crate::cmsg::{
    space_for_credentials, space_for_fds, space_for_pidfd, Cmsgs, Encoder, ReceivedControl,
    SPACE_MAX,
};
use crate::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use crate::io::{IoSlice, IoSliceMut};
use crate::sys::{self, Msghdr, SockaddrUn, Timeval, Ucred};
use crate::{Errno, Error};

mod sealed {
    pub trait Sealed {}
}

/// The kind of a Unix socket: [`Stream`], [`Datagram`] or [`Seqpacket`].
pub trait SocketKind: sealed::Sealed {
    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    const TYPE: i32;
    /// The kind's name, for messages.
    const NAME: &'static str;
}

/// `SOCK_STREAM`: a byte stream; message boundaries are not kept.
#[derive(Debug)]
pub enum Stream {}
/// `SOCK_DGRAM`: datagrams, each read whole or truncated.
#[derive(Debug)]
pub enum Datagram {}
/// `SOCK_SEQPACKET`: connected, ordered, message boundaries kept.
#[derive(Debug)]
pub enum Seqpacket {}

impl sealed::Sealed for Stream {}
impl sealed::Sealed for Datagram {}
impl sealed::Sealed for Seqpacket {}
impl SocketKind for Stream {
    const TYPE: i32 = sys::SOCK_STREAM;
    const NAME: &'static str = "stream";
}
impl SocketKind for Datagram {
    const TYPE: i32 = sys::SOCK_DGRAM;
    const NAME: &'static str = "datagram";
}
impl SocketKind for Seqpacket {
    const TYPE: i32 = sys::SOCK_SEQPACKET;
    const NAME: &'static str = "seqpacket";
}

/// A Unix socket of kind `K`, close-on-exec. Closed when dropped.
pub struct Socket<K: SocketKind> {
    fd: OwnedFd,
    _kind: PhantomData<K>,
}

/// A connected `SOCK_STREAM` Unix socket.
pub type UnixStream = Socket<Stream>;
/// A `SOCK_DGRAM` Unix socket, bound, connected, or neither.
pub type UnixDatagram = Socket<Datagram>;
/// A connected `SOCK_SEQPACKET` Unix socket.
pub type UnixSeqpacket = Socket<Seqpacket>;

/// Which half of a connection [`Socket::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending: the peer reads end-of-file.
    Write,
    /// Both.
    Both,
}

/// What [`Socket::recv_msg`] received.
#[derive(Debug)]
pub struct RecvMsg<'c> {
    /// Payload bytes received: at most the buffers' total, unless `MSG_TRUNC` was
    /// passed to [`Socket::recv_msg_with_flags`] (then the real length).
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
    pub fn is_control_truncated(&self) -> bool {
        self.flags & sys::MSG_CTRUNC != 0
    }
}

/// What [`Socket::recv_fds`] received.
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
/// [`SPACE_MAX`]) on the stack: nothing is zeroed; the encoder or the kernel writes
/// whatever is read back.
#[inline(always)]
fn with_control<R>(len: usize, f: impl FnOnce(&mut [MaybeUninit<u8>]) -> R) -> R {
    let mut storage = MaybeUninit::<crate::cmsg::CmsgBuf<SPACE_MAX>>::uninit();
    let len = len.min(SPACE_MAX);
    // SAFETY: `len` <= SPACE_MAX, the storage's size; a slice of `MaybeUninit<u8>` may
    // cover uninitialized memory.
    let buf = unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), len) };
    f(buf)
}

fn timeval(d: Option<Duration>) -> Result<Timeval, Error> {
    match d {
        None => Ok(Timeval::default()),
        Some(d) if d.is_zero() => Err(Error::Os(Errno::EINVAL)),
        Some(d) => {
            let max = sys::KernelLong::MAX;
            let sec = sys::KernelLong::try_from(d.as_secs()).unwrap_or(max);
            let mut usec = d.subsec_micros() as sys::KernelLong;
            if sec == 0 && usec == 0 {
                usec = 1; // under a microsecond: the shortest timeout, not "none"
            }
            Ok(Timeval {
                tv_sec: sec,
                tv_usec: usec,
            })
        }
    }
}

impl<K: SocketKind> Socket<K> {
    /// A new, unconnected socket of this kind (`socket(2)`, close-on-exec).
    pub(crate) fn new_raw() -> Result<Self, Error> {
        // SAFETY: the new fd is wrapped at once.
        let fd = unsafe { sys::socket(sys::AF_UNIX, K::TYPE | sys::SOCK_CLOEXEC, 0) }?;
        // SAFETY: socket returned a new fd nobody else owns.
        Ok(unsafe { Self::from_raw_fd(fd) })
    }

    /// A pair of connected sockets (`socketpair(2)`, close-on-exec).
    pub fn pair() -> Result<(Self, Self), Error> {
        let mut fds = [-1; 2];
        // SAFETY: both new fds are wrapped at once.
        unsafe {
            sys::socketpair(sys::AF_UNIX, K::TYPE | sys::SOCK_CLOEXEC, 0, &mut fds)?;
            Ok((Self::from_raw_fd(fds[0]), Self::from_raw_fd(fds[1])))
        }
    }

    /// A new socket connected to `addr` (`connect(2)`).
    pub fn connect(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw()?;
        sock.connect_raw(addr)?;
        Ok(sock)
    }

    pub(crate) fn connect_raw(&self, addr: &UnixAddr) -> Result<(), Error> {
        let (raw, len) = addr.as_raw();
        // SAFETY: `raw` is readable for `len` bytes.
        unsafe { sys::connect(self.raw(), (raw as *const SockaddrUn).cast(), len) }?;
        Ok(())
    }

    /// Wraps `fd` if it is an `AF_UNIX` socket of this kind (checked with `SO_DOMAIN`
    /// and `SO_TYPE`); gives it back otherwise.
    pub fn try_from_fd(fd: OwnedFd) -> Result<Self, OwnedFd> {
        match kind_of(fd.as_fd()) {
            Ok((sys::AF_UNIX, ty)) if ty == K::TYPE => Ok(Self {
                fd,
                _kind: PhantomData,
            }),
            _ => Err(fd),
        }
    }

    #[inline(always)]
    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sends `buf` (`send(2)`, as `sendto` with `MSG_NOSIGNAL`); returns the bytes sent.
    #[inline]
    pub fn send(&self, buf: &[u8]) -> Result<usize, Error> {
        // SAFETY: `buf` is readable for its length; no address.
        Ok(unsafe {
            sys::sendto(
                self.raw(),
                buf.as_ptr(),
                buf.len(),
                sys::MSG_NOSIGNAL,
                ptr::null(),
                0,
            )
        }?)
    }

    /// Receives into `buf` (`recv(2)`, as `recvfrom`); returns the bytes received (0:
    /// end of stream). A datagram longer than `buf` is cut short silently: use
    /// [`recv_msg`](Self::recv_msg) to learn of it.
    #[inline]
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, Error> {
        // SAFETY: `buf` is writable for its length; no address.
        Ok(unsafe {
            sys::recvfrom(
                self.raw(),
                buf.as_mut_ptr(),
                buf.len(),
                0,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        }?)
    }

    /// Sends the buffers `bufs` with the control messages `control` (`sendmsg(2)`, with
    /// `MSG_NOSIGNAL`); returns the payload bytes sent.
    ///
    /// Refused before the syscall: control data with an empty payload on a stream
    /// socket ([`Error::ControlWithoutPayload`]), more than 1024 buffers.
    #[inline]
    pub fn send_msg(&self, bufs: &[IoSlice<'_>], control: &Cmsgs<'_, '_>) -> Result<usize, Error> {
        self.send_msg_with_flags(bufs, control, None, sys::MSG_NOSIGNAL)
    }

    /// [`send_msg`](Self::send_msg) with an optional destination address and the flags
    /// exactly as given (`MSG_NOSIGNAL` is not added).
    #[inline]
    pub fn send_msg_with_flags(
        &self,
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
            return Ok(unsafe { sys::sendto(self.raw(), p, n, flags, name, namelen) }?);
        }
        if bufs.len() > 1024 {
            return Err(Error::TooManyBuffers);
        }
        if !control.is_empty() && K::TYPE == sys::SOCK_STREAM && bufs.iter().all(|b| b.is_empty()) {
            return Err(Error::ControlWithoutPayload);
        }
        let mut msg = Msghdr::new();
        msg.msg_name = name as *mut c_void;
        msg.msg_namelen = namelen;
        msg.msg_iov = IoSlice::as_iovecs(bufs) as *mut _;
        msg.set_iovlen(bufs.len());
        msg.msg_control = control.as_ptr() as *mut c_void;
        msg.set_controllen(control.len());
        // SAFETY: every pointer in `msg` is valid for its length; the fds in `control`
        // are borrowed by the `Cmsgs`, so they are open.
        Ok(unsafe { sys::sendmsg(self.raw(), &msg, flags) }?)
    }

    /// Receives into the buffers `bufs`, and control data into `control` (an aligned
    /// buffer such as a [`CmsgBuf`](crate::cmsg::CmsgBuf); may be empty), with
    /// `MSG_CMSG_CLOEXEC` (`recvmsg(2)`). The sender's address is not asked for: see
    /// [`recv_msg_from`](Self::recv_msg_from).
    ///
    /// Every fd that arrives is owned by the returned [`RecvMsg`]'s `control`. On a
    /// datagram or seqpacket socket a payload longer than the buffers is reported by
    /// [`RecvMsg::is_truncated`]; control data cut short, by
    /// [`RecvMsg::is_control_truncated`].
    ///
    /// With an empty `control` and at most one buffer this is `recvfrom(2)`, the cheaper
    /// call: the kernel then discards any fds or credentials the peer sent (closing the
    /// fds: nothing leaks) without saying so, as it does for `recv(2)`. Pass a control
    /// buffer, even a small one, wherever a peer may send control data and its loss must
    /// be reported.
    #[inline]
    pub fn recv_msg<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
    ) -> Result<RecvMsg<'c>, Error> {
        self.recv_msg_with_flags(bufs, control, None, sys::MSG_CMSG_CLOEXEC)
    }

    /// [`recv_msg`](Self::recv_msg), also returning the sender's address (`msg_name`):
    /// on a datagram socket, where the datagram came from; on a connected socket, the
    /// peer's address ([`UnixAddr::is_unnamed`] when the peer never bound one, as at
    /// either end of a socketpair).
    #[inline]
    pub fn recv_msg_from<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
    ) -> Result<(RecvMsg<'c>, UnixAddr), Error> {
        let mut from = UnixAddr::unnamed();
        let got =
            self.recv_msg_with_flags(bufs, control, Some(&mut from), sys::MSG_CMSG_CLOEXEC)?;
        Ok((got, from))
    }

    /// [`recv_msg`](Self::recv_msg) with the flags exactly as given (without
    /// `MSG_CMSG_CLOEXEC`, received fds are inherited across `execve`), writing the
    /// sender's address into `from` when one is given.
    ///
    /// With `MSG_TRUNC` in `flags`, [`RecvMsg::bytes`] is the datagram's real length, as
    /// the kernel reports it, even where that exceeds the buffers.
    #[inline(always)]
    pub fn recv_msg_with_flags<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
        from: Option<&mut UnixAddr>,
        flags: i32,
    ) -> Result<RecvMsg<'c>, Error> {
        let len = control.len();
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and only the kernel writes to
        // the buffer, initialized bytes, so it stays initialized for its owner.
        let control = unsafe { core::slice::from_raw_parts_mut(control.as_mut_ptr().cast(), len) };
        self.recv_msg_uninit(bufs, control, from, flags)
    }

    /// [`recv_msg_with_flags`](Self::recv_msg_with_flags) into a control buffer that
    /// need not be initialized: the control data handed back is what the kernel wrote.
    #[inline(always)]
    fn recv_msg_uninit<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [MaybeUninit<u8>],
        mut from: Option<&mut UnixAddr>,
        flags: i32,
    ) -> Result<RecvMsg<'c>, Error> {
        let (name, mut namelen) = match &mut from {
            Some(a) => a.as_raw_mut(),
            None => (ptr::null_mut(), 0),
        };

        if control.is_empty() && bufs.len() <= 1 {
            let (p, n) = bufs
                .first_mut()
                .map_or((ptr::null_mut(), 0), |b| (b.as_mut_ptr(), b.len()));
            // On datagram and seqpacket sockets MSG_TRUNC makes recvfrom return the real
            // length, which tells truncation as recvmsg's msg_flags would (on a stream it
            // would discard the data instead).
            let extra = if K::TYPE != sys::SOCK_STREAM {
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
            let got = unsafe { sys::recvfrom(self.raw(), p, n, flags | extra, name.cast(), lenp) }?;
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
        let mut msg = Msghdr::new();
        msg.msg_name = name.cast();
        msg.msg_namelen = namelen;
        msg.msg_iov = IoSliceMut::as_iovecs(bufs);
        msg.set_iovlen(bufs.len());
        if !control.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.set_controllen(control.len());
        }
        // SAFETY: every pointer in `msg` is valid for writes of its length.
        let got = unsafe { sys::recvmsg(self.raw(), &mut msg, flags) }?;
        if let Some(a) = from {
            a.set_len(msg.msg_namelen);
        }
        let controllen = msg.controllen().min(control.len());
        // SAFETY: the kernel wrote the first `msg_controllen` bytes of the buffer.
        let control: &'c mut [u8] =
            unsafe { core::slice::from_raw_parts_mut(control.as_mut_ptr().cast(), controllen) };
        Ok(RecvMsg {
            bytes: got,
            // The kernel echoes MSG_CMSG_CLOEXEC back in msg_flags; recvfrom's path
            // cannot, so it is masked here for the two paths to agree.
            flags: msg.msg_flags & !sys::MSG_CMSG_CLOEXEC,
            // SAFETY: the kernel installed the fds in this control data for this
            // receive; nobody else owns them.
            control: unsafe { ReceivedControl::new(control) },
        })
    }

    /// Sends `buf` with the fds `fds` in one `SCM_RIGHTS` message. More than 253 fds
    /// is [`Error::TooManyFds`]; on a stream socket `buf` must not be empty.
    #[inline]
    pub fn send_fds(&self, buf: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, Error> {
        if fds.len() > sys::SCM_MAX_FD {
            return Err(Error::TooManyFds { count: fds.len() });
        }
        with_control(space_for_fds(fds.len()), |space| {
            let mut enc = Encoder::from_aligned_uninit(space);
            enc.push_rights(fds)?;
            self.send_msg(&[IoSlice::new(buf)], &enc.finish())
        })
    }

    /// Receives into `buf`, and up to `fds.len()` fds (at most 253) into the empty slots
    /// of `fds`, in order. Fds received beyond the slots are closed, and
    /// `control_truncated` says so; credentials or a pidfd that arrive too (with
    /// `SO_PASSCRED`/`SO_PASSPIDFD`) are dropped.
    pub fn recv_fds(&self, buf: &mut [u8], fds: &mut [Option<OwnedFd>]) -> Result<RecvFds, Error> {
        let want = fds.len().min(sys::SCM_MAX_FD);
        let space = space_for_fds(want) + space_for_credentials() + space_for_pidfd();
        with_control(space, |control| {
            let mut bufs = [IoSliceMut::new(buf)];
            let got = self.recv_msg_uninit(&mut bufs, control, None, sys::MSG_CMSG_CLOEXEC)?;
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

    fn getsockopt<T: Copy>(&self, name: i32, mut val: T) -> Result<T, Error> {
        let mut len = size_of::<T>() as u32;
        // SAFETY: `val` is writable for `len` bytes.
        unsafe {
            sys::getsockopt(
                self.raw(),
                sys::SOL_SOCKET,
                name,
                (&mut val as *mut T).cast(),
                &mut len,
            )
        }?;
        Ok(val)
    }

    fn setsockopt<T: Copy>(&self, name: i32, val: T) -> Result<(), Error> {
        set_opt(self.fd.as_fd(), name, val)
    }

    /// The credentials of the peer process as of `connect` or `socketpair`
    /// (`SO_PEERCRED`).
    pub fn peer_cred(&self) -> Result<Ucred, Error> {
        self.getsockopt(sys::SO_PEERCRED, Ucred::default())
    }

    /// An fd referring to the peer process (`SO_PEERPIDFD`, Linux 6.5+), close-on-exec.
    pub fn peer_pidfd(&self) -> Result<OwnedFd, Error> {
        let fd = self.getsockopt(sys::SO_PEERPIDFD, -1i32)?;
        if fd < 0 {
            return Err(Error::Os(Errno::ENODATA));
        }
        // SAFETY: the kernel installed a new fd for us.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Asks for `SCM_CREDENTIALS` with every message received (`SO_PASSCRED`). On a
    /// listener, set it before `accept` so the accepted sockets have it from the start.
    pub fn set_pass_cred(&self, on: bool) -> Result<(), Error> {
        self.setsockopt(sys::SO_PASSCRED, on as i32)
    }

    /// Whether `SO_PASSCRED` is set.
    pub fn pass_cred(&self) -> Result<bool, Error> {
        Ok(self.getsockopt(sys::SO_PASSCRED, 0i32)? != 0)
    }

    /// Asks for `SCM_PIDFD` with every message received (`SO_PASSPIDFD`, Linux 6.5+).
    pub fn set_pass_pidfd(&self, on: bool) -> Result<(), Error> {
        self.setsockopt(sys::SO_PASSPIDFD, on as i32)
    }

    /// Sets the receive timeout (`SO_RCVTIMEO`); `None` waits forever. A zero duration is
    /// `EINVAL`, as in std. A receive that times out fails with `EAGAIN`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> Result<(), Error> {
        self.setsockopt(sys::SO_RCVTIMEO, timeval(t)?)
    }

    /// Sets the send timeout (`SO_SNDTIMEO`); as [`set_read_timeout`](Self::set_read_timeout).
    pub fn set_write_timeout(&self, t: Option<Duration>) -> Result<(), Error> {
        self.setsockopt(sys::SO_SNDTIMEO, timeval(t)?)
    }

    /// The receive timeout, `None` for none.
    pub fn read_timeout(&self) -> Result<Option<Duration>, Error> {
        Ok(duration(
            self.getsockopt(sys::SO_RCVTIMEO, Timeval::default())?,
        ))
    }

    /// The send timeout, `None` for none.
    pub fn write_timeout(&self) -> Result<Option<Duration>, Error> {
        Ok(duration(
            self.getsockopt(sys::SO_SNDTIMEO, Timeval::default())?,
        ))
    }

    /// Sets or clears nonblocking mode: calls that would wait fail with `EAGAIN`.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Error> {
        Ok(crate::fd::set_nonblocking(&self.fd, on)?)
    }

    /// Shuts down one or both halves of the connection (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> Result<(), Error> {
        let how = match how {
            Shutdown::Read => sys::SHUT_RD,
            Shutdown::Write => sys::SHUT_WR,
            Shutdown::Both => sys::SHUT_RDWR,
        };
        // SAFETY: only integers cross.
        Ok(unsafe { sys::shutdown(self.raw(), how) }?)
    }

    /// The address this socket is bound to (`getsockname(2)`).
    pub fn local_addr(&self) -> Result<UnixAddr, Error> {
        sock_addr(self.fd.as_fd(), sys::getsockname)
    }

    /// The address of the peer (`getpeername(2)`).
    pub fn peer_addr(&self) -> Result<UnixAddr, Error> {
        sock_addr(self.fd.as_fd(), sys::getpeername)
    }

    /// The pending socket error, cleared by reading it (`SO_ERROR`).
    pub fn take_error(&self) -> Result<Option<Errno>, Error> {
        let e = self.getsockopt(sys::SO_ERROR, 0i32)?;
        Ok((e != 0).then(|| Errno::from_raw(e)))
    }

    /// Another socket for the same connection, close-on-exec.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(Self {
            fd: crate::fd::try_clone(&self.fd)?,
            _kind: PhantomData,
        })
    }
}

impl UnixDatagram {
    /// A datagram socket bound to `addr`.
    pub fn bind(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw()?;
        bind_raw(sock.fd.as_fd(), addr)?;
        Ok(sock)
    }

    /// A datagram socket bound to no address: it can send with
    /// [`send_to`](Self::send_to), and receive once connected.
    pub fn unbound() -> Result<Self, Error> {
        Self::new_raw()
    }

    /// Connects this socket to `addr`: sends without an address go there, and only
    /// datagrams from there are received.
    pub fn connect_to(&self, addr: &UnixAddr) -> Result<(), Error> {
        self.connect_raw(addr)
    }

    /// Sends `buf` to `addr` (`sendto(2)`, `MSG_NOSIGNAL`).
    pub fn send_to(&self, buf: &[u8], addr: &UnixAddr) -> Result<usize, Error> {
        self.send_msg_to(&[IoSlice::new(buf)], &Cmsgs::empty(), addr)
    }

    /// [`send_msg`](Self::send_msg) to `addr`.
    pub fn send_msg_to(
        &self,
        bufs: &[IoSlice<'_>],
        control: &Cmsgs<'_, '_>,
        addr: &UnixAddr,
    ) -> Result<usize, Error> {
        self.send_msg_with_flags(bufs, control, Some(addr), sys::MSG_NOSIGNAL)
    }

    /// Receives one datagram into `buf`; returns its length (cut to `buf`'s) and the
    /// sender's address.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, UnixAddr), Error> {
        let (got, from) = self.recv_msg_from(&mut [IoSliceMut::new(buf)], &mut [])?;
        Ok((got.bytes, from))
    }
}

/// `SO_DOMAIN` and `SO_TYPE` of a socket.
pub(crate) fn kind_of(fd: BorrowedFd<'_>) -> Result<(i32, i32), Error> {
    let get = |name| {
        let mut v = 0i32;
        let mut len = 4u32;
        // SAFETY: `v` is writable for 4 bytes.
        unsafe {
            sys::getsockopt(
                fd.as_raw_fd(),
                sys::SOL_SOCKET,
                name,
                (&mut v as *mut i32).cast(),
                &mut len,
            )
        }
        .map(|_| v)
    };
    Ok((get(sys::SO_DOMAIN)?, get(sys::SO_TYPE)?))
}

pub(crate) fn set_opt<T: Copy>(fd: BorrowedFd<'_>, name: i32, val: T) -> Result<(), Error> {
    // SAFETY: `val` is readable for its size.
    unsafe {
        sys::setsockopt(
            fd.as_raw_fd(),
            sys::SOL_SOCKET,
            name,
            (&val as *const T).cast(),
            size_of::<T>() as u32,
        )
    }?;
    Ok(())
}

pub(crate) fn bind_raw(fd: BorrowedFd<'_>, addr: &UnixAddr) -> Result<(), Error> {
    let (raw, len) = addr.as_raw();
    // SAFETY: `raw` is readable for `len` bytes.
    unsafe { sys::bind(fd.as_raw_fd(), (raw as *const SockaddrUn).cast(), len) }?;
    Ok(())
}

pub(crate) fn sock_addr(
    fd: BorrowedFd<'_>,
    call: unsafe fn(i32, *mut c_void, *mut u32) -> Result<(), Errno>,
) -> Result<UnixAddr, Error> {
    let mut raw = SockaddrUn::new();
    let mut len = size_of::<SockaddrUn>() as u32;
    // SAFETY: `raw` is writable for `len` bytes.
    unsafe {
        call(
            fd.as_raw_fd(),
            (&mut raw as *mut SockaddrUn).cast(),
            &mut len,
        )
    }?;
    Ok(UnixAddr::from_raw(raw, len))
}

fn duration(tv: Timeval) -> Option<Duration> {
    if tv.tv_sec == 0 && tv.tv_usec == 0 {
        return None;
    }
    Some(
        Duration::from_secs(tv.tv_sec.max(0) as u64)
            + Duration::from_micros(tv.tv_usec.max(0) as u64),
    )
}

owned_fd_impls!(
    Socket,
    "Wraps `fd`, which must be an `AF_UNIX` socket of kind `K` (unchecked; see \
     [`Socket::try_from_fd`] for a checked conversion)."
);

#[cfg(feature = "std")]
mod std_interop {
    use super::*;
    use std::os::unix::net as stdnet;

    macro_rules! convert {
        ($ours:ty, $std:ty) => {
            impl From<$std> for $ours {
                fn from(s: $std) -> Self {
                    Self {
                        fd: s.into(),
                        _kind: PhantomData,
                    }
                }
            }
            impl From<$ours> for $std {
                fn from(s: $ours) -> Self {
                    s.fd.into()
                }
            }
        };
    }
    convert!(UnixStream, stdnet::UnixStream);
    convert!(UnixDatagram, stdnet::UnixDatagram);

    impl<K: SocketKind> std::io::Read for Socket<K> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            Ok(self.recv(buf)?)
        }
    }

    impl<K: SocketKind> std::io::Write for Socket<K> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(self.send(buf)?)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
