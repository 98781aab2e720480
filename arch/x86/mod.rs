//! 32-bit x86 (i386): entering the kernel through the vDSO's `__kernel_vsyscall` or with
//! `int 0x80`, and the two ways socket calls reach it.
//!
//! Register convention (i386 Linux syscall ABI): the number goes in `eax`, the six
//! arguments in `ebx`, `ecx`, `edx`, `esi`, `edi`, `ebp`, the result comes back in `eax`
//! (-4095..=-1 is an errno). The kernel preserves every other register and the flags.
//!
//! Rust's `asm!` cannot name `esi` (LLVM's base pointer on x86) or `ebp` (the frame
//! pointer) as operands. `int80_syscall4` swaps the fourth argument into `esi` around
//! the `int 0x80` with `xchg`; the other stubs of four to six arguments save `esi` (and
//! `ebp`) on the stack and load them, the syscall number and the entry, from a small
//! array whose address travels in `eax`.
//!
//! # Socket calls: `socketcall` or direct
//! Before Linux 4.3 the only way to a socket operation on i386 was `socketcall(2)`
//! (syscall 102): a sub-call number (`SYS_SOCKET` = 1 .. `SYS_SENDMMSG` = 20) and a
//! pointer to the arguments in memory. Linux 4.3 added direct syscalls
//! (`socket` = 359 .. `shutdown` = 373, plus `recvmmsg` = 337 and `sendmmsg` = 345).
//! Both matter:
//! - seccomp filters see only syscall registers. Through `socketcall` the arguments sit
//!   behind a pointer a filter cannot follow, so a policy that inspects, say, `sendmsg`'s
//!   flags needs the direct call;
//! - kernels older than 4.3 have only `socketcall`;
//! - sandboxes allow-list one or the other (some only `socketcall`, as written for old
//!   i386 libcs; some only the direct calls).
//!
//! So by default baremsg makes each socket call by the path in force (direct at first)
//! and, when that path refuses it, makes the same call by the other path. A refusal is
//! `ENOSYS` (a kernel without the call, or a filter) or `EPERM` (what filters answer
//! most often). The path in force, an atomic, switches only when the other path
//! succeeded: a call refused both ways (say `getsockopt` refused directly and
//! `socketcall` refused as a whole) fails with the other path's error (the first one's
//! if that was `ENOSYS`) and leaves the path alone. seccomp filters are per thread but
//! the path is per process, so this is what keeps a call refused in one thread from
//! making the allowed calls fail, in it or in any other thread: every call that one of
//! the two paths allows to the calling thread reaches the kernel. No lock, no
//! allocation; one extra syscall when the path in force is refused.
//! `--cfg baremsg_socketcall` or `--cfg baremsg_direct` (in `RUSTFLAGS`) forces one
//! path at build time.
//!
//! # The way in: `__kernel_vsyscall` or `int 0x80`
//! `int 0x80` always works, but costs far more than the `sysenter` (Intel) or `syscall`
//! (AMD) that the kernel's vDSO function `__kernel_vsyscall` uses, which takes the same
//! registers (BENCHMARKS.md has the measurements). Its
//! address is the auxiliary vector's `AT_SYSINFO`. The stubs `syscall0`..`syscall6`
//! call it when it is known; `VSYSCALL` holds it:
//! - set by `init_vsyscall(auxv)` (a program with its own `_start` passes the auxiliary
//!   vector it finds after `envp`) or `set_vsyscall`;
//! - otherwise looked up at the first syscall, in `/proc/self/auxv` or, where `/proc`
//!   cannot be opened, with `prctl(PR_GET_AUXV)` (Linux 6.4+); a process that installs a
//!   seccomp filter allowing neither should call `init_vsyscall` or `set_vsyscall` first;
//! - `int 0x80` when neither tells (no vDSO, no /proc).
//!
//! `__kernel_vsyscall` runs on the caller's stack, so a call that returns twice on one
//! stack (`vfork`, `clone` without a new stack) must not go through it: the stubs
//! `int80_syscall0`..`int80_syscall6` (exported in `sys::raw`) enter with `int 0x80`
//! always.

