//! Peers that misbehave: close mid-message, close or die before the receiver reads,
//! send into a full socket, send credentials they do not own, or pass 253 fds to a
//! receiver whose fd limit has room for 10. Each test asserts what the kernel does and
//! that no fd is lost or leaked.
//!
//! The tests count `/proc/self/fd`, so they take one lock and run one at a time; the
//! fd-limit and dead-peer cases run in forked children (single-threaded, raw syscalls
//! and baremsg's allocation-free calls only, a distinct exit code per failed check).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, SPACE_MAX};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, raw, Rlimit, Ucred};
use baremsg::unix::{Socket, SocketKind, UnixDatagram, UnixSeqpacket, UnixStream};
use baremsg::{Errno, Error};

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time: fd counts are per process.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Entries in `/proc/self/fd` (the listing's own fd included, the same each time).
fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Reads whatever `fd` holds now (it must be nonblocking or hold something).
fn read_some(fd: BorrowedFd<'_>) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = fd::read(fd, &mut buf).expect("read");
    buf[..n].to_vec()
}

/// Whether `fd` is open.
fn is_open(fd: BorrowedFd<'_>) -> bool {
    baremsg::fd::is_cloexec(fd).is_ok()
}

/// A pipe whose read end is nonblocking: `read` says EAGAIN while a writer exists
/// anywhere (here or in flight), 0 once none is left.
fn watched_pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = fd::pipe().unwrap();
    baremsg::fd::set_nonblocking(r.as_fd(), true).unwrap();
    (r, w)
}

fn no_writer_left(r: BorrowedFd<'_>) -> bool {
    fd::read(r, &mut [0u8; 1]) == Ok(0)
}

// ---------------------------------------------------------------------------------------
// Closing early
// ---------------------------------------------------------------------------------------

/// A stream peer sends part of a 16-byte record (the first bytes with an fd), then
/// closes. The receiver gets the bytes it sent, the fd, then end of file, again and
/// again; nothing is left open.
#[test]
fn a_stream_peer_closing_mid_message_gives_the_partial_bytes_then_end_of_file() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let (r, w) = fd::pipe().unwrap();
        tx.send_fds(b"par", &[r.as_fd()]).unwrap();
        tx.send(b"tial").unwrap();
        drop((tx, r));

        let mut record = [0u8; 16];
        let mut control = CmsgBuf::<{ space_for_fds(1) }>::new();
        let mut got = rx
            .recv_msg(&mut [IoSliceMut::new(&mut record)], &mut control)
            .unwrap();
        // The kernel ends a stream read after the segment that carried fds: the fds
        // arrive with exactly the bytes they were sent with.
        assert_eq!(got.bytes, 3);
        let fds: Vec<OwnedFd> = got.control.take_fds().collect();
        drop(got);
        assert_eq!(&record[..3], b"par");
        assert_eq!(fds.len(), 1);
        fd::write_all(w.as_fd(), b"through").unwrap();
        assert_eq!(read_some(fds[0].as_fd()), b"through");

        let got = rx
            .recv_msg(&mut [IoSliceMut::new(&mut record)], &mut control)
            .unwrap();
        assert_eq!(got.bytes, 4);
        assert!(got.control.is_empty());
        drop(got);
        assert_eq!(&record[..4], b"tial");
        for _ in 0..3 {
            let got = rx
                .recv_msg(&mut [IoSliceMut::new(&mut record)], &mut control)
                .unwrap();
            assert_eq!(got.bytes, 0, "end of file");
            assert!(!got.is_truncated() && !got.is_control_truncated());
            assert!(got.control.is_empty());
        }
        assert_eq!(rx.recv(&mut record), Ok(0));
    }
    assert_eq!(open_fd_count(), base);
}

