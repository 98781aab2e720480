//! The manager side: a socket services notify, and the messages it receives.

use core::ffi::CStr;
use core::fmt;

use super::message::{parse, Fields, MessageError};
use super::{NotifyError, ENV_VAR};
use crate::cmsg::{CmsgBuf, Message, SPACE_MAX};
use crate::fd::{AsFd, BorrowedFd, OwnedFd};
use crate::io::IoSliceMut;
use crate::sys::{self, Ucred, SUN_PATH_LEN};
use crate::unix::{AddrKind, UnixAddr, UnixDatagram};
use crate::{Errno, Error};

/// The manager's end: a datagram socket that services send notifications to, with
/// `SO_PASSCRED` set (every message carries its sender's pid, uid and gid, filled in by
/// the kernel) and `SO_PASSPIDFD` where the kernel has it (Linux 6.5+: a pidfd of the
/// sender, which unlike a pid cannot be reused).
///
/// The socket is close-on-exec; children learn its address from `NOTIFY_SOCKET`, see
/// [`env`](Self::env). A socket bound to a path leaves the file behind when closed:
/// removing it is the caller's business.
///
/// ```
/// use baremsg::notify::{NotifyListener, NotifySocket, MAX_MESSAGE};
/// use baremsg::unix::UnixAddr;
///
/// # fn main() -> Result<(), baremsg::notify::NotifyError> {
/// let name = format!("doc-notify-{}", std::process::id());
/// let listener = NotifyListener::bind(&UnixAddr::from_abstract(name.as_bytes())?)?;
/// let env = listener.env()?; // NOTIFY_SOCKET=@doc-notify-..., for a child's envp
///
/// // The service's side (here the same process): what sd_notify(3) does.
/// let manager = NotifySocket::from_env([env.as_bytes()])?.expect("NOTIFY_SOCKET is set");
/// manager.ready_with_status(b"up")?;
///
/// let mut buf = [0u8; MAX_MESSAGE];
/// let msg = listener.recv_from_pid::<0>(&mut buf, baremsg::sys::getpid())?;
/// assert_eq!(msg.get(b"READY"), Some(&b"1"[..]));
/// assert_eq!(msg.get(b"STATUS"), Some(&b"up"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct NotifyListener {
    sock: UnixDatagram,
    pidfds: bool,
    refusal: Option<FdRefusal>,
}

/// How a listener that takes no fds ([`NotifyListener::refuse_fds`]) keeps them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdRefusal {
    /// The kernel refuses them (`SO_PASSRIGHTS` off, Linux 6.16+): a sender's `sendmsg`
    /// with `SCM_RIGHTS` fails with `EPERM`, and no fd is ever installed here.
    Kernel,
    /// The kernel does not know `SO_PASSRIGHTS` (`ENOPROTOOPT`/`EINVAL`: before 6.16, or
    /// an emulator): fds that come are installed (close-on-exec) and closed on receipt,
    /// and [`Notification::fds_truncated`] says some came.
    Closed,
}

/// Which processes may notify, as systemd's `NotifyAccess=`: see
/// [`NotifyListener::recv_with_access`]. Checks by pidfd where the kernel passes one
/// (same process, not same number), as [`Notification::check_sender_pidfd`] does.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum NotifyAccess<'a> {
    /// Nobody (`NotifyAccess=none`): every message is refused.
    None,
    /// The main process only (`NotifyAccess=main`, systemd's default).
    Main(Process<'a>),
    /// Any of these processes: the service's processes the manager tracks (its main
    /// and control processes for `NotifyAccess=exec`; every member of its cgroup, read
    /// from `cgroup.procs`, for systemd's `NotifyAccess=all`).
    Service(&'a [Process<'a>]),
    /// A process the caller's function accepts, given the sender's pid and its pidfd if
    /// one came (say, one whose parent chain, read from `/proc`, leads to the main
    /// process). Nothing is checked but what the function checks.
    Check(&'a dyn Fn(i32, Option<BorrowedFd<'_>>) -> bool),
    /// Any process that can reach the socket.
    All,
}

impl fmt::Debug for NotifyAccess<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyAccess::None => f.write_str("None"),
            NotifyAccess::Main(p) => f.debug_tuple("Main").field(p).finish(),
            NotifyAccess::Service(ps) => f.debug_tuple("Service").field(ps).finish(),
            NotifyAccess::Check(_) => f.write_str("Check(..)"),
            NotifyAccess::All => f.write_str("All"),
        }
    }
}

