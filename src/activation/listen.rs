//! The service side: the fds a manager passed, from fd 3 on.

use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{ActivationError, ENV_VARS};
use crate::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use crate::notify::{parse_decimal, value_of};
use crate::sys::{self, Rlimit};
use crate::unix::{
    Listener, Socket, UnixDatagram, UnixListener, UnixSeqpacket, UnixSeqpacketListener, UnixStream,
};
use crate::Errno;

/// The first fd a manager passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The name of an fd that came without one (`LISTEN_FDNAMES` unset), as systemd says.
pub const UNKNOWN_NAME: &[u8] = b"unknown";

/// Set once the fds have been taken, so they are never owned twice.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// What the activation variables say: how many fds were passed and their names, checked
/// (`LISTEN_PID`, and `LISTEN_PIDFDID` where set, name this process, `LISTEN_FDS` a
/// count that fits under the fd limit,
/// `LISTEN_FDNAMES`, if set, has one name per fd). Nothing is owned yet: see
/// [`take_fds`](Self::take_fds).
///
/// ```
/// use baremsg::activation::{ActivationError, ListenEnv};
///
/// # fn main() -> Result<(), ActivationError> {
/// let pid = baremsg::sys::getpid().to_string();
/// let env = [format!("LISTEN_PID={pid}"), "LISTEN_FDS=2".into(), "LISTEN_FDNAMES=web:admin".into()];
/// let listen = ListenEnv::from_env(env.iter().map(|e| e.as_bytes()))?.expect("activated");
/// assert_eq!(listen.count(), 2);
/// assert!(listen.names().eq([&b"web"[..], b"admin"]));
/// // Meant for another process (a parent's variables leaked into a child): not for us.
/// assert_eq!(ListenEnv::from_values(Some(b"1"), Some(b"2"), None)?, None);
/// assert_eq!(
///     ListenEnv::from_all_values(Some(pid.as_bytes()), Some(b"x"), Some(b"2"), None),
///     Err(ActivationError::InvalidListenPidfdId)
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenEnv<'e> {
    count: usize,
    names: Option<&'e [u8]>,
}

