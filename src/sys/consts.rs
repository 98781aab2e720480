//! Constants from the kernel's uapi headers, the same on every supported architecture
//! unless marked (x86, x86_64, arm, aarch64 and riscv64 share asm-generic's socket,
//! mman and fcntl values, but for a few `O_*` flags on arm and aarch64).
//! Typed by hand; `tests/consts.rs` checks each against the `libc` crate (and, where
//! `libc` lacks one, against the kernel headers installed on the machine).

#![allow(missing_docs)]

// Flags of send/recv calls (include/linux/socket.h).
pub const MSG_OOB: i32 = 0x1;
pub const MSG_PEEK: i32 = 0x2;
pub const MSG_DONTROUTE: i32 = 0x4;
pub const MSG_TRYHARD: i32 = 0x4;
pub const MSG_CTRUNC: i32 = 0x8;
pub const MSG_PROXY: i32 = 0x10;
pub const MSG_TRUNC: i32 = 0x20;
pub const MSG_DONTWAIT: i32 = 0x40;
pub const MSG_EOR: i32 = 0x80;
pub const MSG_WAITALL: i32 = 0x100;
pub const MSG_FIN: i32 = 0x200;
pub const MSG_SYN: i32 = 0x400;
pub const MSG_CONFIRM: i32 = 0x800;
pub const MSG_RST: i32 = 0x1000;
pub const MSG_ERRQUEUE: i32 = 0x2000;
pub const MSG_NOSIGNAL: i32 = 0x4000;
pub const MSG_MORE: i32 = 0x8000;
pub const MSG_WAITFORONE: i32 = 0x10000;
pub const MSG_ZEROCOPY: i32 = 0x400_0000;
pub const MSG_CMSG_CLOEXEC: i32 = 0x4000_0000;

// Control message types at SOL_SOCKET.
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;
pub const SCM_SECURITY: i32 = 3;
pub const SCM_PIDFD: i32 = 4;
/// `SO_TIMESTAMP_OLD`, what a 32-bit `timeval` program gets.
pub const SCM_TIMESTAMP: i32 = 29;
/// `SO_TIMESTAMPNS_OLD`.
pub const SCM_TIMESTAMPNS: i32 = 35;
/// `SO_TIMESTAMPING_OLD`.
pub const SCM_TIMESTAMPING: i32 = 37;
/// Most fds one `SCM_RIGHTS` message may carry (include/net/scm.h).
pub const SCM_MAX_FD: usize = 253;

// mmap(2) (include/uapi/asm-generic/mman-common.h, arch/x86/include/uapi/asm/mman.h).
pub const MAP_FILE: i32 = 0;
pub const MAP_SHARED: i32 = 0x1;
pub const MAP_PRIVATE: i32 = 0x2;
pub const MAP_SHARED_VALIDATE: i32 = 0x3;
pub const MAP_TYPE: i32 = 0xf;
pub const MAP_FIXED: i32 = 0x10;
pub const MAP_ANONYMOUS: i32 = 0x20;
pub const MAP_ANON: i32 = MAP_ANONYMOUS;
/// x86_64 only: map in the first 2 GiB.
#[cfg(target_arch = "x86_64")]
pub const MAP_32BIT: i32 = 0x40;
pub const MAP_GROWSDOWN: i32 = 0x100;
pub const MAP_DENYWRITE: i32 = 0x800;
pub const MAP_EXECUTABLE: i32 = 0x1000;
pub const MAP_LOCKED: i32 = 0x2000;
pub const MAP_NORESERVE: i32 = 0x4000;
pub const MAP_POPULATE: i32 = 0x8000;
pub const MAP_NONBLOCK: i32 = 0x10000;
pub const MAP_STACK: i32 = 0x20000;
pub const MAP_HUGETLB: i32 = 0x40000;
pub const MAP_FIXED_NOREPLACE: i32 = 0x10_0000;
/// What `mmap` returns on failure, in C; here it is an `Err`.
pub const MAP_FAILED: usize = usize::MAX;

pub const PROT_NONE: i32 = 0;
pub const PROT_READ: i32 = 0x1;
pub const PROT_WRITE: i32 = 0x2;
pub const PROT_EXEC: i32 = 0x4;
pub const PROT_GROWSDOWN: i32 = 0x0100_0000;
pub const PROT_GROWSUP: i32 = 0x0200_0000;

