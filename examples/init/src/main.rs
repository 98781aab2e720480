//! `baremsg-init`: a container init with neither libc nor std, built on baremsg.
//!
//! ```text
//! baremsg-init [OPTIONS] [--] PROGRAM [ARGS...]
//! ```
//!
//! As PID 1 (or, anywhere else, as a child subreaper), it starts PROGRAM (searched in
//! `PATH`) as its one service, reaps every process that ends up its child, forwards
//! SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the service (to its
//! process group with `-g`, the service then leading its own group), and exits with the
//! service's status: its exit code, or 128 + N when signal N ended it. The first
//! SIGTERM or SIGINT starts the stop: a second one, or `--stop-timeout` passing, sends
//! SIGKILL.
//!
//! What the small inits do not have, systemd's protocols for a service:
//! - `--listen PATH[:NAME]` (`--listen-seqpacket`, `--listen-datagram`): a Unix socket
//!   bound by the init, kept across restarts, and passed at fd 3.. with `LISTEN_FDS`,
//!   `LISTEN_FDNAMES` and `LISTEN_PID`; NAME defaults to the path's last part.
//! - `--notify`: `NOTIFY_SOCKET` for the service; `READY=1` ends the start
//!   (`--start-timeout`), `STATUS=` is shown on stderr, `STOPPING=1` starts the stop
//!   timeout; `WATCHDOG=1` keeps a `--watchdog` service alive (`WATCHDOG_USEC` tells it
//!   the period; `WATCHDOG=trigger` counts as a miss). Only the service's own messages
//!   count: others are refused by pid and pidfd.
//! - `--restart never|on-failure|always`: the service is started again after it ends
//!   (a start timeout or a missed watchdog is a failure: SIGKILL, then restart), after
//!   `--restart-delay`, doubled at each restart up to `--restart-delay-max`, and back to
//!   the first delay once the service said `READY=1` or ran for the longest delay.
//! - `--fdstore N`: fds the service sends with `FDSTORE=1` (named by `FDNAME=`, else
//!   `stored`) are kept, up to N, and passed to the next start after the `--listen`
//!   sockets, named in `LISTEN_FDNAMES`; `FDSTOREREMOVE=1` with `FDNAME=` drops them.
//!
//! Everything waits in one epoll loop: a signalfd, the service's pidfd, the notify
//! socket and two timerfds. Nothing in it can panic on input; each kind of message it
//! refuses is named on stderr the first time. Exit status: the service's; 2 for a bad
//! command line, 1 when the init cannot set itself up, 127 when PROGRAM is not found
//! (a start that fails later is a service ending with 127, or 126 for another errno).

#![no_std]
#![no_main]

#[path = "../../freestanding/src/rt.rs"]
mod rt;

mod opts;
mod say;
mod store;

use core::ffi::CStr;
use core::time::Duration;

use baremsg::activation::{ExecBuf, Spawn};
use baremsg::event::{Epoll, SignalFd, TimerFd, READABLE};
use baremsg::fd::{self, AsFd, BorrowedFd, OwnedFd};
use baremsg::notify::{Notification, NotifyEnv, NotifyError, NotifyListener, MAX_MESSAGE};
use baremsg::process::{self, ExitStatus, Pidfd};
use baremsg::sys::{self, EpollEvent, Siginfo, SignalfdSiginfo, Sigset};
use baremsg::unix::{UnixAddr, UnixDatagram, UnixListener, UnixSeqpacketListener};
use baremsg::{Errno, Error};

use opts::{Kind, Opts, Restart, MAX_FDSTORE, MAX_LISTEN};
use say::Line;
use store::Store;

/// The most arguments and environment entries the service is started with.
const MAX_ARGS: usize = 256;
const MAX_ENV: usize = 512;
/// Fds passed to the service: the sockets, then the fd store.
const MAX_PASS: usize = MAX_LISTEN + MAX_FDSTORE;
/// Fds kept from one notification (more are closed and reported).
const FDS_PER_MESSAGE: usize = 16;

/// What the service gets; SIGTERM and SIGINT also start the stop.
const FORWARDED: [i32; 7] = [
    sys::SIGTERM,
    sys::SIGINT,
    sys::SIGHUP,
    sys::SIGQUIT,
    sys::SIGUSR1,
    sys::SIGUSR2,
    sys::SIGWINCH,
];

