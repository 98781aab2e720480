//! How socket calls reach the kernel on i386: the direct syscalls (Linux 4.3+) or
//! `socketcall(2)`, chosen at run time (fallback on `ENOSYS`) or forced at build time
//! with `--cfg baremsg_socketcall` / `--cfg baremsg_direct`.
//!
//! The i386 tests refuse one path or the other with a seccomp filter, each in a forked
//! child: the child makes only raw syscalls (no allocation, no printing, no panics) and
//! exits with `exit_group(code)`, where every failure point has its own nonzero code,
//! which the parent prints by name. Each test checks what its build configuration
//! promises: with neither cfg, the refused path is bypassed; with a forced path, a
//! refused path is an `ENOSYS` the caller sees.
//!
//! On the other architectures there is only one path; one test pins that down.

#![allow(unexpected_cfgs)]

#[cfg(not(target_arch = "x86"))]
#[test]
fn socket_calls_always_go_direct_but_on_x86() {
    use baremsg::sys::{self, SocketPath};
    assert_eq!(sys::socket_path(), SocketPath::Direct);
    let mut fds = [-1; 2];
    // SAFETY: both fds are closed below.
    unsafe {
        sys::socketpair(
            sys::AF_UNIX,
            sys::SOCK_STREAM | sys::SOCK_CLOEXEC,
            0,
            &mut fds,
        )
    }
    .expect("socketpair");
    assert_eq!(sys::socket_path(), SocketPath::Direct);
    // SAFETY: the fds are ours.
    unsafe {
        sys::close(fds[0]).unwrap();
        sys::close(fds[1]).unwrap();
    }
}

#[cfg(target_arch = "x86")]
mod seccomp;

#[cfg(target_arch = "x86")]
#[path = "init_helpers/mod.rs"]
mod init_helpers;

#[cfg(target_arch = "x86")]
mod target;

#[cfg(target_arch = "x86")]
mod i386 {
    use core::ffi::c_void;
    use core::ptr;

    use baremsg::sys::{self, raw, Cmsghdr, Iovec, Msghdr, SocketPath};
    use baremsg::Errno;

    // -----------------------------------------------------------------------------------
    // seccomp filters that refuse one path
    // -----------------------------------------------------------------------------------

    use super::seccomp::{
        insn, install, InstallError, SockFilter, AUDIT_ARCH, BPF_JMP_JEQ_K, BPF_JMP_JGE_K,
        BPF_JMP_JGT_K, BPF_LD_W_ABS, BPF_RET_K, PROLOGUE, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
    };

    const ENOSYS: u32 = 38;

