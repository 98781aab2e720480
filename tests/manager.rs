//! A service manager built on baremsg alone: it spawns a service (a Python script that
//! speaks sd_notify(3) by hand, `tests/init_helpers/service.py`) with `NOTIFY_SOCKET`,
//! and waits in one epoll for its notify socket, the child's pidfd, a start timer, a
//! watchdog timer and a signalfd. Also: the notify access policies, a stale message
//! from a reaped process whose pid was reused, `SO_PASSRIGHTS`, and what a spawned
//! service sees of the uid, gid, groups, cwd, stdio, rlimits, umask, session and signals
//! it was given (read back from `/proc`).

#[path = "init_helpers/mod.rs"]
mod init_helpers;
mod target;

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use baremsg::activation::{ExecBuf, Spawn, SpawnStep, Stdio};
use baremsg::event::{poll, Epoll, SignalFd, TimerFd, READABLE};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use baremsg::notify::{
    FdRefusal, Notification, NotifyAccess, NotifyError, NotifyListener, NotifySocket, Process,
    MAX_MESSAGE,
};
use baremsg::process::{self, ExitStatus, Pidfd};
use baremsg::sys::{self, EpollEvent, Pollfd, Rlimit, Sigset, CLOCK_MONOTONIC};
use baremsg::unix::UnixAddr;
use baremsg::{Errno, Error};

use init_helpers::*;

const NOTIFY: u64 = 1;
const CHILD: u64 = 2;
const START: u64 = 3;
const WATCHDOG: u64 = 4;
const SIGNALS: u64 = 5;

/// What the manager's loop woke up for.
#[derive(Debug, PartialEq)]
enum Event {
    /// READY=1, with the STATUS= that came with it.
    Ready(Option<String>),
    /// The child exited (reaped through its pidfd).
    Exited(ExitStatus),
    /// The start timer expired before READY=1.
    Timeout,
    /// No WATCHDOG=1 within the watchdog time.
    WatchdogMissed,
    /// A signal the manager reads from its signalfd.
    Signal(u32),
}

/// The supervisor: one epoll over the notify socket, a start timer, a watchdog timer, a
/// signalfd and (per child) the child's pidfd. Runs in a forked, single-threaded child
/// of the test (a signalfd needs its signals blocked in every thread).
struct Manager {
    listener: NotifyListener,
    epoll: Epoll,
    start: TimerFd,
    watchdog: TimerFd,
    watchdog_time: Duration,
    /// Start services with WATCHDOG_USEC and WATCHDOG_PID.
    watchdog_on: bool,
    _signals: SignalFd,
    signals_fd: i32,
    /// FDSTORE=1 fds, with their FDNAME=.
    store: Vec<(Vec<u8>, OwnedFd)>,
    /// WATCHDOG=1 pings seen.
    pings: usize,
    /// Messages refused, and why.
    refused: Vec<NotifyError>,
}

impl Manager {
    fn new() -> Self {
        let (addr, _) = abstract_addr("manager");
        let listener = NotifyListener::bind(&addr).unwrap();
        listener.socket().set_nonblocking(true).unwrap();
        let set = Sigset::EMPTY.with(sys::SIGTERM).with(sys::SIGUSR1);
        process::block_signals(&set).unwrap();
        let signals = SignalFd::new(&set).unwrap();
        let epoll = Epoll::new().unwrap();
        let start = TimerFd::new(CLOCK_MONOTONIC).unwrap();
        let watchdog = TimerFd::new(CLOCK_MONOTONIC).unwrap();
        epoll.add(&listener, READABLE, NOTIFY).unwrap();
        epoll.add(&start, READABLE, START).unwrap();
        epoll.add(&watchdog, READABLE, WATCHDOG).unwrap();
        epoll.add(&signals, READABLE, SIGNALS).unwrap();
        let signals_fd = signals.as_fd().as_raw_fd();
        Manager {
            listener,
            epoll,
            start,
            watchdog,
            watchdog_time: Duration::from_millis(300),
            watchdog_on: false,
            _signals: signals,
            signals_fd,
            store: Vec::new(),
            pings: 0,
            refused: Vec::new(),
        }
    }

    /// Starts `service.py <mode>` with NOTIFY_SOCKET (and `env`), the stored fds at 3..
    /// with their names in LISTEN_FDNAMES, and the start timer armed to `timeout`.
    fn start(&self, mode: &str, env: &[&CStr], timeout: Duration) -> (i32, Pidfd) {
        let python = CString::new(python().as_os_str().as_bytes()).unwrap();
        let script = CString::new(script("service.py").as_os_str().as_bytes()).unwrap();
        let mode = CString::new(mode).unwrap();
        let argv = [python.as_c_str(), script.as_c_str(), mode.as_c_str()];
        let notify = self.listener.env().unwrap();
        let mut envp = vec![notify.as_cstr(), c"PYTHONDONTWRITEBYTECODE=1"];
        envp.extend_from_slice(env);
        let fds: Vec<BorrowedFd<'_>> = self.store.iter().map(|(_, fd)| fd.as_fd()).collect();
        let names: Vec<&[u8]> = self.store.iter().map(|(n, _)| n.as_slice()).collect();
        let mut spawn = Spawn::new(&python, &argv).env(&envp).fds(&fds);
        if !names.is_empty() {
            spawn = spawn.names(&names);
        }
        if self.watchdog_on {
            spawn = spawn.watchdog(self.watchdog_time.as_micros() as u64);
        }
        let mut child = spawn
            .spawn_with_pidfd(&mut ExecBuf::<16, 1024>::new())
            .unwrap();
        let pidfd = Pidfd::from_fd(child.take_pidfd().expect("a pidfd of the child"));
        self.epoll.add(&pidfd, READABLE, CHILD).unwrap();
        self.start.set(timeout, None).unwrap();
        (child.pid(), pidfd)
    }