impl<'e> ListenEnv<'e> {
    /// Reads `LISTEN_PID`, `LISTEN_PIDFDID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from `env` (`KEY=VALUE`
    /// entries, such as an [`Envp`](crate::notify::Envp); the first entry of each name
    /// counts). `Ok(None)`: `LISTEN_PID` is not set, so nothing was passed, or the
    /// variables name another process (see [`from_all_values`](Self::from_all_values)).
    pub fn from_env<I>(env: I) -> Result<Option<Self>, ActivationError>
    where
        I: IntoIterator<Item = &'e [u8]>,
    {
        let mut vals: [Option<&'e [u8]>; 4] = [None; 4];
        for entry in env {
            for (val, key) in vals.iter_mut().zip(ENV_VARS) {
                if val.is_none() {
                    *val = value_of(entry, key.as_bytes());
                }
            }
        }
        Self::from_all_values(vals[0], vals[1], vals[2], vals[3])
    }

    /// [`from_all_values`](Self::from_all_values) without `LISTEN_PIDFDID`.
    pub fn from_values(
        listen_pid: Option<&'e [u8]>,
        listen_fds: Option<&'e [u8]>,
        listen_fdnames: Option<&'e [u8]>,
    ) -> Result<Option<Self>, ActivationError> {
        Self::from_all_values(listen_pid, None, listen_fds, listen_fdnames)
    }

    /// Checks the four variables' values (`None`: not set).
    ///
    /// - `LISTEN_PID` unset: `Ok(None)`. Not a positive decimal number:
    ///   [`ActivationError::InvalidListenPid`]; another process's pid: `Ok(None)`, as
    ///   `sd_listen_fds` returns 0: the variables were meant for a parent and leaked into
    ///   this process, which was not activated.
    /// - `LISTEN_PIDFDID` set: not a decimal 64-bit number:
    ///   [`ActivationError::InvalidListenPidfdId`]; where this process has a pidfs id
    ///   ([`own_pidfd_id`](crate::process::own_pidfd_id), Linux 6.9+), another id:
    ///   `Ok(None)` (a process that had our pid before was meant). Without pidfs, or
    ///   without `pidfd_open`, the pid alone decides, as in systemd.
    /// - `LISTEN_FDS` unset: [`ActivationError::MissingListenFds`]; not a decimal number:
    ///   [`ActivationError::InvalidListenFds`]; more fds than the fd limit
    ///   (`RLIMIT_NOFILE`) lets exist from fd 3 on: [`ActivationError::TooManyFds`].
    /// - `LISTEN_FDNAMES` set with a count of `:`-separated names other than
    ///   `LISTEN_FDS`: [`ActivationError::NameCountMismatch`].
    pub fn from_all_values(
        listen_pid: Option<&'e [u8]>,
        listen_pidfdid: Option<&'e [u8]>,
        listen_fds: Option<&'e [u8]>,
        listen_fdnames: Option<&'e [u8]>,
    ) -> Result<Option<Self>, ActivationError> {
        let Some(pid) = listen_pid else {
            return Ok(None);
        };
        let pid = match parse_decimal(pid, i32::MAX as u64) {
            Some(pid) if pid > 0 => pid as i32,
            _ => return Err(ActivationError::InvalidListenPid),
        };
        if pid != sys::getpid() {
            return Ok(None);
        }
        if let Some(id) = listen_pidfdid {
            let id = parse_decimal(id, u64::MAX).ok_or(ActivationError::InvalidListenPidfdId)?;
            match crate::process::own_pidfd_id() {
                Ok(Some(ours)) if ours != id => return Ok(None),
                // Ours, or no id to compare (no pidfs, pidfd_open refused or failing):
                // the pid decides, as in systemd.
                _ => {}
            }
        }
        let fds = listen_fds.ok_or(ActivationError::MissingListenFds)?;
        let count = parse_decimal(fds, u64::MAX).ok_or(ActivationError::InvalidListenFds)?;
        let limit = fd_limit().saturating_sub(LISTEN_FDS_START as u64);
        if count > limit {
            return Err(ActivationError::TooManyFds {
                count: usize::try_from(count).unwrap_or(usize::MAX),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            });
        }
        let count = count as usize;
        if let Some(names) = listen_fdnames {
            let given = if names.is_empty() && count == 0 {
                0
            } else {
                names.split(|&b| b == b':').count()
            };
            if given != count {
                return Err(ActivationError::NameCountMismatch {
                    fds: count,
                    names: given,
                });
            }
        }
        Ok(Some(Self {
            count,
            names: listen_fdnames,
        }))
    }

    /// How many fds were passed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Their names, in fd order; [`UNKNOWN_NAME`] for each when `LISTEN_FDNAMES` was not
    /// set.
    pub fn names(&self) -> Names<'e> {
        Names {
            split: self.names.map(|n| n.split(is_colon as fn(&u8) -> bool)),
            left: self.count,
        }
    }

    /// Takes ownership of fds 3 to 3 + count - 1, sets close-on-exec on each (so that
    /// children do not inherit them), and hands them over with their names and kinds.
    ///
    /// Fails, taking nothing, if one of them is not open
    /// ([`ActivationError::FdNotOpen`]) or if they were taken before in this process
    /// ([`ActivationError::AlreadyTaken`]).
    ///
    /// # Safety
    /// Fds 3 to 3 + count - 1 are the ones the manager passed, and nothing else in the
    /// program owns them: call this early, before anything else may have closed one of
    /// them and opened something else in its place.
    pub unsafe fn take_fds(self) -> Result<ListenFds<'e>, ActivationError> {
        let end = LISTEN_FDS_START as i64 + self.count as i64;
        let end = RawFd::try_from(end).map_err(|_| ActivationError::TooManyFds {
            count: self.count,
            limit: (RawFd::MAX - LISTEN_FDS_START) as usize,
        })?;
        if TAKEN.load(Ordering::Acquire) {
            return Err(ActivationError::AlreadyTaken);
        }
        for fd in LISTEN_FDS_START..end {
            // SAFETY: F_GETFD only reads flags; EBADF tells that the fd is not open.
            if let Err(e) = unsafe { sys::fcntl(fd, sys::F_GETFD, 0) } {
                return Err(match e {
                    Errno::EBADF => ActivationError::FdNotOpen { fd },
                    e => ActivationError::Sys(e.into()),
                });
            }
        }
        if TAKEN.swap(true, Ordering::AcqRel) {
            return Err(ActivationError::AlreadyTaken);
        }
        let fds = ListenFds {
            next: LISTEN_FDS_START,
            end,
            names: self.names(),
        };
        // From here on the fds are owned by `fds`: should F_SETFD fail (it does not on an
        // open fd), they are closed with it rather than left behind.
        for fd in LISTEN_FDS_START..end {
            // SAFETY: the fd is open (checked above) and ours (the caller's contract);
            // F_SETFD changes only its own flags.
            unsafe { sys::fcntl(fd, sys::F_SETFD, sys::FD_CLOEXEC as usize) }
                .map_err(|e| ActivationError::Sys(e.into()))?;
        }
        Ok(fds)
    }
}

