//! The service side: finding the manager's socket and telling it things.

use core::time::Duration;

use super::env::var;
use super::message::{Checker, MessageError, MAX_MESSAGE};
use super::vsock::VsockAddr;
use super::NotifyAccessValue;
use super::{monotonic_usec, NotifyError, ENV_VAR};
use crate::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Cmsgs, SPACE_MAX};
use crate::fd::{self, AsFd, AsRawFd, BorrowedFd};
use crate::fmt::{decimal, Decimal};
use crate::io::IoSlice;
use crate::sys::{self, Ucred, SUN_PATH_LEN};
use crate::unix::{UnixAddr, UnixDatagram};
use crate::Errno;

/// The most pieces one [`NotifySocket::send_parts`] takes.
pub const MAX_PARTS: usize = 8;

/// How long [`NotifySocket::barrier`] waits when systemd's `sd_notify_barrier` is asked
/// for its default: 5 seconds.
pub const DEFAULT_BARRIER_TIMEOUT: Duration = Duration::from_secs(5);

/// The manager's notification socket, as `NOTIFY_SOCKET` names it: where a service sends
/// `READY=1` and the rest. A Unix socket, or a vsock address (see [`VsockAddr`] for how
/// those are sent to).
///
/// Each send to a Unix socket opens a fresh datagram socket, sends one message to this address and closes
/// it again, as `sd_notify(3)` does: nothing stays open between sends. Sends block if
/// the manager's receive queue is full. The kernel attaches the sender's credentials
/// itself when the manager asked for them (`SO_PASSCRED`), which is how the manager
/// learns who sent what.
///
/// ```
/// use baremsg::notify::{NotifyError, NotifySocket, VsockType};
///
/// # fn main() -> Result<(), NotifyError> {
/// let s = NotifySocket::parse(b"@manager")?;
/// assert_eq!(s.addr().and_then(|a| a.as_abstract()), Some(&b"manager"[..]));
/// let v = NotifySocket::parse(b"vsock-stream:host:9")?.vsock().copied().unwrap();
/// assert_eq!((v.cid, v.port, v.ty), (2, 9, VsockType::Stream));
/// assert_eq!(NotifySocket::parse(b"run/notify"), Err(NotifyError::RelativeSocketPath));
/// // No NOTIFY_SOCKET: not started by a manager, nothing to do.
/// assert_eq!(NotifySocket::from_env([&b"PATH=/bin"[..]])?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifySocket {
    target: NotifyAddr,
}

/// Where `NOTIFY_SOCKET` points: a Unix socket, or a vsock address (see
/// [`VsockAddr`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyAddr {
    /// A path or an abstract name.
    Unix(UnixAddr),
    /// `vsock:CID:PORT` and its typed forms.
    Vsock(VsockAddr),
}

/// Sends `state` to the socket `NOTIFY_SOCKET` names in `env`: `Ok(true)` once sent,
/// `Ok(false)` when `NOTIFY_SOCKET` is not set (the service was not started by a manager
/// that listens: nothing to do).
///
/// `env` is the environment as `KEY=VALUE` byte strings: an [`Envp`](super::Envp) in a
/// freestanding program, anything else that yields `&[u8]` elsewhere.
pub fn notify<'e, I>(env: I, state: &[u8]) -> Result<bool, NotifyError>
where
    I: IntoIterator<Item = &'e [u8]>,
{
    match NotifySocket::from_env(env)? {
        Some(sock) => sock.send(state).map(|()| true),
        None => Ok(false),
    }
}

/// [`notify`] with the process environment, read through `std::env`.
#[cfg(feature = "std")]
pub fn notify_std(state: &[u8]) -> Result<bool, NotifyError> {
    match NotifySocket::from_std_env()? {
        Some(sock) => sock.send(state).map(|()| true),
        None => Ok(false),
    }
}

/// Checks an fd name as systemd does (`fdname_is_valid`, for `FDNAME=` and
/// `LISTEN_FDNAMES`): at most 255 bytes of printable ASCII (0x20 to 0x7e), no `:` (which
/// separates names in `LISTEN_FDNAMES`). The empty name is valid, as in systemd.
pub fn is_valid_fd_name(name: &[u8]) -> bool {
    name.len() <= 255
        && name
            .iter()
            .all(|&b| (b' '..=b'~').contains(&b) && b != b':')
}

