//! Processes, for a supervisor: pidfds (a handle on a process that a reused pid cannot
//! fool) and their pidfs ids ([`pidfd_id`]), waiting for children and how they ended,
//! signals, the child subreaper, and dropping privileges. No allocation, no libc.
//!
//! A supervisor's usual shape: start the child, take its [`Pidfd`], and wait for
//! whichever comes first of the child's exit (the pidfd turns readable), a message on
//! the notify socket, a signal (a signalfd) and a timeout (a
//! [`TimerFd`](crate::event::TimerFd)), all in one [`Epoll`](crate::event::Epoll); then
//! reap with [`Pidfd::wait`].
//!
//! ```no_run
//! use baremsg::process::{ExitStatus, Pidfd};
//! # fn main() -> Result<(), baremsg::Errno> {
//! # let pid = 1;
//! let child = Pidfd::open(pid)?;         // while `pid` is our unreaped child
//! child.send_signal(baremsg::sys::SIGTERM)?;
//! match child.wait()? {
//!     ExitStatus::Exited(code) => println!("exited with {code}"),
//!     other => println!("ended: {other:?} (shell status {})", other.shell_code()),
//! }
//! # Ok(())
//! # }
//! ```

use crate::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use crate::sys::{self, Siginfo, Sigset};
use crate::Errno;

/// `PR_SET_CHILD_SUBREAPER`.
const PR_SET_CHILD_SUBREAPER: i32 = 36;
/// `PR_GET_CHILD_SUBREAPER`.
const PR_GET_CHILD_SUBREAPER: i32 = 37;

/// How a child ended (or changed state), as `waitid` or `wait4` report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It called `exit` with this code (0..=255).
    Exited(i32),
    /// A signal killed it.
    Signaled {
        /// The signal.
        signal: i32,
        /// It dumped core.
        core_dumped: bool,
    },
    /// A signal stopped it (only with `WUNTRACED`/`WSTOPPED`).
    Stopped(i32),
    /// `SIGCONT` continued it (only with `WCONTINUED`).
    Continued,
}

impl ExitStatus {
    /// Decodes a `wait4` status word.
    pub const fn from_raw(status: i32) -> Self {
        if sys::wifexited(status) {
            ExitStatus::Exited(sys::wexitstatus(status))
        } else if sys::wifsignaled(status) {
            ExitStatus::Signaled {
                signal: sys::wtermsig(status),
                core_dumped: status & 0x80 != 0,
            }
        } else if status == 0xffff {
            ExitStatus::Continued
        } else {
            ExitStatus::Stopped((status >> 8) & 0xff)
        }
    }

    /// Decodes what `waitid` stored; `None` if it names no child (a `WNOHANG` wait that
    /// found none).
    pub fn from_siginfo(info: &Siginfo) -> Option<Self> {
        if info.pid() == 0 {
            return None;
        }
        Some(match info.code() {
            sys::CLD_EXITED => ExitStatus::Exited(info.status()),
            sys::CLD_KILLED => ExitStatus::Signaled {
                signal: info.status(),
                core_dumped: false,
            },
            sys::CLD_DUMPED => ExitStatus::Signaled {
                signal: info.status(),
                core_dumped: true,
            },
            sys::CLD_CONTINUED => ExitStatus::Continued,
            _ => ExitStatus::Stopped(info.status()),
        })
    }

    /// The exit code, if it exited.
    pub const fn code(&self) -> Option<i32> {
        match *self {
            ExitStatus::Exited(c) => Some(c),
            _ => None,
        }
    }

    /// The signal that killed it, if one did.
    pub const fn signal(&self) -> Option<i32> {
        match *self {
            ExitStatus::Signaled { signal, .. } => Some(signal),
            _ => None,
        }
    }

    /// It exited with code 0.
    pub const fn success(&self) -> bool {
        matches!(self, ExitStatus::Exited(0))
    }

    /// The status a shell (and tini, catatonit, dumb-init) reports: the exit code, or
    /// 128 + the signal that killed it.
    pub const fn shell_code(&self) -> i32 {
        match *self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled { signal, .. } | ExitStatus::Stopped(signal) => 128 + signal,
            ExitStatus::Continued => 128 + 18,
        }
    }
}

/// A pidfd: an fd that refers to one process for as long as the fd is open, even after
/// the process exits and its pid is reused (Linux 5.3+). Readable (`POLLIN`,
/// `EPOLLIN`) once the process has exited; close-on-exec.
#[derive(Debug)]
pub struct Pidfd {
    fd: OwnedFd,
}

impl Pidfd {
    /// `pidfd_open(2)`: a pidfd for process `pid`. It refers to whatever process has that
    /// pid now: race-free for the caller's own child that it has not reaped yet (the pid
    /// cannot be reused before that); for any other process the pid may already belong to
    /// another one.
    pub fn open(pid: i32) -> Result<Self, Errno> {
        // SAFETY: pidfd_open returns a new fd that nobody else owns; it is wrapped at once.
        let fd = unsafe { OwnedFd::from_raw_fd(sys::pidfd_open(pid, 0)?) };
        Ok(Self { fd })
    }

