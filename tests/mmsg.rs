//! Batches: `send_mmsg` and `recv_mmsg`. Each message of a batch has its own payload,
//! flags, address and control data; every fd the kernel hands over is owned by exactly
//! one message and closed when not taken; truncation is reported per message; the
//! kernel's stopping rules (`MSG_WAITFORONE`, a timeout, a nonblocking socket) hold.
//!
//! The tests count `/proc/self/fd`, so every one takes one lock and they run one at a
//! time.

mod target;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Message, SPACE_MAX};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{
    recv_mmsg_with_flags, send_mmsg, RecvEntry, SendEntry, UnixDatagram, UnixSeqpacket, UnixStream,
    MMSG_MAX,
};
use baremsg::{Errno, Error};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn me() -> Ucred {
    Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    }
}

/// A pipe holding `what`, write end closed: reading the read end gives `what`, then EOF.
fn pipe_holding(what: &[u8]) -> OwnedFd {
    let (r, w) = fd::pipe().unwrap();
    fd::write_all(&w, what).unwrap();
    r
}

fn read_all(f: BorrowedFd<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        let n = fd::read(f, &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A pipe whose read end is nonblocking: `read` says EAGAIN while a writer exists
/// anywhere (here or in flight), 0 once none is left.
fn watched_pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = fd::pipe().unwrap();
    fd::set_nonblocking(r.as_fd(), true).unwrap();
    (r, w)
}

fn no_writer_left(r: BorrowedFd<'_>) -> bool {
    fd::read(r, &mut [0u8; 1]) == Ok(0)
}

type Ctl = CmsgBuf<{ space_for_fds(8) + space_for_credentials() }>;

/// Three messages, each with its own control data, sent in one call and received in
/// one: the payloads, the fds (working, close-on-exec, in the message they were sent
/// with) and the credentials come back per message.
#[test]
fn a_batch_carries_fds_and_credentials_per_message() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (a, b) = UnixDatagram::pair().unwrap();
        b.set_pass_cred(true).unwrap();
        let (p0, p1, p2) = (
            pipe_holding(b"p0"),
            pipe_holding(b"p1"),
            pipe_holding(b"p2"),
        );

        let mut c0 = CmsgBuf::<{ space_for_fds(2) }>::new();
        let mut enc = c0.encoder();
        enc.push_rights(&[p0.as_fd(), p1.as_fd()]).unwrap();
        let m0 = enc.finish();
        let mut c1 = CmsgBuf::<{ space_for_fds(1) + space_for_credentials() }>::new();
        let mut enc = c1.encoder();
        enc.push_credentials(&me()).unwrap();
        enc.push_rights(&[p2.as_fd()]).unwrap();
        let m1 = enc.finish();
        let (d0, d1, d2) = (
            [IoSlice::new(b"zero")],
            [IoSlice::new(b"on"), IoSlice::new(b"e")],
            [IoSlice::new(b"two!!")],
        );
        let msgs = [
            SendEntry::new(&d0).control(&m0),
            SendEntry::new(&d1).control(&m1),
            SendEntry::new(&d2),
        ];
        assert_eq!(a.send_mmsg(&msgs).unwrap(), 3);
        // Borrowed, not consumed: the sender's fds are still its own.
        assert!(fd::is_cloexec(p0.as_fd()).is_ok() && fd::is_cloexec(p2.as_fd()).is_ok());
        drop((p0, p1, p2));

        let mut data = [[0u8; 16]; 3];
        let mut ctl = [Ctl::new(), Ctl::new(), Ctl::new()];
        let [d0, d1, d2] = &mut data;
        let mut iovs = [
            [IoSliceMut::new(d0)],
            [IoSliceMut::new(d1)],
            [IoSliceMut::new(d2)],
        ];
        let [i0, i1, i2] = &mut iovs;
        let [k0, k1, k2] = &mut ctl;
        let mut entries = [
            RecvEntry::new(i0, k0),
            RecvEntry::new(i1, k1),
            RecvEntry::new(i2, k2),
        ];
        let got = b.recv_mmsg(&mut entries, None).unwrap();
        assert_eq!(got.len(), 3);
        let mut seen = Vec::new();
        for mut m in got {
            assert!(!m.is_truncated() && !m.is_control_truncated(), "{m:?}");
            assert_eq!(m.control.credentials(), Some(me()));
            let fds: Vec<OwnedFd> = m.control.take_fds().collect();
            for f in &fds {
                assert_eq!(fd::is_cloexec(f.as_fd()), Ok(true));
            }
            let contents: Vec<Vec<u8>> = fds.iter().map(|f| read_all(f.as_fd())).collect();
            seen.push((m.index, m.data.to_vec(), m.bytes, contents));
        }
        assert_eq!(
            seen,
            [
                (0, b"zero".to_vec(), 4, vec![b"p0".to_vec(), b"p1".to_vec()]),
                (1, b"one".to_vec(), 3, vec![b"p2".to_vec()]),
                (2, b"two!!".to_vec(), 5, vec![]),
            ]
        );
    }
    assert_eq!(open_fd_count(), base, "an fd leaked");
}