    /// Handles one notification from the main process; READY=1 ends the wait.
    fn handle(&mut self, mut n: Notification<'_, 8>) -> Option<Event> {
        if n.get(b"FDSTORE") == Some(b"1") {
            let name = n.get(b"FDNAME").unwrap_or(b"stored").to_vec();
            for fd in n.take_fds() {
                self.store.push((name.clone(), fd));
            }
        }
        if n.get(b"FDSTOREREMOVE") == Some(b"1") {
            let name = n.get(b"FDNAME").expect("FDSTOREREMOVE=1 names the fds");
            self.store.retain(|(n, _)| n != name);
        }
        // BARRIER=1: the fd that came with it is closed when `n` is dropped, below,
        // which is the answer the service waits for.
        if n.get(b"WATCHDOG") == Some(b"1") {
            self.pings += 1;
            self.watchdog.set(self.watchdog_time, None).unwrap();
        }
        if n.get(b"READY") == Some(b"1") {
            self.start.disarm().unwrap();
            let status = n
                .get(b"STATUS")
                .map(|s| String::from_utf8_lossy(s).into_owned());
            return Some(Event::Ready(status));
        }
        None
    }

    /// Reads every queued notification (the socket is nonblocking); the first READY=1.
    fn drain(&mut self, access: &NotifyAccess<'_>) -> Option<Event> {
        let mut buf = [0u8; MAX_MESSAGE];
        loop {
            match self.listener.recv_with_access::<8>(&mut buf, access) {
                Ok(n) => {
                    if let Some(ev) = self.handle(n) {
                        return Some(ev);
                    }
                }
                Err(NotifyError::Sys(Error::Os(Errno::EAGAIN))) => return None,
                Err(e) => self.refused.push(e),
            }
        }
    }

    /// Waits for the next event about child `pid` (pidfd `child`): READY=1, its exit,
    /// the start timeout, a missed watchdog, or a signal.
    fn wait(&mut self, pid: i32, child: &Pidfd) -> Event {
        let main = Process {
            pid,
            pidfd: Some(child.as_fd()),
        };
        let access = NotifyAccess::Main(main);
        loop {
            let mut events = [EpollEvent::default(); 8];
            let ready: Vec<u64> = match self.epoll.wait(&mut events, Some(TIMEOUT)) {
                Err(Errno::EINTR) => continue,
                Err(e) => panic!("epoll_wait: {e}"),
                Ok([]) => panic!("nothing happened within {TIMEOUT:?}"),
                Ok(evs) => evs.iter().map(|e| e.data).collect(),
            };
            // Messages first: what the child sent before it exited still counts.
            if ready.contains(&NOTIFY) || ready.contains(&CHILD) {
                if let Some(ev) = self.drain(&access) {
                    return ev;
                }
            }
            if ready.contains(&CHILD) {
                self.epoll.delete(child).unwrap();
                return Event::Exited(child.wait().unwrap());
            }
            if ready.contains(&START) {
                self.start.read().unwrap();
                return Event::Timeout;
            }
            if ready.contains(&WATCHDOG) {
                self.watchdog.read().unwrap();
                return Event::WatchdogMissed;
            }
            if ready.contains(&SIGNALS) {
                // SAFETY: the signalfd is open (owned by `self`).
                let fd = unsafe { BorrowedFd::borrow_raw(self.signals_fd) };
                let mut info = [0u8; 128];
                assert_eq!(fd::read(fd, &mut info), Ok(128));
                return Event::Signal(u32::from_ne_bytes(info[..4].try_into().unwrap()));
            }
        }
    }

    /// Stops the child with `sig` through its pidfd; how it ended.
    fn stop(&mut self, pid: i32, child: Pidfd, sig: i32) -> ExitStatus {
        child.send_signal(sig).unwrap();
        match self.wait(pid, &child) {
            Event::Exited(status) => status,
            other => panic!("expected the child to exit, got {other:?}"),
        }
    }
}

/// [`in_forked_child`], with Python's path resolved first, here: a lock another thread
/// held at the fork stays held in the child, the `OnceLock` behind [`python`] included.
fn forked(f: impl FnOnce()) {
    python();
    in_forked_child(f)
}

fn abstract_addr(what: &str) -> (UnixAddr, String) {
    let name = unique(what);
    (UnixAddr::from_abstract(name.as_bytes()).unwrap(), name)
}

// ---------------------------------------------------------------------------------
// The loop

#[test]
fn ready_in_time_then_stopped_by_sigterm_through_the_pidfd() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("ready", &[], TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Ready(Some("up".into())));
        // The manager blocks SIGTERM (it reads it from its signalfd); the service must
        // not inherit that.
        let status = m.stop(pid, child, sys::SIGTERM);
        assert_eq!(status.signal(), Some(sys::SIGTERM), "{status:?}");
        assert!(m.refused.is_empty(), "{:?}", m.refused);
    });
}

#[test]
fn ready_late_is_a_timeout() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("never", &[], Duration::from_millis(100));
        assert_eq!(m.wait(pid, &child), Event::Timeout);
        let status = m.stop(pid, child, sys::SIGKILL);
        assert_eq!(status.signal(), Some(sys::SIGKILL));
    });
}

