//! baremsg against peers it did not write: Python's standard `socket` module
//! (`tests/peers/*.py`) and a C program using glibc's `CMSG_*` macros
//! (`tests/peers/cmsg_peer.c`, compiled here for the target: `cc`, `cc -m32` for i686,
//! the cross compiler for the qemu targets, and run through the emulator there).
//!
//! Each peer is a child process. It gets its end of a `socketpair` as an inherited fd
//! number on its command line, or connects to a filesystem or abstract address. The
//! peers print what they saw as `key value` lines on stdout, values in hex or decimal;
//! the tests compare those with what baremsg sent, and check what baremsg received
//! from them: payload bytes, fds that really read and write, close-on-exec,
//! credentials equal to the child's pid and the test's uid and gid.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use baremsg::cmsg::{space_for_credentials, space_for_fds, space_for_pidfd, CmsgBuf, Message};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{
    AddrKind, Datagram, Seqpacket, Socket, SocketKind, Stream, UnixAddr, UnixDatagram, UnixListener,
};
use baremsg::{Errno, Error};

mod target;

/// How long any blocking step may take before the test fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(10);

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// A name no other test of this run (or a concurrent run) uses.
fn unique_name(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "baremsg-peers-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The Python interpreter `python3` on PATH resolves to. Resolved once so that
/// `Child::id()` is Python's own pid, not that of a wrapper (pyenv shims are scripts).
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed on PATH for tests/peers.rs: {e}"));
        assert!(
            out.status.success(),
            "python3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exe = String::from_utf8(out.stdout).expect("sys.executable is UTF-8");
        let exe = exe.trim();
        assert!(!exe.is_empty(), "python3 did not report sys.executable");
        PathBuf::from(exe)
    })
}

/// `tests/peers/cmsg_peer.c`, compiled once per test run for the target of this test
/// binary (its struct layouts: `target::c_compiler`), into Cargo's scratch directory
/// for integration tests. Started through [`target::command`].
fn c_peer() -> &'static Path {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| {
        let src = peers_dir().join("cmsg_peer.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(dir).expect("create CARGO_TARGET_TMPDIR");
        let (mut cc, arch) = target::c_compiler();
        let exe = dir.join(format!("cmsg_peer-{arch}"));
        // Built under a name of its own, then renamed: a concurrent run never executes
        // a half-written binary.
        let tmp = dir.join(format!("cmsg_peer-{arch}.{}.tmp", std::process::id()));
        cc.args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&tmp)
            .arg(&src);
        let out = cc.output().unwrap_or_else(|e| {
            panic!(
                "tests/peers.rs compiles {} with {cc:?}, which could not be run ({e}): \
                 install a C compiler (gcc; for i686 builds also libc6-dev-i386 and \
                 lib32gcc-12-dev; for the qemu targets .ci/install-cross)",
                src.display()
            )
        });
        assert!(
            out.status.success(),
            "{cc:?} failed to build {} (for i686 builds `cc -m32` needs libc6-dev-i386 and \
             lib32gcc-12-dev):\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &exe).expect("rename the compiled peer");
        exe
    })
}

