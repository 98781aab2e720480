//! The manager side: starting a program with sockets at fds 3, 4, ... and the
//! activation variables set, without allocating.

use core::ffi::CStr;
use core::fmt;
use core::ptr;

use super::{is_listen_var, ActivationError, LISTEN_FDS_START};
use crate::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use crate::notify::{decimal, is_valid_fd_name};
use crate::sys::{self, Rlimit, Sigaction, Sigset};
use crate::Errno;

const PID_PREFIX: &[u8] = b"LISTEN_PID=";
/// Room for any pid's digits (10 for `i32::MAX`) and the NUL.
const PID_SLOT: usize = 11;
const FDS_PREFIX: &[u8] = b"LISTEN_FDS=";
const NAMES_PREFIX: &[u8] = b"LISTEN_FDNAMES=";
const PIDFDID_PREFIX: &[u8] = b"LISTEN_PIDFDID=";
const WATCHDOG_PID_PREFIX: &[u8] = b"WATCHDOG_PID=";
const WATCHDOG_USEC_PREFIX: &[u8] = b"WATCHDOG_USEC=";
/// Room for any `u64`'s digits (20) and the NUL.
const PIDFDID_SLOT: usize = 21;

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
    MoveFds = 0,
    /// Putting them at fds 3, 4, ... (`dup3`; `EBADF`: fd 3 + n - 1 is above the fd
    /// limit).
    PlaceFds = 1,
    /// `execve` itself (`ENOENT`, `EACCES`, `ENOEXEC`, ...).
    Exec = 2,
    /// Setting every signal's disposition to the default or the signal mask
    /// (`rt_sigaction`, `rt_sigprocmask`: refused by a seccomp filter, say).
    Signals = 3,
    /// `setsid` or `setpgid` ([`Spawn::setsid`], [`Spawn::process_group`]).
    Session = 4,
    /// Putting stdin, stdout or stderr in place ([`Spawn::stdin`] ...).
    Stdio = 5,
    /// `prlimit64` ([`Spawn::rlimits`]: `EPERM` raising a hard limit without
    /// `CAP_SYS_RESOURCE`, `EINVAL` soft above hard).
    Limits = 6,
    /// `setgroups`, `setresgid` or `setresuid` ([`Spawn::user`], [`Spawn::group`],
    /// [`Spawn::groups`]; `EPERM` without `CAP_SETUID`/`CAP_SETGID`).
    Credentials = 7,
    /// `PR_SET_PDEATHSIG` ([`Spawn::parent_death_signal`]), or the parent was already
    /// gone when it took (`ESRCH`).
    ParentDeath = 8,
    /// `chdir` ([`Spawn::current_dir`]).
    Chdir = 9,
}

impl SpawnStep {
    /// What the step does, for messages.
    pub const fn describe(self) -> &'static str {
        match self {
            SpawnStep::MoveFds => "moving the fds out of the way",
            SpawnStep::PlaceFds => "placing the fds at 3..",
            SpawnStep::Exec => "execve",
            SpawnStep::Signals => "resetting the signal dispositions and mask",
            SpawnStep::Session => "setsid or setpgid",
            SpawnStep::Stdio => "placing stdin, stdout and stderr",
            SpawnStep::Limits => "setting the resource limits",
            SpawnStep::Credentials => "setting the groups, gid and uid",
            SpawnStep::ParentDeath => "setting the parent death signal",
            SpawnStep::Chdir => "changing the working directory",
        }
    }

    fn from_raw(n: i32) -> Self {
        [
            SpawnStep::MoveFds,
            SpawnStep::PlaceFds,
            SpawnStep::Exec,
            SpawnStep::Signals,
            SpawnStep::Session,
            SpawnStep::Stdio,
            SpawnStep::Limits,
            SpawnStep::Credentials,
            SpawnStep::ParentDeath,
            SpawnStep::Chdir,
        ]
        .get(n as usize)
        .copied()
        .unwrap_or(SpawnStep::Exec)
    }
}

