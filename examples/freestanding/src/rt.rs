//! What a program with neither libc nor std needs around its `main`: the `_start` entry,
//! the exit, the panic handler, and the `memcpy`/`memmove`/`memset`/`memcmp`/`bcmp`/
//! `strlen` that compiled Rust may call (`compiler_builtins` does not export them on
//! `*-linux-gnu`, where libc normally does; LLVM also turns byte loops into them).
//!
//! Shared word for word by the freestanding example, the container init
//! (`examples/init`) and the two programs of the size comparison (`benches/size/`), so
//! that they differ only in their `main`.
//! The link flags that go with it are in `build.rs` next to this file.

use core::arch::global_asm;

/// The process's arguments and environment, as the kernel laid them out on the initial
/// stack: `argc`, then `argv[0..argc]` and a null, then `envp[..]` and a null.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const core::ffi::c_char,
}

impl Args {
    /// The number of arguments, the program's name included.
    #[allow(dead_code)] // not every program built on this file reads its arguments
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Argument `i`, without its NUL (`None` past the last).
    #[allow(dead_code)]
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the kernel put `argc` pointers to NUL-terminated strings at `argv`;
        // they live, unchanged, until the process ends.
        unsafe { Some(core::ffi::CStr::from_ptr(*self.argv.add(i)).to_bytes()) }
    }

    /// Argument `i` as a C string (`None` past the last).
    #[allow(dead_code)]
    pub fn get_cstr(&self, i: usize) -> Option<&'static core::ffi::CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: as in `get`.
        unsafe { Some(core::ffi::CStr::from_ptr(*self.argv.add(i))) }
    }

    /// The arguments: `argc` pointers to C strings, then a null.
    #[allow(dead_code)]
    pub fn argv(&self) -> *const *const core::ffi::c_char {
        self.argv
    }

    /// The environment: a null-terminated array of `NAME=value` C strings.
    #[allow(dead_code)]
    pub fn envp(&self) -> *const *const core::ffi::c_char {
        // SAFETY: `envp` starts right after `argv`'s terminating null, on the same stack.
        unsafe { self.argv.add(self.argc + 1) }
    }

    /// The auxiliary vector: `(type, value)` word pairs after `envp`'s terminating null,
    /// up to and including the `AT_NULL` pair.
    #[allow(dead_code)]
    pub fn auxv(&self) -> &'static [usize] {
        // SAFETY: the kernel puts the auxiliary vector right after `envp`'s null, on the
        // same stack, and ends it with an `AT_NULL` (0) pair; it lives, unchanged, until
        // the process ends. The walks stay within those words.
        unsafe {
            let mut env = self.envp();
            while !(*env).is_null() {
                env = env.add(1);
            }
            let start = env.add(1).cast::<usize>();
            let mut words = 0;
            while *start.add(words) != 0 {
                words += 2;
            }
            core::slice::from_raw_parts(start, words + 2)
        }
    }
}

// `_start`: the kernel jumps here with the stack pointer at `argc` and no return
// address. Align the stack to 16 bytes, as the ABI wants at a call (the kernel already
// does; this makes it a fact here rather than an assumption), and call `entry` with the
// initial stack pointer. `ud2` traps if `entry` ever returned.
#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",      // the outermost frame, for debuggers
    "mov rdi, rsp",      // entry's argument: the initial stack pointer
    "and rsp, -16",      // aligned at the call, as the SysV ABI asks
    "call {entry}",
    "ud2",
    entry = sym entry,
);

#[cfg(target_arch = "x86")]
global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",
    "mov eax, esp",
    "and esp, -16",
    "sub esp, 12",       // 12 + the 4-byte argument: aligned to 16 at the call
    "push eax",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

// aarch64: the frame and link registers zeroed (the outermost frame), the stack aligned
// to 16 (the AAPCS64 requires it at all times; the kernel already does it).
#[cfg(target_arch = "aarch64")]
global_asm!(
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "and sp, x0, #-16",
    "bl {entry}",
    "udf #0",
    entry = sym entry,
);

