//! Waiting for many things at once: `epoll(7)` and `timerfd_create(2)`.

use super::{check, check_int, check_unit, fd_arg, Timespec};
use crate::arch::{nr, syscall1, syscall2, syscall4, syscall6};
use crate::Errno;

/// `EPOLL_CLOEXEC`: the epoll fd is close-on-exec.
pub const EPOLL_CLOEXEC: i32 = 0o2000000;
/// `epoll_ctl` operation: add an fd.
pub const EPOLL_CTL_ADD: i32 = 1;
/// `epoll_ctl` operation: remove an fd.
pub const EPOLL_CTL_DEL: i32 = 2;
/// `epoll_ctl` operation: change an fd's events.
pub const EPOLL_CTL_MOD: i32 = 3;
/// Readable.
pub const EPOLLIN: u32 = 0x1;
/// Urgent data.
pub const EPOLLPRI: u32 = 0x2;
/// Writable.
pub const EPOLLOUT: u32 = 0x4;
/// An error condition (always reported).
pub const EPOLLERR: u32 = 0x8;
/// Hung up (always reported).
pub const EPOLLHUP: u32 = 0x10;
/// The peer closed its writing half.
pub const EPOLLRDHUP: u32 = 0x2000;
/// Wake only one of several epoll fds waiting on the same fd.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// Disarm the fd after one event (re-arm with `EPOLL_CTL_MOD`).
pub const EPOLLONESHOT: u32 = 1 << 30;
/// Edge-triggered.
pub const EPOLLET: u32 = 1 << 31;

/// `struct epoll_event`: what an fd is watched for (or what happened), and the caller's
/// 64 bits that come back with each event. Packed on x86_64, as the kernel declares it
/// there (12 bytes; 16 on the targets that align `u64` to 8, 12 on i386).
#[cfg_attr(target_arch = "x86_64", repr(C, packed))]
#[cfg_attr(not(target_arch = "x86_64"), repr(C))]
#[derive(Clone, Copy, Default)]
pub struct EpollEvent {
    /// `EPOLLIN`, `EPOLLOUT`, ... (and on return what happened).
    pub events: u32,
    /// The caller's data, returned as given.
    pub data: u64,
}

impl core::fmt::Debug for EpollEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Copied out: a reference into a packed struct may be unaligned.
        let (events, data) = (self.events, self.data);
        f.debug_struct("EpollEvent")
            .field("events", &events)
            .field("data", &data)
            .finish()
    }
}

/// `epoll_create1(2)`: a new epoll instance.
///
/// # Safety
/// The caller owns the new fd.
#[inline]
pub unsafe fn epoll_create1(flags: i32) -> Result<i32, Errno> {
    // SAFETY: only an integer crosses.
    check_int(unsafe { syscall1(nr::EPOLL_CREATE1, flags as usize) })
}

/// `epoll_ctl(2)`: adds, changes or removes `fd` in the interest list of `epfd`
/// (`event` may be null for `EPOLL_CTL_DEL`).
///
/// # Safety
/// `event` is null or points to a readable `EpollEvent`.
#[inline]
pub unsafe fn epoll_ctl(
    epfd: i32,
    op: i32,
    fd: i32,
    event: *const EpollEvent,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        syscall4(
            nr::EPOLL_CTL,
            fd_arg(epfd),
            op as usize,
            fd_arg(fd),
            event as usize,
        )
    })
}

/// `epoll_pwait(2)` with the signal mask left alone: waits up to `timeout_ms`
/// milliseconds (-1: forever) for events, stores at most `events.len()` of them; returns
/// how many (0 on timeout).
///
/// # Safety
/// None in Rust's sense: the kernel only writes into `events`. (`unsafe` as the other
/// raw wrappers are: `epfd` is a bare number.)
#[inline]
pub unsafe fn epoll_pwait(
    epfd: i32,
    events: &mut [EpollEvent],
    timeout_ms: i32,
) -> Result<usize, Errno> {
    let max = events.len().min(i32::MAX as usize);
    // SAFETY: `events` is writable for `max` entries; a null mask leaves the mask alone.
    check(unsafe {
        syscall6(
            nr::EPOLL_PWAIT,
            fd_arg(epfd),
            events.as_mut_ptr() as usize,
            max,
            timeout_ms as isize as usize,
            0,
            0,
        )
    })
}

