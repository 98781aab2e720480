//! Signals as the kernel sees them: its signal set and its `struct sigaction` (not
//! libc's, which are bigger and laid out otherwise), `rt_sigprocmask(2)` and
//! `rt_sigaction(2)`.

use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::check_unit;
use super::{check_int, fd_arg};
use crate::arch::{nr, syscall4};
use crate::Errno;

/// The highest signal number (the kernel's `_NSIG`): 1..=31 are the classic signals,
/// 32..=64 the real-time ones.
pub const NSIG: i32 = 64;

/// `rt_sigprocmask` `how`: add the set to the mask.
pub const SIG_BLOCK: i32 = 0;
/// `rt_sigprocmask` `how`: remove the set from the mask.
pub const SIG_UNBLOCK: i32 = 1;
/// `rt_sigprocmask` `how`: make the set the mask.
pub const SIG_SETMASK: i32 = 2;

/// [`Sigaction::sa_handler`]: the default action.
pub const SIG_DFL: usize = 0;
/// [`Sigaction::sa_handler`]: ignore the signal.
pub const SIG_IGN: usize = 1;

/// The kernel's `sigset_t`: bit `n - 1` stands for signal `n`, 1..=[`NSIG`]. 8 bytes,
/// the `sigsetsize` the `rt_sig*` calls take, aligned as the kernel's `unsigned long
/// sig[]`: to 4 on the 32-bit targets (where a `u64` alone would be aligned to 8 on
/// arm), to 8 on the 64-bit ones.
#[cfg_attr(target_pointer_width = "32", repr(C, packed(4)))]
#[cfg_attr(target_pointer_width = "64", repr(C))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigset(u64);

impl Sigset {
    /// No signal.
    pub const EMPTY: Self = Self(0);
    /// Every signal (the kernel never blocks `SIGKILL` and `SIGSTOP`, whatever a mask says).
    pub const FULL: Self = Self(u64::MAX);

    /// The set whose bits are `bits` (bit `n - 1`: signal `n`).
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The bits (as `SigBlk`, `SigIgn`, ... of `/proc/<pid>/status` show them, in hex).
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The bit of signal `sig`; 0 for a number outside 1..=64.
    const fn bit(sig: i32) -> u64 {
        if sig >= 1 && sig <= NSIG {
            1 << (sig - 1)
        } else {
            0
        }
    }

    /// This set with `sig` added (a number outside 1..=64 adds nothing).
    pub const fn with(self, sig: i32) -> Self {
        Self(self.0 | Self::bit(sig))
    }

    /// This set without `sig`.
    pub const fn without(self, sig: i32) -> Self {
        Self(self.0 & !Self::bit(sig))
    }