/// The same with `shutdown(Write)` in place of a close: the peer still exists, but the
/// receiver sees end of file after the partial record.
#[test]
fn a_stream_peer_shutting_down_mid_message_gives_the_partial_bytes_then_end_of_file() {
    let _g = serial();
    let (tx, rx) = UnixStream::pair().unwrap();
    tx.send(b"half").unwrap();
    tx.shutdown(baremsg::unix::Shutdown::Write).unwrap();
    let mut record = [0u8; 16];
    assert_eq!(rx.recv(&mut record), Ok(4));
    assert_eq!(&record[..4], b"half");
    assert_eq!(rx.recv(&mut record), Ok(0));
    // The other direction still works.
    rx.send(b"back").unwrap();
    assert_eq!(tx.recv(&mut record), Ok(4));
    assert_eq!(
        tx.send(b"more"),
        Err(Error::Os(Errno::EPIPE)),
        "sending after shutdown(Write)"
    );
}

/// Fds sent just before the sender closes still arrive, owned and working, on every
/// kind of socket; then the stream and seqpacket receivers see end of file, and the
/// datagram receiver just finds nothing (a datagram socket has no end of file).
#[test]
fn fds_sent_before_the_peer_closes_arrive_owned_and_working() {
    let _g = serial();
    fn case<K: SocketKind>(eof: Result<usize, Error>) {
        let base = open_fd_count();
        {
            let (tx, rx) = Socket::<K>::pair().unwrap();
            rx.set_nonblocking(true).unwrap();
            let (r1, w1) = watched_pipe();
            let (r2, w2) = watched_pipe();
            tx.send_fds(b"last words", &[w1.as_fd(), w2.as_fd()])
                .unwrap();
            drop((tx, w1, w2)); // the write ends are now only in flight
            assert_eq!(open_fd_count(), base + 3);
            assert!(!no_writer_left(r1.as_fd()), "the fd in flight is a writer");

            let mut buf = [0u8; 16];
            let mut slots = [None, None];
            let got = rx.recv_fds(&mut buf, &mut slots).unwrap();
            assert_eq!((got.bytes, got.fds), (10, 2), "{}", K::NAME);
            assert!(!got.control_truncated);
            assert_eq!(open_fd_count(), base + 5);
            let [a, b] = slots.map(Option::unwrap);
            assert!(baremsg::fd::is_cloexec(a.as_fd()).unwrap());
            fd::write_all(a.as_fd(), b"one").unwrap();
            fd::write_all(b.as_fd(), b"two").unwrap();
            assert_eq!(read_some(r1.as_fd()), b"one");
            assert_eq!(read_some(r2.as_fd()), b"two");
            assert_eq!(rx.recv(&mut buf), eof, "{} after the peer closed", K::NAME);
            drop((a, b));
            assert!(no_writer_left(r1.as_fd()) && no_writer_left(r2.as_fd()));
        }
        assert_eq!(open_fd_count(), base, "{}", K::NAME);
    }
    case::<baremsg::unix::Stream>(Ok(0));
    case::<baremsg::unix::Seqpacket>(Ok(0));
    case::<baremsg::unix::Datagram>(Err(Error::Os(Errno::EAGAIN)));
}

/// Fds queued for a receiver that closes without reading are dropped by the kernel with
/// the queue: no process holds them any more.
#[test]
fn fds_queued_to_a_receiver_that_closes_unread_are_released_by_the_kernel() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (r, w) = watched_pipe();
        let (tx, rx) = UnixSeqpacket::pair().unwrap();
        for _ in 0..5 {
            tx.send_fds(b"x", &[w.as_fd(), w.as_fd()]).unwrap();
        }
        drop(w);
        assert!(!no_writer_left(r.as_fd()), "ten copies in flight");
        drop(rx);
        assert!(
            no_writer_left(r.as_fd()),
            "released with the receiver's queue"
        );
        // The sender learns that the peer went away with data unread: ECONNRESET
        // (unix_release_sock sets it on the peer), then EPIPE.
        assert_eq!(tx.send(b"y"), Err(Error::Os(Errno::ECONNRESET)));
        assert_eq!(tx.send(b"y"), Err(Error::Os(Errno::EPIPE)));
    }
    assert_eq!(open_fd_count(), base);
}

