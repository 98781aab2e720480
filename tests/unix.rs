//! The safe Unix-socket layer: fd passing, credentials, pidfds, addresses, listeners,
//! and the defaults that keep fds safe.

use baremsg::cmsg::{space_for_credentials, space_for_fds, space_for_pidfd, CmsgBuf, Message};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{
    AddrKind, UnixAddr, UnixDatagram, UnixListener, UnixSeqpacket, UnixSeqpacketListener,
    UnixStream,
};
use baremsg::{Errno, Error};

#[cfg(feature = "std")]
mod files;
mod target;

/// A pipe with `data` written into it: (read end, write end).
fn pipe_with(data: &[u8]) -> (OwnedFd, OwnedFd) {
    let (r, w) = fd::pipe().unwrap();
    fd::write_all(w.as_fd(), data).unwrap();
    (r, w)
}

fn read_all_available(fd: BorrowedFd<'_>, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = fd::read(fd, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn unique(tag: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "baremsg-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

/// Passes `n` pipe read ends, each with its own bytes, and checks each received fd:
/// a new number, close-on-exec, reads its own pipe's bytes.
fn pass_n_fds(n: usize) {
    let (a, b) = UnixStream::pair().unwrap();
    let pipes: Vec<_> = (0..n)
        .map(|i| pipe_with(format!("pipe {i}").as_bytes()))
        .collect();
    let borrowed: Vec<BorrowedFd<'_>> = pipes.iter().map(|(r, _)| r.as_fd()).collect();
    assert_eq!(a.send_fds(b"x", &borrowed).unwrap(), 1);

    let mut slots: Vec<Option<OwnedFd>> = (0..n).map(|_| None).collect();
    let mut buf = [0u8; 8];
    let got = b.recv_fds(&mut buf, &mut slots).unwrap();
    assert_eq!(
        (got.bytes, got.fds, got.truncated, got.control_truncated),
        (1, n, false, false)
    );
    assert_eq!(&buf[..1], b"x");
    let sent: Vec<i32> = pipes.iter().map(|(r, _)| r.as_raw_fd()).collect();
    for (i, slot) in slots.iter().enumerate() {
        let fd = slot.as_ref().expect("slot filled");
        assert!(
            !sent.contains(&fd.as_raw_fd()),
            "received fd {} reuses a sent number",
            fd.as_raw_fd()
        );
        assert!(
            baremsg::fd::is_cloexec(fd.as_fd()).unwrap(),
            "received fd lacks FD_CLOEXEC"
        );
        assert_eq!(
            read_all_available(fd.as_fd(), 64),
            format!("pipe {i}").as_bytes()
        );
    }
}

#[test]
fn one_fd_passes_and_works() {
    pass_n_fds(1);
}

#[test]
fn eight_fds_pass_and_work() {
    pass_n_fds(8);
}

#[test]
fn scm_max_fd_fds_pass_and_work() {
    pass_n_fds(253);
}

/// More fds than slots, by a little and by far: the slots get the first fds sent, the
/// rest is reported as truncation, and none of it stays open in this process.
///
/// Under qemu-user 7.2 this holds only if `recv_fds` gives the kernel room for every
/// fd that can come (`SCM_MAX_FD`) and closes the extra ones itself: qemu cuts what
/// does not fit the program's control buffer and leaves it open, unreported
/// (`tests/target`'s `short_control`).
#[test]
fn fds_beyond_the_slots_are_closed_however_many_come() {
    for sent in [3, 17, 40, sys::SCM_MAX_FD] {
        let (a, b) = UnixDatagram::pair().unwrap();
        let files: Vec<OwnedFd> = (0..sent)
            .map(|_| fd::memfd_create(c"baremsg-unix-slots", 0).unwrap())
            .collect();
        let borrowed: Vec<BorrowedFd<'_>> = files.iter().map(|f| f.as_fd()).collect();
        assert_eq!(a.send_fds(b"many", &borrowed).unwrap(), 4);
        let mut slots = [None, None];
        let got = b.recv_fds(&mut [0u8; 8], &mut slots).unwrap();
        assert_eq!(
            (got.bytes, got.fds, got.truncated, got.control_truncated),
            (4, 2, false, true),
            "{sent} sent"
        );
        let kept: Vec<_> = slots.iter().flatten().map(|f| f.as_raw_fd()).collect();
        for (slot, file) in slots.iter().flatten().zip(&files) {
            assert_eq!(inode(slot.as_fd()), inode(file.as_fd()), "{sent} sent");
        }
        let left = target::copies_of(&borrowed, &kept);
        assert!(left.is_empty(), "{sent} sent: {} left open", left.len());
    }
}

/// The inode of an open fd.
fn inode(fd: BorrowedFd<'_>) -> u64 {
    // SAFETY: `st` is written by fstat before it is read; the fd is open.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        assert_eq!(libc::fstat(fd.as_raw_fd(), &mut st), 0, "fstat");
        st.st_ino as u64
    }
}