/// The free functions work on any socket fd, here std's, and the address of each
/// message's sender is reported per message.
// std's `UnixDatagram` stands in for the receiving socket: with `std`, the fd types are std's.
#[cfg(feature = "std")]
#[test]
fn each_message_reports_its_own_sender_address() {
    use baremsg::unix::{recv_mmsg, UnixAddr};
    let _g = serial();
    let tag = std::process::id();
    let rx_addr = UnixAddr::from_abstract(format!("baremsg-mmsg-rx-{tag}").as_bytes()).unwrap();
    let rx = UnixDatagram::bind(&rx_addr).unwrap();
    let names: Vec<UnixAddr> = (0..2)
        .map(|i| UnixAddr::from_abstract(format!("baremsg-mmsg-tx{i}-{tag}").as_bytes()).unwrap())
        .collect();
    let txs: Vec<UnixDatagram> = names
        .iter()
        .map(|n| UnixDatagram::bind(n).unwrap())
        .collect();
    let unbound = UnixDatagram::unbound().unwrap();
    // Two messages to the receiver in one call from an unbound socket (`to`).
    let d = [IoSlice::new(b"u")];
    let n = send_mmsg(
        &unbound,
        &[
            SendEntry::new(&d).to(&rx_addr),
            SendEntry::new(&d).to(&rx_addr),
        ],
    )
    .unwrap();
    assert_eq!(n, 2);
    txs[1].send_to(b"1", &rx_addr).unwrap();
    txs[0].send_to(b"0", &rx_addr).unwrap();

    let mut data = [[0u8; 4]; 4];
    let mut froms = [UnixAddr::unnamed(); 4];
    let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
        data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = iovs
        .iter_mut()
        .zip(froms.iter_mut())
        .map(|(i, f)| RecvEntry::new(i, &mut []).from(f))
        .collect();
    let std_rx = std::os::unix::net::UnixDatagram::from(OwnedFd::from(rx));
    let got: Vec<(Vec<u8>, String)> = recv_mmsg(&std_rx, &mut entries, None)
        .unwrap()
        .map(|m| (m.data.to_vec(), m.from.unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (b"u".to_vec(), "(unnamed)".to_string()),
            (b"u".to_vec(), "(unnamed)".to_string()),
            (b"1".to_vec(), names[1].to_string()),
            (b"0".to_vec(), names[0].to_string()),
        ]
    );
}