impl NotifySocket {
    /// Parses a `NOTIFY_SOCKET` value: an absolute path, an abstract name written
    /// with a leading `@`, or a vsock address (`vsock:CID:PORT`, `vsock-dgram:`,
    /// `vsock-seqpacket:`, `vsock-stream:`; see [`VsockAddr::parse`]).
    pub fn parse(value: &[u8]) -> Result<Self, NotifyError> {
        const MAX: usize = SUN_PATH_LEN - 1;
        if let Some(v) = VsockAddr::parse(value)? {
            return Ok(Self {
                target: NotifyAddr::Vsock(v),
            });
        }
        let (name, is_abstract) = match value {
            [] | [b'@'] => return Err(NotifyError::EmptySocketName),
            [b'@', name @ ..] => (name, true),
            [b'/', ..] => (value, false),
            _ => return Err(NotifyError::RelativeSocketPath),
        };
        if name.len() > MAX {
            return Err(NotifyError::SocketNameTooLong {
                len: name.len(),
                max: MAX,
            });
        }
        if name.contains(&0) {
            return Err(NotifyError::SocketNameHasNul);
        }
        let addr = if is_abstract {
            UnixAddr::from_abstract(name)
        } else {
            UnixAddr::from_path(name)
        }?;
        Ok(Self {
            target: NotifyAddr::Unix(addr),
        })
    }

    /// The socket `NOTIFY_SOCKET` names in `env` (`KEY=VALUE` entries; the first
    /// `NOTIFY_SOCKET=` counts), or `None` if it is not set.
    pub fn from_env<'e, I>(env: I) -> Result<Option<Self>, NotifyError>
    where
        I: IntoIterator<Item = &'e [u8]>,
    {
        var(env, ENV_VAR.as_bytes()).map(Self::parse).transpose()
    }

    /// The socket `NOTIFY_SOCKET` names in the process environment (`std::env`), or
    /// `None` if it is not set.
    #[cfg(feature = "std")]
    pub fn from_std_env() -> Result<Option<Self>, NotifyError> {
        use std::os::unix::ffi::OsStrExt;
        std::env::var_os(ENV_VAR)
            .map(|v| Self::parse(v.as_bytes()))
            .transpose()
    }

    /// A socket at `addr`.
    pub fn from_addr(addr: UnixAddr) -> Self {
        Self {
            target: NotifyAddr::Unix(addr),
        }
    }

    /// A manager at vsock address `addr`.
    pub fn from_vsock(addr: VsockAddr) -> Self {
        Self {
            target: NotifyAddr::Vsock(addr),
        }
    }

    /// Where the manager is.
    pub fn target(&self) -> &NotifyAddr {
        &self.target
    }

    /// The manager's Unix address; `None` for a vsock one.
    pub fn addr(&self) -> Option<&UnixAddr> {
        match &self.target {
            NotifyAddr::Unix(a) => Some(a),
            NotifyAddr::Vsock(_) => None,
        }
    }

    /// The manager's vsock address; `None` for a Unix one.
    pub fn vsock(&self) -> Option<&VsockAddr> {
        match &self.target {
            NotifyAddr::Vsock(v) => Some(v),
            NotifyAddr::Unix(_) => None,
        }
    }

    /// Sends `state`, one or more `KEY=VALUE` lines, as one datagram. It is checked
    /// first (see [`parse`](super::parse)) and may be at most [`MAX_MESSAGE`] bytes.
    pub fn send(&self, state: &[u8]) -> Result<(), NotifyError> {
        self.send_parts(&[state], &[])
    }

    /// Sends `state` with `fds` attached (`SCM_RIGHTS`).
    pub fn send_with_fds(&self, state: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), NotifyError> {
        self.send_parts(&[state], fds)
    }

