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
//! What only i386 has sits in files of its own: `entry.rs`, how the stubs enter the
//! kernel (`__kernel_vsyscall` or `int 0x80`), and `socket.rs`, how socket calls reach it
//! (`socketcall` or direct).

use core::arch::asm;

mod entry;
pub mod nr;
mod socket;

use entry::entry;
pub use entry::{init_vsyscall, set_vsyscall, vsyscall};
pub use socket::{socket_call, socket_path, socketcall, SocketCall};

/// The kernel's `__kernel_size_t`: the width of `iov_len`, `msg_iovlen`,
/// `msg_controllen` and `cmsg_len`.
pub type KernelSize = u32;

/// The kernel's `long` (`__kernel_long_t`): the width of `timeval` fields.
pub type KernelLong = i32;

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
