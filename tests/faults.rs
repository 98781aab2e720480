//! Injected kernel errors: what the safe layer does when `sendmsg`, `recvmsg`, `sendto`,
//! `recvfrom`, `socket`, `accept4` or `recvmmsg` fail.
//!
//! Each case runs in a forked child that installs a seccomp filter (classic BPF written
//! by hand below) making one call fail with one errno, for one fd only where the call
//! has an fd: the same socket reached through another fd (a `dup`) is the caller's
//! retry, and it must work. The child makes raw syscalls only (baremsg allocates
//! nothing; no printing, no panics) and reports the first failed check as its exit
//! code, which the parent names. Checked every time:
//! - the call returns `Error::Os(injected errno)` (returning at all shows that `EINTR`
//!   is not retried: the filter would say `EINTR` forever);
//! - the number of open fds (`/proc/self/fd`, counted with `getdents64`) is unchanged:
//!   nothing was installed, nothing the caller owns was closed;
//! - the caller's fds are still open (`F_GETFD`) and work (bytes through them);
//! - fds in flight are not lost: a failed send leaves nothing in the socket, a failed
//!   receive leaves the fds queued for the retry, and once every socket is closed the
//!   kernel has dropped its references (a pipe whose write end was in flight reads EOF).
//!
//! Real signals: a blocking receive or send interrupted by a handler installed without
//! `SA_RESTART` is `EINTR`, reported, not retried (the documented policy of
//! `baremsg::unix`); with `SA_RESTART` the kernel restarts it and the call completes.
//!
//! i386: the filters cover the direct syscall and `socketcall`'s sub-call, which a filter
//! can test because it is a register argument (the socket call's own arguments sit
//! behind a pointer there, so on the `socketcall` path the filter cannot single out an
//! fd, and a build forced onto that path sees the retry fail too). Tests of the
//! default path check that only `ENOSYS` makes baremsg try the other path.

use std::time::{Duration, Instant};

use baremsg::cmsg::{space_for_fds, CmsgBuf, Cmsgs};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, raw};
use baremsg::unix::{UnixAddr, UnixDatagram, UnixListener, UnixSeqpacket, UnixStream};
use baremsg::{Errno, Error};

// ---------------------------------------------------------------------------------------
// seccomp filters that make chosen calls fail
// ---------------------------------------------------------------------------------------

mod seccomp;
mod target;
use seccomp::{
    insn, off_arg_lo, InstallError, SockFilter, AUDIT_ARCH, BPF_JMP_JEQ_K, BPF_LD_W_ABS, BPF_RET_K,
    OFF_ARCH, OFF_NR, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
};

/// `getdents64(2)`, which the fd count reads `/proc/self/fd` with.
const SYS_GETDENTS64: usize = raw::nr::GETDENTS64;

/// One rule: syscall `nr` (with argument `arg.0`'s low word equal to `arg.1`, if given)
/// fails with `errno`.
#[derive(Clone, Copy, Debug)]
struct Rule {
    nr: u32,
    arg: Option<(u32, u32)>,
    errno: Errno,
}

/// A filter program on the stack, so a forked child can build one without allocating.
struct Prog {
    insns: [SockFilter; 32],
    len: usize,
    overflow: bool,
}

impl Prog {
    /// Other architectures (x32, say) are allowed through; then each rule is
    /// `ld nr; jeq NR ? on : next; [ld arg; jeq V ? on : next;] ret ERRNO`; finally allow.
    fn new(rules: &[Rule]) -> Prog {
        let mut p = Prog {
            insns: [insn(0, 0, 0, 0); 32],
            len: 0,
            overflow: false,
        };
        p.push(insn(BPF_LD_W_ABS, 0, 0, OFF_ARCH));
        p.push(insn(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH));
        p.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
        for r in rules {
            p.push(insn(BPF_LD_W_ABS, 0, 0, OFF_NR));
            match r.arg {
                None => p.push(insn(BPF_JMP_JEQ_K, 0, 1, r.nr)),
                Some((i, v)) => {
                    p.push(insn(BPF_JMP_JEQ_K, 0, 3, r.nr));
                    p.push(insn(BPF_LD_W_ABS, 0, 0, off_arg_lo(i)));
                    p.push(insn(BPF_JMP_JEQ_K, 0, 1, v));
                }
            }
            p.push(insn(
                BPF_RET_K,
                0,
                0,
                SECCOMP_RET_ERRNO | r.errno.raw() as u32,
            ));
        }
        p.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
        p
    }

