//! What can go wrong on either side of the notification protocol.

use core::fmt;

use super::{FieldError, MessageError};
use crate::Errno;

/// An error of the notification protocol, on the service or the manager side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyError {
    /// `NOTIFY_SOCKET` is set but empty, or is `@` with no name after it.
    EmptySocketName,
    /// `NOTIFY_SOCKET` is neither an absolute path (`/...`), nor an abstract name
    /// (`@...`), nor a vsock address (`vsock:...`): a relative path, or an address family
    /// systemd does not speak either.
    RelativeSocketPath,
    /// `NOTIFY_SOCKET` names a socket too long for `sun_path`.
    SocketNameTooLong {
        /// The path's or name's length.
        len: usize,
        /// The most that fits (107 bytes: a path needs its NUL, an abstract name its
        /// leading NUL).
        max: usize,
    },
    /// `NOTIFY_SOCKET` holds a NUL byte.
    SocketNameHasNul,
    /// A message breaks the protocol (checked before sending, and on receipt).
    InvalidMessage(MessageError),
    /// A file descriptor name (`FDNAME=`) is longer than 255 bytes, or holds a byte
    /// that is not printable ASCII, or a `:`: see
    /// [`is_valid_fd_name`](crate::notify::is_valid_fd_name).
    InvalidFdName,
    /// A pid given to `MAINPID=` is not positive.
    InvalidPid(i32),
    /// `FDSTORE=1` with no fds to store.
    NoFds,
    /// More message pieces than one send takes ([`MAX_PARTS`](super::MAX_PARTS)).
    TooManyParts(usize),
    /// Sending to the manager's socket failed: `ENOENT` (no such socket), `EACCES`
    /// (no permission), `ECONNREFUSED` (nobody is bound to it), ...
    Send(Errno),
    /// The manager did not close the barrier fd before the timeout.
    BarrierTimeout,
    /// A message came from another process than the one expected. Its fds were closed.
    WrongSender {
        /// The pid expected.
        expected: i32,
        /// The sender's pid from its credentials (`None`: none arrived). The expected pid
        /// itself when the pidfd that came with the message shows another process that
        /// had, or has, that pid (see
        /// [`Notification::check_sender`](super::Notification::check_sender)).
        actual: Option<i32>,
    },
    /// A message from a process the access policy does not let notify
    /// ([`NotifyAccess`](super::NotifyAccess)). Its fds were closed.
    NotAllowed {
        /// The sender's pid from its credentials (`None`: none arrived).
        actual: Option<i32>,
    },
    /// The socket has no address to hand to a child in `NOTIFY_SOCKET` (it is unnamed,
    /// or its abstract name holds a NUL byte).
    NoSocketAddress,
    /// A vsock `NOTIFY_SOCKET` (`vsock:CID:PORT`, ...) that is malformed.
    InvalidVsockAddress {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Fds or explicit credentials asked to go to a vsock manager: `AF_VSOCK` carries
    /// neither.
    VsockCannotCarry,
    /// A field whose value its key does not take (received, or given to a helper).
    InvalidField(FieldError),
    /// `WATCHDOG_USEC` is not a decimal number of microseconds, or is 0 or 2^64-1
    /// (`sd_watchdog_enabled` refuses those: `EINVAL`).
    InvalidWatchdogUsec,
    /// `WATCHDOG_PID` is not a positive decimal pid.
    InvalidWatchdogPid,
    /// `MAINPIDFD=1` came with another number of fds than exactly one.
    MainPidFdCount(usize),
    /// The fd that came with `MAINPIDFD=1` is not a pidfd.
    NotAPidfd,
    /// The main process a notification names has exited already (`ESRCH`).
    MainPidGone,
    /// `MAINPIDFDID=` names another process than the one `MAINPID=` or the pidfd
    /// refers to now.
    MainPidFdIdMismatch {
        /// The id the message gives.
        expected: u64,
        /// The id of the process found.
        actual: u64,
    },
    /// Any other failure of the socket layer.
    Sys(crate::Error),
}

impl NotifyError {
    /// The errno a C program would see.
    pub const fn errno(&self) -> Errno {
        match *self {
            NotifyError::Send(e) => e,
            NotifyError::Sys(e) => e.errno(),
            NotifyError::BarrierTimeout => Errno::ETIMEDOUT,
            NotifyError::WrongSender { .. } | NotifyError::NotAllowed { .. } => Errno::EPERM,
            NotifyError::InvalidMessage(MessageError::TooLong { .. }) => Errno::EMSGSIZE,
            NotifyError::NoSocketAddress => Errno::EADDRNOTAVAIL,
            NotifyError::VsockCannotCarry => Errno::EOPNOTSUPP,
            NotifyError::MainPidGone => Errno::ESRCH,
            NotifyError::NotAPidfd => Errno::EBADF,
            NotifyError::MainPidFdIdMismatch { .. } => Errno::ESRCH,
            _ => Errno::EINVAL,
        }
    }
}

