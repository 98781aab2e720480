//! The manager side: starting a program with sockets at fds 3, 4, ... and the
//! activation variables set, without allocating.

use core::ffi::CStr;
use core::fmt;
use core::ptr;

use super::{is_listen_var, ActivationError, LISTEN_FDS_START};
use crate::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use crate::notify::{decimal, is_valid_fd_name};
use crate::sys::{self, Sigaction, Sigset};
use crate::Errno;

const PID_PREFIX: &[u8] = b"LISTEN_PID=";
/// Room for any pid's digits (10 for `i32::MAX`) and the NUL.
const PID_SLOT: usize = 11;
const FDS_PREFIX: &[u8] = b"LISTEN_FDS=";
const NAMES_PREFIX: &[u8] = b"LISTEN_FDNAMES=";

/// Where [`Spawn::spawn`] builds the child's `argv` and `envp` arrays and the activation
/// variables, so that nothing is allocated: `PTRS` pointer slots and `BYTES` bytes,
/// typically on the stack. [`Spawn::needs`] says how much a spawn takes.
pub struct ExecBuf<const PTRS: usize, const BYTES: usize> {
    ptrs: [*const u8; PTRS],
    bytes: [u8; BYTES],
}

impl<const PTRS: usize, const BYTES: usize> ExecBuf<PTRS, BYTES> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            ptrs: [ptr::null(); PTRS],
            bytes: [0; BYTES],
        }
    }
}

impl<const PTRS: usize, const BYTES: usize> Default for ExecBuf<PTRS, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const PTRS: usize, const BYTES: usize> fmt::Debug for ExecBuf<PTRS, BYTES> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecBuf")
            .field("ptrs", &PTRS)
            .field("bytes", &BYTES)
            .finish()
    }
}

/// The step of starting a child that failed, in the child, before the new program ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnStep {
    /// Moving fds that sit where others must go (and the report pipe, if it sits there)
    /// above fd 3 + n, out of the way (`fcntl(F_DUPFD_CLOEXEC)`; `EINVAL` or `EMFILE`:
    /// the fd limit is too low, see [`Spawn::spawn`]).
    MoveFds,
    /// Putting them at fds 3, 4, ... (`dup3`; `EBADF`: fd 3 + n - 1 is above the fd
    /// limit).
    PlaceFds,
    /// `execve` itself (`ENOENT`, `EACCES`, `ENOEXEC`, ...).
    Exec,
    /// Setting every signal's disposition to the default or the signal mask
    /// (`rt_sigaction`, `rt_sigprocmask`: refused by a seccomp filter, say).
    Signals,
}

/// A child [`Spawn::spawn_with_pidfd`] started: its pid and, where the kernel makes
/// them (Linux 5.2+), a pidfd of it, made with the child (`clone` with `CLONE_PIDFD`),
/// so it refers to this child even once the pid is reused. Dropping it closes the pidfd;
/// waiting for the child (`wait4`) is the caller's business.
#[derive(Debug)]
pub struct Spawned {
    pid: i32,
    pidfd: Option<OwnedFd>,
}

impl Spawned {
    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A close-on-exec pidfd of the child: made with the child (`clone` with
    /// `CLONE_PIDFD`), or where that is refused or ignored (a seccomp filter, a kernel
    /// before 5.2, qemu-user) by `pidfd_open` right after, before the child can be
    /// reaped; `None` where neither exists (before Linux 5.3), or once taken.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Takes the pidfd.
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        self.pidfd.take()
    }
}