// Sockets (include/linux/socket.h, include/linux/net.h, asm-generic/socket.h).
pub const AF_UNSPEC: i32 = 0;
pub const AF_UNIX: i32 = 1;
pub const AF_LOCAL: i32 = AF_UNIX;
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_RAW: i32 = 3;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_NONBLOCK: i32 = O_NONBLOCK;
pub const SOCK_CLOEXEC: i32 = O_CLOEXEC;
pub const SOL_SOCKET: i32 = 1;
pub const SO_TYPE: i32 = 3;
pub const SO_ERROR: i32 = 4;
pub const SO_SNDBUF: i32 = 7;
pub const SO_RCVBUF: i32 = 8;
pub const SO_PASSCRED: i32 = 16;
pub const SO_PEERCRED: i32 = 17;
/// `SO_RCVTIMEO_OLD`: takes a [`Timeval`](super::Timeval) of `long`s.
pub const SO_RCVTIMEO: i32 = 20;
/// `SO_SNDTIMEO_OLD`: takes a [`Timeval`](super::Timeval) of `long`s.
pub const SO_SNDTIMEO: i32 = 21;
pub const SO_ACCEPTCONN: i32 = 30;
pub const SO_PASSSEC: i32 = 34;
pub const SO_PROTOCOL: i32 = 38;
pub const SO_DOMAIN: i32 = 39;
pub const SO_PASSPIDFD: i32 = 76;
pub const SO_PEERPIDFD: i32 = 77;
/// Linux 6.16: with 0, `SCM_RIGHTS` sent to the socket is refused (`EPERM` to the sender).
pub const SO_PASSRIGHTS: i32 = 83;
pub const SHUT_RD: i32 = 0;
pub const SHUT_WR: i32 = 1;
pub const SHUT_RDWR: i32 = 2;

// Files (asm-generic/fcntl.h; arch/arm{,64}/include/uapi/asm/fcntl.h move four flags).
pub const O_RDONLY: i32 = 0;
pub const O_WRONLY: i32 = 0o1;
pub const O_RDWR: i32 = 0o2;
pub const O_CREAT: i32 = 0o100;
pub const O_EXCL: i32 = 0o200;
pub const O_NOCTTY: i32 = 0o400;
pub const O_TRUNC: i32 = 0o1000;
pub const O_APPEND: i32 = 0o2000;
pub const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]
pub const O_DIRECTORY: i32 = 0o200000;
#[cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]
pub const O_NOFOLLOW: i32 = 0o400000;
#[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
pub const O_DIRECTORY: i32 = 0o40000;
#[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
pub const O_NOFOLLOW: i32 = 0o100000;
pub const O_CLOEXEC: i32 = 0o2000000;
pub const F_DUPFD: i32 = 0;
pub const F_GETFD: i32 = 1;
pub const F_SETFD: i32 = 2;
pub const F_GETFL: i32 = 3;
pub const F_SETFL: i32 = 4;
pub const F_DUPFD_CLOEXEC: i32 = 1030;
pub const FD_CLOEXEC: i32 = 1;
pub const AT_FDCWD: i32 = -100;
pub const AT_REMOVEDIR: i32 = 0x200;
pub const MFD_CLOEXEC: u32 = 0x1;
pub const MFD_ALLOW_SEALING: u32 = 0x2;

// Processes.
// Signal numbers: the same on every supported architecture.
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGSTKFLT: i32 = 16;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGVTALRM: i32 = 26;
pub const SIGPROF: i32 = 27;
pub const SIGWINCH: i32 = 28;
pub const SIGIO: i32 = 29;
pub const SIGPWR: i32 = 30;
pub const SIGSYS: i32 = 31;
/// `clone(2)`: also return a pidfd of the child (Linux 5.2).
pub const CLONE_PIDFD: i32 = 0x1000;
pub const WNOHANG: i32 = 1;
pub const WEXITED: i32 = 4;
pub const P_PID: i32 = 1;
pub const PR_SET_PDEATHSIG: i32 = 1;
pub const PR_SET_NO_NEW_PRIVS: i32 = 38;
pub const RLIMIT_CPU: i32 = 0;
pub const RLIMIT_FSIZE: i32 = 1;
pub const RLIMIT_DATA: i32 = 2;
pub const RLIMIT_STACK: i32 = 3;
pub const RLIMIT_CORE: i32 = 4;
pub const RLIMIT_RSS: i32 = 5;
pub const RLIMIT_NPROC: i32 = 6;
pub const RLIMIT_NOFILE: i32 = 7;
pub const RLIMIT_MEMLOCK: i32 = 8;
pub const RLIMIT_AS: i32 = 9;
pub const RLIMIT_LOCKS: i32 = 10;
pub const RLIMIT_SIGPENDING: i32 = 11;
pub const RLIMIT_MSGQUEUE: i32 = 12;
pub const RLIMIT_NICE: i32 = 13;
pub const RLIMIT_RTPRIO: i32 = 14;
pub const RLIMIT_RTTIME: i32 = 15;
/// `RLIM_INFINITY` for `prlimit64`.
pub const RLIM_INFINITY: u64 = u64::MAX;
/// `O_PATH` (asm-generic; the same on the supported targets).
pub const O_PATH: i32 = 0o10000000;