#[test]
fn a_child_that_exits_before_ready_is_reaped_through_its_pidfd() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("exit3", &[], TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Exited(ExitStatus::Exited(3)));
        // Reaped: no child is left.
        assert_eq!(process::wait(-1, sys::WNOHANG), Err(Errno::ECHILD));
    });
}

#[test]
fn a_missed_watchdog_is_seen_and_the_service_aborted() {
    forked(|| {
        let mut m = Manager::new();
        m.watchdog_on = true;
        // What the caller's environment says is replaced by what the spawn sets.
        let stale = [c"WATCHDOG_PID=1", c"WATCHDOG_USEC=1"];
        let (pid, child) = m.start("watchdog", &stale, TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Ready(None));
        assert_eq!(m.wait(pid, &child), Event::WatchdogMissed);
        assert!(m.pings >= 1, "WATCHDOG=1 pings seen: {}", m.pings);
        let status = m.stop(pid, child, sys::SIGABRT);
        assert_eq!(status.signal(), Some(sys::SIGABRT));
    });
}

#[test]
fn a_signal_to_the_manager_wakes_the_same_loop() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("ready", &[], TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Ready(Some("up".into())));
        process::kill(sys::getpid(), sys::SIGUSR1).unwrap();
        assert_eq!(m.wait(pid, &child), Event::Signal(sys::SIGUSR1 as u32));
        m.stop(pid, child, sys::SIGTERM);
    });
}

#[test]
fn stored_fds_minus_removed_ones_are_handed_back_on_restart() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("store", &[], TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Ready(None));
        assert_eq!(m.wait(pid, &child), Event::Exited(ExitStatus::Exited(0)));
        let names: Vec<&[u8]> = m.store.iter().map(|(n, _)| n.as_slice()).collect();
        assert_eq!(names, [b"b"], "FDSTORE a and b, FDSTOREREMOVE a");
        // The restarted service gets fd b at fd 3, named, with what the first wrote.
        let (pid, child) = m.start("restored", &[], TIMEOUT);
        assert_eq!(m.wait(pid, &child), Event::Ready(Some("1:b:beta".into())));
        assert_eq!(m.wait(pid, &child), Event::Exited(ExitStatus::Exited(0)));
        assert!(m.refused.is_empty(), "{:?}", m.refused);
    });
}

#[test]
fn a_barrier_is_answered_by_closing_its_fd() {
    forked(|| {
        let mut m = Manager::new();
        let (pid, child) = m.start("barrier", &[], TIMEOUT);
        assert_eq!(
            m.wait(pid, &child),
            Event::Ready(Some("barrier-passed".into()))
        );
        m.stop(pid, child, sys::SIGTERM);
    });
}

// ---------------------------------------------------------------------------------
// Who may notify

/// A forked process that sends `msg` to `to` once per byte written to its pipe, and
/// exits when the pipe closes; its pid, a pidfd, and the pipe's write end.
fn sender(to: &NotifySocket, msg: &'static [u8]) -> (i32, Pidfd, OwnedFd) {
    let (r, w) = fd::pipe().unwrap();
    // SAFETY: the child reads, sends (raw syscalls) and exits.
    let pid = unsafe { sys::fork() }.unwrap();
    if pid == 0 {
        drop(w);
        let mut b = [0u8; 1];
        while let Ok(1) = fd::read(&r, &mut b) {
            if to.send(msg).is_err() {
                sys::exit_group(1);
            }
        }
        sys::exit_group(0);
    }
    drop(r);
    (pid, Pidfd::open(pid).unwrap(), w)
}

#[test]
fn each_access_policy_accepts_exactly_the_processes_it_names() {
    let (addr, _) = abstract_addr("access");
    let l = NotifyListener::bind(&addr).unwrap();
    let to = NotifySocket::from_addr(addr);
    let (a, a_fd, a_go) = sender(&to, b"X_FROM=main");
    let (b, b_fd, b_go) = sender(&to, b"X_FROM=helper");
    let (c, c_fd, c_go) = sender(&to, b"X_FROM=stranger");
    let main = Process {
        pid: a,
        pidfd: Some(a_fd.as_fd()),
    };
    let tracked = [
        main,
        Process {
            pid: b,
            pidfd: Some(b_fd.as_fd()),
        },
    ];
    let only_b = |pid: i32, _: Option<BorrowedFd<'_>>| pid == b;
    let mut buf = [0u8; MAX_MESSAGE];
    // For each policy, one message from each sender; which were accepted.
    let mut round = |access: NotifyAccess<'_>| -> Vec<(i32, Result<(), NotifyError>)> {
        for go in [&a_go, &b_go, &c_go] {
            fd::write_all(go, b"x").unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            let mut p = [Pollfd {
                fd: l.as_fd().as_raw_fd(),
                events: sys::POLLIN,
                revents: 0,
            }];
            assert_eq!(
                poll(&mut p, Some(TIMEOUT)),
                Ok(1),
                "a message within {TIMEOUT:?}"
            );
            got.push(match l.recv_with_access::<0>(&mut buf, &access) {
                Ok(n) => (n.sender_pid().unwrap(), Ok(())),
                Err(
                    e @ (NotifyError::NotAllowed { actual }
                    | NotifyError::WrongSender { actual, .. }),
                ) => (actual.unwrap(), Err(e)),
                Err(e) => panic!("{e}"),
            });
        }
        got.sort_by_key(|(pid, _)| [a, b, c].iter().position(|p| p == pid));
        got
    };
    let wrong = |actual| {
        Err(NotifyError::WrongSender {
            expected: a,
            actual: Some(actual),
        })
    };
    let denied = |actual| {
        Err(NotifyError::NotAllowed {
            actual: Some(actual),
        })
    };
    assert_eq!(
        round(NotifyAccess::Main(main)),
        [(a, Ok(())), (b, wrong(b)), (c, wrong(c))]
    );
    assert_eq!(
        round(NotifyAccess::Service(&tracked)),
        [(a, Ok(())), (b, Ok(())), (c, denied(c))]
    );
    assert_eq!(
        round(NotifyAccess::Check(&only_b)),
        [(a, denied(a)), (b, Ok(())), (c, denied(c))]
    );
    assert_eq!(
        round(NotifyAccess::None),
        [(a, denied(a)), (b, denied(b)), (c, denied(c))]
    );
    assert_eq!(
        round(NotifyAccess::All),
        [(a, Ok(())), (b, Ok(())), (c, Ok(()))]
    );
    // A tracked pid given with another process's pidfd: the number matches, the
    // process does not (where pidfds come with messages).
    let mixed = [Process {
        pid: a,
        pidfd: Some(c_fd.as_fd()),
    }];
    let r = round(NotifyAccess::Service(&mixed));
    if l.passes_pidfds() {
        assert_eq!(r[0], (a, denied(a)));
    } else {
        target::qemu_note("no pidfds with messages: the check is by number");
        assert_eq!(r[0], (a, Ok(())));
    }
    drop((a_go, b_go, c_go));
    for p in [a_fd, b_fd, c_fd] {
        assert_eq!(p.wait().unwrap(), ExitStatus::Exited(0));
    }
}

