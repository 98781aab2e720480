//! A static program with neither libc nor std: it forks, then passes the child a pipe
//! holding known bytes (`SCM_RIGHTS`) together with its own credentials
//! (`SCM_CREDENTIALS`) over a Unix socket, using baremsg only. The child checks what
//! arrived; the parent waits for it and says whether everything held.
//!
//! Build and run, from the root of the baremsg repository:
//!
//! ```text
//! # x86_64, rustup's toolchain (links with rust-lld):
//! cargo run --release --manifest-path examples/freestanding/Cargo.toml
//! # i686, Debian's rustc with the i386 std (GNU ld; .ci/install-i686 installs them):
//! RUSTC=/usr/bin/rustc /usr/bin/cargo run --release --target i686-unknown-linux-gnu \
//!     --manifest-path examples/freestanding/Cargo.toml
//! ```
//!
//! The binary is static with no program interpreter (`readelf -l` shows no `INTERP` or
//! `DYNAMIC`); `src/rt.rs` is its `_start`, and `build.rs` has the link flags.
//!
//! Exit status: 0 when the child got the pipe and read its bytes through the received
//! fd, and got the parent's pid, uid and gid as credentials. Otherwise the child's
//! status is passed on: a bit per check that failed ([`PAYLOAD`], [`NO_FD`],
//! [`NOT_CLOEXEC`], [`WRONG_BYTES`], [`NO_CREDS`], [`WRONG_CREDS`]); 64 when a call in
//! the parent failed, 65 when the child died some other way, 66 when `NOTIFY_SOCKET` is
//! set but `READY=1` could not be sent to it, 2 for arguments. Each failure is also named
//! on stderr.
//!
//! Started by a service manager (`NOTIFY_SOCKET` in its environment), it first tells
//! the manager it is ready (`READY=1`), as a service would.

#![no_std]
#![no_main]