/// Where the child's stdin, stdout or stderr comes from.
#[derive(Clone, Copy, Debug, Default)]
pub enum Stdio<'a> {
    /// The caller's own (fd 0, 1 or 2 as it is; the default).
    #[default]
    Inherit,
    /// `/dev/null`, opened (read-write, close-on-exec) before the `fork`.
    Null,
    /// This fd (a pipe, a socket, a file, a tty).
    Fd(BorrowedFd<'a>),
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
/// For a service manager it also sets, if asked, what a unit file would: the user, group
/// and supplementary groups ([`user`](Self::user), [`group`](Self::group),
/// [`groups`](Self::groups)), a new session or process group, the working directory,
/// stdin/stdout/stderr (an fd or `/dev/null`), resource limits, the umask, a parent death
/// signal, and `LISTEN_PIDFDID` ([`listen_pidfd_id`](Self::listen_pidfd_id)). All of it
/// is laid out before the `fork`; the child makes raw syscalls only. The
/// `LISTEN_*` variables alone, for a spawner of the caller's own, are [`ListenVars`].
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
    pidfd_id: bool,
    watchdog_usec: Option<u64>,
    stdio: [Stdio<'a>; 3],
    uid: Option<u32>,
    gid: Option<u32>,
    groups: Option<&'a [u32]>,
    session: bool,
    pgroup: Option<i32>,
    cwd: Option<&'a CStr>,
    rlimits: &'a [(i32, Rlimit)],
    umask: Option<u32>,
    pdeathsig: i32,
}

/// How much of an [`ExecBuf`] a spawn takes (or of a buffer, [`ListenVars`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// Pointer slots: `argv`, `envp`, and their two null terminators.
    pub ptrs: usize,
    /// Bytes: the activation variables (and the watchdog ones, if set) and 4 per fd (the
    /// child's scratch space).
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
            pidfd_id: false,
            watchdog_usec: None,
            stdio: [Stdio::Inherit; 3],
            uid: None,
            gid: None,
            groups: None,
            session: false,
            pgroup: None,
            cwd: None,
            rlimits: &[],
            umask: None,
            pdeathsig: 0,
        }
    }

    /// The environment (`KEY=VALUE` entries). Entries setting `LISTEN_PID`,
    /// `LISTEN_FDS`, `LISTEN_FDNAMES` or `LISTEN_PIDFDID` are left out: the spawn sets its
    /// own.
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

    /// Sets `WATCHDOG_USEC=usec` and `WATCHDOG_PID=` the child's own pid (filled in by
    /// the child after the `fork`), as systemd does for `WatchdogSec=`: the service
    /// then sends `WATCHDOG=1` at least every `usec` microseconds (`sd_watchdog_enabled`).
    /// Entries of [`env`](Self::env) setting either are left out. Takes two more pointers
    /// and 51 bytes or fewer of the [`ExecBuf`].
    pub fn watchdog(mut self, usec: u64) -> Self {
        self.watchdog_usec = Some(usec);
        self
    }

    /// Also sets `LISTEN_PIDFDID` (systemd 259 sets it): the child's pidfs id
    /// ([`process::pidfd_id`](crate::process::pidfd_id)), which the child reads itself
    /// after the `fork`, as systemd's service manager does, so a service can tell that
    /// the variables are for it and not for an earlier process with its pid. Left out of
    /// the environment where the kernel has no pidfs ids (before Linux 6.9) or, on the
    /// 32-bit targets, no pidfs file handles (before 6.13). Off by default: it takes one
    /// more pointer and 36 more bytes of the [`ExecBuf`].
    pub fn listen_pidfd_id(mut self, on: bool) -> Self {
        self.pidfd_id = on;
        self
    }

    /// Where the program's stdin (fd 0) comes from; the caller's own by default.
    pub fn stdin(mut self, from: Stdio<'a>) -> Self {
        self.stdio[0] = from;
        self
    }

    /// Where the program's stdout (fd 1) goes; the caller's own by default.
    pub fn stdout(mut self, to: Stdio<'a>) -> Self {
        self.stdio[1] = to;
        self
    }

    /// Where the program's stderr (fd 2) goes; the caller's own by default.
    pub fn stderr(mut self, to: Stdio<'a>) -> Self {
        self.stdio[2] = to;
        self
    }

    /// Runs the program as user `uid` (real, effective and saved: `setresuid`). Unless
    /// [`groups`](Self::groups) are given, the supplementary groups are emptied, so none
    /// of the caller's stay (systemd sets the user's groups from the user database,
    /// which baremsg does not read: pass them to `groups`). Needs `CAP_SETUID` (and
    /// `CAP_SETGID` for the groups).
    pub fn user(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// Runs the program with group `gid` (real, effective and saved: `setresgid`); the
    /// supplementary groups are emptied unless [`groups`](Self::groups) are given.
    pub fn group(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }

    /// Exactly these supplementary groups (`setgroups`).
    pub fn groups(mut self, groups: &'a [u32]) -> Self {
        self.groups = Some(groups);
        self
    }

    /// Starts the program in a new session (`setsid`), without a controlling terminal,
    /// leading its own process group; [`process_group`](Self::process_group) is then not
    /// applied.
    pub fn setsid(mut self, on: bool) -> Self {
        self.session = on;
        self
    }

    /// Puts the program in process group `pgid` (`setpgid(0, pgid)`; 0: a new group it
    /// leads, whose id is its pid).
    pub fn process_group(mut self, pgid: i32) -> Self {
        self.pgroup = Some(pgid);
        self
    }

    /// The working directory (`chdir`, after the user and groups are set, as systemd
    /// does it: the directory must be reachable by the user the program runs as).
    pub fn current_dir(mut self, dir: &'a CStr) -> Self {
        self.cwd = Some(dir);
        self
    }

    /// Resource limits, each `(sys::RLIMIT_*, limit)`, set with `prlimit64` before the
    /// user changes (raising a hard limit needs `CAP_SYS_RESOURCE`). They are set after
    /// the fds are placed, so a low `RLIMIT_NOFILE` does not stop that.
    pub fn rlimits(mut self, limits: &'a [(i32, Rlimit)]) -> Self {
        self.rlimits = limits;
        self
    }

    /// The umask the program starts with (the caller's by default).
    pub fn umask(mut self, mask: u32) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Signal `sig` to the program when the thread that spawned it exits
    /// (`PR_SET_PDEATHSIG`; 0: none, the default). Set after the user changes (a change of
    /// credentials clears it), then the child checks that its parent is still the caller:
    /// if the caller died meanwhile, the child fails ([`SpawnStep::ParentDeath`],
    /// `ESRCH`) rather than run without it.
    pub fn parent_death_signal(mut self, sig: i32) -> Self {
        self.pdeathsig = sig;
        self
    }

    fn sets_groups(&self) -> Option<&'a [u32]> {
        match (self.groups, self.uid.is_some() || self.gid.is_some()) {
            (Some(g), _) => Some(g),
            (None, true) => Some(&[]),
            (None, false) => None,
        }
    }

    /// Whether environment entry `e` is passed on: not one the spawn sets itself.
    fn keeps(&self, e: &[u8]) -> bool {
        !is_listen_var(e)
            && !e.starts_with(PIDFDID_PREFIX)
            && !(self.watchdog_usec.is_some()
                && (e.starts_with(WATCHDOG_PID_PREFIX) || e.starts_with(WATCHDOG_USEC_PREFIX)))
    }

    fn watchdog_needs(&self) -> Needs {
        let mut digits = [0u8; 20];
        match self.watchdog_usec {
            None => Needs { ptrs: 0, bytes: 0 },
            Some(usec) => Needs {
                ptrs: 2,
                bytes: WATCHDOG_PID_PREFIX.len()
                    + PID_SLOT
                    + WATCHDOG_USEC_PREFIX.len()
                    + decimal(usec, &mut digits).len()
                    + 1,
            },
        }
    }

    /// What [`spawn`](Self::spawn) needs of an [`ExecBuf`].
    pub fn needs(&self) -> Needs {
        let n = self.fds.len();
        let kept_env = self.env.iter().filter(|e| self.keeps(e.to_bytes())).count();
        let vars = ListenVars::needs(n, self.names, self.pidfd_id);
        let dog = self.watchdog_needs();
        let ptrs = self.argv.len() + 1 + kept_env + vars.ptrs + dog.ptrs + 1;
        Needs {
            ptrs,
            bytes: 4 * n + vars.bytes + dog.bytes,
        }
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
    /// The child's steps, in order: signal dispositions to the default; `setsid` or
    /// `setpgid`; the fds placed at 3, 4, ... and stdin/stdout/stderr at 0, 1, 2; the
    /// resource limits; the umask; the groups, gid and uid; the parent death signal; the
    /// working directory; `LISTEN_PID` (and `LISTEN_PIDFDID`) filled in; the signal
    /// mask; `execve`. The first that fails is the [`SpawnStep`] reported.
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
    /// otherwise). An fd already at its own target only loses close-on-exec. A stdio
    /// source below 3 + n that is not already at its own fd (0, 1 or 2) is moved above
    /// 3 + n first too ([`SpawnStep::Stdio`] if that fails), and `/dev/null` takes one
    /// more fd in the caller while the spawn runs.
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
        check_names(n, self.names)?;
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

        // The bytes: [scratch: 4 per fd][the LISTEN_* variables][WATCHDOG_PID=<slot>\0
        // WATCHDOG_USEC=n\0].
        let scratch_len = 4 * n;
        let vars_len = ListenVars::needs(n, self.names, self.pidfd_id).bytes;
        let layout = {
            let vars = buf.bytes.get_mut(scratch_len..).unwrap_or_default();
            lay_out(vars, n, self.names, self.pidfd_id)
        };
        let dog_at = scratch_len + vars_len;
        let dog_usec_at = dog_at + WATCHDOG_PID_PREFIX.len() + PID_SLOT;
        if let Some(usec) = self.watchdog_usec {
            let mut w = Writer {
                bytes: buf.bytes.get_mut(dog_at..).unwrap_or_default(),
                len: 0,
            };
            let mut digits = [0u8; 20];
            w.put(WATCHDOG_PID_PREFIX);
            w.put(&[0; PID_SLOT]);
            w.put(WATCHDOG_USEC_PREFIX);
            w.put(decimal(usec, &mut digits));
            w.put(b"\0");
        }
        let base = buf.bytes.as_mut_ptr();
        let vars_base = base.wrapping_add(scratch_len);
        let watchdog_pid = self
            .watchdog_usec
            .map(|_| base.wrapping_add(dog_at + WATCHDOG_PID_PREFIX.len()));

        // The pointers: argv, NULL, the environment kept, the variables, NULL.
        let envp_at = self.argv.len() + 1;
        let mut p = 0;
        let mut pidfdid_slot = None;
        {
            let mut push = |ptr: *const u8| {
                if let Some(slot) = buf.ptrs.get_mut(p) {
                    *slot = ptr;
                }
                p += 1;
                p - 1
            };
            for arg in self.argv {
                push(arg.as_ptr().cast());
            }
            push(ptr::null());
            for entry in self.env.iter().filter(|e| self.keeps(e.to_bytes())) {
                push(entry.as_ptr().cast());
            }
            // Within the bytes, laid out above.
            if self.watchdog_usec.is_some() {
                push(base.wrapping_add(dog_at));
                push(base.wrapping_add(dog_usec_at));
            }
            // The offsets are within the variables' bytes, laid out above.
            for at in [Some(layout.pid_at), Some(layout.fds_at), layout.names_at]
                .into_iter()
                .flatten()
            {
                push(vars_base.wrapping_add(at));
            }
            if let Some(at) = layout.pidfdid_at {
                pidfdid_slot = Some(push(vars_base.wrapping_add(at)));
            }
            push(ptr::null());
        }

        // /dev/null, if asked for, and the stdio sources as raw numbers (-1: inherit).
        let null = if self.stdio.iter().any(|s| matches!(s, Stdio::Null)) {
            Some(crate::fd::openat(None, c"/dev/null", sys::O_RDWR, 0)?)
        } else {
            None
        };
        let stdio = self.stdio.map(|s| match s {
            Stdio::Inherit => -1,
            Stdio::Null => null.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
            Stdio::Fd(fd) => fd.as_raw_fd(),
        });

        let (err_r, err_w) = fd::pipe()?;
        let ptrs = buf.ptrs.as_mut_ptr();
        let child = InChild {
            fds: self.fds,
            scratch: base,
            vars: vars_base,
            layout,
            floor,
            path: self.path.as_ptr().cast(),
            argv: ptrs,
            // `envp_at` < the pointers pushed, all within `ptrs`.
            envp: ptrs.wrapping_add(envp_at),
            pidfdid_slot: pidfdid_slot.map(|i| ptrs.wrapping_add(i)),
            watchdog_pid,
            report: err_w.as_raw_fd(),
            mask: self.mask,
            stdio,
            session: self.session,
            pgroup: self.pgroup,
            rlimits: self.rlimits,
            umask: self.umask,
            groups: self.sets_groups(),
            uid: self.uid,
            gid: self.gid,
            pdeathsig: self.pdeathsig,
            parent: sys::getpid(),
            cwd: self.cwd,
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
        drop(null);
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

/// The names' checks, before anything starts.
fn check_names(n: usize, names: Option<&[&[u8]]>) -> Result<(), ActivationError> {
    let Some(names) = names else {
        return Ok(());
    };
    if names.len() != n {
        return Err(ActivationError::NameCountMismatch {
            fds: n,
            names: names.len(),
        });
    }
    if let Some(index) = names.iter().position(|name| !is_valid_fd_name(name)) {
        return Err(ActivationError::InvalidFdName { index });
    }
    // Empty names are valid (systemd's `fdname_is_valid`), and `a::b` keeps one between
    // two others, but `LISTEN_FDNAMES=` alone is read by libsystemd's
    // `sd_listen_fds_with_names` as no names, not one empty name.
    if let [name] = names {
        if name.is_empty() {
            return Err(ActivationError::InvalidFdName { index: 0 });
        }
    }
    Ok(())
}

/// Where each variable sits in the bytes [`lay_out`] wrote.
#[derive(Clone, Copy, Debug)]
struct Layout {
    pid_at: usize,
    fds_at: usize,
    names_at: Option<usize>,
    pidfdid_at: Option<usize>,
}

/// Writes `LISTEN_PID=<slot>`, `LISTEN_FDS=n`, `LISTEN_FDNAMES=...` and
/// `LISTEN_PIDFDID=<slot>`, each NUL-terminated, the slots zeroed; `bytes` has room
/// (checked by the callers against [`ListenVars::needs`]).
fn lay_out(bytes: &mut [u8], n: usize, names: Option<&[&[u8]]>, pidfd_id: bool) -> Layout {
    let mut w = Writer { bytes, len: 0 };
    let pid_at = w.len;
    w.put(PID_PREFIX);
    w.put(&[0; PID_SLOT]);
    let fds_at = w.len;
    let mut digits = [0u8; 20];
    w.put(FDS_PREFIX);
    w.put(decimal(n as u64, &mut digits));
    w.put(b"\0");
    let names_at = names.map(|names| {
        let at = w.len;
        w.put(NAMES_PREFIX);
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                w.put(b":");
            }
            w.put(name);
        }
        w.put(b"\0");
        at
    });
    let pidfdid_at = pidfd_id.then(|| {
        let at = w.len;
        w.put(PIDFDID_PREFIX);
        w.put(&[0; PIDFDID_SLOT]);
        at
    });
    Layout {
        pid_at,
        fds_at,
        names_at,
        pidfdid_at,
    }
}