// 32-bit ARM: written as ARM code (`.arm`) whether the program is built as ARM or as
// Thumb code: `cfg` cannot tell which (the `thumb-mode` feature is unstable), and a
// Thumb `_start` would need `.thumb_func`, which ARM code must not have. The linker turns
// `bl` into `blx` where the callee is Thumb code, and `bx lr` returns to either. The
// stack is aligned to 16 (the AAPCS asks for 8 at a call).
#[cfg(target_arch = "arm")]
global_asm!(
    ".arm",
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov r0, sp",
    "bic sp, r0, #15",
    "bl {entry}",
    "udf #0",
    entry = sym entry,
);

// riscv64: `gp` set to `__global_pointer$` first (with relaxation off, so this very
// instruction is not turned into a gp-relative one), as the linker may have relaxed
// accesses to small data into gp-relative ones; then the stack aligned to 16.
#[cfg(target_arch = "riscv64")]
global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "mv a0, sp",
    "andi sp, sp, -16",
    "call {entry}",
    "unimp",
    entry = sym entry,
);

/// Called by `_start` with the initial stack pointer; runs `main` and exits with its
/// return value.
extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: `sp` is the initial stack pointer: `argc` is there and the argument
    // pointers follow it.
    let args = unsafe {
        Args {
            argc: *sp,
            argv: sp.add(1).cast(),
        }
    };
    exit(crate::main(args))
}

/// `exit_group(2)`: ends the process with `code`.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes one integer and does not return.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("syscall", in("rax") 231, in("rdi") code as isize,
                         options(noreturn, nostack));
        #[cfg(target_arch = "x86")]
        core::arch::asm!("int 0x80", in("eax") 252, in("ebx") code,
                         options(noreturn, nostack));
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("svc 0", in("x8") 94, in("x0") code as isize,
                         options(noreturn, nostack));
        // r7 (the number) cannot be an operand in Thumb code: see baremsg's arch/arm.
        #[cfg(target_arch = "arm")]
        core::arch::asm!("mov r7, {n}", "svc 0", n = in(reg) 248, in("r0") code,
                         options(noreturn, nostack));
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ecall", in("a7") 94, in("a0") code as isize,
                         options(noreturn, nostack));
    }
}

/// A panic ends the process with status 101, as in a Rust program with std. The
/// programs built on this file never panic on any input; the handler is here because a
/// `no_std` binary must have one, and ignoring the message keeps the formatting code out.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

/// Named by the precompiled `core` (built to unwind) when it is linked without LTO, as in
/// debug builds. Never called: with `panic = "abort"` nothing unwinds.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// 32-bit ARM: the personality routine that the EHABI unwind tables (`.ARM.exidx`) name
/// for every function, even with `panic = "abort"`; libgcc would provide it. Never
/// called: nothing unwinds.
#[cfg(target_arch = "arm")]
#[no_mangle]
extern "C" fn __aeabi_unwind_cpp_pr0() {}