/// Starts `cmd` with stdout and stderr piped. `inherit`, if given, is left open across
/// `execve` in the child only: FD_CLOEXEC is cleared after `fork`, so children that
/// other tests start at the same time do not get it too.
fn spawn(cmd: &mut Command, inherit: Option<BorrowedFd<'_>>) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(fd) = inherit {
        let raw = fd.as_raw_fd();
        // SAFETY: the closure runs in the forked child before `execve`; it makes one
        // `fcntl` through baremsg's raw syscall stub, which neither allocates nor takes
        // a lock, so it is safe after `fork` in a multi-threaded process.
        unsafe {
            cmd.pre_exec(move || {
                // SAFETY: `raw` is open in the child: the parent keeps `fd` open until
                // `spawn` returns, and `fork` copied the fd table.
                let fd = BorrowedFd::borrow_raw(raw);
                baremsg::fd::set_cloexec(fd, false)
                    .map_err(|e| std::io::Error::from_raw_os_error(e.raw()))
            });
        }
    }
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Waits for `child`, asserts it succeeded, and returns its `key value` lines.
fn finish(child: Child) -> HashMap<String, String> {
    let out = child.wait_with_output().expect("wait for the peer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "peer failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

fn field<'a>(out: &'a HashMap<String, String>, key: &str) -> &'a str {
    out.get(key)
        .unwrap_or_else(|| panic!("the peer printed no {key:?} line: {out:?}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex string {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Reads `fd` until end of file.
fn read_to_end(fd: BorrowedFd<'_>) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match fd::read(fd, &mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => panic!("read from fd {}: {e}", fd.as_raw_fd()),
        }
    }
}

/// The read end of a pipe holding `bytes`, its write end closed.
fn pipe_holding(bytes: &[u8]) -> OwnedFd {
    let (r, w) = fd::pipe().expect("pipe");
    fd::write_all(w.as_fd(), bytes).expect("fill the pipe");
    r
}

/// A memfd holding `bytes` (its offset at the end).
fn memfd_holding(bytes: &[u8]) -> OwnedFd {
    let f = fd::memfd_create(c"baremsg-peer", 0).expect("memfd_create");
    fd::write_all(f.as_fd(), bytes).expect("fill the memfd");
    f
}

/// A connected pair of this kind; ours times out rather than hang on a dead peer.
fn pair<K: SocketKind>() -> (Socket<K>, Socket<K>) {
    let (ours, theirs) = Socket::<K>::pair().expect("socketpair");
    ours.set_read_timeout(Some(TIMEOUT)).expect("SO_RCVTIMEO");
    ours.set_write_timeout(Some(TIMEOUT)).expect("SO_SNDTIMEO");
    (ours, theirs)
}

fn own_cred() -> Ucred {
    Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    }
}

fn cred_of(child: &Child) -> Ucred {
    Ucred {
        pid: child.id() as i32,
        uid: sys::getuid(),
        gid: sys::getgid(),
    }
}

/// Whether this process has capability `bit` in its effective set.
fn has_capability(bit: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .expect("CapEff line");
    let eff = u64::from_str_radix(eff.trim(), 16).expect("CapEff is hex");
    eff & (1 << bit) != 0
}

const CAP_SYS_ADMIN: u32 = 21;

/// Receives the peer's one-byte "ready" signal.
fn wait_ready<K: SocketKind>(ours: &Socket<K>) {
    let mut b = [0u8; 1];
    let n = ours.recv(&mut b).expect("the peer's ready byte");
    assert_eq!(&b[..n], b"R", "the peer's ready byte");
}

#[test]
fn python_send_fds_arrive_as_working_cloexec_fds() {
    let (ours, theirs) = pair::<Stream>();
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("fds_peer.py"))
            .arg("send")
            .arg(theirs.as_raw_fd().to_string())
            .arg("py2rs"),
        Some(theirs.as_fd()),
    );
    drop(theirs);

    // Message 0 through recv_fds: the default receive, MSG_CMSG_CLOEXEC.
    let mut buf = [0u8; 256];
    let mut slots: [Option<OwnedFd>; 2] = [None, None];
    let got = ours.recv_fds(&mut buf, &mut slots).expect("recv_fds");
    // Fds on a stream are a barrier: one receive does not run on into message 1.
    assert_eq!(&buf[..got.bytes], b"py2rs-payload-0");
    assert_eq!(got.fds, 2);
    assert!(!got.truncated && !got.control_truncated, "{got:?}");
    let [Some(pipe), Some(file)] = slots else {
        panic!("both slots filled: {slots:?}")
    };
    assert!(
        baremsg::fd::is_cloexec(pipe.as_fd()).unwrap(),
        "pipe fd is close-on-exec"
    );
    assert!(
        baremsg::fd::is_cloexec(file.as_fd()).unwrap(),
        "file fd is close-on-exec"
    );
    assert_eq!(read_to_end(pipe.as_fd()), b"py2rs-pipe-0");
    assert_eq!(read_to_end(file.as_fd()), b"py2rs-file-0");

    // Message 1 without MSG_CMSG_CLOEXEC: the flag really is what decides.
    let mut control = CmsgBuf::<{ space_for_fds(2) }>::new();
    let mut got = ours
        .recv_msg_with_flags(&mut [IoSliceMut::new(&mut buf)], &mut control, None, 0)
        .expect("recv_msg_with_flags");
    assert_eq!(&buf[..got.bytes], b"py2rs-payload-1");
    assert!(!got.is_control_truncated());
    let fds: Vec<OwnedFd> = got.control.take_fds().collect();
    assert_eq!(fds.len(), 2);
    assert!(
        !baremsg::fd::is_cloexec(fds[0].as_fd()).unwrap(),
        "inheritable without the flag"
    );
    assert!(
        !baremsg::fd::is_cloexec(fds[1].as_fd()).unwrap(),
        "inheritable without the flag"
    );
    assert_eq!(read_to_end(fds[0].as_fd()), b"py2rs-pipe-1");
    assert_eq!(read_to_end(fds[1].as_fd()), b"py2rs-file-1");

    finish(child);
}

