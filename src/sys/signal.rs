//! Signals as the kernel sees them: its signal set and its `struct sigaction` (not
//! libc's, which are bigger and laid out otherwise), `rt_sigprocmask(2)` and
//! `rt_sigaction(2)`.

use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::check_unit;
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

/// The kernel's `sigset_t`: bit `n - 1` stands for signal `n`, 1..=[`NSIG`]. 8 bytes
/// (aligned as two `unsigned long`s on x86, one on x86_64), the `sigsetsize` the
/// `rt_sig*` calls take.
#[repr(C)]
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
    /// The function a handler returns through (`SA_RESTORER`).
    pub sa_restorer: usize,
    /// Signals blocked while the handler runs.
    pub sa_mask: Sigset,
}

impl Sigaction {
    /// The default action, no flags, empty mask.
    pub const DEFAULT: Self = Self {
        sa_handler: SIG_DFL,
        sa_flags: 0,
        sa_restorer: 0,
        sa_mask: Sigset::EMPTY,
    };
}

const_assert_eq!(size_of::<Sigset>(), 8);
#[cfg(target_arch = "x86_64")]
const _: () = {
    const_assert_eq!(size_of::<Sigaction>(), 32);
    const_assert_eq!(offset_of!(Sigaction, sa_flags), 8);
    const_assert_eq!(offset_of!(Sigaction, sa_restorer), 16);
    const_assert_eq!(offset_of!(Sigaction, sa_mask), 24);
};
#[cfg(target_arch = "x86")]
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