    /// Wraps an fd that is a pidfd (from `SO_PEERPIDFD`, `SCM_PIDFD`, `clone3`).
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }

    /// `pidfd_send_signal(2)`: sends `sig` to the process; `ESRCH` once it has exited
    /// (never to a process that took over its pid). `0` checks that it can be signalled.
    pub fn send_signal(&self, sig: i32) -> Result<(), Errno> {
        // SAFETY: only integers cross.
        unsafe { sys::pidfd_send_signal(self.fd.as_raw_fd(), sig, 0) }
    }

    /// `waitid(P_PIDFD, WEXITED)`: waits for the process, which must be a child of this
    /// one, to exit, and reaps it. `ECHILD` if it is not our child or was reaped already;
    /// `EINTR` if a signal interrupted the wait.
    pub fn wait(&self) -> Result<ExitStatus, Errno> {
        self.wait_with(sys::WEXITED)?.ok_or(Errno::ECHILD)
    }

    /// [`wait`](Self::wait) that does not block: `None` while the child runs.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>, Errno> {
        self.wait_with(sys::WEXITED | sys::WNOHANG)
    }

    /// `waitid(P_PIDFD, options)` with the caller's options (`WEXITED`, `WSTOPPED`,
    /// `WCONTINUED`, `WNOHANG`, `WNOWAIT`).
    pub fn wait_with(&self, options: i32) -> Result<Option<ExitStatus>, Errno> {
        let mut info = Siginfo::zeroed();
        // SAFETY: waiting for the child this pidfd names is what the caller asked for.
        unsafe { sys::waitid(sys::P_PIDFD, self.fd.as_raw_fd(), &mut info, options) }?;
        Ok(ExitStatus::from_siginfo(&info))
    }

    /// The process's unique id on pidfs (Linux 6.9+): see [`pidfd_id`].
    pub fn id(&self) -> Result<Option<u64>, Errno> {
        pidfd_id(self.fd.as_fd())
    }
}

/// The unique 64-bit id of the process `pidfd` refers to, as systemd 259 reads it for
/// `LISTEN_PIDFDID` and `MAINPIDFDID`: `Ok(None)` where pidfds are not on pidfs (Linux
/// before 6.9: every pidfd is the same anonymous inode) or the id cannot be read whole.
///
/// Two pidfds refer to the same process exactly when their ids are equal; an id is never
/// reused while the system runs. It is read as the pidfs file handle
/// (`name_to_handle_at(2)`, `FILEID_KERNFS`, Linux 6.13+), and before 6.13 on the 64-bit
/// targets as the inode number (`statx`); on the 32-bit targets an inode number may be
/// the id cut to 32 bits (on a 32-bit kernel), so there, as in systemd, only the handle
/// counts. `EBADF` if `pidfd` is on pidfs but is not a pidfd cannot happen (pidfs holds
/// only pidfds); an fd that is not a pidfd at all gives `Ok(None)`.
pub fn pidfd_id(pidfd: BorrowedFd<'_>) -> Result<Option<u64>, Errno> {
    let mut fs = sys::Statfs::default();
    // SAFETY: `fs` is writable.
    unsafe { sys::fstatfs(pidfd.as_raw_fd(), &mut fs) }?;
    if fs.f_type != sys::PIDFS_MAGIC {
        return Ok(None);
    }
    let mut handle = sys::FileHandle::default();
    let mut mount_id = 0i32;
    // SAFETY: an empty NUL-terminated path with AT_EMPTY_PATH names the fd itself;
    // `handle` says how much room it has; both outputs are writable.
    match unsafe {
        sys::name_to_handle_at(
            pidfd.as_raw_fd(),
            c"".as_ptr().cast(),
            &mut handle,
            &mut mount_id,
            sys::AT_EMPTY_PATH,
        )
    } {
        Ok(()) if handle.handle_type == sys::FILEID_KERNFS && handle.handle_bytes >= 8 => {
            let mut id = [0u8; 8];
            id.copy_from_slice(&handle.f_handle[..8]);
            return Ok(Some(u64::from_ne_bytes(id)));
        }
        // Some other handle: not the id.
        Ok(()) => return Ok(None),
        // pidfs before 6.13 has no file handles; ENOSYS: a sandbox refuses the call.
        Err(Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EPERM | Errno::EACCES) => {}
        Err(e) => return Err(e),
    }
    inode_id(pidfd)
}

#[cfg(target_pointer_width = "64")]
fn inode_id(pidfd: BorrowedFd<'_>) -> Result<Option<u64>, Errno> {
    let st = sys::fstatx(pidfd.as_raw_fd(), sys::STATX_INO)?;
    Ok((st.stx_mask & sys::STATX_INO != 0).then_some(st.stx_ino))
}

#[cfg(target_pointer_width = "32")]
fn inode_id(_: BorrowedFd<'_>) -> Result<Option<u64>, Errno> {
    Ok(None)
}

