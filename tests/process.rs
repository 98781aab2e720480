//! `baremsg::process` and `baremsg::event`: pidfds and how children end, waiting on
//! several fds at once, timers as fds, the child subreaper, dropping privileges; and the
//! kernel structs and constants behind them against libc.

use std::time::{Duration, Instant};

use baremsg::event::{Epoll, TimerFd, READABLE};
use baremsg::fd::{self, AsFd, AsRawFd};
use baremsg::process::{self, ExitStatus, Pidfd};
use baremsg::sys::{self, EpollEvent, Siginfo};
use baremsg::unix::UnixDatagram;
use baremsg::Errno;

mod target;

/// Forks a child that runs `body` (raw syscalls only: no allocation, no locks) and exits
/// with its return value. The child is ours until the caller reaps it.
fn spawn(body: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs `body`, which makes raw syscalls only, and exits without
    // returning or unwinding.
    let pid = unsafe { sys::fork() }.expect("fork");
    if pid == 0 {
        sys::exit_group(body());
    }
    pid
}

/// Sleeps `ms` milliseconds with raw syscalls (usable in a forked child).
fn nap(ms: u64) {
    let t = TimerFd::new(sys::CLOCK_MONOTONIC).unwrap();
    t.set(Duration::from_millis(ms), None).unwrap();
    t.read().unwrap();
}

#[test]
fn a_pidfd_reports_an_exit_code_and_turns_readable_when_the_child_exits() {
    let (tx, rx) = UnixDatagram::pair().unwrap();
    // Should this test fail before the go, the child ends by itself.
    rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let pid = spawn(move || {
        // Wait for the parent's go, then exit 7.
        let mut b = [0u8; 1];
        let _ = rx.recv(&mut b);
        7
    });
    let child = Pidfd::open(pid).unwrap();
    assert_eq!(child.try_wait(), Ok(None), "still running");
    let epoll = Epoll::new().unwrap();
    epoll.add(&child, READABLE, 42).unwrap();
    let mut events = [EpollEvent::default(); 4];
    assert!(epoll
        .wait(&mut events, Some(Duration::from_millis(50)))
        .unwrap()
        .is_empty());
    tx.send(b"go").unwrap();
    let got = epoll
        .wait(&mut events, Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(got.len(), 1);
    let (ev, data) = (got[0].events, got[0].data);
    assert_eq!((ev & READABLE, data), (READABLE, 42));
    assert_eq!(child.wait(), Ok(ExitStatus::Exited(7)));
    assert_eq!(ExitStatus::Exited(7).shell_code(), 7);
    // Reaped: no longer waitable, and a signal finds no process.
    assert_eq!(child.wait(), Err(Errno::ECHILD));
    assert_eq!(child.send_signal(sys::SIGTERM), Err(Errno::ESRCH));
}

#[test]
fn a_signal_through_a_pidfd_kills_the_child_and_the_status_says_so() {
    let pid = spawn(|| loop {
        nap(1000);
    });
    let child = Pidfd::open(pid).unwrap();
    child.send_signal(0).unwrap();
    child.send_signal(sys::SIGKILL).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status,
        ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
    assert_eq!(
        (status.signal(), status.code(), status.success()),
        (Some(9), None, false)
    );
    assert_eq!(status.shell_code(), 137);
}

#[test]
fn waitid_fills_the_siginfo_fields_at_this_arch_s_offsets() {
    let pid = spawn(|| 42);
    let mut info = Siginfo::zeroed();
    // SAFETY: our own child.
    unsafe { sys::waitid(sys::P_PID, pid, &mut info, sys::WEXITED) }.unwrap();
    assert_eq!(info.signo(), sys::SIGCHLD);
    assert_eq!(info.code(), sys::CLD_EXITED);
    assert_eq!(info.pid(), pid);
    assert_eq!(info.uid(), sys::getuid());
    assert_eq!(info.status(), 42);
    assert_eq!(
        ExitStatus::from_siginfo(&info),
        Some(ExitStatus::Exited(42))
    );
    assert_eq!(ExitStatus::from_siginfo(&Siginfo::zeroed()), None);
}

#[test]
fn wait4_statuses_decode_as_libc_s_macros_do() {
    for status in [0, 7 << 8, 255 << 8, 9, 15, 0x80 | 11, 0x137f, 0xffff] {
        let ours = ExitStatus::from_raw(status);
        match ours {
            ExitStatus::Exited(c) => {
                assert!(libc::WIFEXITED(status));
                assert_eq!(c, libc::WEXITSTATUS(status));
            }
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                assert!(libc::WIFSIGNALED(status));
                assert_eq!(signal, libc::WTERMSIG(status));
                assert_eq!(core_dumped, libc::WCOREDUMP(status));
            }
            ExitStatus::Stopped(s) => {
                assert!(libc::WIFSTOPPED(status));
                assert_eq!(s, libc::WSTOPSIG(status));
            }
            ExitStatus::Continued => assert!(libc::WIFCONTINUED(status)),
        }
    }
    // The safe wait4: a child's status comes back decoded.
    let pid = spawn(|| 3);
    assert_eq!(
        process::wait(pid, 0),
        Ok(Some((pid, ExitStatus::Exited(3))))
    );
    assert_eq!(process::wait(pid, 0), Err(Errno::ECHILD));
}