use core::arch::asm;
#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
use core::sync::atomic::AtomicU8;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::sys::SocketPath;

pub mod nr;

/// The kernel's `__kernel_size_t`: the width of `iov_len`, `msg_iovlen`,
/// `msg_controllen` and `cmsg_len`.
pub type KernelSize = u32;

/// The kernel's `long` (`__kernel_long_t`): the width of `timeval` fields.
pub type KernelLong = i32;

/// `VSYSCALL` before the entry was looked up.
const UNRESOLVED: usize = 0;

/// What the stubs call: `__kernel_vsyscall`, or [`int80_entry`]'s function, or
/// `UNRESOLVED` (see the module docs). Each is valid at any time, so relaxed loads and
/// stores suffice.
static VSYSCALL: AtomicUsize = AtomicUsize::new(UNRESOLVED);

/// The address of a function `int 0x80; ret`, which the stubs call as they would call
/// `__kernel_vsyscall` (same registers): so every call site has one way in, not two.
#[inline(never)]
fn int80_entry() -> usize {
    let addr: usize;
    // SAFETY: the block finds the address of the two instructions it jumps over (with
    // `call`/`pop`, position-independent) and executes neither; it leaves the stack as
    // it found it.
    unsafe {
        asm!(
            "call 2f",
            "2:",
            "popl {a}",
            "addl $(3f - 2b), {a}",
            "jmp 4f",
            "3:",
            "int $0x80",
            "ret",
            "4:",
            a = out(reg) addr,
            options(att_syntax),
        );
    }
    addr
}

/// `AT_NULL`, the auxiliary vector's last entry.
const AT_NULL: usize = 0;
/// `AT_SYSINFO`: the entry point of `__kernel_vsyscall` (i386).
const AT_SYSINFO: usize = 32;
/// `PR_GET_AUXV` (Linux 6.4).
const PR_GET_AUXV: usize = 0x4155_5856;

/// The `AT_SYSINFO` value in `auxv` (pairs of words up to `AT_NULL`), if any.
fn find_sysinfo(auxv: &[usize]) -> Option<usize> {
    auxv.chunks_exact(2)
        .take_while(|kv| kv[0] != AT_NULL)
        .find(|kv| kv[0] == AT_SYSINFO)
        .map(|kv| kv[1])
}

/// Makes `found` (a `__kernel_vsyscall` address; `None` or 0 for none) the entry from
/// now on, `int 0x80` when there is none, and returns the entry now in force.
fn use_entry(found: Option<usize>) -> usize {
    let e = found
        .filter(|&e| e != UNRESOLVED)
        .unwrap_or_else(int80_entry);
    VSYSCALL.store(e, Ordering::Relaxed);
    e
}

/// The entry in force. Looks it up the first time.
#[inline(always)]
fn entry() -> usize {
    let e = VSYSCALL.load(Ordering::Relaxed);
    if e != UNRESOLVED {
        e
    } else {
        resolve_entry()
    }
}

/// Reads this process's auxiliary vector from `/proc/self/auxv`, or with
/// `prctl(PR_GET_AUXV)` (Linux 6.4+) where `/proc` cannot be opened, and remembers its
/// `AT_SYSINFO` (`int 0x80` if neither tells). `/proc/self/auxv` comes first because
/// tools that run the program on a virtual CPU (valgrind) rewrite it and leave
/// `AT_SYSINFO` out, while `PR_GET_AUXV` hands over the host's.
#[cold]
#[inline(never)]
fn resolve_entry() -> usize {
    // 64 entries; i386 kernels write about 22.
    let mut auxv = [0usize; 128];
    let size = core::mem::size_of_val(&auxv);
    let p = auxv.as_mut_ptr() as usize;
    // SAFETY: read and prctl write at most `size` bytes to `auxv`; openat opens a file
    // read-only, and close closes only the fd it returned.
    let got = unsafe {
        let path = b"/proc/self/auxv\0";
        let flags = (crate::sys::O_RDONLY | crate::sys::O_CLOEXEC) as usize;
        let dirfd = crate::sys::AT_FDCWD as isize as usize;
        let fd = int80_syscall4(nr::OPENAT, dirfd, path.as_ptr() as usize, flags, 0);
        let r = if fd >= 0 {
            let r = int80_syscall3(nr::READ, fd as usize, p, size);
            int80_syscall1(nr::CLOSE, fd as usize);
            r
        } else {
            int80_syscall5(nr::PRCTL, PR_GET_AUXV, p, size, 0, 0)
        };
        r.max(0) as usize
    };
    let words = got.min(size) / core::mem::size_of::<usize>();
    use_entry(find_sysinfo(&auxv[..words]))
}