// The memory functions. Written in assembly rather than Rust: a Rust byte loop can be
// turned back into a call to the very function it implements. Each one is in its own
// section, so the linker drops those no code calls.
#[cfg(target_arch = "x86_64")]
global_asm!(
    ".section .text.memcpy,\"ax\",@progbits",
    ".globl memcpy",
    ".type memcpy,@function",
    "memcpy:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "rep movsb",
    "ret",
    //
    ".section .text.memmove,\"ax\",@progbits",
    ".globl memmove",
    ".type memmove,@function",
    "memmove:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "mov r8, rdi",
    "sub r8, rsi",
    "cmp r8, rdx", // dst - src >= n (unsigned): a forward copy never reads a
    "jae 2f",      // byte it has already overwritten
    "lea rsi, [rsi + rdx - 1]",
    "lea rdi, [rdi + rdx - 1]",
    "std",
    "rep movsb",
    "cld",
    "ret",
    "2:",
    "rep movsb",
    "ret",
    //
    ".section .text.memset,\"ax\",@progbits",
    ".globl memset",
    ".type memset,@function",
    "memset:",
    "mov r8, rdi",
    "mov eax, esi",
    "mov rcx, rdx",
    "rep stosb",
    "mov rax, r8",
    "ret",
    //
    ".section .text.memcmp,\"ax\",@progbits",
    ".globl memcmp",
    ".type memcmp,@function",
    ".globl bcmp",
    ".type bcmp,@function",
    "memcmp:",
    "bcmp:",
    "xor eax, eax",
    "test rdx, rdx",
    "jz 3f",
    "2:",
    "movzx eax, byte ptr [rdi]",
    "movzx ecx, byte ptr [rsi]",
    "sub eax, ecx",
    "jnz 3f",
    "inc rdi",
    "inc rsi",
    "dec rdx",
    "jnz 2b",
    "3:",
    "ret",
    //
    ".section .text.strlen,\"ax\",@progbits",
    ".globl strlen",
    ".type strlen,@function",
    "strlen:",
    "mov rax, rdi",
    "2:",
    "cmp byte ptr [rax], 0",
    "je 3f",
    "inc rax",
    "jmp 2b",
    "3:",
    "sub rax, rdi",
    "ret",
    ".text",
);

// i386: arguments on the stack (cdecl); `esi`, `edi` and `ebx` belong to the caller.
#[cfg(target_arch = "x86")]
global_asm!(
    ".section .text.memcpy,\"ax\",@progbits",
    ".globl memcpy",
    ".type memcpy,@function",
    "memcpy:",
    "push edi",
    "push esi",
    "mov edi, [esp + 12]",
    "mov esi, [esp + 16]",
    "mov ecx, [esp + 20]",
    "mov eax, edi",
    "rep movsb",
    "pop esi",
    "pop edi",
    "ret",
    //
    ".section .text.memmove,\"ax\",@progbits",
    ".globl memmove",
    ".type memmove,@function",
    "memmove:",
    "push edi",
    "push esi",
    "mov edi, [esp + 12]",
    "mov esi, [esp + 16]",
    "mov ecx, [esp + 20]",
    "mov eax, edi",
    "sub eax, esi",
    "cmp eax, ecx", // dst - src >= n (unsigned): copy forward
    "jae 2f",
    "lea esi, [esi + ecx - 1]",
    "lea edi, [edi + ecx - 1]",
    "std",
    "rep movsb",
    "cld",
    "jmp 3f",
    "2:",
    "rep movsb",
    "3:",
    "mov eax, [esp + 12]",
    "pop esi",
    "pop edi",
    "ret",
    //
    ".section .text.memset,\"ax\",@progbits",
    ".globl memset",
    ".type memset,@function",
    "memset:",
    "push edi",
    "mov edi, [esp + 8]",
    "mov eax, [esp + 12]",
    "mov ecx, [esp + 16]",
    "rep stosb",
    "mov eax, [esp + 8]",
    "pop edi",
    "ret",
    //
    ".section .text.memcmp,\"ax\",@progbits",
    ".globl memcmp",
    ".type memcmp,@function",
    ".globl bcmp",
    ".type bcmp,@function",
    "memcmp:",
    "bcmp:",
    "push esi",
    "push edi",
    "mov esi, [esp + 12]",
    "mov edi, [esp + 16]",
    "mov edx, [esp + 20]",
    "xor eax, eax",
    "test edx, edx",
    "jz 3f",
    "2:",
    "movzx eax, byte ptr [esi]",
    "movzx ecx, byte ptr [edi]",
    "sub eax, ecx",
    "jnz 3f",
    "inc esi",
    "inc edi",
    "dec edx",
    "jnz 2b",
    "3:",
    "pop edi",
    "pop esi",
    "ret",
    //
    ".section .text.strlen,\"ax\",@progbits",
    ".globl strlen",
    ".type strlen,@function",
    "strlen:",
    "mov ecx, [esp + 4]",
    "mov eax, ecx",
    "2:",
    "cmp byte ptr [eax], 0",
    "je 3f",
    "inc eax",
    "jmp 2b",
    "3:",
    "sub eax, ecx",
    "ret",
    ".text",
);