    fn push(&mut self, i: SockFilter) {
        match self.insns.get_mut(self.len) {
            Some(slot) => {
                *slot = i;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    fn as_slice(&self) -> &[SockFilter] {
        &self.insns[..self.len]
    }

    /// Installs the program in the calling process ([`seccomp::install`]). Fork-safe.
    fn install(&self) -> Result<(), i32> {
        if self.overflow {
            return Err(code::SECCOMP);
        }
        seccomp::install(self.as_slice()).map_err(|e| match e {
            InstallError::NoNewPrivs => code::NO_NEW_PRIVS,
            InstallError::Seccomp => code::SECCOMP,
        })
    }
}

/// The calls errors are injected into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Sendmsg,
    Recvmsg,
    Sendto,
    Recvfrom,
    Socket,
    Accept4,
    Recvmmsg,
}

impl Call {
    fn direct(self) -> u32 {
        (match self {
            Call::Sendmsg => raw::nr::SENDMSG,
            Call::Recvmsg => raw::nr::RECVMSG,
            Call::Sendto => raw::nr::SENDTO,
            Call::Recvfrom => raw::nr::RECVFROM,
            Call::Socket => raw::nr::SOCKET,
            Call::Accept4 => raw::nr::ACCEPT4,
            Call::Recvmmsg => raw::nr::RECVMMSG,
        }) as u32
    }

    #[cfg(target_arch = "x86")]
    fn sub(self) -> u32 {
        use raw::socketcall as sc;
        (match self {
            Call::Sendmsg => sc::SYS_SENDMSG,
            Call::Recvmsg => sc::SYS_RECVMSG,
            Call::Sendto => sc::SYS_SENDTO,
            Call::Recvfrom => sc::SYS_RECVFROM,
            Call::Socket => sc::SYS_SOCKET,
            Call::Accept4 => sc::SYS_ACCEPT4,
            Call::Recvmmsg => sc::SYS_RECVMMSG,
        }) as u32
    }
}

/// The rules that make `call` fail with `errno`, for argument 0 or 1 equal to `arg`
/// where given: the direct syscall, and on i386 `socketcall(SYS_<call>, ...)` too
/// (whatever the arguments: they sit behind socketcall's pointer).
fn inject(call: Call, errno: Errno, arg: Option<(u32, u32)>) -> [Option<Rule>; 2] {
    let direct = Rule {
        nr: call.direct(),
        arg,
        errno,
    };
    #[cfg(target_arch = "x86")]
    let via_socketcall = Some(Rule {
        nr: raw::nr::SOCKETCALL as u32,
        arg: Some((0, call.sub())),
        errno,
    });
    #[cfg(not(target_arch = "x86"))]
    let via_socketcall = None;
    [Some(direct), via_socketcall]
}

/// Installs the rules of `inject(call, errno, arg)`.
fn install(call: Call, errno: Errno, arg: Option<(u32, u32)>) -> Result<(), i32> {
    let rules = inject(call, errno, arg);
    let mut list = [rules[0].unwrap_or(DUMMY); 2];
    let mut n = 0;
    for r in rules.into_iter().flatten() {
        list[n] = r;
        n += 1;
    }
    Prog::new(&list[..n]).install()
}

const DUMMY: Rule = Rule {
    nr: u32::MAX,
    arg: None,
    errno: Errno::EPERM,
};

/// Whether a filter can single out one fd: not when every socket call goes through
/// `socketcall` (a build forced onto that path on i386).
const FD_FILTERS_WORK: bool = !(cfg!(target_arch = "x86") && cfg!(baremsg_socketcall));

/// The errnos injected into every call.
const ERRNOS: [Errno; 7] = [
    Errno::EINTR,
    Errno::EAGAIN,
    Errno::ENOBUFS,
    Errno::EMFILE,
    Errno::ENOMEM,
    Errno::EPIPE,
    Errno::ECONNRESET,
];

// ---------------------------------------------------------------------------------------
// The child's side: fork-safe helpers, failure codes
// ---------------------------------------------------------------------------------------

/// Exit codes of the children: one per failure point. `ERRNO_BASE + e`: a call failed
/// with errno `e` where another result was expected.
mod code {
    pub const NO_NEW_PRIVS: i32 = 1;
    pub const SECCOMP: i32 = 2;
    pub const SETUP: i32 = 3;
    pub const COUNT: i32 = 4;
    pub const NOT_INJECTED: i32 = 5;
    pub const WRONG_ERROR: i32 = 6;
    pub const LEAK_AFTER_FAILURE: i32 = 7;
    pub const CLOSED: i32 = 8;
    pub const UNUSABLE: i32 = 9;
    pub const SOMETHING_WENT_OUT: i32 = 10;
    pub const RETRY: i32 = 11;
    pub const RECEIVED_WRONG: i32 = 12;
    pub const LEAK_AT_END: i32 = 13;
    pub const IN_FLIGHT_KEPT: i32 = 14;
    pub const PATH: i32 = 15;
    pub const SIGNALS: i32 = 16;
    pub const NOT_RESTARTED: i32 = 17;
    pub const FILL: i32 = 18;
    pub const QEMU_SECCOMP: i32 = 19;
    pub const ERRNO_BASE: i32 = 100;
}

fn describe(c: i32) -> String {
    match c {
        0 => "success".into(),
        code::NO_NEW_PRIVS => "prctl(PR_SET_NO_NEW_PRIVS) failed".into(),
        code::SECCOMP => "installing the seccomp filter failed".into(),
        code::SETUP => "setting up sockets or pipes failed".into(),
        code::COUNT => "counting /proc/self/fd failed".into(),
        code::NOT_INJECTED => "the call succeeded although the filter makes it fail".into(),
        code::WRONG_ERROR => "the call failed with a non-kernel error".into(),
        code::LEAK_AFTER_FAILURE => "the failed call changed the number of open fds".into(),
        code::CLOSED => "an fd the caller owns is no longer open (F_GETFD)".into(),
        code::UNUSABLE => "an fd the caller owns no longer carries bytes".into(),
        code::SOMETHING_WENT_OUT => "the failed send delivered something".into(),
        code::RETRY => "the retry through another fd did not do what it should".into(),
        code::RECEIVED_WRONG => "the retry received the wrong bytes or fds".into(),
        code::LEAK_AT_END => "the number of open fds is not back at its start".into(),
        code::IN_FLIGHT_KEPT => {
            "an fd in flight was still referenced after the sockets closed".into()
        }
        code::PATH => "socket_path() is not what it should be".into(),
        code::SIGNALS => "sigaction, sigprocmask or setitimer failed".into(),
        code::NOT_RESTARTED => "with SA_RESTART the receive did not complete".into(),
        code::FILL => "filling the socket did not end in EAGAIN".into(),
        code::QEMU_SECCOMP => {
            "installing a filter did not fail as under qemu-user 7.2 (seccomp() ENOSYS, \
             then prctl(PR_SET_SECCOMP) EINVAL)"
                .into()
        }
        c if c > code::ERRNO_BASE => {
            format!(
                "a call failed with {}",
                Errno::from_raw(c - code::ERRNO_BASE)
            )
        }
        _ => "unknown code".into(),
    }
}

/// Ok if `res` is the kernel error `want`.
fn expect_errno<T>(res: Result<T, Error>, want: Errno) -> Result<(), i32> {
    match res {
        Err(Error::Os(e)) if e == want => Ok(()),
        Err(Error::Os(e)) => Err(code::ERRNO_BASE + e.raw()),
        Err(_) => Err(code::WRONG_ERROR),
        Ok(_) => Err(code::NOT_INJECTED),
    }
}

/// Maps any error to `c`.
fn or<T, E>(res: Result<T, E>, c: i32) -> Result<T, i32> {
    res.map_err(|_| c)
}

fn ensure(cond: bool, c: i32) -> Result<(), i32> {
    if cond {
        Ok(())
    } else {
        Err(c)
    }
}

/// Open fds of this process, from `/proc/self/fd` (the directory's own fd left out),
/// with `openat` and `getdents64` into a stack buffer.
fn open_fds() -> Result<usize, i32> {
    // SAFETY: a NUL-terminated path; the new fd is closed below.
    let dir = unsafe {
        sys::openat(
            sys::AT_FDCWD,
            c"/proc/self/fd".as_ptr().cast(),
            sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC,
            0,
        )
    }
    .map_err(|_| code::COUNT)?;
    // SAFETY: openat returned a new fd nobody else owns.
    let dir = unsafe { OwnedFd::from_raw_fd(dir) };
    let mut buf = [0u64; 512];
    let mut entries = 0usize;
    loop {
        // SAFETY: `buf` is writable for its size in bytes.
        let n = unsafe {
            raw::syscall3(
                SYS_GETDENTS64,
                dir.as_raw_fd() as usize,
                buf.as_mut_ptr() as usize,
                std::mem::size_of_val(&buf),
            )
        };
        if n < 0 {
            return Err(code::COUNT);
        }
        if n == 0 {
            break;
        }
        // SAFETY: the kernel filled `n` bytes of `buf`.
        let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n as usize) };
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        let mut at = 0;
        while at + 19 < bytes.len() {
            let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            let name = &bytes[at + 19..];
            let dot = name.starts_with(b".\0") || name.starts_with(b"..\0");
            if !dot {
                entries += 1;
            }
            if reclen == 0 {
                return Err(code::COUNT);
            }
            at += reclen;
        }
    }
    Ok(entries - 1)
}

