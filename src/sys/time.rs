//! Clocks and waiting on fds: the calls that carry a `struct timespec`.
//!
//! The kernel's own `struct __kernel_timespec` has 64-bit seconds on every architecture;
//! on the 32-bit ones (x86, arm) the calls that take it are the `_time64` ones of Linux
//! 5.1 (`clock_gettime64`, `ppoll_time64`, ...), and the older calls take a timespec of
//! 32-bit `long`s. Each wrapper here makes the `_time64` call on 32-bit targets and,
//! where the kernel answers `ENOSYS` (before 5.1, or an emulator that lacks it), the old
//! one with the time converted, so callers see one [`Timespec`] everywhere.

use super::check;
use crate::arch::nr;
use crate::arch::{syscall2, syscall5};
use crate::Errno;

/// `CLOCK_REALTIME`.
pub const CLOCK_REALTIME: i32 = 0;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: i32 = 1;
/// `CLOCK_BOOTTIME`: monotonic, counting time suspended.
pub const CLOCK_BOOTTIME: i32 = 7;

/// `struct __kernel_timespec`: 64-bit seconds and nanoseconds on every architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1_000_000_000.
    pub tv_nsec: i64,
}

impl Timespec {
    /// The time as microseconds, saturating (negative times count as 0).
    pub fn as_micros(&self) -> u64 {
        (self.tv_sec.max(0) as u64)
            .saturating_mul(1_000_000)
            .saturating_add(self.tv_nsec.max(0) as u64 / 1000)
    }

    /// `d` as a timespec (saturating at `i64::MAX` seconds).
    pub fn from_duration(d: core::time::Duration) -> Self {
        Self {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        }
    }
}

/// The 32-bit `struct old_timespec32` of the pre-5.1 calls on 32-bit targets.
#[cfg(target_pointer_width = "32")]
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Timespec32 {
    tv_sec: i32,
    tv_nsec: i32,
}

#[cfg(target_pointer_width = "32")]
impl Timespec32 {
    /// `t` if its seconds fit in 32 bits (`EOVERFLOW` otherwise, as the kernel says).
    pub(super) fn from(t: &Timespec) -> Result<Self, Errno> {
        Ok(Self {
            tv_sec: i32::try_from(t.tv_sec).map_err(|_| Errno::EOVERFLOW)?,
            tv_nsec: i32::try_from(t.tv_nsec).map_err(|_| Errno::EINVAL)?,
        })
    }

    /// `t` with its seconds capped to 32 bits: for a relative timeout, where the cap
    /// (some 68 years) changes nothing a caller can tell.
    pub(super) fn saturating(t: &Timespec) -> Self {
        Self {
            tv_sec: t.tv_sec.clamp(0, i32::MAX.into()) as i32,
            tv_nsec: t.tv_nsec.clamp(0, 999_999_999) as i32,
        }
    }

    /// Back to the 64-bit form.
    pub(super) fn widen(self) -> Timespec {
        Timespec {
            tv_sec: self.tv_sec.into(),
            tv_nsec: self.tv_nsec.into(),
        }
    }
}

static_assertions::const_assert_eq!(core::mem::size_of::<Timespec>(), 16);

/// `clock_gettime(2)`: the time of clock `clock` (`CLOCK_MONOTONIC`, ...).
pub fn clock_gettime(clock: i32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    #[cfg(target_pointer_width = "64")]
    let nr = nr::CLOCK_GETTIME;
    #[cfg(target_pointer_width = "32")]
    let nr = nr::CLOCK_GETTIME64;
    // SAFETY: `ts` is writable and laid out as the kernel's 64-bit timespec.
    let ret = unsafe { syscall2(nr, clock as usize, &mut ts as *mut Timespec as usize) };
    match check(ret) {
        Ok(_) => Ok(ts),
        #[cfg(target_pointer_width = "32")]
        Err(Errno::ENOSYS) => clock_gettime32(clock),
        Err(e) => Err(e),
    }
}

/// `clock_gettime` with the 32-bit timespec, for kernels before 5.1.
#[cfg(target_pointer_width = "32")]
pub(crate) fn clock_gettime32(clock: i32) -> Result<Timespec, Errno> {
    let mut ts = Timespec32::default();
    // SAFETY: `ts` is writable and laid out as the kernel's old_timespec32.
    let ret = unsafe {
        syscall2(
            nr::CLOCK_GETTIME,
            clock as usize,
            &mut ts as *mut Timespec32 as usize,
        )
    };
    check(ret).map(|_| Timespec {
        tv_sec: ts.tv_sec.into(),
        tv_nsec: ts.tv_nsec.into(),
    })
}

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pollfd {
    /// The fd to watch (a negative one is skipped).
    pub fd: i32,
    /// What to watch for (`POLLIN`, `POLLOUT`, ...).
    pub events: i16,
    /// What happened, filled in by the kernel.
    pub revents: i16,
}

/// Readable.
pub const POLLIN: i16 = 0x1;
/// Urgent data.
pub const POLLPRI: i16 = 0x2;
/// Writable.
pub const POLLOUT: i16 = 0x4;
/// An error condition (output only).
pub const POLLERR: i16 = 0x8;
/// Hung up (output only).
pub const POLLHUP: i16 = 0x10;
/// Not an open fd (output only).
pub const POLLNVAL: i16 = 0x20;
/// The peer closed its writing half.
pub const POLLRDHUP: i16 = 0x2000;