#[test]
fn a_timerfd_expires_after_its_time_and_counts_intervals() {
    let t = TimerFd::new(sys::CLOCK_MONOTONIC).unwrap();
    let start = Instant::now();
    t.set(Duration::from_millis(30), None).unwrap();
    assert_eq!(t.read(), Ok(1));
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "{:?}",
        start.elapsed()
    );

    // Periodic: after a while, read reports every expiry since the last read.
    t.set(Duration::from_millis(5), Some(Duration::from_millis(5)))
        .unwrap();
    nap(60);
    assert!(t.read().unwrap() >= 5);

    // Disarmed: never readable.
    t.disarm().unwrap();
    let epoll = Epoll::new().unwrap();
    epoll.add(&t, READABLE, 0).unwrap();
    let mut ev = [EpollEvent::default(); 1];
    assert!(epoll
        .wait(&mut ev, Some(Duration::from_millis(30)))
        .unwrap()
        .is_empty());

    // An absolute deadline on the timer's clock.
    let now = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap();
    let mut deadline = now;
    deadline.tv_nsec += 20_000_000;
    if deadline.tv_nsec >= 1_000_000_000 {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1_000_000_000;
    }
    t.set_deadline(deadline, None).unwrap();
    assert_eq!(t.read(), Ok(1));
    let after = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap();
    assert!(after >= deadline, "{after:?} >= {deadline:?}");
    // A zero duration expires at once rather than disarming.
    t.set(Duration::ZERO, None).unwrap();
    assert_eq!(t.read(), Ok(1));
}