/// Every fd is open (`F_GETFD` succeeds).
fn all_open(fds: &[BorrowedFd<'_>]) -> Result<(), i32> {
    for f in fds {
        or(baremsg::fd::is_cloexec(f), code::CLOSED)?;
    }
    Ok(())
}

/// Bytes written to `w` come out of `r`.
fn pipe_carries(w: BorrowedFd<'_>, r: BorrowedFd<'_>, what: &[u8]) -> Result<(), i32> {
    or(fd::write_all(w, what), code::UNUSABLE)?;
    let mut buf = [0u8; 16];
    let n = or(fd::read(r, &mut buf), code::UNUSABLE)?;
    ensure(&buf[..n] == what, code::UNUSABLE)
}

/// A unique abstract address, made without allocating: `baremsg-faults-<pid>`.
fn unique_abstract() -> Result<UnixAddr, i32> {
    let mut name = [0u8; 32];
    let prefix = b"baremsg-faults-";
    name[..prefix.len()].copy_from_slice(prefix);
    let mut len = prefix.len();
    let pid = sys::getpid() as u32;
    for shift in (0..8).rev() {
        name[len] = b"0123456789abcdef"[((pid >> (shift * 4)) & 0xf) as usize];
        len += 1;
    }
    or(UnixAddr::from_abstract(&name[..len]), code::SETUP)
}

// ---------------------------------------------------------------------------------------
// The parent's side
// ---------------------------------------------------------------------------------------

/// Forks; the child runs `body` and exits with 0 or its failure code. Returns the code.
/// A child still running after 30 s is killed and the test fails.
fn in_child(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    // SAFETY: the child runs only `body`, which makes raw syscalls and uses baremsg's
    // allocation-free safe layer (plus async-signal-safe libc calls for signals), then
    // exit_group.
    let pid = match unsafe { sys::fork() }.expect("fork") {
        0 => {
            let c = match body() {
                Ok(()) => 0,
                Err(c) => c,
            };
            sys::exit_group(c)
        }
        pid => pid,
    };
    let start = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child; nobody else waits for it.
        match unsafe { sys::wait4(pid, &mut status, sys::WNOHANG) } {
            Ok(0) if start.elapsed() > Duration::from_secs(30) => {
                // SAFETY: our own child.
                unsafe { sys::kill(pid, sys::SIGKILL) }.expect("kill");
                // SAFETY: as above.
                unsafe { sys::wait4(pid, &mut status, 0) }.expect("wait4");
                panic!("child hung for 30 s and was killed");
            }
            Ok(0) => std::thread::sleep(Duration::from_millis(1)),
            Ok(p) => {
                assert_eq!(p, pid);
                break;
            }
            Err(Errno::EINTR) => {}
            Err(e) => panic!("wait4: {e}"),
        }
    }
    assert!(
        sys::wifexited(status),
        "child killed by signal {}",
        sys::wtermsig(status)
    );
    sys::wexitstatus(status)
}