#[test]
fn baremsg_send_fds_are_read_and_written_by_python() {
    let (ours, theirs) = pair::<Stream>();
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("fds_peer.py"))
            .arg("recv")
            .arg(theirs.as_raw_fd().to_string())
            .arg("python wrote this"),
        Some(theirs.as_fd()),
    );
    drop(theirs);

    let pipe = pipe_holding(b"through a pipe from baremsg");
    let memfd = memfd_holding(b"in a memfd from baremsg");
    let (reply_r, reply_w) = fd::pipe().unwrap();
    let sent = ours
        .send_fds(
            b"rs2py payload",
            &[pipe.as_fd(), memfd.as_fd(), reply_w.as_fd()],
        )
        .expect("send_fds");
    assert_eq!(sent, 13);
    // Only Python's copy of the write end is left: end of file once it closes it.
    drop(reply_w);

    let out = finish(child);
    assert_eq!(unhex(field(&out, "payload")), b"rs2py payload");
    assert_eq!(field(&out, "nfds"), "3");
    assert_eq!(field(&out, "flags"), "0", "no MSG_CTRUNC at Python's end");
    assert_eq!(unhex(field(&out, "fd0")), b"through a pipe from baremsg");
    assert_eq!(unhex(field(&out, "fd1")), b"in a memfd from baremsg");
    assert_eq!(read_to_end(reply_r.as_fd()), b"python wrote this");
}

#[test]
fn python_connects_to_baremsg_listener_which_names_it_by_peer_cred() {
    let path = std::env::temp_dir().join(format!("{}.sock", unique_name("listener")));
    let addr = UnixAddr::from_path(path.to_str().unwrap().as_bytes()).expect("short path");
    let listener = UnixListener::bind(&addr).expect("bind");
    assert_eq!(listener.local_addr().unwrap(), addr);
    listener.set_nonblocking(true).unwrap();
    let mut child = spawn(
        Command::new(python())
            .arg(peers_dir().join("fds_peer.py"))
            .arg("send")
            .arg(&path)
            .arg("listener"),
        None,
    );

    // Nonblocking accept, so a peer that dies before connecting fails the test.
    let start = Instant::now();
    let (conn, from) = loop {
        match listener.accept() {
            Ok(c) => break c,
            Err(Error::Os(Errno::EAGAIN)) => {
                if let Some(status) = child.try_wait().unwrap() {
                    let _ = std::fs::remove_file(&path);
                    panic!(
                        "the peer exited ({status}) without connecting: {:?}",
                        finish(child)
                    );
                }
                assert!(start.elapsed() < TIMEOUT, "no connection from the peer");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    std::fs::remove_file(&path).unwrap();
    assert!(
        from.is_unnamed(),
        "Python's client socket is not bound: {from:?}"
    );
    assert_eq!(conn.peer_cred().unwrap(), cred_of(&child));
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();

    let mut buf = [0u8; 64];
    let mut slots: [Option<OwnedFd>; 3] = [None, None, None];
    let got = conn.recv_fds(&mut buf, &mut slots).expect("recv_fds");
    assert_eq!(&buf[..got.bytes], b"listener-payload-0");
    assert_eq!(got.fds, 2);
    assert!(!got.control_truncated);
    assert!(slots[2].is_none());
    assert_eq!(
        read_to_end(slots[0].as_ref().unwrap().as_fd()),
        b"listener-pipe-0"
    );
    assert_eq!(
        read_to_end(slots[1].as_ref().unwrap().as_fd()),
        b"listener-file-0"
    );
    finish(child);
}

#[test]
fn python_scm_credentials_reach_baremsg_datagram_receiver() {
    let name = unique_name("dgram");
    let rx = UnixDatagram::bind(&UnixAddr::from_abstract(name.as_bytes()).unwrap()).unwrap();
    rx.set_pass_cred(true).unwrap();
    assert!(rx.pass_cred().unwrap());
    rx.set_read_timeout(Some(TIMEOUT)).unwrap();
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("cred_peer.py"))
            .arg("send")
            .arg(hex(name.as_bytes()))
            .arg("with credentials"),
        None,
    );

    let mut buf = [0u8; 64];
    let mut control = CmsgBuf::<{ space_for_credentials() }>::new();
    let (mut got, from) = rx
        .recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut control)
        .expect("recv_msg_from");
    assert_eq!(&buf[..got.bytes], b"with credentials");
    assert!(!got.is_truncated() && !got.is_control_truncated());
    let cred = got.control.credentials().expect("SCM_CREDENTIALS arrived");
    assert_eq!(cred, cred_of(&child));
    drop(got);

    let out = finish(child);
    assert_eq!(field(&out, "pid"), cred.pid.to_string());
    assert_eq!(field(&out, "uid"), cred.uid.to_string());
    assert_eq!(field(&out, "gid"), cred.gid.to_string());
    // The sender address baremsg reports is the one Python's socket has. Observed on
    // Linux 6.18: unnamed (the unbound sender is not autobound when only the receiver
    // has SO_PASSCRED); kernels that autobind would give both ends the same abstract
    // name, which passes too.
    let theirs = unhex(field(&out, "addr"));
    println!("sender address seen by baremsg: {from:?}");
    match theirs.split_first() {
        None => assert_eq!(from.kind(), AddrKind::Unnamed),
        Some((0, rest)) => assert_eq!(from.kind(), AddrKind::Abstract(rest)),
        Some(_) => assert_eq!(from.kind(), AddrKind::Path(&theirs)),
    }
}

