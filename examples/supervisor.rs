//! A service manager's loop on baremsg alone (no libc calls of its own): it starts a
//! service with a listening socket and `NOTIFY_SOCKET`, waits in one epoll for
//! `READY=1`, the child's death (its pidfd), a start timeout and a watchdog (timerfds)
//! or a signal (a signalfd), keeps the fds the service stores (`FDSTORE=1`) and hands
//! them back when it restarts it.
//!
//! ```text
//! supervisor            the demo: starts itself as the service, three times
//! supervisor service    the service (what the demo starts)
//! ```
//!
//! The service counts its runs in a memfd it stores with the manager; runs 1 and 2 exit
//! with 1 after `READY=1` (the manager restarts them), run 3 stops sending `WATCHDOG=1`
//! and is aborted. SIGINT or SIGTERM stop the manager and its service.

use std::ffi::CString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::ExitCode;
use std::time::Duration;

use baremsg::activation::{Activated, ExecBuf, ListenEnv, Spawn, Stdio};
use baremsg::event::{Epoll, SignalFd, TimerFd, READABLE};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::notify::{NotifyAccess, NotifyError, NotifyListener, NotifySocket, Process};
use baremsg::process::{self, ExitStatus, Pidfd};
use baremsg::sys::{self, EpollEvent, Sigset, CLOCK_MONOTONIC};
use baremsg::unix::{UnixAddr, UnixListener};
use baremsg::{Errno, Error};

const START_TIMEOUT: Duration = Duration::from_secs(10);
const WATCHDOG: Duration = Duration::from_secs(1);
const RUNS: u32 = 3;