/// A program to start with sockets passed the way systemd passes them: `fork`, then in
/// the child the sockets move to fds 3, 4, ... (cleared of close-on-exec), and `execve`
/// runs the program with `LISTEN_FDS`, `LISTEN_PID` (the child's own pid) and, if names
/// are given, `LISTEN_FDNAMES` added to the environment.
///
/// The program starts with every signal's disposition at its default and an empty
/// signal mask (or the one given to [`signal_mask`](Self::signal_mask)), whatever the
/// caller blocks or ignores: as systemd starts services, and as `std::process::Command`
/// does for `SIGPIPE`.
///
/// ```
/// use baremsg::activation::{ExecBuf, Spawn};
/// use baremsg::fd::AsFd;
/// use baremsg::sys;
/// use baremsg::unix::UnixStream;
/// # fn main() -> Result<(), baremsg::activation::ActivationError> {
/// let (ours, theirs) = UnixStream::pair()?;
/// // The child finds `theirs` at fd 3 with LISTEN_FDS=1, LISTEN_FDNAMES=conn.
/// let pid = Spawn::new(c"/bin/sh", &[c"sh", c"-c", c"echo \"$LISTEN_FDNAMES\" >&3"])
///     .env(&[c"PATH=/usr/bin:/bin"])
///     .fds(&[theirs.as_fd()])
///     .names(&[b"conn"])
///     .spawn(&mut ExecBuf::<16, 512>::new())?;
/// drop(theirs);
/// let mut status = 0;
/// // SAFETY: `pid` is our child, reaped once.
/// unsafe { sys::wait4(pid, &mut status, 0) }?;
/// assert!(sys::wifexited(status) && sys::wexitstatus(status) == 0);
/// let mut buf = [0u8; 8];
/// assert_eq!(ours.recv(&mut buf)?, 5);
/// assert_eq!(&buf[..5], b"conn\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Spawn<'a> {
    path: &'a CStr,
    argv: &'a [&'a CStr],
    env: &'a [&'a CStr],
    fds: &'a [BorrowedFd<'a>],
    names: Option<&'a [&'a [u8]]>,
    mask: Sigset,
}

/// How much of an [`ExecBuf`] a spawn takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// Pointer slots: `argv`, `envp`, and their two null terminators.
    pub ptrs: usize,
    /// Bytes: the activation variables and 4 per fd (the child's scratch space).
    pub bytes: usize,
}

impl<'a> Spawn<'a> {
    /// The program at `path` (not searched in `PATH`) with arguments `argv` (`argv[0]`
    /// included), an empty environment and no fds.
    pub fn new(path: &'a CStr, argv: &'a [&'a CStr]) -> Self {
        Self {
            path,
            argv,
            env: &[],
            fds: &[],
            names: None,
            mask: Sigset::EMPTY,
        }
    }

    /// The environment (`KEY=VALUE` entries). Entries setting `LISTEN_PID`,
    /// `LISTEN_FDS` or `LISTEN_FDNAMES` are left out: the spawn sets its own.
    pub fn env(mut self, env: &'a [&'a CStr]) -> Self {
        self.env = env;
        self
    }

