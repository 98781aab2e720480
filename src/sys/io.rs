//! Fd syscalls: read, write, close, fcntl, pipes, duplication, memfds, paths.

use super::{check, check_int, check_unit, fd_arg};
use crate::arch::{nr, syscall1, syscall2, syscall3, syscall4};
use crate::Errno;

/// `read(2)`: reads up to `len` bytes into `buf`.
///
/// # Safety
/// `buf` is writable for `len` bytes; `fd` is not owned by someone who relies on its
/// file offset staying put.
#[inline]
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::READ, fd_arg(fd), buf as usize, len) })
}

/// `write(2)`: writes up to `len` bytes from `buf`.
///
/// # Safety
/// `buf` is readable for `len` bytes.
#[inline]
pub unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::WRITE, fd_arg(fd), buf as usize, len) })
}

/// `close(2)`: closes `fd`. The fd is released even when this returns `EINTR`, so it
/// must not be closed again.
///
/// # Safety
/// The caller owns `fd` and nobody uses it afterwards.
#[inline]
pub unsafe fn close(fd: i32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe { syscall1(nr::CLOSE, fd_arg(fd)) })
}

/// `fcntl(2)` with an integer argument (`F_GETFD`, `F_SETFD`, `F_GETFL`, `F_SETFL`,
/// `F_DUPFD_CLOEXEC`); returns what the command returns.
///
/// # Safety
/// `cmd` takes an integer or no argument; a new fd from `F_DUPFD*` is the caller's.
#[inline]
pub unsafe fn fcntl(fd: i32, cmd: i32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::FCNTL, fd_arg(fd), cmd as usize, arg) })
}

/// `pipe2(2)`: creates a pipe; `fds[0]` is the read end, `fds[1]` the write end.
///
/// # Safety
/// The caller owns both new fds.
#[inline]
pub unsafe fn pipe2(fds: &mut [i32; 2], flags: i32) -> Result<(), Errno> {
    // SAFETY: `fds` is valid for the two ints the kernel writes.
    check_unit(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, flags as usize) })
}

/// `dup3(2)`: makes `newfd` a copy of `oldfd` (closing what `newfd` was), with `flags`
/// (`O_CLOEXEC` or 0).
///
/// # Safety
/// The caller owns `newfd`, and whatever it referred to before is no longer used.
#[inline]
pub unsafe fn dup3(oldfd: i32, newfd: i32, flags: i32) -> Result<i32, Errno> {
    // SAFETY: the caller's contract.
    check_int(unsafe { syscall3(nr::DUP3, fd_arg(oldfd), fd_arg(newfd), flags as usize) })
}

/// `memfd_create(2)`: creates an anonymous file. `name` is NUL-terminated.
///
/// # Safety
/// `name` points to a NUL-terminated string; the caller owns the new fd.
#[inline]
pub unsafe fn memfd_create(name: *const u8, flags: u32) -> Result<i32, Errno> {
    // SAFETY: the caller's contract.
    check_int(unsafe { syscall2(nr::MEMFD_CREATE, name as usize, flags as usize) })
}

/// `openat(2)`: opens `path` (NUL-terminated) relative to `dirfd` (or `AT_FDCWD`).
///
/// # Safety
/// `path` points to a NUL-terminated string; the caller owns the new fd.
#[inline]
pub unsafe fn openat(dirfd: i32, path: *const u8, flags: i32, mode: u32) -> Result<i32, Errno> {
    // SAFETY: the caller's contract.
    check_int(unsafe {
        syscall4(
            nr::OPENAT,
            fd_arg(dirfd),
            path as usize,
            flags as usize,
            mode as usize,
        )
    })
}

/// `unlinkat(2)`: removes `path` (NUL-terminated) relative to `dirfd`; `AT_REMOVEDIR`
/// removes a directory.
///
/// # Safety
/// `path` points to a NUL-terminated string.
#[inline]
pub unsafe fn unlinkat(dirfd: i32, path: *const u8, flags: i32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe { syscall3(nr::UNLINKAT, fd_arg(dirfd), path as usize, flags as usize) })
}
