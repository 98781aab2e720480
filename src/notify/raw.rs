//! The two syscalls this module makes that `sys` does not wrap: reading the monotonic
//! clock (for `MONOTONIC_USEC`) and `poll` (for `BARRIER=1`). Numbers from
//! arch/x86/entry/syscalls/syscall_{64,32}.tbl; the unit tests below check them against
//! the `libc` and `syscalls` crates and read the clock both ways on i386.

use crate::sys::raw::{syscall2, syscall3};
use crate::Errno;

/// `CLOCK_MONOTONIC`.
const CLOCK_MONOTONIC: usize = 1;

/// `clock_gettime`, 64-bit `struct timespec` on x86_64.
#[cfg(target_arch = "x86_64")]
pub const CLOCK_GETTIME: usize = 228;
/// `clock_gettime64` (Linux 5.1+): 64-bit `struct __kernel_timespec` on i386.
#[cfg(target_arch = "x86")]
pub const CLOCK_GETTIME64: usize = 403;
/// `clock_gettime` with the 32-bit `struct old_timespec32`, for kernels before 5.1.
#[cfg(target_arch = "x86")]
pub const CLOCK_GETTIME32: usize = 265;
/// `poll`.
#[cfg(target_arch = "x86_64")]
pub const POLL: usize = 7;
/// `poll`.
#[cfg(target_arch = "x86")]
pub const POLL: usize = 168;

pub const POLLIN: i16 = 0x1;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

/// `struct pollfd`.
#[repr(C)]
pub struct Pollfd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

#[repr(C)]
#[derive(Default)]
struct Timespec64 {
    sec: i64,
    nsec: i64,
}

#[cfg(target_arch = "x86")]
#[repr(C)]
#[derive(Default)]
struct Timespec32 {
    sec: i32,
    nsec: i32,
}

fn usec(sec: i64, nsec: i64) -> u64 {
    (sec.max(0) as u64)
        .saturating_mul(1_000_000)
        .saturating_add(nsec.max(0) as u64 / 1000)
}

/// `CLOCK_MONOTONIC` now, in microseconds.
pub fn monotonic_usec() -> Result<u64, Errno> {
    let mut ts = Timespec64::default();
    #[cfg(target_arch = "x86_64")]
    let nr = CLOCK_GETTIME;
    #[cfg(target_arch = "x86")]
    let nr = CLOCK_GETTIME64;
    // SAFETY: `ts` is writable and laid out as the kernel's 64-bit timespec.
    let ret = unsafe { syscall2(nr, CLOCK_MONOTONIC, &mut ts as *mut Timespec64 as usize) };
    match Errno::from_ret(ret) {
        None => Ok(usec(ts.sec, ts.nsec)),
        #[cfg(target_arch = "x86")]
        Some(Errno::ENOSYS) => monotonic_usec_time32(),
        Some(e) => Err(e),
    }
}

/// The pre-5.1 i386 call, with 32-bit seconds.
#[cfg(target_arch = "x86")]
fn monotonic_usec_time32() -> Result<u64, Errno> {
    let mut ts = Timespec32::default();
    // SAFETY: `ts` is writable and laid out as the kernel's old_timespec32.
    let ret = unsafe {
        syscall2(
            CLOCK_GETTIME32,
            CLOCK_MONOTONIC,
            &mut ts as *mut Timespec32 as usize,
        )
    };
    match Errno::from_ret(ret) {
        None => Ok(usec(ts.sec.into(), ts.nsec.into())),
        Some(e) => Err(e),
    }
}

/// `poll(2)` on one fd; returns how many fds have events (0 on timeout).
pub fn poll_one(pfd: &mut Pollfd, timeout_ms: i32) -> Result<usize, Errno> {
    // SAFETY: `pfd` is one writable `struct pollfd`.
    let ret = unsafe {
        syscall3(
            POLL,
            pfd as *mut Pollfd as usize,
            1,
            timeout_ms as isize as usize,
        )
    };
    match Errno::from_ret(ret) {
        None => Ok(ret as usize),
        Some(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CLOCK_MONOTONIC through libc, in microseconds.
    fn libc_monotonic_usec() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is writable.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        assert_eq!(r, 0);
        // The fields are 32-bit on i686, 64-bit on x86_64.
        #[allow(clippy::useless_conversion)]
        usec(ts.tv_sec.into(), ts.tv_nsec.into())
    }

    #[test]
    // The numbers' types differ between the targets and crates; compare as i64.
    #[allow(clippy::unnecessary_cast)]
    fn syscall_numbers_match_libc() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(CLOCK_GETTIME as i64, libc::SYS_clock_gettime as i64);
        #[cfg(target_arch = "x86")]
        {
            // libc has no SYS_clock_gettime64 for i686-linux-gnu; the syscalls crate does.
            assert_eq!(CLOCK_GETTIME64, syscalls::Sysno::clock_gettime64 as usize);
            assert_eq!(CLOCK_GETTIME32 as i64, libc::SYS_clock_gettime as i64);
        }
        assert_eq!(POLL as i64, libc::SYS_poll as i64);
        assert_eq!(
            (POLLIN, POLLERR, POLLHUP, POLLNVAL),
            (libc::POLLIN, libc::POLLERR, libc::POLLHUP, libc::POLLNVAL)
        );
        assert_eq!(CLOCK_MONOTONIC as i64, libc::CLOCK_MONOTONIC as i64);
    }

    #[test]
    fn monotonic_clock_reads_between_two_libc_reads() {
        let before = libc_monotonic_usec();
        let ours = monotonic_usec().unwrap();
        let after = libc_monotonic_usec();
        assert!(
            before <= ours && ours <= after,
            "{before} <= {ours} <= {after}"
        );
    }

    #[cfg(target_arch = "x86")]
    #[test]
    fn the_32_bit_fallback_reads_the_same_clock() {
        let before = libc_monotonic_usec();
        let ours = monotonic_usec_time32().unwrap();
        let after = libc_monotonic_usec();
        assert!(
            before <= ours && ours <= after,
            "{before} <= {ours} <= {after}"
        );
    }
}