#[test]
fn baremsg_credentials_reach_python_recvmsg() {
    let (ours, theirs) = pair::<Datagram>();
    // The peer's pid is only accepted from a sender with CAP_SYS_ADMIN; anyone else
    // gets EPERM. Either outcome shows that the credentials baremsg encoded reach the
    // kernel: the values a receiver with SO_PASSCRED would see anyway cannot.
    let forging_allowed = has_capability(CAP_SYS_ADMIN);
    let count = if forging_allowed { 2 } else { 1 };
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("cred_peer.py"))
            .arg("recv")
            .arg(theirs.as_raw_fd().to_string())
            .arg(count.to_string()),
        Some(theirs.as_fd()),
    );
    drop(theirs);
    wait_ready(&ours);

    let own = own_cred();
    let mut control = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = control.encoder();
    enc.push_credentials(&own).unwrap();
    let sent = ours
        .send_msg(&[IoSlice::new(b"own")], &enc.finish())
        .expect("send own credentials");
    assert_eq!(sent, 3);

    let forged = Ucred {
        pid: child.id() as i32,
        ..own
    };
    let mut control = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = control.encoder();
    enc.push_credentials(&forged).unwrap();
    let res = ours.send_msg(&[IoSlice::new(b"forged")], &enc.finish());
    if forging_allowed {
        assert_eq!(res, Ok(6));
    } else {
        assert_eq!(res, Err(Error::Os(Errno::EPERM)));
    }

    let out = finish(child);
    assert_eq!(unhex(field(&out, "payload0")), b"own");
    assert_eq!(
        field(&out, "cred0"),
        format!("{} {} {}", own.pid, own.uid, own.gid)
    );
    assert_eq!(field(&out, "flags0"), "0");
    if forging_allowed {
        assert_eq!(unhex(field(&out, "payload1")), b"forged");
        assert_eq!(
            field(&out, "cred1"),
            format!("{} {} {}", forged.pid, forged.uid, forged.gid)
        );
    }
}

