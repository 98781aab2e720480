//! No fd leaks on the paths where received fds are easy to lose: control buffers too
//! small for what was sent, more fds than slots, an fd limit that stops the kernel
//! half-way, and many receives in a row.
//!
//! Every case counts the entries of `/proc/self/fd` before and after, so this file has
//! exactly one `#[test]`: no other test thread opens or closes fds while it counts.
//! Each case also checks the count while its fds are held, so a case that closed too
//! much, or too early, fails as well.

use std::collections::BTreeSet;
use std::mem::size_of;

use baremsg::cmsg::{
    parse_unix_rights, space_for_fds, CmsgBuf, RawCmsgs, ReceivedControl, SPACE_MAX,
};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use baremsg::io::IoSliceMut;
use baremsg::sys::{self, Cmsghdr, Rlimit, Ucred};
use baremsg::unix::{UnixDatagram, UnixSeqpacket, UnixStream};

mod target;

/// Entries in `/proc/self/fd` (the directory's own fd included, the same each time).
fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// The numbers of the fds open now (the listing's own fd, closed by then, left out).
fn open_fd_numbers() -> BTreeSet<RawFd> {
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    listed
        .into_iter()
        // SAFETY: F_GETFD only reads the flags of whatever the number names, and
        // fails with EBADF if it names nothing; nothing is closed or taken over.
        .filter(|&n| unsafe { sys::fcntl(n, sys::F_GETFD, 0) }.is_ok())
        .collect()
}

/// `n` pipes; pipe `i` holds the one byte `i`, its write end closed. The read ends.
fn tagged_pipes(n: usize) -> Vec<OwnedFd> {
    (0..n)
        .map(|i| {
            let (r, w) = fd::pipe().expect("pipe");
            fd::write_all(w.as_fd(), &[i as u8]).unwrap();
            r
        })
        .collect()
}

fn borrow_all(fds: &[OwnedFd]) -> Vec<BorrowedFd<'_>> {
    fds.iter().map(|f| f.as_fd()).collect()
}

/// Reads `fd` to end of file.
fn contents(fd: BorrowedFd<'_>) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match fd::read(fd, &mut buf).expect("read") {
            0 => return all,
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// The current RLIMIT_NOFILE.
fn nofile_limit() -> Rlimit {
    let mut cur = Rlimit::default();
    // SAFETY: a null `new` only reads the limits into `cur`, which is writable.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, std::ptr::null(), &mut cur) }
        .expect("get RLIMIT_NOFILE");
    cur
}

/// Lowers the soft `RLIMIT_NOFILE` and puts the old limits back when dropped, on
/// success or panic.
struct NofileLimit {
    old: Rlimit,
}

impl NofileLimit {
    fn lower_to(soft: u64) -> Self {
        let old = nofile_limit();
        assert!(soft <= old.rlim_cur, "{soft} is not lower than {old:?}");
        let new = Rlimit {
            rlim_cur: soft,
            rlim_max: old.rlim_max,
        };
        // SAFETY: `new` is readable; a null `old` asks for nothing back.
        unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, &new, std::ptr::null_mut()) }
            .expect("lower RLIMIT_NOFILE");
        Self { old }
    }
}

impl Drop for NofileLimit {
    fn drop(&mut self) {
        // SAFETY: `self.old` is readable; a null `old` asks for nothing back.
        let res = unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, &self.old, std::ptr::null_mut()) };
        if let Err(e) = res {
            // Not a panic: this may run while unwinding from another one.
            eprintln!("could not restore RLIMIT_NOFILE to {:?}: {e}", self.old);
        }
    }
}

/// How many fds the kernel installs into a control buffer of `controllen` bytes: as
/// many whole ints as fit after one header (`scm_detach_fds`).
const fn fds_that_fit(controllen: usize) -> usize {
    (controllen - size_of::<Cmsghdr>()) / size_of::<i32>()
}