/// A peer process sends an fd and exits before the receiver reads: the fd arrives
/// (the kernel holds it, not the dead process), carries what the peer wrote into it,
/// and then end of file, since the peer's copy of the write end died with it.
#[test]
fn fds_from_a_peer_process_that_exited_still_arrive() {
    let _g = serial();
    let base = open_fd_count();
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let c = in_child(|| {
            let (r, w) = or(fd::pipe(), 1)?;
            or(fd::write_all(w.as_fd(), b"from the child"), 2)?;
            ensure(tx.send_fds(b"x", &[r.as_fd()]) == Ok(1), 3)
            // exit_group closes r and w; r lives on in flight.
        });
        assert_eq!(c, 0, "child failed at step {c}");
        drop(tx);
        let mut buf = [0u8; 4];
        let mut slot = [None];
        let got = rx.recv_fds(&mut buf, &mut slot).unwrap();
        assert_eq!((got.bytes, got.fds), (1, 1));
        let r = slot[0].take().unwrap();
        assert_eq!(read_some(r.as_fd()), b"from the child");
        assert_eq!(read_some(r.as_fd()), b"", "end of file: no writer left");
        assert_eq!(rx.recv(&mut buf), Ok(0), "every sender is gone");
    }
    assert_eq!(open_fd_count(), base);
}

// ---------------------------------------------------------------------------------------
// Full sockets
// ---------------------------------------------------------------------------------------

/// Fills `tx` (nonblocking) until EAGAIN; returns the bytes sent.
fn fill<K: SocketKind>(tx: &Socket<K>) -> usize {
    tx.set_nonblocking(true).unwrap();
    let chunk = [7u8; 1024];
    let mut sent = 0;
    loop {
        match tx.send(&chunk) {
            Ok(n) => sent += n,
            Err(Error::Os(Errno::EAGAIN)) => return sent,
            Err(e) => panic!("filling: {e}"),
        }
        assert!(sent < 64 << 20, "the socket never filled");
    }
}

/// Sending fds into a full socket (nonblocking) is EAGAIN; the fds stay open in the
/// sender and work, none of them ever reaches the receiver, and nothing leaks.
#[test]
fn sending_fds_to_a_full_socket_is_eagain_and_they_stay_with_the_sender() {
    let _g = serial();
    fn case<K: SocketKind>() {
        let base = open_fd_count();
        {
            let (tx, rx) = Socket::<K>::pair().unwrap();
            let filled = fill(&tx);
            let (r, w) = watched_pipe();
            let before = open_fd_count();
            for _ in 0..3 {
                assert_eq!(
                    tx.send_fds(b"x", &[r.as_fd(), w.as_fd()]),
                    Err(Error::Os(Errno::EAGAIN)),
                    "{}",
                    K::NAME
                );
            }
            assert_eq!(open_fd_count(), before);
            assert!(is_open(r.as_fd()) && is_open(w.as_fd()));
            fd::write_all(w.as_fd(), b"mine").unwrap();
            assert_eq!(read_some(r.as_fd()), b"mine");

            // Everything queued is the filler, with no control data.
            rx.set_nonblocking(true).unwrap();
            let mut drained = 0;
            let mut buf = [0u8; 1024];
            let mut control = CmsgBuf::<{ space_for_fds(2) }>::new();
            loop {
                match rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control) {
                    Ok(got) => {
                        assert!(got.control.is_empty(), "{}: fds arrived", K::NAME);
                        assert!(got.bytes > 0);
                        drained += got.bytes;
                    }
                    Err(Error::Os(Errno::EAGAIN)) => break,
                    Err(e) => panic!("draining: {e}"),
                }
            }
            assert_eq!(drained, filled, "{}", K::NAME);
            // Room again: the same send goes through.
            assert_eq!(tx.send_fds(b"x", &[r.as_fd(), w.as_fd()]), Ok(1));
            let mut slots = [None, None];
            let got = rx.recv_fds(&mut buf, &mut slots).unwrap();
            assert_eq!(got.fds, 2);
        }
        assert_eq!(open_fd_count(), base, "{}", K::NAME);
    }
    case::<baremsg::unix::Stream>();
    case::<baremsg::unix::Seqpacket>();
    case::<baremsg::unix::Datagram>();
}