#[test]
fn epoll_reports_each_fd_with_its_data_and_forgets_deleted_ones() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let (r, w) = fd::pipe().unwrap();
    let epoll = Epoll::new().unwrap();
    // SAFETY: F_GETFD only reads the fd's flags.
    let flags = unsafe { sys::fcntl(epoll.as_fd().as_raw_fd(), sys::F_GETFD, 0) }.unwrap();
    assert_eq!(flags as i32 & sys::FD_CLOEXEC, sys::FD_CLOEXEC);
    epoll.add(&b, READABLE, 1).unwrap();
    epoll.add(&r, READABLE, 2).unwrap();
    assert_eq!(epoll.add(&r, READABLE, 2), Err(Errno::EEXIST));
    a.send(b"x").unwrap();
    fd::write(w.as_fd(), b"y").unwrap();
    let mut events = [EpollEvent::default(); 4];
    let got = epoll
        .wait(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    let mut data: Vec<u64> = got.iter().map(|e| e.data).collect();
    data.sort();
    assert_eq!(data, [1, 2]);
    epoll.delete(&r).unwrap();
    epoll.modify(&b, READABLE, 9).unwrap();
    let got = epoll
        .wait(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    let data: Vec<u64> = got.iter().map(|e| e.data).collect();
    assert_eq!(data, [9]);
    assert_eq!(epoll.delete(&r), Err(Errno::ENOENT));
}

#[test]
fn a_subreaper_inherits_its_orphaned_grandchildren_and_reaps_them() {
    if target::under_qemu() {
        // qemu-user 7.2 does not pass PR_SET_CHILD_SUBREAPER on (nor the GET).
        target::qemu_note("prctl(PR_SET_CHILD_SUBREAPER) is EINVAL: the subreaper is not tested");
        assert_eq!(process::set_child_subreaper(true), Err(Errno::EINVAL));
        return;
    }
    // In a child of its own, so this test process is left as it was.
    let pid = spawn(|| {
        if process::set_child_subreaper(true).is_err() || process::is_child_subreaper() != Ok(true)
        {
            return 1;
        }
        let me = sys::getpid();
        let (tx, rx) = match UnixDatagram::pair() {
            Ok(p) => p,
            Err(_) => return 2,
        };
        if rx.set_read_timeout(Some(Duration::from_secs(20))).is_err() {
            return 2;
        }
        // A middle process forks a grandchild and exits at once: the grandchild is
        // orphaned and must be reparented to us, not to PID 1.
        let middle = spawn(|| {
            spawn(|| {
                nap(50);
                let parent = sys::getppid();
                let _ = tx.send(&parent.to_ne_bytes());
                0
            });
            0
        });
        if process::wait(middle, 0) != Ok(Some((middle, ExitStatus::Exited(0)))) {
            return 3;
        }
        let mut b = [0u8; 4];
        if rx.recv(&mut b) != Ok(4) || i32::from_ne_bytes(b) != me {
            return 4;
        }
        // And we can reap it: waiting for any child finds it.
        match process::wait(-1, 0) {
            Ok(Some((_, ExitStatus::Exited(0)))) => {}
            _ => return 5,
        }
        match process::wait(-1, sys::WNOHANG) {
            Err(Errno::ECHILD) => 0,
            _ => 6,
        }
    });
    assert_eq!(
        process::wait(pid, 0),
        Ok(Some((pid, ExitStatus::Exited(0))))
    );
}

/// The `Uid:`, `Gid:` and `Groups:` lines of the calling process's `/proc/self/status`,
/// read with raw syscalls into `buf`.
fn status_ids(buf: &mut [u8; 4096]) -> Result<usize, Errno> {
    // SAFETY: the path is NUL-terminated; the fd is closed below.
    let fd = unsafe {
        sys::openat(
            sys::AT_FDCWD,
            c"/proc/self/status".as_ptr().cast(),
            sys::O_RDONLY | sys::O_CLOEXEC,
            0,
        )
    }?;
    let mut len = 0;
    loop {
        // SAFETY: the rest of `buf` is writable.
        let n = unsafe { sys::read(fd, buf[len..].as_mut_ptr(), buf.len() - len) }?;
        if n == 0 || len + n == buf.len() {
            break;
        }
        len += n;
    }
    // SAFETY: ours.
    unsafe { sys::close(fd) }?;
    Ok(len)
}

#[test]
fn dropping_privileges_sets_every_uid_gid_and_the_groups() {
    if sys::geteuid() != 0 {
        eprintln!(
            "skipped: dropping privileges needs root (euid {})",
            sys::geteuid()
        );
        return;
    }
    let (tx, rx) = UnixDatagram::pair().unwrap();
    let pid = spawn(move || {
        if process::drop_privileges(65534, 65533, &[65532, 65531]).is_err() {
            return 1;
        }
        let mut groups = [0u32; 4];
        // The kernel keeps the list sorted.
        if sys::getgroups(&mut groups) != Ok(2) || groups[..2] != [65531, 65532] {
            return 2;
        }
        let mut buf = [0u8; 4096];
        match status_ids(&mut buf) {
            Ok(n) => {
                let _ = tx.send(&buf[..n]);
                0
            }
            Err(_) => 3,
        }
    });
    // The child's report waits in the socket: reap it first, so a failure cannot hang.
    assert_eq!(
        process::wait(pid, 0),
        Ok(Some((pid, ExitStatus::Exited(0))))
    );
    let mut buf = [0u8; 4096];
    let n = rx.recv(&mut buf).unwrap();
    let status = String::from_utf8_lossy(&buf[..n]);
    let line = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in {status}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
    };
    assert_eq!(line("Uid:"), ["65534"; 4]);
    assert_eq!(line("Gid:"), ["65533"; 4]);
    assert_eq!(line("Groups:"), ["65531", "65532"]);
}

