//! Socket activation as systemd does it (`sd_listen_fds(3)`), both sides, without
//! allocation and without libc.
//!
//! A manager opens the sockets, starts the service with them at fds 3, 4, ... and sets
//! `LISTEN_PID` (the service's pid, so that its children do not take the fds for
//! theirs), `LISTEN_FDS` (how many), optionally `LISTEN_FDNAMES` (`:`-separated
//! names), and from systemd 259 on `LISTEN_PIDFDID` (the service's pidfs id, which a
//! reused pid cannot match).
//!
//! - Service side: [`ListenEnv`] checks the variables (given as `KEY=VALUE` byte
//!   strings, such as the [`Envp`](crate::notify::Envp) of a freestanding `_start`);
//!   [`ListenEnv::take_fds`] takes the fds, sets close-on-exec on them and hands each
//!   over with its name as an [`Activated`]: a [`UnixListener`](crate::unix::UnixListener),
//!   a [`UnixDatagram`](crate::unix::UnixDatagram), ... or an `OwnedFd` for other
//!   sockets and other fds, found from the socket itself (`SO_DOMAIN`, `SO_TYPE`,
//!   `SO_ACCEPTCONN`). [`is_socket`], [`is_socket_inet`] and [`is_socket_unix`] check
//!   an fd as `sd_is_socket(3)` and its kin do (family, type, listening, port, path);
//!   with the `std` feature an [`Activated`] converts to std's `TcpListener`,
//!   `TcpStream`, `UdpSocket` and `UnixListener`, `UnixStream`, `UnixDatagram`. [`is_listen_var`] tells which environment entries to drop before
//!   starting children; with the `std` feature, `take_std_env` and `remove_std_env`
//!   do it through `std::env`.
//! - Manager side: [`Spawn`] starts a program with sockets and the variables, building
//!   everything the child needs in a caller-supplied [`ExecBuf`] before `fork`, so the
//!   child never allocates.
//!
//! ```no_run
//! use baremsg::activation::{Activated, ListenEnv};
//! # fn main() -> Result<(), baremsg::activation::ActivationError> {
//! # let env: [&[u8]; 0] = [];
//! if let Some(listen) = ListenEnv::from_env(env)? {
//!     // SAFETY: first thing in main: fds 3.. are the ones the manager passed.
//!     for fd in unsafe { listen.take_fds() }? {
//!         if let Activated::UnixListener(l) = fd.socket {
//!             let (conn, _) = l.accept()?;
//!             conn.send(b"hello\n")?;
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod listen;
mod sockets;
mod spawn;

use core::fmt;

pub use listen::{
    socket_info, Activated, ListenEnv, ListenFd, ListenFds, Names, SocketInfo, LISTEN_FDS_START,
    UNKNOWN_NAME,
};
pub use sockets::{is_socket, is_socket_inet, is_socket_unix, local_port};
pub use spawn::{ExecBuf, ListenVars, Needs, Spawn, SpawnStep, Spawned, Stdio};

use crate::notify::value_of;
use crate::Errno;

/// `LISTEN_PID`: the pid the fds are meant for.
pub const LISTEN_PID: &str = "LISTEN_PID";
/// `LISTEN_FDS`: how many fds were passed, from fd 3 on.
pub const LISTEN_FDS: &str = "LISTEN_FDS";
/// `LISTEN_FDNAMES`: their names, separated by `:`.
pub const LISTEN_FDNAMES: &str = "LISTEN_FDNAMES";
/// `LISTEN_PIDFDID` (systemd 259): the pidfs id of the process the fds are meant for
/// (see [`pidfd_id`](crate::process::pidfd_id)), which unlike `LISTEN_PID` a reused pid
/// cannot match.
pub const LISTEN_PIDFDID: &str = "LISTEN_PIDFDID";
/// The four variables, the ones to drop from a child's environment.
pub const ENV_VARS: [&str; 4] = [LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS, LISTEN_FDNAMES];

/// Whether the environment entry `entry` (`KEY=VALUE`) sets one of [`ENV_VARS`]: the
/// entries to leave out when building a child's environment.
pub fn is_listen_var(entry: &[u8]) -> bool {
    ENV_VARS
        .iter()
        .any(|key| value_of(entry, key.as_bytes()).is_some())
}

/// What went wrong with socket activation, on either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActivationError {
    /// `LISTEN_PID` is not a positive decimal number.
    InvalidListenPid,
    /// `LISTEN_PIDFDID` is not a decimal 64-bit number.
    InvalidListenPidfdId,
    /// `LISTEN_PID` is set but `LISTEN_FDS` is not.
    MissingListenFds,
    /// `LISTEN_FDS` is not a decimal number.
    InvalidListenFds,
    /// More fds than the fd limit lets exist from fd 3 on.
    TooManyFds {
        /// How many were claimed.
        count: usize,
        /// How many can be.
        limit: usize,
    },
    /// The number of names is not the number of fds.
    NameCountMismatch {
        /// Fds.
        fds: usize,
        /// Names.
        names: usize,
    },
    /// An fd the variables promise is not open.
    FdNotOpen {
        /// Its number.
        fd: i32,
    },
    /// The fds were taken before in this process.
    AlreadyTaken,
    /// Name `index` fails [`is_valid_fd_name`](crate::notify::is_valid_fd_name) (longer
    /// than 255 bytes, a byte that is not printable ASCII, a `:`), or is the empty name
    /// of the only fd (`LISTEN_FDNAMES=`, which libsystemd reads as no names at all).
    InvalidFdName {
        /// Which.
        index: usize,
    },
    /// The [`ExecBuf`] is too small for this spawn.
    ExecBufTooSmall {
        /// What the spawn takes.
        needs: Needs,
        /// What the buffer has.
        have: Needs,
    },
    /// The child failed before the program ran, and was reaped.
    Spawn {
        /// What failed.
        step: SpawnStep,
        /// Why.
        errno: Errno,
    },
    /// A syscall failed.
    Sys(crate::Error),
}