fn main() -> ExitCode {
    let result = match std::env::args().nth(1).as_deref() {
        Some("service") => service(),
        _ => supervise(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("supervisor: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

/// Any error, as its message: baremsg's error types implement `std::error::Error` only
/// with the `std` feature, which this example does not need.
struct Failure(String);

impl<T: std::fmt::Display> From<T> for Failure {
    fn from(e: T) -> Self {
        Failure(e.to_string())
    }
}

type Result<T> = std::result::Result<T, Failure>;

// ---------------------------------------------------------------------------------
// The manager

/// What woke the loop.
enum Woke {
    Ready(String),
    Exited(ExitStatus),
    StartTimeout,
    WatchdogMissed,
    Signal(u32),
}

const NOTIFY: u64 = 1;
const CHILD: u64 = 2;
const START: u64 = 3;
const PING: u64 = 4;
const SIGNALS: u64 = 5;

fn supervise() -> Result<()> {
    // Signals are read from a signalfd: block them first (before any thread starts).
    let stop = Sigset::EMPTY.with(sys::SIGINT).with(sys::SIGTERM);
    process::block_signals(&stop)?;
    let signals = SignalFd::new(&stop)?;
    // Orphaned grandchildren come to us, to be reaped, as with an init.
    process::set_child_subreaper(true)?;

    let name = format!("baremsg-supervisor-{}", sys::getpid());
    let http = UnixListener::bind(&UnixAddr::from_abstract(format!("{name}-http").as_bytes())?)?;
    let notify = NotifyListener::bind(&UnixAddr::from_abstract(
        format!("{name}-notify").as_bytes(),
    )?)?;
    notify.socket().set_nonblocking(true)?;

    let start = TimerFd::new(CLOCK_MONOTONIC)?;
    let watchdog = TimerFd::new(CLOCK_MONOTONIC)?;
    let epoll = Epoll::new()?;
    epoll.add(&notify, READABLE, NOTIFY)?;
    epoll.add(&start, READABLE, START)?;
    epoll.add(&watchdog, READABLE, PING)?;
    epoll.add(&signals, READABLE, SIGNALS)?;

    // Everything the child gets is built here, before the fork.
    let exe = CString::new(std::env::current_exe()?.into_os_string().into_vec())?;
    let argv = [exe.as_c_str(), c"service"];
    let notify_env = notify.env()?;
    let envp = [notify_env.as_cstr()];
    let mut stored: Vec<(Vec<u8>, OwnedFd)> = Vec::new();

    for run in 1..=RUNS {
        // The listening socket first, then the stored fds, each with its name.
        let mut fds: Vec<BorrowedFd<'_>> = vec![http.as_fd()];
        let mut names: Vec<&[u8]> = vec![b"http"];
        for (n, fd) in &stored {
            fds.push(fd.as_fd());
            names.push(n);
        }
        let mut child = Spawn::new(&exe, &argv)
            .env(&envp)
            .fds(&fds)
            .names(&names)
            .listen_pidfd_id(true)
            .watchdog(WATCHDOG.as_micros() as u64) // WATCHDOG_USEC, WATCHDOG_PID
            .stdin(Stdio::Null)
            .spawn_with_pidfd(&mut ExecBuf::<16, 1024>::new())?;
        let pid = child.pid();
        let pidfd = Pidfd::from_fd(child.take_pidfd().ok_or("no pidfd (Linux 5.3+)")?);
        epoll.add(&pidfd, READABLE, CHILD)?;
        start.set(START_TIMEOUT, None)?;
        let main = NotifyAccess::Main(Process {
            pid,
            pidfd: Some(pidfd.as_fd()),
        });

        let ended = loop {
            let woke = wait(
                &epoll,
                &notify,
                &main,
                &pidfd,
                &mut stored,
                &watchdog,
                &signals,
            )?;
            match woke {
                Woke::Ready(status) => {
                    start.disarm()?;
                    println!("run {run}: ready ({status})");
                }
                Woke::Exited(status) => break status,
                Woke::StartTimeout => {
                    println!("run {run}: no READY=1 within {START_TIMEOUT:?}, killing it");
                    pidfd.send_signal(sys::SIGKILL)?;
                }
                Woke::WatchdogMissed => {
                    println!("run {run}: watchdog missed, aborting it");
                    pidfd.send_signal(sys::SIGABRT)?;
                }
                Woke::Signal(sig) => {
                    println!("signal {sig}: stopping");
                    pidfd.send_signal(sys::SIGTERM)?;
                }
            }
        };
        watchdog.disarm()?;
        epoll.delete(&pidfd)?;
        match ended {
            ExitStatus::Exited(code) => println!("run {run}: exited with {code}"),
            other => println!("run {run}: ended by signal {}", other.signal().unwrap_or(0)),
        }
        if ended.signal().is_some() {
            break;
        }
    }
    let names: Vec<_> = stored
        .iter()
        .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
        .collect();
    println!("stored at the end: {}", names.join(", "));
    Ok(())
}

/// One turn of the loop: waits for the next thing that matters.
fn wait(
    epoll: &Epoll,
    notify: &NotifyListener,
    main: &NotifyAccess<'_>,
    child: &Pidfd,
    stored: &mut Vec<(Vec<u8>, OwnedFd)>,
    watchdog: &TimerFd,
    signals: &SignalFd,
) -> Result<Woke> {
    loop {
        let mut events = [EpollEvent::default(); 8];
        let ready: Vec<u64> = match epoll.wait(&mut events, None) {
            Err(Errno::EINTR) => continue,
            r => r?.iter().map(|e| e.data).collect(),
        };
        // Messages first: what the child sent before it died still counts.
        if ready.contains(&NOTIFY) || ready.contains(&CHILD) {
            let mut buf = [0u8; baremsg::notify::MAX_MESSAGE];
            loop {
                let mut n = match notify.recv_with_access::<16>(&mut buf, main) {
                    Ok(n) => n,
                    Err(NotifyError::Sys(Error::Os(Errno::EAGAIN))) => break,
                    // Not from the main process (or malformed): its fds are closed.
                    Err(e) => {
                        eprintln!("refused: {e}");
                        continue;
                    }
                };
                if n.get(b"FDSTOREREMOVE") == Some(b"1") {
                    let name = n.get(b"FDNAME").unwrap_or_default();
                    stored.retain(|(s, _)| s != name);
                }
                if n.get(b"FDSTORE") == Some(b"1") {
                    let name = n.get(b"FDNAME").unwrap_or(b"stored").to_vec();
                    stored.extend(n.take_fds().map(|fd| (name.clone(), fd)));
                }
                // BARRIER=1 needs nothing more: the fd that came with it is closed
                // when `n` is dropped.
                let ping = n.get(b"WATCHDOG") == Some(b"1");
                if ping || n.get(b"READY") == Some(b"1") {
                    watchdog.set(WATCHDOG, None)?;
                }
                if n.get(b"READY") == Some(b"1") {
                    let status = n.get(b"STATUS").unwrap_or_default();
                    return Ok(Woke::Ready(String::from_utf8_lossy(status).into_owned()));
                }
            }
        }
        if ready.contains(&CHILD) {
            return Ok(Woke::Exited(child.wait()?));
        }
        if ready.contains(&START) {
            return Ok(Woke::StartTimeout);
        }
        if ready.contains(&PING) {
            watchdog.disarm()?;
            return Ok(Woke::WatchdogMissed);
        }
        if ready.contains(&SIGNALS) {
            return Ok(Woke::Signal(signals.read()?.ssi_signo));
        }
    }
}

// ---------------------------------------------------------------------------------
// The service

fn service() -> Result<()> {
    let env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    let env = || env.iter().map(Vec::as_slice);
    let manager = NotifySocket::from_env(env())?.ok_or("NOTIFY_SOCKET is not set")?;
    let listen = ListenEnv::from_env(env())?.ok_or("no LISTEN_FDS")?;
    let mut http = false;
    let mut runs = 0u32;
    // SAFETY: first thing in the service: fds 3.. are the manager's.
    for fd in unsafe { listen.take_fds() }? {
        match (fd.name, fd.socket) {
            (b"http", Activated::UnixListener(_)) => http = true,
            (b"counter", Activated::Other(counter)) => {
                // Read through a new open file: the stored fd's offset is at its end.
                let path = format!("/proc/self/fd/{}", counter.as_raw_fd());
                runs = std::fs::read_to_string(path)?.trim().parse()?;
            }
            _ => {}
        }
    }
    runs += 1;
    let counter = fd::memfd_create(c"counter", 0)?;
    fd::write_all(&counter, runs.to_string().as_bytes())?;
    manager.send(b"FDSTOREREMOVE=1\nFDNAME=counter")?;
    manager.store_fds(Some(b"counter"), &[counter.as_fd()])?;
    let http = if http { "yes" } else { "no" };
    manager.ready_with_status(format!("run {runs}, http listener: {http}").as_bytes())?;
    if runs < RUNS {
        manager.watchdog()?;
        std::process::exit(1);
    }
    // The last run hangs without pinging: the watchdog catches it.
    std::thread::sleep(Duration::from_secs(60));
    Ok(())
}