#[test]
fn more_than_scm_max_fd_is_refused_before_the_syscall() {
    let (a, b) = UnixStream::pair().unwrap();
    let (r, _w) = fd::pipe().unwrap();
    let fds = vec![r.as_fd(); 254];
    assert_eq!(
        a.send_fds(b"x", &fds),
        Err(Error::TooManyFds { count: 254 })
    );
    let mut buf = CmsgBuf::<{ space_for_fds(254) }>::new();
    let mut enc = buf.encoder();
    assert_eq!(enc.push_rights(&fds[..200]), Ok(()));
    assert_eq!(
        enc.push_rights(&fds[..54]),
        Err(Error::TooManyFds { count: 254 })
    );
    // Nothing was sent: the peer has no data.
    b.set_nonblocking(true).unwrap();
    assert_eq!(b.recv(&mut [0u8; 4]), Err(Error::Os(Errno::EAGAIN)));
}

#[test]
fn control_data_with_empty_payload_on_a_stream_is_an_error() {
    let (a, _b) = UnixStream::pair().unwrap();
    let (r, _w) = fd::pipe().unwrap();
    assert_eq!(
        a.send_fds(b"", &[r.as_fd()]),
        Err(Error::ControlWithoutPayload)
    );
    // On a seqpacket socket an empty message carries the fd.
    let (c, d) = UnixSeqpacket::pair().unwrap();
    fd::write_all(_w.as_fd(), b"via empty").unwrap();
    assert_eq!(c.send_fds(b"", &[r.as_fd()]).unwrap(), 0);
    let mut slots = [None];
    let got = d.recv_fds(&mut [0u8; 4], &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds), (0, 1));
    assert_eq!(
        read_all_available(slots[0].as_ref().unwrap().as_fd(), 32),
        b"via empty"
    );
}

#[test]
fn received_fds_lack_cloexec_only_when_asked() {
    let (a, b) = UnixStream::pair().unwrap();
    let (r, _w) = fd::pipe().unwrap();
    a.send_fds(b"1", &[r.as_fd()]).unwrap();
    a.send_fds(b"2", &[r.as_fd()]).unwrap();
    let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut byte = [0u8; 1];
    let mut got = b
        .recv_msg_with_flags(&mut [IoSliceMut::new(&mut byte)], &mut ctl, None, 0)
        .unwrap();
    let fd = got.control.take_fds().next().unwrap();
    assert!(!baremsg::fd::is_cloexec(fd.as_fd()).unwrap());
    drop(got);
    let mut got = b
        .recv_msg(&mut [IoSliceMut::new(&mut byte)], &mut ctl)
        .unwrap();
    let fd = got.control.take_fds().next().unwrap();
    assert!(baremsg::fd::is_cloexec(fd.as_fd()).unwrap());
}