/// A blocking send into a full socket with a send timeout ends in EAGAIN after the
/// timeout, the fds again with the sender.
#[test]
fn a_send_timeout_on_a_full_socket_is_eagain_and_the_fds_stay_with_the_sender() {
    let _g = serial();
    let (tx, _rx) = UnixStream::pair().unwrap();
    fill(&tx);
    tx.set_nonblocking(false).unwrap();
    tx.set_write_timeout(Some(Duration::from_millis(30)))
        .unwrap();
    let (r, w) = watched_pipe();
    let before = open_fd_count();
    let t0 = Instant::now();
    assert_eq!(
        tx.send_fds(b"x", &[r.as_fd()]),
        Err(Error::Os(Errno::EAGAIN))
    );
    assert!(t0.elapsed() >= Duration::from_millis(20), "it waited");
    assert_eq!(open_fd_count(), before);
    fd::write_all(w.as_fd(), b"ok").unwrap();
    assert_eq!(read_some(r.as_fd()), b"ok");
}

// ---------------------------------------------------------------------------------------
// Credentials the sender does not own
// ---------------------------------------------------------------------------------------

/// The effective capability set, from /proc/self/status.
fn cap_eff() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    u64::from_str_radix(line[7..].trim(), 16).unwrap()
}

/// Whether `id` is mapped in this user namespace (`/proc/self/uid_map` or `gid_map`):
/// an unmapped id is invalid here, which the kernel answers with EINVAL.
fn mapped(id: u32, map: &str) -> bool {
    let text = std::fs::read_to_string(format!("/proc/self/{map}")).unwrap();
    text.lines().any(|l| {
        let f: Vec<u64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
        (f[0]..f[0] + f[2]).contains(&(id as u64))
    })
}

/// What forging `id` gets: EINVAL if it is not mapped here, else `if_mapped`.
fn forged(id: u32, map: &str, if_mapped: Result<(), Errno>) -> Result<(), Errno> {
    if mapped(id, map) {
        if_mapped
    } else {
        Err(Errno::EINVAL)
    }
}

const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;
const CAP_SYS_ADMIN: u32 = 21;

fn send_creds(tx: &UnixDatagram, c: &Ucred) -> Result<usize, Error> {
    let mut cbuf = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = cbuf.encoder();
    enc.push_credentials(c)?;
    tx.send_msg(&[IoSlice::new(b"c")], &enc.finish())
}

/// A pid that certainly names a live process other than this one, and its guard.
struct OtherProcess {
    pid: i32,
}

impl OtherProcess {
    fn spawn() -> Self {
        // SAFETY: the child only blocks in pause() until killed.
        let pid = match unsafe { sys::fork() }.unwrap() {
            0 => loop {
                // SAFETY: pause takes no arguments.
                unsafe { libc::pause() };
            },
            pid => pid,
        };
        Self { pid }
    }
}

impl Drop for OtherProcess {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: our own child.
        unsafe {
            let _ = sys::kill(self.pid, sys::SIGKILL);
            let _ = sys::wait4(self.pid, &mut status, 0);
        }
    }
}

