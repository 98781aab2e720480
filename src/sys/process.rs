//! Processes: ids, fork and wait, exec, signals, limits, exit.

use super::{check, check_int, check_unit, Rlimit};
use crate::arch::{nr, syscall0, syscall1_noreturn, syscall2, syscall3, syscall4, syscall5};
use crate::Errno;

/// `getpid(2)`: this process's id.
#[inline]
pub fn getpid() -> i32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETPID) as i32 }
}

/// `getppid(2)`: the parent's process id.
#[inline]
pub fn getppid() -> i32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETPPID) as i32 }
}

/// `getuid(2)`: the real user id (`getuid32` on x86).
#[inline]
pub fn getuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETUID) as u32 }
}

/// `geteuid(2)`: the effective user id.
#[inline]
pub fn geteuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETEUID) as u32 }
}

/// `getgid(2)`: the real group id (`getgid32` on x86).
#[inline]
pub fn getgid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETGID) as u32 }
}

/// `getegid(2)`: the effective group id.
#[inline]
pub fn getegid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { syscall0(nr::GETEGID) as u32 }
}

/// `fork(2)`: creates a child process; returns 0 in the child and the child's pid in
/// the parent.
///
/// # Safety
/// In a multi-threaded program the child has one thread and every lock another thread
/// held stays held: until it execs or exits, the child must only make raw syscalls
/// (nothing that allocates or locks).
///
/// The generic syscall table of aarch64 and riscv64 has no `fork`: there it is
/// `clone(SIGCHLD)` with no new stack, which is what `fork` is in the kernel.
#[inline]
pub unsafe fn fork() -> Result<i32, Errno> {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "arm"))]
    // SAFETY: the caller's contract.
    let ret = unsafe { syscall0(nr::FORK) };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "arm")))]
    // SAFETY: the caller's contract. The flags ask for nothing shared and SIGCHLD at
    // exit; with no new stack the child runs on a copy of ours, as after fork; the
    // parent-tid, tls and child-tid arguments (whose order differs by arch) are unused.
    let ret = unsafe { crate::arch::syscall5(nr::CLONE, super::SIGCHLD as usize, 0, 0, 0, 0) };
    check_int(ret)
}

/// `clone(2)` with `CLONE_PIDFD` and `SIGCHLD` only: [`fork`], and a close-on-exec
/// pidfd of the child stored in `pidfd` (Linux 5.2+). Made atomically with the child, so
/// the pidfd refers to it even if it has exited and been reaped by the time the caller
/// looks. A kernel before 5.2 ignores the flag: `pidfd` is left as it was (set it to -1
/// first).
///
/// # Safety
/// As [`fork`]; in the parent, the caller owns the new pidfd.
#[inline]
pub unsafe fn fork_pidfd(pidfd: &mut i32) -> Result<i32, Errno> {
    // SAFETY: the caller's contract for the child. Without CLONE_VM the child runs on its
    // own copy of this stack; `pidfd` is writable. With neither CLONE_PARENT_SETTID nor
    // CLONE_CHILD_*TID nor CLONE_SETTLS, the last two arguments (in whichever order the
    // architecture takes them) are unused.
    check_int(unsafe {
        syscall5(
            nr::CLONE,
            (super::CLONE_PIDFD | super::SIGCHLD) as usize,
            0,
            pidfd as *mut i32 as usize,
            0,
            0,
        )
    })
}

/// `wait4(2)` without resource usage: waits for a child (`pid` > 0: that one, -1: any)
/// and stores its status in `status`; returns the child's pid (0 with `WNOHANG` when
/// none has changed state).
///
/// # Safety
/// None beyond the usual: reaping a child that another part of the program waits for
/// steals its status.
#[inline]
pub unsafe fn wait4(pid: i32, status: &mut i32, options: i32) -> Result<i32, Errno> {
    // SAFETY: `status` is valid for writes; a null rusage is allowed.
    check_int(unsafe {
        syscall4(
            nr::WAIT4,
            pid as isize as usize,
            status as *mut i32 as usize,
            options as usize,
            0,
        )
    })
}

/// Whether a wait status says the child exited normally (`WIFEXITED`).
#[inline]
pub const fn wifexited(status: i32) -> bool {
    status & 0x7f == 0
}

/// The exit code in a wait status (`WEXITSTATUS`).
#[inline]
pub const fn wexitstatus(status: i32) -> i32 {
    (status >> 8) & 0xff
}

/// Whether a wait status says the child was killed by a signal (`WIFSIGNALED`).
#[inline]
pub const fn wifsignaled(status: i32) -> bool {
    ((status & 0x7f) + 1) as i8 >= 2
}

/// The signal that killed the child (`WTERMSIG`).
#[inline]
pub const fn wtermsig(status: i32) -> i32 {
    status & 0x7f
}

/// `execve(2)`: replaces the program. Returns only on failure.
///
/// # Safety
/// `path` is NUL-terminated; `argv` and `envp` are null-terminated arrays of
/// NUL-terminated strings. In a forked child of a multi-threaded program, see [`fork`].
#[inline]
pub unsafe fn execve(path: *const u8, argv: *const *const u8, envp: *const *const u8) -> Errno {
    // SAFETY: the caller's contract.
    match check(unsafe { syscall3(nr::EXECVE, path as usize, argv as usize, envp as usize) }) {
        Err(e) => e,
        Ok(_) => unreachable!("execve returned success"),
    }
}

/// `kill(2)`: sends signal `sig` to process `pid`.
///
/// # Safety
/// None in Rust's sense; the signal's effects on the target are the caller's business.
#[inline]
pub unsafe fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { syscall2(nr::KILL, pid as isize as usize, sig as usize) })
}

/// `prctl(2)` with integer arguments.
///
/// # Safety
/// The option must take integer arguments, or pointers valid for it.
#[inline]
pub unsafe fn prctl(
    option: i32,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe { syscall5(nr::PRCTL, option as usize, a2, a3, a4, a5) })
}

/// `prlimit64(2)`: gets and/or sets resource limit `resource` of process `pid` (0: this
/// one). Either pointer may be null.
///
/// # Safety
/// `new` is null or readable, `old` null or writable.
#[inline]
pub unsafe fn prlimit(
    pid: i32,
    resource: i32,
    new: *const Rlimit,
    old: *mut Rlimit,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        syscall4(
            nr::PRLIMIT64,
            pid as isize as usize,
            resource as usize,
            new as usize,
            old as usize,
        )
    })
}

/// `pidfd_open(2)`: an fd referring to process `pid` (Linux 5.3+).
///
/// # Safety
/// The caller owns the new fd.
#[inline]
pub unsafe fn pidfd_open(pid: i32, flags: u32) -> Result<i32, Errno> {
    // SAFETY: only integers cross.
    check_int(unsafe { syscall2(nr::PIDFD_OPEN, pid as isize as usize, flags as usize) })
}

/// `exit_group(2)`: ends the process with `code`.
#[inline]
pub fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group does not return.
    unsafe { syscall1_noreturn(nr::EXIT_GROUP, code as usize) }
}

/// `exit(2)` (the syscall, not libc's): ends the calling thread only.
///
/// # Safety
/// Nothing that lives on this thread's stack is used afterwards, and no Rust code expects
/// this thread to return.
#[inline]
pub unsafe fn exit_thread(code: i32) -> ! {
    // SAFETY: exit does not return.
    unsafe { syscall1_noreturn(nr::EXIT, code as usize) }
}