/// Writes `value`'s digits and a NUL at `dst`, which has room for `room` bytes.
///
/// # Safety
/// `dst` is writable for `room` bytes.
unsafe fn put_digits(dst: *mut u8, room: usize, value: u64) {
    let mut digits = [0u8; 20];
    let d = decimal(value, &mut digits);
    let len = d.len().min(room - 1);
    // SAFETY: `len` + 1 <= `room`.
    unsafe {
        ptr::copy_nonoverlapping(d.as_ptr(), dst, len);
        *dst.add(len) = 0;
    }
}

/// The `LISTEN_*` variables a manager sets for a service it starts with sockets, built
/// without allocating in a buffer of the caller's, for a spawner of the caller's own (the
/// same ones [`Spawn`] sets): `LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES` if names are
/// given, and `LISTEN_PIDFDID` if asked for and known.
///
/// Build it before `fork`; in the child, [`set_for_this_process`](Self::set_for_this_process)
/// fills in the child's pid and pidfs id (raw syscalls only, nothing allocated), then
/// [`entries`](Self::entries) are the `envp` entries to add.
///
/// ```
/// use baremsg::activation::ListenVars;
/// # fn main() -> Result<(), baremsg::activation::ActivationError> {
/// let names: &[&[u8]] = &[b"http", b"admin"];
/// let mut buf = [0u8; 128];
/// assert!(ListenVars::needs(2, Some(names), true).bytes <= buf.len());
/// let mut vars = ListenVars::new(&mut buf, 2, Some(names), true)?;
/// vars.set_pid(4242);
/// vars.set_pidfd_id(Some(77));
/// let entries: Vec<&[u8]> = vars.entries().map(|e| e.to_bytes()).collect();
/// assert_eq!(
///     entries,
///     [&b"LISTEN_PID=4242"[..], b"LISTEN_FDS=2", b"LISTEN_FDNAMES=http:admin", b"LISTEN_PIDFDID=77"]
/// );
/// # Ok(())
/// # }
/// ```
pub struct ListenVars<'b> {
    bytes: &'b mut [u8],
    layout: Layout,
    pidfd_id_known: bool,
}

