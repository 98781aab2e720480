//! Size comparison (see `../run`): makes a socketpair, passes one end over it with
//! `SCM_RIGHTS`, receives it, checks that the received fd is that socket, and exits 0
//! (1 if anything failed). The same program as `../rustix-fdpass`, written with baremsg.

#![no_std]
#![no_main]

#[path = "../../../../examples/freestanding/src/rt.rs"]
mod rt;

use baremsg::fd::{self, AsFd};
use baremsg::unix::UnixStream;

fn main(_: rt::Args) -> i32 {
    match run() {
        Some(()) => 0,
        None => 1,
    }
}

fn run() -> Option<()> {
    let (a, b) = UnixStream::pair().ok()?;
    a.send_fds(b"x", &[a.as_fd()]).ok()?;

    let mut buf = [0u8; 1];
    let mut fds = [None];
    let got = b.recv_fds(&mut buf, &mut fds).ok()?;
    if got.bytes != 1 || buf[0] != b'x' {
        return None;
    }
    // The received fd is another fd for `a`: what is written to it arrives at `b`.
    let [Some(received)] = fds else { return None };
    fd::write(received.as_fd(), b"y").ok()?;
    b.recv(&mut buf).ok()?;
    (buf[0] == b'y').then_some(())
}