// What each epoll event is about.
const SIGNALS: u64 = 0;
const NOTIFY: u64 = 1;
const TIMER: u64 = 2;
const STOP_TIMER: u64 = 3;
const SERVICE: u64 = 4;

/// With `-g` the service is started through the init itself, run again with this as
/// its first argument: it makes its own process group, then executes the service
/// (same pid, so `LISTEN_PID` holds; fds 3.. and the environment pass through).
const NEW_GROUP: &CStr = c"--exec-in-new-process-group";

/// Refusals, each said on stderr the first time.
const R_SENDER: u32 = 1;
const R_MALFORMED: u32 = 2;
const R_FDS: u32 = 4;
const R_FULL: u32 = 8;
const R_NAME: u32 = 16;
const R_TRUNCATED: u32 = 32;
const R_RECV: u32 = 64;
const R_REMOVE: u32 = 128;

const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PATH_MAX: usize = 4096;

fn main(args: rt::Args) -> i32 {
    // SAFETY: the kernel's auxiliary vector for this process (i386: enter the kernel
    // through the vDSO from the first call; nothing elsewhere).
    unsafe { baremsg::sys::init_vsyscall(args.auxv()) };
    match args.get(1) {
        Some(a) if a == NEW_GROUP.to_bytes() => return exec_in_new_group(&args),
        Some(b"-h" | b"--help") => {
            // SAFETY: fd 1 is standard output; a closed one fails with EBADF.
            let _ = fd::write_all(unsafe { BorrowedFd::borrow_raw(1) }, opts::USAGE);
            return 0;
        }
        _ => {}
    }
    let o = match opts::parse(&args) {
        Ok(o) => o,
        Err(opts::Bad(what, arg)) => {
            Line::new().s(what).s(b" ").s(arg).emit();
            Line::new().s(b"try --help").emit();
            return 2;
        }
    };
    match Init::new(o, args) {
        Ok(mut init) => init.run(),
        Err(code) => code,
    }
}