fn is_colon(b: &u8) -> bool {
    *b == b':'
}

/// The soft fd limit (`RLIMIT_NOFILE`), or as many as an fd number can count if it
/// cannot be read.
fn fd_limit() -> u64 {
    let mut lim = Rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a null new limit only reads; `lim` is writable.
    match unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, ptr::null(), &mut lim) } {
        Ok(()) => lim.rlim_cur.min(RawFd::MAX as u64),
        Err(_) => RawFd::MAX as u64,
    }
}

type NameSplit<'e> = core::slice::Split<'e, u8, fn(&u8) -> bool>;

/// The names of the passed fds, in order.
#[derive(Clone, Debug)]
pub struct Names<'e> {
    split: Option<NameSplit<'e>>,
    left: usize,
}

impl<'e> Iterator for Names<'e> {
    type Item = &'e [u8];

    fn next(&mut self) -> Option<&'e [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(match &mut self.split {
            Some(split) => split.next().unwrap_or(UNKNOWN_NAME),
            None => UNKNOWN_NAME,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Names<'_> {}

/// The passed fds, taken: each one with its name and kind, in fd order. Fds not taken
/// from the iterator are closed when it is dropped.
#[derive(Debug)]
pub struct ListenFds<'e> {
    next: RawFd,
    end: RawFd,
    names: Names<'e>,
}

/// One passed fd.
#[derive(Debug)]
pub struct ListenFd<'e> {
    /// Its name (`LISTEN_FDNAMES`), or [`UNKNOWN_NAME`].
    pub name: &'e [u8],
    /// The fd, typed by what it is.
    pub socket: Activated,
}

impl<'e> Iterator for ListenFds<'e> {
    type Item = ListenFd<'e>;

