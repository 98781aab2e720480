//! The hand-typed syscall numbers in `arch/` against three independent tables: `libc`'s
//! `SYS_*`, the `syscalls` crate's `Sysno` and the `sc` crate's `nr` (x86_64 only: sc 0.2
//! no longer builds for i386); and a few calls
//! made through baremsg and through `syscalls` agree.

use baremsg::sys::{self, raw::nr};
use syscalls::Sysno;

/// `ours`, `libc::SYS_x`, `Sysno::x`, `sc::nr::X`: all four must be one number (the
/// `sc` name is unused on i386).
macro_rules! same_numbers {
    ($($ours:ident => $libc:ident, $sysno:ident, $sc:ident;)*) => {{
        let mut checked = 0;
        $(
            assert_eq!(nr::$ours as i64, libc::$libc as i64, concat!(stringify!($ours), " vs libc"));
            assert_eq!(nr::$ours, Sysno::$sysno as usize, concat!(stringify!($ours), " vs syscalls"));
            #[cfg(target_arch = "x86_64")]
            assert_eq!(nr::$ours, sc::nr::$sc, concat!(stringify!($ours), " vs sc"));
            checked += 1;
        )*
        checked
    }};
}

#[test]
fn syscall_numbers_match_libc_syscalls_and_sc() {
    let checked = same_numbers! {
        READ => SYS_read, read, READ;
        WRITE => SYS_write, write, WRITE;
        CLOSE => SYS_close, close, CLOSE;
        MPROTECT => SYS_mprotect, mprotect, MPROTECT;
        MUNMAP => SYS_munmap, munmap, MUNMAP;
        GETPID => SYS_getpid, getpid, GETPID;
        GETPPID => SYS_getppid, getppid, GETPPID;
        SOCKET => SYS_socket, socket, SOCKET;
        SOCKETPAIR => SYS_socketpair, socketpair, SOCKETPAIR;
        BIND => SYS_bind, bind, BIND;
        CONNECT => SYS_connect, connect, CONNECT;
        LISTEN => SYS_listen, listen, LISTEN;
        ACCEPT4 => SYS_accept4, accept4, ACCEPT4;
        GETSOCKOPT => SYS_getsockopt, getsockopt, GETSOCKOPT;
        SETSOCKOPT => SYS_setsockopt, setsockopt, SETSOCKOPT;
        GETSOCKNAME => SYS_getsockname, getsockname, GETSOCKNAME;
        GETPEERNAME => SYS_getpeername, getpeername, GETPEERNAME;
        SENDTO => SYS_sendto, sendto, SENDTO;
        RECVFROM => SYS_recvfrom, recvfrom, RECVFROM;
        SENDMSG => SYS_sendmsg, sendmsg, SENDMSG;
        RECVMSG => SYS_recvmsg, recvmsg, RECVMSG;
        SHUTDOWN => SYS_shutdown, shutdown, SHUTDOWN;
        SENDMMSG => SYS_sendmmsg, sendmmsg, SENDMMSG;
        RECVMMSG => SYS_recvmmsg, recvmmsg, RECVMMSG;
        FORK => SYS_fork, fork, FORK;
        EXECVE => SYS_execve, execve, EXECVE;
        EXIT => SYS_exit, exit, EXIT;
        EXIT_GROUP => SYS_exit_group, exit_group, EXIT_GROUP;
        WAIT4 => SYS_wait4, wait4, WAIT4;
        KILL => SYS_kill, kill, KILL;
        FCNTL => SYS_fcntl, fcntl, FCNTL;
        PRCTL => SYS_prctl, prctl, PRCTL;
        OPENAT => SYS_openat, openat, OPENAT;
        UNLINKAT => SYS_unlinkat, unlinkat, UNLINKAT;
        DUP3 => SYS_dup3, dup3, DUP3;
        PIPE2 => SYS_pipe2, pipe2, PIPE2;
        PRLIMIT64 => SYS_prlimit64, prlimit64, PRLIMIT64;
        MEMFD_CREATE => SYS_memfd_create, memfd_create, MEMFD_CREATE;
        RT_SIGACTION => SYS_rt_sigaction, rt_sigaction, RT_SIGACTION;
        RT_SIGPROCMASK => SYS_rt_sigprocmask, rt_sigprocmask, RT_SIGPROCMASK;
        CLONE => SYS_clone, clone, CLONE;
        STATX => SYS_statx, statx, STATX;
    };
    assert_eq!(checked, 42);
}

#[cfg(target_arch = "x86_64")]
#[test]
#[allow(clippy::unnecessary_cast)] // SYS_* is i64 here, i32 on i386
fn x86_64_only_numbers_match() {
    same_numbers! {
        MMAP => SYS_mmap, mmap, MMAP;
        GETUID => SYS_getuid, getuid, GETUID;
        GETGID => SYS_getgid, getgid, GETGID;
        GETEUID => SYS_geteuid, geteuid, GETEUID;
        GETEGID => SYS_getegid, getegid, GETEGID;
    };
    same_numbers! {
        FSTATFS => SYS_fstatfs, fstatfs, FSTATFS;
    };
    // sc 0.2 predates pidfd_open.
    assert_eq!(nr::PIDFD_OPEN as i64, libc::SYS_pidfd_open as i64);
    assert_eq!(nr::PIDFD_OPEN, Sysno::pidfd_open as usize);
}