    /// Sends the concatenation of `parts` (at most [`MAX_PARTS`]) as one message, with
    /// `fds` attached; the parts go out as they are (scatter/gather), nothing is copied.
    pub fn send_parts(&self, parts: &[&[u8]], fds: &[BorrowedFd<'_>]) -> Result<(), NotifyError> {
        self.send_inner(parts, fds, None)
    }

    /// [`send_parts`](Self::send_parts) on behalf of process `pid`, as
    /// `sd_pid_notify(3)`: the message carries explicit credentials with that pid (and
    /// this process's uid and gid). The kernel allows a pid other than this process's
    /// only to a sender with `CAP_SYS_ADMIN`; otherwise the send fails with `EPERM`.
    pub fn send_parts_as(
        &self,
        pid: i32,
        parts: &[&[u8]],
        fds: &[BorrowedFd<'_>],
    ) -> Result<(), NotifyError> {
        let cred = Ucred {
            pid,
            uid: sys::geteuid(),
            gid: sys::getegid(),
        };
        self.send_inner(parts, fds, Some(cred))
    }

    fn send_inner(
        &self,
        parts: &[&[u8]],
        fds: &[BorrowedFd<'_>],
        cred: Option<Ucred>,
    ) -> Result<(), NotifyError> {
        if parts.len() > MAX_PARTS {
            return Err(NotifyError::TooManyParts(parts.len()));
        }
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        if len > MAX_MESSAGE {
            return Err(MessageError::TooLong {
                len,
                max: MAX_MESSAGE,
            }
            .into());
        }
        let mut checker = Checker::new();
        for part in parts {
            checker.feed(part)?;
        }
        checker.finish()?;
        if fds.len() > sys::SCM_MAX_FD {
            return Err(crate::Error::TooManyFds { count: fds.len() }.into());
        }

        let mut iov = [IoSlice::new(&[]); MAX_PARTS];
        for (slot, part) in iov.iter_mut().zip(parts) {
            *slot = IoSlice::new(part);
        }
        let mut control = CmsgBuf::<SPACE_MAX>::new();
        let used = space_for_fds(fds.len()) + cred.map_or(0, |_| space_for_credentials());
        let control = match control.get_mut(..used) {
            Some(c) => c,
            None => return Err(crate::Error::TooManyFds { count: fds.len() }.into()),
        };
        let mut enc = crate::cmsg::Encoder::new(control)?;
        if let Some(cred) = &cred {
            enc.push_credentials(cred)?;
        }
        enc.push_rights(fds)?;
        let cmsgs: Cmsgs<'_, '_> = enc.finish();

        let addr = match &self.target {
            NotifyAddr::Unix(addr) => addr,
            NotifyAddr::Vsock(v) => {
                if !fds.is_empty() || cred.is_some() {
                    return Err(NotifyError::VsockCannotCarry);
                }
                let mut whole = [0u8; MAX_MESSAGE];
                let mut at = 0;
                for part in parts {
                    // The length was checked against MAX_MESSAGE above.
                    whole[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
                return v.send(&whole[..at]);
            }
        };
        let sock = UnixDatagram::unbound()?;
        match sock.send_msg_to(&iov[..parts.len()], &cmsgs, addr) {
            Ok(_) => Ok(()),
            Err(crate::Error::Os(e)) => Err(NotifyError::Send(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// `READY=1`: start-up is finished.
    pub fn ready(&self) -> Result<(), NotifyError> {
        self.send(b"READY=1")
    }

    /// `READY=1` and `STATUS=text` in one message.
    pub fn ready_with_status(&self, text: &[u8]) -> Result<(), NotifyError> {
        check_value(text)?;
        self.send_parts(&[b"READY=1\nSTATUS=", text], &[])
    }

    /// `STATUS=text`: a one-line status for humans. `text` must hold no newline.
    pub fn status(&self, text: &[u8]) -> Result<(), NotifyError> {
        check_value(text)?;
        self.send_parts(&[b"STATUS=", text], &[])
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` set to `CLOCK_MONOTONIC` now, as
    /// `Type=notify-reload` services must send; send `READY=1` when done.
    pub fn reloading(&self) -> Result<(), NotifyError> {
        let mut digits = [0u8; 20];
        let now = decimal(monotonic_usec()?, &mut digits);
        self.send_parts(&[b"RELOADING=1\nMONOTONIC_USEC=", now], &[])
    }

    /// `STOPPING=1`: the service is shutting down.
    pub fn stopping(&self) -> Result<(), NotifyError> {
        self.send(b"STOPPING=1")
    }

    /// `WATCHDOG=1`: keep-alive ping for `WatchdogSec=`.
    pub fn watchdog(&self) -> Result<(), NotifyError> {
        self.send(b"WATCHDOG=1")
    }

    /// `MAINPID=pid`: the service's main process is `pid`.
    pub fn main_pid(&self, pid: i32) -> Result<(), NotifyError> {
        if pid <= 0 {
            return Err(NotifyError::InvalidPid(pid));
        }
        let mut digits = [0u8; 20];
        let pid = decimal(pid as u64, &mut digits);
        self.send_parts(&[b"MAINPID=", pid], &[])
    }

    /// `ERRNO=n`: the service failed with `errno`.
    pub fn errno(&self, errno: Errno) -> Result<(), NotifyError> {
        let mut digits = [0u8; 20];
        let n = decimal(errno.raw() as u64, &mut digits);
        self.send_parts(&[b"ERRNO=", n], &[])
    }

    /// `WATCHDOG=trigger`: asks the manager to act as if the watchdog had timed out
    /// (systemd 243+).
    pub fn watchdog_trigger(&self) -> Result<(), NotifyError> {
        self.send(b"WATCHDOG=trigger")
    }

    /// `WATCHDOG_USEC=usec`: the watchdog timeout from now on, in microseconds
    /// (systemd 233+; a manager resets its timer to it).
    pub fn watchdog_usec(&self, usec: u64) -> Result<(), NotifyError> {
        let n = Decimal::from(usec);
        self.send_parts(&[b"WATCHDOG_USEC=", n.as_bytes()], &[])
    }

    /// `EXTEND_TIMEOUT_USEC=usec`: asks for `usec` more microseconds, from now, before
    /// the start-up, run-time or stop timeout under way fires (systemd 236+). Send it
    /// again before that time runs out to extend once more.
    pub fn extend_timeout_usec(&self, usec: u64) -> Result<(), NotifyError> {
        let n = Decimal::from(usec);
        self.send_parts(&[b"EXTEND_TIMEOUT_USEC=", n.as_bytes()], &[])
    }

    /// `NOTIFYACCESS=`: who may send notifications for this service from now on
    /// (systemd 254+).
    pub fn notify_access(&self, access: NotifyAccessValue) -> Result<(), NotifyError> {
        self.send_parts(&[b"NOTIFYACCESS=", access.as_bytes()], &[])
    }

    /// `EXIT_STATUS=status`: the exit status the manager is to report for the service
    /// (systemd 254+; used by `systemd-vmspawn` and `systemd-nspawn` for the payload's).
    pub fn exit_status(&self, status: u8) -> Result<(), NotifyError> {
        let n = Decimal::from(status);
        self.send_parts(&[b"EXIT_STATUS=", n.as_bytes()], &[])
    }

    /// `VARLINKERROR=name`: the service failed with this Varlink error name (systemd
    /// 257+). It must hold no newline and not be empty.
    pub fn varlink_error(&self, name: &[u8]) -> Result<(), NotifyError> {
        self.error_name("VARLINKERROR", "a Varlink error name", name)
    }

    /// `BUSERROR=name`: the service failed with this D-Bus error name. It must hold no
    /// newline and not be empty.
    pub fn bus_error(&self, name: &[u8]) -> Result<(), NotifyError> {
        self.error_name("BUSERROR", "a D-Bus error name", name)
    }

    fn error_name(
        &self,
        key: &'static str,
        expected: &'static str,
        name: &[u8],
    ) -> Result<(), NotifyError> {
        check_value(name)?;
        if name.is_empty() {
            return Err(NotifyError::InvalidField(super::FieldError {
                key,
                expected,
            }));
        }
        self.send_parts(&[key.as_bytes(), b"=", name], &[])
    }

    /// `MAINPIDFD=1` with `pidfd`: the service's main process is the one `pidfd` refers
    /// to (systemd 257+), which a reused pid cannot be mistaken for. The message carries
    /// that one fd.
    pub fn main_pidfd(&self, pidfd: BorrowedFd<'_>) -> Result<(), NotifyError> {
        self.send_parts(&[b"MAINPIDFD=1"], &[pidfd])
    }

    /// `MAINPID=pid` and `MAINPIDFDID=id`: the main process is `pid`, and the manager
    /// may check that the process with that number is the one whose pidfs id is `id`
    /// (see [`pidfd_id`](crate::process::pidfd_id)).
    pub fn main_pid_with_id(&self, pid: i32, id: u64) -> Result<(), NotifyError> {
        if pid <= 0 {
            return Err(NotifyError::InvalidPid(pid));
        }
        let (pid, id) = (Decimal::from(pid), Decimal::from(id));
        self.send_parts(
            &[
                b"MAINPID=",
                pid.as_bytes(),
                b"\nMAINPIDFDID=",
                id.as_bytes(),
            ],
            &[],
        )
    }

    /// `RESTART_RESET=1`: resets the manager's restart counter for the service (what
    /// `RestartSteps=` grows with; systemd 258+).
    pub fn restart_reset(&self) -> Result<(), NotifyError> {
        self.send(b"RESTART_RESET=1")
    }

    /// `FDSTOREREMOVE=1` with `FDNAME=name`: asks the manager to close the fds it keeps
    /// under `name` (systemd 236+). The name must pass [`is_valid_fd_name`].
    pub fn remove_stored_fds(&self, name: &[u8]) -> Result<(), NotifyError> {
        if !is_valid_fd_name(name) {
            return Err(NotifyError::InvalidFdName);
        }
        self.send_parts(&[b"FDSTOREREMOVE=1\nFDNAME=", name], &[])
    }

    /// [`store_fds`](Self::store_fds) with `FDPOLL=0` (systemd 246+): the manager does
    /// not poll the fds and drop them when they hang up or fail, for fds that are
    /// expected to (a connection the service will resume, a pipe whose other end is
    /// closed).
    pub fn store_fds_unpolled(
        &self,
        name: Option<&[u8]>,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(), NotifyError> {
        self.store(b"FDSTORE=1\nFDPOLL=0", name, fds)
    }

    /// `FDSTORE=1` (with `FDNAME=name` if given): hands `fds` to the manager to keep
    /// across restarts. The name must pass [`is_valid_fd_name`].
    pub fn store_fds(
        &self,
        name: Option<&[u8]>,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(), NotifyError> {
        self.store(b"FDSTORE=1", name, fds)
    }

    fn store(
        &self,
        head: &[u8],
        name: Option<&[u8]>,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(), NotifyError> {
        if fds.is_empty() {
            return Err(NotifyError::NoFds);
        }
        match name {
            None => self.send_parts(&[head], fds),
            Some(name) if is_valid_fd_name(name) => {
                self.send_parts(&[head, b"\nFDNAME=", name], fds)
            }
            Some(_) => Err(NotifyError::InvalidFdName),
        }
    }

    /// `BARRIER=1`: waits until the manager has processed every message sent before
    /// this one (`sd_notify_barrier(3)`). Sends the write end of a new pipe with the
    /// message and waits, at most `timeout`, for the manager to close it: end-of-file on
    /// the read end. Fails with [`NotifyError::BarrierTimeout`] when the time runs out.
    /// Both ends are closed in every case.
    pub fn barrier(&self, timeout: Duration) -> Result<(), NotifyError> {
        let (read, write) = fd::pipe()?;
        self.send_with_fds(b"BARRIER=1", &[write.as_fd()])?;
        drop(write);
        wait_for_hangup(read.as_fd(), timeout)
    }
}

/// Refuses a value with a newline (which would start another assignment).
fn check_value(value: &[u8]) -> Result<(), MessageError> {
    match value.iter().position(|&b| b == b'\n') {
        Some(offset) => Err(MessageError::NewlineInValue { offset }),
        None => Ok(()),
    }
}

/// Polls `fd` until every write end of its pipe is closed, or `timeout` passes.
fn wait_for_hangup(fd: BorrowedFd<'_>, timeout: Duration) -> Result<(), NotifyError> {
    let timeout_usec = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
    let deadline = monotonic_usec()?.saturating_add(timeout_usec);
    loop {
        let left = deadline.saturating_sub(monotonic_usec()?);
        let wait = sys::Timespec::from_duration(Duration::from_micros(left));
        let mut pfd = [sys::Pollfd {
            fd: fd.as_raw_fd(),
            events: sys::POLLIN,
            revents: 0,
        }];
        // SAFETY: `fd` is borrowed, so open, for the call.
        match unsafe { sys::ppoll(&mut pfd, Some(&wait)) } {
            Ok(0) | Err(Errno::EINTR) => {
                if left == 0 {
                    return Err(NotifyError::BarrierTimeout);
                }
            }
            Ok(_) if pfd[0].revents & (sys::POLLHUP | sys::POLLERR | sys::POLLNVAL) != 0 => {
                return Ok(())
            }
            Ok(_) => {
                // Readable without a hangup: somebody wrote. Drain it; 0 is end-of-file.
                let mut sink = [0u8; 64];
                if fd::read(fd, &mut sink)? == 0 {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}