    fn next(&mut self) -> Option<ListenFd<'e>> {
        if self.next >= self.end {
            return None;
        }
        // SAFETY: `take_fds` checked that the fd is open and the caller vouched that it
        // is ours; `next` moves past it, so it is handed over once.
        let fd = unsafe { OwnedFd::from_raw_fd(self.next) };
        self.next += 1;
        Some(ListenFd {
            name: self.names.next().unwrap_or(UNKNOWN_NAME),
            socket: Activated::classify(fd),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ListenFds<'_> {}

impl Drop for ListenFds<'_> {
    fn drop(&mut self) {
        for fd in self.next..self.end {
            // SAFETY: the fds not handed over are still ours.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
}

/// A socket's domain, type, protocol and whether it listens (`SO_DOMAIN`, `SO_TYPE`,
/// `SO_PROTOCOL`, `SO_ACCEPTCONN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    /// `AF_UNIX`, `AF_INET`, `AF_INET6`, `AF_NETLINK`, ...
    pub domain: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_SEQPACKET`, ...
    pub ty: i32,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, `IPPROTO_SCTP`, ... (0 for Unix sockets).
    pub protocol: i32,
    /// Whether it is listening for connections.
    pub listening: bool,
}

/// What socket `fd` is; `Ok(None)` if it is not a socket (a pipe, a file, ...).
pub fn socket_info(fd: BorrowedFd<'_>) -> Result<Option<SocketInfo>, Errno> {
    let get = |name| crate::unix::sockopt::get(fd, name, 0i32);
    let domain = match get(sys::SO_DOMAIN) {
        Ok(d) => d,
        Err(Errno::ENOTSOCK) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(SocketInfo {
        domain,
        ty: get(sys::SO_TYPE)?,
        protocol: get(sys::SO_PROTOCOL)?,
        listening: get(sys::SO_ACCEPTCONN)? != 0,
    }))
}

/// A passed fd, typed by what it is.
#[derive(Debug)]
#[non_exhaustive]
pub enum Activated {
    /// A listening Unix stream socket (`ListenStream=` with a path or `@name`).
    UnixListener(UnixListener),
    /// A listening Unix seqpacket socket (`ListenSequentialPacket=`).
    UnixSeqpacketListener(UnixSeqpacketListener),
    /// A Unix datagram socket (`ListenDatagram=`).
    UnixDatagram(UnixDatagram),
    /// A connected Unix stream socket (`Accept=yes`: one connection per instance).
    UnixStream(UnixStream),
    /// A connected Unix seqpacket socket (`Accept=yes`).
    UnixSeqpacket(UnixSeqpacket),
    /// Any other socket (TCP, UDP, netlink, ...), with what it is. With the `std`
    /// feature, `TcpListener::try_from`, `TcpStream::try_from` and `UdpSocket::try_from`
    /// take the TCP and UDP ones.
    Socket(OwnedFd, SocketInfo),
    /// Not a socket: a FIFO, a file, a message queue, ... (or one whose kind could not
    /// be read).
    Other(OwnedFd),
}

impl Activated {
    /// Finds what `fd` is and wraps it in the matching type.
    pub fn classify(fd: OwnedFd) -> Self {
        let info = match socket_info(fd.as_fd()) {
            Ok(Some(info)) => info,
            _ => return Activated::Other(fd),
        };
        if info.domain != sys::AF_UNIX {
            return Activated::Socket(fd, info);
        }
        let typed = match (info.ty, info.listening) {
            (sys::SOCK_STREAM, true) => Listener::try_from_fd(fd).map(Activated::UnixListener),
            (sys::SOCK_SEQPACKET, true) => {
                Listener::try_from_fd(fd).map(Activated::UnixSeqpacketListener)
            }
            (sys::SOCK_DGRAM, _) => Socket::try_from_fd(fd).map(Activated::UnixDatagram),
            (sys::SOCK_STREAM, false) => Socket::try_from_fd(fd).map(Activated::UnixStream),
            (sys::SOCK_SEQPACKET, false) => Socket::try_from_fd(fd).map(Activated::UnixSeqpacket),
            _ => Err(fd),
        };
        typed.unwrap_or_else(|fd| Activated::Socket(fd, info))
    }

    /// A short name for the kind: `unix-listener`, `unix-seqpacket-listener`,
    /// `unix-datagram`, `unix-stream`, `unix-seqpacket`, `socket` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Activated::UnixListener(_) => "unix-listener",
            Activated::UnixSeqpacketListener(_) => "unix-seqpacket-listener",
            Activated::UnixDatagram(_) => "unix-datagram",
            Activated::UnixStream(_) => "unix-stream",
            Activated::UnixSeqpacket(_) => "unix-seqpacket",
            Activated::Socket(..) => "socket",
            Activated::Other(_) => "other",
        }
    }
}

impl AsFd for Activated {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Activated::UnixListener(s) => s.as_fd(),
            Activated::UnixSeqpacketListener(s) => s.as_fd(),
            Activated::UnixDatagram(s) => s.as_fd(),
            Activated::UnixStream(s) => s.as_fd(),
            Activated::UnixSeqpacket(s) => s.as_fd(),
            Activated::Socket(fd, _) | Activated::Other(fd) => fd.as_fd(),
        }
    }
}

impl From<Activated> for OwnedFd {
    fn from(a: Activated) -> OwnedFd {
        match a {
            Activated::UnixListener(s) => s.into(),
            Activated::UnixSeqpacketListener(s) => s.into(),
            Activated::UnixDatagram(s) => s.into(),
            Activated::UnixStream(s) => s.into(),
            Activated::UnixSeqpacket(s) => s.into(),
            Activated::Socket(fd, _) | Activated::Other(fd) => fd,
        }
    }
}
