//! Memory mappings.

use core::ffi::c_void;

use super::{check, check_unit, fd_arg};
use crate::arch::{nr, syscall2, syscall3, syscall6};
use crate::Errno;

/// `mmap(2)`: maps `len` bytes of `fd` from `offset` (or anonymous memory with
/// `MAP_ANONYMOUS` and `fd` -1). On the 32-bit targets (x86, arm) this is `mmap2`, whose
/// offset counts 4096-byte units, so `offset` must be a multiple of 4096 (`EINVAL`
/// otherwise, as from the kernel on the 64-bit ones) below 2^44.
///
/// # Safety
/// With `MAP_FIXED`, whatever was mapped at `addr` is replaced; the caller unmaps the
/// region and does not let references into it outlive the mapping.
#[inline]
pub unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: i32,
    flags: i32,
    fd: i32,
    offset: u64,
) -> Result<*mut c_void, Errno> {
    #[cfg(target_pointer_width = "64")]
    // SAFETY: the caller's contract.
    let ret = unsafe {
        syscall6(
            nr::MMAP,
            addr as usize,
            len,
            prot as usize,
            flags as usize,
            fd_arg(fd),
            offset as usize,
        )
    };
    #[cfg(target_pointer_width = "32")]
    let ret = {
        const PAGE: u64 = 4096;
        if offset % PAGE != 0 || offset / PAGE > u32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        // SAFETY: the caller's contract.
        unsafe {
            syscall6(
                nr::MMAP2,
                addr as usize,
                len,
                prot as usize,
                flags as usize,
                fd_arg(fd),
                (offset / PAGE) as usize,
            )
        }
    };
    check(ret).map(|a| a as *mut c_void)
}

/// `munmap(2)`: removes the mappings in `addr..addr + len`.
///
/// # Safety
/// Nothing refers to the memory afterwards.
#[inline]
pub unsafe fn munmap(addr: *mut c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe { syscall2(nr::MUNMAP, addr as usize, len) })
}

/// `mprotect(2)`: sets the protection of `addr..addr + len`.
///
/// # Safety
/// No reference into the region is used against its new protection.
#[inline]
pub unsafe fn mprotect(addr: *mut c_void, len: usize, prot: i32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe { syscall3(nr::MPROTECT, addr as usize, len, prot as usize) })
}