mod rt;

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Message};
use baremsg::fd::{self, AsFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::UnixStream;
use baremsg::Error;

/// What travels through the pipe.
const PIPE_BYTES: &[u8] = b"bytes through a passed pipe";
/// The payload of the message carrying the fd and the credentials.
const GREETING: &[u8] = b"here";

/// Child status bit: the payload was not [`GREETING`], or the receive failed.
const PAYLOAD: i32 = 1;
/// Child status bit: no fd arrived.
const NO_FD: i32 = 2;
/// Child status bit: the received fd was not close-on-exec.
const NOT_CLOEXEC: i32 = 4;
/// Child status bit: the received fd did not read [`PIPE_BYTES`].
const WRONG_BYTES: i32 = 8;
/// Child status bit: no credentials arrived.
const NO_CREDS: i32 = 16;
/// Child status bit: the credentials were not the parent's pid, uid and gid.
const WRONG_CREDS: i32 = 32;
/// A call in the parent failed.
const PARENT_FAILED: i32 = 64;
/// The child was killed, or exited with a status it does not use.
const CHILD_DIED: i32 = 65;
/// `NOTIFY_SOCKET` is set but `READY=1` could not be sent.
const NOTIFY_FAILED: i32 = 66;

const CHECKS: [(i32, &str); 6] = [
    (PAYLOAD, "the child did not receive the message"),
    (NO_FD, "no fd arrived"),
    (NOT_CLOEXEC, "the received fd was not close-on-exec"),
    (WRONG_BYTES, "the received fd did not read the pipe's bytes"),
    (NO_CREDS, "no credentials arrived"),
    (
        WRONG_CREDS,
        "the credentials were not the parent's pid, uid and gid",
    ),
];

fn main(args: rt::Args) -> i32 {
    let name = args.get(0).unwrap_or(b"freestanding");
    if args.len() > 1 {
        say(2, &[name, b": takes no arguments\n"]);
        return 2;
    }
    // On i386, enter the kernel through the vDSO (AT_SYSINFO) from the first syscall,
    // without baremsg reading /proc/self/auxv to find it. Nothing elsewhere.
    // SAFETY: the kernel's auxiliary vector for this process.
    unsafe { baremsg::sys::init_vsyscall(args.auxv()) };
    // Readiness: tell the manager that started us, if one listens (NOTIFY_SOCKET).
    // SAFETY: `envp` is the kernel's array, unchanged for the life of the program.
    let env = unsafe { baremsg::notify::Envp::from_raw(args.envp().cast()) };
    if let Err(e) = baremsg::notify::notify(env, b"READY=1") {
        let mut digits = [0; 10];
        let errno = decimal(e.errno().raw() as u32, &mut digits);
        say(2, &[name, b": READY=1 failed: errno ", errno, b"\n"]);
        return NOTIFY_FAILED;
    }
    match parent(name) {
        Ok(code) => code,
        Err((what, e)) => {
            let mut digits = [0; 10];
            let errno = decimal(e.errno().raw() as u32, &mut digits);
            say(2, &[name, b": ", what, b" failed: errno ", errno, b"\n"]);
            PARENT_FAILED
        }
    }
}

fn parent(name: &[u8]) -> Result<i32, (&'static [u8], Error)> {
    let (mine, theirs) = UnixStream::pair().map_err(|e| (&b"socketpair"[..], e))?;
    // Set before the fork, so it is on before anything is sent.
    theirs
        .set_pass_cred(true)
        .map_err(|e| (&b"SO_PASSCRED"[..], e))?;

    // SAFETY: this program has one thread, so the child may run any code.
    let pid = unsafe { sys::fork() }.map_err(|e| (&b"fork"[..], e.into()))?;
    if pid == 0 {
        drop(mine);
        rt::exit(child(&theirs));
    }
    drop(theirs);

    // Made after the fork: the child can have the pipe only through the socket.
    let sent = send(&mine);
    drop(mine); // on a failed send, the child reads end-of-file rather than waiting
    let mut status = 0;
    // SAFETY: `pid` is our child and nothing else waits for it.
    let waited = unsafe { sys::wait4(pid, &mut status, 0) };
    sent?;
    waited.map_err(|e| (&b"wait4"[..], e.into()))?;

    if !sys::wifexited(status) || sys::wexitstatus(status) >= PARENT_FAILED {
        say(
            2,
            &[name, b": the child died before finishing its checks\n"],
        );
        return Ok(CHILD_DIED);
    }
    let failed = sys::wexitstatus(status);
    for (bit, what) in CHECKS {
        if failed & bit != 0 {
            say(2, &[name, b": ", what.as_bytes(), b"\n"]);
        }
    }
    if failed == 0 {
        say(
            1,
            &[
                name,
                b": ok: the child read the pipe's bytes through the fd it received ",
                b"(SCM_RIGHTS) and got this process's pid, uid and gid (SCM_CREDENTIALS)\n",
            ],
        );
    }
    Ok(failed)
}

/// Sends a pipe holding [`PIPE_BYTES`] and this process's credentials.
fn send(sock: &UnixStream) -> Result<(), (&'static [u8], Error)> {
    let (r, w) = fd::pipe().map_err(|e| (&b"pipe"[..], e.into()))?;
    fd::write_all(w.as_fd(), PIPE_BYTES).map_err(|e| (&b"write"[..], e.into()))?;
    drop(w); // the child reads the bytes, then end-of-file

    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let mut buf = CmsgBuf::<{ space_for_fds(1) + space_for_credentials() }>::new();
    let mut enc = buf.encoder();
    let encoded = enc
        .push_rights(&[r.as_fd()])
        .and_then(|()| enc.push_credentials(&me));
    encoded.map_err(|e| (&b"encoding the control messages"[..], e))?;
    sock.send_msg(&[IoSlice::new(GREETING)], &enc.finish())
        .map_err(|e| (&b"sendmsg"[..], e))?;
    Ok(())
}

/// The child's side: receives, checks, and returns a bit per check that failed.
fn child(sock: &UnixStream) -> i32 {
    let mut payload = [0u8; 16];
    let mut buf = CmsgBuf::<{ space_for_fds(1) + space_for_credentials() }>::new();
    let mut got = match sock.recv_msg(&mut [IoSliceMut::new(&mut payload)], &mut buf) {
        Ok(got) => got,
        Err(_) => return PAYLOAD | NO_FD | NO_CREDS,
    };
    let mut failed = 0;
    if &payload[..got.bytes] != GREETING {
        failed |= PAYLOAD;
    }

    let mut pipe: Option<OwnedFd> = None;
    let mut cred: Option<Ucred> = None;
    for msg in got.control.messages() {
        match msg {
            Ok(Message::Rights(mut fds)) if pipe.is_none() => pipe = fds.next(),
            Ok(Message::Credentials(c)) => cred = Some(c),
            _ => {}
        }
    }

    match pipe {
        None => failed |= NO_FD,
        Some(fd) => {
            if baremsg::fd::is_cloexec(fd.as_fd()) != Ok(true) {
                failed |= NOT_CLOEXEC;
            }
            if !reads_exactly(fd.as_fd(), PIPE_BYTES) {
                failed |= WRONG_BYTES;
            }
        }
    }

    let parent = Ucred {
        pid: sys::getppid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    match cred {
        None => failed |= NO_CREDS,
        Some(c) if c != parent => failed |= WRONG_CREDS,
        Some(_) => {}
    }
    failed
}

/// Whether `fd` reads `want` and then end-of-file.
fn reads_exactly(fd: BorrowedFd<'_>, want: &[u8]) -> bool {
    let mut buf = [0u8; 64];
    let mut len = 0;
    while len < buf.len() {
        match fd::read(fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return false,
        }
    }
    &buf[..len] == want
}

/// Writes `parts` to fd 1 or 2, ignoring errors (there is nowhere to report them).
fn say(fd: i32, parts: &[&[u8]]) {
    // SAFETY: fds 1 and 2 are the process's standard output and error, which nothing in
    // this program closes; if one was never open, the write fails with EBADF.
    let out = unsafe { BorrowedFd::borrow_raw(fd) };
    for part in parts {
        let _ = fd::write_all(out, part);
    }
}

/// `n` in decimal, at the end of `buf`. (Not `Errno::name`: its 133 names would double
/// this program's size.)
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut start = buf.len();
    while start > 0 {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}