/// Runs `case(errno)` in a child for each injected errno; asserts every child succeeded.
/// Under qemu-user, which emulates no seccomp, checks instead that both ways of
/// installing a filter fail as qemu's do, and says that `what` went unchecked.
fn for_each_errno(what: &str, case: fn(Errno) -> Result<(), i32>) {
    if target::under_qemu() {
        seccomp_is_refused_as_qemu_refuses_it();
        target::qemu_note(&format!(
            "{what}: not checked: qemu-user has no seccomp (seccomp() ENOSYS, \
             prctl(PR_SET_SECCOMP) EINVAL)"
        ));
        return;
    }
    let mut failures = Vec::new();
    for e in ERRNOS {
        let c = in_child(|| case(e));
        if c != 0 {
            failures.push(format!(
                "{what} with {}: code {c}: {}",
                e.name().unwrap(),
                describe(c)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// In a child: `seccomp(SECCOMP_SET_MODE_FILTER)` is `ENOSYS` and
/// `prctl(PR_SET_SECCOMP)` is `EINVAL`, as under qemu-user 7.2.
fn seccomp_is_refused_as_qemu_refuses_it() {
    let c = in_child(|| match seccomp::both_ways_in() {
        Ok((direct, old)) => {
            let neg = |e: Errno| -(e.raw() as isize);
            ensure(direct == neg(Errno::ENOSYS), code::QEMU_SECCOMP)?;
            ensure(old == neg(Errno::EINVAL), code::QEMU_SECCOMP)
        }
        Err(_) => Err(code::NO_NEW_PRIVS),
    });
    assert_eq!(c, 0, "seccomp under qemu: code {c}: {}", describe(c));
}

// ---------------------------------------------------------------------------------------
// Cases, one per call
// ---------------------------------------------------------------------------------------

/// `send_fds` (sendmsg) fails with `e` on `tx`'s fd: nothing goes out, the fd to send
/// and the socket stay open and work; the same send through a dup of `tx` delivers.
fn sendmsg_case(e: Errno) -> Result<(), i32> {
    let (tx, rx) = or(UnixStream::pair(), code::SETUP)?;
    or(rx.set_nonblocking(true), code::SETUP)?;
    let (r, w) = or(fd::pipe(), code::SETUP)?;
    let base = open_fds()?;
    install(Call::Sendmsg, e, Some((0, tx.as_raw_fd() as u32)))?;

    expect_errno(tx.send_fds(b"x", &[r.as_fd()]), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), rx.as_fd(), r.as_fd(), w.as_fd()])?;
    pipe_carries(w.as_fd(), r.as_fd(), b"still")?;
    // sendto is not filtered: the socket still sends, and what arrives first is that.
    ensure(tx.send(b"y") == Ok(1), code::UNUSABLE)?;
    let mut buf = [0u8; 4];
    let mut control = CmsgBuf::<{ space_for_fds(1) }>::new();
    {
        let got = or(
            rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control),
            code::UNUSABLE,
        )?;
        ensure(
            got.bytes == 1 && got.control.is_empty(),
            code::SOMETHING_WENT_OUT,
        )?;
    }
    ensure(buf[0] == b'y', code::SOMETHING_WENT_OUT)?;

    let tx2 = or(tx.try_clone(), code::SETUP)?;
    let retry = tx2.send_fds(b"x", &[r.as_fd()]);
    if FD_FILTERS_WORK {
        ensure(retry == Ok(1), code::RETRY)?;
        let mut slot = [None];
        let got = or(rx.recv_fds(&mut buf, &mut slot), code::RETRY)?;
        ensure(
            got.bytes == 1 && buf[0] == b'x' && got.fds == 1,
            code::RECEIVED_WRONG,
        )?;
        let passed = slot[0].take().ok_or(code::RECEIVED_WRONG)?;
        pipe_carries(w.as_fd(), passed.as_fd(), b"passed")?;
    } else {
        expect_errno(retry, e)?;
    }
    drop(tx2);
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

/// `recv_msg` (recvmsg) fails with `e` on `rx`'s fd while a pipe's write end is in
/// flight: nothing is installed, the fd stays queued and a dup of `rx` receives it; once
/// every socket is closed the pipe has no writer left.
fn recvmsg_case(e: Errno) -> Result<(), i32> {
    let (tx, rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
    let (r, w) = or(fd::pipe(), code::SETUP)?;
    or(baremsg::fd::set_nonblocking(r.as_fd(), true), code::SETUP)?;
    ensure(tx.send_fds(b"x", &[w.as_fd()]) == Ok(1), code::SETUP)?;
    drop(w); // now only in flight
    let base = open_fds()?;
    install(Call::Recvmsg, e, Some((0, rx.as_raw_fd() as u32)))?;

    let mut buf = [0u8; 4];
    let mut control = CmsgBuf::<{ space_for_fds(1) }>::new();
    expect_errno(
        rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control),
        e,
    )?;
    let mut slot = [None];
    expect_errno(rx.recv_fds(&mut buf, &mut slot), e)?;
    ensure(slot[0].is_none(), code::LEAK_AFTER_FAILURE)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), rx.as_fd(), r.as_fd()])?;
    // The write end in flight still counts as a writer.
    ensure(
        fd::read(r.as_fd(), &mut buf) == Err(Errno::EAGAIN),
        code::IN_FLIGHT_KEPT,
    )?;

    let rx2 = or(rx.try_clone(), code::SETUP)?;
    if FD_FILTERS_WORK {
        let got = or(rx2.recv_fds(&mut buf, &mut slot), code::RETRY)?;
        ensure(
            got.bytes == 1 && buf[0] == b'x' && got.fds == 1,
            code::RECEIVED_WRONG,
        )?;
        let w2 = slot[0].take().ok_or(code::RECEIVED_WRONG)?;
        ensure(open_fds()? == base + 2, code::RECEIVED_WRONG)?;
        pipe_carries(w2.as_fd(), r.as_fd(), b"arrived")?;
    } else {
        expect_errno(rx2.recv_fds(&mut buf, &mut slot), e)?;
    }
    drop((tx, rx, rx2));
    // No writer anywhere: neither installed here nor held by a socket queue.
    ensure(fd::read(r.as_fd(), &mut buf) == Ok(0), code::IN_FLIGHT_KEPT)?;
    ensure(open_fds()? == base - 2, code::LEAK_AT_END)
}