impl From<crate::Error> for NotifyError {
    fn from(e: crate::Error) -> Self {
        NotifyError::Sys(e)
    }
}

impl From<Errno> for NotifyError {
    fn from(e: Errno) -> Self {
        NotifyError::Sys(crate::Error::Os(e))
    }
}

impl From<MessageError> for NotifyError {
    fn from(e: MessageError) -> Self {
        NotifyError::InvalidMessage(e)
    }
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NotifyError::EmptySocketName => f.write_str("NOTIFY_SOCKET is empty"),
            NotifyError::RelativeSocketPath => f.write_str(
                "NOTIFY_SOCKET is neither an absolute path nor an abstract name starting with @",
            ),
            NotifyError::SocketNameTooLong { len, max } => write!(
                f,
                "NOTIFY_SOCKET names a socket of {len} bytes; at most {max} fit in sun_path"
            ),
            NotifyError::SocketNameHasNul => f.write_str("NOTIFY_SOCKET holds a NUL byte"),
            NotifyError::InvalidMessage(e) => fmt::Display::fmt(&e, f),
            NotifyError::InvalidFdName => f.write_str(
                "invalid fd name: at most 255 bytes of printable ASCII without ':' are allowed",
            ),
            NotifyError::InvalidPid(pid) => write!(f, "invalid main pid {pid}"),
            NotifyError::NoFds => f.write_str("FDSTORE=1 with no fds to store"),
            NotifyError::TooManyParts(n) => write!(
                f,
                "{n} message pieces; at most {} in one send",
                super::MAX_PARTS
            ),
            NotifyError::Send(e) => write!(f, "sending to NOTIFY_SOCKET failed: {e}"),
            NotifyError::BarrierTimeout => {
                f.write_str("the manager did not answer BARRIER=1 before the timeout")
            }
            NotifyError::WrongSender { expected, actual } => match actual {
                Some(pid) if pid == expected => write!(
                    f,
                    "notification from pid {pid}, but from another process than the one \
                     expected (its pidfd shows one that has exited, or another); its fds \
                     were closed"
                ),
                Some(pid) => write!(
                    f,
                    "notification from pid {pid}, expected pid {expected}; its fds were closed"
                ),
                None => write!(
                    f,
                    "notification without credentials, expected pid {expected}; its fds were closed"
                ),
            },
            NotifyError::NotAllowed { actual } => match actual {
                Some(pid) => write!(
                    f,
                    "notification from pid {pid}, which the access policy does not allow; its \
                     fds were closed"
                ),
                None => f.write_str(
                    "notification without credentials, which the access policy does not allow; \
                     its fds were closed",
                ),
            },
            NotifyError::NoSocketAddress => {
                f.write_str("the notification socket has no address to give to a child")
            }
            NotifyError::InvalidVsockAddress { reason } => {
                write!(f, "NOTIFY_SOCKET is not a valid vsock address: {reason}")
            }
            NotifyError::VsockCannotCarry => f.write_str(
                "fds and credentials cannot be sent to a vsock NOTIFY_SOCKET (AF_VSOCK carries neither)",
            ),
            NotifyError::InvalidField(e) => fmt::Display::fmt(&e, f),
            NotifyError::InvalidWatchdogUsec => f.write_str(
                "WATCHDOG_USEC is not a decimal number of microseconds other than 0 and 2^64-1",
            ),
            NotifyError::InvalidWatchdogPid => {
                f.write_str("WATCHDOG_PID is not a positive decimal pid")
            }
            NotifyError::MainPidFdCount(n) => {
                write!(f, "MAINPIDFD=1 takes exactly one fd, the pidfd; {n} came")
            }
            NotifyError::NotAPidfd => f.write_str("the fd sent with MAINPIDFD=1 is not a pidfd"),
            NotifyError::MainPidGone => {
                f.write_str("the main process the notification names has exited")
            }
            NotifyError::MainPidFdIdMismatch { expected, actual } => write!(
                f,
                "MAINPIDFDID={expected} but the process found has pidfd id {actual}"
            ),
            NotifyError::Sys(e) => fmt::Display::fmt(&e, f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for NotifyError {}

#[cfg(feature = "std")]
impl From<NotifyError> for std::io::Error {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Send(errno) => errno.into(),
            NotifyError::Sys(e) => e.into(),
            other => std::io::Error::other(other),
        }
    }
}
