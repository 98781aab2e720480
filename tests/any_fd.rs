//! Every send and receive on any socket fd (`baremsg::unix::send_fds(fd, ..)` and the
//! rest), the kind-specific rules where the kind is not known, sockets nonblocking from
//! the start, and the listener and datagram conveniences std users reach for.

use baremsg::cmsg::{space_for_fds, CmsgBuf};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::unix::{
    self, UnixAddr, UnixDatagram, UnixListener, UnixSeqpacket, UnixSeqpacketListener, UnixStream,
};
use baremsg::{sys, Errno, Error};

fn unique(tag: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "baremsg-anyfd-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

fn abstract_addr(tag: &str) -> UnixAddr {
    UnixAddr::from_abstract(&unique(tag)).unwrap()
}

/// A pipe whose read end holds `data`.
fn pipe_with(data: &[u8]) -> OwnedFd {
    let (r, w) = fd::pipe().unwrap();
    fd::write_all(&w, data).unwrap();
    r
}

fn read_fd(fd: BorrowedFd<'_>) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let n = fd::read(fd, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn fds_pass_through_the_free_functions_on_bare_fds() {
    let (a, b) = UnixSeqpacket::pair().unwrap();
    let (a, b): (OwnedFd, OwnedFd) = (a.into(), b.into());
    let r = pipe_with(b"through a bare fd");
    assert_eq!(unix::send_fds(&a, b"m", &[r.as_fd()]).unwrap(), 1);
    let mut buf = [0u8; 4];
    let mut slots = [None, None];
    let got = unix::recv_fds(b.as_fd(), &mut buf, &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds, got.control_truncated), (1, 1, false));
    let fd = slots[0].take().unwrap();
    assert!(fd::is_cloexec(&fd).unwrap());
    assert_eq!(read_fd(fd.as_fd()), b"through a bare fd");

    // send/recv, send_msg/recv_msg, credentials.
    unix::set_pass_cred(&b, true).unwrap();
    assert!(unix::pass_cred(&b).unwrap());
    assert_eq!(unix::send(&a, b"plain").unwrap(), 5);
    let mut ctl = CmsgBuf::<64>::new();
    let mut data = [0u8; 8];
    let mut got = unix::recv_msg(&b, &mut [IoSliceMut::new(&mut data)], &mut ctl).unwrap();
    assert_eq!(&data[..got.bytes], b"plain");
    assert_eq!(got.control.credentials().unwrap().pid, sys::getpid());
    assert_eq!(unix::peer_cred(&a).unwrap().pid, sys::getpid());
    assert_eq!(unix::take_error(&a).unwrap(), None);
}

#[test]
fn control_without_payload_is_refused_on_a_bare_stream_fd_only() {
    let r = pipe_with(b"x");
    let (a, _b) = UnixStream::pair().unwrap();
    let bare: OwnedFd = a.into();
    assert_eq!(
        unix::send_fds(&bare, b"", &[r.as_fd()]),
        Err(Error::ControlWithoutPayload),
        "the kind comes from SO_TYPE"
    );
    // On a seqpacket socket an empty message with fds travels.
    let (a, b) = UnixSeqpacket::pair().unwrap();
    let bare: OwnedFd = a.into();
    assert_eq!(unix::send_fds(&bare, b"", &[r.as_fd()]).unwrap(), 0);
    let mut slots = [None];
    let got = b.recv_fds(&mut [0u8; 1], &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds), (0, 1));
    assert_eq!(read_fd(slots[0].as_ref().unwrap().as_fd()), b"x");
}

#[test]
fn recv_msg_on_a_bare_fd_reports_truncation_without_losing_stream_data() {
    // Datagram: the rest of a long datagram is dropped, and that is reported.
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"0123456789").unwrap();
    let mut small = [0u8; 4];
    let got = unix::recv_msg(b.as_fd(), &mut [IoSliceMut::new(&mut small)], &mut []).unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, true));
    assert_eq!(&small, b"0123");
    // Stream: nothing is dropped (MSG_TRUNC would discard bytes on a stream).
    let (a, b) = UnixStream::pair().unwrap();
    a.send(b"0123456789").unwrap();
    let got = unix::recv_msg(b.as_fd(), &mut [IoSliceMut::new(&mut small)], &mut []).unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, false));
    let mut rest = [0u8; 16];
    assert_eq!(b.recv(&mut rest).unwrap(), 6);
    assert_eq!(&rest[..6], b"456789");
}

#[test]
fn recv_msg_on_a_bare_fd_without_a_control_buffer_reports_dropped_fds() {
    let (a, b) = UnixStream::pair().unwrap();
    let r = pipe_with(b"x");
    a.send_fds(b"f", &[r.as_fd()]).unwrap();
    let mut byte = [0u8; 1];
    let got = unix::recv_msg(b.as_fd(), &mut [IoSliceMut::new(&mut byte)], &mut []).unwrap();
    assert_eq!(got.bytes, 1);
    assert!(got.is_control_truncated(), "recvmsg says MSG_CTRUNC");
}