impl ActivationError {
    /// The errno a C program would see (`sd_listen_fds` returns `-EINVAL` for bad
    /// variables).
    pub const fn errno(&self) -> Errno {
        match *self {
            ActivationError::Spawn { errno, .. } => errno,
            ActivationError::Sys(e) => e.errno(),
            ActivationError::FdNotOpen { .. } => Errno::EBADF,
            ActivationError::AlreadyTaken => Errno::EBUSY,
            ActivationError::ExecBufTooSmall { .. } => Errno::ENOBUFS,
            ActivationError::TooManyFds { .. } => Errno::EMFILE,
            _ => Errno::EINVAL,
        }
    }
}

impl From<crate::Error> for ActivationError {
    fn from(e: crate::Error) -> Self {
        ActivationError::Sys(e)
    }
}

impl From<Errno> for ActivationError {
    fn from(e: Errno) -> Self {
        ActivationError::Sys(e.into())
    }
}

impl fmt::Display for ActivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ActivationError::InvalidListenPid => {
                f.write_str("LISTEN_PID is not a positive decimal number")
            }
            ActivationError::InvalidListenPidfdId => {
                f.write_str("LISTEN_PIDFDID is not a decimal 64-bit number")
            }
            ActivationError::MissingListenFds => {
                f.write_str("LISTEN_PID is set but LISTEN_FDS is not")
            }
            ActivationError::InvalidListenFds => f.write_str("LISTEN_FDS is not a decimal number"),
            ActivationError::TooManyFds { count, limit } => write!(
                f,
                "{count} fds passed, but the fd limit leaves room for {limit} from fd 3 on"
            ),
            ActivationError::NameCountMismatch { fds, names } => {
                write!(f, "{names} fd names for {fds} fds")
            }
            ActivationError::FdNotOpen { fd } => {
                write!(f, "fd {fd} was promised by LISTEN_FDS but is not open")
            }
            ActivationError::AlreadyTaken => {
                f.write_str("the passed fds were already taken in this process")
            }
            ActivationError::InvalidFdName { index } => write!(
                f,
                "fd name {index} is invalid: at most 255 bytes of printable ASCII without ':' \
                 are allowed, and a lone fd's name is not empty"
            ),
            ActivationError::ExecBufTooSmall { needs, have } => write!(
                f,
                "exec buffer too small: needs {} pointers and {} bytes, has {} and {}",
                needs.ptrs, needs.bytes, have.ptrs, have.bytes
            ),
            ActivationError::Spawn { step, errno } => {
                write!(f, "the child failed at {}: {errno}", step.describe())
            }
            ActivationError::Sys(e) => fmt::Display::fmt(&e, f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ActivationError {}

#[cfg(feature = "std")]
impl From<ActivationError> for std::io::Error {
    fn from(e: ActivationError) -> Self {
        match e {
            ActivationError::Sys(e) => e.into(),
            ActivationError::Spawn { errno, .. } => errno.into(),
            other => std::io::Error::other(other),
        }
    }
}

/// [`ListenEnv::from_env`] and [`ListenEnv::take_fds`] with the process environment,
/// read through `std::env`: the passed fds with their names, or an empty list when
/// nothing was passed (`LISTEN_PID` unset) or the variables are meant for another
/// process (`LISTEN_PID`, `LISTEN_PIDFDID`).
///
/// # Safety
/// As [`ListenEnv::take_fds`].
#[cfg(feature = "std")]
pub unsafe fn take_std_env(
) -> Result<std::vec::Vec<(std::vec::Vec<u8>, Activated)>, ActivationError> {
    use std::os::unix::ffi::OsStringExt;
    let [pid, pidfdid, fds, names] = ENV_VARS.map(|k| std::env::var_os(k).map(|v| v.into_vec()));
    let Some(listen) = ListenEnv::from_all_values(
        pid.as_deref(),
        pidfdid.as_deref(),
        fds.as_deref(),
        names.as_deref(),
    )?
    else {
        return Ok(std::vec::Vec::new());
    };
    // SAFETY: the caller's contract.
    let taken = unsafe { listen.take_fds() }?;
    Ok(taken.map(|fd| (fd.name.to_vec(), fd.socket)).collect())
}

/// Removes [`ENV_VARS`] from the process environment (`std::env::remove_var`), so
/// children do not see them.
///
/// # Safety
/// No other thread reads or writes the environment meanwhile (the reason
/// `std::env::remove_var` is `unsafe` from Rust 2024 on).
#[cfg(feature = "std")]
pub unsafe fn remove_std_env() {
    for key in ENV_VARS {
        std::env::remove_var(key);
    }
}
