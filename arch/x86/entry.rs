//! i386: how the stubs enter the kernel.
//!
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
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{int80_syscall1, int80_syscall3, int80_syscall4, int80_syscall5, nr};

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
pub(super) fn entry() -> usize {
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