#[test]
fn sockets_are_created_cloexec() {
    let (a, b) = UnixStream::pair().unwrap();
    assert!(
        baremsg::fd::is_cloexec(a.as_fd()).unwrap() && baremsg::fd::is_cloexec(b.as_fd()).unwrap()
    );
    let name = unique("cloexec");
    let l = UnixListener::bind(&UnixAddr::from_abstract(&name).unwrap()).unwrap();
    assert!(baremsg::fd::is_cloexec(l.as_fd()).unwrap());
    let c = UnixStream::connect(&UnixAddr::from_abstract(&name).unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    assert!(
        baremsg::fd::is_cloexec(c.as_fd()).unwrap() && baremsg::fd::is_cloexec(s.as_fd()).unwrap()
    );
    let (r, _w) = fd::pipe().unwrap();
    assert!(baremsg::fd::is_cloexec(r.as_fd()).unwrap());
    let m = fd::memfd_create(c"m", 0).unwrap();
    assert!(baremsg::fd::is_cloexec(m.as_fd()).unwrap());
}

#[test]
fn several_messages_in_one_buffer_round_trip() {
    let (a, b) = UnixDatagram::pair().unwrap();
    b.set_pass_cred(true).unwrap();
    let (r1, _w1) = pipe_with(b"first");
    let (r2, _w2) = pipe_with(b"second");
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let mut buf = CmsgBuf::<{ space_for_fds(1) * 2 + space_for_credentials() }>::new();
    let mut enc = buf.encoder();
    enc.push_rights(&[r1.as_fd()]).unwrap();
    enc.push_credentials(&me).unwrap();
    enc.push_rights(&[r2.as_fd()]).unwrap();
    let cmsgs = enc.finish();
    assert_eq!(cmsgs.fd_count(), 2);
    a.send_msg(&[IoSlice::new(b"he"), IoSlice::new(b"llo")], &cmsgs)
        .unwrap();

    let mut ctl = CmsgBuf::<{ space_for_fds(2) + space_for_credentials() * 2 }>::new();
    let (mut p1, mut p2) = ([0u8; 3], [0u8; 8]);
    let mut got = b
        .recv_msg(
            &mut [IoSliceMut::new(&mut p1), IoSliceMut::new(&mut p2)],
            &mut ctl,
        )
        .unwrap();
    assert_eq!(got.bytes, 5);
    assert!(!got.is_truncated() && !got.is_control_truncated());
    assert_eq!((&p1, &p2[..2]), (b"hel", &b"lo"[..]));
    // The kernel merges the rights into one message and adds the credentials.
    let fds: Vec<OwnedFd> = got.control.take_fds().collect();
    assert_eq!(fds.len(), 2);
    assert_eq!(read_all_available(fds[0].as_fd(), 16), b"first");
    assert_eq!(read_all_available(fds[1].as_fd(), 16), b"second");
    assert_eq!(got.control.credentials(), Some(me));
}

#[test]
fn credentials_arrive_with_so_passcred_on_every_socket_kind() {
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    macro_rules! kind {
        ($ty:ty) => {{
            let (a, b) = <$ty>::pair().unwrap();
            b.set_pass_cred(true).unwrap();
            assert!(b.pass_cred().unwrap());
            // The kernel attaches the sender's credentials by itself.
            assert_eq!(a.send(b"hi").unwrap(), 2);
            let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
            let mut buf = [0u8; 8];
            let mut got = b
                .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
                .unwrap();
            assert_eq!((got.bytes, got.control.credentials()), (2, Some(me)));
            // Credentials the sender chose (its own) travel the same way.
            let mut cbuf = CmsgBuf::<{ space_for_credentials() }>::new();
            let mut enc = cbuf.encoder();
            enc.push_credentials(&me).unwrap();
            a.send_msg(&[IoSlice::new(b"x")], &enc.finish()).unwrap();
            let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
            let mut buf = [0u8; 4];
            let mut got = b
                .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
                .unwrap();
            assert_eq!(got.control.credentials(), Some(me));
        }};
    }
    kind!(UnixStream);
    kind!(UnixDatagram);
    kind!(UnixSeqpacket);
}

#[test]
fn forged_credentials_are_refused_by_the_kernel() {
    if sys::geteuid() == 0 {
        // root may send any pid it names; the kernel still refuses a pid that does not
        // exist (ESRCH).
    }
    let (a, _b) = UnixDatagram::pair().unwrap();
    let forged = Ucred {
        pid: 1,
        uid: sys::getuid() + 1,
        gid: sys::getgid(),
    };
    let mut cbuf = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = cbuf.encoder();
    enc.push_credentials(&forged).unwrap();
    let res = a.send_msg(&[IoSlice::new(b"x")], &enc.finish());
    if sys::geteuid() == 0 {
        // CAP_SETUID/CAP_SYS_ADMIN allow it: nothing to refuse.
        assert!(res.is_ok() || res == Err(Error::Os(Errno::EPERM)));
    } else {
        assert_eq!(res, Err(Error::Os(Errno::EPERM)));
    }
}

#[test]
fn peer_cred_names_this_process() {
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let (a, b) = UnixStream::pair().unwrap();
    assert_eq!(a.peer_cred().unwrap(), me);
    assert_eq!(b.peer_cred().unwrap(), me);
    let (c, _d) = UnixSeqpacket::pair().unwrap();
    assert_eq!(c.peer_cred().unwrap(), me);
}

/// The pid a pidfd refers to, from /proc/self/fdinfo.
fn pidfd_pid(fd: BorrowedFd<'_>) -> i32 {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("Pid:"))
        .expect("a pidfd has a Pid: line");
    line[4..].trim().parse().unwrap()
}

fn kernel_lacks_pidfd(e: &Error) -> bool {
    matches!(e, Error::Os(Errno::ENOPROTOOPT) | Error::Os(Errno::EINVAL))
}

#[test]
fn scm_pidfd_refers_to_the_sender() {
    let (a, b) = UnixDatagram::pair().unwrap();
    if let Err(e) = b.set_pass_pidfd(true) {
        if matches!(e, Error::Os(errno) if target::qemu_refused_passpidfd(errno)) {
            return;
        }
        assert!(kernel_lacks_pidfd(&e), "{e}");
        eprintln!("skipped: kernel has no SO_PASSPIDFD (Linux < 6.5): {e}");
        return;
    }
    a.send(b"p").unwrap();
    let mut ctl = CmsgBuf::<{ space_for_pidfd() }>::new();
    let mut buf = [0u8; 4];
    let mut got = b
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
        .unwrap();
    let mut saw = false;
    for m in got.control.messages() {
        if let Message::Pidfd(mut slot) = m.unwrap() {
            let fd = slot.take().expect("pidfd not yet taken");
            assert_eq!(pidfd_pid(fd.as_fd()), sys::getpid());
            assert!(baremsg::fd::is_cloexec(fd.as_fd()).unwrap());
            saw = true;
        }
    }
    assert!(saw, "no SCM_PIDFD message");
}

#[test]
fn peer_pidfd_refers_to_the_peer() {
    let (a, _b) = UnixStream::pair().unwrap();
    match a.peer_pidfd() {
        Ok(fd) => {
            assert_eq!(pidfd_pid(fd.as_fd()), sys::getpid());
            assert!(baremsg::fd::is_cloexec(fd.as_fd()).unwrap());
        }
        Err(e) => {
            assert!(kernel_lacks_pidfd(&e), "{e}");
            eprintln!("skipped: kernel has no SO_PEERPIDFD (Linux < 6.5): {e}");
        }
    }
}

/// A forked child holds a copy of every fd open at the fork until it exits, the other
/// tests' included. A test that closes one end of a socket and expects the other end to
/// see it holds this for writing, from making the pair to seeing the close; each fork
/// holds it for reading until its child has exited.
static FORKS: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// [`FORKS`] for reading: a child may be forked while it is held.
fn forking() -> std::sync::RwLockReadGuard<'static, ()> {
    FORKS.read().unwrap_or_else(|e| e.into_inner())
}