/// A process a manager tracks: its pid and, where it has one, its pidfd (taken while
/// the process was known to be it: [`Spawned::pidfd`](crate::activation::Spawned::pidfd),
/// or `pidfd_open` of an unreaped child).
#[derive(Clone, Copy, Debug)]
pub struct Process<'a> {
    /// Its pid.
    pub pid: i32,
    /// Its pidfd: with one, a message is accepted only from this very process (on
    /// pidfs, Linux 6.9+, even once it has been reaped); without, as
    /// [`Notification::check_sender`] checks.
    pub pidfd: Option<BorrowedFd<'a>>,
}

impl NotifyListener {
    /// A new socket bound to `addr` (a path or an abstract name).
    pub fn bind(addr: &UnixAddr) -> Result<Self, NotifyError> {
        Self::from_socket(UnixDatagram::bind(addr)?)
    }

    /// Uses `sock`, a bound datagram socket (one received from elsewhere, say), and sets
    /// its options.
    pub fn from_socket(sock: UnixDatagram) -> Result<Self, NotifyError> {
        sock.set_pass_cred(true)?;
        let pidfds = match sock.set_pass_pidfd(true) {
            Ok(()) => true,
            // Kernels before 6.5 do not know the option.
            Err(Error::Os(Errno::ENOPROTOOPT | Errno::EINVAL)) => false,
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            sock,
            pidfds,
            refusal: None,
        })
    }

    /// Makes the socket take no fds, for a manager that stores none (no `FDSTORE=`):
    /// `SO_PASSRIGHTS` off where the kernel has it (Linux 6.16+), so senders' fds are
    /// refused before they are ever installed in this process; otherwise every fd that
    /// comes is closed on receipt. Returns which ([`FdRefusal`]).
    ///
    /// With [`FdRefusal::Kernel`], a service's `BARRIER=1`, which travels with an fd,
    /// fails at its `sendmsg` (`EPERM`; libsystemd's `sd_notify_barrier` returns it), as
    /// does `FDSTORE=1`: refuse fds only for services that use neither.
    pub fn refuse_fds(&mut self) -> Result<FdRefusal, NotifyError> {
        let how = match crate::unix::sockopt::set(self.sock.as_fd(), sys::SO_PASSRIGHTS, 0i32) {
            Ok(()) => FdRefusal::Kernel,
            Err(Error::Os(Errno::ENOPROTOOPT | Errno::EINVAL)) => FdRefusal::Closed,
            Err(e) => return Err(e.into()),
        };
        self.refusal = Some(how);
        Ok(how)
    }

    /// How fds are refused, if [`refuse_fds`](Self::refuse_fds) was called.
    pub fn fd_refusal(&self) -> Option<FdRefusal> {
        self.refusal
    }

    /// The socket, to set timeouts or nonblocking mode, or poll it.
    pub fn socket(&self) -> &UnixDatagram {
        &self.sock
    }

    /// Whether messages come with the sender's pidfd (`SO_PASSPIDFD` took).
    pub fn passes_pidfds(&self) -> bool {
        self.pidfds
    }

    /// The `NOTIFY_SOCKET=...` entry that points a child at this socket, ready for an
    /// `envp` array.
    pub fn env(&self) -> Result<NotifyEnv, NotifyError> {
        NotifyEnv::new(&self.sock.local_addr()?)
    }

    /// Receives one message into `buf` (which limits its length: [`MAX_MESSAGE`]
    /// bytes is what systemd allows), with its credentials, pidfd, and up to `FDS` fds.
    ///
    /// The message is checked (see [`parse`](super::parse)). A message longer than `buf`
    /// fails with [`MessageError::TooLong`] giving its real length; a malformed one with
    /// the [`MessageError`] found. Fds beyond `FDS` are closed and
    /// [`Notification::fds_truncated`] says so. When an error is returned, every fd that
    /// came with the message has been closed.
    ///
    /// [`MAX_MESSAGE`]: super::MAX_MESSAGE
    pub fn recv<'b, const FDS: usize>(
        &self,
        buf: &'b mut [u8],
    ) -> Result<Notification<'b, FDS>, NotifyError> {
        let mut control = CmsgBuf::<SPACE_MAX>::new();
        let mut fds: [Option<OwnedFd>; FDS] = core::array::from_fn(|_| None);
        let mut count = 0;
        let mut dropped = false;
        let mut cred = None;
        let mut pidfd = None;
        let (len, truncated) = {
            let mut iov = [IoSliceMut::new(&mut *buf)];
            // MSG_TRUNC: the call returns the datagram's real length.
            let mut got = self.sock.recv_msg_with_flags(
                &mut iov,
                &mut control,
                None,
                sys::MSG_CMSG_CLOEXEC | sys::MSG_TRUNC,
            )?;
            dropped |= got.is_control_truncated();
            for msg in got.control.messages() {
                match msg {
                    Ok(Message::Rights(rights)) => {
                        for fd in rights {
                            match fds.get_mut(count).filter(|_| self.refusal.is_none()) {
                                Some(slot) => {
                                    *slot = Some(fd);
                                    count += 1;
                                }
                                None => dropped = true,
                            }
                        }
                    }
                    Ok(Message::Credentials(c)) => {
                        cred.get_or_insert(c);
                    }
                    Ok(Message::Pidfd(mut slot)) if pidfd.is_none() => pidfd = slot.take(),
                    _ => {}
                }
            }
            (got.bytes, got.is_truncated())
        };
        let buf: &'b [u8] = buf;
        let payload = match buf.get(..len) {
            Some(p) if !truncated => p,
            _ => {
                return Err(MessageError::TooLong {
                    len,
                    max: buf.len(),
                }
                .into())
            }
        };
        let fields = parse(payload)?;
        Ok(Notification {
            fields,
            payload,
            cred,
            pidfd,
            fds,
            count,
            dropped,
        })
    }

    /// [`recv`](Self::recv), refusing with [`NotifyError::WrongSender`] a message that
    /// is not from process `pid`, which must be a child of the caller not yet reaped (or
    /// a process kept from being reaped otherwise); the refused message's fds are
    /// closed. See [`Notification::check_sender`] for what is checked, and what cannot
    /// be where the kernel passes no pidfds. [`recv_from_pidfd`](Self::recv_from_pidfd)
    /// checks against a pidfd of the process instead, which also holds once it has been
    /// reaped.
    pub fn recv_from_pid<'b, const FDS: usize>(
        &self,
        buf: &'b mut [u8],
        pid: i32,
    ) -> Result<Notification<'b, FDS>, NotifyError> {
        self.recv(buf)?.check_sender(pid)
    }

    /// [`recv`](Self::recv), refusing a message from a process `access` does not allow
    /// ([`Notification::check_access`]); the refused message's fds are closed.
    pub fn recv_with_access<'b, const FDS: usize>(
        &self,
        buf: &'b mut [u8],
        access: &NotifyAccess<'_>,
    ) -> Result<Notification<'b, FDS>, NotifyError> {
        self.recv(buf)?.check_access(access)
    }

    /// [`recv`](Self::recv), refusing with [`NotifyError::WrongSender`] a message that
    /// is not from process `pid`, whose pidfd the caller holds in `pidfd` (one
    /// [`Spawn::spawn_with_pidfd`](crate::activation::Spawn::spawn_with_pidfd) returns,
    /// say); the refused message's fds are closed. See
    /// [`Notification::check_sender_pidfd`].
    pub fn recv_from_pidfd<'b, const FDS: usize>(
        &self,
        buf: &'b mut [u8],
        pid: i32,
        pidfd: BorrowedFd<'_>,
    ) -> Result<Notification<'b, FDS>, NotifyError> {
        self.recv(buf)?.check_sender_pidfd(pid, pidfd)
    }
}

