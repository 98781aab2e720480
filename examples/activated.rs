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
//! fd <number> <name> <kind> <cloexec: 1 or 0> <local address, port:N for TCP/UDP, or ->
//! request <the bytes the client sent, as text>
//! ```
//!
//! With `--std` as its argument (and the `std` feature), it takes the fds through
//! `activation::take_std_env` and then removes the variables with
//! `activation::remove_std_env`. TCP and UDP sockets are served through std's types
//! (the `std` feature). With `--inetd` it serves the connection on stdin and stdout
//! instead and reports `inetd_tcp` (what `activation::is_socket_inet` says of fd 0) and
//! `port`.
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

use baremsg::activation::{self, is_listen_var, Activated, ListenEnv};
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
    if std::env::args_os().nth(1).is_some_and(|a| a == "--inetd") {
        return inetd();
    }
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
            ListenEnv::from_env(env())?.ok_or(
            "not socket-activated: LISTEN_PID is unset, or it or LISTEN_PIDFDID names another process",
        )?;
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
        let addr = match (local_addr(socket), activation::local_port(socket.as_fd())) {
            (Some(a), _) => a.to_string(),
            (None, Ok(Some(port))) => format!("port:{port}"),
            _ => "-".to_owned(),
        };
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
        Activated::Socket(..) => return serve_inet(socket, report),
        other => return Err(format!("cannot serve a {} fd", other.kind()).into()),
    }
    Ok(())
}

/// A TCP listener, TCP connection or UDP socket, through std's types (`TryFrom`).
#[cfg(feature = "std")]
fn serve_inet(socket: &Activated, report: &str) -> Result<(), Fail> {
    use std::io::{Read, Write};
    let answer = |req: &[u8]| format!("{report}request {}\n", String::from_utf8_lossy(req));
    let mut buf = [0u8; 4096];
    // A copy to convert: `socket` stays the report's.
    let fd = baremsg::fd::try_clone(socket.as_fd())?;
    let copy = Activated::classify(fd);
    let copy = match std::net::TcpListener::try_from(copy) {
        Ok(l) => {
            let (mut conn, _) = l.accept()?;
            let n = conn.read(&mut buf)?;
            return Ok(conn.write_all(answer(&buf[..n]).as_bytes())?);
        }
        Err(other) => other,
    };
    let copy = match std::net::TcpStream::try_from(copy) {
        Ok(mut conn) => {
            let n = conn.read(&mut buf)?;
            return Ok(conn.write_all(answer(&buf[..n]).as_bytes())?);
        }
        Err(other) => other,
    };
    match std::net::UdpSocket::try_from(copy) {
        Ok(s) => {
            let (n, from) = s.recv_from(&mut buf)?;
            s.send_to(answer(&buf[..n]).as_bytes(), from)?;
            Ok(())
        }
        Err(other) => Err(format!("cannot serve a {} fd", other.kind()).into()),
    }
}

#[cfg(not(feature = "std"))]
fn serve_inet(socket: &Activated, _: &str) -> Result<(), Fail> {
    Err(format!(
        "a {} fd needs the example built with the std feature",
        socket.kind()
    )
    .into())
}

/// `--inetd`: the connection is stdin and stdout (`systemd-socket-activate --inetd`,
/// `inetd`); checked with `is_socket_inet`, as a service checks with `sd_is_socket_inet`.
fn inetd() -> Result<(), Fail> {
    // SAFETY: fd 0 is open for the whole program; borrowed only here.
    let stdin = unsafe { baremsg::fd::BorrowedFd::borrow_raw(0) };
    let tcp = activation::is_socket_inet(stdin, 0, sys::SOCK_STREAM, Some(false), 0)?;
    let port = activation::local_port(stdin)?.map_or("-".to_owned(), |p| p.to_string());
    let mut buf = [0u8; 4096];
    let n = baremsg::fd::read(stdin, &mut buf)?;
    let report = format!(
        "pid {}\ninetd_tcp {}\nport {port}\nrequest {}\n",
        sys::getpid(),
        tcp as u8,
        String::from_utf8_lossy(&buf[..n])
    );
    // SAFETY: fd 1 is open for the whole program.
    let stdout = unsafe { baremsg::fd::BorrowedFd::borrow_raw(1) };
    baremsg::fd::write_all(stdout, report.as_bytes())?;
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