#[test]
fn sessions_process_groups_umask_and_the_working_directory() {
    let pid = spawn(|| {
        let me = sys::getpid();
        if sys::setsid() != Ok(me) || sys::getsid(0) != Ok(me) || sys::getpgid(0) != Ok(me) {
            return 1;
        }
        // A session leader cannot start another one.
        if sys::setsid() != Err(Errno::EPERM) {
            return 2;
        }
        let old = sys::umask(0o027);
        if sys::umask(old) != 0o027 {
            return 3;
        }
        if sys::chdir(c"/proc/self").is_err() {
            return 4;
        }
        // "cwd" here is /proc/self: the file `stat` of this process is relative.
        // SAFETY: a NUL-terminated path; the fd is closed at once.
        match unsafe {
            sys::openat(
                sys::AT_FDCWD,
                c"stat".as_ptr().cast(),
                sys::O_RDONLY | sys::O_CLOEXEC,
                0,
            )
        } {
            // SAFETY: ours.
            Ok(fd) => unsafe { sys::close(fd) }.map_or(5, |()| 0),
            Err(_) => 6,
        }
    });
    assert_eq!(
        process::wait(pid, 0),
        Ok(Some((pid, ExitStatus::Exited(0))))
    );
    assert_eq!(sys::chdir(c"/nonexistent/dir"), Err(Errno::ENOENT));
}