/// 8 fds into a buffer sized `space_for_fds(3)`: what arrives is owned and taken, and
/// the rest never reaches this process.
fn control_buffer_too_small_taken() {
    let base = open_fd_count();
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let sent = tagged_pipes(8);
        tx.send_fds(b"eight", &borrow_all(&sent)).unwrap();

        let mut buf = [0u8; 16];
        let mut control = CmsgBuf::<{ space_for_fds(3) }>::new();
        let mut got = rx
            .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
            .unwrap();
        assert_eq!(&buf[..got.bytes], b"eight");
        // What arrives is the same under qemu-user; the flag and the unreported rest differ.
        let short = target::short_control(8, false, space_for_fds(3));
        if target::under_qemu() {
            assert_eq!(got.is_control_truncated(), short.ctrunc, "{:#x}", got.flags);
        } else {
            assert!(got.is_control_truncated(), "MSG_CTRUNC: {:#x}", got.flags);
        }
        // space_for_fds(3) is CMSG_SPACE(12): on x86_64 the data is padded to 16 bytes,
        // which holds a 4th fd, and the kernel fills the room there is; on x86 it is
        // exactly 3 fds.
        let expected = if cfg!(target_pointer_width = "64") {
            4
        } else {
            3
        };
        assert_eq!(fds_that_fit(space_for_fds(3)), expected);
        let taken: Vec<OwnedFd> = got.control.take_fds().collect();
        assert_eq!(taken.len(), expected, "fds that arrived");
        let numbers: Vec<RawFd> = taken.iter().map(|f| f.as_raw_fd()).collect();
        target::close_unreported(&borrow_all(&sent), &numbers, short.left_open);
        // Taken fds leave the control data: nothing more to take.
        assert_eq!(got.control.take_fds().count(), 0);
        drop(got);
        assert_eq!(
            open_fd_count(),
            base + 2 + 8 + expected,
            "taken fds stay open"
        );
        for (i, f) in taken.iter().enumerate() {
            assert!(baremsg::fd::is_cloexec(f.as_fd()).unwrap());
            assert_eq!(contents(f.as_fd()), [i as u8], "fd {i} is pipe {i}");
        }
    }
    assert_eq!(open_fd_count(), base, "too small buffer, fds taken");
}

/// The same, taking nothing: dropping the `RecvMsg` closes what arrived.
fn control_buffer_too_small_untaken() {
    let base = open_fd_count();
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let sent = tagged_pipes(8);
        tx.send_fds(b"eight", &borrow_all(&sent)).unwrap();

        let mut buf = [0u8; 16];
        let mut control = CmsgBuf::<{ space_for_fds(3) }>::new();
        let got = rx
            .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
            .unwrap();
        // What arrives is the same under qemu-user; the flag and the unreported rest differ.
        let short = target::short_control(8, false, space_for_fds(3));
        if target::under_qemu() {
            assert_eq!(got.is_control_truncated(), short.ctrunc);
        } else {
            assert!(got.is_control_truncated());
        }
        let arrived = fds_that_fit(space_for_fds(3));
        // Not taken, so only the numbers of what arrived tell them from qemu's.
        let msg = RawCmsgs::new(got.control.as_bytes())
            .next()
            .expect("one control message")
            .unwrap();
        let numbers: Vec<RawFd> = parse_unix_rights(&msg).unwrap().collect();
        assert_eq!(numbers.len(), arrived);
        target::close_unreported(&borrow_all(&sent), &numbers, short.left_open);
        assert_eq!(
            open_fd_count(),
            base + 2 + 8 + arrived,
            "installed while held"
        );
        drop(got);
        assert_eq!(
            open_fd_count(),
            base + 2 + 8,
            "closed by dropping the RecvMsg"
        );
    }
    assert_eq!(open_fd_count(), base, "too small buffer, nothing taken");
}

/// 5 fds, 2 slots: 2 stored, the other 3 closed at once, the truncation reported.
fn more_fds_than_slots() {
    let base = open_fd_count();
    {
        let (tx, rx) = UnixSeqpacket::pair().unwrap();
        let sent = tagged_pipes(5);
        tx.send_fds(b"five", &borrow_all(&sent)).unwrap();

        let mut buf = [0u8; 16];
        let mut slots: [Option<OwnedFd>; 2] = [None, None];
        let got = rx.recv_fds(&mut buf, &mut slots).unwrap();
        assert_eq!(&buf[..got.bytes], b"five");
        assert_eq!(got.fds, 2);
        assert!(got.control_truncated, "{got:?}");
        assert!(!got.truncated);
        assert_eq!(
            open_fd_count(),
            base + 2 + 5 + 2,
            "only the stored fds are open"
        );
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(contents(slot.as_ref().unwrap().as_fd()), [i as u8]);
        }
    }
    assert_eq!(open_fd_count(), base, "more fds than slots");
}