    /// A filter that makes every syscall whose i386 number lies in one of `ranges`
    /// (inclusive) fail with `ENOSYS`, and allows everything else.
    fn deny_with_enosys(ranges: &[(u32, u32)]) -> Vec<SockFilter> {
        let checks: usize = ranges
            .iter()
            .map(|(lo, hi)| if lo == hi { 1 } else { 2 })
            .sum();
        // 4 header instructions, the checks, then "allow" and "deny".
        let deny = 4 + checks + 1;
        let jump_to_deny = |from: usize| u8::try_from(deny - from - 1).expect("short jump");
        let mut prog = PROLOGUE.to_vec();
        for &(lo, hi) in ranges {
            let i = prog.len();
            if lo == hi {
                prog.push(insn(BPF_JMP_JEQ_K, jump_to_deny(i), 0, lo));
            } else {
                // nr >= lo ? (nr > hi ? next range : deny) : next range
                prog.push(insn(BPF_JMP_JGE_K, 0, 1, lo));
                prog.push(insn(BPF_JMP_JGT_K, 0, jump_to_deny(i + 1), hi));
            }
        }
        prog.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
        prog.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS));
        assert_eq!(prog.len(), deny + 1);
        prog
    }

    // -----------------------------------------------------------------------------------
    // Raw probes: what the kernel answers on each path once a filter is in place. An
    // invalid fd makes an allowed call fail with EBADF, a refused one with ENOSYS.
    // -----------------------------------------------------------------------------------

    const RAW_ENOSYS: isize = -38;
    const RAW_EBADF: isize = -9;

    /// `sendmsg(-1, NULL, 0)` by the direct syscall.
    fn probe_direct_sendmsg() -> isize {
        // SAFETY: an invalid fd: the call fails before reading anything.
        unsafe { raw::syscall3(raw::nr::SENDMSG, usize::MAX, 0, 0) }
    }

    /// `shutdown(-1, SHUT_RDWR)` by the direct syscall (the last of 359..=373).
    fn probe_direct_shutdown() -> isize {
        // SAFETY: an invalid fd: the call fails.
        unsafe { raw::syscall2(raw::nr::SHUTDOWN, usize::MAX, 2) }
    }

    /// `sendmsg(-1, NULL, 0)` through `socketcall`.
    fn probe_socketcall_sendmsg() -> isize {
        let args: [usize; 3] = [usize::MAX, 0, 0];
        // SAFETY: `args` holds the three arguments SYS_SENDMSG reads; invalid fd.
        unsafe {
            raw::syscall2(
                raw::nr::SOCKETCALL,
                raw::socketcall::SYS_SENDMSG,
                args.as_ptr() as usize,
            )
        }
    }

    // -----------------------------------------------------------------------------------
    // The child's work, fork-safe.
    // -----------------------------------------------------------------------------------

    /// Exit codes of the children: one per failure point.
    mod code {
        pub const NO_NEW_PRIVS: i32 = 1;
        pub const SECCOMP: i32 = 2;
        pub const PROBE_REFUSED_PATH: i32 = 3;
        pub const PROBE_ALLOWED_PATH: i32 = 4;
        pub const SOCKETPAIR: i32 = 5;
        pub const PATH_AFTER_SOCKETPAIR: i32 = 6;
        pub const PIPE: i32 = 7;
        pub const WRITE: i32 = 8;
        pub const SENDMSG: i32 = 9;
        pub const RECVMSG: i32 = 10;
        pub const NO_FD: i32 = 11;
        pub const READ: i32 = 12;
        pub const WRONG_BYTES: i32 = 13;
        pub const PATH_AT_END: i32 = 14;
        pub const NOT_ENOSYS: i32 = 15;
        pub const CLOSE: i32 = 16;
        pub const PATH_AFTER_FAILURE: i32 = 17;
        pub const SECOND_SECCOMP: i32 = 18;
        pub const SENDMMSG: i32 = 19;
        pub const RECVMMSG: i32 = 20;
    }

    /// What an exit code means.
    fn describe(code: i32) -> &'static str {
        match code {
            0 => "success",
            code::NO_NEW_PRIVS => "prctl(PR_SET_NO_NEW_PRIVS) failed",
            code::SECCOMP => "installing the seccomp filter failed",
            code::PROBE_REFUSED_PATH => "a raw call on the refused path was not ENOSYS",
            code::PROBE_ALLOWED_PATH => "a raw call on the allowed path was not EBADF",
            code::SOCKETPAIR => "socketpair failed (or did not fail as expected)",
            code::PATH_AFTER_SOCKETPAIR => "socket_path() wrong after socketpair",
            code::PIPE => "pipe2 failed",
            code::WRITE => "write to the pipe failed",
            code::SENDMSG => "sendmsg with SCM_RIGHTS failed",
            code::RECVMSG => "recvmsg failed or received the wrong byte",
            code::NO_FD => "no (or more than one) fd arrived",
            code::READ => "read through the passed fd failed",
            code::WRONG_BYTES => "wrong bytes through the passed fd",
            code::PATH_AT_END => "socket_path() wrong after the fd passing",
            code::NOT_ENOSYS => "a refused call failed with something else than ENOSYS",
            code::CLOSE => "close failed",
            code::PATH_AFTER_FAILURE => "socket_path() changed although both paths failed",
            code::SECOND_SECCOMP => "installing the second seccomp filter failed",
            code::SENDMMSG => "send_mmsg failed (or did not fail as expected)",
            code::RECVMMSG => "recv_mmsg failed, or received the wrong messages or fds",
            _ => "unknown code",
        }
    }

    const PAYLOAD: &[u8] = b"seccomp-proof bytes";

    /// A control buffer aligned for `Cmsghdr`.
    #[repr(C, align(8))]
    struct CmsgBuf([u8; 64]);

    /// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`.
    fn socketpair() -> Result<[i32; 2], Errno> {
        let mut fds = [-1; 2];
        // SAFETY: the child owns both fds; they close at exit.
        unsafe {
            sys::socketpair(
                sys::AF_UNIX,
                sys::SOCK_STREAM | sys::SOCK_CLOEXEC,
                0,
                &mut fds,
            )
        }?;
        Ok(fds)
    }

    /// Sends one byte and `fd` as `SCM_RIGHTS` through `sys::sendmsg`.
    fn send_fd(sock: i32, fd: i32) -> Result<usize, Errno> {
        let mut ctrl = CmsgBuf([0; 64]);
        let mut hdr = Cmsghdr {
            cmsg_level: sys::SOL_SOCKET,
            cmsg_type: sys::SCM_RIGHTS,
            ..Cmsghdr::default()
        };
        hdr.set_len(sys::cmsg_len(4));
        // SAFETY: `ctrl` is aligned and has room for the header and one int after it.
        unsafe {
            ptr::write(ctrl.0.as_mut_ptr().cast::<Cmsghdr>(), hdr);
            ptr::write_unaligned(ctrl.0.as_mut_ptr().add(sys::cmsg_len(0)).cast::<i32>(), fd);
        }
        let byte = [b'#'];
        let mut iov = [Iovec::from_slice(&byte)];
        let mut msg = Msghdr::new();
        msg.msg_iov = iov.as_mut_ptr();
        msg.set_iovlen(1);
        msg.msg_control = ctrl.0.as_mut_ptr().cast::<c_void>();
        msg.set_controllen(sys::cmsg_space(4));
        // SAFETY: `msg` points to live `iov` and `ctrl`; `fd` is open.
        unsafe { sys::sendmsg(sock, &msg, 0) }
    }

    /// Receives one byte and one `SCM_RIGHTS` fd through `sys::recvmsg`; returns the fd.
    fn recv_fd(sock: i32) -> Result<i32, i32> {
        let mut ctrl = CmsgBuf([0; 64]);
        let mut byte = [0u8; 1];
        let mut iov = [Iovec::from_mut_slice(&mut byte)];
        let mut msg = Msghdr::new();
        msg.msg_iov = iov.as_mut_ptr();
        msg.set_iovlen(1);
        msg.msg_control = ctrl.0.as_mut_ptr().cast::<c_void>();
        msg.set_controllen(sys::cmsg_space(4));
        // SAFETY: `msg` points to live, writable `iov` and `ctrl`; the fd installed
        // belongs to the child.
        match unsafe { sys::recvmsg(sock, &mut msg, sys::MSG_CMSG_CLOEXEC) } {
            Ok(1) if byte[0] == b'#' => {}
            _ => return Err(code::RECVMSG),
        }
        // SAFETY: the header lies at the start of `ctrl`, aligned.
        let hdr: Cmsghdr = unsafe { ptr::read(ctrl.0.as_ptr().cast()) };
        if msg.controllen() < sys::cmsg_len(4)
            || hdr.cmsg_level != sys::SOL_SOCKET
            || hdr.cmsg_type != sys::SCM_RIGHTS
            || hdr.len() != sys::cmsg_len(4)
        {
            return Err(code::NO_FD);
        }
        // SAFETY: one int follows the header, inside `ctrl`.
        let fd = unsafe { ptr::read_unaligned(ctrl.0.as_ptr().add(sys::cmsg_len(0)).cast()) };
        Ok(fd)
    }

    /// In the child: a socketpair, a pipe whose read end goes over it with
    /// `SCM_RIGHTS`, and the payload read back through the received fd. `path` is what
    /// `socket_path()` must say after the socketpair and at the end.
    fn pass_fd_through_socketpair(path: (SocketPath, SocketPath)) -> i32 {
        let [a, b] = match socketpair() {
            Ok(fds) => fds,
            Err(_) => return code::SOCKETPAIR,
        };
        if sys::socket_path() != path.0 {
            return code::PATH_AFTER_SOCKETPAIR;
        }
        let mut pipe = [-1; 2];
        // SAFETY: the child owns the new fds.
        if unsafe { sys::pipe2(&mut pipe, sys::O_CLOEXEC) }.is_err() {
            return code::PIPE;
        }
        // SAFETY: PAYLOAD is readable for its length.
        match unsafe { sys::write(pipe[1], PAYLOAD.as_ptr(), PAYLOAD.len()) } {
            Ok(n) if n == PAYLOAD.len() => {}
            _ => return code::WRITE,
        }
        if send_fd(a, pipe[0]) != Ok(1) {
            return code::SENDMSG;
        }
        let passed = match recv_fd(b) {
            Ok(fd) => fd,
            Err(c) => return c,
        };
        if passed == pipe[0] {
            return code::NO_FD;
        }
        let mut buf = [0u8; 64];
        // SAFETY: `buf` is writable for its length.
        let n = match unsafe { sys::read(passed, buf.as_mut_ptr(), buf.len()) } {
            Ok(n) => n,
            Err(_) => return code::READ,
        };
        if buf.get(..n) != Some(PAYLOAD) {
            return code::WRONG_BYTES;
        }
        if sys::socket_path() != path.1 {
            return code::PATH_AT_END;
        }
        for fd in [passed, pipe[0], pipe[1], a, b] {
            // SAFETY: each fd is the child's and closed once.
            if unsafe { sys::close(fd) }.is_err() {
                return code::CLOSE;
            }
        }
        0
    }

    /// In the child: two datagrams in one `send_mmsg`, the first with the read end of a
    /// pipe, then one `recv_mmsg` with a timeout (on i386 `recvmmsg_time64`, or the old
    /// `recvmmsg` where that is refused), the payload read back through the passed fd.
    /// Allocation-free, as the batch calls are. `Err(Errno)` is the first socket call's
    /// error, for the configurations where it must fail.
    fn batch_round_trip() -> Result<i32, Errno> {
        use baremsg::cmsg::{space_for_fds, CmsgBuf};
        use baremsg::fd::{AsFd, BorrowedFd};
        use baremsg::io::{IoSlice, IoSliceMut};
        use baremsg::unix::{recv_mmsg, send_mmsg, RecvEntry, SendEntry};

        let mut fds = [-1; 2];
        let dgram = sys::SOCK_DGRAM | sys::SOCK_CLOEXEC;
        // SAFETY: the child owns both fds; they close at exit.
        unsafe { sys::socketpair(sys::AF_UNIX, dgram, 0, &mut fds) }?;
        let mut pipe = [-1; 2];
        // SAFETY: the child owns the new fds.
        if unsafe { sys::pipe2(&mut pipe, sys::O_CLOEXEC) }.is_err() {
            return Ok(code::PIPE);
        }
        // SAFETY: PAYLOAD is readable for its length.
        if unsafe { sys::write(pipe[1], PAYLOAD.as_ptr(), PAYLOAD.len()) } != Ok(PAYLOAD.len()) {
            return Ok(code::WRITE);
        }
        // SAFETY: the fds stay open until the child exits.
        let (a, b, r) = unsafe {
            (
                BorrowedFd::borrow_raw(fds[0]),
                BorrowedFd::borrow_raw(fds[1]),
                BorrowedFd::borrow_raw(pipe[0]),
            )
        };
        let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
        let mut enc = ctl.encoder();
        if enc.push_rights(&[r]).is_err() {
            return Ok(code::SENDMMSG);
        }
        let rights = enc.finish();
        let (d0, d1) = ([IoSlice::new(b"0")], [IoSlice::new(b"1")]);
        match send_mmsg(
            a,
            &[SendEntry::new(&d0).control(&rights), SendEntry::new(&d1)],
        ) {
            Ok(2) => {}
            Err(baremsg::Error::Os(e)) => return Err(e),
            _ => return Ok(code::SENDMMSG),
        }
        let (mut x0, mut x1) = ([0u8; 2], [0u8; 2]);
        let (mut i0, mut i1) = ([IoSliceMut::new(&mut x0)], [IoSliceMut::new(&mut x1)]);
        let (mut c0, mut c1) = (
            CmsgBuf::<{ space_for_fds(1) }>::new(),
            CmsgBuf::<{ space_for_fds(1) }>::new(),
        );
        let mut entries = [
            RecvEntry::new(&mut i0, &mut c0),
            RecvEntry::new(&mut i1, &mut c1),
        ];
        let hour = Some(core::time::Duration::from_secs(3600));
        let mut got = match recv_mmsg(b, &mut entries, hour) {
            Ok(got) if got.len() == 2 => got,
            Err(baremsg::Error::Os(e)) => return Err(e),
            _ => return Ok(code::RECVMMSG),
        };
        let Some(mut m0) = got.next() else {
            return Ok(code::RECVMMSG);
        };
        let Some(passed) = m0.control.take_fds().next() else {
            return Ok(code::NO_FD);
        };
        if m0.data != b"0" || got.next().map(|m| m.data == b"1") != Some(true) {
            return Ok(code::RECVMMSG);
        }
        let mut buf = [0u8; 64];
        match baremsg::fd::read(passed.as_fd(), &mut buf) {
            Ok(n) if buf.get(..n) == Some(PAYLOAD) => Ok(0),
            Ok(_) => Ok(code::WRONG_BYTES),
            Err(_) => Ok(code::READ),
        }
    }

    // -----------------------------------------------------------------------------------
    // The parent's side.
    // -----------------------------------------------------------------------------------

    /// Builds the program for `ranges`, forks, and in the child installs it and runs
    /// `body`; asserts the child exited with 0, naming the failure point otherwise.
    fn run_under_filter(ranges: &[(u32, u32)], body: impl FnOnce() -> i32) {
        let filter = deny_with_enosys(ranges);
        // SAFETY: the child runs only `install` and `body`, which make raw syscalls only
        // (no allocation, no locks, no printing, no panics), then `exit_group`.
        let pid = match unsafe { sys::fork() }.expect("fork") {
            0 => {
                let code = match install(&filter) {
                    Ok(()) => body(),
                    Err(InstallError::NoNewPrivs) => code::NO_NEW_PRIVS,
                    Err(InstallError::Seccomp) => code::SECCOMP,
                };
                sys::exit_group(code)
            }
            pid => pid,
        };
        let mut status = 0;
        loop {
            // SAFETY: `pid` is our child; nobody else waits for it.
            match unsafe { sys::wait4(pid, &mut status, 0) } {
                Err(Errno::EINTR) => continue,
                ret => {
                    assert_eq!(ret, Ok(pid), "wait4");
                    break;
                }
            }
        }
        assert!(
            sys::wifexited(status),
            "child did not exit normally: status {status:#x}"
        );
        let code = sys::wexitstatus(status);
        assert_eq!(code, 0, "child failed with code {code}: {}", describe(code));
    }

    /// Checks, in the child, that the filter refuses what it should: `refused` must
    /// give ENOSYS, `allowed` EBADF.
    fn probes(refused: &[fn() -> isize], allowed: &[fn() -> isize]) -> Result<(), i32> {
        if refused.iter().any(|p| p() != RAW_ENOSYS) {
            return Err(code::PROBE_REFUSED_PATH);
        }
        if allowed.iter().any(|p| p() != RAW_EBADF) {
            return Err(code::PROBE_ALLOWED_PATH);
        }
        Ok(())
    }

    const SOCKETCALL: (u32, u32) = (raw::nr::SOCKETCALL as u32, raw::nr::SOCKETCALL as u32);
    const DIRECT_SENDMSG: (u32, u32) = (raw::nr::SENDMSG as u32, raw::nr::SENDMSG as u32);
    const DIRECT_RECVMSG: (u32, u32) = (raw::nr::RECVMSG as u32, raw::nr::RECVMSG as u32);
    /// Every direct socket syscall Linux 4.3 added (`socket` .. `shutdown`).
    const DIRECT_4_3: (u32, u32) = (raw::nr::SOCKET as u32, raw::nr::SHUTDOWN as u32);

    #[test]
    fn the_enosys_the_filters_return_is_errnos() {
        assert_eq!(ENOSYS as i32, Errno::ENOSYS.raw());
    }

    #[test]
    fn filter_for_one_number_and_one_range_jumps_to_the_right_returns() {
        let p = deny_with_enosys(&[(102, 102), (359, 373)]);
        let allow = insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
        let deny = insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 38);
        assert_eq!(
            p,
            [
                insn(BPF_LD_W_ABS, 0, 0, 4),
                insn(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH),
                allow,
                insn(BPF_LD_W_ABS, 0, 0, 0),
                insn(BPF_JMP_JEQ_K, 3, 0, 102), // 4 -> 8
                insn(BPF_JMP_JGE_K, 0, 1, 359), // 5 -> 6 or 7
                insn(BPF_JMP_JGT_K, 0, 1, 373), // 6 -> 7 or 8
                allow,
                deny,
            ]
        );
    }

    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    #[test]
    fn path_is_direct_after_a_successful_socketpair_on_a_modern_kernel() {
        let fds = socketpair().expect("socketpair");
        assert_eq!(sys::socket_path(), SocketPath::Direct);
        // SAFETY: the fds are ours.
        unsafe {
            sys::close(fds[0]).unwrap();
            sys::close(fds[1]).unwrap();
        }
    }

    #[cfg(baremsg_socketcall)]
    #[test]
    fn path_is_socketcall_when_forced_by_cfg() {
        let fds = socketpair().expect("socketpair");
        assert_eq!(sys::socket_path(), SocketPath::Socketcall);
        // SAFETY: the fds are ours.
        unsafe {
            sys::close(fds[0]).unwrap();
            sys::close(fds[1]).unwrap();
        }
    }

    #[cfg(all(baremsg_direct, not(baremsg_socketcall)))]
    #[test]
    fn path_is_direct_when_forced_by_cfg() {
        let fds = socketpair().expect("socketpair");
        assert_eq!(sys::socket_path(), SocketPath::Direct);
        // SAFETY: the fds are ours.
        unsafe {
            sys::close(fds[0]).unwrap();
            sys::close(fds[1]).unwrap();
        }
    }

    /// (a) Direct `sendmsg`/`recvmsg` refused. Unforced: the calls fall back to
    /// `socketcall`, and the path says so afterwards. Forced socketcall: unaffected.
    /// Forced direct: `sendmsg` fails with ENOSYS.
    #[test]
    fn seccomp_refusing_direct_sendmsg_and_recvmsg() {
        run_under_filter(&[DIRECT_SENDMSG, DIRECT_RECVMSG], || {
            if let Err(c) = probes(&[probe_direct_sendmsg], &[probe_socketcall_sendmsg]) {
                return c;
            }
            if cfg!(baremsg_socketcall) {
                pass_fd_through_socketpair((SocketPath::Socketcall, SocketPath::Socketcall))
            } else if cfg!(baremsg_direct) {
                let [a, _b] = match socketpair() {
                    Ok(fds) => fds,
                    Err(_) => return code::SOCKETPAIR,
                };
                let mut pipe = [-1; 2];
                // SAFETY: the child owns the new fds.
                if unsafe { sys::pipe2(&mut pipe, sys::O_CLOEXEC) }.is_err() {
                    return code::PIPE;
                }
                match send_fd(a, pipe[0]) {
                    Err(Errno::ENOSYS) if sys::socket_path() == SocketPath::Direct => 0,
                    Err(Errno::ENOSYS) => code::PATH_AFTER_FAILURE,
                    _ => code::NOT_ENOSYS,
                }
            } else {
                // socketpair is still direct; sendmsg falls back and switches the path.
                pass_fd_through_socketpair((SocketPath::Direct, SocketPath::Socketcall))
            }
        });
    }

    /// (b) `socketcall` refused. Unforced and forced direct: everything goes direct.
    /// Forced socketcall: the first socket call fails with ENOSYS.
    #[test]
    fn seccomp_refusing_socketcall() {
        run_under_filter(&[SOCKETCALL], || {
            if let Err(c) = probes(&[probe_socketcall_sendmsg], &[probe_direct_sendmsg]) {
                return c;
            }
            if cfg!(baremsg_socketcall) {
                match socketpair() {
                    Err(Errno::ENOSYS) => 0,
                    _ => code::SOCKETPAIR,
                }
            } else {
                pass_fd_through_socketpair((SocketPath::Direct, SocketPath::Direct))
            }
        });
    }

    /// (c) Every direct socket syscall refused, as on a kernel older than 4.3.
    /// Unforced: the first call falls back to `socketcall` and everything works
    /// through it. Forced socketcall: unaffected. Forced direct: ENOSYS.
    #[test]
    fn seccomp_refusing_every_direct_socket_call_like_a_pre_4_3_kernel() {
        run_under_filter(&[DIRECT_4_3], || {
            if let Err(c) = probes(
                &[probe_direct_sendmsg, probe_direct_shutdown],
                &[probe_socketcall_sendmsg],
            ) {
                return c;
            }
            if cfg!(baremsg_direct) && !cfg!(baremsg_socketcall) {
                match socketpair() {
                    Err(Errno::ENOSYS) => 0,
                    _ => code::SOCKETPAIR,
                }
            } else {
                pass_fd_through_socketpair((SocketPath::Socketcall, SocketPath::Socketcall))
            }
        });
    }

    /// (f) The direct batch calls refused (`recvmmsg` 337, `sendmmsg` 345 and
    /// `recvmmsg_time64` 417), as a filter written for `socketcall` refuses them.
    /// Unforced and forced socketcall: the batch goes through `socketcall`, the timeout
    /// through the old `recvmmsg`'s 32-bit form. Forced direct: ENOSYS.
    #[test]
    fn seccomp_refusing_the_direct_batch_calls() {
        let (recvmmsg, sendmmsg) = (raw::nr::RECVMMSG as u32, raw::nr::SENDMMSG as u32);
        let time64 = raw::nr::RECVMMSG_TIME64 as u32;
        run_under_filter(
            &[(recvmmsg, recvmmsg), (sendmmsg, sendmmsg), (time64, time64)],
            || match batch_round_trip() {
                Err(Errno::ENOSYS) if cfg!(baremsg_direct) && !cfg!(baremsg_socketcall) => 0,
                Ok(0) if cfg!(baremsg_direct) && !cfg!(baremsg_socketcall) => code::NOT_ENOSYS,
                Ok(c) => c,
                Err(_) => code::SENDMMSG,
            },
        );
    }

    /// (g) `socketcall` refused: the batch goes direct, the timeout through
    /// `recvmmsg_time64`. Forced socketcall: ENOSYS.
    #[test]
    fn seccomp_refusing_socketcall_leaves_the_batch_calls_direct() {
        run_under_filter(&[SOCKETCALL], || match batch_round_trip() {
            Err(Errno::ENOSYS) if cfg!(baremsg_socketcall) => 0,
            Ok(0) if cfg!(baremsg_socketcall) => code::NOT_ENOSYS,
            Ok(c) => c,
            Err(_) => code::SENDMMSG,
        });
    }

    /// (d) Both paths refused: whatever the configuration, the call fails with ENOSYS,
    /// and an unforced path stays where it was.
    #[test]
    fn seccomp_refusing_both_paths_gives_enosys_and_keeps_the_path() {
        run_under_filter(&[SOCKETCALL, DIRECT_4_3], || {
            if let Err(c) = probes(&[probe_direct_sendmsg, probe_socketcall_sendmsg], &[]) {
                return c;
            }
            let before = sys::socket_path();
            match socketpair() {
                Err(Errno::ENOSYS) if sys::socket_path() == before => 0,
                Err(Errno::ENOSYS) => code::PATH_AFTER_FAILURE,
                _ => code::NOT_ENOSYS,
            }
        });
    }

    /// (e) Unforced only: after a fallback to `socketcall`, refusing `socketcall` too
    /// (a second, stacked filter) sends the path back to the direct calls.
    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    #[test]
    fn seccomp_refusing_socketcall_later_switches_the_path_back_to_direct() {
        let second = deny_with_enosys(&[SOCKETCALL]);
        let second = &second[..];
        run_under_filter(&[DIRECT_SENDMSG], move || {
            let [a, _b] = match socketpair() {
                Ok(fds) => fds,
                Err(_) => return code::SOCKETPAIR,
            };
            // Direct sendmsg is refused: this one switches the path to socketcall.
            if send_fd(a, a) != Ok(1) {
                return code::SENDMSG;
            }
            if sys::socket_path() != SocketPath::Socketcall {
                return code::PATH_AFTER_SOCKETPAIR;
            }
            if install(second).is_err() {
                return code::SECOND_SECCOMP;
            }
            // socketcall now refused, direct socketpair allowed: back to direct.
            if socketpair().is_err() {
                return code::SOCKETPAIR;
            }
            if sys::socket_path() != SocketPath::Direct {
                return code::PATH_AT_END;
            }
            // sendmsg is now refused both ways: ENOSYS, and the path stays direct.
            match send_fd(a, a) {
                Err(Errno::ENOSYS) if sys::socket_path() == SocketPath::Direct => 0,
                Err(Errno::ENOSYS) => code::PATH_AFTER_FAILURE,
                _ => code::NOT_ENOSYS,
            }
        });
    }

    /// (f) A call refused both ways (direct getsockopt: ENOSYS, socketcall: EPERM, as in
    /// a sandbox that allows only the direct calls) leaves the path alone: the allowed
    /// calls (sendto, recvfrom, sendmsg, recvmsg) keep working, in that thread and in
    /// others whose filters allow only the direct calls, also after another thread's
    /// call moved the path to socketcall. Threads, so in a process of its own: see
    /// `threads::allowed_calls_keep_working_in_every_thread`.
    #[cfg(not(baremsg_socketcall))]
    #[test]
    fn a_call_refused_both_ways_leaves_allowed_calls_working_in_every_thread() {
        use super::init_helpers;
        use super::threads::{NAME, THREADS_CHILD};
        init_helpers::run_test_alone(&[], NAME, &[(THREADS_CHILD, "1".as_ref())]);
    }
}

