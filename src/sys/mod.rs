//! The raw layer: the kernel's types and constants, and `unsafe` syscall wrappers that
//! return `Result<_, Errno>`.
//!
//! Every wrapper takes raw fds and pointers exactly as the kernel does and adds nothing
//! but the error conversion: a return in -4095..=-1 becomes `Err(Errno)`. Ownership of
//! the fds they create is the caller's business; the safe layers build on them.
//!
//! ```
//! use baremsg::{sys, Errno};
//!
//! let mut fds = [-1; 2];
//! // SAFETY: `fds` has room for the two fds; both are closed below.
//! unsafe { sys::pipe2(&mut fds, sys::O_CLOEXEC) }?;
//! // SAFETY: the buffer is readable for its length; fds[1] is the pipe's write end.
//! assert_eq!(unsafe { sys::write(fds[1], b"raw".as_ptr(), 3) }?, 3);
//! for fd in fds {
//!     // SAFETY: the fds are ours and not used again.
//!     unsafe { sys::close(fd) }?;
//! }
//! // SAFETY: a closed fd number, asked about only.
//! assert_eq!(unsafe { sys::fcntl(fds[0], sys::F_GETFD, 0) }, Err(Errno::EBADF));
//! # Ok::<(), Errno>(())
//! ```

mod consts;
mod cred;
mod event;
mod fs;
mod inet;
mod io;
mod mm;
mod process;
mod signal;
mod socket;
mod time;
mod types;
mod wait;

pub use consts::*;
pub use cred::*;
pub use event::*;
pub use fs::*;
pub use inet::*;
pub use io::*;
pub use mm::*;
pub use process::*;
pub use signal::*;
pub use socket::*;
pub use time::*;
pub use types::*;
pub use wait::*;

use crate::Errno;

/// The syscall stubs and numbers of the architecture compiled for, for calls baremsg does
/// not wrap.
pub mod raw {
    /// x86 only: `socketcall(2)` sub-call numbers.
    #[cfg(target_arch = "x86")]
    pub use crate::arch::socketcall;
    /// x86 only: how syscalls enter the kernel (`__kernel_vsyscall` or `int 0x80`, see
    /// [`init_vsyscall`](super::init_vsyscall)), and stubs that always use `int 0x80`,
    /// for calls that return twice on one stack (`vfork`).
    #[cfg(target_arch = "x86")]
    pub use crate::arch::{
        int80_syscall0, int80_syscall1, int80_syscall2, int80_syscall3, int80_syscall4,
        int80_syscall5, int80_syscall6, set_vsyscall, vsyscall,
    };
    pub use crate::arch::{
        nr, socket_call, syscall0, syscall1, syscall1_noreturn, syscall2, syscall3, syscall4,
        syscall5, syscall6, SocketCall,
    };
}

/// How socket calls reach the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SocketPath {
    /// The socket syscalls themselves (`sendmsg`, `recvmsg`, ...): always on x86_64,
    /// aarch64, arm and riscv64, Linux 4.3+ on x86.
    Direct = 0,
    /// x86 only: `socketcall(2)` with a sub-call number and an argument array.
    Socketcall = 1,
}

/// How socket calls reach the kernel now: on x86 the path forced at build time
/// (`--cfg baremsg_socketcall` / `--cfg baremsg_direct`), or else the one in force: the
/// (`--cfg baremsg_socketcall` / `--cfg baremsg_direct`), or else the one that last
/// [`SocketPath::Direct`] on the other architectures.
/// `socketcall`, and back when the reverse happens (a call refused both ways changes
/// direct calls until a call they refused (`ENOSYS`, `EPERM`) succeeds through
/// nothing); always [`SocketPath::Direct`] on x86_64.
/// worked (the direct calls until one fails with `ENOSYS`); always
#[inline]
pub fn socket_path() -> SocketPath {
    crate::arch::socket_path()
}

/// Hands baremsg this process's auxiliary vector (pairs of words up to `AT_NULL`: what
/// `_start` finds after `envp`, or the contents of `/proc/self/auxv`).
///
/// On x86 (i386) baremsg then enters the kernel through the vDSO's `__kernel_vsyscall`
/// (`AT_SYSINFO`), or with `int 0x80` if there is none. Without this call it looks the
/// entry up at its first syscall (`/proc/self/auxv`, or `prctl(PR_GET_AUXV)` where
/// `/proc` cannot be opened); a program that installs a seccomp filter allowing neither
/// should call this first.
/// Elsewhere it does nothing.
///
/// # Safety
/// `auxv` is this process's auxiliary vector.
#[inline]
pub unsafe fn init_vsyscall(auxv: &[usize]) {
    #[cfg(target_arch = "x86")]
    // SAFETY: forwarded from the caller.
    unsafe {
        crate::arch::init_vsyscall(auxv)
    };
    #[cfg(not(target_arch = "x86"))]
    let _ = auxv;
}

/// Turns a raw syscall return into a result.
#[inline(always)]
pub(crate) fn check(ret: isize) -> Result<usize, Errno> {
    match Errno::from_ret(ret) {
        Some(e) => Err(e),
        None => Ok(ret as usize),
    }
}

/// Like [`check`] for calls that return an fd or a pid.
#[inline(always)]
pub(crate) fn check_int(ret: isize) -> Result<i32, Errno> {
    check(ret).map(|v| v as i32)
}

/// Like [`check`] for calls that return 0 on success.
#[inline(always)]
pub(crate) fn check_unit(ret: isize) -> Result<(), Errno> {
    check(ret).map(|_| ())
}

/// An fd as a syscall argument: sign-extended, as the kernel reads an `int`.
#[inline(always)]
pub(crate) const fn fd_arg(fd: i32) -> usize {
    fd as isize as usize
}