/// 253 fds to a receiver whose RLIMIT_NOFILE leaves room for 10 more fds: the kernel
/// installs what it can.
fn fd_limit_stops_the_kernel_half_way() {
    let base = open_fd_count();
    {
        let (tx, rx) = UnixDatagram::pair().unwrap();
        let (r, w) = fd::pipe().unwrap();
        let copies = [r.as_fd(); sys::SCM_MAX_FD];
        // The limit that leaves exactly `room` free numbers below it (fds already open
        // above a soft limit stay open; only new ones must be below it).
        let room = 10;
        let open = open_fd_numbers();
        let tenth_free = (0..).filter(|n| !open.contains(n)).nth(room - 1).unwrap();
        let limit = tenth_free as u64 + 1;

        let before = nofile_limit();
        let mut buf = [0u8; 16];
        let mut control = CmsgBuf::<SPACE_MAX>::new();
        {
            let _limit = NofileLimit::lower_to(limit);
            assert_eq!(nofile_limit().rlim_cur, limit);

            tx.send_fds(b"many", &copies).unwrap();
            let res = rx.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control);
            // Observed (Linux 6.18, x86_64 and x86): not an error. recvmsg succeeds,
            // sets MSG_CTRUNC, and the SCM_RIGHTS message holds the fds installed
            // before EMFILE stopped the kernel; the others are dropped with the skb.
            let mut got = res.expect("recvmsg succeeds under a low RLIMIT_NOFILE");
            assert_eq!(&buf[..got.bytes], b"many");
            assert!(got.is_control_truncated(), "MSG_CTRUNC: {:#x}", got.flags);
            let taken: Vec<OwnedFd> = got.control.take_fds().collect();
            assert_eq!(taken.len(), room, "every free fd number was used");
            drop(got);
            // They all name the pipe.
            fd::write_all(w.as_fd(), b"!").unwrap();
            let mut one = [0u8; 1];
            assert_eq!(fd::read(taken[room - 1].as_fd(), &mut one), Ok(1));
            assert_eq!(one, *b"!");
            drop(taken);

            // recv_fds under the same limit: the slots it fills, truncation reported.
            tx.send_fds(b"more", &copies).unwrap();
            let mut slots: Vec<Option<OwnedFd>> = (0..sys::SCM_MAX_FD).map(|_| None).collect();
            let got = rx.recv_fds(&mut buf, &mut slots).unwrap();
            assert_eq!(&buf[..got.bytes], b"more");
            assert_eq!(got.fds, room);
            assert!(got.control_truncated);
            assert!(slots[..room].iter().all(Option::is_some));
            assert!(slots[room..].iter().all(Option::is_none));
        }
        assert_eq!(nofile_limit(), before, "RLIMIT_NOFILE restored");
        assert_eq!(open_fd_count(), base + 4, "the pair and the pipe only");
    }
    assert_eq!(open_fd_count(), base, "fd limit");
}

/// 1,000 fds through one pair, one at a time: half taken from `recv_fds`, half left in
/// a dropped `RecvMsg`. The kernel hands out the lowest free number, so if each fd is
/// closed before the next arrives, they all get the same number.
fn a_thousand_fds_one_at_a_time() {
    let base = open_fd_count();
    {
        let (tx, rx) = UnixSeqpacket::pair().unwrap();
        let (r, w) = fd::pipe().unwrap();
        let mut numbers = BTreeSet::new();
        for i in 0..1000u32 {
            let tag = (i % 251) as u8;
            tx.send_fds(&[tag], &[r.as_fd()]).unwrap();
            let mut buf = [0u8; 1];
            if i % 2 == 0 {
                let mut slot = [None];
                let got = rx.recv_fds(&mut buf, &mut slot).unwrap();
                assert_eq!((got.bytes, got.fds, buf[0]), (1, 1, tag));
                assert!(!got.control_truncated);
                let f = slot[0].take().unwrap();
                numbers.insert(f.as_raw_fd());
                fd::write_all(w.as_fd(), &[tag]).unwrap();
                let mut back = [0u8; 1];
                assert_eq!(fd::read(f.as_fd(), &mut back), Ok(1));
                assert_eq!(back[0], tag, "the received fd reads the pipe");
            } else {
                let mut control = CmsgBuf::<{ space_for_fds(1) }>::new();
                let got = rx
                    .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control)
                    .unwrap();
                assert_eq!((got.bytes, buf[0]), (1, tag));
                let msg = RawCmsgs::new(got.control.as_bytes())
                    .next()
                    .expect("one control message")
                    .unwrap();
                let fds: Vec<RawFd> = parse_unix_rights(&msg).unwrap().collect();
                assert_eq!(fds.len(), 1);
                numbers.insert(fds[0]);
            }
        }
        assert_eq!(numbers.len(), 1, "fd numbers seen: {numbers:?}");
    }
    assert_eq!(open_fd_count(), base, "1,000 fds one at a time");
}

/// One message of the control data [`walks_that_stop_early`] builds.
enum Part {
    Rights(usize),
    Credentials,
    Pidfd,
}