#[test]
fn a_refused_message_s_fds_are_closed() {
    let (addr, _) = abstract_addr("refused-fds");
    let l = NotifyListener::bind(&addr).unwrap();
    let to = NotifySocket::from_addr(addr);
    let (r, w) = fd::pipe().unwrap();
    to.send_with_fds(b"FDSTORE=1", &[w.as_fd()]).unwrap();
    drop(w);
    let mut buf = [0u8; MAX_MESSAGE];
    let err = l
        .recv_with_access::<4>(&mut buf, &NotifyAccess::None)
        .unwrap_err();
    assert_eq!(
        err,
        NotifyError::NotAllowed {
            actual: Some(sys::getpid())
        }
    );
    assert!(pipe_closed(r.as_fd()), "the refused message's fd is closed");
}

/// Set for the namespace half: where `examples/notify_ready` is.
const NOTIFY_READY: &str = "BAREMSG_MANAGER_NOTIFY_READY";

/// In a PID namespace of its own (`unshare --pid --fork`, this binary its PID 1, so the
/// pid forced with `ns_last_pid` is no other test's): an old instance sends READY=1
/// twice and is reaped; the next child, started by `Spawn`, gets its pid; under the
/// Main and Service policies the old messages are refused, the new child's accepted.
#[test]
fn a_stale_message_from_a_reaped_process_whose_pid_was_reused_is_refused_by_policy() {
    let (addr, _) = abstract_addr("reuse-probe");
    if !NotifyListener::bind(&addr).unwrap().passes_pidfds() {
        eprintln!("skipped: this kernel passes no pidfds (SO_PASSPIDFD, Linux 6.5+)");
        return;
    }
    let notify_ready = example("notify_ready");
    run_test_alone(
        &["unshare", "--pid", "--fork", "--"],
        "pid_reuse_under_a_policy",
        &[(NOTIFY_READY, notify_ready.as_ref())],
    );
}

#[test]
#[ignore = "the half of a_stale_message_from_a_reaped_process_whose_pid_was_reused_is_refused_by_policy that runs in a PID namespace"]
fn pid_reuse_under_a_policy() {
    let Some(notify_ready) = std::env::var_os(NOTIFY_READY) else {
        eprintln!("not started by its parent test: nothing done");
        return;
    };
    assert_eq!(sys::getpid(), 1, "PID 1 of a new PID namespace");
    let (addr, _) = abstract_addr("reuse");
    let l = NotifyListener::bind(&addr).unwrap();
    let to = NotifySocket::from_addr(addr);
    let (old, old_pidfd, go) = sender(&to, b"READY=1\nX_INSTANCE=old");
    fd::write_all(&go, b"xx").unwrap();
    drop(go);
    assert_eq!(old_pidfd.wait().unwrap(), ExitStatus::Exited(0));
    drop(old_pidfd);
    std::fs::write("/proc/sys/kernel/ns_last_pid", (old - 1).to_string())
        .expect("write /proc/sys/kernel/ns_last_pid");
    let exe = CString::new(notify_ready.as_bytes()).unwrap();
    let env = l.env().unwrap();
    let argv = [exe.as_c_str(), c"READY=1", c"X_INSTANCE=new"];
    let envp = [env.as_cstr()];
    let new = Spawn::new(&exe, &argv)
        .env(&envp)
        .spawn_with_pidfd(&mut ExecBuf::<8, 64>::new())
        .unwrap();
    assert_eq!(new.pid(), old, "the new child got the old one's pid");
    let main = Process {
        pid: old,
        pidfd: new.pidfd(),
    };
    let by_number = [Process {
        pid: old,
        pidfd: None,
    }];
    let mut buf = [0u8; MAX_MESSAGE];
    assert_eq!(
        l.recv_with_access::<0>(&mut buf, &NotifyAccess::Main(main))
            .unwrap_err(),
        NotifyError::WrongSender {
            expected: old,
            actual: Some(old)
        },
        "the old message under Main, by the new child's pidfd"
    );
    assert_eq!(
        l.recv_with_access::<0>(&mut buf, &NotifyAccess::Service(&by_number))
            .unwrap_err(),
        NotifyError::NotAllowed { actual: Some(old) },
        "the old message under Service, by pid (its pidfd shows its sender gone)"
    );
    let n = l
        .recv_with_access::<0>(&mut buf, &NotifyAccess::Service(&[main]))
        .expect("the new child's message");
    assert_eq!(n.payload(), b"READY=1\nX_INSTANCE=new");
    PidGuard(Some(old)).wait_ok();
}