/// The `-g` trampoline: `argv` is `[init, NEW_GROUP, PATH, ARGV0, ARGS...]`.
fn exec_in_new_group(args: &rt::Args) -> i32 {
    if let Err(e) = sys::setpgid(0, 0) {
        Line::new().s(b"setpgid: ").errno(e).emit();
        return 126;
    }
    let (Some(path), true) = (args.get_cstr(2), args.len() > 3) else {
        return 127;
    };
    // SAFETY: `argv[3..]` and `envp` are the kernel's null-terminated arrays of C
    // strings, unchanged since the process started.
    let e = unsafe {
        sys::execve(
            path.as_ptr().cast(),
            args.argv().add(3).cast(),
            args.envp().cast(),
        )
    };
    Line::new().s(path.to_bytes()).s(b": ").errno(e).emit();
    if e == Errno::ENOENT {
        127
    } else {
        126
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Started, `READY=1` not yet received (only with `--notify`).
    Starting,
    /// Ready (or started, without `--notify`).
    Running,
    /// Ended; the timer restarts it.
    Waiting,
}

struct Service {
    pid: i32,
    pidfd: Option<Pidfd>,
}

struct Init {
    o: Opts,
    args: rt::Args,
    /// PROGRAM, found in `PATH`, NUL-terminated.
    path: [u8; PATH_MAX],
    /// This program, for `-g` (NUL-terminated).
    me: [u8; PATH_MAX],
    epoll: Epoll,
    signals: SignalFd,
    /// The start timeout, the watchdog, or the restart delay, by phase.
    timer: TimerFd,
    stop_timer: TimerFd,
    notify: Option<NotifyListener>,
    notify_env: Option<NotifyEnv>,
    watchdog_env: [u8; 40],
    listeners: [Option<OwnedFd>; MAX_LISTEN],
    store: Store,
    service: Option<Service>,
    phase: Phase,
    /// A SIGTERM or SIGINT came: the next service exit ends the init.
    stopping: bool,
    /// The init killed the service (start timeout, watchdog): its end is a failure.
    killed: bool,
    /// Restarts so far, and how many times the delay has doubled.
    restarts: u64,
    backoff: u32,
    started_usec: u64,
    /// The status of the last service that ended.
    last: i32,
    said: u32,
}

/// 32-bit ARM: the personality routines the EHABI unwind tables name for functions with
/// larger frames (`rt.rs` has `__aeabi_unwind_cpp_pr0`, all the smaller programs need);
/// libgcc would provide them. Never called: nothing unwinds.
#[cfg(target_arch = "arm")]
#[no_mangle]
extern "C" fn __aeabi_unwind_cpp_pr1() {}

#[cfg(target_arch = "arm")]
#[no_mangle]
extern "C" fn __aeabi_unwind_cpp_pr2() {}

/// Says `what: errno N` and gives the status for a failed set-up.
fn setup_failed(what: &[u8], e: Errno) -> i32 {
    Line::new().s(what).s(b": ").errno(e).emit();
    1
}

fn notify_errno(e: &NotifyError) -> Errno {
    match e {
        NotifyError::Sys(e) => e.errno(),
        _ => Errno::EINVAL,
    }
}

impl Init {
    fn new(o: Opts, args: rt::Args) -> Result<Self, i32> {
        let mut set = Sigset::EMPTY.with(sys::SIGCHLD);
        for sig in FORWARDED {
            set = set.with(sig);
        }
        // SIGPIPE is blocked and never read: a closed stderr must not end the init.
        process::block_signals(&set.with(sys::SIGPIPE))
            .map_err(|e| setup_failed(b"blocking signals", e))?;
        let signals = SignalFd::new(&set).map_err(|e| setup_failed(b"signalfd", e))?;
        if o.subreaper || sys::getpid() != 1 {
            match process::set_child_subreaper(true) {
                Ok(()) => {}
                // Asked for: the init cannot do its job without it.
                Err(e) if o.subreaper => return Err(setup_failed(b"PR_SET_CHILD_SUBREAPER", e)),
                // Not asked for (qemu-user refuses it): orphans go to the real PID 1.
                Err(e) => {
                    Line::new()
                        .s(b"not a subreaper (PR_SET_CHILD_SUBREAPER: ")
                        .errno(e)
                        .s(b"): orphans are not reaped here")
                        .emit();
                }
            }
        }
        let epoll = Epoll::new().map_err(|e| setup_failed(b"epoll", e))?;
        let timer = TimerFd::new(sys::CLOCK_MONOTONIC).map_err(|e| setup_failed(b"timerfd", e))?;
        let stop_timer =
            TimerFd::new(sys::CLOCK_MONOTONIC).map_err(|e| setup_failed(b"timerfd", e))?;
        // Nonblocking: a timer re-armed after epoll saw it expire reads EAGAIN, not
        // forever.
        for f in [signals.as_fd(), timer.as_fd(), stop_timer.as_fd()] {
            fd::set_nonblocking(f, true).map_err(|e| setup_failed(b"O_NONBLOCK", e))?;
        }

        let mut init = Init {
            o,
            args,
            path: [0; PATH_MAX],
            me: [0; PATH_MAX],
            epoll,
            signals,
            timer,
            stop_timer,
            notify: None,
            notify_env: None,
            watchdog_env: [0; 40],
            listeners: [const { None }; MAX_LISTEN],
            store: Store::new(0),
            service: None,
            phase: Phase::Waiting,
            stopping: false,
            killed: false,
            restarts: 0,
            backoff: 0,
            started_usec: 0,
            last: 0,
            said: 0,
        };
        init.store = Store::new(init.o.fdstore);
        let program = init.args.get(init.o.program).unwrap_or(b"");
        if init.args.len() - init.o.program > MAX_ARGS - 4 {
            Line::new().s(b"too many arguments (at most 252)").emit();
            return Err(2);
        }
        if !resolve(program, init.env(), &mut init.path) {
            Line::new().s(program).s(b": not found").emit();
            return Err(127);
        }
        if init.o.group && !init.find_self() {
            Line::new()
                .s(b"-g needs /proc/self/exe, or the init started by a path")
                .emit();
            return Err(1);
        }
        if init.o.notify {
            init.bind_notify()
                .map_err(|e| setup_failed(b"the notify socket", notify_errno(&e)))?;
        }
        if let Some(w) = init.o.watchdog {
            let mut digits = [0; 20];
            let usec = say::decimal(w.as_micros() as u64, &mut digits);
            let entry = [&b"WATCHDOG_USEC="[..], usec, b"\0"];
            let mut at = 0;
            for b in entry.iter().flat_map(|p| p.iter()) {
                if let Some(slot) = init.watchdog_env.get_mut(at) {
                    *slot = *b;
                    at += 1;
                }
            }
        }
        for i in 0..MAX_LISTEN {
            let Some(Some(spec)) = init.o.listen.get(i).copied() else {
                continue;
            };
            match listen(spec.addr, spec.kind) {
                Ok(fd) => {
                    if let Some(slot) = init.listeners.get_mut(i) {
                        *slot = Some(fd);
                    }
                }
                Err(e) => {
                    Line::new()
                        .s(b"binding ")
                        .s(spec.addr)
                        .s(b": ")
                        .errno(e.errno())
                        .emit();
                    return Err(1);
                }
            }
        }
        let ep = &init.epoll;
        ep.add(&init.signals, READABLE, SIGNALS)
            .and_then(|()| ep.add(&init.timer, READABLE, TIMER))
            .and_then(|()| ep.add(&init.stop_timer, READABLE, STOP_TIMER))
            .and_then(|()| match &init.notify {
                Some(n) => ep.add(n, READABLE, NOTIFY),
                None => Ok(()),
            })
            .map_err(|e| setup_failed(b"epoll_ctl", e))?;
        Ok(init)
    }

    fn env(&self) -> impl Iterator<Item = &'static CStr> {
        // SAFETY: `envp` is the kernel's null-terminated array, unchanged for the life
        // of the program.
        unsafe { Env::new(self.args.envp()) }
    }

    /// The notify socket, on an abstract address the kernel picks (autobind), so that
    /// inits in separate PID namespaces sharing a network namespace do not collide.
    fn bind_notify(&mut self) -> Result<(), NotifyError> {
        let sock = UnixDatagram::bind(&UnixAddr::unnamed())?;
        sock.set_nonblocking(true)?;
        let listener = NotifyListener::from_socket(sock)?;
        self.notify_env = Some(listener.env()?);
        self.notify = Some(listener);
        Ok(())
    }

    /// This program's path for `-g`: `/proc/self/exe`, else `argv[0]` if it names a
    /// file.
    fn find_self(&mut self) -> bool {
        let proc_exe = b"/proc/self/exe";
        if let Some(dst) = self.me.get_mut(..proc_exe.len()) {
            dst.copy_from_slice(proc_exe);
            if is_executable(&self.me) {
                return true;
            }
        }
        let argv0 = self.args.get(0).unwrap_or(b"");
        argv0.contains(&b'/') && resolve(argv0, self.env(), &mut self.me)
    }

    fn run(&mut self) -> i32 {
        if let Some(code) = self.start() {
            return code;
        }
        loop {
            let mut events = [EpollEvent::default(); 8];
            let n = match self.epoll.wait(&mut events, None) {
                Ok(got) => got.len(),
                Err(Errno::EINTR) => continue,
                Err(e) => return setup_failed(b"epoll_wait", e),
            };
            for ev in events.iter().take(n) {
                let what = ev.data;
                let end = match what {
                    SIGNALS => self.on_signals(),
                    NOTIFY => {
                        self.drain_notify();
                        None
                    }
                    TIMER => self.on_timer(),
                    STOP_TIMER => self.on_stop_timer(),
                    _ => self.reap(),
                };
                if let Some(code) = end {
                    return code;
                }
            }
        }
    }

    /// Starts the service; `Some(status)` when the init should end instead.
    fn start(&mut self) -> Option<i32> {
        let path = cstr(&self.path);
        let mut argv: [&CStr; MAX_ARGS] = [c""; MAX_ARGS];
        let mut argc = 0;
        let exe = if self.o.group {
            let first = self.args.get_cstr(0).unwrap_or(c"baremsg-init");
            for arg in [first, NEW_GROUP, path] {
                if let Some(slot) = argv.get_mut(argc) {
                    *slot = arg;
                    argc += 1;
                }
            }
            cstr(&self.me)
        } else {
            path
        };
        let program_args = (self.o.program..).map_while(|i| self.args.get_cstr(i));
        for arg in program_args {
            if let Some(slot) = argv.get_mut(argc) {
                *slot = arg;
                argc += 1;
            }
        }

        let mut env: [&CStr; MAX_ENV] = [c""; MAX_ENV];
        let mut envc = 0;
        let extra = [
            self.notify_env.as_ref().map(|e| e.as_cstr()),
            if self.o.watchdog.is_some() {
                CStr::from_bytes_until_nul(&self.watchdog_env).ok()
            } else {
                None
            },
        ];
        let inherited = self.env().filter(|e| {
            let b = e.to_bytes();
            !(baremsg::notify::is_notify_var(b)
                || b.starts_with(b"WATCHDOG_USEC=")
                || b.starts_with(b"WATCHDOG_PID="))
        });
        // The init's own entries first: an environment too long loses inherited ones.
        let extra = extra.into_iter().flatten();
        let mut dropped = false;
        for entry in extra.chain(inherited.map(|e| -> &CStr { e })) {
            match env.get_mut(envc) {
                Some(slot) => {
                    *slot = entry;
                    envc += 1;
                }
                None => dropped = true,
            }
        }
        if dropped && self.restarts == 0 {
            Line::new()
                .s(b"the environment is cut to 512 entries for the service")
                .emit();
        }

        let placeholder = self.epoll.as_fd();
        let mut fds: [BorrowedFd<'_>; MAX_PASS] = [placeholder; MAX_PASS];
        let mut names: [&[u8]; MAX_PASS] = [b""; MAX_PASS];
        let mut nfds = 0;
        let sockets = self.listeners.iter().zip(self.o.listen.iter());
        for (fd, spec) in sockets {
            if let (Some(fd), Some(spec), Some(f), Some(name)) =
                (fd, spec, fds.get_mut(nfds), names.get_mut(nfds))
            {
                *f = fd.as_fd();
                *name = spec.name;
                nfds += 1;
            }
        }
        for k in 0..self.store.len() {
            if let (Some(fd), Some(f), Some(name)) =
                (self.store.fd(k), fds.get_mut(nfds), names.get_mut(nfds))
            {
                *f = fd;
                *name = self.store.name(k);
                nfds += 1;
            }
        }

        let mut spawn =
            Spawn::new(exe, argv.get(..argc).unwrap_or(&[])).env(env.get(..envc).unwrap_or(&[]));
        if nfds > 0 {
            spawn = spawn
                .fds(fds.get(..nfds).unwrap_or(&[]))
                .names(names.get(..nfds).unwrap_or(&[]));
        }
        let mut buf = ExecBuf::<{ 2 * MAX_ARGS + MAX_ENV }, 20_000>::new();
        let spawned = spawn.spawn_with_pidfd(&mut buf).map_err(|e| e.errno());
        self.started_usec = baremsg::notify::monotonic_usec().unwrap_or(0);
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let program = self.args.get(self.o.program).unwrap_or(b"");
                Line::new()
                    .s(b"cannot start ")
                    .s(program)
                    .s(b": ")
                    .errno(e)
                    .emit();
                let status = if e == Errno::ENOENT { 127 } else { 126 };
                return self.service_ended(ExitStatus::Exited(status));
            }
        };
        let pidfd = child.take_pidfd().map(Pidfd::from_fd);
        if let Some(p) = &pidfd {
            if let Err(e) = self.epoll.add(p, READABLE, SERVICE) {
                Line::new().s(b"epoll_ctl: ").errno(e).emit();
            }
        }
        self.service = Some(Service {
            pid: child.pid(),
            pidfd,
        });
        self.phase = if self.o.notify {
            Phase::Starting
        } else {
            Phase::Running
        };
        let first = if self.o.notify {
            self.o.start_timeout
        } else {
            None
        };
        self.arm(first);
        None
    }

    /// Sets the phase timer to `after`, or disarms it.
    fn arm(&self, after: Option<Duration>) {
        let done = match after {
            Some(t) => self.timer.set(t, None),
            None => self.timer.disarm(),
        };
        if let Err(e) = done {
            Line::new().s(b"timerfd_settime: ").errno(e).emit();
        }
    }

    fn on_signals(&mut self) -> Option<i32> {
        loop {
            let mut infos = [SignalfdSiginfo::default(); 8];
            let n = match self.signals.read_many(&mut infos) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(_) => return None, // EAGAIN: all read
            };
            for info in infos.iter().take(n) {
                if let Some(code) = self.on_signal(info.ssi_signo as i32) {
                    return Some(code);
                }
            }
        }
    }

    fn on_signal(&mut self, sig: i32) -> Option<i32> {
        if sig == sys::SIGCHLD {
            return self.reap();
        }
        if sig == sys::SIGTERM || sig == sys::SIGINT {
            if self.stopping {
                Line::new()
                    .s(b"second SIGTERM or SIGINT: SIGKILL to the service")
                    .emit();
                self.signal_service(sys::SIGKILL);
                return None;
            }
            self.stopping = true;
            if self.service.is_none() {
                return Some(self.last);
            }
            if let Err(e) = self.stop_timer.set(self.o.stop_timeout, None) {
                Line::new().s(b"timerfd_settime: ").errno(e).emit();
            }
        }
        self.signal_service(sig);
        None
    }

    /// Sends `sig` to the service (its process group with `-g`, once it has one).
    fn signal_service(&self, sig: i32) {
        let Some(s) = &self.service else {
            return;
        };
        if self.o.group && process::kill(-s.pid, sig).is_ok() {
            return;
        }
        let _ = match &s.pidfd {
            Some(p) => p.send_signal(sig),
            None => process::kill(s.pid, sig),
        };
    }

    /// Reaps every child that has ended; the service's end is handled after its last
    /// notifications are read.
    fn reap(&mut self) -> Option<i32> {
        loop {
            let mut info = Siginfo::zeroed();
            // SAFETY: `info` is writable; only integers cross otherwise.
            let peek = unsafe {
                sys::waitid(
                    sys::P_ALL,
                    0,
                    &mut info,
                    sys::WEXITED | sys::WNOHANG | sys::WNOWAIT,
                )
            };
            match peek {
                Ok(()) => {}
                Err(Errno::EINTR) => continue,
                Err(_) => return None, // ECHILD: no child at all
            }
            let pid = info.pid();
            if pid <= 0 {
                return None;
            }
            let is_service = self.service.as_ref().map(|s| s.pid) == Some(pid);
            if is_service {
                self.drain_notify();
            }
            let status = match process::wait(pid, 0) {
                Ok(Some((_, status))) => status,
                Err(Errno::EINTR) => continue,
                _ => return None,
            };
            if is_service {
                if let Some(code) = self.service_ended(status) {
                    return Some(code);
                }
            }
        }
    }

    fn service_ended(&mut self, status: ExitStatus) -> Option<i32> {
        if let Some(s) = self.service.take() {
            if let Some(p) = &s.pidfd {
                let _ = self.epoll.delete(p);
            }
        }
        self.arm(None);
        let _ = self.stop_timer.disarm();
        let code = status.shell_code();
        self.last = code;
        let killed = core::mem::take(&mut self.killed);
        if self.stopping {
            return Some(code);
        }
        let failed = killed || !status.success();
        let again = match self.o.restart {
            Restart::Never => false,
            Restart::OnFailure => failed,
            Restart::Always => true,
        };
        if !again {
            return Some(code);
        }
        let now = baremsg::notify::monotonic_usec().unwrap_or(0);
        let ran = now.saturating_sub(self.started_usec);
        if u128::from(ran) >= self.o.delay_max.as_micros() {
            self.backoff = 0;
        }
        let delay = self
            .o
            .delay
            .checked_mul(1u32 << self.backoff.min(20))
            .unwrap_or(self.o.delay_max)
            .min(self.o.delay_max);
        self.backoff = self.backoff.saturating_add(1);
        self.restarts += 1;
        Line::new()
            .s(b"the service ended with status ")
            .i(i64::from(code))
            .s(b"; restart ")
            .n(self.restarts)
            .s(b" in ")
            .n(delay.as_millis() as u64)
            .s(b" ms")
            .emit();
        self.phase = Phase::Waiting;
        // A zero delay would disarm: at least a nanosecond.
        self.arm(Some(delay.max(Duration::from_nanos(1))));
        None
    }

    fn on_timer(&mut self) -> Option<i32> {
        if self.timer.read().is_err() {
            return None; // re-armed since epoll saw it: not due
        }
        match self.phase {
            Phase::Waiting => return self.start(),
            Phase::Starting => self.kill_failed(b"no READY=1 within the start timeout"),
            Phase::Running => self.kill_failed(b"no WATCHDOG=1 within the watchdog time"),
        }
        None
    }

    fn on_stop_timer(&mut self) -> Option<i32> {
        if self.stop_timer.read().is_ok() && self.service.is_some() {
            Line::new()
                .s(b"the service did not stop within the stop timeout: SIGKILL")
                .emit();
            self.signal_service(sys::SIGKILL);
        }
        None
    }

    /// Kills the service for `why`; its end counts as a failure.
    fn kill_failed(&mut self, why: &[u8]) {
        if self.service.is_none() {
            return;
        }
        Line::new().s(why).s(b": SIGKILL to the service").emit();
        self.killed = true;
        self.arm(None);
        self.signal_service(sys::SIGKILL);
    }

    /// Says `what` once per kind of refusal.
    fn refuse(&mut self, kind: u32, what: &[u8], pid: Option<i32>) {
        if self.said & kind != 0 {
            return;
        }
        self.said |= kind;
        let mut l = Line::new();
        l.s(b"refused: ").s(what);
        if let Some(pid) = pid {
            l.s(b" (from pid ").i(i64::from(pid)).s(b")");
        }
        l.s(b"; further ones are not reported").emit();
    }

    /// Reads every queued notification.
    fn drain_notify(&mut self) {
        let Some(listener) = self.notify.take() else {
            return;
        };
        for _ in 0..4096 {
            let mut buf = [0u8; MAX_MESSAGE];
            match listener.recv::<FDS_PER_MESSAGE>(&mut buf) {
                Ok(msg) => self.on_message(msg),
                Err(NotifyError::Sys(Error::Os(Errno::EAGAIN))) => break,
                Err(NotifyError::Sys(Error::Os(Errno::EINTR))) => continue,
                Err(NotifyError::InvalidMessage(_)) => {
                    self.refuse(R_MALFORMED, b"a malformed notification", None)
                }
                Err(_) => self.refuse(R_RECV, b"a notification that could not be read", None),
            }
        }
        self.notify = Some(listener);
    }

    fn on_message(&mut self, msg: Notification<'_, FDS_PER_MESSAGE>) {
        let from = msg.sender_pid();
        let checked = match &self.service {
            Some(s) => match &s.pidfd {
                Some(p) => msg.check_sender_pidfd(s.pid, p.as_fd()),
                None => msg.check_sender(s.pid),
            },
            None => {
                drop(msg);
                Err(NotifyError::NoFds)
            }
        };
        let Ok(mut msg) = checked else {
            self.refuse(R_SENDER, b"a notification not from the service", from);
            return;
        };
        let (mut ready, mut stopping, mut ping, mut trigger) = (false, false, false, false);
        let (mut store, mut remove) = (false, false);
        let mut name: Option<&[u8]> = None;
        for (key, value) in msg.fields() {
            match (key, value) {
                (b"READY", b"1") => ready = true,
                (b"STOPPING", b"1") => stopping = true,
                (b"WATCHDOG", b"1") => ping = true,
                (b"WATCHDOG", b"trigger") => trigger = true,
                (b"FDSTORE", b"1") => store = true,
                (b"FDSTOREREMOVE", b"1") => remove = true,
                (b"FDNAME", v) => name = Some(v),
                (b"STATUS", v) => Line::new().s(b"status: ").s(v).emit(),
                _ => {}
            }
        }
        if msg.fds_truncated() {
            self.refuse(R_TRUNCATED, b"fds beyond 16 in one notification", from);
        }
        if store {
            let name = name.unwrap_or(b"stored");
            if self.o.fdstore == 0 {
                self.refuse(R_FDS, b"FDSTORE=1 without --fdstore", from);
            } else if !baremsg::notify::is_valid_fd_name(name) || name.len() > store::NAME_MAX {
                self.refuse(R_NAME, b"FDSTORE=1 with an invalid FDNAME", from);
            } else {
                for fd in msg.take_fds() {
                    if self.store.add(name, fd).is_err() {
                        self.refuse(R_FULL, b"FDSTORE=1 with the fd store full", from);
                    }
                }
            }
        } else if msg.fd_count() > 0 {
            self.refuse(R_FDS, b"fds sent without FDSTORE=1 (closed)", from);
        }
        drop(msg); // closes the fds not taken
        if remove {
            match name {
                Some(name) => {
                    self.store.remove(name);
                }
                None => self.refuse(R_REMOVE, b"FDSTOREREMOVE=1 without FDNAME=", from),
            }
        }
        if ready && self.phase == Phase::Starting {
            self.phase = Phase::Running;
            self.backoff = 0;
            self.arm(self.o.watchdog);
            let pid = self.service.as_ref().map_or(0, |s| s.pid);
            Line::new()
                .s(b"ready (pid ")
                .i(i64::from(pid))
                .s(b")")
                .emit();
        }
        if self.phase == Phase::Running && self.o.watchdog.is_some() {
            if trigger {
                self.kill_failed(b"WATCHDOG=trigger");
            } else if ping {
                self.arm(self.o.watchdog);
            }
        }
        if stopping && !self.stopping {
            Line::new().s(b"the service is stopping").emit();
            if let Err(e) = self.stop_timer.set(self.o.stop_timeout, None) {
                Line::new().s(b"timerfd_settime: ").errno(e).emit();
            }
        }
    }
}