/// The threads test's half that runs in a process of its own (its path must not move
/// under the other tests, nor theirs under it): started by
/// `i386::a_call_refused_both_ways_leaves_allowed_calls_working_in_every_thread` with
/// [`THREADS_CHILD`] set.
#[cfg(all(target_arch = "x86", not(baremsg_socketcall)))]
mod threads {
    use std::thread;

    use baremsg::fd::{self, AsFd};
    use baremsg::sys::{self, raw, SocketPath};
    use baremsg::unix::UnixStream;
    use baremsg::Errno;

    use super::seccomp::{install, refuse_each};

    pub const THREADS_CHILD: &str = "BAREMSG_SOCKET_PATH_THREADS_CHILD";
    pub const NAME: &str = "threads::allowed_calls_keep_working_in_every_thread";

    const GETSOCKOPT: u32 = raw::nr::GETSOCKOPT as u32;
    const SOCKETCALL: u32 = raw::nr::SOCKETCALL as u32;
    const ENOSYS: u32 = 38;
    const EPERM: u32 = 1;

    /// `SO_TYPE` of `s`, through `sys::getsockopt` (so through the routing).
    fn so_type(s: &UnixStream) -> Result<i32, Errno> {
        use baremsg::fd::AsRawFd;
        let mut ty = 0i32;
        let mut len = 4u32;
        // SAFETY: `ty` is writable for `len` bytes; the socket is open.
        unsafe {
            sys::getsockopt(
                s.as_raw_fd(),
                sys::SOL_SOCKET,
                sys::SO_TYPE,
                (&mut ty as *mut i32).cast(),
                &mut len,
            )
        }?;
        Ok(ty)
    }