/// `recv_mmsg` (recvmmsg, without a timeout) fails with `e` on `rx`'s fd: nothing is
/// installed, both messages and their fds stay queued, and a dup of `rx` receives the
/// whole batch, each message owning its fd (closed with the batch, untaken).
fn recvmmsg_case(e: Errno) -> Result<(), i32> {
    use baremsg::unix::{recv_mmsg, RecvEntry};
    let (tx, rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
    let (r, w) = or(fd::pipe(), code::SETUP)?;
    or(baremsg::fd::set_nonblocking(r.as_fd(), true), code::SETUP)?;
    ensure(tx.send_fds(b"a", &[w.as_fd()]) == Ok(1), code::SETUP)?;
    ensure(tx.send_fds(b"b", &[w.as_fd()]) == Ok(1), code::SETUP)?;
    drop(w); // now only in flight, twice
    let base = open_fds()?;
    install(Call::Recvmmsg, e, Some((0, rx.as_raw_fd() as u32)))?;

    let (mut b0, mut b1) = ([0u8; 2], [0u8; 2]);
    let (mut i0, mut i1) = ([IoSliceMut::new(&mut b0)], [IoSliceMut::new(&mut b1)]);
    let mut c0 = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut c1 = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut entries = [
        RecvEntry::new(&mut i0, &mut c0),
        RecvEntry::new(&mut i1, &mut c1),
    ];
    expect_errno(recv_mmsg(&rx, &mut entries, None).map(|b| b.len()), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), rx.as_fd(), r.as_fd()])?;
    let mut byte = [0u8; 1];
    ensure(
        fd::read(r.as_fd(), &mut byte) == Err(Errno::EAGAIN),
        code::IN_FLIGHT_KEPT,
    )?;

    let rx2 = or(rx.try_clone(), code::SETUP)?;
    if FD_FILTERS_WORK {
        let batch = or(recv_mmsg(&rx2, &mut entries, None), code::RETRY)?;
        ensure(batch.len() == 2, code::RECEIVED_WRONG)?;
        ensure(open_fds()? == base + 3, code::RECEIVED_WRONG)?;
        let mut seen = 0;
        for mut m in batch {
            let Some(w2) = m.control.take_fds().next() else {
                return Err(code::RECEIVED_WRONG);
            };
            ensure(m.data == [b"a", b"b"][seen], code::RECEIVED_WRONG)?;
            seen += 1;
            pipe_carries(w2.as_fd(), r.as_fd(), b"arrived")?;
        }
        ensure(seen == 2 && open_fds()? == base + 1, code::RECEIVED_WRONG)?;
    } else {
        expect_errno(recv_mmsg(&rx2, &mut entries, None).map(|b| b.len()), e)?;
    }
    drop((tx, rx, rx2));
    ensure(
        fd::read(r.as_fd(), &mut byte) == Ok(0),
        code::IN_FLIGHT_KEPT,
    )?;
    ensure(open_fds()? == base - 2, code::LEAK_AT_END)
}

/// `send` (sendto) fails with `e` on `tx`'s fd; a dup of `tx` sends.
fn sendto_case(e: Errno) -> Result<(), i32> {
    let (tx, rx) = or(UnixDatagram::pair(), code::SETUP)?;
    or(rx.set_nonblocking(true), code::SETUP)?;
    let base = open_fds()?;
    install(Call::Sendto, e, Some((0, tx.as_raw_fd() as u32)))?;
    expect_errno(tx.send(b"x"), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), rx.as_fd()])?;
    let mut buf = [0u8; 4];
    ensure(
        rx.recv(&mut buf) == Err(Error::Os(Errno::EAGAIN)),
        code::SOMETHING_WENT_OUT,
    )?;
    let tx2 = or(tx.try_clone(), code::SETUP)?;
    if FD_FILTERS_WORK {
        ensure(tx2.send(b"z") == Ok(1), code::RETRY)?;
        ensure(
            rx.recv(&mut buf) == Ok(1) && buf[0] == b'z',
            code::RECEIVED_WRONG,
        )?;
    } else {
        expect_errno(tx2.send(b"z"), e)?;
    }
    drop(tx2);
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

/// `recv` (recvfrom) fails with `e` on `rx`'s fd; the datagram waits for a dup of `rx`.
fn recvfrom_case(e: Errno) -> Result<(), i32> {
    let (tx, rx) = or(UnixDatagram::pair(), code::SETUP)?;
    ensure(tx.send(b"q") == Ok(1), code::SETUP)?;
    let base = open_fds()?;
    install(Call::Recvfrom, e, Some((0, rx.as_raw_fd() as u32)))?;
    let mut buf = [0u8; 4];
    expect_errno(rx.recv(&mut buf), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), rx.as_fd()])?;
    let rx2 = or(rx.try_clone(), code::SETUP)?;
    if FD_FILTERS_WORK {
        ensure(rx2.recv(&mut buf) == Ok(1) && buf[0] == b'q', code::RETRY)?;
    } else {
        expect_errno(rx2.recv(&mut buf), e)?;
    }
    drop(rx2);
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