impl<'b> ListenVars<'b> {
    /// The bytes the variables take (`bytes`) and how many `envp` entries they can be at
    /// most (`ptrs`), for `fds` fds with `names`, with `LISTEN_PIDFDID` or without.
    pub fn needs(fds: usize, names: Option<&[&[u8]]>, pidfd_id: bool) -> Needs {
        let mut digits = [0u8; 20];
        let mut bytes = PID_PREFIX.len()
            + PID_SLOT
            + FDS_PREFIX.len()
            + decimal(fds as u64, &mut digits).len()
            + 1;
        let mut ptrs = 2;
        if let Some(names) = names {
            let joined: usize =
                names.iter().map(|n| n.len()).sum::<usize>() + names.len().saturating_sub(1);
            bytes += NAMES_PREFIX.len() + joined + 1;
            ptrs += 1;
        }
        if pidfd_id {
            bytes += PIDFDID_PREFIX.len() + PIDFDID_SLOT;
            ptrs += 1;
        }
        Needs { ptrs, bytes }
    }

    /// Lays the variables out in `buf` for `fds` fds (from fd 3 on) with `names` (one per
    /// fd, checked as [`Spawn::names`] checks them) and a slot for `LISTEN_PIDFDID` if
    /// `pidfd_id`. `LISTEN_PID` is empty until [`set_pid`](Self::set_pid).
    /// [`ActivationError::ExecBufTooSmall`] (its `bytes`) if `buf` is too small.
    pub fn new(
        buf: &'b mut [u8],
        fds: usize,
        names: Option<&[&[u8]]>,
        pidfd_id: bool,
    ) -> Result<Self, ActivationError> {
        check_names(fds, names)?;
        let needs = Self::needs(fds, names, pidfd_id);
        if needs.bytes > buf.len() {
            return Err(ActivationError::ExecBufTooSmall {
                needs,
                have: Needs {
                    ptrs: needs.ptrs,
                    bytes: buf.len(),
                },
            });
        }
        let layout = lay_out(buf, fds, names, pidfd_id);
        Ok(Self {
            bytes: buf,
            layout,
            pidfd_id_known: false,
        })
    }