/// In one batch: a payload longer than its buffer (`MSG_TRUNC` on that message only),
/// more fds than its control buffer holds (`MSG_CTRUNC` on that one only, the fds that
/// fit owned and working, the rest closed), and a message that fits. Nothing leaks.
#[test]
fn truncation_is_reported_per_message_and_the_fds_that_fit_are_owned() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (a, b) = UnixSeqpacket::pair().unwrap();
        let (r, w) = watched_pipe();
        let four = [w.as_fd(), w.as_fd(), w.as_fd(), w.as_fd()];
        a.send(b"much longer than eight").unwrap();
        a.send_fds(b"fds", &four).unwrap();
        a.send_fds(b"fits", &four[..1]).unwrap();
        drop(w);

        let mut data = [[0u8; 8]; 3];
        let [d0, d1, d2] = &mut data;
        let mut iovs = [
            [IoSliceMut::new(d0)],
            [IoSliceMut::new(d1)],
            [IoSliceMut::new(d2)],
        ];
        let [i0, i1, i2] = &mut iovs;
        let (mut k0, mut k1, mut k2) = (
            CmsgBuf::<{ space_for_fds(4) }>::new(),
            CmsgBuf::<{ space_for_fds(1) }>::new(),
            CmsgBuf::<{ space_for_fds(4) }>::new(),
        );
        let mut entries = [
            RecvEntry::new(i0, &mut k0),
            RecvEntry::new(i1, &mut k1),
            RecvEntry::new(i2, &mut k2),
        ];
        let mut got = b.recv_mmsg(&mut entries, None).unwrap();
        let m0 = got.next().unwrap();
        assert_eq!(
            (m0.is_truncated(), m0.is_control_truncated()),
            (true, false)
        );
        assert_eq!((m0.bytes, m0.data), (8, &b"much lon"[..]));

        let mut m1 = got.next().unwrap();
        let expect = target::short_control(4, false, space_for_fds(1));
        assert!(!m1.is_truncated());
        assert_eq!(m1.is_control_truncated(), expect.ctrunc, "{m1:?}");
        let fds: Vec<OwnedFd> = m1.control.take_fds().collect();
        assert_eq!(fds.len(), expect.fds);
        for f in &fds {
            fd::write_all(f, b"w").unwrap();
        }
        drop(m1);
        let m2 = got.next().unwrap();
        assert!(!m2.is_truncated() && !m2.is_control_truncated());
        assert_eq!(m2.data, b"fits");
        // m2's fd is not taken: dropping the message closes it.
        drop((m2, got));
        let taken: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
        // Under qemu-user the fds cut off stay open unreported (none on the kernel).
        target::close_unreported(&[r.as_fd()], &taken, expect.left_open);
        drop(fds);
        assert_eq!(fd::read(r.as_fd(), &mut [0u8; 8]), Ok(expect.fds));
        assert!(
            no_writer_left(r.as_fd()),
            "a write end is still open somewhere"
        );
    }
    assert_eq!(open_fd_count(), base, "an fd leaked");
}

/// With `MSG_TRUNC` passed, a message's `bytes` is its real length.
#[test]
fn msg_trunc_gives_each_message_its_real_length() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"0123456789").unwrap();
    a.send(b"ab").unwrap();
    let mut data = [[0u8; 4]; 2];
    let [d0, d1] = &mut data;
    let mut iovs = [[IoSliceMut::new(d0)], [IoSliceMut::new(d1)]];
    let [i0, i1] = &mut iovs;
    let mut entries = [RecvEntry::new(i0, &mut []), RecvEntry::new(i1, &mut [])];
    let flags = sys::MSG_CMSG_CLOEXEC | sys::MSG_TRUNC;
    let got: Vec<(usize, bool, Vec<u8>)> = recv_mmsg_with_flags(&b, &mut entries, flags, None)
        .unwrap()
        .map(|m| (m.bytes, m.is_truncated(), m.data.to_vec()))
        .collect();
    assert_eq!(
        got,
        [(10, true, b"0123".to_vec()), (2, false, b"ab".to_vec())]
    );
}

/// Fds in messages never handed out, and fds not taken from those that were, are closed
/// when the batch is dropped; a fd taken stays open.
#[test]
fn untaken_fds_of_every_message_are_closed_with_the_batch() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (a, b) = UnixDatagram::pair().unwrap();
        let (r, w) = watched_pipe();
        for _ in 0..4 {
            a.send_fds(b"x", &[w.as_fd(), w.as_fd(), w.as_fd()])
                .unwrap();
        }
        drop(w);
        let mut data = [[0u8; 1]; 4];
        let mut ctl = [Ctl::new(), Ctl::new(), Ctl::new(), Ctl::new()];
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
            data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
        let mut entries: Vec<RecvEntry<'_>> = iovs
            .iter_mut()
            .zip(ctl.iter_mut())
            .map(|(i, c)| RecvEntry::new(i, c))
            .collect();
        let kept;
        {
            let mut got = b.recv_mmsg(&mut entries, None).unwrap();
            assert_eq!(got.len(), 4);
            assert_eq!(open_fd_count(), base + 3 + 12);
            drop(got.next()); // message 0: three fds closed with it
            let mut m1 = got.next().unwrap();
            kept = m1.control.take_fds().next().unwrap();
            drop(m1); // two more closed
            assert_eq!(open_fd_count(), base + 3 + 1 + 6);
            // messages 2 and 3 never handed out
        }
        assert_eq!(open_fd_count(), base + 3 + 1);
        assert_eq!(fd::read(r.as_fd(), &mut [0u8; 1]), Err(Errno::EAGAIN));
        drop(kept);
        assert!(no_writer_left(r.as_fd()));

        // The entries are reusable, and a batch dropped without a look closes all.
        for _ in 0..2 {
            a.send_fds(b"y", &[r.as_fd()]).unwrap();
        }
        let flags = sys::MSG_CMSG_CLOEXEC | sys::MSG_DONTWAIT;
        let got = recv_mmsg_with_flags(&b, &mut entries, flags, None).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(open_fd_count(), base + 3 + 2);
        drop(got);
        assert_eq!(open_fd_count(), base + 3);
    }
    assert_eq!(open_fd_count(), base, "an fd leaked");
}