/// `socket` fails with `e` for datagram sockets (argument 1, the type): creating one
/// fails and leaves no fd; stream sockets are still made.
fn socket_case(e: Errno) -> Result<(), i32> {
    let addr = unique_abstract()?;
    let base = open_fds()?;
    let dgram = (sys::SOCK_DGRAM | sys::SOCK_CLOEXEC) as u32;
    install(Call::Socket, e, Some((1, dgram)))?;
    expect_errno(UnixDatagram::unbound(), e)?;
    expect_errno(UnixDatagram::bind(&addr), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    // socketpair is another syscall: still there.
    let pair = or(UnixDatagram::pair(), code::UNUSABLE)?;
    if FD_FILTERS_WORK {
        let l = or(UnixListener::bind(&addr), code::RETRY)?;
        let c = or(UnixStream::connect(&addr), code::RETRY)?;
        drop((l, c));
    } else {
        expect_errno(UnixListener::bind(&addr), e)?;
    }
    drop(pair);
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

/// `accept` (accept4) fails with `e` on the listener's fd: no fd appears, the client's
/// connection stays queued, and a dup of the listener accepts it.
fn accept4_case(e: Errno) -> Result<(), i32> {
    let addr = unique_abstract()?;
    let l = or(UnixListener::bind(&addr), code::SETUP)?;
    let client = or(UnixStream::connect(&addr), code::SETUP)?;
    ensure(client.send(b"hello") == Ok(5), code::SETUP)?;
    let base = open_fds()?;
    install(Call::Accept4, e, Some((0, l.as_raw_fd() as u32)))?;
    expect_errno(l.accept(), e)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[l.as_fd(), client.as_fd()])?;
    let dup = or(l.as_fd().try_clone_to_owned(), code::SETUP)?;
    let l2 = UnixListener::try_from_fd(dup).map_err(|_| code::SETUP)?;
    if FD_FILTERS_WORK {
        let (conn, _) = or(l2.accept(), code::RETRY)?;
        let mut buf = [0u8; 8];
        ensure(
            conn.recv(&mut buf) == Ok(5) && &buf[..5] == b"hello",
            code::RECEIVED_WRONG,
        )?;
        ensure(conn.send(b"!") == Ok(1), code::UNUSABLE)?;
        ensure(
            client.recv(&mut buf) == Ok(1) && buf[0] == b'!',
            code::UNUSABLE,
        )?;
    } else {
        expect_errno(l2.accept(), e)?;
    }
    drop(l2);
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

#[test]
fn sendmsg_errors_are_reported_and_the_fds_to_send_stay_open() {
    for_each_errno("sendmsg", sendmsg_case);
}

#[test]
fn recvmsg_errors_are_reported_and_fds_in_flight_wait_for_the_retry() {
    for_each_errno("recvmsg", recvmsg_case);
}

#[test]
fn recvmmsg_errors_are_reported_and_every_messages_fds_wait_for_the_retry() {
    for_each_errno("recvmmsg", recvmmsg_case);
}

#[test]
fn sendto_errors_are_reported_and_nothing_goes_out() {
    for_each_errno("sendto", sendto_case);
}

#[test]
fn recvfrom_errors_are_reported_and_the_datagram_waits() {
    for_each_errno("recvfrom", recvfrom_case);
}

/// With no control data, `send_msg` is `sendto` and `recv_msg` is `recvfrom` (the
/// cheaper calls, issue 5): filters failing those two calls make them fail with the
/// injected errno, while the same methods with control data, through `sendmsg` and
/// `recvmsg`, which no filter names, still pass an fd.
fn plain_messages_case(e: Errno) -> Result<(), i32> {
    let (tx, rx) = or(UnixDatagram::pair(), code::SETUP)?;
    let (r, w) = or(fd::pipe(), code::SETUP)?;
    install(Call::Sendto, e, None)?;
    install(Call::Recvfrom, e, None)?;
    expect_errno(tx.send_msg(&[IoSlice::new(b"a")], &Cmsgs::empty()), e)?;
    let mut send_ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = send_ctl.encoder();
    or(enc.push_rights(&[r.as_fd()]), code::SETUP)?;
    ensure(
        tx.send_msg(&[IoSlice::new(b"b")], &enc.finish()) == Ok(1),
        code::UNUSABLE,
    )?;
    let mut buf = [0u8; 4];
    expect_errno(rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut []), e)?;
    expect_errno(
        rx.recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut []),
        e,
    )?;
    let mut recv_ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut got = or(
        rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut recv_ctl),
        code::UNUSABLE,
    )?;
    ensure(got.bytes == 1 && buf[0] == b'b', code::RECEIVED_WRONG)?;
    let passed = got.control.take_fds().next().ok_or(code::RECEIVED_WRONG)?;
    pipe_carries(w.as_fd(), passed.as_fd(), b"sendmsg")
}

#[test]
fn messages_without_control_data_go_through_sendto_and_recvfrom() {
    for_each_errno("sendto/recvfrom for plain messages", plain_messages_case);
}

#[test]
fn socket_errors_are_reported_and_leave_no_fd() {
    for_each_errno("socket", socket_case);
}

#[test]
fn accept4_errors_are_reported_and_the_connection_waits() {
    for_each_errno("accept4", accept4_case);
}

// ---------------------------------------------------------------------------------------
// Real signals
// ---------------------------------------------------------------------------------------

/// Installs `handler` for SIGALRM (with `SA_RESTART` if `restart`) and a repeating
/// `ITIMER_REAL` of `period`. A repeating timer so that a tick that lands between two
/// calls does no harm: the next one interrupts the blocking call. Fork-safe: sigaction
/// and setitimer are async-signal-safe.
fn tick(handler: extern "C" fn(i32), restart: bool, period: Duration) -> Result<(), i32> {
    // SAFETY: a zeroed sigaction is valid; the handler is an extern "C" fn(int).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = if restart { libc::SA_RESTART } else { 0 };
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut()) != 0 {
            return Err(code::SIGNALS);
        }
    }
    set_timer(period)
}

/// Arms (or, with a zero period, disarms) the repeating SIGALRM timer.
fn set_timer(period: Duration) -> Result<(), i32> {
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: period.as_micros() as libc::suseconds_t,
    };
    let it = libc::itimerval {
        it_interval: tv,
        it_value: tv,
    };
    // SAFETY: `it` is a valid itimerval; no old value is asked for.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) } != 0 {
        return Err(code::SIGNALS);
    }
    Ok(())
}

extern "C" fn ignore_signal(_: i32) {}

/// A blocking receive interrupted by a signal whose handler lacks `SA_RESTART` returns
/// `EINTR`, through each receive call (recvfrom, recvmsg); the caller's retry, once
/// something is there, receives it.
fn interrupted_receives() -> Result<(), i32> {
    let (tx, rx) = or(UnixDatagram::pair(), code::SETUP)?;
    let base = open_fds()?;
    tick(ignore_signal, false, Duration::from_millis(5))?;
    let mut buf = [0u8; 4];
    expect_errno(rx.recv(&mut buf), Errno::EINTR)?;
    let mut control = CmsgBuf::<{ space_for_fds(2) }>::new();
    expect_errno(
        rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control),
        Errno::EINTR,
    )?;
    let mut slots = [None, None];
    expect_errno(rx.recv_fds(&mut buf, &mut slots), Errno::EINTR)?;
    set_timer(Duration::ZERO)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;

    let (r, w) = or(fd::pipe(), code::SETUP)?;
    ensure(tx.send_fds(b"x", &[r.as_fd()]) == Ok(1), code::SETUP)?;
    let got = or(rx.recv_fds(&mut buf, &mut slots), code::RETRY)?;
    ensure(got.bytes == 1 && got.fds == 1, code::RECEIVED_WRONG)?;
    let passed = slots[0].take().ok_or(code::RECEIVED_WRONG)?;
    pipe_carries(w.as_fd(), passed.as_fd(), b"after")?;
    drop((passed, r, w));
    ensure(open_fds()? == base, code::LEAK_AT_END)
}