/// What the kernel does with each forged field (net/core/scm.c, `scm_check_creds` and
/// `__scm_send`): an invalid uid or gid is EINVAL for anyone; another pid needs
/// CAP_SYS_ADMIN, another uid CAP_SETUID, another gid CAP_SETGID, or EPERM; a pid with
/// no process behind it that passes that check is ESRCH. What is accepted arrives as
/// sent. This process's capabilities decide the expected answers: as root (with them),
/// the forged uid, gid and pid go through and the receiver sees them; the
/// unprivileged answers are pinned down by the next test, which drops them.
#[test]
fn credentials_the_sender_does_not_own_follow_the_kernels_capability_rules() {
    let _g = serial();
    let caps = cap_eff();
    let has = |cap: u32| caps & (1 << cap) != 0;
    let other = OtherProcess::spawn();
    let (tx, rx) = UnixDatagram::pair().unwrap();
    rx.set_pass_cred(true).unwrap();
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let no_such_pid = 0x3fff_fff0; // above pid_max's ceiling (4 Mi)
    let cases = [
        ("own", me, Ok(())),
        (
            "other uid",
            Ucred {
                uid: me.uid ^ 1,
                ..me
            },
            forged(
                me.uid ^ 1,
                "uid_map",
                if has(CAP_SETUID) {
                    Ok(())
                } else {
                    Err(Errno::EPERM)
                },
            ),
        ),
        (
            "other gid",
            Ucred {
                gid: me.gid ^ 1,
                ..me
            },
            forged(
                me.gid ^ 1,
                "gid_map",
                if has(CAP_SETGID) {
                    Ok(())
                } else {
                    Err(Errno::EPERM)
                },
            ),
        ),
        (
            "other pid",
            Ucred {
                pid: other.pid,
                ..me
            },
            if has(CAP_SYS_ADMIN) {
                Ok(())
            } else {
                Err(Errno::EPERM)
            },
        ),
        (
            "pid 0",
            Ucred { pid: 0, ..me },
            if has(CAP_SYS_ADMIN) {
                Err(Errno::ESRCH)
            } else {
                Err(Errno::EPERM)
            },
        ),
        (
            "no such pid",
            Ucred {
                pid: no_such_pid,
                ..me
            },
            if has(CAP_SYS_ADMIN) {
                Err(Errno::ESRCH)
            } else {
                Err(Errno::EPERM)
            },
        ),
        (
            "invalid uid",
            Ucred {
                uid: u32::MAX,
                ..me
            },
            Err(Errno::EINVAL),
        ),
        (
            "invalid gid",
            Ucred {
                gid: u32::MAX,
                ..me
            },
            Err(Errno::EINVAL),
        ),
    ];
    for (what, cred, want) in cases {
        let res = send_creds(&tx, &cred);
        match want {
            Ok(()) => {
                assert_eq!(res, Ok(1), "{what}: {cred:?} (CapEff {caps:#x})");
                let mut buf = [0u8; 4];
                let mut control = CmsgBuf::<{ space_for_credentials() }>::new();
                let mut got = rx
                    .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
                    .unwrap();
                assert_eq!(
                    got.control.credentials(),
                    Some(cred),
                    "{what}: arrives as sent"
                );
            }
            Err(e) => assert_eq!(
                res,
                Err(Error::Os(e)),
                "{what}: {cred:?} (CapEff {caps:#x})"
            ),
        }
    }
    rx.set_nonblocking(true).unwrap();
    assert_eq!(
        rx.recv(&mut [0u8; 4]),
        Err(Error::Os(Errno::EAGAIN)),
        "nothing refused arrived"
    );
}

/// `capset`, which baremsg does not wrap: libc's number for the target.
const SYS_CAPSET: usize = libc::SYS_capset as usize;

