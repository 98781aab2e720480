//! Waiting for children by pid or by pidfd (`waitid(2)`), and signals through pidfds.

use core::mem::{offset_of, size_of};

use super::{check_int, check_unit, fd_arg};
use crate::arch::{nr, syscall4, syscall5};
use crate::Errno;

/// `waitid` id type: any child.
pub const P_ALL: i32 = 0;
/// `waitid` id type: the process group `id`.
pub const P_PGID: i32 = 2;
/// `waitid` id type: the process the pidfd `id` refers to (Linux 5.4+).
pub const P_PIDFD: i32 = 3;
/// `waitid` option: report children stopped by a signal.
pub const WSTOPPED: i32 = 2;
/// `waitid` option: report stopped children continued by `SIGCONT`.
pub const WCONTINUED: i32 = 8;
/// `waitid` option: leave the child waitable (do not reap it).
pub const WNOWAIT: i32 = 0x0100_0000;
/// `waitid` option (`__WALL`): wait for every kind of child, cloned threads included.
pub const WALL: i32 = 0x4000_0000;

/// `si_code` of a `SIGCHLD` `siginfo_t`: the child exited (`si_status`: its exit code).
pub const CLD_EXITED: i32 = 1;
/// The child was killed by signal `si_status`.
pub const CLD_KILLED: i32 = 2;
/// The child was killed by signal `si_status` and dumped core.
pub const CLD_DUMPED: i32 = 3;
/// The child was traced and trapped.
pub const CLD_TRAPPED: i32 = 4;
/// The child was stopped by signal `si_status`.
pub const CLD_STOPPED: i32 = 5;
/// The child was continued.
pub const CLD_CONTINUED: i32 = 6;

/// The kernel's `siginfo_t` (128 bytes), with accessors for the fields `waitid` fills:
/// `si_signo`, `si_code`, and the `_sigchld` part of the union (`si_pid`, `si_uid`,
/// `si_status`), which starts after three `int`s padded to the alignment of a pointer.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct Siginfo {
    bytes: [u8; 128],
}

/// Where the union of `siginfo_t` starts: after `si_signo`, `si_errno`, `si_code`, at
/// the alignment of a pointer (12 on the 32-bit targets, 16 on the 64-bit ones).
const UNION: usize = (3 * 4usize).div_ceil(size_of::<usize>()) * size_of::<usize>();

impl Siginfo {
    /// All zero: `si_pid` 0 after a `WNOHANG` wait that found no child.
    pub const fn zeroed() -> Self {
        Self { bytes: [0; 128] }
    }

    fn int_at(&self, offset: usize) -> i32 {
        let b = &self.bytes;
        i32::from_ne_bytes([b[offset], b[offset + 1], b[offset + 2], b[offset + 3]])
    }

    /// `si_signo` (`SIGCHLD` after `waitid`).
    pub fn signo(&self) -> i32 {
        self.int_at(0)
    }

    /// `si_code`: `CLD_EXITED`, `CLD_KILLED`, `CLD_DUMPED`, ...
    pub fn code(&self) -> i32 {
        self.int_at(8)
    }

    /// `si_pid`: the child (0: no child changed state, with `WNOHANG`).
    pub fn pid(&self) -> i32 {
        self.int_at(UNION)
    }

    /// `si_uid`: the child's real user id.
    pub fn uid(&self) -> u32 {
        self.int_at(UNION + 4) as u32
    }

    /// `si_status`: the exit code (`CLD_EXITED`) or the signal (otherwise).
    pub fn status(&self) -> i32 {
        self.int_at(UNION + 8)
    }
}

impl Default for Siginfo {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl core::fmt::Debug for Siginfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Siginfo")
            .field("signo", &self.signo())
            .field("code", &self.code())
            .field("pid", &self.pid())
            .field("status", &self.status())
            .finish()
    }
}

static_assertions::const_assert_eq!(size_of::<Siginfo>(), 128);
static_assertions::const_assert_eq!(offset_of!(Siginfo, bytes), 0);

/// `waitid(2)`: waits for a child selected by `idtype` (`P_PID`, `P_PIDFD`, `P_ALL`,
/// `P_PGID`) and `id`, for the state changes in `options` (`WEXITED`, `WSTOPPED`, ...,
/// with `WNOHANG`, `WNOWAIT`), and fills `info`. No resource usage is returned.
///
/// # Safety
/// As for `wait4`: reaping a child that another part of the program waits for steals
/// its status.
#[inline]
pub unsafe fn waitid(idtype: i32, id: i32, info: &mut Siginfo, options: i32) -> Result<(), Errno> {
    // SAFETY: `info` is 128 writable bytes; a null rusage is allowed.
    check_unit(unsafe {
        syscall5(
            nr::WAITID,
            idtype as usize,
            id as isize as usize,
            info as *mut Siginfo as usize,
            options as usize,
            0,
        )
    })
}

/// `pidfd_send_signal(2)` without a `siginfo_t`: sends `sig` to the process `pidfd`
/// refers to (Linux 5.1+); 0 checks that it can be signalled. `ESRCH` once it has
/// exited, even if its pid was reused.
///
/// # Safety
/// None in Rust's sense; the signal's effects are the caller's business.
#[inline]
pub unsafe fn pidfd_send_signal(pidfd: i32, sig: i32, flags: u32) -> Result<(), Errno> {
    // SAFETY: only integers cross; a null info is allowed.
    check_unit(unsafe {
        syscall4(
            nr::PIDFD_SEND_SIGNAL,
            fd_arg(pidfd),
            sig as usize,
            0,
            flags as usize,
        )
    })
}

/// `pidfd_getfd(2)`: a copy, close-on-exec, of fd `targetfd` of the process `pidfd`
/// refers to (Linux 5.6+; needs ptrace access to it).
///
/// # Safety
/// The caller owns the new fd.
#[inline]
pub unsafe fn pidfd_getfd(pidfd: i32, targetfd: i32, flags: u32) -> Result<i32, Errno> {
    // SAFETY: only integers cross.
    check_int(unsafe {
        crate::arch::syscall3(
            nr::PIDFD_GETFD,
            fd_arg(pidfd),
            fd_arg(targetfd),
            flags as usize,
        )
    })
}