/// `TFD_CLOEXEC`: the timerfd is close-on-exec.
pub const TFD_CLOEXEC: i32 = 0o2000000;
/// `TFD_NONBLOCK`: reads fail with `EAGAIN` instead of waiting.
pub const TFD_NONBLOCK: i32 = 0o4000;
/// `timerfd_settime` flag: the expiry is an absolute time on the timer's clock.
pub const TFD_TIMER_ABSTIME: i32 = 1;

/// `struct __kernel_itimerspec`: a first expiry and an interval (zero: once), with
/// 64-bit seconds on every architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Itimerspec {
    /// The period after the first expiry; zero for a one-shot timer.
    pub it_interval: Timespec,
    /// The first expiry; zero disarms the timer.
    pub it_value: Timespec,
}

/// `timerfd_create(2)`: a timer on clock `clock` (`CLOCK_MONOTONIC`, ...) that an fd
/// reads.
///
/// # Safety
/// The caller owns the new fd.
#[inline]
pub unsafe fn timerfd_create(clock: i32, flags: i32) -> Result<i32, Errno> {
    // SAFETY: only integers cross.
    check_int(unsafe { syscall2(nr::TIMERFD_CREATE, clock as usize, flags as usize) })
}

/// `timerfd_settime(2)`: arms (or, with a zero `it_value`, disarms) the timer. On the
/// 32-bit targets this is `timerfd_settime64` (Linux 5.1), or the old call with 32-bit
/// times where the kernel lacks it; the old setting is not returned.
///
/// # Safety
/// `fd` is a timerfd (otherwise the kernel says `EINVAL`; nothing else can go wrong).
#[inline]
pub unsafe fn timerfd_settime(fd: i32, flags: i32, new: &Itimerspec) -> Result<(), Errno> {
    #[cfg(target_pointer_width = "64")]
    let nr = nr::TIMERFD_SETTIME;
    #[cfg(target_pointer_width = "32")]
    let nr = nr::TIMERFD_SETTIME64;
    let p = new as *const Itimerspec as usize;
    // SAFETY: `new` is readable; a null old value is allowed.
    let ret = unsafe { syscall4(nr, fd_arg(fd), flags as usize, p, 0) };
    match check_unit(ret) {
        #[cfg(target_pointer_width = "32")]
        // SAFETY: forwarded from the caller.
        Err(Errno::ENOSYS) => unsafe { timerfd_settime32(fd, flags, new) },
        r => r,
    }
}

/// `timerfd_settime` with the 32-bit `struct old_itimerspec32`, for kernels before 5.1.
///
/// # Safety
/// As [`timerfd_settime`].
#[cfg(target_pointer_width = "32")]
pub(crate) unsafe fn timerfd_settime32(fd: i32, flags: i32, new: &Itimerspec) -> Result<(), Errno> {
    let old = [
        super::time::Timespec32::from(&new.it_interval)?,
        super::time::Timespec32::from(&new.it_value)?,
    ];
    let p = old.as_ptr() as usize;
    // SAFETY: `old` is readable and laid out as the kernel's old_itimerspec32.
    check_unit(unsafe { syscall4(nr::TIMERFD_SETTIME, fd_arg(fd), flags as usize, p, 0) })
}

#[cfg(all(test, target_pointer_width = "32"))]
mod tests {
    use super::*;
    use crate::fd::{FromRawFd, OwnedFd};

    #[test]
    fn the_32_bit_timerfd_settime_arms_the_timer() {
        // SAFETY: the new fd is owned at once.
        let t = unsafe {
            OwnedFd::from_raw_fd(
                timerfd_create(super::super::CLOCK_MONOTONIC, TFD_CLOEXEC).unwrap(),
            )
        };
        let spec = Itimerspec {
            it_interval: Timespec::default(),
            it_value: Timespec {
                tv_sec: 0,
                tv_nsec: 2_000_000,
            },
        };
        use crate::fd::AsRawFd;
        // SAFETY: a timerfd.
        unsafe { timerfd_settime32(t.as_raw_fd(), 0, &spec) }.unwrap();
        let mut n = [0u8; 8];
        assert_eq!(crate::fd::read(crate::fd::AsFd::as_fd(&t), &mut n), Ok(8));
        assert_eq!(u64::from_ne_bytes(n), 1);
    }
}