impl AsFd for NotifyListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl From<NotifyListener> for UnixDatagram {
    fn from(l: NotifyListener) -> Self {
        l.sock
    }
}

/// One received notification: the message, borrowed from the receive buffer, and
/// everything that came with it, owned. Fds not taken are closed when it is dropped.
pub struct Notification<'b, const FDS: usize> {
    fields: Fields<'b>,
    payload: &'b [u8],
    cred: Option<Ucred>,
    pidfd: Option<OwnedFd>,
    fds: [Option<OwnedFd>; FDS],
    count: usize,
    dropped: bool,
}

impl<'b, const FDS: usize> Notification<'b, FDS> {
    /// The message's bytes.
    pub fn payload(&self) -> &'b [u8] {
        self.payload
    }

    /// The `(key, value)` pairs, in order.
    pub fn fields(&self) -> Fields<'b> {
        self.fields.clone()
    }

    /// The value of the first field named `key`.
    pub fn get(&self, key: &[u8]) -> Option<&'b [u8]> {
        self.fields.get(key)
    }

    /// The sender's pid, uid and gid as the kernel saw them.
    pub fn credentials(&self) -> Option<Ucred> {
        self.cred
    }

    /// The sender's pid.
    pub fn sender_pid(&self) -> Option<i32> {
        self.cred.map(|c| c.pid)
    }

    /// Whether the credentials say the sender had pid `pid` (the number only: see
    /// [`check_sender`](Self::check_sender) for a check a reused pid cannot pass).
    pub fn sender_is(&self, pid: i32) -> bool {
        self.sender_pid() == Some(pid)
    }

    /// This notification if it came from process `pid`; otherwise
    /// [`NotifyError::WrongSender`], and its fds are closed. `pid` must be a child of
    /// the caller not yet reaped (or a process kept from being reaped otherwise), so
    /// that no other process can have its number meanwhile.
    ///
    /// The credentials must name `pid` (`actual` in the error is the pid they name,
    /// `None` if none came). Where the message came with its sender's pidfd
    /// (`SO_PASSPIDFD`, Linux 6.5+, and [`take_pidfd`](Self::take_pidfd) not called),
    /// the sender must also still exist: a message from a process that has exited and
    /// been reaped, such as an earlier process that had the same pid, is refused
    /// (`actual == Some(expected)`), even though its number matches. This is read from
    /// `/proc/self/fdinfo` (`Pid: -1`), or without `/proc` on kernels with pidfs (6.9+)
    /// by comparing the pidfd with one of the process that has `pid` now
    /// (`pidfd_open(2)`). A message the expected process sent before it was reaped is
    /// refused too: read its messages before reaping it, or use
    /// [`check_sender_pidfd`](Self::check_sender_pidfd).
    ///
    /// Where no pidfd came (Linux before 6.5, `SO_PASSPIDFD` refused), or neither
    /// `/proc` nor pidfs can tell, the check is by number alone: it cannot tell a
    /// message that a process which had the pid before sent, and that was still queued
    /// when its pid was reused, from one of process `pid`. Errors of the check itself
    /// (`EMFILE` opening fdinfo, ...) are [`NotifyError::Sys`].
    pub fn check_sender(self, pid: i32) -> Result<Self, NotifyError> {
        self.check(pid, None)
    }

    /// This notification if it came from the process `pidfd` refers to, whose pid is
    /// `pid`; otherwise [`NotifyError::WrongSender`], and its fds are closed.
    ///
    /// The credentials must name `pid`. Where the message came with its sender's pidfd:
    /// on kernels with pidfs (Linux 6.9+) the two pidfds must name the same process (the
    /// same inode), which holds even after the process has exited and been reaped, and
    /// fails for any other process, whatever its pid; on 6.5 to 6.8 both processes must
    /// still exist (read from `/proc/self/fdinfo`; then the sender is the process that
    /// has `pid`, which is `pidfd`'s). Where no pidfd came, or neither pidfs nor `/proc`
    /// can tell, the check is by number alone, as in [`check_sender`](Self::check_sender).
    pub fn check_sender_pidfd(self, pid: i32, pidfd: BorrowedFd<'_>) -> Result<Self, NotifyError> {
        self.check(pid, Some(pidfd))
    }

    /// This notification if `access` lets its sender notify; otherwise
    /// [`NotifyError::WrongSender`] (for [`NotifyAccess::Main`]) or
    /// [`NotifyError::NotAllowed`], and its fds are closed. Each [`Process`] is checked
    /// as [`check_sender_pidfd`](Self::check_sender_pidfd) checks (with its pidfd) or
    /// [`check_sender`](Self::check_sender) (without): a message whose credentials name a
    /// tracked pid but whose pidfd shows another process (an earlier one that had the
    /// pid, since reaped) is refused.
    pub fn check_access(self, access: &NotifyAccess<'_>) -> Result<Self, NotifyError> {
        let allowed = match *access {
            NotifyAccess::All => true,
            NotifyAccess::None => false,
            NotifyAccess::Main(p) => return self.check(p.pid, p.pidfd),
            NotifyAccess::Service(procs) => {
                let mut found = false;
                for p in procs.iter().filter(|p| self.sender_is(p.pid)) {
                    if self.is_from(p.pid, p.pidfd)? {
                        found = true;
                        break;
                    }
                }
                found
            }
            NotifyAccess::Check(f) => self.sender_pid().is_some_and(|pid| f(pid, self.pidfd())),
        };
        if allowed {
            Ok(self)
        } else {
            Err(NotifyError::NotAllowed {
                actual: self.sender_pid(),
            })
        }
    }

    fn is_from(&self, pid: i32, expected: Option<BorrowedFd<'_>>) -> Result<bool, NotifyError> {
        Ok(match (self.sender_is(pid), &self.pidfd) {
            (false, _) => false,
            (true, None) => true,
            (true, Some(sent)) => super::sender::is_expected(sent.as_fd(), pid, expected)?,
        })
    }

    fn check(self, pid: i32, expected: Option<BorrowedFd<'_>>) -> Result<Self, NotifyError> {
        let same = self.is_from(pid, expected)?;
        if same {
            Ok(self)
        } else {
            Err(NotifyError::WrongSender {
                expected: pid,
                actual: self.sender_pid(),
            })
        }
    }

    /// The sender's pidfd (`SCM_PIDFD`), if one came and was not taken.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Takes the sender's pidfd.
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        self.pidfd.take()
    }

    /// How many fds came with the message (and were kept).
    pub fn fd_count(&self) -> usize {
        self.count
    }

    /// The fds not yet taken, in the order they came.
    pub fn fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> + '_ {
        self.fds.iter().flatten().map(|fd| fd.as_fd())
    }

    /// Takes the fds, in the order they came.
    pub fn take_fds(&mut self) -> impl Iterator<Item = OwnedFd> + '_ {
        self.fds.iter_mut().filter_map(Option::take)
    }

    /// More fds came than the `FDS` kept (the rest were closed), or the kernel could not
    /// install them all (`MSG_CTRUNC`: the receiver's fd limit).
    pub fn fds_truncated(&self) -> bool {
        self.dropped
    }
}