#[test]
fn datagrams_go_to_and_come_from_addresses_through_the_free_functions() {
    let addr = abstract_addr("dgram");
    let server = UnixDatagram::bind(&addr).unwrap();
    let client_addr = abstract_addr("dgram-client");
    let client = UnixDatagram::bind(&client_addr).unwrap();
    assert_eq!(unix::send_to(&client, b"to", &addr).unwrap(), 2);
    let mut buf = [0u8; 8];
    let (n, from) = unix::recv_from(&server, &mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to"[..], client_addr));
    let r = pipe_with(b"fd to an address");
    let mut cbuf = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = cbuf.encoder();
    enc.push_rights(&[r.as_fd()]).unwrap();
    unix::send_msg_to(&client, &[IoSlice::new(b"m")], &enc.finish(), &addr).unwrap();
    let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let (mut got, from) =
        unix::recv_msg_from(&server, &mut [IoSliceMut::new(&mut buf)], &mut ctl).unwrap();
    assert_eq!(from, client_addr);
    let fd = got.control.take_fds().next().unwrap();
    assert_eq!(read_fd(fd.as_fd()), b"fd to an address");
    assert_eq!(unix::local_addr(&server).unwrap(), addr);
}

#[test]
fn datagram_connect_connects_this_socket_as_std_does() {
    let addr = abstract_addr("connect");
    let server = UnixDatagram::bind(&addr).unwrap();
    let client = UnixDatagram::unbound().unwrap();
    let fd_before = client.as_raw_fd();
    client.connect(&addr).unwrap();
    assert_eq!(client.as_raw_fd(), fd_before);
    assert_eq!(client.peer_addr().unwrap(), addr);
    client.send(b"connected").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(server.recv(&mut buf).unwrap(), 9);
    assert_eq!(&buf[..9], b"connected");
}

#[test]
fn sockets_can_be_nonblocking_from_the_start() {
    fn check(fd: impl AsFd) {
        assert!(fd::is_nonblocking(&fd).unwrap(), "O_NONBLOCK");
        assert!(fd::is_cloexec(&fd).unwrap(), "and still close-on-exec");
    }
    let (a, b) = UnixStream::pair_nonblocking().unwrap();
    check(&a);
    check(&b);
    assert_eq!(b.recv(&mut [0u8; 1]), Err(Error::Os(Errno::EAGAIN)));
    let (s, _t) = UnixSeqpacket::pair_nonblocking().unwrap();
    check(&s);

    let addr = abstract_addr("nb-listener");
    let l = UnixListener::bind_nonblocking(&addr).unwrap();
    check(&l);
    assert_eq!(l.accept().unwrap_err(), Error::Os(Errno::EAGAIN));
    let c = UnixStream::connect_nonblocking(&addr).unwrap();
    check(&c);
    let (accepted, _) = l.accept().unwrap();
    assert!(
        !fd::is_nonblocking(&accepted).unwrap(),
        "accept4 without SOCK_NONBLOCK"
    );

    let blocking = UnixListener::bind(&abstract_addr("b-listener")).unwrap();
    assert!(!fd::is_nonblocking(&blocking).unwrap());
    let _c = UnixStream::connect(&blocking.local_addr().unwrap()).unwrap();
    let (accepted, _) = blocking.accept_nonblocking().unwrap();
    check(&accepted);

    let sp = UnixSeqpacketListener::bind_nonblocking(&abstract_addr("nb-sp")).unwrap();
    check(&sp);
    let _c = UnixSeqpacket::connect_nonblocking(&sp.local_addr().unwrap()).unwrap();

    let d = UnixDatagram::bind_nonblocking(&abstract_addr("nb-dgram")).unwrap();
    check(&d);
    assert_eq!(d.recv(&mut [0u8; 1]), Err(Error::Os(Errno::EAGAIN)));
    check(UnixDatagram::unbound_nonblocking().unwrap());
}

#[test]
fn the_backlog_can_be_set_on_a_listening_socket() {
    let addr = abstract_addr("backlog");
    let l = UnixListener::bind(&addr).unwrap();
    // Linux queues backlog + 1 connections; the next nonblocking connect is EAGAIN.
    let connect_until_full = |kept: &mut Vec<UnixStream>| loop {
        match UnixStream::connect_nonblocking(&addr) {
            Ok(c) => kept.push(c),
            Err(e) => break e,
        }
    };
    let mut kept = Vec::new();
    l.set_backlog(1).unwrap();
    assert_eq!(connect_until_full(&mut kept), Error::Os(Errno::EAGAIN));
    assert_eq!(kept.len(), 2);
    l.set_backlog(3).unwrap();
    assert_eq!(connect_until_full(&mut kept), Error::Os(Errno::EAGAIN));
    assert_eq!(kept.len(), 4);
    // Every one of them is a real connection.
    for (i, c) in kept.iter().enumerate() {
        let (s, _) = l.accept().unwrap();
        c.send(&[i as u8]).unwrap();
        let mut b = [0u8; 1];
        assert_eq!((s.recv(&mut b).unwrap(), b[0]), (1, i as u8));
    }
}

#[test]
fn incoming_accepts_connections_and_a_cloned_listener_accepts_too() {
    let addr = abstract_addr("incoming");
    let l = UnixListener::bind(&addr).unwrap();
    let clone = l.try_clone().unwrap();
    assert_ne!(clone.as_raw_fd(), l.as_raw_fd());
    assert!(fd::is_cloexec(&clone).unwrap());
    assert_eq!(l.take_error().unwrap(), None);
    let c1 = UnixStream::connect(&addr).unwrap();
    let c2 = UnixStream::connect(&addr).unwrap();
    let mut incoming = l.incoming();
    let s1 = incoming.next().unwrap().unwrap();
    let s2 = clone.incoming().next().unwrap().unwrap();
    c1.send(b"1").unwrap();
    c2.send(b"2").unwrap();
    let mut b = [0u8; 1];
    s1.recv(&mut b).unwrap();
    assert_eq!(&b, b"1");
    s2.recv(&mut b).unwrap();
    assert_eq!(&b, b"2");
    l.set_nonblocking(true).unwrap();
    assert_eq!(
        incoming.next().unwrap().unwrap_err(),
        Error::Os(Errno::EAGAIN),
        "an error is an item; the iterator does not end"
    );
}