// aarch64 (AAPCS64): arguments in x0-x2, result in x0; x0-x18 are the callee's to use.
#[cfg(target_arch = "aarch64")]
global_asm!(
    ".section .text.memcpy,\"ax\",%progbits",
    ".globl memcpy",
    ".type memcpy,%function",
    "memcpy:",
    "mov x3, x0",
    "cbz x2, 3f",
    "2:",
    "ldrb w4, [x1], #1",
    "strb w4, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 2b",
    "3:",
    "ret",
    //
    ".section .text.memmove,\"ax\",%progbits",
    ".globl memmove",
    ".type memmove,%function",
    "memmove:",
    "sub x3, x0, x1",
    "cmp x3, x2", // dst - src >= n (unsigned): a forward copy is safe
    "b.lo 4f",
    "b memcpy",
    "4:",
    "cbz x2, 3f",
    "2:",
    "subs x2, x2, #1",
    "ldrb w4, [x1, x2]",
    "strb w4, [x0, x2]",
    "b.ne 2b",
    "3:",
    "ret",
    //
    ".section .text.memset,\"ax\",%progbits",
    ".globl memset",
    ".type memset,%function",
    "memset:",
    "mov x3, x0",
    "cbz x2, 3f",
    "2:",
    "strb w1, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 2b",
    "3:",
    "ret",
    //
    ".section .text.memcmp,\"ax\",%progbits",
    ".globl memcmp",
    ".type memcmp,%function",
    ".globl bcmp",
    ".type bcmp,%function",
    "memcmp:",
    "bcmp:",
    "mov x3, x0",
    "mov w0, #0",
    "cbz x2, 3f",
    "2:",
    "ldrb w4, [x3], #1",
    "ldrb w5, [x1], #1",
    "subs w0, w4, w5",
    "b.ne 3f",
    "subs x2, x2, #1",
    "b.ne 2b",
    "3:",
    "ret",
    //
    ".section .text.strlen,\"ax\",%progbits",
    ".globl strlen",
    ".type strlen,%function",
    "strlen:",
    "mov x1, x0",
    "2:",
    "ldrb w2, [x1], #1",
    "cbnz w2, 2b",
    "sub x0, x1, x0",
    "sub x0, x0, #1",
    "ret",
    ".text",
);

// 32-bit ARM (AAPCS): arguments in r0-r2, result in r0; r0-r3 and r12 are the callee's
// to use, r4 is saved. ARM code, as `_start` is, for the same reason; Thumb callers reach
// it by `blx`, and `bx lr` (or a `pop` into `pc`) returns to either.
#[cfg(target_arch = "arm")]
global_asm!(
    ".arm",
    ".section .text.memcpy,\"ax\",%progbits",
    ".globl memcpy",
    ".type memcpy,%function",
    "memcpy:",
    "mov r12, r0",
    "cmp r2, #0",
    "beq 3f",
    "2:",
    "ldrb r3, [r1], #1",
    "strb r3, [r12], #1",
    "subs r2, r2, #1",
    "bne 2b",
    "3:",
    "bx lr",
    //
    ".section .text.memmove,\"ax\",%progbits",
    ".globl memmove",
    ".type memmove,%function",
    "memmove:",
    "sub r3, r0, r1",
    "cmp r3, r2", // dst - src >= n (unsigned): a forward copy is safe
    "blo 4f",
    "b memcpy",
    "4:",
    "cmp r2, #0",
    "beq 3f",
    "2:",
    "subs r2, r2, #1",
    "ldrb r3, [r1, r2]",
    "strb r3, [r0, r2]",
    "bne 2b",
    "3:",
    "bx lr",
    //
    ".section .text.memset,\"ax\",%progbits",
    ".globl memset",
    ".type memset,%function",
    "memset:",
    "mov r12, r0",
    "cmp r2, #0",
    "beq 3f",
    "2:",
    "strb r1, [r12], #1",
    "subs r2, r2, #1",
    "bne 2b",
    "3:",
    "bx lr",
    //
    ".section .text.memcmp,\"ax\",%progbits",
    ".globl memcmp",
    ".type memcmp,%function",
    ".globl bcmp",
    ".type bcmp,%function",
    "memcmp:",
    "bcmp:",
    "push {{r4, lr}}",
    "mov r12, r0",
    "movs r0, #0",
    "cmp r2, #0",
    "beq 3f",
    "2:",
    "ldrb r3, [r12], #1",
    "ldrb r4, [r1], #1",
    "subs r0, r3, r4",
    "bne 3f",
    "subs r2, r2, #1",
    "bne 2b",
    "3:",
    "pop {{r4, pc}}",
    //
    ".section .text.strlen,\"ax\",%progbits",
    ".globl strlen",
    ".type strlen,%function",
    "strlen:",
    "mov r1, r0",
    "2:",
    "ldrb r2, [r1], #1",
    "cmp r2, #0",
    "bne 2b",
    "sub r0, r1, r0",
    "sub r0, r0, #1",
    "bx lr",
    ".text",
);