#[cfg(target_arch = "x86")]
#[test]
fn i386_only_numbers_match() {
    same_numbers! {
        MMAP2 => SYS_mmap2, mmap2, MMAP2;
        GETUID => SYS_getuid32, getuid32, GETUID32;
        GETGID => SYS_getgid32, getgid32, GETGID32;
        GETEUID => SYS_geteuid32, geteuid32, GETEUID32;
        GETEGID => SYS_getegid32, getegid32, GETEGID32;
        SOCKETCALL => SYS_socketcall, socketcall, SOCKETCALL;
        FSTATFS64 => SYS_fstatfs64, fstatfs64, FSTATFS64;
    };
    assert_eq!(nr::PIDFD_OPEN as i64, libc::SYS_pidfd_open as i64);
    assert_eq!(nr::PIDFD_OPEN, Sysno::pidfd_open as usize);
}

#[cfg(target_arch = "x86")]
#[test]
fn socketcall_subcalls_match_kernel_headers() {
    use baremsg::sys::raw::socketcall as sc_;
    use linux_raw_sys::net as k;
    let pairs = [
        (sc_::SYS_SOCKET, k::SYS_SOCKET),
        (sc_::SYS_BIND, k::SYS_BIND),
        (sc_::SYS_CONNECT, k::SYS_CONNECT),
        (sc_::SYS_LISTEN, k::SYS_LISTEN),
        (sc_::SYS_ACCEPT, k::SYS_ACCEPT),
        (sc_::SYS_GETSOCKNAME, k::SYS_GETSOCKNAME),
        (sc_::SYS_GETPEERNAME, k::SYS_GETPEERNAME),
        (sc_::SYS_SOCKETPAIR, k::SYS_SOCKETPAIR),
        (sc_::SYS_SEND, k::SYS_SEND),
        (sc_::SYS_RECV, k::SYS_RECV),
        (sc_::SYS_SENDTO, k::SYS_SENDTO),
        (sc_::SYS_RECVFROM, k::SYS_RECVFROM),
        (sc_::SYS_SHUTDOWN, k::SYS_SHUTDOWN),
        (sc_::SYS_SETSOCKOPT, k::SYS_SETSOCKOPT),
        (sc_::SYS_GETSOCKOPT, k::SYS_GETSOCKOPT),
        (sc_::SYS_SENDMSG, k::SYS_SENDMSG),
        (sc_::SYS_RECVMSG, k::SYS_RECVMSG),
        (sc_::SYS_ACCEPT4, k::SYS_ACCEPT4),
        (sc_::SYS_RECVMMSG, k::SYS_RECVMMSG),
        (sc_::SYS_SENDMMSG, k::SYS_SENDMMSG),
    ];
    for (i, (ours, theirs)) in pairs.iter().enumerate() {
        assert_eq!(*ours as u32, *theirs, "sub-call {}", i + 1);
        assert_eq!(*ours, i + 1);
    }
}

#[test]
fn ids_agree_with_the_syscalls_crate() {
    // SAFETY: these calls take no arguments and cannot fail.
    unsafe {
        assert_eq!(
            sys::getpid() as usize,
            syscalls::syscall0(Sysno::getpid).unwrap()
        );
        assert_eq!(
            sys::getppid() as usize,
            syscalls::syscall0(Sysno::getppid).unwrap()
        );
        #[cfg(target_arch = "x86_64")]
        let (uid, gid) = (Sysno::getuid, Sysno::getgid);
        #[cfg(target_arch = "x86")]
        let (uid, gid) = (Sysno::getuid32, Sysno::getgid32);
        assert_eq!(sys::getuid() as usize, syscalls::syscall0(uid).unwrap());
        assert_eq!(sys::getgid() as usize, syscalls::syscall0(gid).unwrap());
    }
    assert_eq!(sys::getpid(), std::process::id() as i32);
}

#[test]
fn errors_agree_with_the_syscalls_crate() {
    // fcntl(F_GETFD) on an fd that is not open: both must say EBADF.
    let bad = 987_654;
    // SAFETY: F_GETFD only reads fd flags.
    let ours = unsafe { sys::fcntl(bad, sys::F_GETFD, 0) }.unwrap_err();
    // SAFETY: as above.
    let theirs = unsafe { syscalls::syscall!(Sysno::fcntl, bad, sys::F_GETFD, 0) }.unwrap_err();
    assert_eq!(ours, baremsg::Errno::EBADF);
    assert_eq!(ours.raw(), theirs.into_raw());
}

#[test]
fn a_pipe_made_by_baremsg_works_through_the_syscalls_crate() {
    let mut fds = [-1; 2];
    // SAFETY: the fds are closed below.
    unsafe { sys::pipe2(&mut fds, sys::O_CLOEXEC) }.unwrap();
    let msg = b"cross-checked";
    // SAFETY: `msg` is readable for its length.
    let n = unsafe { syscalls::syscall!(Sysno::write, fds[1], msg.as_ptr(), msg.len()) }.unwrap();
    assert_eq!(n, msg.len());
    let mut buf = [0u8; 32];
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { sys::read(fds[0], buf.as_mut_ptr(), buf.len()) }.unwrap();
    assert_eq!(&buf[..n], msg);
    // SAFETY: both fds are ours.
    unsafe {
        sys::close(fds[0]).unwrap();
        sys::close(fds[1]).unwrap();
    }
}