/// Forks; the child runs `child` (which must only make raw syscalls: baremsg's safe
/// layer allocates nothing) and exits with its code; returns the child's exit code.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    let _forking = forking();
    // SAFETY: the child only runs `child`, which makes syscalls and no allocation, then
    // exits without unwinding.
    let pid = unsafe { sys::fork() }.unwrap();
    if pid == 0 {
        let code = child();
        sys::exit_group(code);
    }
    let mut status = 0;
    // SAFETY: we wait for our own child.
    unsafe { sys::wait4(pid, &mut status, 0) }.unwrap();
    assert!(sys::wifexited(status), "child died: status {status:#x}");
    sys::wexitstatus(status)
}

#[test]
fn a_child_receives_fds_from_its_parent() {
    let (parent, child_end) = UnixStream::pair().unwrap();
    let (r, _w) = pipe_with(b"from parent");
    // Sent before the fork: it waits in the socket until the child reads it.
    parent.send_fds(b"f", &[r.as_fd()]).unwrap();
    let code = in_child(|| {
        let mut slots = [None];
        let mut b = [0u8; 1];
        match child_end.recv_fds(&mut b, &mut slots) {
            Ok(got) if got.fds == 1 => {}
            _ => return 2,
        }
        let mut buf = [0u8; 32];
        match fd::read(slots[0].as_ref().unwrap().as_fd(), &mut buf) {
            Ok(11) if &buf[..11] == b"from parent" => 0,
            _ => 3,
        }
    });
    assert_eq!(code, 0);
}

