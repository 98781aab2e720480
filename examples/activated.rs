//! A socket-activated service on baremsg: it takes the sockets its manager passed
//! (systemd, `systemd-socket-activate`, or baremsg's own `activation::Spawn`), says
//! `READY=1` if `NOTIFY_SOCKET` is set, serves one client on the first socket, and exits.
//!
//! The answer is a report, one fact per line:
//!
//! ```text
//! pid <its pid>
//! notified <1 if it sent READY=1, else 0>
//! fds <how many>
//! listen_vars_left <LISTEN_* variables still set> (with --std only)
//! fd <number> <name> <kind> <cloexec: 1 or 0> <local address, or ->
//! request <the bytes the client sent, as text>
//! ```
//!
//! With `--std` as its argument (and the `std` feature), it takes the fds through
//! `activation::take_std_env` and then removes the variables with
//! `activation::remove_std_env`.
//!
//! Try it:
//!
//! ```text
//! cargo build --example activated
//! systemd-socket-activate -l /tmp/demo.sock --fdname=demo target/debug/examples/activated &
//! echo hi | socat - UNIX-CONNECT:/tmp/demo.sock
//! ```

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use baremsg::activation::{is_listen_var, Activated, ListenEnv};
use baremsg::fd::{AsFd, AsRawFd};
use baremsg::notify::NotifySocket;
use baremsg::sys;
use baremsg::unix::UnixAddr;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("activated: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Fail> {
    let with_std = std::env::args_os().nth(1).is_some_and(|a| a == "--std");
    // The environment as KEY=VALUE byte strings, as a freestanding program has it.
    let env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    let env = || env.iter().map(|e| e.as_slice());

    let fds: Vec<(Vec<u8>, Activated)> = if with_std {
        take_with_std()?
    } else {
        let listen =
            ListenEnv::from_env(env())?.ok_or("not socket-activated: LISTEN_PID is not set")?;
        // SAFETY: first thing in main: nothing has opened or closed an fd yet, so fds 3..
        // are the ones the manager passed.
        let taken = unsafe { listen.take_fds() }?;
        taken.map(|fd| (fd.name.to_vec(), fd.socket)).collect()
    };

    let notified = match NotifySocket::from_env(env())? {
        Some(manager) => {
            manager.ready_with_status(format!("serving {} fds", fds.len()).as_bytes())?;
            true
        }
        None => false,
    };

    let mut report = String::new();
    writeln!(report, "pid {}", sys::getpid())?;
    writeln!(report, "notified {}", notified as u8)?;
    writeln!(report, "fds {}", fds.len())?;
    if with_std {
        let left = std::env::vars_os()
            .filter(|(k, v)| is_listen_var(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
            .count();
        writeln!(report, "listen_vars_left {left}")?;
    }
    for (name, socket) in &fds {
        let cloexec = baremsg::fd::is_cloexec(socket.as_fd())?;
        let addr = local_addr(socket).map_or("-".to_owned(), |a| a.to_string());
        writeln!(
            report,
            "fd {} {} {} {} {addr}",
            socket.as_fd().as_raw_fd(),
            String::from_utf8_lossy(name),
            socket.kind(),
            cloexec as u8,
        )?;
    }
    let (_, first) = fds.first().ok_or("no fds were passed")?;
    serve(first, &report)
}

/// With `--std`: the fds through `std::env`, and the variables removed from it after.
#[cfg(feature = "std")]
fn take_with_std() -> Result<Vec<(Vec<u8>, Activated)>, Fail> {
    // SAFETY: first thing in main, one thread: fds 3.. are the manager's, and nothing
    // else reads the environment meanwhile.
    unsafe {
        let fds = baremsg::activation::take_std_env()?;
        baremsg::activation::remove_std_env();
        Ok(fds)
    }
}

#[cfg(not(feature = "std"))]
fn take_with_std() -> Result<Vec<(Vec<u8>, Activated)>, Fail> {
    Err(Fail(
        "--std needs the example built with the std feature".into(),
    ))
}

fn local_addr(socket: &Activated) -> Option<UnixAddr> {
    match socket {
        Activated::UnixListener(s) => s.local_addr().ok(),
        Activated::UnixSeqpacketListener(s) => s.local_addr().ok(),
        Activated::UnixDatagram(s) => s.local_addr().ok(),
        Activated::UnixStream(s) => s.local_addr().ok(),
        Activated::UnixSeqpacket(s) => s.local_addr().ok(),
        _ => None,
    }
}

/// Answers one client with `report` and what it sent.
fn serve(socket: &Activated, report: &str) -> Result<(), Fail> {
    let mut buf = [0u8; 4096];
    let answer = |req: &[u8]| format!("{report}request {}\n", String::from_utf8_lossy(req));
    match socket {
        Activated::UnixListener(l) => {
            let (conn, _) = l.accept()?;
            let n = conn.recv(&mut buf)?;
            baremsg::fd::write_all(conn.as_fd(), answer(&buf[..n]).as_bytes())?;
        }
        Activated::UnixStream(conn) => {
            let n = conn.recv(&mut buf)?;
            baremsg::fd::write_all(conn.as_fd(), answer(&buf[..n]).as_bytes())?;
        }
        Activated::UnixSeqpacketListener(l) => {
            let (conn, _) = l.accept()?;
            let n = conn.recv(&mut buf)?;
            conn.send(answer(&buf[..n]).as_bytes())?;
        }
        Activated::UnixDatagram(s) => {
            let (n, from) = s.recv_from(&mut buf)?;
            s.send_to(answer(&buf[..n]).as_bytes(), &from)?;
        }
        other => return Err(format!("cannot serve a {} fd", other.kind()).into()),
    }
    Ok(())
}

/// Any error, as its message: the crate's errors implement `std::error::Error` only with
/// the `std` feature, and this example builds without it.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}