    /// The sockets (or any fds) to pass, in order: the first lands at fd 3.
    pub fn fds(mut self, fds: &'a [BorrowedFd<'a>]) -> Self {
        self.fds = fds;
        self
    }

    /// One name per fd, for `LISTEN_FDNAMES`; each must pass
    /// [`is_valid_fd_name`](crate::notify::is_valid_fd_name), as systemd checks them:
    /// empty names are allowed, except for a lone fd (`LISTEN_FDNAMES=` reads as no
    /// names in libsystemd).
    pub fn names(mut self, names: &'a [&'a [u8]]) -> Self {
        self.names = Some(names);
        self
    }

    /// The signal mask the program starts with (empty unless set here). `SIGKILL` and
    /// `SIGSTOP` are never blocked.
    pub fn signal_mask(mut self, mask: Sigset) -> Self {
        self.mask = mask;
        self
    }

    /// What [`spawn`](Self::spawn) needs of an [`ExecBuf`].
    pub fn needs(&self) -> Needs {
        let n = self.fds.len();
        let kept_env = self
            .env
            .iter()
            .filter(|e| !is_listen_var(e.to_bytes()))
            .count();
        let mut digits = [0u8; 20];
        let mut bytes = 4 * n
            + PID_PREFIX.len()
            + PID_SLOT
            + FDS_PREFIX.len()
            + decimal(n as u64, &mut digits).len()
            + 1;
        let mut ptrs = self.argv.len() + 1 + kept_env + 2 + 1;
        if let Some(names) = self.names {
            let joined: usize = names.iter().map(|n| n.len()).sum::<usize>() + n.saturating_sub(1);
            bytes += NAMES_PREFIX.len() + joined + 1;
            ptrs += 1;
        }
        Needs { ptrs, bytes }
    }

    /// Starts the program (`fork(2)`, `execve(2)`); returns the child's pid, which the
    /// caller waits for (`wait4`).
    ///
    /// Checked before anything starts: the names (one per fd, each valid), and that
    /// `buf` is big enough ([`ActivationError::ExecBufTooSmall`]). If the child fails
    /// before the program runs, it reports why through a close-on-exec pipe, exits and
    /// is reaped here, and the error is [`ActivationError::Spawn`].
    ///
    /// In the child, between `fork` and `execve`, only raw syscalls are made (nothing
    /// allocates or takes a lock), so this is sound in a multi-threaded program. Fds
    /// without close-on-exec that other threads open meanwhile are inherited, as with
    /// any `fork`; every fd baremsg makes is close-on-exec.
    ///
    /// Signals: the calling thread blocks them all from before the `fork` until after
    /// it (its own mask is back as it was when this returns), so no handler of the
    /// caller's ever runs in the child. The child sets every disposition (1..=64 but
    /// `SIGKILL` and `SIGSTOP`) to the default, then the mask to the one asked for
    /// (empty by default) just before `execve`: a signal sent to the child meanwhile
    /// waits until then and takes its default action. Without this a service would
    /// inherit what `execve` keeps: the mask, and every ignored signal (a Rust
    /// program ignores `SIGPIPE`; an init that reads `SIGTERM` from a signalfd blocks it).
    ///
    /// Fd numbers: each fd goes to its target with `dup3`, so fd 3 + n - 1 must be below
    /// the `RLIMIT_NOFILE` limit. Only an fd that sits at another fd's target (which
    /// placing that other fd would overwrite) is first moved above 3 + n, each such
    /// number once, and the report pipe likewise if it sits at a target; each move takes
    /// a free number below the limit ([`SpawnStep::MoveFds`] with `EMFILE` or `EINVAL`
    /// otherwise). An fd already at its own target only loses close-on-exec.
    pub fn spawn<const PTRS: usize, const BYTES: usize>(
        &self,
        buf: &mut ExecBuf<PTRS, BYTES>,
    ) -> Result<i32, ActivationError> {
        self.start(buf, false).map(|child| child.pid)
    }

    /// [`spawn`](Self::spawn), also returning a pidfd of the child (`clone(2)` with
    /// `CLONE_PIDFD`, Linux 5.2+), which stays bound to this child even after it exits
    /// and its pid is reused: hand it to
    /// [`NotifyListener::recv_from_pidfd`](crate::notify::NotifyListener::recv_from_pidfd)
    /// to tell the child's notifications from those of an earlier process with its pid.
    pub fn spawn_with_pidfd<const PTRS: usize, const BYTES: usize>(
        &self,
        buf: &mut ExecBuf<PTRS, BYTES>,
    ) -> Result<Spawned, ActivationError> {
        self.start(buf, true)
    }

    fn start<const PTRS: usize, const BYTES: usize>(
        &self,
        buf: &mut ExecBuf<PTRS, BYTES>,
        want_pidfd: bool,
    ) -> Result<Spawned, ActivationError> {
        let n = self.fds.len();
        if let Some(names) = self.names {
            if names.len() != n {
                return Err(ActivationError::NameCountMismatch {
                    fds: n,
                    names: names.len(),
                });
            }
            if let Some(index) = names.iter().position(|name| !is_valid_fd_name(name)) {
                return Err(ActivationError::InvalidFdName { index });
            }
            // Empty names are valid (systemd's `fdname_is_valid`), and `a::b` keeps one
            // between two others, but `LISTEN_FDNAMES=` alone is read by libsystemd's
            // `sd_listen_fds_with_names` as no names, not one empty name.
            if let [name] = names {
                if name.is_empty() {
                    return Err(ActivationError::InvalidFdName { index: 0 });
                }
            }
        }
        let floor = RawFd::try_from(n)
            .ok()
            .and_then(|n| n.checked_add(LISTEN_FDS_START))
            .ok_or(ActivationError::TooManyFds {
                count: n,
                limit: (RawFd::MAX - LISTEN_FDS_START) as usize,
            })?;
        let needs = self.needs();
        if needs.ptrs > PTRS || needs.bytes > BYTES {
            return Err(ActivationError::ExecBufTooSmall {
                needs,
                have: Needs {
                    ptrs: PTRS,
                    bytes: BYTES,
                },
            });
        }

        // The bytes: [scratch: 4 per fd][LISTEN_PID=<slot>][LISTEN_FDS=n\0][LISTEN_FDNAMES=..\0]
        let mut w = Writer {
            bytes: &mut buf.bytes,
            len: 4 * n,
        };
        let pid_at = w.len;
        w.put(PID_PREFIX);
        w.put(&[0; PID_SLOT]);
        let fds_at = w.len;
        let mut digits = [0u8; 20];
        w.put(FDS_PREFIX);
        w.put(decimal(n as u64, &mut digits));
        w.put(b"\0");
        let names_at = w.len;
        if let Some(names) = self.names {
            w.put(NAMES_PREFIX);
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    w.put(b":");
                }
                w.put(name);
            }
            w.put(b"\0");
        }
        let base = buf.bytes.as_mut_ptr();

        // The pointers: argv, NULL, the environment kept, the variables, NULL.
        let envp_at = self.argv.len() + 1;
        let mut p = 0;
        let mut push = |ptr: *const u8| {
            if let Some(slot) = buf.ptrs.get_mut(p) {
                *slot = ptr;
            }
            p += 1;
        };
        for arg in self.argv {
            push(arg.as_ptr().cast());
        }
        push(ptr::null());
        for entry in self.env.iter().filter(|e| !is_listen_var(e.to_bytes())) {
            push(entry.as_ptr().cast());
        }
        // The offsets are within `bytes`, laid out above.
        push(base.wrapping_add(pid_at));
        push(base.wrapping_add(fds_at));
        if self.names.is_some() {
            push(base.wrapping_add(names_at));
        }
        push(ptr::null());

        let (err_r, err_w) = fd::pipe()?;
        let child = InChild {
            fds: self.fds,
            scratch: base,
            // Within `bytes`, after the prefix.
            pid_digits: base.wrapping_add(pid_at + PID_PREFIX.len()),
            floor,
            path: self.path.as_ptr().cast(),
            argv: buf.ptrs.as_ptr(),
            // `envp_at` < the pointers pushed, all within `ptrs`.
            envp: buf.ptrs.as_ptr().wrapping_add(envp_at),
            report: err_w.as_raw_fd(),
            mask: self.mask,
        };
        let mut caller_mask = Sigset::EMPTY;
        // SAFETY: both sets are valid; this thread gets its mask back below.
        unsafe { sys::rt_sigprocmask(sys::SIG_SETMASK, &Sigset::FULL, &mut caller_mask) }?;
        let mut pidfd = -1;
        // SAFETY: the child runs `InChild::run`, which makes raw syscalls only and never
        // returns; in the parent, a pidfd stored in `pidfd` is wrapped below.
        let forked = unsafe {
            if want_pidfd {
                match sys::fork_pidfd(&mut pidfd) {
                    Err(Errno::EPERM | Errno::ENOSYS | Errno::EINVAL) => sys::fork(),
                    r => r,
                }
            } else {
                sys::fork()
            }
        };
        if forked == Ok(0) {
            child.run();
        }
        // SAFETY: the mask saved above.
        let restored =
            unsafe { sys::rt_sigprocmask(sys::SIG_SETMASK, &caller_mask, ptr::null_mut()) };
        // SAFETY: a pidfd the kernel stored is ours, and nothing else owns it.
        let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
        let pid = forked?;
        // Where clone made none (a kernel or an emulator without CLONE_PIDFD, a filter
        // that refused it), pidfd_open of the child: it cannot have been reaped yet, so
        // its pid still names it.
        let pidfd = match pidfd {
            None if want_pidfd => {
                // SAFETY: pidfd_open returns a new fd that nobody else owns; wrapped at once.
                unsafe { sys::pidfd_open(pid, 0) }
                    .ok()
                    // SAFETY: as above.
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
            }
            fd => fd,
        };
        drop(err_w);
        let pid = wait_for_exec(pid, err_r.as_fd())?;
        // Only fails for a bad pointer or `how`: neither can happen.
        debug_assert_eq!(restored, Ok(()));
        Ok(Spawned { pid, pidfd })
    }
}