#[test]
fn a_parent_receives_fds_from_its_child() {
    let (parent, child_end) = UnixStream::pair().unwrap();
    let code = in_child(|| {
        let Ok((r, w)) = fd::pipe() else { return 2 };
        if fd::write_all(w.as_fd(), b"from child").is_err() {
            return 3;
        }
        match child_end.send_fds(b"c", &[r.as_fd()]) {
            Ok(1) => 0,
            _ => 4,
        }
    });
    assert_eq!(code, 0);
    let mut slots = [None];
    let got = parent.recv_fds(&mut [0u8; 1], &mut slots).unwrap();
    assert_eq!(got.fds, 1);
    // The child has exited; the pipe lives on through the passed fd.
    assert_eq!(
        read_all_available(slots[0].as_ref().unwrap().as_fd(), 32),
        b"from child"
    );
}

#[test]
fn credentials_from_a_child_name_the_child() {
    let (parent, child_end) = UnixSeqpacket::pair().unwrap();
    parent.set_pass_cred(true).unwrap();
    let (go_r, go_w) = fd::pipe().unwrap();
    let _forking = forking();
    let pid = {
        // SAFETY: the child only makes syscalls and exits.
        let pid = unsafe { sys::fork() }.unwrap();
        if pid == 0 {
            let mut b = [0u8; 1];
            let _ = fd::read(go_r.as_fd(), &mut b);
            let code = if child_end.send(b"c").is_ok() { 0 } else { 1 };
            sys::exit_group(code);
        }
        pid
    };
    fd::write_all(go_w.as_fd(), b"g").unwrap();
    let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut buf = [0u8; 4];
    let mut got = parent
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
        .unwrap();
    let cred = got.control.credentials().unwrap();
    assert_eq!(
        cred,
        Ucred {
            pid,
            uid: sys::getuid(),
            gid: sys::getgid()
        }
    );
    let mut status = 0;
    // SAFETY: our own child.
    unsafe { sys::wait4(pid, &mut status, 0) }.unwrap();
    assert_eq!(sys::wexitstatus(status), 0);
}