#[test]
fn a_listener_that_takes_no_fds_refuses_them_in_the_kernel_or_closes_them() {
    let (addr, _) = abstract_addr("passrights");
    let mut l = NotifyListener::bind(&addr).unwrap();
    let to = NotifySocket::from_addr(addr);
    let how = l.refuse_fds().unwrap();
    assert_eq!(l.fd_refusal(), Some(how));
    let (r, w) = fd::pipe().unwrap();
    let mut buf = [0u8; MAX_MESSAGE];
    let sent = to.send_with_fds(b"FDSTORE=1", &[w.as_fd()]);
    drop(w);
    match how {
        FdRefusal::Kernel => {
            assert_eq!(sent, Err(NotifyError::Send(Errno::EPERM)));
            assert!(
                pipe_closed_now(r.as_fd()),
                "no copy of the fd went anywhere"
            );
            // BARRIER=1 travels with an fd: refused the same way.
            assert_eq!(
                to.barrier(Duration::from_millis(1)),
                Err(NotifyError::Send(Errno::EPERM))
            );
        }
        FdRefusal::Closed => {
            let release = kernel_release();
            assert!(
                target::under_qemu() || release < (6, 16),
                "SO_PASSRIGHTS refused on Linux {release:?} natively"
            );
            target::qemu_note("SO_PASSRIGHTS unknown: fds are closed on receipt");
            sent.unwrap();
            let n = l.recv::<4>(&mut buf).unwrap();
            assert_eq!((n.fd_count(), n.fds_truncated()), (0, true));
            drop(n);
            assert!(pipe_closed(r.as_fd()), "the fd that came was closed");
        }
    }
    // Messages without fds still come.
    to.send(b"READY=1").unwrap();
    assert_eq!(l.recv::<4>(&mut buf).unwrap().payload(), b"READY=1");
}

/// The running kernel's version, from `uname -r`'s first two numbers.
fn kernel_release() -> (u32, u32) {
    let text = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut it = text
        .split(|c: char| !c.is_ascii_digit())
        .map(|s| s.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

// ---------------------------------------------------------------------------------
// What a spawned service sees

/// Whether this runs as root (the tests that change the uid need it); says so if not.
fn root() -> bool {
    let root = sys::geteuid() == 0;
    if !root {
        eprintln!("skipped: changing the uid needs root");
    }
    root
}

/// A new directory under the temporary directory with `mode`, removed with what it
/// holds when dropped.
struct TempDir(TempPath);

impl TempDir {
    fn new(what: &str, mode: u32) -> Self {
        let p = TempPath::new(what);
        std::fs::create_dir(&p.0).unwrap();
        std::fs::set_permissions(&p.0, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        TempDir(p)
    }

    fn cstring(&self) -> CString {
        CString::new(self.0.bytes()).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0 .0);
    }
}

/// The process group and session fields of a `/proc/<pid>/stat` text.
fn pgrp_and_session(stat: &str) -> (String, String) {
    let after = &stat[stat.rfind(')').expect("(comm)") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    (f[2].to_owned(), f[3].to_owned())
}

/// A line `key` of a `/proc/<pid>/status` text, its value trimmed.
fn field<'t>(text: &'t str, key: &str) -> &'t str {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"))
        .trim()
}

#[test]
fn a_spawned_service_runs_with_the_ids_dir_stdio_limits_umask_session_and_signals_given() {
    if !root() {
        return;
    }
    let dir = TempDir::new("service-cwd", 0o755);
    let dir_c = dir.cstring();
    in_forked_child(|| {
        // A manager that blocks and ignores what it reads from a signalfd.
        let blocked = Sigset::EMPTY.with(sys::SIGTERM).with(sys::SIGCHLD);
        process::block_signals(&blocked).unwrap();
        let ignore = sys::Sigaction {
            sa_handler: sys::SIG_IGN,
            ..sys::Sigaction::DEFAULT
        };
        // SAFETY: SIG_IGN from a valid struct.
        unsafe { sys::rt_sigaction(sys::SIGPIPE, &ignore, std::ptr::null_mut()) }.unwrap();

        let (out_r, out_w) = fd::pipe().unwrap();
        let (err_r, err_w) = fd::pipe().unwrap();
        // The status last, read by the shell's own process (`exec`): a shell waiting for
        // a command blocks signals meanwhile.
        let script = c"cat /proc/$$/limits; echo; \
            echo cwd=$(readlink /proc/$$/cwd); echo stdin=$(readlink /proc/$$/fd/0); \
            echo stat=$(cat /proc/$$/stat); echo pid=$$; echo oops >&2; \
            exec cat /proc/self/status";
        let argv = [c"sh", c"-c", script];
        let limits = [
            (
                sys::RLIMIT_NOFILE,
                Rlimit {
                    rlim_cur: 100,
                    rlim_max: 200,
                },
            ),
            (
                sys::RLIMIT_CORE,
                Rlimit {
                    rlim_cur: 0,
                    rlim_max: sys::RLIM_INFINITY,
                },
            ),
        ];
        let pid = Spawn::new(c"/bin/sh", &argv)
            .env(&[c"PATH=/usr/bin:/bin"])
            .stdin(Stdio::Null)
            .stdout(Stdio::Fd(out_w.as_fd()))
            .stderr(Stdio::Fd(err_w.as_fd()))
            .user(65534)
            .group(65533)
            .groups(&[65532, 65531])
            .setsid(true)
            .current_dir(&dir_c)
            .rlimits(&limits)
            .umask(0o027)
            .spawn(&mut ExecBuf::<8, 128>::new())
            .unwrap();
        drop((out_w, err_w));
        let out = String::from_utf8(read_to_end(out_r.as_fd())).unwrap();
        let err = String::from_utf8(read_to_end(err_r.as_fd())).unwrap();
        PidGuard(Some(pid)).wait_ok();

        assert_eq!(field(&out, "Uid"), "65534\t65534\t65534\t65534", "{out}");
        assert_eq!(field(&out, "Gid"), "65533\t65533\t65533\t65533");
        assert_eq!(field(&out, "Groups"), "65531 65532");
        assert_eq!(field(&out, "Umask"), "0027");
        assert_eq!(field(&out, "SigBlk"), "0000000000000000");
        let ign = u64::from_str_radix(field(&out, "SigIgn"), 16).unwrap();
        // Under qemu-user the host program also has what qemu itself ignores (a
        // real-time signal it keeps for itself).
        let ign = if target::under_qemu() {
            ign & 0x7fff_ffff
        } else {
            ign
        };
        assert_eq!(ign, 0, "SigIgn");
        let nofile = out
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        assert_eq!(
            nofile.split_whitespace().collect::<Vec<_>>()[3..5],
            ["100", "200"]
        );
        let core = out
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        assert_eq!(
            core.split_whitespace().collect::<Vec<_>>()[4..6],
            ["0", "unlimited"]
        );
        let line = |key: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {out}"))
                .to_owned()
        };
        assert_eq!(line("cwd="), dir.0.str());
        assert_eq!(line("stdin="), "/dev/null");
        assert_eq!(err, "oops\n");
        // stat: pid (comm) state ppid pgrp session ...
        let pid_s = line("pid=");
        assert_eq!(
            pgrp_and_session(&line("stat=")),
            (pid_s.clone(), pid_s),
            "pgrp, session"
        );
    });
}