    /// Whether `sig` is in the set (never for a number outside 1..=64).
    pub const fn contains(self, sig: i32) -> bool {
        self.0 & Self::bit(sig) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The kernel's `struct sigaction`, as `rt_sigaction(2)` reads and writes it: the
/// handler, the flags, the restorer, then the mask (libc's struct puts the mask second
/// and makes it 128 bytes).
///
/// Meant for reading dispositions and setting [`SIG_DFL`] or [`SIG_IGN`]. Installing a
/// handler function takes more than this struct: on x86 and x86_64 the kernel returns
/// from a handler through `sa_restorer` (`SA_RESTORER`, a function calling
/// `rt_sigreturn`), which baremsg does not provide.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigaction {
    /// [`SIG_DFL`], [`SIG_IGN`] or the address of a handler.
    pub sa_handler: usize,
    /// `SA_*` flags (`unsigned long`).
    pub sa_flags: usize,
    /// The function a handler returns through (`SA_RESTORER`). riscv64's kernel struct
    /// has no such field: signals return through the vDSO there.
    #[cfg(not(target_arch = "riscv64"))]
    pub sa_restorer: usize,
    /// Signals blocked while the handler runs.
    pub sa_mask: Sigset,
}

impl Sigaction {
    /// The default action, no flags, empty mask.
    pub const DEFAULT: Self = Self {
        sa_handler: SIG_DFL,
        sa_flags: 0,
        #[cfg(not(target_arch = "riscv64"))]
        sa_restorer: 0,
        sa_mask: Sigset::EMPTY,
    };
}

const_assert_eq!(size_of::<Sigset>(), 8);
// The kernel's struct on each target: three words (handler, flags, restorer) then the
// 8-byte mask on the targets with SA_RESTORER; riscv64 has no restorer.
#[cfg(all(target_pointer_width = "64", not(target_arch = "riscv64")))]
const _: () = {
    const_assert_eq!(size_of::<Sigaction>(), 32);
    const_assert_eq!(offset_of!(Sigaction, sa_flags), 8);
    const_assert_eq!(offset_of!(Sigaction, sa_restorer), 16);
    const_assert_eq!(offset_of!(Sigaction, sa_mask), 24);
};
#[cfg(target_arch = "riscv64")]
const _: () = {
    const_assert_eq!(size_of::<Sigaction>(), 24);
    const_assert_eq!(offset_of!(Sigaction, sa_flags), 8);
    const_assert_eq!(offset_of!(Sigaction, sa_mask), 16);
};
// x86 and arm: four-byte words, the mask (two of them) right after the restorer.
#[cfg(target_pointer_width = "32")]
const _: () = {
    const_assert_eq!(size_of::<Sigaction>(), 20);
    const_assert_eq!(offset_of!(Sigaction, sa_flags), 4);
    const_assert_eq!(offset_of!(Sigaction, sa_restorer), 8);
    const_assert_eq!(offset_of!(Sigaction, sa_mask), 12);
};

/// `rt_sigprocmask(2)`: changes the calling thread's signal mask by `how`
/// ([`SIG_BLOCK`], [`SIG_UNBLOCK`], [`SIG_SETMASK`]) with `set`, and stores the mask it
/// had in `old`. Either pointer may be null (`set` null: only read the mask).
///
/// # Safety
/// `set` is null or readable, `old` null or writable. Unblocking a signal that other
/// code of the program keeps blocked (to read it from a signalfd, say) is its business.
#[inline]
pub unsafe fn rt_sigprocmask(how: i32, set: *const Sigset, old: *mut Sigset) -> Result<(), Errno> {
    // SAFETY: the caller's contract; the kernel reads and writes `sigsetsize` = 8 bytes.
    check_unit(unsafe {
        syscall4(
            nr::RT_SIGPROCMASK,
            how as usize,
            set as usize,
            old as usize,
            size_of::<Sigset>(),
        )
    })
}

/// `rt_sigaction(2)`: sets the disposition of signal `sig` from `act` and stores the
/// one it had in `old`. Either pointer may be null (`act` null: only read it).
/// `SIGKILL` and `SIGSTOP` cannot be changed (`EINVAL`).
///
/// # Safety
/// `act` is null or readable, `old` null or writable. A handler `act` names must be a
/// function that is sound to run at any point of any thread, with the restorer the
/// architecture needs (see [`Sigaction`]); [`SIG_DFL`] and [`SIG_IGN`] take no more
/// than the pointers' validity.
#[inline]
pub unsafe fn rt_sigaction(
    sig: i32,
    act: *const Sigaction,
    old: *mut Sigaction,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract; the kernel reads and writes one kernel sigaction
    // and takes `sigsetsize` = 8.
    check_unit(unsafe {
        syscall4(
            nr::RT_SIGACTION,
            sig as usize,
            act as usize,
            old as usize,
            size_of::<Sigset>(),
        )
    })
}

/// `SFD_CLOEXEC`: the signalfd is close-on-exec.
pub const SFD_CLOEXEC: i32 = 0o2000000;
/// `SFD_NONBLOCK`: reads fail with `EAGAIN` when no signal is pending.
pub const SFD_NONBLOCK: i32 = 0o4000;

/// `struct signalfd_siginfo` (128 bytes, the same on every architecture): what a read
/// from a signalfd returns for one signal.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalfdSiginfo {
    /// The signal.
    pub ssi_signo: u32,
    /// `si_errno` (unused by the kernel's own signals).
    pub ssi_errno: i32,
    /// `si_code`: `SI_USER` (0) for `kill`, `SI_TKILL`, `CLD_EXITED` for `SIGCHLD`, ...
    pub ssi_code: i32,
    /// The sending process (`kill`), or the child (`SIGCHLD`).
    pub ssi_pid: u32,
    /// The sender's real user id.
    pub ssi_uid: u32,
    /// The fd (`SIGIO`).
    pub ssi_fd: i32,
    /// The kernel timer id (POSIX timers).
    pub ssi_tid: u32,
    /// The band event (`SIGIO`).
    pub ssi_band: u32,
    /// The overrun count (POSIX timers).
    pub ssi_overrun: u32,
    /// The trap number.
    pub ssi_trapno: u32,
    /// The exit status or signal (`SIGCHLD`).
    pub ssi_status: i32,
    /// The integer sent with `sigqueue`.
    pub ssi_int: i32,
    /// The pointer sent with `sigqueue`.
    pub ssi_ptr: u64,
    /// User CPU time (`SIGCHLD`).
    pub ssi_utime: u64,
    /// System CPU time (`SIGCHLD`).
    pub ssi_stime: u64,
    /// The faulting address (hardware signals).
    pub ssi_addr: u64,
    /// The rest of the 128 bytes.
    pub pad: [u8; 48],
}

impl Default for SignalfdSiginfo {
    fn default() -> Self {
        Self {
            ssi_signo: 0,
            ssi_errno: 0,
            ssi_code: 0,
            ssi_pid: 0,
            ssi_uid: 0,
            ssi_fd: 0,
            ssi_tid: 0,
            ssi_band: 0,
            ssi_overrun: 0,
            ssi_trapno: 0,
            ssi_status: 0,
            ssi_int: 0,
            ssi_ptr: 0,
            ssi_utime: 0,
            ssi_stime: 0,
            ssi_addr: 0,
            pad: [0; 48],
        }
    }
}

const_assert_eq!(size_of::<SignalfdSiginfo>(), 128);
const_assert_eq!(offset_of!(SignalfdSiginfo, ssi_status), 40);
const_assert_eq!(offset_of!(SignalfdSiginfo, ssi_ptr), 48);
const_assert_eq!(offset_of!(SignalfdSiginfo, ssi_addr), 72);

/// `signalfd4(2)`: a new signalfd (`fd` -1) accepting the signals of `mask`, or changes
/// the mask of signalfd `fd`. The signals must be blocked (`rt_sigprocmask`), or they
/// are delivered as usual rather than read.
///
/// # Safety
/// The caller owns a new fd.
#[inline]
pub unsafe fn signalfd4(fd: i32, mask: &Sigset, flags: i32) -> Result<i32, Errno> {
    // SAFETY: `mask` is readable for its 8 bytes.
    check_int(unsafe {
        syscall4(
            nr::SIGNALFD4,
            fd_arg(fd),
            mask as *const Sigset as usize,
            size_of::<Sigset>(),
            flags as usize,
        )
    })
}