/// The C string at the start of `buf` (empty if it has no NUL).
fn cstr(buf: &[u8]) -> &CStr {
    CStr::from_bytes_until_nul(buf).unwrap_or(c"")
}

/// The environment's entries, from the kernel's `envp` array.
struct Env {
    next: *const *const core::ffi::c_char,
}

impl Env {
    /// # Safety
    /// `envp` is a null-terminated array of C strings that live, unchanged, forever.
    unsafe fn new(envp: *const *const core::ffi::c_char) -> Self {
        Self { next: envp }
    }
}

impl Iterator for Env {
    type Item = &'static CStr;

    fn next(&mut self) -> Option<&'static CStr> {
        // SAFETY: `Env::new`'s contract: up to and including the null, every slot is
        // readable, and each non-null one points at a C string that lives forever.
        unsafe {
            let entry = *self.next;
            if entry.is_null() {
                return None;
            }
            self.next = self.next.add(1);
            Some(CStr::from_ptr(entry))
        }
    }
}

/// `name` (found in `PATH` when it has no `/`) into `out`, NUL-terminated, if it is
/// an executable file.
fn resolve(
    name: &[u8],
    env: impl Iterator<Item = &'static CStr>,
    out: &mut [u8; PATH_MAX],
) -> bool {
    if name.is_empty() {
        return false;
    }
    let put = |parts: &[&[u8]], out: &mut [u8; PATH_MAX]| {
        let mut at = 0;
        for b in parts.iter().flat_map(|p| p.iter()) {
            match out.get_mut(at) {
                Some(slot) if at + 1 < PATH_MAX => *slot = *b,
                _ => return false,
            }
            at += 1;
        }
        match out.get_mut(at) {
            Some(slot) => {
                *slot = 0;
                true
            }
            None => false,
        }
    };
    if name.contains(&b'/') {
        return put(&[name], out) && is_executable(out);
    }
    let mut search = DEFAULT_PATH;
    for e in env {
        if let Some(p) = e.to_bytes().strip_prefix(b"PATH=") {
            search = p;
            break;
        }
    }
    for dir in search.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        if put(&[dir, b"/", name], out) && is_executable(out) {
            return true;
        }
    }
    false
}