#[test]
fn kernel_structs_and_constants_match_libc() {
    // libc declares epoll_event packed on i386 too (alignment 1 where the kernel's is 4);
    // the kernel copies it bytewise, so size and field offsets are what must agree.
    assert_eq!(size_of::<EpollEvent>(), size_of::<libc::epoll_event>());
    assert_eq!(
        core::mem::offset_of!(EpollEvent, data),
        core::mem::offset_of!(libc::epoll_event, u64)
    );
    let data_at = if cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
        4
    } else {
        8
    };
    assert_eq!(core::mem::offset_of!(EpollEvent, data), data_at);
    assert_eq!(size_of::<Siginfo>(), size_of::<libc::siginfo_t>());
    assert_eq!(size_of::<sys::Itimerspec>(), 32);
    let c = |a: i64, b: i64, name: &str| assert_eq!(a, b, "{name}");
    c(
        sys::EPOLL_CLOEXEC as i64,
        libc::EPOLL_CLOEXEC as i64,
        "EPOLL_CLOEXEC",
    );
    c(
        sys::EPOLL_CTL_ADD as i64,
        libc::EPOLL_CTL_ADD as i64,
        "EPOLL_CTL_ADD",
    );
    c(
        sys::EPOLL_CTL_DEL as i64,
        libc::EPOLL_CTL_DEL as i64,
        "EPOLL_CTL_DEL",
    );
    c(
        sys::EPOLL_CTL_MOD as i64,
        libc::EPOLL_CTL_MOD as i64,
        "EPOLL_CTL_MOD",
    );
    for (ours, theirs, name) in [
        (sys::EPOLLIN, libc::EPOLLIN, "EPOLLIN"),
        (sys::EPOLLPRI, libc::EPOLLPRI, "EPOLLPRI"),
        (sys::EPOLLOUT, libc::EPOLLOUT, "EPOLLOUT"),
        (sys::EPOLLERR, libc::EPOLLERR, "EPOLLERR"),
        (sys::EPOLLHUP, libc::EPOLLHUP, "EPOLLHUP"),
        (sys::EPOLLRDHUP, libc::EPOLLRDHUP, "EPOLLRDHUP"),
        (sys::EPOLLEXCLUSIVE, libc::EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"),
        (sys::EPOLLONESHOT, libc::EPOLLONESHOT, "EPOLLONESHOT"),
        (sys::EPOLLET, libc::EPOLLET, "EPOLLET"),
    ] {
        c(ours as i64, theirs as u32 as i64, name);
    }
    c(
        sys::TFD_CLOEXEC as i64,
        libc::TFD_CLOEXEC as i64,
        "TFD_CLOEXEC",
    );
    c(
        sys::TFD_NONBLOCK as i64,
        libc::TFD_NONBLOCK as i64,
        "TFD_NONBLOCK",
    );
    c(
        sys::TFD_TIMER_ABSTIME as i64,
        libc::TFD_TIMER_ABSTIME as i64,
        "TFD_TIMER_ABSTIME",
    );
    c(sys::P_ALL as i64, libc::P_ALL as i64, "P_ALL");
    c(sys::P_PGID as i64, libc::P_PGID as i64, "P_PGID");
    c(sys::P_PIDFD as i64, libc::P_PIDFD as i64, "P_PIDFD");
    c(sys::WSTOPPED as i64, libc::WSTOPPED as i64, "WSTOPPED");
    c(
        sys::WCONTINUED as i64,
        libc::WCONTINUED as i64,
        "WCONTINUED",
    );
    c(sys::WNOWAIT as i64, libc::WNOWAIT as i64, "WNOWAIT");
    c(sys::WALL as i64, libc::__WALL as i64, "__WALL");
    c(
        sys::CLD_EXITED as i64,
        libc::CLD_EXITED as i64,
        "CLD_EXITED",
    );
    c(
        sys::CLD_KILLED as i64,
        libc::CLD_KILLED as i64,
        "CLD_KILLED",
    );
    c(
        sys::CLD_DUMPED as i64,
        libc::CLD_DUMPED as i64,
        "CLD_DUMPED",
    );
    c(
        sys::CLD_TRAPPED as i64,
        libc::CLD_TRAPPED as i64,
        "CLD_TRAPPED",
    );
    c(
        sys::CLD_STOPPED as i64,
        libc::CLD_STOPPED as i64,
        "CLD_STOPPED",
    );
    c(
        sys::CLD_CONTINUED as i64,
        libc::CLD_CONTINUED as i64,
        "CLD_CONTINUED",
    );
    c(
        sys::CLOCK_BOOTTIME as i64,
        libc::CLOCK_BOOTTIME as i64,
        "CLOCK_BOOTTIME",
    );
    c(
        36,
        libc::PR_SET_CHILD_SUBREAPER as i64,
        "PR_SET_CHILD_SUBREAPER",
    );
    c(
        37,
        libc::PR_GET_CHILD_SUBREAPER as i64,
        "PR_GET_CHILD_SUBREAPER",
    );
}

#[test]
fn a_signalfd_reads_blocked_signals_with_their_sender_and_a_child_s_exit() {
    // In a child of its own: one thread, so a process-directed signal can only be
    // pending for it (in the test process another thread would take it and die).
    let pid = spawn(|| {
        use baremsg::event::SignalFd;
        use baremsg::sys::Sigset;
        let set = Sigset::EMPTY.with(sys::SIGUSR1).with(sys::SIGCHLD);
        let Ok(old) = process::block_signals(&set) else {
            return 1;
        };
        if old.contains(sys::SIGUSR1) {
            return 2;
        }
        let Ok(signals) = SignalFd::new(&set) else {
            return 3;
        };
        let me = sys::getpid();
        if process::kill(me, sys::SIGUSR1).is_err() {
            return 4;
        }
        match signals.read() {
            Ok(i) if i.ssi_signo == sys::SIGUSR1 as u32 && i.ssi_pid == me as u32 => {}
            _ => return 5,
        }
        let child = spawn(|| 5);
        let epoll = Epoll::new().unwrap();
        epoll.add(&signals, READABLE, 7).unwrap();
        let mut ev = [EpollEvent::default(); 2];
        match epoll.wait(&mut ev, Some(Duration::from_secs(20))) {
            Ok(got) if got.len() == 1 && { got[0].data } == 7 => {}
            _ => return 6,
        }
        match signals.read() {
            Ok(i)
                if i.ssi_signo == sys::SIGCHLD as u32
                    && i.ssi_pid == child as u32
                    && i.ssi_code == sys::CLD_EXITED
                    && i.ssi_status == 5 => {}
            _ => return 7,
        }
        if process::wait(child, 0) != Ok(Some((child, ExitStatus::Exited(5)))) {
            return 8;
        }
        // Nothing pending: a nonblocking read says EAGAIN.
        if fd::set_nonblocking(&signals, true).is_err() || signals.read() != Err(Errno::EAGAIN) {
            return 9;
        }
        // The mask is what was asked, and set_signal_mask gives it back.
        match process::set_signal_mask(&old) {
            Ok(was) if was == old.with(sys::SIGUSR1).with(sys::SIGCHLD) => 0,
            _ => 10,
        }
    });
    assert_eq!(
        process::wait(pid, 0),
        Ok(Some((pid, ExitStatus::Exited(0))))
    );
}