/// Appends bytes; `needs` has checked that they fit.
struct Writer<'b> {
    bytes: &'b mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, s: &[u8]) {
        let end = self.len + s.len();
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            dst.copy_from_slice(s);
        }
        self.len = end;
    }
}

/// What the child needs, as raw pointers into memory it has its own copy of.
struct InChild<'a> {
    fds: &'a [BorrowedFd<'a>],
    scratch: *mut u8,
    pid_digits: *mut u8,
    floor: RawFd,
    path: *const u8,
    argv: *const *const u8,
    envp: *const *const u8,
    report: RawFd,
    mask: Sigset,
}

impl InChild<'_> {
    /// Whether `fd` is one of the targets, 3 .. 3 + n.
    fn is_target(&self, fd: RawFd) -> bool {
        (LISTEN_FDS_START..self.floor).contains(&fd)
    }

    /// In the forked child (all signals blocked): reset the signals, fill in the pid,
    /// place the fds, set the mask, exec. Raw syscalls only.
    fn run(self) -> ! {
        // The report pipe may sit where an fd must go: move it above them first. If that
        // fails, nothing has been moved yet and the original still works.
        let report = if self.is_target(self.report) {
            // SAFETY: F_DUPFD_CLOEXEC makes a new fd in this (child) process.
            match unsafe { sys::fcntl(self.report, sys::F_DUPFD_CLOEXEC, self.floor as usize) } {
                Ok(fd) => fd as RawFd,
                Err(e) => fail(self.report, SpawnStep::MoveFds, e),
            }
        } else {
            self.report
        };

        // Every disposition to the default: handlers of the parent must not run here,
        // and `execve` keeps ignored signals ignored.
        for sig in 1..=sys::NSIG {
            if sig == sys::SIGKILL || sig == sys::SIGSTOP {
                continue;
            }
            // SAFETY: SIG_DFL, from a valid struct; the old one is not asked for.
            let set = unsafe { sys::rt_sigaction(sig, &Sigaction::DEFAULT, ptr::null_mut()) };
            if let Err(e) = set {
                fail(report, SpawnStep::Signals, e);
            }
        }

        let mut digits = [0u8; 20];
        let pid = decimal(sys::getpid() as u64, &mut digits);
        let len = pid.len().min(PID_SLOT - 1);
        // SAFETY: the slot holds PID_SLOT bytes; `len` + 1 fit.
        unsafe {
            ptr::copy_nonoverlapping(pid.as_ptr(), self.pid_digits, len);
            *self.pid_digits.add(len) = 0;
        }

        // Where each fd is taken from: where it is, unless it sits at the target of
        // another fd, which placing that one would overwrite: then from a copy above
        // 3 + n, one per such number. Any other source survives the placing: outside the
        // targets, or at its own target (which only it is placed on).
        let scratch = self.scratch.cast::<i32>();
        for (i, fd) in self.fds.iter().enumerate() {
            let src = fd.as_raw_fd();
            let endangered = self.is_target(src)
                && self.fds[(src - LISTEN_FDS_START) as usize].as_raw_fd() != src;
            let from = if !endangered {
                src
            } else if let Some(k) = self.fds[..i].iter().position(|f| f.as_raw_fd() == src) {
                // SAFETY: scratch has 4 bytes per fd; entry k < i was written.
                unsafe { ptr::read_unaligned(scratch.add(k)) }
            } else {
                // SAFETY: F_DUPFD_CLOEXEC makes a new fd in this process; the source is
                // open (borrowed in the parent at fork time).
                match unsafe { sys::fcntl(src, sys::F_DUPFD_CLOEXEC, self.floor as usize) } {
                    Ok(copy) => copy as RawFd,
                    Err(e) => fail(report, SpawnStep::MoveFds, e),
                }
            };
            // SAFETY: scratch has 4 bytes per fd.
            unsafe { ptr::write_unaligned(scratch.add(i), from) };
        }
        for i in 0..self.fds.len() {
            let target = LISTEN_FDS_START + i as RawFd;
            // SAFETY: written above.
            let from = unsafe { ptr::read_unaligned(scratch.add(i)) };
            // dup3 with no flags: the placed fd survives execve; a copy made above, being
            // close-on-exec, does not. An fd at its own target only loses close-on-exec.
            // SAFETY: both are fds of this process; the target is replaced atomically.
            let placed = unsafe {
                if from == target {
                    sys::fcntl(target, sys::F_SETFD, 0).map(drop)
                } else {
                    sys::dup3(from, target, 0).map(drop)
                }
            };
            if let Err(e) = placed {
                fail(report, SpawnStep::PlaceFds, e);
            }
        }
        // The mask last: a signal that came since the fork takes its default action now.
        // SAFETY: a valid set; the old mask is not asked for.
        let set = unsafe { sys::rt_sigprocmask(sys::SIG_SETMASK, &self.mask, ptr::null_mut()) };
        if let Err(e) = set {
            fail(report, SpawnStep::Signals, e);
        }
        // SAFETY: path, argv and envp are NUL-terminated strings and null-terminated
        // pointer arrays, laid out by `spawn` in memory this child has a copy of.
        let e = unsafe { sys::execve(self.path, self.argv, self.envp) };
        fail(report, SpawnStep::Exec, e)
    }
}