/// Control data laid out as `parts` say, each fd a new pipe read end (pipe `i` holds
/// byte `i`, in order across the parts), owned by the returned buffer's
/// `ReceivedControl` from then on, as after a receive.
fn owned_control(parts: &[Part]) -> (CmsgBuf<SPACE_MAX>, usize) {
    let total: usize = parts
        .iter()
        .map(|p| match p {
            Part::Rights(n) => *n,
            Part::Pidfd => 1,
            Part::Credentials => 0,
        })
        .sum();
    let pipes = tagged_pipes(total);
    let mut buf = CmsgBuf::<SPACE_MAX>::new();
    let mut enc = buf.encoder();
    let mut next = 0;
    for p in parts {
        match p {
            Part::Rights(n) => {
                enc.push_rights(&borrow_all(&pipes[next..next + n]))
                    .unwrap();
                next += n;
            }
            Part::Credentials => enc
                .push_credentials(&Ucred {
                    pid: sys::getpid(),
                    uid: sys::getuid(),
                    gid: sys::getgid(),
                })
                .unwrap(),
            Part::Pidfd => {
                let fd = pipes[next].as_raw_fd().to_ne_bytes();
                // SAFETY: the number stays open: ownership moves to the caller below.
                unsafe { enc.push_raw_unchecked(sys::SOL_SOCKET, sys::SCM_PIDFD, &fd) }.unwrap();
                next += 1;
            }
        }
    }
    let len = enc.len();
    // The buffer owns them now.
    for p in pipes {
        let _ = p.into_raw_fd();
    }
    (buf, len)
}

/// Reading the credentials or taking the fds walks the control data once and learns
/// whether anything is left to close; whatever the walk leaves, and however the control
/// data is laid out, dropping it closes the rest and nothing twice.
fn walks_that_stop_early() {
    let base = open_fd_count();
    let me = sys::getpid();

    // The credentials, then the fds of a message after (or before) them: closed.
    for parts in [
        [Part::Credentials, Part::Rights(2)],
        [Part::Rights(2), Part::Credentials],
    ] {
        let (mut buf, len) = owned_control(&parts);
        assert_eq!(open_fd_count(), base + 2);
        // SAFETY: the fds in the buffer are owned by nothing else.
        let mut rc = unsafe { ReceivedControl::new(&mut buf[..len]) };
        assert_eq!(rc.credentials().map(|c| c.pid), Some(me));
        drop(rc);
        assert_eq!(open_fd_count(), base, "fds after the credentials closed");
    }

    // Only the credentials: nothing to close, nothing closed.
    let (mut buf, len) = owned_control(&[Part::Credentials]);
    // SAFETY: as above (no fds at all).
    let mut rc = unsafe { ReceivedControl::new(&mut buf[..len]) };
    assert_eq!(rc.credentials().map(|c| c.pid), Some(me));
    drop(rc);
    assert_eq!(open_fd_count(), base);

    // One fd of three taken, the iterator dropped: the other two closed, the taken
    // one open and the first pipe.
    let (mut buf, len) = owned_control(&[Part::Rights(3)]);
    // SAFETY: as above.
    let mut rc = unsafe { ReceivedControl::new(&mut buf[..len]) };
    let first = rc.take_fds().next().expect("an fd");
    drop(rc);
    assert_eq!(open_fd_count(), base + 1, "the untaken two closed");
    assert_eq!(contents(first.as_fd()), [0]);
    drop(first);

    // Every fd of several messages taken, a pidfd after them: the pidfd closed on drop;
    // taken through `count` (one loop per message) and through `next`.
    for by_count in [true, false] {
        let (mut buf, len) = owned_control(&[Part::Rights(1), Part::Rights(2), Part::Pidfd]);
        assert_eq!(open_fd_count(), base + 4);
        // SAFETY: as above.
        let mut rc = unsafe { ReceivedControl::new(&mut buf[..len]) };
        if by_count {
            assert_eq!(rc.take_fds().count(), 3);
        } else {
            let taken: Vec<OwnedFd> = rc.take_fds().collect();
            let tags: Vec<Vec<u8>> = taken.iter().map(|f| contents(f.as_fd())).collect();
            assert_eq!(tags, [[0], [1], [2]], "in order");
        }
        assert_eq!(open_fd_count(), base + 1, "the pidfd is still held");
        drop(rc);
        assert_eq!(open_fd_count(), base, "the pidfd closed on drop");
    }

    // Taken after the credentials were read: each fd once.
    let (mut buf, len) = owned_control(&[Part::Rights(2), Part::Credentials]);
    // SAFETY: as above.
    let mut rc = unsafe { ReceivedControl::new(&mut buf[..len]) };
    assert!(rc.credentials().is_some());
    let taken: Vec<OwnedFd> = rc.take_fds().collect();
    assert_eq!(taken.len(), 2);
    assert_eq!(rc.take_fds().count(), 0);
    drop(rc);
    assert_eq!(open_fd_count(), base + 2);
    drop(taken);
    assert_eq!(open_fd_count(), base, "walks that stop early");
}

#[test]
fn received_fds_are_never_leaked() {
    control_buffer_too_small_taken();
    control_buffer_too_small_untaken();
    more_fds_than_slots();
    fd_limit_stops_the_kernel_half_way();
    a_thousand_fds_one_at_a_time();
    walks_that_stop_early();
}