const STATX_TYPE: u32 = 1;
const STATX_MODE: u32 = 2;
const S_IFMT: u16 = 0o170_000;
const S_IFREG: u16 = 0o100_000;
const S_IFSOCK: u16 = 0o140_000;

/// The file type bits of the NUL-terminated `path` (following links).
fn file_mode(path: &[u8]) -> Option<u16> {
    if !path.contains(&0) {
        return None;
    }
    let mut st = sys::Statx::default();
    // SAFETY: `path` is NUL-terminated (checked) and `st` is writable.
    unsafe {
        sys::statx(
            sys::AT_FDCWD,
            path.as_ptr(),
            0,
            STATX_TYPE | STATX_MODE,
            &mut st,
        )
    }
    .ok()?;
    Some(st.stx_mode)
}

fn is_executable(path: &[u8]) -> bool {
    file_mode(path).is_some_and(|m| m & S_IFMT == S_IFREG && m & 0o111 != 0)
}

/// A socket of `kind` bound to `addr` (`@name`: abstract). A socket file left at the
/// path (by an earlier init) is removed first, as systemd does; any other file is not.
fn listen(addr: &[u8], kind: Kind) -> Result<OwnedFd, Error> {
    let a = UnixAddr::parse(addr)?;
    let bind = || -> Result<OwnedFd, Error> {
        Ok(match kind {
            Kind::Stream => UnixListener::bind(&a)?.into(),
            Kind::Seqpacket => UnixSeqpacketListener::bind(&a)?.into(),
            Kind::Datagram => UnixDatagram::bind(&a)?.into(),
        })
    };
    match bind() {
        Err(Error::Os(Errno::EADDRINUSE)) if a.as_path().is_some() => {
            let mut path = [0u8; PATH_MAX];
            if let Some(dst) = path.get_mut(..addr.len()) {
                dst.copy_from_slice(addr);
            }
            if file_mode(&path).is_some_and(|m| m & S_IFMT == S_IFSOCK) {
                // SAFETY: `path` is NUL-terminated (the address is shorter than it).
                unsafe { sys::unlinkat(sys::AT_FDCWD, path.as_ptr(), 0) }?;
            }
            bind()
        }
        r => r,
    }
}