/// A blocking `send_fds` into a full stream socket interrupted by a signal returns
/// `EINTR`; the fd it was to pass stays with the sender (and only there: once the
/// sender closes it, its pipe reads EOF); after draining, the retry delivers.
fn interrupted_send() -> Result<(), i32> {
    let (tx, rx) = or(UnixStream::pair(), code::SETUP)?;
    or(tx.set_nonblocking(true), code::SETUP)?;
    let chunk = [0u8; 4096];
    let mut filled = 0usize;
    loop {
        match tx.send(&chunk) {
            Ok(n) => filled += n,
            Err(Error::Os(Errno::EAGAIN)) => break,
            Err(_) => return Err(code::FILL),
        }
        if filled > 64 << 20 {
            return Err(code::FILL);
        }
    }
    or(tx.set_nonblocking(false), code::SETUP)?;
    let (r, w) = or(fd::pipe(), code::SETUP)?;
    or(baremsg::fd::set_nonblocking(r.as_fd(), true), code::SETUP)?;
    let base = open_fds()?;

    tick(ignore_signal, false, Duration::from_millis(5))?;
    expect_errno(tx.send_fds(b"x", &[w.as_fd()]), Errno::EINTR)?;
    set_timer(Duration::ZERO)?;
    ensure(open_fds()? == base, code::LEAK_AFTER_FAILURE)?;
    all_open(&[tx.as_fd(), w.as_fd(), r.as_fd()])?;
    pipe_carries(w.as_fd(), r.as_fd(), b"kept")?;

    // Drain what filled the socket; the retry then goes through.
    or(rx.set_nonblocking(true), code::SETUP)?;
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while let Ok(n) = rx.recv(&mut sink) {
        drained += n;
    }
    ensure(drained == filled, code::SOMETHING_WENT_OUT)?;
    ensure(tx.send_fds(b"x", &[w.as_fd()]) == Ok(1), code::RETRY)?;
    let mut buf = [0u8; 4];
    let mut slot = [None];
    let got = or(rx.recv_fds(&mut buf, &mut slot), code::RETRY)?;
    ensure(
        got.bytes == 1 && buf[0] == b'x' && got.fds == 1,
        code::RECEIVED_WRONG,
    )?;
    let w2 = slot[0].take().ok_or(code::RECEIVED_WRONG)?;
    pipe_carries(w2.as_fd(), r.as_fd(), b"copy")?;
    drop((w, w2));
    ensure(fd::read(r.as_fd(), &mut buf) == Ok(0), code::IN_FLIGHT_KEPT)?;
    drop(r);
    ensure(open_fds()? == base - 2, code::LEAK_AT_END)
}

static HITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static PEER: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Counts ticks; the third one sends a byte to the blocked receiver (send is
/// async-signal-safe).
extern "C" fn count_and_send_on_third(_: i32) {
    use std::sync::atomic::Ordering;
    if HITS.fetch_add(1, Ordering::SeqCst) == 2 {
        let fd = PEER.load(Ordering::SeqCst);
        // SAFETY: `fd` is the child's open socket; the buffer is one readable byte.
        let _ =
            unsafe { sys::sendto(fd, b"!".as_ptr(), 1, sys::MSG_DONTWAIT, std::ptr::null(), 0) };
    }
}

/// With `SA_RESTART` the kernel restarts the interrupted receive (baremsg adds no early
/// return of its own): it completes when the third tick's handler sends a byte.
fn restarted_receive() -> Result<(), i32> {
    use std::sync::atomic::Ordering;
    let (tx, rx) = or(UnixDatagram::pair(), code::SETUP)?;
    PEER.store(tx.as_raw_fd(), Ordering::SeqCst);
    tick(count_and_send_on_third, true, Duration::from_millis(5))?;
    let mut buf = [0u8; 4];
    let got = rx.recv(&mut buf);
    set_timer(Duration::ZERO)?;
    ensure(got == Ok(1) && buf[0] == b'!', code::NOT_RESTARTED)?;
    ensure(HITS.load(Ordering::SeqCst) >= 3, code::NOT_RESTARTED)
}

#[test]
fn a_signal_without_sa_restart_makes_a_blocking_receive_eintr_and_the_retry_works() {
    let c = in_child(interrupted_receives);
    assert_eq!(c, 0, "code {c}: {}", describe(c));
}

#[test]
fn a_signal_interrupting_a_send_to_a_full_socket_leaves_the_fds_with_the_sender() {
    let c = in_child(interrupted_send);
    assert_eq!(c, 0, "code {c}: {}", describe(c));
}

#[test]
fn with_sa_restart_the_kernel_restarts_the_receive_and_it_completes() {
    let c = in_child(restarted_receive);
    assert_eq!(c, 0, "code {c}: {}", describe(c));
}

// ---------------------------------------------------------------------------------------
// i386, default path: only ENOSYS and EPERM send a call down the other path, and only
// a success there moves the path
// ---------------------------------------------------------------------------------------

#[cfg(all(target_arch = "x86", not(any(baremsg_socketcall, baremsg_direct))))]
mod i386_fallback {
    use super::*;
    use baremsg::sys::SocketPath;

    fn direct_only(call: Call, errno: Errno) -> Rule {
        Rule {
            nr: call.direct(),
            arg: None,
            errno,
        }
    }

    fn via_socketcall(call: Call, errno: Errno) -> Rule {
        Rule {
            nr: raw::nr::SOCKETCALL as u32,
            arg: Some((0, call.sub())),
            errno,
        }
    }

    /// The direct `sendmsg` fails with `e` (not ENOSYS or EPERM), socketcall is allowed:
    /// the error comes back as is, nothing goes out, and the path stays direct.
    fn no_fallback(e: Errno) -> Result<(), i32> {
        let (tx, rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
        or(rx.set_nonblocking(true), code::SETUP)?;
        Prog::new(&[direct_only(Call::Sendmsg, e)]).install()?;
        expect_errno(tx.send_fds(b"x", &[tx.as_fd()]), e)?;
        ensure(sys::socket_path() == SocketPath::Direct, code::PATH)?;
        let mut buf = [0u8; 4];
        ensure(
            rx.recv(&mut buf) == Err(Error::Os(Errno::EAGAIN)),
            code::SOMETHING_WENT_OUT,
        )
    }

    #[test]
    fn errors_other_than_enosys_and_eperm_do_not_trigger_the_socketcall_fallback() {
        for_each_errno("direct sendmsg only", no_fallback);
    }

    /// ENOSYS or EPERM (what filters answer) on the direct call alone: the fallback
    /// routes around the filter (which is why the injecting filters cover socketcall
    /// too), and the path moves to socketcall, where the call succeeded.
    #[test]
    fn enosys_or_eperm_on_the_direct_call_alone_is_routed_around_through_socketcall() {
        for refusal in [Errno::ENOSYS, Errno::EPERM] {
            let c = in_child(|| {
                let (tx, rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
                let (r, w) = or(fd::pipe(), code::SETUP)?;
                Prog::new(&[direct_only(Call::Sendmsg, refusal)]).install()?;
                ensure(tx.send_fds(b"x", &[r.as_fd()]) == Ok(1), code::RETRY)?;
                ensure(sys::socket_path() == SocketPath::Socketcall, code::PATH)?;
                let mut buf = [0u8; 4];
                let mut slot = [None];
                let got = or(rx.recv_fds(&mut buf, &mut slot), code::RETRY)?;
                ensure(got.fds == 1, code::RECEIVED_WRONG)?;
                let passed = slot[0].take().ok_or(code::RECEIVED_WRONG)?;
                pipe_carries(w.as_fd(), passed.as_fd(), b"around")
            });
            assert_eq!(c, 0, "{refusal}: code {c}: {}", describe(c));
        }
    }

    /// ENOSYS on the direct call and `e` on socketcall: the fallback reaches socketcall
    /// and reports its error; the call succeeded nowhere, so the path stays direct (a
    /// call refused both ways must not move the path for every other call).
    #[test]
    fn a_fallback_that_fails_reports_the_socketcall_error_and_keeps_the_path() {
        for_each_errno("direct ENOSYS, socketcall", |e| {
            let (tx, _rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
            Prog::new(&[
                direct_only(Call::Sendmsg, Errno::ENOSYS),
                via_socketcall(Call::Sendmsg, e),
            ])
            .install()?;
            expect_errno(tx.send_fds(b"x", &[tx.as_fd()]), e)?;
            ensure(sys::socket_path() == SocketPath::Direct, code::PATH)
        });
    }

    /// After a fallback to socketcall, a socketcall error (a second, stacked filter) is
    /// reported as is: no switch back to the direct call, which would say ENOSYS.
    #[test]
    fn after_the_fallback_socketcall_errors_do_not_switch_back() {
        for_each_errno("after fallback, socketcall", |e| {
            let (tx, rx) = or(UnixSeqpacket::pair(), code::SETUP)?;
            or(rx.set_nonblocking(true), code::SETUP)?;
            Prog::new(&[direct_only(Call::Sendmsg, Errno::ENOSYS)]).install()?;
            ensure(tx.send_fds(b"1", &[tx.as_fd()]) == Ok(1), code::RETRY)?;
            ensure(sys::socket_path() == SocketPath::Socketcall, code::PATH)?;
            Prog::new(&[via_socketcall(Call::Sendmsg, e)]).install()?;
            expect_errno(tx.send_fds(b"2", &[tx.as_fd()]), e)?;
            ensure(sys::socket_path() == SocketPath::Socketcall, code::PATH)?;
            let mut buf = [0u8; 4];
            let mut slot = [None];
            let got = or(rx.recv_fds(&mut buf, &mut slot), code::RECEIVED_WRONG)?;
            ensure(got.bytes == 1 && buf[0] == b'1', code::RECEIVED_WRONG)?;
            ensure(
                rx.recv(&mut buf) == Err(Error::Os(Errno::EAGAIN)),
                code::SOMETHING_WENT_OUT,
            )
        });
    }
}

// ---------------------------------------------------------------------------------------
// The hand-written pieces
// ---------------------------------------------------------------------------------------

#[test]
fn hand_written_numbers_match_libc() {
    assert_eq!(SYS_GETDENTS64, libc::SYS_getdents64 as usize);
}

#[test]
fn a_rule_with_an_argument_jumps_past_its_return_when_either_test_fails() {
    let p = Prog::new(&[
        Rule {
            nr: 46,
            arg: Some((0, 7)),
            errno: Errno::EAGAIN,
        },
        Rule {
            nr: 41,
            arg: None,
            errno: Errno::EMFILE,
        },
    ]);
    let allow = insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
    assert_eq!(
        p.as_slice(),
        [
            insn(BPF_LD_W_ABS, 0, 0, 4),
            insn(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH),
            allow,
            insn(BPF_LD_W_ABS, 0, 0, 0),
            insn(BPF_JMP_JEQ_K, 0, 3, 46), // 4 -> 5 or 8
            insn(BPF_LD_W_ABS, 0, 0, 16),
            insn(BPF_JMP_JEQ_K, 0, 1, 7), // 6 -> 7 or 8
            insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 11),
            insn(BPF_LD_W_ABS, 0, 0, 0),
            insn(BPF_JMP_JEQ_K, 0, 1, 41), // 9 -> 10 or 11
            insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 24),
            allow,
        ]
    );
    assert!(!p.overflow);
}

#[test]
fn the_fd_count_sees_a_new_fd_and_its_close() {
    let c = in_child(|| {
        let base = open_fds()?;
        let (r, w) = or(fd::pipe(), code::SETUP)?;
        ensure(open_fds()? == base + 2, code::COUNT)?;
        drop(r);
        ensure(open_fds()? == base + 1, code::COUNT)?;
        drop(w);
        ensure(open_fds()? == base, code::COUNT)
    });
    assert_eq!(c, 0, "code {c}: {}", describe(c));
}