#[test]
fn the_working_directory_is_entered_as_the_service_s_user() {
    if !root() {
        return;
    }
    let dir = TempDir::new("private-cwd", 0o700);
    let dir_c = dir.cstring();
    let err = Spawn::new(c"/bin/true", &[c"true"])
        .user(65534)
        .group(65534)
        .current_dir(&dir_c)
        .spawn(&mut ExecBuf::<8, 64>::new())
        .unwrap_err();
    assert_eq!(
        err,
        baremsg::activation::ActivationError::Spawn {
            step: SpawnStep::Chdir,
            errno: Errno::EACCES
        }
    );
}

#[test]
fn a_process_group_of_its_own_in_the_caller_s_session() {
    let (r, w) = fd::pipe().unwrap();
    let pid = Spawn::new(c"/bin/sh", &[c"sh", c"-c", c"cat /proc/$$/stat"])
        .stdout(Stdio::Fd(w.as_fd()))
        .process_group(0)
        .spawn(&mut ExecBuf::<8, 64>::new())
        .unwrap();
    drop(w);
    let stat = String::from_utf8(read_to_end(r.as_fd())).unwrap();
    PidGuard(Some(pid)).wait_ok();
    assert_eq!(
        pgrp_and_session(&stat),
        (pid.to_string(), sys::getsid(0).unwrap().to_string()),
        "pgrp, session: {stat}"
    );
}

#[test]
fn the_parent_death_signal_reaches_the_service_when_its_parent_exits() {
    let (up_r, up_w) = fd::pipe().unwrap();
    let (term_r, term_w) = fd::pipe().unwrap();
    // The middle process spawns the service, waits until it has set its trap, and exits.
    in_forked_child(move || {
        let fds = [up_w.as_fd(), term_w.as_fd()];
        let script =
            c"trap 'echo term >&4; exit 0' TERM; echo up >&3; while :; do sleep 0.05; done";
        Spawn::new(c"/bin/sh", &[c"sh", c"-c", script])
            .env(&[c"PATH=/usr/bin:/bin"])
            .fds(&fds)
            .parent_death_signal(sys::SIGTERM)
            .spawn(&mut ExecBuf::<8, 64>::new())
            .unwrap();
        let mut up = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            match fd::read(&up_r, &mut up[got..]) {
                Ok(0) => panic!("the service ended before its trap was set"),
                Ok(n) => got += n,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&up, b"up\n");
    });
    // The middle process's exit sent SIGTERM to the service, whose trap says so.
    assert_eq!(read_to_end(term_r.as_fd()), b"term\n");
}

