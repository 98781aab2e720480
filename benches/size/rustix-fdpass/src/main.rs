//! Size comparison (see `../run`): makes a socketpair, passes one end over it with
//! `SCM_RIGHTS`, receives it, checks that the received fd is that socket, and exits 0
//! (1 if anything failed). The same program as `../baremsg-fdpass`, written with rustix.

#![no_std]
#![no_main]

#[path = "../../../../examples/freestanding/src/rt.rs"]
mod rt;

use core::mem::MaybeUninit;

use rustix::cmsg_space;
use rustix::fd::AsFd;
use rustix::io::{IoSlice, IoSliceMut};
use rustix::net::{
    recvmsg, sendmsg, socketpair, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage,
    RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};

fn main(_: rt::Args) -> i32 {
    match run() {
        Some(()) => 0,
        None => 1,
    }
}

fn run() -> Option<()> {
    let (a, b) = socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .ok()?;
    let mut space = [MaybeUninit::uninit(); cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [a.as_fd()];
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return None;
    }
    sendmsg(&a, &[IoSlice::new(b"x")], &mut control, SendFlags::NOSIGNAL).ok()?;

    let mut buf = [0u8; 1];
    let mut space = [MaybeUninit::uninit(); cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = recvmsg(
        &b,
        &mut [IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .ok()?;
    if got.bytes != 1 || buf[0] != b'x' {
        return None;
    }
    let mut received = None;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg {
            received = received.or_else(|| fds.next());
        }
    }
    // The received fd is another fd for `a`: what is written to it arrives at `b`.
    let received = received?;
    rustix::io::write(&received, b"y").ok()?;
    rustix::io::read(&b, &mut buf).ok()?;
    (buf[0] == b'y').then_some(())
}