    /// Bytes both ways by `sendto`/`recvfrom`, and a pipe's read end by
    /// `sendmsg`/`recvmsg` (`SCM_RIGHTS`), read through; panics naming what failed.
    fn exchange(a: &UnixStream, b: &UnixStream, who: &str) {
        assert_eq!(a.send(b"ping"), Ok(4), "{who}: send");
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf), Ok(4), "{who}: recv");
        assert_eq!(&buf[..4], b"ping");
        let (r, w) = fd::pipe().unwrap();
        fd::write_all(w.as_fd(), who.as_bytes()).unwrap();
        drop(w);
        assert_eq!(a.send_fds(b"#", &[r.as_fd()]), Ok(1), "{who}: sendmsg");
        drop(r);
        let mut slots = [None];
        let got = b.recv_fds(&mut buf, &mut slots).unwrap_or_else(|e| {
            panic!("{who}: recvmsg: {e}");
        });
        assert_eq!(got.bytes, 1, "{who}: recvmsg");
        let passed = slots[0].take().expect("the fd arrived");
        let mut text = [0u8; 64];
        let n = fd::read(passed.as_fd(), &mut text).unwrap();
        assert_eq!(
            &text[..n],
            who.as_bytes(),
            "{who}: bytes through the passed fd"
        );
    }

    /// In a thread of its own, installs a filter refusing `rules` (syscall number,
    /// errno), then runs `f`.
    fn in_filtered_thread(rules: &'static [(u32, u32)], f: impl FnOnce() + Send) {
        thread::scope(|s| {
            s.spawn(move || {
                install(&refuse_each(rules)).expect("install the filter");
                f();
            })
            .join()
            .expect("the filtered thread");
        });
    }

    #[test]
    #[ignore = "the child half of a test that starts it in a process of its own"]
    fn allowed_calls_keep_working_in_every_thread() {
        if std::env::var_os(THREADS_CHILD).is_none() {
            eprintln!("not started by its parent test: nothing done");
            return;
        }
        let forced_direct = cfg!(baremsg_direct);
        let (a, b) = UnixStream::pair().unwrap();
        assert_eq!(sys::socket_path(), SocketPath::Direct);

        // A sandbox that allows the direct calls only (socketcall: EPERM) and refuses
        // the direct getsockopt (ENOSYS): getsockopt fails both ways, and nothing else
        // may change.
        static DIRECT_ONLY_NO_GETSOCKOPT: [(u32, u32); 2] =
            [(GETSOCKOPT, ENOSYS), (SOCKETCALL, EPERM)];
        in_filtered_thread(&DIRECT_ONLY_NO_GETSOCKOPT, || {
            let want = if forced_direct {
                Errno::ENOSYS
            } else {
                Errno::EPERM
            };
            assert_eq!(so_type(&a), Err(want), "getsockopt refused both ways");
            assert_eq!(
                sys::socket_path(),
                SocketPath::Direct,
                "the path after the refusal"
            );
            exchange(&a, &b, "the thread whose getsockopt was refused");
        });
        assert_eq!(sys::socket_path(), SocketPath::Direct);
        // Another thread, direct calls only: its allowed calls work.
        static DIRECT_ONLY: [(u32, u32); 1] = [(SOCKETCALL, EPERM)];
        in_filtered_thread(&DIRECT_ONLY, || {
            exchange(&a, &b, "another thread allowing direct calls only");
        });
        exchange(&a, &b, "the unfiltered thread");

        // A thread whose sandbox refuses the direct getsockopt but allows socketcall:
        // its getsockopt goes through socketcall (unless the path is forced) and moves
        // the path there; a direct-only thread's calls must work all the same.
        static NO_DIRECT_GETSOCKOPT: [(u32, u32); 1] = [(GETSOCKOPT, ENOSYS)];
        in_filtered_thread(&NO_DIRECT_GETSOCKOPT, || {
            if forced_direct {
                assert_eq!(so_type(&a), Err(Errno::ENOSYS));
            } else {
                assert_eq!(
                    so_type(&a),
                    Ok(sys::SOCK_STREAM),
                    "getsockopt by socketcall"
                );
                assert_eq!(sys::socket_path(), SocketPath::Socketcall);
            }
            exchange(&a, &b, "the thread whose direct getsockopt was refused");
        });
        in_filtered_thread(&DIRECT_ONLY, || {
            exchange(&a, &b, "a direct-only thread after the path moved");
            assert_eq!(sys::socket_path(), SocketPath::Direct, "back to direct");
        });
        assert!(matches!(so_type(&a), Ok(sys::SOCK_STREAM)));
    }
}