#[test]
fn filesystem_addresses_bind_connect_and_name_themselves() {
    let dir = std::env::temp_dir().join(String::from_utf8(unique("fs")).unwrap());
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("sock");
    let addr = UnixAddr::from_path(path.to_str().unwrap().as_bytes()).unwrap();
    assert_eq!(
        addr.kind(),
        AddrKind::Path(path.to_str().unwrap().as_bytes())
    );
    assert_eq!(addr.to_string(), path.to_str().unwrap());
    let l = UnixListener::bind(&addr).unwrap();
    assert_eq!(l.local_addr().unwrap(), addr);
    let c = UnixStream::connect(&addr).unwrap();
    let (s, client_addr) = l.accept().unwrap();
    assert!(client_addr.is_unnamed());
    assert_eq!(c.peer_addr().unwrap(), addr);
    assert_eq!(s.local_addr().unwrap(), addr);
    c.send(b"ping").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.recv(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"ping");
    // Binding the same path again: EADDRINUSE.
    assert_eq!(
        UnixListener::bind(&addr).unwrap_err(),
        Error::Os(Errno::EADDRINUSE)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn abstract_addresses_show_with_a_leading_at() {
    let name = unique("abs");
    let addr = UnixAddr::from_abstract(&name).unwrap();
    assert_eq!(
        addr.to_string(),
        format!("@{}", String::from_utf8(name.clone()).unwrap())
    );
    assert_eq!(UnixAddr::parse(addr.to_string().as_bytes()).unwrap(), addr);
    let l = UnixSeqpacketListener::bind(&addr).unwrap();
    assert_eq!(l.local_addr().unwrap().as_abstract(), Some(&name[..]));
    let c = UnixSeqpacket::connect(&addr).unwrap();
    let (s, _) = l.accept().unwrap();
    c.send(b"one").unwrap();
    c.send(b"two!").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.recv(&mut buf).unwrap(), 3);
    assert_eq!(s.recv(&mut buf).unwrap(), 4);
    // Bytes that are not UTF-8 are escaped, not lost.
    let odd = UnixAddr::from_abstract(b"a\xffb").unwrap();
    assert_eq!(odd.to_string(), "@a\\xffb");
}

#[test]
fn bad_addresses_are_clear_errors() {
    assert_eq!(UnixAddr::from_path(b"").unwrap_err(), Error::InvalidAddress);
    assert_eq!(
        UnixAddr::from_path(b"a\0b").unwrap_err(),
        Error::InvalidAddress
    );
    assert_eq!(
        UnixAddr::from_path(&[b'a'; 108]).unwrap_err(),
        Error::InvalidAddress
    );
    assert!(UnixAddr::from_path(&[b'a'; 107]).is_ok());
    assert_eq!(
        UnixAddr::from_abstract(&[b'a'; 108]).unwrap_err(),
        Error::InvalidAddress
    );
    assert!(UnixAddr::from_abstract(&[b'a'; 107]).is_ok());
    assert_eq!(UnixAddr::unnamed().to_string(), "(unnamed)");
}

#[test]
fn datagrams_carry_the_senders_address() {
    let a_name = unique("dga");
    let b_name = unique("dgb");
    let a_addr = UnixAddr::from_abstract(&a_name).unwrap();
    let b_addr = UnixAddr::from_abstract(&b_name).unwrap();
    let a = UnixDatagram::bind(&a_addr).unwrap();
    let b = UnixDatagram::bind(&b_addr).unwrap();
    a.send_to(b"to b", &b_addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to b"[..], a_addr));
    // With control data (so through recvmsg) the address still comes back.
    let (r, _w) = pipe_with(b"z");
    let mut cbuf = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = cbuf.encoder();
    enc.push_rights(&[r.as_fd()]).unwrap();
    b.send_msg_to(&[IoSlice::new(b"back")], &enc.finish(), &a_addr)
        .unwrap();
    let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let (got, from) = a
        .recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
        .unwrap();
    assert_eq!((got.bytes, from), (4, b_addr));
    // An unbound sender is unnamed.
    let u = UnixDatagram::unbound().unwrap();
    u.send_to(b"anon", &b_addr).unwrap();
    let (_, from) = b.recv_from(&mut buf).unwrap();
    assert!(from.is_unnamed());
}

#[test]
fn truncated_datagrams_are_reported_with_and_without_control_data() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"0123456789").unwrap();
    let mut small = [0u8; 4];
    let got = b
        .recv_msg(&mut [IoSliceMut::new(&mut small)], &mut [])
        .unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, true));
    assert_eq!(&small, b"0123");
    a.send(b"0123").unwrap();
    let got = b
        .recv_msg(&mut [IoSliceMut::new(&mut small)], &mut [])
        .unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, false));
    // Through recvmsg (a control buffer is given).
    a.send(b"0123456789").unwrap();
    let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
    let got = b
        .recv_msg(&mut [IoSliceMut::new(&mut small)], &mut ctl)
        .unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, true));
    // Seqpacket the same.
    let (c, d) = UnixSeqpacket::pair().unwrap();
    c.send(b"0123456789").unwrap();
    let got = d
        .recv_msg(&mut [IoSliceMut::new(&mut small)], &mut [])
        .unwrap();
    assert_eq!((got.bytes, got.is_truncated()), (4, true));
}