/// In a child that drops every capability (`capset`, raw), forged credentials are
/// refused with EPERM whatever the uid, root included: the unprivileged rules.
#[test]
fn without_capabilities_forged_credentials_are_eperm_even_for_root() {
    let _g = serial();
    let other = OtherProcess::spawn();
    let (tx, rx) = UnixDatagram::pair().unwrap();
    rx.set_pass_cred(true).unwrap();
    let other_pid = other.pid;
    let to_errors = |r: Result<(), Errno>| r.map(|()| 1usize).map_err(Error::Os);
    let other_uid = to_errors(forged(sys::getuid() ^ 1, "uid_map", Err(Errno::EPERM)));
    let other_gid = to_errors(forged(sys::getgid() ^ 1, "gid_map", Err(Errno::EPERM)));
    let c = in_child(move || {
        // struct __user_cap_header_struct { u32 version; int pid; } and two
        // struct __user_cap_data_struct { u32 effective, permitted, inheritable; }.
        let header: [u32; 2] = [0x2008_0522, 0]; // _LINUX_CAPABILITY_VERSION_3, this process
        let data = [0u32; 6];
        // SAFETY: both pointers are valid for what capset reads.
        let r =
            unsafe { raw::syscall2(SYS_CAPSET, header.as_ptr() as usize, data.as_ptr() as usize) };
        ensure(r == 0, 1)?;
        let me = Ucred {
            pid: sys::getpid(),
            uid: sys::getuid(),
            gid: sys::getgid(),
        };
        ensure(send_creds(&tx, &me) == Ok(1), 2)?;
        let eperm = Err(Error::Os(Errno::EPERM));
        ensure(
            send_creds(
                &tx,
                &Ucred {
                    uid: me.uid ^ 1,
                    ..me
                },
            ) == other_uid,
            3,
        )?;
        ensure(
            send_creds(
                &tx,
                &Ucred {
                    gid: me.gid ^ 1,
                    ..me
                },
            ) == other_gid,
            4,
        )?;
        ensure(
            send_creds(
                &tx,
                &Ucred {
                    pid: other_pid,
                    ..me
                },
            ) == eperm,
            5,
        )?;
        ensure(
            send_creds(
                &tx,
                &Ucred {
                    pid: 0x3fff_fff0,
                    ..me
                },
            ) == eperm,
            6,
        )?;
        let einval = Err(Error::Os(Errno::EINVAL));
        ensure(
            send_creds(
                &tx,
                &Ucred {
                    uid: u32::MAX,
                    ..me
                },
            ) == einval,
            7,
        )
    });
    assert_eq!(c, 0, "child failed at check {c}");
    // Only the child's own credentials arrived.
    rx.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4];
    let mut control = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut got = rx
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
        .unwrap();
    let cred = got.control.credentials().unwrap();
    assert_eq!((cred.uid, cred.gid), (sys::getuid(), sys::getgid()));
    assert_ne!(cred.pid, sys::getpid(), "the child's pid");
    drop(got);
    assert_eq!(rx.recv(&mut buf), Err(Error::Os(Errno::EAGAIN)));
}

// ---------------------------------------------------------------------------------------
// More fds than the receiver may open
// ---------------------------------------------------------------------------------------

/// In a child: 253 copies of a pipe's write end travel to a socket whose process then
/// lowers its soft RLIMIT_NOFILE to `limit`. What the kernel does (Linux 6.x, both
/// x86_64 and i386): `recvmsg` succeeds, sets MSG_CTRUNC, and installs fds into the
/// free numbers below the limit until EMFILE stops it; the rest are dropped with the
/// message. Checked: the count of fds that arrived equals the free numbers, each works,
/// the open-fd count is back where it was afterwards, and once they are closed the
/// pipe has no writer left anywhere (the kernel closed what it could not install).
/// Returns 0 or the failed check.
fn fd_limit_case(limit: Option<u64>) -> Result<(), i32> {
    let (tx, rx) = or(UnixDatagram::pair(), 10)?;
    let (r, w) = or(fd::pipe(), 11)?;
    or(baremsg::fd::set_nonblocking(r.as_fd(), true), 11)?;
    let copies = [w.as_fd(); sys::SCM_MAX_FD];
    ensure(tx.send_fds(b"many", &copies) == Ok(4), 12)?;
    drop(w);
    // No limit given: the lowest free number, so that nothing is free below it.
    let limit = match limit {
        Some(l) => l,
        None => (0..1024).find(|&n| !is_open_raw(n)).ok_or(13)? as u64,
    };
    let free = (0..limit as i32).filter(|&n| !is_open_raw(n)).count();
    let mut old = Rlimit::default();
    // SAFETY: a null `new` only reads the limits into `old`.
    let got = unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    or(got, 14)?;
    let lim = Rlimit {
        rlim_cur: limit,
        rlim_max: old.rlim_max,
    };
    // SAFETY: `lim` is readable; no old value asked for.
    let set = unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
    or(set, 14)?;
    let before = open_fds_raw().ok_or(15)?;

    let mut buf = [0u8; 8];
    let mut control = CmsgBuf::<SPACE_MAX>::new();
    let mut got = or(
        rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control),
        16,
    )?;
    ensure(got.bytes == 4 && &buf[..4] == b"many", 17)?;
    ensure(got.is_control_truncated(), 18)?;
    ensure(open_fds_raw() == Some(before + free), 19)?;
    let mut n = 0;
    for f in got.control.take_fds() {
        ensure(f.as_raw_fd() < limit as i32, 20)?;
        or(fd::write_all(f.as_fd(), b"w"), 21)?;
        n += 1;
    }
    ensure(n == free, 22)?;
    drop(got);
    ensure(open_fds_raw() == Some(before), 23)?;
    let mut byte = [0u8; 1];
    for _ in 0..free {
        ensure(fd::read(r.as_fd(), &mut byte) == Ok(1), 24)?;
    }
    ensure(fd::read(r.as_fd(), &mut byte) == Ok(0), 25)?;
    Ok(())
}