/// `MSG_WAITFORONE`: waits for the first message, then takes only what is queued.
#[test]
fn msg_waitforone_returns_what_is_queued_after_the_first() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair().unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        a.send_mmsg(&[
            SendEntry::new(&[IoSlice::new(b"1")]),
            SendEntry::new(&[IoSlice::new(b"2")]),
        ])
        .unwrap();
        a
    });
    let mut data = [[0u8; 2]; 8];
    let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
        data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = iovs
        .iter_mut()
        .map(|i| RecvEntry::new(i, &mut []))
        .collect();
    let flags = sys::MSG_CMSG_CLOEXEC | sys::MSG_WAITFORONE;
    let mut total = Vec::new();
    // The first call may see one message or both, as the sender's two land.
    while total.len() < 2 {
        let got = recv_mmsg_with_flags(&b, &mut entries, flags, None).unwrap();
        assert!(!got.is_empty());
        total.extend(got.map(|m| m.data.to_vec()));
    }
    assert_eq!(total, [b"1".to_vec(), b"2".to_vec()]);
    let _a = sender.join().unwrap();
    // Nothing queued and nonblocking for the rest: EAGAIN, not a wait.
    b.set_nonblocking(true).unwrap();
    let err = recv_mmsg_with_flags(&b, &mut entries, flags, None).unwrap_err();
    assert_eq!(err, Error::Os(Errno::EAGAIN));
}

/// A nonblocking socket with nothing queued is `EAGAIN`; with two queued and four
/// entries it returns the two (the kernel's `EAGAIN` on the third is not an error).
#[test]
fn a_nonblocking_batch_takes_what_is_queued_or_is_eagain() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair_nonblocking().unwrap();
    let mut data = [[0u8; 2]; 4];
    let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
        data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = iovs
        .iter_mut()
        .map(|i| RecvEntry::new(i, &mut []))
        .collect();
    assert_eq!(
        b.recv_mmsg(&mut entries, None).unwrap_err(),
        Error::Os(Errno::EAGAIN)
    );
    a.send(b"a").unwrap();
    a.send(b"b").unwrap();
    let got: Vec<Vec<u8>> = b
        .recv_mmsg(&mut entries, None)
        .unwrap()
        .map(|m| m.data.to_vec())
        .collect();
    assert_eq!(got, [b"a".to_vec(), b"b".to_vec()]);
}

/// A zero timeout has run out by the time the first message is in: the call returns
/// that one (the kernel checks the timeout after each message), and the rest stay
/// queued. A timeout also goes through the 32-bit targets' `_time64` call or its
/// fallback.
#[test]
fn a_timeout_that_ran_out_returns_after_the_first_message() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair().unwrap();
    for m in [b"1", b"2", b"3"] {
        a.send(m).unwrap();
    }
    let mut data = [[0u8; 2]; 4];
    let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
        data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = iovs
        .iter_mut()
        .map(|i| RecvEntry::new(i, &mut []))
        .collect();
    if target::under_qemu() {
        // qemu-user 7.2 ignores recvmmsg's timeout: it receives message by message
        // until the entries are full, so this call would wait for a fourth forever.
        target::qemu_note(
            "recvmmsg's timeout is ignored; the zero-timeout stop is checked natively only",
        );
        let got: Vec<Vec<u8>> = b
            .recv_mmsg(&mut entries[..1], Some(Duration::ZERO))
            .unwrap()
            .map(|m| m.data.to_vec())
            .collect();
        assert_eq!(got, [b"1".to_vec()]);
    } else {
        let got: Vec<Vec<u8>> = b
            .recv_mmsg(&mut entries, Some(Duration::ZERO))
            .unwrap()
            .map(|m| m.data.to_vec())
            .collect();
        assert_eq!(got, [b"1".to_vec()]);
    }
    // A long timeout and three entries: both queued messages, then the call waits for
    // a third only while the timeout lasts; MSG_DONTWAIT stops it at the queue's end.
    let flags = sys::MSG_CMSG_CLOEXEC | sys::MSG_DONTWAIT;
    let got: Vec<Vec<u8>> =
        recv_mmsg_with_flags(&b, &mut entries, flags, Some(Duration::from_secs(3600)))
            .unwrap()
            .map(|m| m.data.to_vec())
            .collect();
    assert_eq!(got, [b"2".to_vec(), b"3".to_vec()]);
}