/// Finds `__kernel_vsyscall` in `auxv` and enters the kernel through it from now on
/// (`int 0x80` if `auxv` has no `AT_SYSINFO`).
///
/// # Safety
/// `auxv` is this process's auxiliary vector (pairs of words, as `_start` finds it after
/// `envp`, or as `/proc/self/auxv` holds it).
pub unsafe fn init_vsyscall(auxv: &[usize]) {
    use_entry(find_sysinfo(auxv));
}

/// Enters the kernel through `__kernel_vsyscall` at `entry`, or with `int 0x80` for
/// `None`, from now on.
///
/// # Safety
/// `entry` is this process's `__kernel_vsyscall` (its auxiliary vector's `AT_SYSINFO`).
pub unsafe fn set_vsyscall(entry: Option<usize>) {
    use_entry(entry);
}

/// The `__kernel_vsyscall` syscalls go through, `None` for `int 0x80` (looked up first
/// if it was not yet).
pub fn vsyscall() -> Option<usize> {
    let e = entry();
    (e != int80_entry()).then_some(e)
}

/// Issues syscall `n` with no arguments, through `__kernel_vsyscall` when it is known
/// (see the module docs), else through a function that makes it with `int 0x80`.
///
/// # Safety
/// The syscall must be sound to make with these arguments (see its man page), and must
/// not return twice on this stack (`vfork`: use [`int80_syscall0`]).
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let e = entry();
    let ret;
    // SAFETY: the caller vouches for the syscall; `__kernel_vsyscall` takes the
    // registers `int 0x80` takes, preserves all but `eax`, and uses the stack below
    // `esp` (so no `nostack`); flags are not promised to survive.
    unsafe {
        asm!("call {e}", e = in(reg) e, inlateout("eax") n => ret);
    }
    ret
}

/// Issues syscall `n` with one argument (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall1(n: usize, a0: usize) -> isize {
    let e = entry();
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("call {e}", e = in(reg) e, inlateout("eax") n => ret, in("ebx") a0);
    }
    ret
}

/// Issues syscall `n` with two arguments (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall2(n: usize, a0: usize, a1: usize) -> isize {
    let e = entry();
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("call {e}", e = in(reg) e, inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1);
    }
    ret
}

/// Issues syscall `n` with three arguments (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let e = entry();
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("call {e}", e = in(reg) e, inlateout("eax") n => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2);
    }
    ret
}

/// Issues syscall `n` with four arguments (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall4(n: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let e = entry();
    let ret;
    let spill = [a3, n, e];
    // SAFETY: as in `syscall0`. No register is left for the entry: it is pushed and
    // called through the stack. `esi` is saved and loaded from `spill` (whose address
    // travels in `eax`, then replaced by the number); the stack is balanced before the
    // block ends (`lea` leaves the flags alone).
    unsafe {
        asm!("push esi",
             "mov esi, dword ptr [eax]",
             "push dword ptr [eax + 8]",
             "mov eax, dword ptr [eax + 4]",
             "call dword ptr [esp]",
             "lea esp, [esp + 4]",
             "pop esi",
             inlateout("eax") spill.as_ptr() => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2);
    }
    ret
}

/// Issues syscall `n` with five arguments (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall5(n: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let e = entry();
    let ret;
    let spill = [a3, n, e];
    // SAFETY: as in `syscall4`.
    unsafe {
        asm!("push esi",
             "mov esi, dword ptr [eax]",
             "push dword ptr [eax + 8]",
             "mov eax, dword ptr [eax + 4]",
             "call dword ptr [esp]",
             "lea esp, [esp + 4]",
             "pop esi",
             inlateout("eax") spill.as_ptr() => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2, in("edi") a4);
    }
    ret
}