/// `fcntl(n, F_GETFD)` succeeds.
fn is_open_raw(n: i32) -> bool {
    // SAFETY: F_GETFD only reads flags; a free number is EBADF.
    unsafe { sys::fcntl(n, sys::F_GETFD, 0) }.is_ok()
}

/// Open fds below 4096, by `F_GETFD`: no allocation, no new fd (fork-safe).
fn open_fds_raw() -> Option<usize> {
    Some((0..4096).filter(|&n| is_open_raw(n)).count())
}

#[test]
fn fds_beyond_the_receivers_fd_limit_are_dropped_by_the_kernel_with_msg_ctrunc() {
    let _g = serial();
    let c = in_child(|| fd_limit_case(Some(10)));
    assert_eq!(c, 0, "RLIMIT_NOFILE 10: check {c} failed");
}

#[test]
fn with_no_fd_number_free_under_the_limit_the_receive_still_succeeds_with_msg_ctrunc() {
    let _g = serial();
    let c = in_child(|| fd_limit_case(None));
    assert_eq!(c, 0, "no free number: check {c} failed");
}

// ---------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------

fn or<T, E>(res: Result<T, E>, c: i32) -> Result<T, i32> {
    res.map_err(|_| c)
}

fn ensure(cond: bool, c: i32) -> Result<(), i32> {
    if cond {
        Ok(())
    } else {
        Err(c)
    }
}

/// Forks; the child runs `body` (raw syscalls and baremsg only) and exits with 0 or its
/// failure code, which this returns. A child running for 30 s is killed.
fn in_child(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    // SAFETY: the child runs only `body`, which makes raw syscalls and uses baremsg's
    // allocation-free calls, then exit_group.
    let pid = match unsafe { sys::fork() }.expect("fork") {
        0 => sys::exit_group(match body() {
            Ok(()) => 0,
            Err(c) => c,
        }),
        pid => pid,
    };
    let start = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child; nobody else waits for it.
        match unsafe { sys::wait4(pid, &mut status, sys::WNOHANG) } {
            Ok(0) if start.elapsed() > Duration::from_secs(30) => {
                // SAFETY: our own child.
                unsafe { sys::kill(pid, sys::SIGKILL) }.unwrap();
                // SAFETY: as above.
                unsafe { sys::wait4(pid, &mut status, 0) }.unwrap();
                panic!("child hung and was killed");
            }
            Ok(0) => std::thread::sleep(Duration::from_millis(1)),
            Ok(_) => break,
            Err(Errno::EINTR) => {}
            Err(e) => panic!("wait4: {e}"),
        }
    }
    assert!(
        sys::wifexited(status),
        "child killed by signal {}",
        sys::wtermsig(status)
    );
    sys::wexitstatus(status)
}

#[test]
fn the_raw_fd_count_sees_a_new_fd() {
    let _g = serial();
    let a = open_fds_raw().unwrap();
    let (r, w) = fd::pipe().unwrap();
    assert_eq!(open_fds_raw().unwrap(), a + 2);
    drop((r, w));
    assert_eq!(open_fds_raw().unwrap(), a);
}
