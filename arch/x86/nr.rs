//! i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl), the ones baremsg uses.
//! Typed by hand; `tests/sysno.rs` checks every one against the `libc`, `syscalls` and
//! `sc` crates. Where i386 has a 16-bit legacy call and a 32-bit one (`getuid` and
//! `getuid32`), the names here are the 32-bit ones.

#![allow(missing_docs)]

pub const EXIT: usize = 1;
pub const FORK: usize = 2;
pub const READ: usize = 3;
pub const WRITE: usize = 4;
pub const CLOSE: usize = 6;
pub const EXECVE: usize = 11;
pub const GETPID: usize = 20;
pub const KILL: usize = 37;
pub const FCNTL: usize = 55;
pub const GETPPID: usize = 64;
pub const MUNMAP: usize = 91;
pub const SOCKETCALL: usize = 102;
pub const WAIT4: usize = 114;
pub const CLONE: usize = 120;
pub const MPROTECT: usize = 125;
pub const PRCTL: usize = 172;
pub const RT_SIGACTION: usize = 174;
pub const RT_SIGPROCMASK: usize = 175;
/// `mmap2`: the offset is in 4096-byte units.
pub const MMAP2: usize = 192;
/// `getuid32`.
pub const GETUID: usize = 199;
/// `getgid32`.
pub const GETGID: usize = 200;
/// `geteuid32`.
pub const GETEUID: usize = 201;
/// `getegid32`.
pub const GETEGID: usize = 202;
pub const EXIT_GROUP: usize = 252;
/// `fstatfs64`: takes the size of `struct statfs64` (84) before the buffer.
pub const FSTATFS64: usize = 269;
pub const OPENAT: usize = 295;
pub const UNLINKAT: usize = 301;
pub const DUP3: usize = 330;
pub const PIPE2: usize = 331;
pub const RECVMMSG: usize = 337;
pub const PRLIMIT64: usize = 340;
pub const SENDMMSG: usize = 345;
pub const MEMFD_CREATE: usize = 356;
pub const SOCKET: usize = 359;
pub const SOCKETPAIR: usize = 360;
pub const BIND: usize = 361;
pub const CONNECT: usize = 362;
pub const LISTEN: usize = 363;
pub const ACCEPT4: usize = 364;
pub const GETSOCKOPT: usize = 365;
pub const SETSOCKOPT: usize = 366;
pub const GETSOCKNAME: usize = 367;
pub const GETPEERNAME: usize = 368;
pub const SENDTO: usize = 369;
pub const SENDMSG: usize = 370;
pub const RECVFROM: usize = 371;
pub const RECVMSG: usize = 372;
pub const SHUTDOWN: usize = 373;
pub const STATX: usize = 383;
pub const PIDFD_OPEN: usize = 434;