/// A call hands the kernel at most `MMSG_MAX` entries; the rest wait for the next call.
#[test]
fn a_call_takes_at_most_mmsg_max_messages() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair_nonblocking().unwrap();
    let n = MMSG_MAX + 6;
    let payloads: Vec<[u8; 1]> = (0..n).map(|i| [i as u8]).collect();
    let iovs: Vec<[IoSlice<'_>; 1]> = payloads.iter().map(|p| [IoSlice::new(p)]).collect();
    let msgs: Vec<SendEntry<'_>> = iovs.iter().map(|i| SendEntry::new(i)).collect();
    assert_eq!(a.send_mmsg(&msgs).unwrap(), MMSG_MAX);
    assert_eq!(a.send_mmsg(&msgs[MMSG_MAX..]).unwrap(), 6);
    let mut data = vec![[0u8; 1]; n];
    let mut riovs: Vec<[IoSliceMut<'_>; 1]> =
        data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = riovs
        .iter_mut()
        .map(|i| RecvEntry::new(i, &mut []))
        .collect();
    let first: Vec<u8> = b
        .recv_mmsg(&mut entries, None)
        .unwrap()
        .map(|m| m.data[0])
        .collect();
    assert_eq!(first, (0..MMSG_MAX as u8).collect::<Vec<_>>());
    let rest: Vec<u8> = b
        .recv_mmsg(&mut entries, None)
        .unwrap()
        .map(|m| m.data[0])
        .collect();
    assert_eq!(rest, (MMSG_MAX as u8..n as u8).collect::<Vec<_>>());
}

/// On a full nonblocking socket a batch goes in part, or not at all (`EAGAIN`), and
/// the fds of the messages that did not go stay with the sender only.
#[test]
fn a_batch_into_a_full_socket_goes_in_part_and_then_is_eagain() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair_nonblocking().unwrap();
    let (r, w) = watched_pipe();
    let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = ctl.encoder();
    enc.push_rights(&[w.as_fd()]).unwrap();
    let rights = enc.finish();
    let big = [0u8; 4096];
    let d = [IoSlice::new(&big)];
    let msgs: Vec<SendEntry<'_>> = (0..MMSG_MAX)
        .map(|_| SendEntry::new(&d).control(&rights))
        .collect();
    let mut sent = 0;
    loop {
        match a.send_mmsg(&msgs) {
            Ok(n) => {
                assert!((1..=MMSG_MAX).contains(&n));
                sent += n;
            }
            Err(e) => {
                assert_eq!(e, Error::Os(Errno::EAGAIN));
                break;
            }
        }
        assert!(sent < 100_000, "the socket never filled");
    }
    drop(w);
    // Every message that went holds a write end; drain them all, closing each.
    let mut buf = [0u8; 4096];
    let mut received = 0;
    while let Ok(got) = b.recv_fds(&mut buf, &mut [None]) {
        assert_eq!(got.fds, 1);
        received += 1;
    }
    assert_eq!(received, sent);
    assert!(no_writer_left(r.as_fd()));
}

