//! Shared by `tests/notify.rs` and `tests/activation.rs`: the example programs (built
//! once per run by a nested cargo, for the target and profile of the running suite),
//! unique names, children that are killed and reaped even when a test fails, forked
//! children for checks that count this process's fds, and Python.

#![allow(dead_code)]

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd};
use baremsg::sys;
use baremsg::Errno;

/// How long any blocking step may take before the test fails instead of hanging.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A name no other test of this run (or a concurrent run) uses.
pub fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "bm-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A path under the temporary directory, removed when dropped.
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(what: &str) -> Self {
        let p = std::env::temp_dir().join(unique(what));
        let _ = std::fs::remove_file(&p);
        TempPath(p)
    }

    pub fn bytes(&self) -> &[u8] {
        use std::os::unix::ffi::OsStrExt;
        self.0.as_os_str().as_bytes()
    }

    pub fn str(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The test binary's cargo layout: target dir, `--target` triple if one was given, and
/// profile directory (`debug`, `release`).
fn layout() -> (PathBuf, Option<String>, PathBuf) {
    let exe = std::env::current_exe().expect("current_exe");
    // <target dir>/[<triple>/]<profile>/deps/<test>-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in <profile>/deps")
        .to_path_buf();
    let above = profile_dir
        .parent()
        .expect("a target directory")
        .to_path_buf();
    // With `--target`, the profile sits in a directory named by the triple, and every
    // triple this crate builds for names Linux.
    match above.file_name().and_then(|n| n.to_str()) {
        Some(name) if name.contains("-linux-") => {
            let root = above.parent().expect("a target directory").to_path_buf();
            (root, Some(name.to_owned()), profile_dir)
        }
        _ => (above, None, profile_dir),
    }
}

/// The example program `name` (`examples/<name>.rs`), built with the cargo running this
/// suite (`$CARGO`: rustup's for x86_64, Debian's `/usr/bin/cargo` for i686, with the
/// same `RUSTC` and `RUSTFLAGS`, and `-Zbuild-std` where the toolchain has no `core` for
/// the target), into this suite's target directory, for its target and profile. `cargo
/// test` builds examples already; the nested build makes sure they are there and current
/// when a single suite is run (`cargo test --test notify`).
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let (target_dir, triple, profile_dir) = layout();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "--locked",
            "--example",
            "activated",
            "--example",
            "notify_ready",
            "--example",
            "supervisor",
        ])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
        if let Some(t) = &triple {
            cmd.args(["--target", t]);
            if !crate::target::has_prebuilt_core(t) {
                // As the suite itself was built (riscv64 on Debian 12).
                cmd.env("RUSTC_BOOTSTRAP", "1").arg("-Zbuild-std");
            }
        }
        if profile_dir.file_name().and_then(|n| n.to_str()) == Some("release") {
            cmd.arg("--release");
        }
        if cfg!(feature = "std") {
            cmd.args(["--features", "std"]);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo to build the examples: {e}"));
        assert!(
            out.status.success(),
            "building examples/activated.rs and examples/notify_ready.rs failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples")
    });
    let exe = dir.join(name);
    assert!(exe.exists(), "{} was not built", exe.display());
    exe
}

/// The Python interpreter `python3` on PATH resolves to (resolved once, so a child's pid
/// is Python's own, not a wrapper's).
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed on PATH: {e}"));
        assert!(out.status.success(), "python3 failed");
        PathBuf::from(String::from_utf8(out.stdout).expect("UTF-8").trim())
    })
}

/// A Python script of `tests/init_helpers/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/init_helpers")
        .join(name)
}

/// A child process that is killed and reaped when dropped, unless it was waited for.
pub struct Guard {
    child: Option<Child>,
    what: String,
}

impl Guard {
    /// Starts `cmd` (stdin from /dev/null).
    pub fn spawn(cmd: &mut Command) -> Self {
        let what = format!("{cmd:?}");
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Guard {
            child: Some(child),
            what,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("running")
    }

    /// Waits at most [`TIMEOUT`] for the child to exit; then reads what it wrote to its
    /// piped stdout and stderr.
    pub fn wait(mut self) -> (ExitStatus, String, String) {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not exit within {TIMEOUT:?}", self.what);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = child.stdout.take() {
            s.read_to_string(&mut out).expect("read stdout");
        }
        if let Some(mut s) = child.stderr.take() {
            s.read_to_string(&mut err).expect("read stderr");
        }
        (status, out, err)
    }