/// Issues syscall `n` with six arguments (see [`syscall0`]).
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let e = entry();
    let ret;
    let spill = [a3, a5, n, e];
    // SAFETY: as in `syscall4`, with `ebp` saved and loaded the same way. Nothing reads
    // `ebp` as a frame pointer between the push and the pop.
    unsafe {
        asm!("push ebp",
             "push esi",
             "mov esi, dword ptr [eax]",
             "mov ebp, dword ptr [eax + 4]",
             "push dword ptr [eax + 12]",
             "mov eax, dword ptr [eax + 8]",
             "call dword ptr [esp]",
             "lea esp, [esp + 4]",
             "pop esi",
             "pop ebp",
             inlateout("eax") spill.as_ptr() => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2, in("edi") a4);
    }
    ret
}

/// Issues syscall `n` with no arguments, with `int 0x80`.
///
/// # Safety
/// The syscall must be sound to make with these arguments (see its man page).
#[inline(always)]
pub unsafe fn int80_syscall0(n: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `int 0x80` from user mode switches to
    // the kernel stack and the kernel restores every register but `eax`.
    unsafe {
        asm!("int 0x80", inlateout("eax") n => ret, options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `n` with one argument.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
pub unsafe fn int80_syscall1(n: usize, a0: usize) -> isize {
    let ret;
    // SAFETY: as in `int80_syscall0`.
    unsafe {
        asm!("int 0x80", inlateout("eax") n => ret, in("ebx") a0,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `n` with two arguments.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
pub unsafe fn int80_syscall2(n: usize, a0: usize, a1: usize) -> isize {
    let ret;
    // SAFETY: as in `int80_syscall0`.
    unsafe {
        asm!("int 0x80", inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `n` with three arguments.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
pub unsafe fn int80_syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret;
    // SAFETY: as in `int80_syscall0`.
    unsafe {
        asm!("int 0x80", inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1, in("edx") a2,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `n` with four arguments.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
pub unsafe fn int80_syscall4(n: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret;
    // SAFETY: as in `int80_syscall0`. `esi` cannot be an operand: the fourth argument goes in
    // another register (`edi`, the only one left) and is swapped into `esi` for the
    // duration of the call, which restores `esi` afterwards.
    unsafe {
        asm!("xchg esi, {a3}", "int 0x80", "xchg esi, {a3}",
             a3 = inout(reg) a3 => _,
             inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1, in("edx") a2,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `n` with five arguments.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
pub unsafe fn int80_syscall5(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> isize {
    let ret;
    let spill = [a3, n];
    // SAFETY: as in `int80_syscall0`. `esi` is saved on the stack and loaded from `spill`
    // (whose address travels in `eax`, then replaced by the number); the stack is
    // balanced before the block ends.
    unsafe {
        asm!("push esi",
             "mov esi, dword ptr [eax]",
             "mov eax, dword ptr [eax + 4]",
             "int 0x80",
             "pop esi",
             inlateout("eax") spill.as_ptr() => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2, in("edi") a4,
             options(preserves_flags));
    }
    ret
}

/// Issues syscall `n` with six arguments.
///
/// # Safety
/// As [`int80_syscall0`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn int80_syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret;
    let spill = [a3, a5, n];
    // SAFETY: as in `int80_syscall5`, with `ebp` saved and loaded the same way. Nothing reads
    // `ebp` as a frame pointer between the push and the pop.
    unsafe {
        asm!("push ebp",
             "push esi",
             "mov esi, dword ptr [eax]",
             "mov ebp, dword ptr [eax + 4]",
             "mov eax, dword ptr [eax + 8]",
             "int 0x80",
             "pop esi",
             "pop ebp",
             inlateout("eax") spill.as_ptr() => ret,
             in("ebx") a0, in("ecx") a1, in("edx") a2, in("edi") a4,
             options(preserves_flags));
    }
    ret
}

/// Issues a syscall that does not return (`exit`, `exit_group`).
///
/// # Safety
/// `n` must be a syscall that never returns to the caller.
#[inline(always)]
pub unsafe fn syscall1_noreturn(n: usize, a0: usize) -> ! {
    // SAFETY: the caller vouches that the syscall does not return.
    unsafe { asm!("int 0x80", in("eax") n, in("ebx") a0, options(noreturn, nostack)) }
}

/// `socketcall(2)` sub-call numbers (include/uapi/linux/net.h).
pub mod socketcall {
    #![allow(missing_docs)]
    pub const SYS_SOCKET: usize = 1;
    pub const SYS_BIND: usize = 2;
    pub const SYS_CONNECT: usize = 3;
    pub const SYS_LISTEN: usize = 4;
    pub const SYS_ACCEPT: usize = 5;
    pub const SYS_GETSOCKNAME: usize = 6;
    pub const SYS_GETPEERNAME: usize = 7;
    pub const SYS_SOCKETPAIR: usize = 8;
    pub const SYS_SEND: usize = 9;
    pub const SYS_RECV: usize = 10;
    pub const SYS_SENDTO: usize = 11;
    pub const SYS_RECVFROM: usize = 12;
    pub const SYS_SHUTDOWN: usize = 13;
    pub const SYS_SETSOCKOPT: usize = 14;
    pub const SYS_GETSOCKOPT: usize = 15;
    pub const SYS_SENDMSG: usize = 16;
    pub const SYS_RECVMSG: usize = 17;
    pub const SYS_ACCEPT4: usize = 18;
    pub const SYS_RECVMMSG: usize = 19;
    pub const SYS_SENDMMSG: usize = 20;
}

/// A socket operation: its direct syscall number (Linux 4.3+) and its `socketcall`
/// sub-call number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketCall {
    direct: usize,
    sub: usize,
}

impl SocketCall {
    const fn new(direct: usize, sub: usize) -> Self {
        Self { direct, sub }
    }
    /// `socket(2)`.
    pub const SOCKET: Self = Self::new(nr::SOCKET, socketcall::SYS_SOCKET);
    /// `bind(2)`.
    pub const BIND: Self = Self::new(nr::BIND, socketcall::SYS_BIND);
    /// `connect(2)`.
    pub const CONNECT: Self = Self::new(nr::CONNECT, socketcall::SYS_CONNECT);
    /// `listen(2)`.
    pub const LISTEN: Self = Self::new(nr::LISTEN, socketcall::SYS_LISTEN);
    /// `getsockname(2)`.
    pub const GETSOCKNAME: Self = Self::new(nr::GETSOCKNAME, socketcall::SYS_GETSOCKNAME);
    /// `getpeername(2)`.
    pub const GETPEERNAME: Self = Self::new(nr::GETPEERNAME, socketcall::SYS_GETPEERNAME);
    /// `socketpair(2)`.
    pub const SOCKETPAIR: Self = Self::new(nr::SOCKETPAIR, socketcall::SYS_SOCKETPAIR);
    /// `sendto(2)`.
    pub const SENDTO: Self = Self::new(nr::SENDTO, socketcall::SYS_SENDTO);
    /// `recvfrom(2)`.
    pub const RECVFROM: Self = Self::new(nr::RECVFROM, socketcall::SYS_RECVFROM);
    /// `shutdown(2)`.
    pub const SHUTDOWN: Self = Self::new(nr::SHUTDOWN, socketcall::SYS_SHUTDOWN);
    /// `setsockopt(2)`.
    pub const SETSOCKOPT: Self = Self::new(nr::SETSOCKOPT, socketcall::SYS_SETSOCKOPT);
    /// `getsockopt(2)`.
    pub const GETSOCKOPT: Self = Self::new(nr::GETSOCKOPT, socketcall::SYS_GETSOCKOPT);
    /// `sendmsg(2)`.
    pub const SENDMSG: Self = Self::new(nr::SENDMSG, socketcall::SYS_SENDMSG);
    /// `recvmsg(2)`.
    pub const RECVMSG: Self = Self::new(nr::RECVMSG, socketcall::SYS_RECVMSG);
    /// `accept4(2)`.
    pub const ACCEPT4: Self = Self::new(nr::ACCEPT4, socketcall::SYS_ACCEPT4);
    /// `recvmmsg(2)`.
    pub const RECVMMSG: Self = Self::new(nr::RECVMMSG, socketcall::SYS_RECVMMSG);
    /// `sendmmsg(2)`.
    pub const SENDMMSG: Self = Self::new(nr::SENDMMSG, socketcall::SYS_SENDMMSG);
}

#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
const ENOSYS: isize = -38;
#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
const EPERM: isize = -1;

/// Whether a socket call's answer is "not this way" (see the module docs).
#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
#[inline(always)]
const fn refused(ret: isize) -> bool {
    ret == ENOSYS || ret == EPERM
}

#[cfg(not(baremsg_socketcall))]
#[inline(always)]
unsafe fn direct<const N: usize>(call: SocketCall, args: &[usize; N]) -> isize {
    let a = |i: usize| if i < N { args[i] } else { 0 };
    // SAFETY: the caller vouches for the call and its arguments; `N` is a constant, so
    // the match folds to one stub.
    unsafe {
        match N {
            0 => syscall0(call.direct),
            1 => syscall1(call.direct, a(0)),
            2 => syscall2(call.direct, a(0), a(1)),
            3 => syscall3(call.direct, a(0), a(1), a(2)),
            4 => syscall4(call.direct, a(0), a(1), a(2), a(3)),
            5 => syscall5(call.direct, a(0), a(1), a(2), a(3), a(4)),
            _ => syscall6(call.direct, a(0), a(1), a(2), a(3), a(4), a(5)),
        }
    }
}

#[cfg(any(baremsg_socketcall, not(baremsg_direct)))]
#[inline(always)]
unsafe fn via_socketcall<const N: usize>(call: SocketCall, args: &[usize; N]) -> isize {
    // SAFETY: `args` is the array of `unsigned long` arguments socketcall copies in;
    // the kernel reads exactly as many as the sub-call takes, which is `N`.
    unsafe { syscall2(nr::SOCKETCALL, call.sub, args.as_ptr() as usize) }
}

#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
static PATH: AtomicU8 = AtomicU8::new(SocketPath::Direct as u8);

/// Makes a socket call with `N` arguments (`N` <= 6), by the path in force (see the
/// module docs).
///
/// # Safety
/// As [`syscall0`], for the socket call named by `call`.
#[inline(always)]
pub unsafe fn socket_call<const N: usize>(call: SocketCall, args: [usize; N]) -> isize {
    #[cfg(baremsg_socketcall)]
    // SAFETY: forwarded from the caller.
    return unsafe { via_socketcall(call, &args) };

    #[cfg(all(baremsg_direct, not(baremsg_socketcall)))]
    // SAFETY: forwarded from the caller.
    return unsafe { direct(call, &args) };

    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    // SAFETY: forwarded from the caller: the arguments are valid for this call by either
    // path. A socket call that failed sent, received and created nothing, so making it
    // again by the other path repeats no effect.
    unsafe {
        let preferred = PATH.load(Ordering::Relaxed);
        let ret = if preferred == SocketPath::Direct as u8 {
            direct(call, &args)
        } else {
            via_socketcall(call, &args)
        };
        if !refused(ret) {
            return ret;
        }
        let (other, retried) = if preferred == SocketPath::Direct as u8 {
            (SocketPath::Socketcall, via_socketcall(call, &args))
        } else {
            (SocketPath::Direct, direct(call, &args))
        };
        if retried >= 0 {
            PATH.store(other as u8, Ordering::Relaxed);
        }
        if retried == ENOSYS {
            ret
        } else {
            retried
        }
    }
}

/// How socket calls reach the kernel now: the forced path, or the one in force (see the
/// module docs).
#[inline]
pub fn socket_path() -> SocketPath {
    #[cfg(baremsg_socketcall)]
    return SocketPath::Socketcall;
    #[cfg(all(baremsg_direct, not(baremsg_socketcall)))]
    return SocketPath::Direct;
    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    if PATH.load(Ordering::Relaxed) == SocketPath::Direct as u8 {
        SocketPath::Direct
    } else {
        SocketPath::Socketcall
    }
}