    /// Sets `LISTEN_PID`.
    pub fn set_pid(&mut self, pid: i32) {
        let at = self.layout.pid_at + PID_PREFIX.len();
        if let Some(slot) = self.bytes.get_mut(at..at + PID_SLOT) {
            // SAFETY: the slot is PID_SLOT writable bytes.
            unsafe { put_digits(slot.as_mut_ptr(), PID_SLOT, pid.max(0) as u64) };
        }
    }

    /// Sets `LISTEN_PIDFDID` (if laid out with its slot); `None` leaves it out of
    /// [`entries`](Self::entries).
    pub fn set_pidfd_id(&mut self, id: Option<u64>) {
        let Some(at) = self.layout.pidfdid_at else {
            return;
        };
        let at = at + PIDFDID_PREFIX.len();
        self.pidfd_id_known = false;
        if let (Some(id), Some(slot)) = (id, self.bytes.get_mut(at..at + PIDFDID_SLOT)) {
            // SAFETY: the slot is PIDFDID_SLOT writable bytes.
            unsafe { put_digits(slot.as_mut_ptr(), PIDFDID_SLOT, id) };
            self.pidfd_id_known = true;
        }
    }

    /// In the forked child: `LISTEN_PID` to its own pid, `LISTEN_PIDFDID` to its own
    /// pidfs id ([`process::own_pidfd_id`](crate::process::own_pidfd_id)), if laid out.
    /// Raw syscalls only, nothing allocated.
    pub fn set_for_this_process(&mut self) {
        self.set_pid(sys::getpid());
        if self.layout.pidfdid_at.is_some() {
            self.set_pidfd_id(crate::process::own_pidfd_id().ok().flatten());
        }
    }

