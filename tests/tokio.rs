//! Fds and credentials over tokio's `UnixStream` and `UnixDatagram`, through baremsg's
//! functions over any fd inside `try_io`/`async_io`: no `unsafe`, no conversion between
//! fd types (with `std`, baremsg's are std's), on current-thread and multi-thread
//! runtimes. Received fds are used as `tokio::fs::File`s.

use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf};
use baremsg::io::IoSliceMut;
use baremsg::unix::{self, RecvFds};
use baremsg::{sys, Errno, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{UnixDatagram, UnixStream};
use tokio::runtime::{Builder, Runtime};

mod files;
use files::file_with;

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Reads all of a received fd through tokio's File.
async fn read_to_end(fd: OwnedFd) -> Vec<u8> {
    let mut file = tokio::fs::File::from_std(std::fs::File::from(fd));
    let mut out = Vec::new();
    file.read_to_end(&mut out).await.unwrap();
    out
}

/// `send_fds` when the stream is writable (`async_io`).
async fn send_fds(s: &UnixStream, buf: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    s.async_io(Interest::WRITABLE, || Ok(unix::send_fds(s, buf, fds)?))
        .await
}

/// `recv_fds` when the stream is readable, written as the `try_io` loop.
async fn recv_fds(
    s: &UnixStream,
    buf: &mut [u8],
    slots: &mut [Option<OwnedFd>],
) -> io::Result<RecvFds> {
    loop {
        s.readable().await?;
        match s.try_io(Interest::READABLE, || Ok(unix::recv_fds(s, buf, slots)?)) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

/// Both ways over one tokio stream pair: a file one way, a pipe end the other.
async fn fds_both_ways() {
    let (a, b) = UnixStream::pair().unwrap();
    let file = file_with(b"a file through tokio");
    assert_eq!(send_fds(&a, b"f", &[file.as_fd()]).await.unwrap(), 1);
    let mut byte = [0u8; 1];
    let mut slots = [None];
    let got = recv_fds(&b, &mut byte, &mut slots).await.unwrap();
    assert_eq!((got.bytes, got.fds, got.control_truncated), (1, 1, false));
    let fd = slots[0].take().unwrap();
    assert!(baremsg::fd::is_cloexec(&fd).unwrap());
    assert_eq!(read_to_end(fd).await, b"a file through tokio");

    // Back the other way: the write end of a pipe, written by the receiver as a tokio
    // File, read here.
    let (r, w) = baremsg::fd::pipe().unwrap();
    send_fds(&b, b"p", &[w.as_fd()]).await.unwrap();
    drop(w);
    let got = recv_fds(&a, &mut byte, &mut slots).await.unwrap();
    assert_eq!(got.fds, 1);
    let mut w = tokio::fs::File::from_std(std::fs::File::from(slots[0].take().unwrap()));
    w.write_all(b"back through the pipe").await.unwrap();
    w.flush().await.unwrap();
    drop(w);
    assert_eq!(read_to_end(r).await, b"back through the pipe");
}

#[test]
fn fds_pass_both_ways_over_tokio_streams_on_a_current_thread_runtime() {
    current_thread().block_on(fds_both_ways());
}

#[test]
fn fds_pass_both_ways_over_tokio_streams_on_a_multi_thread_runtime() {
    multi_thread().block_on(fds_both_ways());
}

#[test]
fn sender_and_receiver_tasks_on_different_workers() {
    multi_thread().block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        const N: usize = 50;
        let receiver = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..N {
                let mut byte = [0u8; 1];
                let mut slots = [None];
                // The receiver waits first: readiness, not luck, wakes it.
                let got = recv_fds(&b, &mut byte, &mut slots).await.unwrap();
                assert_eq!((got.bytes, got.fds), (1, 1));
                seen.push((byte[0], read_to_end(slots[0].take().unwrap()).await));
            }
            seen
        });
        let sender = tokio::spawn(async move {
            for i in 0..N {
                tokio::task::yield_now().await;
                let file = file_with(format!("file {i}").as_bytes());
                send_fds(&a, &[i as u8], &[file.as_fd()]).await.unwrap();
            }
        });
        sender.await.unwrap();
        let seen = receiver.await.unwrap();
        for (i, (tag, text)) in seen.into_iter().enumerate() {
            assert_eq!((tag as usize, text), (i, format!("file {i}").into_bytes()));
        }
    });
}