#[test]
fn msg_trunc_in_the_flags_gives_the_real_length_on_both_paths() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let mut small = [0u8; 4];
    let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
    let flags = sys::MSG_CMSG_CLOEXEC | sys::MSG_TRUNC;
    // recvfrom (no control buffer) and recvmsg (one): 10 bytes sent, 4 read, 10 told.
    for control in [&mut [][..], &mut ctl[..]] {
        a.send(b"0123456789").unwrap();
        let got = b
            .recv_msg_with_flags(&mut [IoSliceMut::new(&mut small)], control, None, flags)
            .unwrap();
        assert_eq!((got.bytes, got.is_truncated()), (10, true));
        assert_eq!(&small, b"0123");
    }
}

#[test]
fn recv_msg_from_names_the_peer_on_connected_sockets() {
    let name = unique("peer");
    let addr = UnixAddr::from_abstract(&name).unwrap();
    let l = UnixListener::bind(&addr).unwrap();
    let client = UnixStream::connect(&addr).unwrap();
    let (server, _) = l.accept().unwrap();
    let mut buf = [0u8; 8];
    // The client is unbound: unnamed, with and without a control buffer.
    client.send(b"up").unwrap();
    let (got, from) = server
        .recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut [])
        .unwrap();
    assert_eq!((&buf[..got.bytes], from.is_unnamed()), (&b"up"[..], true));
    // The server's end carries the listener's name.
    server.send(b"down").unwrap();
    let mut ctl = CmsgBuf::<{ space_for_fds(1) }>::new();
    let (got, from) = client
        .recv_msg_from(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
        .unwrap();
    assert_eq!((&buf[..got.bytes], from), (&b"down"[..], addr));
}

#[test]
fn a_listener_accepts_several_clients() {
    let addr = UnixAddr::from_abstract(&unique("multi")).unwrap();
    let l = UnixListener::bind(&addr).unwrap();
    let clients: Vec<UnixStream> = (0..5)
        .map(|_| UnixStream::connect(&addr).unwrap())
        .collect();
    for (i, c) in clients.iter().enumerate() {
        c.send(&[b'a' + i as u8]).unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (s, _) = l.accept().unwrap();
        let mut b = [0u8; 1];
        assert_eq!(s.recv(&mut b).unwrap(), 1);
        s.send(&b).unwrap();
        seen.push(b[0]);
    }
    seen.sort();
    assert_eq!(seen, b"abcde");
    for (i, c) in clients.iter().enumerate() {
        let mut b = [0u8; 1];
        c.recv(&mut b).unwrap();
        assert_eq!(b[0], b'a' + i as u8);
    }
    l.set_nonblocking(true).unwrap();
    assert_eq!(l.accept().unwrap_err(), Error::Os(Errno::EAGAIN));
}