#[test]
fn signal_numbers_and_the_signalfd_struct_match_libc() {
    let pairs = [
        (sys::SIGHUP, libc::SIGHUP),
        (sys::SIGINT, libc::SIGINT),
        (sys::SIGQUIT, libc::SIGQUIT),
        (sys::SIGILL, libc::SIGILL),
        (sys::SIGTRAP, libc::SIGTRAP),
        (sys::SIGABRT, libc::SIGABRT),
        (sys::SIGBUS, libc::SIGBUS),
        (sys::SIGFPE, libc::SIGFPE),
        (sys::SIGKILL, libc::SIGKILL),
        (sys::SIGUSR1, libc::SIGUSR1),
        (sys::SIGSEGV, libc::SIGSEGV),
        (sys::SIGUSR2, libc::SIGUSR2),
        (sys::SIGPIPE, libc::SIGPIPE),
        (sys::SIGALRM, libc::SIGALRM),
        (sys::SIGTERM, libc::SIGTERM),
        (sys::SIGSTKFLT, libc::SIGSTKFLT),
        (sys::SIGCHLD, libc::SIGCHLD),
        (sys::SIGCONT, libc::SIGCONT),
        (sys::SIGSTOP, libc::SIGSTOP),
        (sys::SIGTSTP, libc::SIGTSTP),
        (sys::SIGTTIN, libc::SIGTTIN),
        (sys::SIGTTOU, libc::SIGTTOU),
        (sys::SIGURG, libc::SIGURG),
        (sys::SIGXCPU, libc::SIGXCPU),
        (sys::SIGXFSZ, libc::SIGXFSZ),
        (sys::SIGVTALRM, libc::SIGVTALRM),
        (sys::SIGPROF, libc::SIGPROF),
        (sys::SIGWINCH, libc::SIGWINCH),
        (sys::SIGIO, libc::SIGIO),
        (sys::SIGPWR, libc::SIGPWR),
        (sys::SIGSYS, libc::SIGSYS),
    ];
    for (i, (ours, theirs)) in pairs.iter().enumerate() {
        assert_eq!((ours, i as i32 + 1), (theirs, *ours), "signal {}", i + 1);
    }
    assert_eq!(sys::SFD_CLOEXEC, libc::SFD_CLOEXEC);
    assert_eq!(sys::SFD_NONBLOCK, libc::SFD_NONBLOCK);
    assert_eq!(
        size_of::<sys::SignalfdSiginfo>(),
        size_of::<libc::signalfd_siginfo>()
    );
    assert_eq!(
        core::mem::offset_of!(sys::SignalfdSiginfo, ssi_status),
        core::mem::offset_of!(libc::signalfd_siginfo, ssi_status)
    );
    assert_eq!(
        core::mem::offset_of!(sys::SignalfdSiginfo, ssi_addr),
        core::mem::offset_of!(libc::signalfd_siginfo, ssi_addr)
    );
}
