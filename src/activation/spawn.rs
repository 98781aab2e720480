//! The manager side: starting a program with sockets at fds 3, 4, ... and the
//! activation variables set, without allocating.

use core::ffi::CStr;
use core::fmt;
use core::ptr;

use super::{is_listen_var, ActivationError, LISTEN_FDS_START};
use crate::fd::{self, AsFd, AsRawFd, BorrowedFd, RawFd};
use crate::notify::{decimal, is_valid_fd_name};
use crate::sys;
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
pub enum SpawnStep {
    /// Duplicating the sockets above fd 3 + n, out of the way (`fcntl(F_DUPFD_CLOEXEC)`;
    /// `EINVAL` or `EMFILE`: the fd limit is too low).
    MoveFds,
    /// Putting them at fds 3, 4, ... (`dup3`).
    PlaceFds,
    /// `execve` itself (`ENOENT`, `EACCES`, `ENOEXEC`, ...).
    Exec,
}

/// A program to start with sockets passed the way systemd passes them: `fork`, then in
/// the child the sockets move to fds 3, 4, ... (cleared of close-on-exec), and `execve`
/// runs the program with `LISTEN_FDS`, `LISTEN_PID` (the child's own pid) and, if names
/// are given, `LISTEN_FDNAMES` added to the environment.
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

    /// Starts the program; returns the child's pid, which the caller waits for
    /// (`wait4`).
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
    pub fn spawn<const PTRS: usize, const BYTES: usize>(
        &self,
        buf: &mut ExecBuf<PTRS, BYTES>,
    ) -> Result<i32, ActivationError> {
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
        let child = Child {
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
        };
        // SAFETY: the child runs `Child::run`, which makes raw syscalls only and never
        // returns.
        let pid = match unsafe { sys::fork() } {
            Ok(0) => child.run(),
            Ok(pid) => pid,
            Err(e) => return Err(ActivationError::Sys(e.into())),
        };
        drop(err_w);
        wait_for_exec(pid, err_r.as_fd())
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
struct Child<'a> {
    fds: &'a [BorrowedFd<'a>],
    scratch: *mut u8,
    pid_digits: *mut u8,
    floor: RawFd,
    path: *const u8,
    argv: *const *const u8,
    envp: *const *const u8,
    report: RawFd,
}

impl Child<'_> {
    /// In the forked child: fill in the pid, place the fds, exec. Raw syscalls only.
    fn run(self) -> ! {
        // The report pipe may sit where an fd must go: move it above them first. If that
        // fails, nothing has been moved yet and the original still works.
        // SAFETY: F_DUPFD_CLOEXEC makes a new fd in this (child) process.
        let report =
            match unsafe { sys::fcntl(self.report, sys::F_DUPFD_CLOEXEC, self.floor as usize) } {
                Ok(fd) => fd as RawFd,
                Err(e) => fail(self.report, SpawnStep::MoveFds, e),
            };

        let mut digits = [0u8; 20];
        let pid = decimal(sys::getpid() as u64, &mut digits);
        let len = pid.len().min(PID_SLOT - 1);
        // SAFETY: the slot holds PID_SLOT bytes; `len` + 1 fit.
        unsafe {
            ptr::copy_nonoverlapping(pid.as_ptr(), self.pid_digits, len);
            *self.pid_digits.add(len) = 0;
        }

        // Every source above 3 + n first, so that placing one cannot overwrite another
        // that is still to be placed.
        for (i, fd) in self.fds.iter().enumerate() {
            // SAFETY: the source is open (borrowed in the parent at fork time).
            match unsafe { sys::fcntl(fd.as_raw_fd(), sys::F_DUPFD_CLOEXEC, self.floor as usize) } {
                // SAFETY: scratch has 4 bytes per fd.
                Ok(tmp) => unsafe {
                    ptr::write_unaligned(self.scratch.cast::<i32>().add(i), tmp as i32)
                },
                Err(e) => fail(report, SpawnStep::MoveFds, e),
            }
        }
        for i in 0..self.fds.len() {
            // SAFETY: written above.
            let tmp = unsafe { ptr::read_unaligned(self.scratch.cast::<i32>().add(i)) };
            // dup3 with no flags: the placed fd survives execve; the temporary, being
            // close-on-exec, does not.
            // SAFETY: both are fds of this process; the target is replaced atomically.
            if let Err(e) = unsafe { sys::dup3(tmp, LISTEN_FDS_START + i as RawFd, 0) } {
                fail(report, SpawnStep::PlaceFds, e);
            }
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
