//! `examples/init` (`baremsg-init`, a container init with no std, no libc, its own
//! `_start`) builds for the suite's own target as a static executable, and does an
//! init's job as PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`,
//! as root): the same scenarios run against the inits containers use, tini, catatonit
//! and dumb-init (Debian packages, installed by `.ci/install-deps`), and against ours:
//! orphaned grandchildren reaped, signals forwarded (to the process group with `-g`),
//! the exit status passed on, a second SIGTERM. Then what only ours does: socket
//! activation with a fd store that survives a crash (a Python service with its own
//! `sd_notify`), the start timeout, the watchdog, notifications from another process
//! refused, and no fd leaked over 100 restarts.
//!
//! Under qemu-user the init is qemu running the guest program, and it does the same
//! job there (qemu-user 7.2 passes the signals the guest reads from its signalfd, and
//! its pidfds), so the same tests run; the references are the host's programs either
//! way. Only `PR_SET_CHILD_SUBREAPER` is refused under qemu-user (`EINVAL`): outside a
//! namespace the init then says it is not a subreaper and goes on.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod nested;
mod target;

use nested::{build, loading, own_triple, ELF};

const PACKAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/init");
const BINARY: &str = "baremsg-init";
const SERVICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/init/service.py");

/// The init, built once for the suite's target.
fn ours() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        build(Command::new(cargo), PACKAGE, BINARY, &own_triple())
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pid1 {
    Ours,
    Tini,
    Catatonit,
    DumbInit,
}

const ALL: [Pid1; 4] = [Pid1::Ours, Pid1::Tini, Pid1::Catatonit, Pid1::DumbInit];

impl Pid1 {
    /// The command line up to the service's: `opts` for ours, `group` for `-g` (dumb-init
    /// always signals the group: it makes the service a session leader).
    fn argv(self, opts: &[&str], group: bool) -> Vec<OsString> {
        let mut v: Vec<OsString> = match self {
            Pid1::Ours => {
                let mut v: Vec<OsString> = target::qemu()
                    .unwrap_or_default()
                    .iter()
                    .map(OsString::from)
                    .collect();
                v.push(ours().into());
                v
            }
            Pid1::Tini => vec![reference("tini")],
            Pid1::Catatonit => vec![reference("catatonit")],
            Pid1::DumbInit => vec![reference("dumb-init")],
        };
        if group && self != Pid1::DumbInit {
            v.push("-g".into());
        }
        if self == Pid1::Ours {
            v.extend(opts.iter().map(OsString::from));
        }
        v.push("--".into());
        v
    }
}

fn reference(name: &str) -> OsString {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is not installed: run .ci/install-deps (it installs tini, catatonit and \
         dumb-init)",
        path.display()
    );
    path.into()
}

/// Whether the namespace tests can run here: as root. Says why not.
fn namespaces() -> bool {
    if baremsg::sys::geteuid() != 0 {
        eprintln!("note: init tests skipped: unshare --pid needs root");
        return false;
    }
    true
}