// riscv64: arguments in a0-a2, result in a0; the t registers are the callee's to use.
#[cfg(target_arch = "riscv64")]
global_asm!(
    ".section .text.memcpy,\"ax\",@progbits",
    ".globl memcpy",
    ".type memcpy,@function",
    "memcpy:",
    "mv t0, a0",
    "beqz a2, 3f",
    "2:",
    "lbu t1, 0(a1)",
    "sb t1, 0(t0)",
    "addi a1, a1, 1",
    "addi t0, t0, 1",
    "addi a2, a2, -1",
    "bnez a2, 2b",
    "3:",
    "ret",
    //
    ".section .text.memmove,\"ax\",@progbits",
    ".globl memmove",
    ".type memmove,@function",
    "memmove:",
    "sub t0, a0, a1",
    "bltu t0, a2, 4f", // dst - src >= n (unsigned): a forward copy is safe
    "tail memcpy",
    "4:",
    "beqz a2, 3f",
    "2:",
    "addi a2, a2, -1",
    "add t1, a1, a2",
    "lbu t2, 0(t1)",
    "add t1, a0, a2",
    "sb t2, 0(t1)",
    "bnez a2, 2b",
    "3:",
    "ret",
    //
    ".section .text.memset,\"ax\",@progbits",
    ".globl memset",
    ".type memset,@function",
    "memset:",
    "mv t0, a0",
    "beqz a2, 3f",
    "2:",
    "sb a1, 0(t0)",
    "addi t0, t0, 1",
    "addi a2, a2, -1",
    "bnez a2, 2b",
    "3:",
    "ret",
    //
    ".section .text.memcmp,\"ax\",@progbits",
    ".globl memcmp",
    ".type memcmp,@function",
    ".globl bcmp",
    ".type bcmp,@function",
    "memcmp:",
    "bcmp:",
    "mv t0, a0",
    "li a0, 0",
    "beqz a2, 3f",
    "2:",
    "lbu t1, 0(t0)",
    "lbu t2, 0(a1)",
    "sub a0, t1, t2",
    "bnez a0, 3f",
    "addi t0, t0, 1",
    "addi a1, a1, 1",
    "addi a2, a2, -1",
    "bnez a2, 2b",
    "3:",
    "ret",
    //
    ".section .text.strlen,\"ax\",@progbits",
    ".globl strlen",
    ".type strlen,@function",
    "strlen:",
    "mv t0, a0",
    "2:",
    "lbu t1, 0(t0)",
    "addi t0, t0, 1",
    "bnez t1, 2b",
    "sub a0, t0, a0",
    "addi a0, a0, -1",
    "ret",
    ".text",
);