#[test]
fn c_peer_walks_baremsg_rights_and_credentials_with_glibc_macros() {
    let peer = c_peer();
    let (ours, theirs) = pair::<Seqpacket>();
    let child = spawn(
        target::command(peer)
            .arg("recv")
            .arg(theirs.as_raw_fd().to_string())
            .arg("C wrote this"),
        Some(theirs.as_fd()),
    );
    drop(theirs);
    wait_ready(&ours);

    let a = pipe_holding(b"first pipe");
    let b = pipe_holding(b"second pipe");
    let (reply_r, reply_w) = fd::pipe().unwrap();
    let own = own_cred();
    // Three control messages in one buffer: rights, credentials, rights.
    let mut control =
        CmsgBuf::<{ space_for_fds(1) + space_for_credentials() + space_for_fds(2) }>::new();
    let mut enc = control.encoder();
    enc.push_rights(&[a.as_fd()]).unwrap();
    enc.push_credentials(&own).unwrap();
    enc.push_rights(&[b.as_fd(), reply_w.as_fd()]).unwrap();
    let cmsgs = enc.finish();
    assert_eq!(cmsgs.fd_count(), 3);
    let sent = ours
        .send_msg(&[IoSlice::new(b"to "), IoSlice::new(b"C")], &cmsgs)
        .expect("send_msg");
    assert_eq!(sent, 4);
    drop(reply_w);

    let out = finish(child);
    // Observed: the kernel delivers the credentials first and the two SCM_RIGHTS
    // messages merged into one with 3 fds ("1/2/28", "1/1/28" on x86_64).
    let walked: Vec<&str> = (0..field(&out, "ncmsg").parse().unwrap())
        .map(|i| field(&out, &format!("cmsg{i}")))
        .collect();
    println!("control messages (level/type/cmsg_len) as the C peer walked them: {walked:?}");
    assert_eq!(unhex(field(&out, "payload")), b"to C");
    // The peer received with MSG_CMSG_CLOEXEC, which the kernel echoes in msg_flags.
    let flags: i32 = field(&out, "flags").parse().unwrap();
    assert_eq!(
        flags,
        sys::MSG_CMSG_CLOEXEC,
        "no MSG_CTRUNC or MSG_TRUNC at C's end"
    );
    assert_eq!(
        field(&out, "cred"),
        format!("{} {} {}", own.pid, own.uid, own.gid)
    );
    // The fds arrive in the order they were encoded, whatever the messages' split.
    assert_eq!(field(&out, "nfds"), "3");
    assert_eq!(unhex(field(&out, "fd0")), b"first pipe");
    assert_eq!(unhex(field(&out, "fd1")), b"second pipe");
    assert_eq!(read_to_end(reply_r.as_fd()), b"C wrote this");
}

#[test]
fn c_peer_rights_and_credentials_from_one_glibc_buffer_reach_baremsg() {
    let peer = c_peer();
    let (ours, theirs) = pair::<Seqpacket>();
    ours.set_pass_cred(true).unwrap();
    let child = spawn(
        target::command(peer)
            .arg("send")
            .arg(theirs.as_raw_fd().to_string())
            .arg("c2rs"),
        Some(theirs.as_fd()),
    );
    drop(theirs);

    let mut buf = [0u8; 64];
    // Exactly the room the two messages need.
    let mut control = CmsgBuf::<{ space_for_fds(2) + space_for_credentials() }>::new();
    let (mut got, from) = ours
        .recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut control)
        .expect("recv_msg_from");
    assert_eq!(&buf[..got.bytes], b"c2rs-payload");
    assert!(
        !got.is_truncated() && !got.is_control_truncated(),
        "{got:?}"
    );
    assert!(from.is_unnamed(), "{from:?}");

    let mut fds = Vec::new();
    let mut creds = Vec::new();
    for msg in got.control.messages() {
        match msg.expect("well-formed control data") {
            Message::Rights(r) => fds.extend(r),
            Message::Credentials(c) => creds.push(c),
            other => panic!("unexpected control message {other:?}"),
        }
    }
    drop(got);
    assert_eq!(creds, [cred_of(&child)]);
    assert_eq!(fds.len(), 2);
    for f in &fds {
        assert!(baremsg::fd::is_cloexec(f.as_fd()).unwrap());
    }
    assert_eq!(read_to_end(fds[0].as_fd()), b"c2rs-pipe");
    assert_eq!(read_to_end(fds[1].as_fd()), b"c2rs-file");

    let out = finish(child);
    assert_eq!(field(&out, "pid"), creds[0].pid.to_string());
}

/// The pid a pidfd refers to, from `/proc/self/fdinfo` (-1 once the process is reaped).
fn pidfd_pid(pidfd: BorrowedFd<'_>) -> i32 {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd()))
        .expect("read fdinfo");
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .unwrap_or_else(|| panic!("not a pidfd: {info}"))
        .trim()
        .parse()
        .unwrap()
}