/// A scratch directory for one run, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baremsg-init-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits (polling) until `done` holds; panics naming `what` after five minutes, which
/// only a broken init takes (the slowest wait, 100 restarts of a Python service under
/// qemu on a loaded machine, takes well under one).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first child of process `pid` (waiting for it to have one).
fn first_child(pid: i32) -> i32 {
    let children = format!("/proc/{pid}/task/{pid}/children");
    let mut child = 0;
    wait_for(&format!("a child of {pid}"), || {
        child = read(Path::new(&children))
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        child > 0
    });
    child
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// An init running as PID 1 of a new PID namespace, in `dir`, its stderr in
/// `dir/stderr`.
struct Run {
    unshare: Child,
    dir: PathBuf,
    what: String,
}

impl Run {
    fn start(init: Pid1, argv: Vec<OsString>, service: &[&str], dir: &Path) -> Run {
        let err = fs::File::create(dir.join("stderr")).unwrap();
        let unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc"])
            .args(&argv)
            .args(service)
            .current_dir(dir)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDNAMES")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("cannot run unshare");
        Run {
            unshare,
            dir: dir.to_owned(),
            what: format!("{init:?}"),
        }
    }

    fn file(&self, name: &str) -> String {
        read(&self.dir.join(name))
    }

    fn stderr(&self) -> String {
        self.file("stderr")
    }

    /// The init's pid outside the namespace: unshare's one child.
    fn init_pid(&self) -> i32 {
        first_child(self.unshare.id() as i32)
    }

    fn signal(&self, sig: i32) {
        baremsg::process::kill(self.init_pid(), sig).expect("kill the init");
    }

    /// Waits for the init to end; its exit status (128 + N for a signal).
    fn wait(mut self) -> i32 {
        let status = self.unshare.wait().unwrap();
        status
            .code()
            .or(status.signal().map(|s| 128 + s))
            .unwrap_or(-1)
    }

    fn wait_for_file(&self, name: &str, want: &str) {
        let what = format!(
            "{}: {name} to hold {want:?} (stderr: {})",
            self.what,
            self.stderr()
        );
        wait_for(&what, || self.file(name).contains(want));
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Ok(None) = self.unshare.try_wait() {
            let pid = self.unshare.id();
            let children = format!("/proc/{pid}/task/{pid}/children");
            for p in read(Path::new(&children)).split_whitespace() {
                if let Ok(p) = p.parse() {
                    let _ = baremsg::process::kill(p, baremsg::sys::SIGKILL);
                }
            }
            let _ = self.unshare.kill();
            let _ = self.unshare.wait();
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo and the program it builds")]
fn init_is_a_static_executable_with_no_interpreter() {
    let bin = ours();
    let file = fs::read(bin).unwrap();
    let l = loading(&file).unwrap();
    assert_eq!(
        (l.class, l.machine, l.elf_type, l.interp, l.dynamic),
        (ELF.0, ELF.1, 2, false, false),
        "{}: {l:?}",
        bin.display()
    );
    let help = target::command(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--listen PATH[:NAME]"));
    let bad = target::command(bin)
        .args(["--restart", "sometimes", "true"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("never, on-failure or always, not sometimes"),
        "{err}"
    );
    let missing = target::command(bin)
        .args(["--", "no-such-program-here"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(127));
}

#[test]
fn orphaned_grandchildren_are_reaped() {
    if !namespaces() {
        return;
    }
    // Fifty orphans (each subshell exits at once, leaving its `sleep` to the init);
    // then until no `sleep` is left, zombie or not. A non-reaping PID 1 leaves fifty
    // zombies, and the service exits 1 after 20 s.
    let script = "for i in $(seq 50); do (sleep 0.2 &); done; \
        for i in $(seq 2000); do \
          cat /proc/[0-9]*/stat 2>/dev/null | grep -q '(sleep)' || exit 0; sleep 0.01; \
        done; cat /proc/[0-9]*/stat > left; exit 1";
    for init in ALL {
        let dir = scratch(&format!("reap-{init:?}"));
        let run = Run::start(init, init.argv(&[], false), &["sh", "-c", script], &dir);
        let code = run.wait();
        assert_eq!(
            code,
            0,
            "{init:?}: zombies left: {}",
            read(&dir.join("left"))
        );
    }
}

#[test]
fn signals_are_forwarded_to_the_service() {
    if !namespaces() {
        return;
    }
    use baremsg::sys::{SIGHUP, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
    let script = "for s in HUP QUIT USR1 USR2 WINCH; do trap \"echo $s >> got\" $s; done; \
        trap 'echo TERM >> got; exit 0' TERM; echo up > up; while :; do sleep 0.02; done";
    let signals = [
        (SIGHUP, "HUP"),
        (SIGQUIT, "QUIT"),
        (SIGUSR1, "USR1"),
        (SIGUSR2, "USR2"),
        (SIGWINCH, "WINCH"),
    ];
    for init in ALL {
        let dir = scratch(&format!("forward-{init:?}"));
        let run = Run::start(init, init.argv(&[], false), &["sh", "-c", script], &dir);
        run.wait_for_file("up", "up");
        let mut want = String::new();
        for (sig, name) in signals {
            run.signal(sig);
            want += &format!("{name}\n");
            run.wait_for_file("got", &want);
        }
        run.signal(SIGTERM);
        assert_eq!(run.wait(), 0, "{init:?}");
        assert_eq!(read(&dir.join("got")), want + "TERM\n", "{init:?}");
    }
}

#[test]
fn signals_reach_the_process_group_with_g() {
    if !namespaces() {
        return;
    }
    // The service's own child traps SIGTERM too; only a signal to the group reaches it.
    let script = "sh -c 'trap \"echo child >> got; exit 0\" TERM; echo up > up2; \
          while :; do sleep 0.02; done' & child=$!; \
        trap 'echo parent >> got' TERM; \
        while [ ! -s up2 ]; do sleep 0.02; done; echo up > up; \
        while kill -0 $child 2>/dev/null; do sleep 0.02; done; exit 0";
    for init in ALL {
        let dir = scratch(&format!("group-{init:?}"));
        let run = Run::start(init, init.argv(&[], true), &["sh", "-c", script], &dir);
        if init == Pid1::Ours && target::under_qemu() {
            // `-g` starts the service through the init itself (`/proc/self/exe`): a
            // guest program, which the guest cannot execve without binfmt_misc.
            assert_eq!(run.wait(), 126);
            let err = run_stderr(&dir);
            assert!(err.contains("cannot start sh: errno 8"), "{err}");
            target::qemu_note("-g not checked: the guest cannot execve itself (ENOEXEC)");
            continue;
        }
        run.wait_for_file("up", "up");
        run.signal(baremsg::sys::SIGTERM);
        assert_eq!(run.wait(), 0, "{init:?}");
        let got = read(&dir.join("got"));
        assert!(
            got.contains("child") && got.contains("parent"),
            "{init:?}: {got:?}"
        );
    }
}

#[test]
fn the_exit_status_is_passed_on() {
    if !namespaces() {
        return;
    }
    for init in ALL {
        for (script, want) in [("exit 7", 7), ("kill -9 $$", 137), ("kill -15 $$", 143)] {
            let dir = scratch(&format!("status-{init:?}"));
            let run = Run::start(init, init.argv(&[], false), &["sh", "-c", script], &dir);
            assert_eq!(run.wait(), want, "{init:?}: {script}");
        }
    }
}

/// The service traps SIGTERM and goes on. A second SIGTERM: ours sends SIGKILL (exit
/// 137); the references only forward it again (their limit: no escalation), and the
/// service is still running after it.
#[test]
fn a_second_sigterm_escalates_to_sigkill() {
    if !namespaces() {
        return;
    }
    let script = "trap 'echo term >> got' TERM; echo up > up; while :; do sleep 0.02; done";
    for init in ALL {
        let dir = scratch(&format!("escalate-{init:?}"));
        let run = Run::start(init, init.argv(&[], false), &["sh", "-c", script], &dir);
        run.wait_for_file("up", "up");
        run.signal(baremsg::sys::SIGTERM);
        run.wait_for_file("got", "term");
        run.signal(baremsg::sys::SIGTERM);
        if init == Pid1::Ours {
            assert_eq!(run.wait(), 137);
            assert!(run_stderr(&dir).contains("second SIGTERM or SIGINT: SIGKILL"));
        } else {
            run.wait_for_file("got", "term\nterm\n");
            // Still running: end it from outside.
            let service = first_child(run.init_pid());
            baremsg::process::kill(service, baremsg::sys::SIGKILL).unwrap();
            assert_eq!(run.wait(), 137, "{init:?}");
        }
    }
}

/// SIGINT starts the stop as SIGTERM does: a SIGINT the service survives, then a
/// SIGTERM, is SIGKILL.
#[test]
fn sigint_then_sigterm_escalates_to_sigkill() {
    if !namespaces() {
        return;
    }
    let dir = scratch("escalate-int");
    let script = "trap 'echo int >> got' INT; echo up > up; while :; do sleep 0.02; done";
    let run = Run::start(
        Pid1::Ours,
        Pid1::Ours.argv(&[], false),
        &["sh", "-c", script],
        &dir,
    );
    run.wait_for_file("up", "up");
    run.signal(baremsg::sys::SIGINT);
    run.wait_for_file("got", "int");
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 137);
    assert!(run_stderr(&dir).contains("second SIGTERM or SIGINT: SIGKILL"));
}

fn run_stderr(dir: &Path) -> String {
    read(&dir.join("stderr"))
}

#[test]
fn the_stop_timeout_escalates_to_sigkill() {
    if !namespaces() {
        return;
    }
    let dir = scratch("stop-timeout");
    let script = "trap '' TERM; echo up > up; while :; do sleep 0.02; done";
    let argv = Pid1::Ours.argv(&["--stop-timeout", "100ms"], false);
    let run = Run::start(Pid1::Ours, argv, &["sh", "-c", script], &dir);
    run.wait_for_file("up", "up");
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 137);
    let err = run_stderr(&dir);
    assert!(
        err.contains("did not stop within the stop timeout: SIGKILL"),
        "{err}"
    );
}

/// The Python interpreter itself (`sys.executable`), not a wrapper script on `PATH`
/// (pyenv's shims start a shell each time, and the leak test starts it 101 times).
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is needed: run .ci/install-deps");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    })
}

/// The Python service stores a memfd counter, serves 3 requests on the activated
/// socket and crashes; restarted, it gets the socket and the memfd back by name, and a
/// client that connected while no service ran is served by the second generation.
#[test]
fn a_crashed_service_gets_its_socket_and_stored_fds_back() {
    if !namespaces() {
        return;
    }
    let dir = scratch("fdstore");
    let sock = dir.join("web.sock");
    let listen = format!("{}:web", sock.display());
    let opts = [
        "--listen",
        &listen,
        "--fdstore",
        "4",
        "--restart",
        "on-failure",
        "--restart-delay",
        "1s",
        "--start-timeout",
        "30s",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let run = Run::start(Pid1::Ours, argv, &[python(), SERVICE, "fdstore", "3"], &dir);
    let ask = || {
        let mut s = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply
    };
    run.wait_for_file("stderr", "ready (pid");
    let first: Vec<String> = (0..3).map(|_| ask()).collect();
    for (i, r) in first.iter().enumerate() {
        assert!(
            r.starts_with("gen=1 ") && r.ends_with(&format!(" req={}\n", i + 1)),
            "{r}"
        );
    }
    // The service has exited and the init waits a second before starting it again.
    run.wait_for_file(
        "stderr",
        "the service ended with status 3; restart 1 in 1000 ms",
    );
    let during = ask();
    let ino = |r: &str| r.split_whitespace().nth(1).map(str::to_owned);
    assert!(
        during.starts_with("gen=2 ") && during.ends_with(" req=1\n"),
        "{during}"
    );
    assert_eq!(ino(&during), ino(&first[0]), "the same listening socket");
    // The init reads the service's READY=1 and STATUS= in its own time.
    run.wait_for_file("stderr", "status: generation 2");
    let err = run_stderr(&dir);
    assert!(
        err.contains("status: generation 1") && err.contains("status: generation 2"),
        "{err}"
    );
    assert!(!err.contains("refused"), "{err}");
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

#[test]
fn a_service_that_never_says_ready_is_restarted_after_the_start_timeout() {
    if !namespaces() {
        return;
    }
    let dir = scratch("start-timeout");
    let opts = [
        "--start-timeout",
        "200ms",
        "--restart",
        "on-failure",
        "--restart-delay",
        "10ms",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let script = "echo run >> runs; exec sleep 1000";
    let run = Run::start(Pid1::Ours, argv, &["sh", "-c", script], &dir);
    run.wait_for_file("runs", "run\nrun\n");
    let err = run.stderr();
    assert!(
        err.contains("no READY=1 within the start timeout: SIGKILL to the service")
            && err.contains("the service ended with status 137; restart 1"),
        "{err}"
    );
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

#[test]
fn a_service_that_stops_its_watchdog_is_restarted() {
    if !namespaces() {
        return;
    }
    let dir = scratch("watchdog");
    let opts = [
        "--watchdog",
        "400ms",
        "--restart",
        "on-failure",
        "--restart-delay",
        "10ms",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let run = Run::start(
        Pid1::Ours,
        argv,
        &[python(), SERVICE, "watchdog", "log"],
        &dir,
    );
    wait_for("two generations of the watchdog service", || {
        run.file("log").lines().count() >= 2
    });
    let log = run.file("log");
    assert!(
        log.lines().all(|l| l.ends_with(" WATCHDOG_USEC=400000")),
        "{log}"
    );
    let err = run.stderr();
    assert!(
        err.contains("no WATCHDOG=1 within the watchdog time: SIGKILL"),
        "{err}"
    );
    assert!(!err.contains("start timeout"), "{err}");
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

/// A child of the service (another pid) sends READY=1: refused, said on stderr, and
/// the service is not ready; its own later message is taken.
#[test]
fn ready_from_another_process_is_refused() {
    if !namespaces() {
        return;
    }
    let dir = scratch("refused");
    let argv = Pid1::Ours.argv(&["--notify"], false);
    let script = format!(
        "{py} {svc} send READY=1; exec {py} {svc} send-and-sleep STATUS=checked",
        py = python(),
        svc = SERVICE
    );
    let run = Run::start(Pid1::Ours, argv, &["sh", "-c", &script], &dir);
    run.wait_for_file("stderr", "status: checked");
    let err = run.stderr();
    assert!(
        err.contains("refused: a notification not from the service (from pid "),
        "{err}"
    );
    assert!(!err.contains("ready (pid"), "{err}");
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

/// The three kinds of `--listen`, a path's last part as the default name, an abstract
/// address: each at its fd with its name, stream and seqpacket sockets listening.
#[test]
fn activation_sockets_of_each_kind_are_passed_in_order_with_names() {
    if !namespaces() {
        return;
    }
    let dir = scratch("kinds");
    let (s, q, d) = (
        dir.join("s.sock"),
        dir.join("q.sock"),
        dir.join("dflt.sock"),
    );
    let abstract_name = format!("@baremsg-init-test-{}", std::process::id());
    let args = [
        format!("{}:web", s.display()),
        format!("{}:rpc", q.display()),
        d.display().to_string(),
        format!("{abstract_name}:abs"),
    ];
    let opts = [
        "--listen",
        &args[0],
        "--listen-seqpacket",
        &args[1],
        "--listen-datagram",
        &args[2],
        "--listen",
        &args[3],
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let run = Run::start(Pid1::Ours, argv, &[python(), SERVICE, "kinds"], &dir);
    assert_eq!(run.wait(), 0);
    let abs = format!("b'\\x00{}'", &abstract_name[1..]);
    let want = format!(
        "3 web stream {} 1\n4 rpc seqpacket {} 1\n5 dflt.sock datagram {} 0\n6 abs stream {abs} 1\n",
        s.display(),
        q.display(),
        d.display()
    );
    assert_eq!(read(&dir.join("kinds")), want, "{}", run_stderr(&dir));
}

/// The delay before a restart doubles each time, from --restart-delay.
#[test]
fn the_restart_delay_doubles() {
    if !namespaces() {
        return;
    }
    let dir = scratch("backoff");
    let opts = [
        "--restart",
        "always",
        "--restart-delay",
        "1ms",
        "--restart-delay-max",
        "60s",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let script = "echo run >> runs; [ $(wc -l < runs) -lt 5 ] && exit 1; exec sleep 1000";
    let run = Run::start(Pid1::Ours, argv, &["sh", "-c", script], &dir);
    run.wait_for_file("runs", "run\nrun\nrun\nrun\nrun\n");
    let err = run.stderr();
    for (n, ms) in [(1, 1), (2, 2), (3, 4), (4, 8)] {
        let line = format!("the service ended with status 1; restart {n} in {ms} ms\n");
        assert!(err.contains(&line), "{line}{err}");
    }
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

/// A service that cannot even be started again (it deleted itself): each attempt fails
/// with ENOENT, counts as a failure (127) and is retried after the delay; a SIGTERM
/// between two attempts ends the init with the last status.
#[test]
fn a_service_that_cannot_be_started_again_is_retried_and_stopped() {
    if !namespaces() {
        return;
    }
    let dir = scratch("vanish");
    let prog = dir.join("once");
    fs::write(&prog, "#!/bin/sh\nrm \"$0\"\nexit 1\n").unwrap();
    fs::set_permissions(&prog, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let opts = [
        "--restart",
        "on-failure",
        "--restart-delay",
        "1ms",
        "--restart-delay-max",
        "50ms",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let p = prog.display().to_string();
    let run = Run::start(Pid1::Ours, argv, &[&p], &dir);
    run.wait_for_file("stderr", "the service ended with status 127; restart 3 in");
    let err = run.stderr();
    assert!(
        err.contains(&format!("cannot start {p}: errno 2\n")),
        "{err}"
    );
    assert!(
        err.contains("the service ended with status 1; restart 1 in 1 ms"),
        "{err}"
    );
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 127);
}

/// STOPPING=1 from the service starts the stop timeout: still running after it, SIGKILL.
#[test]
fn stopping_from_the_service_starts_the_stop_timeout() {
    if !namespaces() {
        return;
    }
    let dir = scratch("stopping");
    let argv = Pid1::Ours.argv(&["--notify", "--stop-timeout", "100ms"], false);
    let run = Run::start(
        Pid1::Ours,
        argv,
        &[python(), SERVICE, "send-and-sleep", "STOPPING=1"],
        &dir,
    );
    assert_eq!(run.wait(), 137);
    let err = run_stderr(&dir);
    assert!(
        err.contains("the service is stopping\n")
            && err.contains("did not stop within the stop timeout: SIGKILL"),
        "{err}"
    );
}

/// A flood of malformed, oversized and fd-carrying notifications from the service: each
/// kind refused and said once, every fd that came closed, and the service still taken
/// as ready after it.
#[test]
fn a_flood_of_bad_notifications_is_refused_once_per_kind() {
    if !namespaces() {
        return;
    }
    let dir = scratch("garbage");
    let argv = Pid1::Ours.argv(&["--fdstore", "4"], false);
    let run = Run::start(Pid1::Ours, argv, &[python(), SERVICE, "garbage"], &dir);
    run.wait_for_file("stderr", "ready (pid");
    let err = run.stderr();
    for refused in [
        "refused: a malformed notification",
        "refused: fds sent without FDSTORE=1 (closed)",
        "refused: FDSTORE=1 with an invalid FDNAME",
        "refused: FDSTOREREMOVE=1 without FDNAME=",
    ] {
        assert_eq!(
            err.matches(refused).count(),
            1,
            "said once: {refused}\n{err}"
        );
    }
    assert!(err.contains("status: still here"), "{err}");
    // Neither end of the pipe the service sent (it keeps both open) is held by the init.
    let links = |pid: i32| -> Vec<String> {
        fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| Some(fs::read_link(e.ok()?.path()).ok()?.display().to_string()))
            .collect()
    };
    let init = run.init_pid();
    let sent = run.file("sent");
    let sent = sent.trim();
    assert!(sent.starts_with("pipe:["), "{sent}");
    let held = links(init);
    assert!(
        !held.iter().any(|l| sent.contains(l)),
        "{held:?} holds one of {sent:?}"
    );
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

/// `/proc/1/fd` of the init as the second generation starts and as the 101st does:
/// the same, though every generation replaced its stored fd, sent fds it was not asked
/// for, and a malformed message.
#[test]
fn no_fd_is_leaked_over_100_restarts() {
    if !namespaces() {
        return;
    }
    let dir = scratch("leak");
    let sock = dir.join("s.sock");
    let listen = format!("{}:s", sock.display());
    let opts = [
        "--listen",
        &listen,
        "--fdstore",
        "2",
        "--restart",
        "always",
        "--restart-delay",
        "1ms",
        "--restart-delay-max",
        "1ms",
    ];
    let argv = Pid1::Ours.argv(&opts, false);
    let d = dir.display().to_string();
    let run = Run::start(Pid1::Ours, argv, &[python(), SERVICE, "leak", &d], &dir);
    run.wait_for_file("stderr", "restart 100 in");
    wait_for("the 101st generation", || dir.join("fds.101").exists());
    run.wait_for_file("stderr", "ready (pid");
    let (after1, after100) = (run.file("fds.2"), run.file("fds.101"));
    assert!(
        after1.contains("socket:") && after1.contains("memfd:gen"),
        "{after1}"
    );
    assert_eq!(after1, after100);
    let err = run.stderr();
    for refused in ["fds sent without FDSTORE=1", "a malformed notification"] {
        assert_eq!(
            err.matches(refused).count(),
            1,
            "said once: {refused}\n{err}"
        );
    }
    run.signal(baremsg::sys::SIGTERM);
    assert_eq!(run.wait(), 143);
}

/// Outside a namespace the init is a child subreaper (natively; qemu-user refuses
/// `PR_SET_CHILD_SUBREAPER` and the init says so and goes on): it reaps an orphan
/// and passes on the exit status.
#[test]
#[cfg_attr(miri, ignore = "runs the program it builds")]
fn outside_a_namespace_the_init_is_a_subreaper() {
    // The orphan's parent is the init: natively, by PR_SET_CHILD_SUBREAPER.
    let script = "(sleep 0.2 & echo $! > orphan) ; \
        while [ ! -s orphan ]; do sleep 0.01; done; \
        ppid=$(awk '{print $4}' /proc/$(cat orphan)/stat); \
        [ \"$ppid\" = \"$PPID\" ] && exit 7; exit 8";
    let dir = scratch("subreaper");
    let out = target::command(ours())
        .args(["--", "/bin/sh", "-c", script])
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if target::under_qemu() {
        target::qemu_note("PR_SET_CHILD_SUBREAPER refused: orphans go to the real init");
        assert!(
            err.contains("not a subreaper (PR_SET_CHILD_SUBREAPER: errno 22)"),
            "{err}"
        );
        assert_eq!(out.status.code(), Some(8), "{err}");
    } else {
        assert_eq!(out.status.code(), Some(7), "{err}");
        assert!(err.is_empty(), "{err}");
    }
}