/// Checks made before the syscall refuse the whole batch, and nothing is sent or
/// consumed.
#[test]
fn bad_entries_are_refused_before_the_syscall() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair_nonblocking().unwrap();
    a.send(b"q").unwrap();
    // A misaligned control buffer.
    let mut ctl = CmsgBuf::<{ space_for_fds(2) }>::new();
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut entries = [RecvEntry::new(&mut iov, &mut ctl[1..])];
    assert_eq!(
        b.recv_mmsg(&mut entries, None).unwrap_err(),
        Error::ControlBufferMisaligned
    );
    // More than 1024 buffers.
    let mut bytes = vec![0u8; 1025];
    let mut many: Vec<IoSliceMut<'_>> = bytes.chunks_mut(1).map(IoSliceMut::new).collect();
    let mut entries = [RecvEntry::new(&mut many, &mut [])];
    assert_eq!(
        b.recv_mmsg(&mut entries, None).unwrap_err(),
        Error::TooManyBuffers
    );
    let out = vec![IoSlice::new(b""); 1025];
    assert_eq!(
        a.send_mmsg(&[SendEntry::new(&out)]).unwrap_err(),
        Error::TooManyBuffers
    );
    // The datagram is still there.
    let mut buf = [0u8; 2];
    assert_eq!(b.recv(&mut buf), Ok(1));

    // Control data with an empty payload on a stream: the Socket knows its kind; a
    // bare fd is asked (SO_TYPE); the message before it does not go either.
    let (s, t) = UnixStream::pair_nonblocking().unwrap();
    let (r, _w) = fd::pipe().unwrap();
    let mut c = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = c.encoder();
    enc.push_rights(&[r.as_fd()]).unwrap();
    let rights = enc.finish();
    let full = [IoSlice::new(b"p")];
    let msgs = [SendEntry::new(&full), SendEntry::new(&[]).control(&rights)];
    assert_eq!(
        s.send_mmsg(&msgs).unwrap_err(),
        Error::ControlWithoutPayload
    );
    assert_eq!(
        send_mmsg(s.as_fd(), &msgs).unwrap_err(),
        Error::ControlWithoutPayload
    );
    assert_eq!(t.recv(&mut buf), Err(Error::Os(Errno::EAGAIN)));
    // On a datagram socket the same is allowed: the fd travels with an empty payload.
    assert_eq!(send_mmsg(a.as_fd(), &msgs[1..]).unwrap(), 1);
    let mut slot = [None];
    let got = b.recv_fds(&mut buf, &mut slot).unwrap();
    assert_eq!((got.bytes, got.fds), (0, 1));
}

/// Messages with no buffers at all (an empty iovec is passed instead: qemu-user would
/// not make the call) still carry their control data both ways.
#[test]
fn messages_without_buffers_carry_their_fds() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (a, b) = UnixSeqpacket::pair().unwrap();
        let r = pipe_holding(b"empty");
        let mut c = CmsgBuf::<{ space_for_fds(1) }>::new();
        let mut enc = c.encoder();
        enc.push_rights(&[r.as_fd()]).unwrap();
        let rights = enc.finish();
        assert_eq!(
            a.send_mmsg(&[SendEntry::new(&[]).control(&rights)])
                .unwrap(),
            1
        );
        drop(r);
        let mut k = CmsgBuf::<{ space_for_fds(1) }>::new();
        let mut entries = [RecvEntry::new(&mut [], &mut k)];
        let mut got = b.recv_mmsg(&mut entries, None).unwrap();
        let mut m = got.next().unwrap();
        assert_eq!((m.bytes, m.data), (0, &[][..]));
        let f = m.control.take_fds().next().unwrap();
        assert_eq!(read_all(f.as_fd()), b"empty");
    }
    assert_eq!(open_fd_count(), base);
}

// ---------------------------------------------------------------------------------------
// A raw peer: libc's sendmmsg, control data built by hand
// ---------------------------------------------------------------------------------------

/// Control data as a C peer lays it out: `(level, type, data)` messages, CMSG_SPACE each.
fn raw_control(msgs: &[(i32, i32, Vec<u8>)]) -> Vec<u64> {
    let mut out: Vec<u8> = Vec::new();
    for (level, ty, data) in msgs {
        // SAFETY: CMSG_LEN and CMSG_SPACE are arithmetic.
        let (len, space) = unsafe {
            (
                libc::CMSG_LEN(data.len() as u32) as usize,
                libc::CMSG_SPACE(data.len() as u32) as usize,
            )
        };
        let start = out.len();
        out.resize(start + space, 0);
        let hdr = libc::cmsghdr {
            cmsg_len: len as _,
            cmsg_level: *level,
            cmsg_type: *ty,
        };
        // SAFETY: the header fits at `start` (CMSG_SPACE >= its size); unaligned write.
        unsafe { std::ptr::write_unaligned(out[start..].as_mut_ptr().cast(), hdr) };
        let hlen = len - data.len();
        out[start + hlen..start + len].copy_from_slice(data);
    }
    let mut words = vec![0u64; out.len().div_ceil(8)];
    // SAFETY: `words` holds at least `out.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), words.as_mut_ptr().cast(), out.len()) };
    words.truncate(out.len().div_ceil(8));
    words.push(out.len() as u64); // the length, read back by `raw_send`
    words
}