/// In the child: tells the parent what failed, and exits.
fn fail(report: RawFd, step: SpawnStep, e: Errno) -> ! {
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&(step as i32).to_ne_bytes());
    msg[4..].copy_from_slice(&e.raw().to_ne_bytes());
    // SAFETY: `msg` is readable; 8 bytes to a pipe go in one piece (< PIPE_BUF).
    let _ = unsafe { sys::write(report, msg.as_ptr(), msg.len()) };
    sys::exit_group(127)
}

/// In the parent: end-of-file on the report pipe means the exec happened; 8 bytes say
/// what failed, and the child is reaped.
fn wait_for_exec(pid: i32, report: BorrowedFd<'_>) -> Result<i32, ActivationError> {
    let mut msg = [0u8; 8];
    let mut got = 0;
    while got < msg.len() {
        match fd::read(report, &mut msg[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(Errno::EINTR) => {}
            Err(e) => {
                // Cannot tell what the child does: stop it rather than lose it.
                // SAFETY: `pid` is our child, not yet reaped.
                let _ = unsafe { sys::kill(pid, sys::SIGKILL) };
                reap(pid);
                return Err(ActivationError::Sys(e.into()));
            }
        }
    }
    if got == 0 {
        return Ok(pid);
    }
    reap(pid);
    let step = match i32::from_ne_bytes([msg[0], msg[1], msg[2], msg[3]]) {
        0 => SpawnStep::MoveFds,
        1 => SpawnStep::PlaceFds,
        3 => SpawnStep::Signals,
        _ => SpawnStep::Exec,
    };
    let errno = Errno::from_raw(i32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]));
    Err(ActivationError::Spawn { step, errno })
}

fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: `pid` is our child; nobody else waits for it before we return.
    while let Err(Errno::EINTR) = unsafe { sys::wait4(pid, &mut status, 0) } {}
}