    /// The `KEY=VALUE` entries, NUL-terminated, in order: `LISTEN_PID`, `LISTEN_FDS`,
    /// `LISTEN_FDNAMES` (if names were given), `LISTEN_PIDFDID` (if set).
    pub fn entries(&self) -> impl Iterator<Item = &CStr> + '_ {
        let pidfdid = self.layout.pidfdid_at.filter(|_| self.pidfd_id_known);
        [
            Some(self.layout.pid_at),
            Some(self.layout.fds_at),
            self.layout.names_at,
            pidfdid,
        ]
        .into_iter()
        .flatten()
        .filter_map(|at| CStr::from_bytes_until_nul(self.bytes.get(at..)?).ok())
    }
}

impl fmt::Debug for ListenVars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
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
    vars: *mut u8,
    layout: Layout,
    floor: RawFd,
    path: *const u8,
    argv: *const *const u8,
    envp: *const *const u8,
    pidfdid_slot: Option<*mut *const u8>,
    watchdog_pid: Option<*mut u8>,
    report: RawFd,
    mask: Sigset,
    stdio: [RawFd; 3],
    session: bool,
    pgroup: Option<i32>,
    rlimits: &'a [(i32, Rlimit)],
    umask: Option<u32>,
    groups: Option<&'a [u32]>,
    uid: Option<u32>,
    gid: Option<u32>,
    pdeathsig: i32,
    parent: i32,
    cwd: Option<&'a CStr>,
}