impl<const FDS: usize> fmt::Debug for Notification<'_, FDS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("payload", &self.payload)
            .field("credentials", &self.cred)
            .field("pidfd", &self.pidfd)
            .field("fds", &self.count)
            .field("fds_truncated", &self.dropped)
            .finish()
    }
}

/// `NOTIFY_SOCKET=<path or @name>` and a NUL, for a child's environment.
#[derive(Clone, Copy)]
pub struct NotifyEnv {
    buf: [u8; ENV_LEN],
    len: usize,
}

/// The longest path or abstract name [`NotifySocket::parse`](super::NotifySocket::parse)
/// accepts: `sun_path` less the path's NUL or the abstract name's leading NUL.
const NAME_MAX: usize = SUN_PATH_LEN - 1;

/// `NOTIFY_SOCKET=`, an `@` (abstract names), the name, the NUL.
const ENV_LEN: usize = ENV_VAR.len() + 1 + 1 + NAME_MAX + 1;

impl NotifyEnv {
    /// The entry for `addr`: every address [`NotifySocket::parse`] accepts has one (paths
    /// and abstract names of up to 107 bytes). An unnamed address, or an abstract name
    /// holding a NUL byte (which the `@` text form cannot carry), has none; a name longer
    /// than `NotifySocket::parse` accepts (a 108-byte path without its NUL, which only a
    /// socket bound by other code can have) is [`NotifyError::SocketNameTooLong`].
    ///
    /// [`NotifySocket::parse`]: super::NotifySocket::parse
    pub fn new(addr: &UnixAddr) -> Result<Self, NotifyError> {
        let (at, name): (&[u8], &[u8]) = match addr.kind() {
            AddrKind::Path(p) => (b"", p),
            AddrKind::Abstract(n) if !n.contains(&0) => (b"@", n),
            _ => return Err(NotifyError::NoSocketAddress),
        };
        if name.len() > NAME_MAX {
            return Err(NotifyError::SocketNameTooLong {
                len: name.len(),
                max: NAME_MAX,
            });
        }
        let mut buf = [0u8; ENV_LEN];
        let mut len = 0;
        // At most ENV_LEN - 1 bytes (the name's length is checked above): the NUL fits.
        for part in [ENV_VAR.as_bytes(), b"=", at, name] {
            let end = len + part.len();
            if let Some(dst) = buf.get_mut(len..end) {
                dst.copy_from_slice(part);
            }
            len = end;
        }
        Ok(Self { buf, len })
    }

    /// `NOTIFY_SOCKET=...`, without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The value alone: the path, or `@` and the abstract name.
    pub fn value(&self) -> &[u8] {
        &self.buf[ENV_VAR.len() + 1..self.len]
    }

    /// `NOTIFY_SOCKET=...` with its NUL, for an `envp` array.
    pub fn as_cstr(&self) -> &CStr {
        // The buffer is zeroed past `len` (< ENV_LEN) and the name holds no NUL.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or_default()
    }
}

impl fmt::Debug for NotifyEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NotifyEnv").field(&self.as_cstr()).finish()
    }
}
