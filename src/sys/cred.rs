//! Process credentials and session: user and group ids, supplementary groups, sessions
//! and process groups, the umask and the working directory.
//!
//! On x86 and arm these are the 32-bit-id calls (`setresuid32`, ...), as everywhere in
//! `sys`; `u32::MAX` (`-1`) leaves an id unchanged.

use core::ffi::CStr;

use super::{check, check_int, check_unit, fd_arg};
use crate::arch::{nr, syscall0, syscall1, syscall2, syscall3};
use crate::Errno;

/// `setresuid(2)`: sets the real, effective and saved user ids (`u32::MAX`: unchanged).
///
/// # Safety
/// None in Rust's sense; dropping privileges in one thread of a multi-threaded program
/// leaves the others as they were (the kernel's ids are per thread).
#[inline]
pub unsafe fn setresuid(ruid: u32, euid: u32, suid: u32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { syscall3(nr::SETRESUID, ruid as usize, euid as usize, suid as usize) })
}

/// `setresgid(2)`: sets the real, effective and saved group ids (`u32::MAX`: unchanged).
///
/// # Safety
/// As [`setresuid`].
#[inline]
pub unsafe fn setresgid(rgid: u32, egid: u32, sgid: u32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { syscall3(nr::SETRESGID, rgid as usize, egid as usize, sgid as usize) })
}

/// `setgroups(2)`: sets the supplementary group list (needs `CAP_SETGID`).
///
/// # Safety
/// As [`setresuid`].
#[inline]
pub unsafe fn setgroups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: `groups` is readable for its length.
    check_unit(unsafe { syscall2(nr::SETGROUPS, groups.len(), groups.as_ptr() as usize) })
}

/// `getgroups(2)`: stores the supplementary groups in `groups`; returns how many there
/// are (with an empty slice: how many there are, storing nothing; `EINVAL` if `groups`
/// is too small).
pub fn getgroups(groups: &mut [u32]) -> Result<usize, Errno> {
    // SAFETY: `groups` is writable for its length.
    check(unsafe { syscall2(nr::GETGROUPS, groups.len(), groups.as_mut_ptr() as usize) })
}

/// `setsid(2)`: starts a new session (and process group) led by this process; returns
/// its id. `EPERM` for a process group leader.
pub fn setsid() -> Result<i32, Errno> {
    // SAFETY: no arguments.
    check_int(unsafe { syscall0(nr::SETSID) })
}

/// `getsid(2)`: the session of process `pid` (0: this one).
pub fn getsid(pid: i32) -> Result<i32, Errno> {
    // SAFETY: only an integer crosses.
    check_int(unsafe { syscall1(nr::GETSID, pid as isize as usize) })
}

/// `setpgid(2)`: puts process `pid` (0: this one) into process group `pgid` (0: a new
/// one with its own pid).
pub fn setpgid(pid: i32, pgid: i32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { syscall2(nr::SETPGID, pid as isize as usize, pgid as isize as usize) })
}

/// `getpgid(2)`: the process group of process `pid` (0: this one).
pub fn getpgid(pid: i32) -> Result<i32, Errno> {
    // SAFETY: only an integer crosses.
    check_int(unsafe { syscall1(nr::GETPGID, pid as isize as usize) })
}

/// `umask(2)`: sets the file mode creation mask; returns the old one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: only an integer crosses; umask cannot fail.
    unsafe { syscall1(nr::UMASK, (mask & 0o777) as usize) as u32 }
}

/// `chdir(2)`: changes the working directory to `path`.
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    check_unit(unsafe { syscall1(nr::CHDIR, path.as_ptr() as usize) })
}

/// `fchdir(2)`: changes the working directory to the directory open at `fd`.
///
/// # Safety
/// None in Rust's sense (`fd` is a bare number).
pub unsafe fn fchdir(fd: i32) -> Result<(), Errno> {
    // SAFETY: only an integer crosses.
    check_unit(unsafe { syscall1(nr::FCHDIR, fd_arg(fd)) })
}