impl InChild<'_> {
    /// Whether `fd` is one of the targets, 3 .. 3 + n.
    fn is_target(&self, fd: RawFd) -> bool {
        (LISTEN_FDS_START..self.floor).contains(&fd)
    }

    /// Whether placing something will overwrite `fd`: a target, or a stdio fd set.
    fn is_overwritten(&self, fd: RawFd) -> bool {
        self.is_target(fd) || (0..3).contains(&fd) && self.stdio[fd as usize] >= 0
    }

    /// In the forked child (all signals blocked): reset the signals, place the fds, set
    /// what was asked, fill in the pid, set the mask, exec. Raw syscalls only.
    fn run(self) -> ! {
        // The report pipe may sit where an fd must go: move it above them first. If that
        // fails, nothing has been moved yet and the original still works.
        let report = if self.is_overwritten(self.report) {
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

        let session = if self.session {
            sys::setsid().map(drop)
        } else if let Some(pgid) = self.pgroup {
            sys::setpgid(0, pgid)
        } else {
            Ok(())
        };
        if let Err(e) = session {
            fail(report, SpawnStep::Session, e);
        }

        // Stdio sources that placing would overwrite (below 3 + n, not at their own fd)
        // go above 3 + n first.
        let mut stdio = self.stdio;
        for (i, src) in stdio.iter_mut().enumerate() {
            if *src >= 0 && *src < self.floor && *src != i as RawFd {
                // SAFETY: F_DUPFD_CLOEXEC makes a new fd in this process.
                match unsafe { sys::fcntl(*src, sys::F_DUPFD_CLOEXEC, self.floor as usize) } {
                    Ok(copy) => *src = copy as RawFd,
                    Err(e) => fail(report, SpawnStep::Stdio, e),
                }
            }
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
            if let Err(e) = place(from, target) {
                fail(report, SpawnStep::PlaceFds, e);
            }
        }
        for (i, &from) in stdio.iter().enumerate() {
            if from >= 0 {
                if let Err(e) = place(from, i as RawFd) {
                    fail(report, SpawnStep::Stdio, e);
                }
            }
        }

        for (resource, limit) in self.rlimits {
            // SAFETY: `limit` is readable; the old limit is not asked for.
            if let Err(e) = unsafe { sys::prlimit(0, *resource, limit, ptr::null_mut()) } {
                fail(report, SpawnStep::Limits, e);
            }
        }
        if let Some(mask) = self.umask {
            sys::umask(mask);
        }

        // Groups first, then gid, then uid: each step still has the privilege it needs.
        // SAFETY: this single-threaded child's credentials are its own business.
        let creds = unsafe {
            self.groups
                .map_or(Ok(()), |g| sys::setgroups(g))
                .and_then(|()| self.gid.map_or(Ok(()), |g| sys::setresgid(g, g, g)))
                .and_then(|()| self.uid.map_or(Ok(()), |u| sys::setresuid(u, u, u)))
        };
        if let Err(e) = creds {
            fail(report, SpawnStep::Credentials, e);
        }

        // After the credentials, which clear it; then a parent already gone would never
        // send it.
        if self.pdeathsig != 0 {
            // SAFETY: integer arguments only.
            let set =
                unsafe { sys::prctl(sys::PR_SET_PDEATHSIG, self.pdeathsig as usize, 0, 0, 0) };
            if let Err(e) = set {
                fail(report, SpawnStep::ParentDeath, e);
            }
            if sys::getppid() != self.parent {
                fail(report, SpawnStep::ParentDeath, Errno::ESRCH);
            }
        }

        if let Some(dir) = self.cwd {
            if let Err(e) = sys::chdir(dir) {
                fail(report, SpawnStep::Chdir, e);
            }
        }

        // SAFETY: the slots are within the variables' bytes, laid out by `lay_out`.
        unsafe {
            put_digits(
                self.vars.add(self.layout.pid_at + PID_PREFIX.len()),
                PID_SLOT,
                sys::getpid() as u64,
            );
        }
        if let Some(slot) = self.watchdog_pid {
            // SAFETY: the slot is PID_SLOT bytes within the buffer, laid out by `start`.
            unsafe { put_digits(slot, PID_SLOT, sys::getpid() as u64) };
        }
        if let (Some(at), Some(slot)) = (self.layout.pidfdid_at, self.pidfdid_slot) {
            match crate::process::own_pidfd_id().ok().flatten() {
                // SAFETY: as above.
                Some(id) => unsafe {
                    put_digits(self.vars.add(at + PIDFDID_PREFIX.len()), PIDFDID_SLOT, id)
                },
                // The entry is the last before the null: the null ends envp here.
                // SAFETY: `slot` is one of the pointers laid out in `ptrs`.
                None => unsafe { *slot = ptr::null() },
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

/// In the child: puts `from` at `target` without close-on-exec (`dup3` with no flags: a
/// copy made above 3 + n, being close-on-exec, does not survive `execve`); an fd already
/// at its target only loses close-on-exec.
fn place(from: RawFd, target: RawFd) -> Result<(), Errno> {
    // SAFETY: both are fds of this process; the target is replaced atomically.
    unsafe {
        if from == target {
            sys::fcntl(target, sys::F_SETFD, 0).map(drop)
        } else {
            sys::dup3(from, target, 0).map(drop)
        }
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
    let step = SpawnStep::from_raw(i32::from_ne_bytes([msg[0], msg[1], msg[2], msg[3]]));
    let errno = Errno::from_raw(i32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]));
    Err(ActivationError::Spawn { step, errno })
}

fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: `pid` is our child; nobody else waits for it before we return.
    while let Err(Errno::EINTR) = unsafe { sys::wait4(pid, &mut status, 0) } {}
}
