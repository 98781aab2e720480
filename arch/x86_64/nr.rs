//! x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl), the ones baremsg
//! uses. Typed by hand; `tests/sysno.rs` checks every one against the `libc`, `syscalls`
//! and `sc` crates.

#![allow(missing_docs)]

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const CLOSE: usize = 3;
pub const MMAP: usize = 9;
pub const MPROTECT: usize = 10;
pub const MUNMAP: usize = 11;
pub const RT_SIGACTION: usize = 13;
pub const RT_SIGPROCMASK: usize = 14;
pub const GETPID: usize = 39;
pub const SOCKET: usize = 41;
pub const CONNECT: usize = 42;
pub const SENDTO: usize = 44;
pub const RECVFROM: usize = 45;
pub const SENDMSG: usize = 46;
pub const RECVMSG: usize = 47;
pub const SHUTDOWN: usize = 48;
pub const BIND: usize = 49;
pub const LISTEN: usize = 50;
pub const GETSOCKNAME: usize = 51;
pub const GETPEERNAME: usize = 52;
pub const SOCKETPAIR: usize = 53;
pub const SETSOCKOPT: usize = 54;
pub const GETSOCKOPT: usize = 55;
pub const CLONE: usize = 56;
pub const FORK: usize = 57;
pub const EXECVE: usize = 59;
pub const EXIT: usize = 60;
pub const WAIT4: usize = 61;
pub const KILL: usize = 62;
pub const FCNTL: usize = 72;
pub const GETUID: usize = 102;
pub const GETGID: usize = 104;
pub const GETEUID: usize = 107;
pub const GETEGID: usize = 108;
pub const GETPPID: usize = 110;
pub const FSTATFS: usize = 138;
pub const PRCTL: usize = 157;
pub const EXIT_GROUP: usize = 231;
pub const OPENAT: usize = 257;
pub const UNLINKAT: usize = 263;
pub const ACCEPT4: usize = 288;
pub const DUP3: usize = 292;
pub const PIPE2: usize = 293;
pub const RECVMMSG: usize = 299;
pub const PRLIMIT64: usize = 302;
pub const SENDMMSG: usize = 307;
pub const MEMFD_CREATE: usize = 319;
pub const STATX: usize = 332;
pub const PIDFD_OPEN: usize = 434;