/// This process's [`pidfd_id`] (from a pidfd of itself, `pidfd_open(getpid())`, closed
/// again): `Ok(None)` where there is none to read (no pidfs, `pidfd_open` refused or
/// missing).
pub fn own_pidfd_id() -> Result<Option<u64>, Errno> {
    match Pidfd::open(sys::getpid()) {
        Ok(me) => me.id(),
        Err(Errno::ENOSYS | Errno::EPERM | Errno::EACCES | Errno::ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Pidfd {
    fn as_raw_fd(&self) -> crate::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Pidfd> for OwnedFd {
    fn from(p: Pidfd) -> OwnedFd {
        p.fd
    }
}

/// `wait4(2)` without resource usage: waits for child `pid` (-1: any child; 0 or
/// `-pgid`: one of a process group), with `options` (`WNOHANG`, `WUNTRACED`,
/// `WCONTINUED`, `__WALL`); returns the pid and how it ended, or `None` with `WNOHANG`
/// when no child has changed state. `ECHILD` when there is no such child.
pub fn wait(pid: i32, options: i32) -> Result<Option<(i32, ExitStatus)>, Errno> {
    let mut status = 0;
    // SAFETY: reaping is what the caller asked for; `status` is writable.
    let got = unsafe { sys::wait4(pid, &mut status, options) }?;
    Ok((got != 0).then(|| (got, ExitStatus::from_raw(status))))
}

/// `kill(2)`: sends `sig` to process `pid` (`-pgid`: a process group, -1: every process
/// it may signal); 0 checks that it could.
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: only integers cross; what the signal does is the caller's business.
    unsafe { sys::kill(pid, sig) }
}

/// `prctl(PR_SET_CHILD_SUBREAPER)`: orphaned descendants of this process are
/// reparented to it (rather than to PID 1), so it can reap them, as an init does.
pub fn set_child_subreaper(on: bool) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    unsafe { sys::prctl(PR_SET_CHILD_SUBREAPER, on as usize, 0, 0, 0) }.map(drop)
}

/// Whether this process is a child subreaper (`PR_GET_CHILD_SUBREAPER`).
pub fn is_child_subreaper() -> Result<bool, Errno> {
    let mut v: i32 = 0;
    // SAFETY: the kernel writes one int to `v`.
    unsafe { sys::prctl(PR_GET_CHILD_SUBREAPER, &mut v as *mut i32 as usize, 0, 0, 0) }?;
    Ok(v != 0)
}

/// `prctl(PR_SET_PDEATHSIG)`: this process gets `sig` when the thread that created it
/// exits (0: nothing).
pub fn set_parent_death_signal(sig: i32) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    unsafe { sys::prctl(sys::PR_SET_PDEATHSIG, sig as usize, 0, 0, 0) }.map(drop)
}

/// Drops to user `uid`, group `gid` and exactly the supplementary `groups`, for good
/// (real, effective and saved ids all set): `setgroups`, then `setresgid`, then
/// `setresuid`, the order in which each step still has the privilege the next needs.
/// Then checks that the ids took (`getuid` and friends), and that regaining root fails
/// where it should, rather than trusting the calls.
///
/// Call it before starting threads, or in a forked child: the kernel's ids are per
/// thread, and nothing here changes the other threads.
pub fn drop_privileges(uid: u32, gid: u32, groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: the caller's documented contract is about threads, not memory.
    unsafe {
        sys::setgroups(groups)?;
        sys::setresgid(gid, gid, gid)?;
        sys::setresuid(uid, uid, uid)?;
    }
    if (sys::getuid(), sys::geteuid(), sys::getgid(), sys::getegid()) != (uid, uid, gid, gid) {
        return Err(Errno::EPERM);
    }
    // SAFETY: as above; this is expected to fail.
    if uid != 0 && unsafe { sys::setresuid(u32::MAX, 0, u32::MAX) }.is_ok() {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Adds `set` to the calling thread's signal mask (`rt_sigprocmask(SIG_BLOCK)`); returns
/// the mask it had. Blocked signals stay pending, to be read from a
/// [`SignalFd`](crate::event::SignalFd); threads started afterwards inherit the mask.
pub fn block_signals(set: &Sigset) -> Result<Sigset, Errno> {
    mask(sys::SIG_BLOCK, set)
}

/// Removes `set` from the calling thread's signal mask; returns the mask it had.
pub fn unblock_signals(set: &Sigset) -> Result<Sigset, Errno> {
    mask(sys::SIG_UNBLOCK, set)
}

/// Makes `set` the calling thread's signal mask; returns the mask it had.
pub fn set_signal_mask(set: &Sigset) -> Result<Sigset, Errno> {
    mask(sys::SIG_SETMASK, set)
}

fn mask(how: i32, set: &Sigset) -> Result<Sigset, Errno> {
    let mut old = Sigset::EMPTY;
    // SAFETY: both sets are valid for the call; the mask is this thread's own.
    unsafe { sys::rt_sigprocmask(how, set, &mut old) }?;
    Ok(old)
}

pub use crate::sys::{getpgid, getsid, setpgid, setsid, umask};