#[test]
fn timeouts_nonblocking_and_shutdown_behave() {
    use std::time::Duration;
    let (a, b) = UnixStream::pair().unwrap();
    assert_eq!(a.read_timeout().unwrap(), None);
    a.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    assert_eq!(a.read_timeout().unwrap(), Some(Duration::from_millis(20)));
    assert_eq!(a.recv(&mut [0u8; 1]).unwrap_err(), Error::Os(Errno::EAGAIN));
    assert_eq!(
        a.set_read_timeout(Some(Duration::ZERO)).unwrap_err(),
        Error::Os(Errno::EINVAL)
    );
    a.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(a.write_timeout().unwrap(), Some(Duration::from_secs(3)));
    a.set_read_timeout(None).unwrap();
    a.set_nonblocking(true).unwrap();
    assert_eq!(a.recv(&mut [0u8; 1]).unwrap_err(), Error::Os(Errno::EAGAIN));
    b.shutdown(baremsg::unix::Shutdown::Write).unwrap();
    assert_eq!(a.recv(&mut [0u8; 1]).unwrap(), 0);
    assert_eq!(a.take_error().unwrap(), None);
}

#[test]
fn a_closed_peer_is_epipe_not_sigpipe() {
    // No fork while `b` exists: a child would keep it open.
    let _no_forks = FORKS.write().unwrap_or_else(|e| e.into_inner());
    let (a, b) = UnixStream::pair().unwrap();
    drop(b);
    assert_eq!(a.send(b"x").unwrap_err(), Error::Os(Errno::EPIPE));
    let (r, _w) = fd::pipe().unwrap();
    assert_eq!(
        a.send_fds(b"x", &[r.as_fd()]).unwrap_err(),
        Error::Os(Errno::EPIPE)
    );
}

#[test]
fn try_from_fd_checks_the_socket_kind() {
    let (a, _b) = UnixDatagram::pair().unwrap();
    let fd: OwnedFd = a.into();
    let fd = UnixStream::try_from_fd(fd).unwrap_err();
    let d = UnixDatagram::try_from_fd(fd).unwrap();
    let (r, _w) = fd::pipe().unwrap();
    let r = UnixStream::try_from_fd(r).unwrap_err();
    assert!(UnixListener::try_from_fd(r).is_err());
    let l = UnixListener::bind(&UnixAddr::from_abstract(&unique("tff")).unwrap()).unwrap();
    let l = UnixListener::try_from_fd(l.into()).unwrap();
    assert!(UnixSeqpacketListener::try_from_fd(l.into()).is_err());
    drop(d);
}

#[test]
fn misaligned_control_buffers_are_refused() {
    let (a, b) = UnixStream::pair().unwrap();
    a.send(b"x").unwrap();
    let mut raw = CmsgBuf::<64>::new();
    let err = b
        .recv_msg(&mut [IoSliceMut::new(&mut [0u8; 1])], &mut raw[1..33])
        .unwrap_err();
    assert_eq!(err, Error::ControlBufferMisaligned);
    assert!(baremsg::cmsg::Encoder::new(&mut raw[1..]).is_err());
}

#[cfg(feature = "std")]
#[test]
fn std_sockets_convert_both_ways_and_pass_fds() {
    use std::io::{Read, Write};
    let (sa, sb) = std::os::unix::net::UnixStream::pair().unwrap();
    let a: UnixStream = sa.into();
    let mut sb: std::os::unix::net::UnixStream = UnixStream::from(sb).into();
    let f = files::file_with(b"std file");
    // With `std`, baremsg's fd types are std's: a File's fd goes in as is.
    a.send_fds(b"s", &[f.as_fd()]).unwrap();
    let b: UnixStream = sb.try_clone().unwrap().into();
    let mut slots = [None];
    b.recv_fds(&mut [0u8; 1], &mut slots).unwrap();
    let owned: std::os::fd::OwnedFd = slots[0].take().unwrap();
    let mut file = std::fs::File::from(owned);
    let mut s = String::new();
    file.read_to_string(&mut s).unwrap();
    assert_eq!(s, "std file");
    sb.write_all(b"w").unwrap();
    let err: std::io::Error = Error::TooManyFds { count: 300 }.into();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