    /// [`wait`](Self::wait), asserting the child succeeded; its stdout.
    pub fn wait_ok(self) -> String {
        let what = self.what.clone();
        let (status, out, err) = self.wait();
        assert!(
            status.success(),
            "{what} failed ({status}):\nstdout:\n{out}\nstderr:\n{err}"
        );
        out
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child known only by its pid (started by `activation::Spawn`): killed and reaped
/// when dropped, unless waited for.
pub struct PidGuard(pub Option<i32>);

impl PidGuard {
    /// Waits at most [`TIMEOUT`]; the wait status.
    pub fn wait(mut self) -> i32 {
        let pid = self.0.take().expect("running");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let mut status = 0;
            // SAFETY: `pid` is this test's child; nobody else waits for it.
            match unsafe { sys::wait4(pid, &mut status, sys::WNOHANG) } {
                Ok(0) | Err(Errno::EINTR) => {}
                Ok(_) => return status,
                Err(e) => panic!("wait4({pid}): {e}"),
            }
            if Instant::now() > deadline {
                // SAFETY: our child, not reaped.
                unsafe {
                    let _ = sys::kill(pid, sys::SIGKILL);
                    let _ = sys::wait4(pid, &mut status, 0);
                }
                panic!("child {pid} did not exit within {TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// [`wait`](Self::wait), asserting exit code 0.
    pub fn wait_ok(self) {
        let status = self.wait();
        assert!(
            sys::wifexited(status) && sys::wexitstatus(status) == 0,
            "child failed: {}",
            ExitStatus::from_raw(status)
        );
    }
}

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let mut status = 0;
            // SAFETY: our child, not reaped.
            unsafe {
                let _ = sys::kill(pid, sys::SIGKILL);
                let _ = sys::wait4(pid, &mut status, 0);
            }
        }
    }
}

/// Runs `f` in a forked child of this (multi-threaded) test process, where no other
/// thread opens or closes fds, so counts of `/proc/self/fd` hold still; fails the test
/// with `f`'s panic message if it panics, or if it does not finish within [`TIMEOUT`].
///
/// glibc's `fork` resets its allocator's locks in the child, so `f` may allocate. Locks
/// of std that another thread held at the fork stay held in the child: `f` must not
/// touch the environment or stdout, and no panic hook is installed here (a panic, which
/// only a failing check causes, runs the default hook, which reads the hook's lock; if
/// that hangs, the timeout reports it).
///
/// The child holds copies of every fd this process had at the fork, until it exits: a
/// test elsewhere that waits for a pipe's end-of-file must allow for that (see
/// [`pipe_closed`]).
pub fn in_forked_child(f: impl FnOnce()) {
    let (r, w) = fd::pipe().expect("pipe");
    // SAFETY: see above: the child runs `f` and `_exit`s; it never returns into the
    // test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(r);
        // The panic message goes to the parent through an fd far above the low numbers
        // `f` may overwrite.
        // SAFETY: makes a new fd in this child; it lives until `_exit`.
        let report = unsafe { sys::fcntl(w.as_fd().as_raw_fd(), sys::F_DUPFD_CLOEXEC, 900) };
        let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(()) => 0,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(a panic without a message)");
                if let Ok(fd) = report {
                    // SAFETY: open until `_exit`.
                    let w = unsafe { BorrowedFd::borrow_raw(fd as i32) };
                    let _ = fd::write_all(w, msg.as_bytes());
                }
                1
            }
        };
        // SAFETY: ends the child at once, without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    drop(w);
    let status = PidGuard(Some(pid)).wait();
    baremsg::fd::set_nonblocking(r.as_fd(), true).expect("O_NONBLOCK");
    let mut msg = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = fd::read(r.as_fd(), &mut buf) {
        msg.extend_from_slice(&buf[..n]);
    }
    assert!(
        sys::wifexited(status) && sys::wexitstatus(status) == 0,
        "the forked child failed ({}): {}",
        ExitStatus::from_raw(status),
        String::from_utf8_lossy(&msg)
    );
}

/// Runs the ignored test `name` of this test binary in a process of its own, started
/// through `wrapper` (a command and its arguments that run the rest, such as `unshare
/// --pid --fork --`; none: directly), with `env` added; asserts that it ran and passed,
/// showing its output otherwise. The test itself tells it was started so by an
/// environment variable of `env`, and does nothing without it.
pub fn run_test_alone(wrapper: &[&str], name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .envs(env.iter().copied())
    .stdin(Stdio::null());
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    assert!(
        text.contains("1 passed"),
        "{what} did not run {name}:\n{text}"
    );
}

/// Entries in `/proc/self/fd`, the listing's own fd included (the same each time).
pub fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// Reads `fd` until end of file.
pub fn read_to_end(fd: BorrowedFd<'_>) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match fd::read(fd, &mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Whether every write end of the pipe whose read end is `fd` gets closed: waits, at
/// most [`TIMEOUT`], for end-of-file. (Waiting, not looking once: a child another test
/// forks at the wrong moment holds a copy of every fd until it execs or exits.)
pub fn pipe_closed(fd: BorrowedFd<'_>) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    while !pipe_closed_now(fd) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

/// Whether a nonblocking read of the pipe's read end `fd` sees end-of-file now (every
/// write end closed), rather than having to wait. A `false` is final for the question
/// "is our fd still open?": a copy elsewhere cannot make an open pipe look closed.
pub fn pipe_closed_now(fd: BorrowedFd<'_>) -> bool {
    fd::set_nonblocking(fd, true).expect("O_NONBLOCK");
    let mut b = [0u8; 16];
    match fd::read(fd, &mut b) {
        Ok(0) => true,
        Ok(_) => panic!("unexpected bytes in the pipe"),
        Err(Errno::EAGAIN) => false,
        Err(e) => panic!("read: {e}"),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex string {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Waits until `path` exists (a socket another process is about to bind).
pub fn wait_for_path(path: &Path) {
    let deadline = Instant::now() + TIMEOUT;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