/// `ppoll(2)`: waits until one of `fds` is ready, `timeout` passes (`None`: forever), or
/// a signal arrives (`EINTR`); returns how many entries have events (0 on timeout).
/// The signal mask is left alone (a null `sigmask`).
///
/// # Safety
/// None in Rust's sense (the kernel only reads the fd numbers and writes `revents`);
/// it is `unsafe` as the other raw wrappers are, since the fds are bare numbers.
pub unsafe fn ppoll(fds: &mut [Pollfd], timeout: Option<&Timespec>) -> Result<usize, Errno> {
    let (p, n) = (fds.as_mut_ptr() as usize, fds.len());
    let t = timeout.map_or(0, |t| t as *const Timespec as usize);
    #[cfg(target_pointer_width = "64")]
    let nr = nr::PPOLL;
    #[cfg(target_pointer_width = "32")]
    let nr = nr::PPOLL_TIME64;
    // SAFETY: `fds` is writable for `n` entries, the timeout readable; no mask.
    let ret = unsafe { syscall5(nr, p, n, t, 0, 0) };
    match check(ret) {
        #[cfg(target_pointer_width = "32")]
        // SAFETY: forwarded from the caller.
        Err(Errno::ENOSYS) => unsafe { ppoll32(fds, timeout) },
        r => r,
    }
}

/// `ppoll` with the 32-bit timespec, for kernels before 5.1.
///
/// # Safety
/// As [`ppoll`].
#[cfg(target_pointer_width = "32")]
pub(crate) unsafe fn ppoll32(
    fds: &mut [Pollfd],
    timeout: Option<&Timespec>,
) -> Result<usize, Errno> {
    let t32 = timeout.map(Timespec32::from).transpose()?;
    let t = t32.as_ref().map_or(0, |t| t as *const Timespec32 as usize);
    // SAFETY: `fds` is writable for its length, the 32-bit timespec readable; no mask.
    check(unsafe { syscall5(nr::PPOLL, fds.as_mut_ptr() as usize, fds.len(), t, 0, 0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CLOCK_MONOTONIC` through libc, in microseconds.
    fn libc_monotonic_usec() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is writable.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        assert_eq!(r, 0);
        // The fields are 32-bit on the 32-bit targets, 64-bit elsewhere.
        #[allow(clippy::useless_conversion)]
        Timespec {
            tv_sec: ts.tv_sec.into(),
            tv_nsec: ts.tv_nsec.into(),
        }
        .as_micros()
    }

    #[test]
    fn monotonic_clock_reads_between_two_libc_reads() {
        let before = libc_monotonic_usec();
        let ours = clock_gettime(CLOCK_MONOTONIC).unwrap().as_micros();
        let after = libc_monotonic_usec();
        assert!(
            before <= ours && ours <= after,
            "{before} <= {ours} <= {after}"
        );
    }

    #[cfg(target_pointer_width = "32")]
    #[test]
    fn the_32_bit_fallback_reads_the_same_clock() {
        let before = libc_monotonic_usec();
        let ours = clock_gettime32(CLOCK_MONOTONIC).unwrap().as_micros();
        let after = libc_monotonic_usec();
        assert!(
            before <= ours && ours <= after,
            "{before} <= {ours} <= {after}"
        );
    }

    #[test]
    fn constants_match_libc() {
        assert_eq!(
            (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME),
            (
                libc::CLOCK_REALTIME,
                libc::CLOCK_MONOTONIC,
                libc::CLOCK_BOOTTIME
            )
        );
        assert_eq!(
            (POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDHUP),
            (
                libc::POLLIN,
                libc::POLLPRI,
                libc::POLLOUT,
                libc::POLLERR,
                libc::POLLHUP,
                libc::POLLNVAL,
                libc::POLLRDHUP
            )
        );
        assert_eq!(
            core::mem::size_of::<Pollfd>(),
            core::mem::size_of::<libc::pollfd>()
        );
    }

    #[cfg(target_pointer_width = "32")]
    #[test]
    fn the_32_bit_ppoll_times_out_and_sees_a_readable_pipe() {
        let (r, w) = crate::fd::pipe().unwrap();
        use crate::fd::AsRawFd;
        let mut fds = [Pollfd {
            fd: r.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        }];
        let short = Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        // SAFETY: the fd is open for the call.
        assert_eq!(unsafe { ppoll32(&mut fds, Some(&short)) }, Ok(0));
        crate::fd::write(crate::fd::AsFd::as_fd(&w), b"x").unwrap();
        // SAFETY: as above.
        assert_eq!(unsafe { ppoll32(&mut fds, None) }, Ok(1));
        let far = Timespec {
            tv_sec: 1 << 40,
            tv_nsec: 0,
        };
        // SAFETY: as above.
        let too_far = unsafe { ppoll32(&mut fds, Some(&far)) };
        assert_eq!(too_far, Err(Errno::EOVERFLOW));
    }

    #[test]
    fn ppoll_times_out_and_sees_a_readable_pipe() {
        let (r, w) = crate::fd::pipe().unwrap();
        use crate::fd::AsRawFd;
        let mut fds = [Pollfd {
            fd: r.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        }];
        let short = Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        // SAFETY: the fd is open for the call.
        assert_eq!(unsafe { ppoll(&mut fds, Some(&short)) }, Ok(0));
        crate::fd::write(crate::fd::AsFd::as_fd(&w), b"x").unwrap();
        // SAFETY: as above.
        assert_eq!(unsafe { ppoll(&mut fds, None) }, Ok(1));
        assert_eq!(fds[0].revents, POLLIN);
    }
}