/// A datagram pair whose receiving end asks for `SCM_PIDFD`, and Python sending its
/// two messages of fds on the other end; `None` on kernels before 6.5.
fn python_sending_fds_with_pidfd(tag: &str) -> Option<(UnixDatagram, Child)> {
    let (ours, theirs) = pair::<Datagram>();
    match ours.set_pass_pidfd(true) {
        Ok(()) => {}
        Err(Error::Os(e)) if target::qemu_refused_passpidfd(e) => return None,
        Err(Error::Os(Errno::ENOPROTOOPT)) => {
            eprintln!("SO_PASSPIDFD needs Linux 6.5: not checked on this kernel");
            return None;
        }
        Err(e) => panic!("SO_PASSPIDFD: {e}"),
    }
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("fds_peer.py"))
            .arg("send")
            .arg(theirs.as_raw_fd().to_string())
            .arg(tag),
        Some(theirs.as_fd()),
    );
    Some((ours, child))
}

#[test]
fn python_sender_is_named_by_scm_pidfd_next_to_its_fds() {
    let Some((ours, child)) = python_sending_fds_with_pidfd("pidfd") else {
        return;
    };
    let mut buf = [0u8; 64];
    let mut control = CmsgBuf::<{ space_for_fds(2) + space_for_pidfd() }>::new();
    let mut got = ours
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
        .expect("recv_msg");
    assert_eq!(&buf[..got.bytes], b"pidfd-payload-0");
    assert!(!got.is_control_truncated(), "{got:?}");
    let pidfd = got.control.take_pidfd().expect("SCM_PIDFD arrived");
    let fds: Vec<OwnedFd> = got.control.take_fds().collect();
    drop(got);
    assert!(baremsg::fd::is_cloexec(pidfd.as_fd()).unwrap());
    // Checked before the child is reaped, while the pid still names it.
    assert_eq!(pidfd_pid(pidfd.as_fd()), child.id() as i32);
    assert_eq!(fds.len(), 2);
    assert_eq!(read_to_end(fds[0].as_fd()), b"pidfd-pipe-0");
    assert_eq!(read_to_end(fds[1].as_fd()), b"pidfd-file-0");
    finish(child);
}

#[test]
fn taking_the_fds_first_leaves_the_pidfd_to_take() {
    let Some((ours, child)) = python_sending_fds_with_pidfd("order") else {
        return;
    };
    let mut buf = [0u8; 64];
    let mut control = CmsgBuf::<{ space_for_fds(2) + space_for_pidfd() }>::new();
    let mut got = ours
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
        .expect("recv_msg");
    let fds: Vec<OwnedFd> = got.control.take_fds().collect();
    assert_eq!(fds.len(), 2);
    let pidfd = got.control.take_pidfd();
    drop(got);
    let pidfd = pidfd.expect("the pidfd is still there after take_fds()");
    assert_eq!(pidfd_pid(pidfd.as_fd()), child.id() as i32);
    finish(child);
}

/// Receives Python's three-buffer message into two buffers, with `control`.
fn scatter_from_python(tag: &str, control: &mut [u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let (ours, theirs) = pair::<Seqpacket>();
    let child = spawn(
        Command::new(python())
            .arg(peers_dir().join("fds_peer.py"))
            .arg("gather")
            .arg(theirs.as_raw_fd().to_string())
            .arg(tag),
        Some(theirs.as_fd()),
    );
    drop(theirs);
    let mut head = [0u8; 4];
    let mut rest = [0u8; 64];
    let res = ours
        .recv_msg(
            &mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut rest)],
            control,
        )
        .map(|got| {
            assert!(
                !got.is_truncated() && !got.is_control_truncated(),
                "{got:?}"
            );
            let n = got.bytes;
            assert!(n >= head.len(), "{n} bytes");
            (head.to_vec(), rest[..n - head.len()].to_vec())
        });
    finish(child);
    res
}

#[test]
fn python_gathered_message_fills_baremsg_scatter_buffers() {
    let mut control = CmsgBuf::<{ space_for_fds(1) }>::new();
    let (head, rest) = scatter_from_python("sg", &mut control).expect("recv_msg");
    assert_eq!(head, b"sg-h");
    assert_eq!(rest, b"ead|sg-tail");
}

#[test]
fn scatter_receive_takes_an_empty_control_buffer() {
    let (head, rest) = scatter_from_python("empty", &mut []).expect("recv_msg");
    assert_eq!(head, b"empt");
    assert_eq!(rest, b"y-head|empty-tail");
}