fn fd_bytes(fds: &[BorrowedFd<'_>]) -> Vec<u8> {
    fds.iter()
        .flat_map(|f| f.as_raw_fd().to_ne_bytes())
        .collect()
}

/// Sends `msgs` (payload, control) with libc's `sendmmsg` in one call.
fn raw_send(sock: BorrowedFd<'_>, msgs: &mut [(Vec<u8>, Vec<u64>)]) -> usize {
    let mut iovs: Vec<libc::iovec> = msgs
        .iter_mut()
        .map(|(p, _)| libc::iovec {
            iov_base: p.as_mut_ptr().cast(),
            iov_len: p.len(),
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = msgs
        .iter_mut()
        .zip(iovs.iter_mut())
        .map(|((_, c), iov)| {
            let len = c.pop().unwrap() as usize;
            // SAFETY: all-zero is a valid mmsghdr.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            if len > 0 {
                h.msg_hdr.msg_control = c.as_mut_ptr().cast();
                h.msg_hdr.msg_controllen = len as _;
            }
            h
        })
        .collect();
    // SAFETY: every pointer is valid for the call.
    let n = unsafe {
        libc::sendmmsg(
            sock.as_raw_fd(),
            hdrs.as_mut_ptr(),
            hdrs.len() as _,
            libc::MSG_NOSIGNAL,
        )
    };
    assert!(n >= 0, "sendmmsg: {}", std::io::Error::last_os_error());
    n as usize
}

/// A raw peer sends, in one batch: 253 fds in one message (into a receiver's small
/// control buffer), two `SCM_RIGHTS` messages in one (the kernel merges them), fds
/// with credentials in either order, fds with an empty payload. Each message gets
/// what the kernel delivers, per message, and every fd ends up owned: nothing leaks.
#[test]
fn a_raw_peers_batch_of_odd_control_data_is_owned_message_by_message() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (a, b) = UnixSeqpacket::pair().unwrap();
        b.set_pass_cred(true).unwrap();
        let (r, w) = watched_pipe();
        let wf = w.as_fd();
        let cred: Vec<u8> = [me().pid as u32, me().uid, me().gid]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        let (sol, rights, creds) = (libc::SOL_SOCKET, libc::SCM_RIGHTS, libc::SCM_CREDENTIALS);
        let mut msgs = vec![
            (
                b"many".to_vec(),
                raw_control(&[(sol, rights, fd_bytes(&[wf; 253]))]),
            ),
            (
                b"two".to_vec(),
                raw_control(&[
                    (sol, rights, fd_bytes(&[wf, wf])),
                    (sol, rights, fd_bytes(&[wf])),
                ]),
            ),
            (
                b"cr".to_vec(),
                raw_control(&[(sol, creds, cred.clone()), (sol, rights, fd_bytes(&[wf]))]),
            ),
            (
                Vec::new(),
                raw_control(&[(sol, rights, fd_bytes(&[wf, wf]))]),
            ),
        ];
        assert_eq!(raw_send(a.as_fd(), &mut msgs), 4);
        drop(w);

        let mut data = [[0u8; 8]; 4];
        let [d0, d1, d2, d3] = &mut data;
        let mut iovs = [
            [IoSliceMut::new(d0)],
            [IoSliceMut::new(d1)],
            [IoSliceMut::new(d2)],
            [IoSliceMut::new(d3)],
        ];
        let [i0, i1, i2, i3] = &mut iovs;
        let short = space_for_credentials() + space_for_fds(3);
        let mut k0 = Ctl::new(); // room for 8 fds of 253
        let mut k1 = CmsgBuf::<SPACE_MAX>::new();
        let mut k2 = CmsgBuf::<SPACE_MAX>::new();
        let mut k3 = CmsgBuf::<SPACE_MAX>::new();
        let mut entries = [
            RecvEntry::new(i0, &mut k0[..short]),
            RecvEntry::new(i1, &mut k1),
            RecvEntry::new(i2, &mut k2),
            RecvEntry::new(i3, &mut k3),
        ];
        let expect0 = target::short_control(253, true, short);
        let mut got = b.recv_mmsg(&mut entries, None).unwrap();
        let mut shapes = Vec::new();
        let mut m0 = got.next().unwrap();
        assert_eq!(m0.is_control_truncated(), expect0.ctrunc);
        let n0 = m0.control.take_fds().count();
        assert_eq!(n0, expect0.fds);
        drop(m0);
        for mut m in got {
            let mut fds = 0;
            let mut cred_seen = false;
            for msg in m.control.messages() {
                match msg.unwrap() {
                    Message::Rights(r) => fds += r.count(),
                    Message::Credentials(c) => cred_seen = c == me(),
                    other => panic!("unexpected {other:?}"),
                }
            }
            shapes.push((m.data.to_vec(), fds, cred_seen, m.is_control_truncated()));
        }
        assert_eq!(
            shapes,
            [
                (b"two".to_vec(), 3, true, false),
                (b"cr".to_vec(), 1, true, false),
                (Vec::new(), 2, true, false),
            ]
        );
        // Under qemu-user the fds cut off stay open unreported (none on the kernel).
        target::close_unreported(&[r.as_fd()], &[], expect0.left_open);
        assert!(
            no_writer_left(r.as_fd()),
            "a write end is still open somewhere"
        );
    }
    assert_eq!(open_fd_count(), base, "an fd leaked");
}