#[test]
fn listen_pidfd_id_is_the_child_s_own_pidfs_id() {
    let (r, w) = fd::pipe().unwrap();
    let fds = [w.as_fd()];
    let code = c"import os; fd = os.pidfd_open(os.getpid()); \
        os.write(3, ('%s %s %s' % (os.environ.get('LISTEN_PIDFDID'), os.fstat(fd).st_ino, \
        os.environ['LISTEN_PID'])).encode())";
    let python = CString::new(python().as_os_str().as_bytes()).unwrap();
    let mut child = Spawn::new(&python, &[&python, c"-c", code])
        .fds(&fds)
        .listen_pidfd_id(true)
        .spawn_with_pidfd(&mut ExecBuf::<8, 128>::new())
        .unwrap();
    drop(w);
    let out = String::from_utf8(read_to_end(r.as_fd())).unwrap();
    let pidfd = child.take_pidfd().unwrap();
    let ours = process::pidfd_id(pidfd.as_fd()).expect("pidfd_id");
    PidGuard(Some(child.pid())).wait_ok();
    let words: Vec<&str> = out.split(' ').collect();
    assert_eq!(words[2], child.pid().to_string());
    match ours {
        Some(id) => {
            assert_eq!(words[0], id.to_string(), "LISTEN_PIDFDID, the manager's id");
            // Python, a 64-bit host program here, reads the inode number, which is the id
            // on a 64-bit kernel.
            assert_eq!(words[1], id.to_string(), "the child's pidfd inode");
        }
        None => {
            eprintln!("no pidfs ids here (Linux 6.9+): LISTEN_PIDFDID left out");
            assert_eq!(words[0], "None");
        }
    }
}

// ---------------------------------------------------------------------------------
// Privilege separation: the files a privileged parent hands out

