//! A `systemd-notify` on baremsg: sends its arguments, as `KEY=VALUE` lines of one
//! message, to the manager `NOTIFY_SOCKET` names.
//!
//! ```text
//! notify_ready [--barrier] [--reloading] [--fdstore=NAME] [KEY=VALUE ...]
//! ```
//!
//! - `KEY=VALUE ...`: sent together as one message (if any are given);
//! - `--reloading`: `RELOADING=1` with `MONOTONIC_USEC=` now;
//! - `--fdstore=NAME`: stores a memfd holding `NAME` under that name (`FDSTORE=1`);
//! - `--barrier`: then waits until the manager has read everything (`BARRIER=1`);
//! - `--std` (last, with the `std` feature): sends the lines before it with
//!   `notify::notify_std`, which reads `NOTIFY_SOCKET` through `std::env`.
//!
//! Prints `notified` or, when `NOTIFY_SOCKET` is not set, `not notified`; exits 1 with
//! the error on stderr when something fails.

use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use baremsg::fd::{self, AsFd};
use baremsg::notify::{NotifySocket, DEFAULT_BARRIER_TIMEOUT};

fn main() -> ExitCode {
    match run() {
        Ok(true) => {
            println!("notified");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("not notified");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("notify_ready: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, Fail> {
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut barrier = false;
    let mut reloading = false;
    let mut fdstore = None;
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    for arg in &args {
        match arg.as_bytes() {
            b"--barrier" => barrier = true,
            b"--std" => return notify_with_std(&lines),
            b"--reloading" => reloading = true,
            a if a.starts_with(b"--fdstore=") => fdstore = Some(&a[b"--fdstore=".len()..]),
            a => lines.push(a),
        }
    }

    let env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    let Some(manager) = NotifySocket::from_env(env.iter().map(|e| e.as_slice()))? else {
        return Ok(false);
    };
    if !lines.is_empty() {
        manager.send(&lines.join(&b'\n'))?;
    }
    if reloading {
        manager.reloading()?;
    }
    if let Some(name) = fdstore {
        let memfd = fd::memfd_create(c"notify_ready", 0)?;
        fd::write_all(memfd.as_fd(), name)?;
        manager.store_fds(Some(name), &[memfd.as_fd()])?;
    }
    if barrier {
        manager.barrier(DEFAULT_BARRIER_TIMEOUT)?;
    }
    Ok(true)
}

/// Any error, as its message: the crate's errors implement `std::error::Error` only with
/// the `std` feature, and this example builds without it.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

#[cfg(feature = "std")]
fn notify_with_std(lines: &[&[u8]]) -> Result<bool, Fail> {
    Ok(baremsg::notify::notify_std(&lines.join(&b'\n'))?)
}

#[cfg(not(feature = "std"))]
fn notify_with_std(_: &[&[u8]]) -> Result<bool, Fail> {
    Err(Fail(
        "--std needs the example built with the std feature".into(),
    ))
}