#[test]
fn fds_pass_over_tokio_datagrams_and_truncation_is_reported() {
    current_thread().block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        // Three pipes' read ends travel; the receiver has one slot.
        let pipes: Vec<_> = (0..3).map(|_| baremsg::fd::pipe().unwrap()).collect();
        let reads: Vec<BorrowedFd<'_>> = pipes.iter().map(|(r, _)| r.as_fd()).collect();
        a.async_io(Interest::WRITABLE, || {
            Ok(unix::send_fds(&a, b"three fds and a long payload", &reads)?)
        })
        .await
        .unwrap();
        let writes: Vec<OwnedFd> = pipes.into_iter().map(|(_, w)| w).collect(); // read ends closed here
        let mut small = [0u8; 5];
        let mut slots = [None];
        let got = b
            .async_io(Interest::READABLE, || {
                Ok(unix::recv_fds(&b, &mut small, &mut slots)?)
            })
            .await
            .unwrap();
        assert_eq!(got.bytes, 5);
        assert!(got.truncated, "the datagram's payload was cut (MSG_TRUNC)");
        assert!(got.control_truncated, "two fds found no slot");
        assert_eq!(got.fds, 1);
        // The fd in the slot works; the two that found no slot were closed, so their
        // pipes have no reader left.
        assert_eq!(baremsg::fd::write(&writes[0], b"x"), Ok(1));
        for w in &writes[1..] {
            assert_eq!(baremsg::fd::write(w, b"x"), Err(Errno::EPIPE));
        }
        drop(slots);
    });
}

#[test]
fn an_empty_tokio_socket_is_eagain_and_would_block() {
    current_thread().block_on(async {
        let (_a, b) = UnixStream::pair().unwrap();
        let mut slots = [None];
        // tokio's sockets are nonblocking: the call itself is EAGAIN, a plain value.
        assert_eq!(
            unix::recv_fds(&b, &mut [0u8; 1], &mut slots),
            Err(Error::Os(Errno::EAGAIN))
        );
        // Converted, it is the WouldBlock that try_io takes to clear the readiness.
        let e: io::Error = Error::Os(Errno::EAGAIN).into();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        assert_eq!(e.raw_os_error(), Some(Errno::EAGAIN.raw()));
        // try_io says WouldBlock, whether it called the closure (which got EAGAIN) or
        // knew the socket not ready; then nothing has been received.
        let e = b
            .try_io(Interest::READABLE, || {
                Ok(unix::recv_fds(&b, &mut [0u8; 1], &mut slots)?)
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        assert!(slots[0].is_none());
    });
}

#[test]
fn credentials_arrive_over_a_tokio_datagram() {
    multi_thread().block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        unix::set_pass_cred(&b, true).unwrap();
        assert_eq!(unix::peer_cred(&a).unwrap().pid, sys::getpid());
        a.send(b"who").await.unwrap();
        let mut data = [0u8; 8];
        let mut ctl = CmsgBuf::<{ space_for_credentials() + space_for_fds(1) }>::new();
        let (bytes, cred) = b
            .async_io(Interest::READABLE, || {
                let mut got = unix::recv_msg(&b, &mut [IoSliceMut::new(&mut data)], &mut ctl)?;
                Ok((got.bytes, got.control.credentials()))
            })
            .await
            .unwrap();
        assert_eq!(&data[..bytes], b"who");
        let cred = cred.expect("SCM_CREDENTIALS");
        assert_eq!(
            (cred.pid, cred.uid, cred.gid),
            (sys::getpid(), sys::getuid(), sys::getgid())
        );
    });
}