#[test]
fn openat_opens_relative_to_a_directory_close_on_exec() {
    let dir = TempDir::new("openat", 0o755);
    std::fs::write(dir.0 .0.join("secret"), b"s3cret").unwrap();
    let d = fd::openat(None, &dir.cstring(), sys::O_DIRECTORY | sys::O_RDONLY, 0).unwrap();
    let f = fd::openat(Some(d.as_fd()), c"secret", sys::O_RDONLY, 0).unwrap();
    assert!(fd::is_cloexec(&f).unwrap());
    let mut buf = [0u8; 16];
    assert_eq!(fd::read(&f, &mut buf), Ok(6));
    assert_eq!(&buf[..6], b"s3cret");
    // Created with the mode asked (less the umask), relative to the directory.
    let old = sys::umask(0o022);
    let made = fd::openat(Some(d.as_fd()), c"new", sys::O_CREAT | sys::O_WRONLY, 0o640);
    sys::umask(old);
    let made = made.unwrap();
    fd::write_all(&made, b"w").unwrap();
    let meta = std::fs::metadata(dir.0 .0.join("new")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o640
    );
    // Errors are the kernel's; no fd is made.
    let before = open_fd_count();
    assert_eq!(
        fd::openat(Some(d.as_fd()), c"missing", sys::O_RDONLY, 0).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        fd::openat(
            Some(d.as_fd()),
            c"secret",
            sys::O_RDONLY | sys::O_DIRECTORY,
            0
        )
        .unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(open_fd_count(), before);
    drop((f, made, d));
}

#[test]
fn a_handed_out_fd_is_all_an_unprivileged_service_can_read() {
    if !root() {
        return;
    }
    let dir = TempDir::new("handed", 0o700);
    let secret = dir.0 .0.join("secret");
    std::fs::write(&secret, b"for the service").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let secret_c = CString::new(secret.as_os_str().as_bytes()).unwrap();
    let handed = fd::openat(None, &secret_c, sys::O_RDONLY, 0).unwrap();
    let (r, w) = fd::pipe().unwrap();
    let fds = [handed.as_fd()];
    let cmd = CString::new(format!(
        "cat <&3; cat {} 2>/dev/null || echo ' denied'",
        secret.display()
    ))
    .unwrap();
    let pid = Spawn::new(c"/bin/sh", &[c"sh", c"-c", &cmd])
        .env(&[c"PATH=/usr/bin:/bin"])
        .fds(&fds)
        .stdout(Stdio::Fd(w.as_fd()))
        .user(65534)
        .group(65534)
        .spawn(&mut ExecBuf::<8, 64>::new())
        .unwrap();
    drop(w);
    let out = read_to_end(r.as_fd());
    PidGuard(Some(pid)).wait_ok();
    assert_eq!(out, b"for the service denied\n");
}

#[test]
fn stdio_sources_that_sit_where_the_fds_go_are_moved_first() {
    // The stdout pipe sits at fd 3, which the passed fd takes, and the passed fd at 1's
    // place would be overwritten by stdout: both must survive.
    in_forked_child(|| {
        let [out_r, out_w, fd3_r, fd3_w] = {
            let (a, b) = fd::pipe().unwrap();
            let (c, d) = fd::pipe().unwrap();
            [a, b, c, d].map(high)
        };
        // out_w at 3 and fd3_w at 1 (this child's own stdout is not needed).
        let at3 = put_at(out_w, 3);
        let at1 = put_at(fd3_w, 1);
        let fds = [at1.as_fd()];
        let pid = Spawn::new(c"/bin/sh", &[c"sh", c"-c", c"echo out; echo three >&3"])
            .env(&[c"PATH=/usr/bin:/bin"])
            .fds(&fds)
            .stdout(Stdio::Fd(at3.as_fd()))
            .stderr(Stdio::Null)
            .spawn(&mut ExecBuf::<8, 64>::new())
            .unwrap();
        drop((at3, at1));
        let out = read_to_end(out_r.as_fd());
        let three = read_to_end(fd3_r.as_fd());
        PidGuard(Some(pid)).wait_ok();
        assert_eq!(
            (out.as_slice(), three.as_slice()),
            (&b"out\n"[..], &b"three\n"[..])
        );
    });
}

/// `fd` moved to number `n` (close-on-exec), in a forked child whose fd `n` is its own to
/// overwrite.
fn put_at(fd: OwnedFd, n: i32) -> OwnedFd {
    if fd.as_raw_fd() == n {
        return fd;
    }
    // SAFETY: `n` is this child's to replace; the new fd is wrapped at once.
    unsafe {
        sys::dup3(fd.as_raw_fd(), n, sys::O_CLOEXEC).unwrap();
        OwnedFd::from_raw_fd(n)
    }
}

/// `fd` moved above 100, out of the low numbers a test places fds at.
fn high(fd: OwnedFd) -> OwnedFd {
    // SAFETY: a new fd, wrapped at once; the old one is closed on return.
    unsafe {
        let n = sys::fcntl(fd.as_raw_fd(), sys::F_DUPFD_CLOEXEC, 100).unwrap();
        OwnedFd::from_raw_fd(n as i32)
    }
}

#[test]
fn the_supervisor_example_restarts_hands_back_stored_fds_and_catches_the_watchdog() {
    if target::under_qemu() {
        // It starts itself as the service: a guest program, which execve cannot run
        // without binfmt_misc (see tests/target).
        target::qemu_note("the supervisor example execs itself: skipped under qemu-user");
        return;
    }
    let out = target::command(example("supervisor"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text,
        "run 1: ready (run 1, http listener: yes)\n\
         run 1: exited with 1\n\
         run 2: ready (run 2, http listener: yes)\n\
         run 2: exited with 1\n\
         run 3: ready (run 3, http listener: yes)\n\
         run 3: watchdog missed, aborting it\n\
         run 3: ended by signal 6\n\
         stored at the end: counter\n"
    );
}

#[test]
fn each_failing_step_is_reported_the_child_reaped_and_no_fd_left() {
    in_forked_child(|| {
        let before = open_fd_count();
        let spawn = Spawn::new(c"/bin/true", &[c"true"]).stdin(Stdio::Null);
        let step = |s: Spawn<'_>| match s.spawn(&mut ExecBuf::<8, 64>::new()) {
            Err(baremsg::activation::ActivationError::Spawn { step, errno }) => (step, errno),
            other => panic!("expected a failed step, got {other:?}"),
        };
        let soft_above_hard = [(
            sys::RLIMIT_CORE,
            Rlimit {
                rlim_cur: 2,
                rlim_max: 1,
            },
        )];
        assert_eq!(
            step(spawn.rlimits(&soft_above_hard)),
            (SpawnStep::Limits, Errno::EINVAL)
        );
        // No process has pid 0x7fff_fff0, so no group of that id exists.
        assert_eq!(
            step(spawn.process_group(0x7fff_fff0)),
            (SpawnStep::Session, Errno::EPERM)
        );
        assert_eq!(
            step(spawn.current_dir(c"/nonexistent/dir")),
            (SpawnStep::Chdir, Errno::ENOENT)
        );
        assert_eq!(
            step(spawn.parent_death_signal(65)),
            (SpawnStep::ParentDeath, Errno::EINVAL)
        );
        if sys::geteuid() == 0 {
            // Without CAP_SETUID, a child cannot become root again.
            process::drop_privileges(65534, 65534, &[]).unwrap();
        }
        assert_eq!(step(spawn.user(0)), (SpawnStep::Credentials, Errno::EPERM));
        assert_eq!(open_fd_count(), before, "an fd left behind");
        assert_eq!(
            process::wait(-1, sys::WNOHANG),
            Err(Errno::ECHILD),
            "a child left"
        );
    });
}

#[test]
fn listen_vars_check_their_names_and_buffer_and_fill_in_this_process() {
    use baremsg::activation::{ActivationError, ListenVars};
    let mut buf = [0u8; 256];
    let two: &[&[u8]] = &[b"a", b"b"];
    assert_eq!(
        ListenVars::new(&mut buf, 3, Some(two), false).unwrap_err(),
        ActivationError::NameCountMismatch { fds: 3, names: 2 }
    );
    let bad: &[&[u8]] = &[b"a:b"];
    assert_eq!(
        ListenVars::new(&mut buf, 1, Some(bad), false).unwrap_err(),
        ActivationError::InvalidFdName { index: 0 }
    );
    let needs = ListenVars::needs(2, Some(two), true);
    let mut small = vec![0u8; needs.bytes - 1];
    assert!(matches!(
        ListenVars::new(&mut small, 2, Some(two), true),
        Err(ActivationError::ExecBufTooSmall { .. })
    ));
    let mut exact = vec![0u8; needs.bytes];
    let mut vars = ListenVars::new(&mut exact, 2, Some(two), true).unwrap();
    vars.set_for_this_process();
    let entries: Vec<String> = vars
        .entries()
        .map(|e| e.to_str().unwrap().to_owned())
        .collect();
    let mut want = vec![
        format!("LISTEN_PID={}", sys::getpid()),
        "LISTEN_FDS=2".into(),
        "LISTEN_FDNAMES=a:b".into(),
    ];
    if let Some(id) = process::own_pidfd_id().expect("own_pidfd_id") {
        want.push(format!("LISTEN_PIDFDID={id}"));
    }
    assert_eq!(entries, want);
    // The id is this process's: the same as a pidfd of it says.
    let me = Pidfd::open(sys::getpid()).unwrap();
    assert_eq!(me.id(), process::own_pidfd_id());
    // Unknown: left out.
    vars.set_pidfd_id(None);
    assert_eq!(vars.entries().count(), 3);
}