/// libc's `recvmmsg` reads what baremsg's `send_mmsg` sent: the same layout per message.
#[test]
fn a_raw_receiver_reads_baremsgs_batch() {
    let _g = serial();
    let (a, b) = UnixDatagram::pair().unwrap();
    b.set_pass_cred(true).unwrap();
    let (p0, p1) = (pipe_holding(b"first"), pipe_holding(b"second"));
    let (mut c0, mut c1) = (
        CmsgBuf::<{ space_for_fds(1) }>::new(),
        CmsgBuf::<{ space_for_fds(1) + space_for_credentials() }>::new(),
    );
    let mut enc = c0.encoder();
    enc.push_rights(&[p0.as_fd()]).unwrap();
    let m0 = enc.finish();
    let mut enc = c1.encoder();
    enc.push_rights(&[p1.as_fd()]).unwrap();
    enc.push_credentials(&me()).unwrap();
    let m1 = enc.finish();
    let (d0, d1) = ([IoSlice::new(b"A")], [IoSlice::new(b"BB")]);
    assert_eq!(
        send_mmsg(
            &a,
            &[
                SendEntry::new(&d0).control(&m0),
                SendEntry::new(&d1).control(&m1)
            ]
        )
        .unwrap(),
        2
    );
    drop((p0, p1));
    let mut bufs = [[0u8; 4]; 2];
    let mut ctls = [[0u64; 8]; 2];
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: 4,
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .zip(ctls.iter_mut())
        .map(|(iov, c)| {
            // SAFETY: all-zero is a valid mmsghdr.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = c.as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = 64;
            h
        })
        .collect();
    // SAFETY: every pointer is valid for the call; the fds received are read below and
    // then owned.
    let n = unsafe {
        libc::recvmmsg(
            b.as_raw_fd(),
            hdrs.as_mut_ptr(),
            2,
            libc::MSG_CMSG_CLOEXEC,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(n, 2);
    let mut seen = Vec::new();
    for (i, h) in hdrs.iter().enumerate() {
        let mut contents = Vec::new();
        // SAFETY: the kernel filled the control buffer; glibc's macros walk it.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
            while !c.is_null() {
                if (*c).cmsg_type == libc::SCM_RIGHTS {
                    let fd: i32 = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    let owned = <OwnedFd as baremsg::fd::FromRawFd>::from_raw_fd(fd);
                    contents.push(read_all(owned.as_fd()));
                } else {
                    contents.push(b"cred".to_vec());
                }
                c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
            }
        }
        seen.push((bufs[i][..h.msg_len as usize].to_vec(), contents));
    }
    assert_eq!(
        seen,
        [
            // SO_PASSCRED: the kernel's credentials come first in each.
            (b"A".to_vec(), vec![b"cred".to_vec(), b"first".to_vec()]),
            (b"BB".to_vec(), vec![b"cred".to_vec(), b"second".to_vec()]),
        ]
    );
}
