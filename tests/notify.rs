//! The notification protocol (`NOTIFY_SOCKET`, `sd_notify`) on both sides: baremsg's
//! service side against baremsg's manager side and against a Python manager (standard
//! `socket` module), baremsg's manager side against systemd's own `systemd-notify` and
//! against baremsg's example sender in another process; and bad input on each side.

#[path = "init_helpers/mod.rs"]
mod init_helpers;
mod target;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use baremsg::activation::{ExecBuf, Spawn};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use baremsg::notify::{
    self, parse, Envp, MessageError, Notification, NotifyEnv, NotifyError, NotifyListener,
    NotifySocket, MAX_MESSAGE,
};
use baremsg::sys;
use baremsg::unix::{UnixAddr, UnixDatagram};
use baremsg::Errno;

use init_helpers::*;

/// A manager socket at a fresh abstract name, with a receive timeout so that a test
/// fails rather than hangs, and the service side pointing at it.
fn manager() -> (NotifyListener, NotifySocket) {
    let name = unique("notify");
    let listener = NotifyListener::bind(&UnixAddr::from_abstract(name.as_bytes()).unwrap())
        .expect("bind the notify socket");
    listener.socket().set_read_timeout(Some(TIMEOUT)).unwrap();
    let env = listener.env().unwrap();
    assert_eq!(env.value(), format!("@{name}").as_bytes());
    let service = NotifySocket::parse(env.value()).unwrap();
    (listener, service)
}

fn recv<'b, const FDS: usize>(
    l: &NotifyListener,
    buf: &'b mut [u8],
) -> Result<Notification<'b, FDS>, NotifyError> {
    l.recv::<FDS>(buf)
}

/// Whether nothing is waiting on the manager socket.
fn nothing_queued(l: &NotifyListener) -> bool {
    let mut buf = [0u8; 64];
    l.socket().set_nonblocking(true).unwrap();
    let r = l.socket().recv(&mut buf);
    l.socket().set_nonblocking(false).unwrap();
    r == Err(baremsg::Error::Os(Errno::EAGAIN))
}

/// Our pid, effective uid and gid: the credentials the kernel stamps on our sends.
fn our_cred() -> sys::Ucred {
    sys::Ucred {
        pid: sys::getpid(),
        uid: sys::geteuid(),
        gid: sys::getegid(),
    }
}

/// The pid a pidfd refers to, from `/proc/self/fdinfo`.
fn pidfd_pid(fd: BorrowedFd<'_>) -> i32 {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .expect("a Pid: line in a pidfd's fdinfo")
        .trim()
        .parse()
        .unwrap()
}

/// The read end of a pipe holding `bytes`, its write end closed.
fn pipe_holding(bytes: &[u8]) -> OwnedFd {
    let (r, w) = fd::pipe().unwrap();
    fd::write_all(w.as_fd(), bytes).unwrap();
    r
}

// ---------------------------------------------------------------------------------
// NOTIFY_SOCKET and messages

#[test]
fn notify_socket_names_a_path_or_an_abstract_name() {
    let s = NotifySocket::parse(b"/run/systemd/notify").unwrap();
    assert_eq!(
        s.addr().unwrap().as_path(),
        Some(&b"/run/systemd/notify"[..])
    );
    let s = NotifySocket::parse(b"@/org/freedesktop/systemd1/notify/123").unwrap();
    assert_eq!(
        s.addr().unwrap().as_abstract(),
        Some(&b"/org/freedesktop/systemd1/notify/123"[..])
    );
    // The longest that fit: 107 bytes either way.
    let long = [b'/'; 107];
    assert!(NotifySocket::parse(&long).is_ok());
    let mut abs = vec![b'@'];
    abs.extend([b'x'; 107]);
    assert_eq!(
        NotifySocket::parse(&abs)
            .unwrap()
            .addr()
            .unwrap()
            .as_abstract()
            .unwrap()
            .len(),
        107
    );
}

#[test]
fn notify_socket_comes_from_the_first_entry_of_the_environment() {
    let env: [&[u8]; 4] = [
        b"PATH=/bin",
        b"NOTIFY_SOCKETX=/wrong",
        b"NOTIFY_SOCKET=/right",
        b"NOTIFY_SOCKET=/second",
    ];
    let s = NotifySocket::from_env(env).unwrap().unwrap();
    assert_eq!(s.addr().unwrap().as_path(), Some(&b"/right"[..]));
    assert_eq!(notify::var(env, b"PATH"), Some(&b"/bin"[..]));
    assert!(notify::is_notify_var(b"NOTIFY_SOCKET=/x"));
    assert!(!notify::is_notify_var(b"NOTIFY_SOCKETX=/x"));
    assert!(!notify::is_notify_var(b"NOTIFY_SOCKET"));
}

#[test]
fn a_missing_notify_socket_means_nobody_to_notify() {
    let env: [&[u8]; 2] = [b"PATH=/bin", b"HOME=/root"];
    assert_eq!(NotifySocket::from_env(env), Ok(None));
    assert_eq!(notify::notify(env, b"READY=1"), Ok(false));
    // Even a malformed message: nothing is sent, so nothing is checked.
    assert_eq!(notify::notify([], b"garbage"), Ok(false));
}

#[test]
fn malformed_notify_socket_is_a_clear_error() {
    let too_long_path = [b'/'; 108];
    let mut too_long_abstract = vec![b'@'];
    too_long_abstract.extend([b'x'; 108]);
    let cases: [(&[u8], NotifyError); 9] = [
        (b"", NotifyError::EmptySocketName),
        (b"@", NotifyError::EmptySocketName),
        (b"run/notify", NotifyError::RelativeSocketPath),
        (b"./notify", NotifyError::RelativeSocketPath),
        (b"vsock2:1234", NotifyError::RelativeSocketPath),
        (b"tcp:127.0.0.1:1", NotifyError::RelativeSocketPath),
        (
            &too_long_path,
            NotifyError::SocketNameTooLong { len: 108, max: 107 },
        ),
        (
            &too_long_abstract,
            NotifyError::SocketNameTooLong { len: 108, max: 107 },
        ),
        (b"/run/no\0tify", NotifyError::SocketNameHasNul),
    ];
    for (value, want) in cases {
        assert_eq!(NotifySocket::parse(value), Err(want), "{value:?}");
        let entry = [b"NOTIFY_SOCKET=", value].concat();
        assert_eq!(notify::notify([&entry[..]], b"READY=1"), Err(want));
        assert!(want.to_string().contains("NOTIFY_SOCKET"), "{want}");
        assert_eq!(want.errno(), Errno::EINVAL);
    }
}

#[test]
fn parse_splits_fields_and_takes_one_trailing_newline() {
    let fields: Vec<_> = parse(b"READY=1\nSTATUS=a=b c\nX_2=\n").unwrap().collect();
    assert_eq!(
        fields,
        [
            (&b"READY"[..], &b"1"[..]),
            (b"STATUS", b"a=b c"),
            (b"X_2", b""),
        ]
    );
    let f = parse(b"STATUS=\xff\xfe not UTF-8").unwrap();
    assert_eq!(f.get(b"STATUS"), Some(&b"\xff\xfe not UTF-8"[..]));
    assert_eq!(f.get(b"READY"), None);
}

#[test]
fn malformed_messages_are_named_by_what_and_where() {
    let cases: [(&[u8], MessageError); 9] = [
        (b"", MessageError::Empty),
        (b"READY", MessageError::MissingEquals { line: 0 }),
        (b"READY=1\nSTATUS", MessageError::MissingEquals { line: 8 }),
        (
            b"READY=1\n\nSTATUS=x",
            MessageError::MissingEquals { line: 8 },
        ),
        (b"READY=1\n\n", MessageError::MissingEquals { line: 8 }),
        (b"ready=1", MessageError::InvalidKey { line: 0 }),
        (b"=1", MessageError::InvalidKey { line: 0 }),
        (b"READY=1\nSTA TUS=x", MessageError::InvalidKey { line: 8 }),
        (b"READY=1\0", MessageError::Nul { offset: 7 }),
    ];
    for (msg, want) in cases {
        assert_eq!(parse(msg).err(), Some(want), "{msg:?}");
    }
}

#[test]
fn bad_messages_are_refused_before_sending() {
    let (l, s) = manager();
    let too_long = [b"STATUS=".as_slice(), &[b'x'; MAX_MESSAGE - 6]].concat();
    assert_eq!(too_long.len(), MAX_MESSAGE + 1);
    let (r, w) = fd::pipe().unwrap();
    let cases: [(&[u8], MessageError); 4] = [
        (b"READY", MessageError::MissingEquals { line: 0 }),
        (b"", MessageError::Empty),
        (b"READY=1\0", MessageError::Nul { offset: 7 }),
        (
            &too_long,
            MessageError::TooLong {
                len: MAX_MESSAGE + 1,
                max: MAX_MESSAGE,
            },
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(s.send(msg), Err(NotifyError::InvalidMessage(want)));
        assert_eq!(
            s.send_with_fds(msg, &[w.as_fd()]),
            Err(NotifyError::InvalidMessage(want))
        );
    }
    assert_eq!(
        s.status(b"up\nMAINPID=1"),
        Err(NotifyError::InvalidMessage(MessageError::NewlineInValue {
            offset: 2
        }))
    );
    assert_eq!(s.main_pid(0), Err(NotifyError::InvalidPid(0)));
    assert_eq!(s.store_fds(None, &[]), Err(NotifyError::NoFds));
    assert_eq!(
        s.send_parts(&[&b"A=1"[..]; 9], &[]),
        Err(NotifyError::TooManyParts(9))
    );
    assert!(nothing_queued(&l));
    // The longest message goes through whole.
    let longest = &too_long[..MAX_MESSAGE];
    s.send(longest).unwrap();
    let mut buf = [0u8; MAX_MESSAGE];
    assert_eq!(recv::<0>(&l, &mut buf).unwrap().payload(), longest);
    drop(w);
    assert!(pipe_closed(r.as_fd()));
}

#[test]
fn invalid_fd_names_are_refused() {
    let (l, s) = manager();
    let (_r, w) = fd::pipe().unwrap();
    let long = [b'n'; 256];
    for name in [&b"a:b"[..], &long, b"new\nline", b"caf\xc3\xa9", b"tab\t"] {
        assert_eq!(
            s.store_fds(Some(name), &[w.as_fd()]),
            Err(NotifyError::InvalidFdName),
            "{name:?}"
        );
        assert!(!notify::is_valid_fd_name(name));
    }
    assert!(notify::is_valid_fd_name(&long[..255]));
    assert!(notify::is_valid_fd_name(b"web socket #1"));
    // systemd's fdname_is_valid allows the empty name.
    assert!(notify::is_valid_fd_name(b""));
    assert!(!notify::is_valid_fd_name(b"\x7f"));
    assert!(nothing_queued(&l));
}

// ---------------------------------------------------------------------------------
// baremsg to baremsg

#[test]
fn ready_and_status_reach_the_manager_with_our_credentials() {
    let (l, s) = manager();
    s.ready().unwrap();
    s.status(b"serving: 3 workers").unwrap();
    s.ready_with_status(b"back").unwrap();
    let mut buf = [0u8; MAX_MESSAGE];

    let mut n = recv::<4>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"READY=1");
    assert_eq!(n.fields().collect::<Vec<_>>(), [(&b"READY"[..], &b"1"[..])]);
    assert_eq!(n.credentials(), Some(our_cred()));
    assert!(n.sender_is(sys::getpid()));
    assert_eq!(n.fd_count(), 0);
    assert!(!n.fds_truncated());
    if l.passes_pidfds() {
        let pidfd = n
            .take_pidfd()
            .expect("SO_PASSPIDFD is on: a pidfd comes along");
        assert_eq!(pidfd_pid(pidfd.as_fd()), sys::getpid());
        assert!(baremsg::fd::is_cloexec(pidfd.as_fd()).unwrap());
    } else {
        target::qemu_note("no SO_PASSPIDFD: the pidfd that comes along not checked");
    }
    drop(n);

    let n = recv::<4>(&l, &mut buf).unwrap();
    assert_eq!(n.get(b"STATUS"), Some(&b"serving: 3 workers"[..]));
    drop(n);
    let n = recv::<4>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"READY=1\nSTATUS=back");
}

#[test]
fn the_manager_socket_passes_pidfds_where_the_kernel_has_them() {
    let (l, _) = manager();
    let mut v = 0i32;
    let mut len = 4u32;
    // SAFETY: `v` is writable for 4 bytes.
    unsafe {
        sys::getsockopt(
            l.as_fd().as_raw_fd(),
            sys::SOL_SOCKET,
            sys::SO_PASSCRED,
            (&mut v as *mut i32).cast(),
            &mut len,
        )
    }
    .unwrap();
    assert_eq!(v, 1, "SO_PASSCRED is set");
    // SO_PASSPIDFD came with Linux 6.5; where the kernel has it, it is on.
    let mut v = 0i32;
    // SAFETY: as above.
    let r = unsafe {
        sys::getsockopt(
            l.as_fd().as_raw_fd(),
            sys::SOL_SOCKET,
            sys::SO_PASSPIDFD,
            (&mut v as *mut i32).cast(),
            &mut len,
        )
    };
    if target::under_qemu() {
        // qemu-user 7.2 refuses to set the option; reading it reaches the kernel: 0.
        target::qemu_note("setting SO_PASSPIDFD is ENOPROTOOPT: no SCM_PIDFD arrives");
        assert_eq!((r, v), (Ok(()), 0));
        assert!(!l.passes_pidfds());
        let one = 1i32;
        // SAFETY: `one` is readable for 4 bytes.
        let set = unsafe {
            sys::setsockopt(
                l.as_fd().as_raw_fd(),
                sys::SOL_SOCKET,
                sys::SO_PASSPIDFD,
                (&one as *const i32).cast(),
                4,
            )
        };
        assert_eq!(set, Err(Errno::ENOPROTOOPT));
        return;
    }
    match r {
        Ok(()) => assert!(v == 1 && l.passes_pidfds()),
        Err(_) => assert!(!l.passes_pidfds()),
    }
}

#[test]
fn typed_helpers_send_what_systemd_expects() {
    let (l, s) = manager();
    s.stopping().unwrap();
    s.watchdog().unwrap();
    s.main_pid(4321).unwrap();
    s.errno(Errno::EIO).unwrap();
    s.send_parts(&[b"READY=1\n", b"STATUS=", b"a", b"b"], &[])
        .unwrap();
    let mut buf = [0u8; MAX_MESSAGE];
    for want in [
        &b"STOPPING=1"[..],
        b"WATCHDOG=1",
        b"MAINPID=4321",
        b"ERRNO=5",
        b"READY=1\nSTATUS=ab",
    ] {
        assert_eq!(recv::<0>(&l, &mut buf).unwrap().payload(), want);
    }
}

#[test]
fn sending_on_behalf_of_another_pid_needs_privilege() {
    let (l, s) = manager();
    let mut buf = [0u8; MAX_MESSAGE];
    // Our own pid, explicitly: always allowed.
    s.send_parts_as(sys::getpid(), &[b"READY=1"], &[]).unwrap();
    assert_eq!(
        recv::<0>(&l, &mut buf).unwrap().credentials(),
        Some(our_cred())
    );
    // Another process's (our parent's), as sd_pid_notify(3) does.
    let other = sys::getppid();
    let r = s.send_parts_as(other, &[b"MAINPID=1"], &[]);
    if may_speak_for_others() {
        r.unwrap();
        let n = recv::<0>(&l, &mut buf).unwrap();
        assert_eq!(n.sender_pid(), Some(other));
    } else {
        assert_eq!(r, Err(NotifyError::Send(Errno::EPERM)));
        assert!(nothing_queued(&l));
    }
    // As root, the refusal is checked too, by a child that gives up root.
    if sys::geteuid() == 0 {
        in_forked_child(|| {
            // SAFETY: changes this forked child's ids only.
            let gid = unsafe { libc::setgid(65534) };
            // SAFETY: as above.
            let uid = unsafe { libc::setuid(65534) };
            assert_eq!((gid, uid), (0, 0));
            assert!(!may_speak_for_others());
            let r = s.send_parts_as(other, &[b"MAINPID=1"], &[]);
            assert_eq!(r, Err(NotifyError::Send(Errno::EPERM)));
        });
        assert!(nothing_queued(&l));
    }
}

#[test]
fn reloading_carries_the_monotonic_clock() {
    let (l, s) = manager();
    let before = notify::monotonic_usec().unwrap();
    s.reloading().unwrap();
    let after = notify::monotonic_usec().unwrap();
    let mut buf = [0u8; MAX_MESSAGE];
    let n = recv::<0>(&l, &mut buf).unwrap();
    assert_eq!(n.get(b"RELOADING"), Some(&b"1"[..]));
    let usec: u64 = std::str::from_utf8(n.get(b"MONOTONIC_USEC").unwrap())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        before <= usec && usec <= after,
        "{before} <= {usec} <= {after}"
    );
    assert_eq!(
        n.payload(),
        format!("RELOADING=1\nMONOTONIC_USEC={usec}").as_bytes()
    );
}

#[test]
fn stored_fds_arrive_named_and_working() {
    let (l, s) = manager();
    let held = pipe_holding(b"kept state");
    let (their_r, their_w) = fd::pipe().unwrap();
    s.store_fds(Some(b"db"), &[held.as_fd(), their_w.as_fd()])
        .unwrap();
    drop((held, their_w));
    let mut buf = [0u8; MAX_MESSAGE];
    let mut n = recv::<4>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"FDSTORE=1\nFDNAME=db");
    assert_eq!(n.fd_count(), 2);
    let fds: Vec<OwnedFd> = n.take_fds().collect();
    assert_eq!(n.fds().count(), 0);
    assert!(fds
        .iter()
        .all(|f| baremsg::fd::is_cloexec(f.as_fd()).unwrap()));
    assert_eq!(read_to_end(fds[0].as_fd()), b"kept state");
    fd::write_all(fds[1].as_fd(), b"through the stored end").unwrap();
    drop(fds);
    assert_eq!(read_to_end(their_r.as_fd()), b"through the stored end");

    s.store_fds(None, &[their_r.as_fd()]).unwrap();
    let n = recv::<4>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"FDSTORE=1");
    assert_eq!(n.fd_count(), 1);
}

#[test]
fn barrier_returns_once_the_manager_has_read_everything() {
    let (l, s) = manager();
    let service = std::thread::spawn(move || {
        s.ready().unwrap();
        s.barrier(TIMEOUT)
    });
    let mut buf = [0u8; MAX_MESSAGE];
    assert_eq!(recv::<1>(&l, &mut buf).unwrap().payload(), b"READY=1");
    let n = recv::<1>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"BARRIER=1");
    assert_eq!(n.fd_count(), 1);
    let fd = n.fds().next().unwrap();
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    assert!(
        target.to_string_lossy().starts_with("pipe:"),
        "a pipe's end: {target:?}"
    );
    drop(n); // closes the pipe's write end: the barrier is passed
    assert_eq!(service.join().unwrap(), Ok(()));
}

#[test]
fn barrier_times_out_when_the_manager_does_not_answer() {
    let (l, s) = manager();
    let r = s.barrier(Duration::from_millis(100));
    assert_eq!(r, Err(NotifyError::BarrierTimeout));
    assert_eq!(r.unwrap_err().errno(), Errno::ETIMEDOUT);
    // The message did go out; the manager can still take and close it.
    let mut buf = [0u8; 64];
    let n = recv::<1>(&l, &mut buf).unwrap();
    assert_eq!((n.payload(), n.fd_count()), (&b"BARRIER=1"[..], 1));
}

#[test]
fn fds_beyond_what_the_receiver_keeps_are_closed_and_flagged() {
    let (l, s) = manager();
    let pipes: Vec<(OwnedFd, OwnedFd)> = (0..3).map(|_| fd::pipe().unwrap()).collect();
    let ends: Vec<BorrowedFd<'_>> = pipes.iter().map(|(_, w)| w.as_fd()).collect();
    s.store_fds(Some(b"three"), &ends).unwrap();
    let (reads, writes): (Vec<OwnedFd>, Vec<OwnedFd>) = pipes.into_iter().unzip();
    drop(writes);
    let mut buf = [0u8; MAX_MESSAGE];
    let n = recv::<1>(&l, &mut buf).unwrap();
    assert_eq!(n.fd_count(), 1);
    assert!(n.fds_truncated());
    assert!(!pipe_closed_now(reads[0].as_fd()), "the kept fd is open");
    assert!(pipe_closed(reads[1].as_fd()), "the second fd was closed");
    assert!(pipe_closed(reads[2].as_fd()), "the third fd was closed");
    drop(n);
    assert!(
        pipe_closed(reads[0].as_fd()),
        "dropping the notification closes the rest"
    );
}

#[test]
fn a_message_from_another_process_is_refused_and_its_fds_closed() {
    let (l, s) = manager();
    let (r, w) = fd::pipe().unwrap();
    s.store_fds(Some(b"x"), &[w.as_fd()]).unwrap();
    drop(w);
    let mut buf = [0u8; MAX_MESSAGE];
    let other = sys::getppid();
    let err = l.recv_from_pid::<4>(&mut buf, other).unwrap_err();
    assert_eq!(
        err,
        NotifyError::WrongSender {
            expected: other,
            actual: Some(sys::getpid())
        }
    );
    assert_eq!(err.errno(), Errno::EPERM);
    assert!(
        pipe_closed(r.as_fd()),
        "the refused message's fd was closed"
    );

    // The same check on a received notification.
    s.ready().unwrap();
    let n = recv::<0>(&l, &mut buf).unwrap();
    assert!(!n.sender_is(other));
    assert!(matches!(
        n.check_sender(other),
        Err(NotifyError::WrongSender { .. })
    ));
    s.ready().unwrap();
    assert!(l.recv_from_pid::<0>(&mut buf, sys::getpid()).is_ok());
}

#[test]
fn oversized_and_malformed_datagrams_are_refused_on_receipt_with_their_fds_closed() {
    let (l, _) = manager();
    let to = l.socket().local_addr().unwrap();
    let raw = UnixDatagram::unbound().unwrap();
    let big = [b"STATUS=".as_slice(), &[b'y'; 5000 - 7]].concat();
    let cases: [(&[u8], MessageError); 4] = [
        (b"READY", MessageError::MissingEquals { line: 0 }),
        (b"READY=1\0X=1", MessageError::Nul { offset: 7 }),
        (b"lower=1", MessageError::InvalidKey { line: 0 }),
        (
            &big,
            MessageError::TooLong {
                len: 5000,
                max: MAX_MESSAGE,
            },
        ),
    ];
    let mut buf = [0u8; MAX_MESSAGE];
    for (msg, want) in cases {
        let (r, w) = fd::pipe().unwrap();
        let mut cbuf = baremsg::cmsg::CmsgBuf::<{ baremsg::cmsg::space_for_fds(1) }>::new();
        let cmsgs = baremsg::cmsg::unix_rights(&mut cbuf, &[w.as_fd()]).unwrap();
        raw.send_msg_to(&[baremsg::io::IoSlice::new(msg)], &cmsgs, &to)
            .unwrap();
        drop(w);
        assert_eq!(
            recv::<4>(&l, &mut buf).unwrap_err(),
            NotifyError::InvalidMessage(want)
        );
        assert!(pipe_closed(r.as_fd()), "fd of {want:?} closed");
    }
    raw.send_to(b"", &to).unwrap();
    assert_eq!(
        recv::<4>(&l, &mut buf).unwrap_err(),
        NotifyError::InvalidMessage(MessageError::Empty)
    );
    // A smaller buffer is a smaller limit.
    raw.send_to(b"READY=1", &to).unwrap();
    let mut small = [0u8; 4];
    assert_eq!(
        recv::<0>(&l, &mut small).unwrap_err(),
        NotifyError::InvalidMessage(MessageError::TooLong { len: 7, max: 4 })
    );
}

#[test]
fn the_notify_env_entry_points_a_child_at_the_socket() {
    let path = TempPath::new("notify-env");
    let l = NotifyListener::bind(&UnixAddr::from_path(path.bytes()).unwrap()).unwrap();
    let env = l.env().unwrap();
    assert_eq!(env.as_bytes(), [b"NOTIFY_SOCKET=", path.bytes()].concat());
    assert_eq!(env.as_cstr().to_bytes(), env.as_bytes());
    assert_eq!(
        NotifySocket::parse(env.value())
            .unwrap()
            .addr()
            .unwrap()
            .as_path(),
        Some(path.bytes())
    );
    // A socket without an address has nothing to point at.
    let (a, _b) = UnixDatagram::pair().unwrap();
    let unnamed = NotifyListener::from_socket(a).unwrap();
    assert_eq!(unnamed.env().unwrap_err(), NotifyError::NoSocketAddress);
}

#[test]
fn every_address_notify_socket_accepts_fits_in_a_notify_env() {
    // The longest of each kind, and one byte less.
    for len in [106, 107] {
        let path = [b"/".as_slice(), &vec![b'p'; len - 1]].concat();
        let name = vec![b'n'; len];
        let cases = [
            (path.clone(), UnixAddr::from_path(&path).unwrap()),
            (
                [b"@".as_slice(), &name].concat(),
                UnixAddr::from_abstract(&name).unwrap(),
            ),
        ];
        for (value, addr) in cases {
            let parsed = NotifySocket::parse(&value).expect("NOTIFY_SOCKET accepts it");
            assert_eq!(parsed.addr(), Some(&addr));
            let env = NotifyEnv::new(&addr).unwrap_or_else(|e| panic!("{len} bytes: {e}"));
            assert_eq!(env.value(), value);
            assert_eq!(
                env.as_bytes(),
                [b"NOTIFY_SOCKET=".as_slice(), &value].concat()
            );
            assert_eq!(env.as_cstr().to_bytes(), env.as_bytes());
            assert_eq!(
                NotifySocket::parse(env.value()).unwrap().addr(),
                Some(&addr)
            );
        }
    }
    // A manager bound to the longest abstract name hands it to its children.
    let name = format!("{:x<107}", unique("long"));
    let l = NotifyListener::bind(&UnixAddr::from_abstract(name.as_bytes()).unwrap()).unwrap();
    let env = l.env().expect("the entry for a 107-byte abstract name");
    assert_eq!(env.value(), format!("@{name}").as_bytes());
    let s = NotifySocket::parse(env.value()).unwrap();
    s.ready().unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(recv::<0>(&l, &mut buf).unwrap().payload(), b"READY=1");
    // One byte more is refused by both.
    let long = [b"@".as_slice(), &[b'n'; 108]].concat();
    assert_eq!(
        NotifySocket::parse(&long).unwrap_err(),
        NotifyError::SocketNameTooLong { len: 108, max: 107 }
    );
}

#[test]
fn envp_walks_a_c_environment_array() {
    let entries = [
        c"A=1".as_ptr(),
        c"NOTIFY_SOCKET=@x".as_ptr(),
        std::ptr::null(),
    ];
    // SAFETY: a null-terminated array of NUL-terminated strings, alive for the test.
    let env = unsafe { Envp::from_raw(entries.as_ptr().cast()) };
    assert_eq!(env.collect::<Vec<_>>(), [&b"A=1"[..], b"NOTIFY_SOCKET=@x"]);
    // SAFETY: as above.
    let env = unsafe { Envp::from_raw(entries.as_ptr().cast()) };
    assert_eq!(
        NotifySocket::from_env(env)
            .unwrap()
            .unwrap()
            .addr()
            .unwrap()
            .as_abstract(),
        Some(&b"x"[..])
    );
    // SAFETY: null is an empty environment.
    assert_eq!(unsafe { Envp::from_raw(std::ptr::null()) }.count(), 0);
}

// ---------------------------------------------------------------------------------
// Other processes: systemd-notify, the example sender, a Python manager

/// systemd-notify's major version.
fn systemd_notify_version() -> u32 {
    let out = Command::new("systemd-notify")
        .arg("--version")
        .output()
        .expect("systemd-notify is installed (package systemd)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the version in {text:?}"))
}

/// Runs systemd-notify with `args` against a baremsg manager; returns the notification's
/// fields and credentials, after answering systemd-notify's barrier.
fn run_systemd_notify(args: &[&str]) -> (Vec<(String, String)>, sys::Ucred, i32) {
    let (l, _) = manager();
    let mut child = Guard::spawn(
        Command::new("systemd-notify")
            .args(args)
            .env(
                "NOTIFY_SOCKET",
                std::str::from_utf8(l.env().unwrap().value()).unwrap(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let child_pid = child.pid();
    let _ = child.child();
    let mut buf = [0u8; MAX_MESSAGE];
    let n = recv::<4>(&l, &mut buf).expect("systemd-notify's message");
    let fields = n
        .fields()
        .map(|(k, v)| {
            (
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect();
    let cred = n.credentials().expect("credentials");
    drop(n);
    // systemd-notify (v246+) then waits on a barrier, unless --no-block: our dropping the
    // barrier message's fd lets it exit 0.
    let b = recv::<4>(&l, &mut buf).expect("systemd-notify's barrier");
    assert_eq!((b.payload(), b.fd_count()), (&b"BARRIER=1"[..], 1));
    assert!(
        b.sender_is(child_pid),
        "the barrier is sent as systemd-notify itself"
    );
    drop(b);
    child.wait_ok();
    (fields, cred, child_pid)
}

/// Whether this process may send credentials with a pid not its own: the kernel lets
/// a sender with CAP_SYS_ADMIN (bit 21 of the effective set) do so.
fn may_speak_for_others() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .expect("a CapEff line");
    u64::from_str_radix(caps.trim(), 16).unwrap() & (1 << 21) != 0
}

/// The pid systemd-notify's message carries. Before v254 it sends on behalf of its
/// parent (`sd_pid_notify(getppid())`, as a shell script's helper would): the kernel
/// accepts a pid not the sender's own only with CAP_SYS_ADMIN, so without it, it falls
/// back to its own. v254 added `--pid=self`, used then.
fn systemd_notify_sender(child_pid: i32) -> i32 {
    if systemd_notify_version() < 254 && may_speak_for_others() {
        sys::getpid()
    } else {
        child_pid
    }
}

#[test]
fn systemd_notify_ready_and_status_reach_the_baremsg_manager() {
    let mut args = vec!["--ready", "--status=up and running", "X_TEST=42"];
    if systemd_notify_version() >= 254 {
        args.push("--pid=self");
    }
    let (fields, cred, child_pid) = run_systemd_notify(&args);
    let get = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("READY"), Some("1"));
    assert_eq!(get("STATUS"), Some("up and running"));
    assert_eq!(get("X_TEST"), Some("42"));
    assert_eq!(cred.pid, systemd_notify_sender(child_pid));
    assert_eq!((cred.uid, cred.gid), (sys::geteuid(), sys::getegid()));
}

#[test]
fn systemd_notify_pid_sets_mainpid() {
    let me = sys::getpid();
    let (fields, cred, child_pid) = run_systemd_notify(&["--ready", &format!("--pid={me}")]);
    assert_eq!(
        fields,
        [
            ("READY".into(), "1".into()),
            ("MAINPID".into(), me.to_string())
        ]
    );
    // Asked to speak for `me`: with CAP_SYS_ADMIN the kernel lets it; otherwise its own pid.
    let want = if may_speak_for_others() {
        me
    } else {
        child_pid
    };
    assert_eq!(cred.pid, want);
}

#[test]
fn the_example_sender_is_told_apart_by_its_pid() {
    let (l, _) = manager();
    let child = Guard::spawn(
        target::command(example("notify_ready"))
            .args([
                "READY=1",
                "STATUS=from the example",
                "--fdstore=cache",
                "--barrier",
            ])
            .env(
                "NOTIFY_SOCKET",
                std::str::from_utf8(l.env().unwrap().value()).unwrap(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let pid = child.pid();
    let mut buf = [0u8; MAX_MESSAGE];
    let n = l.recv_from_pid::<0>(&mut buf, pid).unwrap();
    assert_eq!(n.payload(), b"READY=1\nSTATUS=from the example");
    if l.passes_pidfds() {
        assert_eq!(pidfd_pid(n.pidfd().unwrap()), pid);
    } else {
        target::qemu_note("no SO_PASSPIDFD: the sender's pidfd not checked");
    }
    drop(n);
    // Expecting someone else: refused, naming the real sender.
    let err = l.recv_from_pid::<1>(&mut buf, sys::getpid()).unwrap_err();
    assert_eq!(
        err,
        NotifyError::WrongSender {
            expected: sys::getpid(),
            actual: Some(pid)
        }
    );
    let mut b = l.recv_from_pid::<1>(&mut buf, pid).unwrap();
    assert_eq!(b.payload(), b"BARRIER=1");
    drop(b.take_fds());
    drop(b);
    assert_eq!(child.wait_ok(), "notified\n");
}

#[test]
fn the_example_sender_reports_a_bad_notify_socket() {
    for (value, text) in [
        ("", "NOTIFY_SOCKET is empty"),
        ("relative/path", "neither an absolute path"),
        ("/nonexistent/baremsg/notify", "No such file or directory"),
    ] {
        let child = Guard::spawn(
            target::command(example("notify_ready"))
                .arg("READY=1")
                .env("NOTIFY_SOCKET", value)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        let (status, _, err) = child.wait();
        assert_eq!(status.code(), Some(1), "{value:?}");
        assert!(err.contains(text), "{value:?}: {err}");
    }
    let child = Guard::spawn(
        target::command(example("notify_ready"))
            .arg("READY=1")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::piped()),
    );
    assert_eq!(child.wait_ok(), "not notified\n");
}

#[test]
fn python_manager_sees_the_exact_bytes_and_credentials() {
    for abstract_ns in [false, true] {
        let path = TempPath::new("py-notify");
        let addr = if abstract_ns {
            format!("@{}", unique("py-notify"))
        } else {
            path.str().to_owned()
        };
        let mut py = Guard::spawn(
            Command::new(python())
                .arg(script("notify_receiver.py"))
                .args([&addr, "8"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        let mut lines = BufReader::new(py.child().stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");

        let s = NotifySocket::parse(addr.as_bytes()).unwrap();
        s.ready().unwrap();
        s.status(b"caf\xc3\xa9 \xff").unwrap();
        let before = notify::monotonic_usec().unwrap();
        s.reloading().unwrap();
        let after = notify::monotonic_usec().unwrap();
        s.main_pid(1234).unwrap();
        s.errno(Errno::EIO).unwrap();
        let held = pipe_holding(b"stored bytes");
        let memfd = fd::memfd_create(c"py", 0).unwrap();
        fd::write_all(memfd.as_fd(), b"memfd bytes").unwrap();
        s.store_fds(Some(b"cache"), &[held.as_fd(), memfd.as_fd()])
            .unwrap();
        drop(held);
        s.send(b"WATCHDOG=1\n").unwrap();
        s.barrier(TIMEOUT).unwrap(); // Python closes the fd

        let me = our_cred();
        let creds = format!("{} {} {}", me.pid, me.uid, me.gid);
        let mut msgs = Vec::new();
        for _ in 0..8 {
            let line = lines.next().expect("a line per message").unwrap();
            let rest = line.strip_prefix("msg ").expect("a msg line").to_owned();
            msgs.push(rest);
        }
        let payload = |m: &str| unhex(m.split(' ').next().unwrap());
        assert_eq!(payload(&msgs[0]), b"READY=1");
        assert_eq!(payload(&msgs[1]), b"STATUS=caf\xc3\xa9 \xff");
        let reload = String::from_utf8(payload(&msgs[2])).unwrap();
        let usec: u64 = reload
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .unwrap_or_else(|| panic!("{reload:?}"))
            .parse()
            .unwrap();
        assert!(before <= usec && usec <= after);
        assert_eq!(payload(&msgs[3]), b"MAINPID=1234");
        assert_eq!(payload(&msgs[4]), b"ERRNO=5");
        assert_eq!(
            msgs[5],
            format!(
                "{} {creds} 0 2 {} {}",
                hex(b"FDSTORE=1\nFDNAME=cache"),
                hex(b"stored bytes"),
                hex(b"memfd bytes")
            )
        );
        assert_eq!(msgs[6], format!("{} {creds} 0 0", hex(b"WATCHDOG=1\n")));
        assert_eq!(
            msgs[7],
            format!("{} {creds} 0 1 error:EBADF", hex(b"BARRIER=1"))
        );
        for m in &msgs[..5] {
            assert!(m.ends_with(&format!(" {creds} 0 0")), "{m}");
        }
        py.wait_ok();
    }
}

// ---------------------------------------------------------------------------------
// Failure paths: clear errors, no fd left behind

#[test]
fn unreachable_notify_sockets_are_send_errors() {
    let missing = TempPath::new("missing");
    let s = NotifySocket::parse(missing.bytes()).unwrap();
    assert_eq!(s.ready(), Err(NotifyError::Send(Errno::ENOENT)));
    let entry = [b"NOTIFY_SOCKET=", missing.bytes()].concat();
    assert_eq!(
        notify::notify([&entry[..]], b"READY=1"),
        Err(NotifyError::Send(Errno::ENOENT))
    );
    assert!(NotifyError::Send(Errno::ENOENT)
        .to_string()
        .contains("sending to NOTIFY_SOCKET failed"));

    // A file that is not a socket, and a socket nobody is bound to any more.
    let file = TempPath::new("not-a-socket");
    std::fs::write(&file.0, b"").unwrap();
    assert_eq!(
        NotifySocket::parse(file.bytes()).unwrap().ready(),
        Err(NotifyError::Send(Errno::ECONNREFUSED))
    );
    let stale = TempPath::new("stale");
    drop(NotifyListener::bind(&UnixAddr::from_path(stale.bytes()).unwrap()).unwrap());
    // Closed here; a child another test forks at that moment may hold a copy of the
    // socket for a while, so the refusal may take that long to come.
    let stale = NotifySocket::parse(stale.bytes()).unwrap();
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut r = stale.ready();
    while r.is_ok() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
        r = stale.ready();
    }
    assert_eq!(r, Err(NotifyError::Send(Errno::ECONNREFUSED)));
    let nobody = NotifySocket::parse(format!("@{}", unique("nobody")).as_bytes()).unwrap();
    assert_eq!(nobody.ready(), Err(NotifyError::Send(Errno::ECONNREFUSED)));
}

#[test]
fn a_socket_without_write_permission_is_a_send_error() {
    let path = TempPath::new("no-perm");
    let l = NotifyListener::bind(&UnixAddr::from_path(path.bytes()).unwrap()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = NotifySocket::parse(path.bytes()).unwrap();
    in_forked_child(|| {
        // As a user with no right to the socket (root ignores file modes).
        if sys::geteuid() == 0 {
            // SAFETY: changes this forked child's ids only.
            let gid = unsafe { libc::setgid(65534) };
            // SAFETY: as above.
            let uid = unsafe { libc::setuid(65534) };
            assert_eq!((gid, uid), (0, 0));
        } else {
            std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        assert_eq!(s.ready(), Err(NotifyError::Send(Errno::EACCES)));
    });
    assert!(nothing_queued(&l));
}

#[test]
fn failure_paths_leave_no_fd_behind() {
    let (l, s) = manager();
    let missing = TempPath::new("leak-missing");
    in_forked_child(move || {
        let before = open_fd_count();
        let mut buf = [0u8; MAX_MESSAGE];
        for _ in 0..20 {
            // A send that fails after its socket was made.
            let gone = NotifySocket::parse(missing.bytes()).unwrap();
            assert_eq!(gone.ready(), Err(NotifyError::Send(Errno::ENOENT)));
            let (r, w) = fd::pipe().unwrap();
            assert_eq!(
                gone.store_fds(Some(b"x"), &[w.as_fd()]),
                Err(NotifyError::Send(Errno::ENOENT))
            );
            assert_eq!(gone.barrier(TIMEOUT), Err(NotifyError::Send(Errno::ENOENT)));
            // Refused before sending.
            assert!(s.send_with_fds(b"no equals", &[w.as_fd()]).is_err());
            assert!(s.store_fds(Some(b"a:b"), &[w.as_fd()]).is_err());
            // A barrier that times out.
            assert_eq!(
                s.barrier(Duration::from_millis(1)),
                Err(NotifyError::BarrierTimeout)
            );
            let b = recv::<1>(&l, &mut buf).unwrap();
            assert_eq!(b.fd_count(), 1);
            drop(b);
            // Refused on receipt: wrong sender, too long, fds over capacity.
            s.store_fds(None, &[w.as_fd(), r.as_fd()]).unwrap();
            assert!(l.recv_from_pid::<2>(&mut buf, 1).is_err());
            s.store_fds(None, &[w.as_fd(), r.as_fd()]).unwrap();
            assert!(l.recv::<2>(&mut buf[..4]).is_err());
            s.store_fds(None, &[w.as_fd(), r.as_fd()]).unwrap();
            assert!(l.recv::<0>(&mut buf).unwrap().fds_truncated());
        }
        assert_eq!(open_fd_count(), before);
    });
}

#[cfg(feature = "std")]
#[test]
fn notify_std_reads_notify_socket_through_std_env() {
    let (l, _) = manager();
    let child = Guard::spawn(
        target::command(example("notify_ready"))
            .args(["READY=1", "STATUS=std", "--std"])
            .env(
                "NOTIFY_SOCKET",
                std::str::from_utf8(l.env().unwrap().value()).unwrap(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let pid = child.pid();
    let mut buf = [0u8; MAX_MESSAGE];
    let n = l.recv_from_pid::<0>(&mut buf, pid).unwrap();
    assert_eq!(n.payload(), b"READY=1\nSTATUS=std");
    assert_eq!(child.wait_ok(), "notified\n");
    let child = Guard::spawn(
        target::command(example("notify_ready"))
            .args(["READY=1", "--std"])
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::piped()),
    );
    assert_eq!(child.wait_ok(), "not notified\n");
}

// ---------------------------------------------------------------------------------
// A reused pid

/// Whether pidfds live on pidfs (Linux 6.9+), where a pidfd names one process for good.
fn kernel_has_pidfs() -> bool {
    // SAFETY: the new fd is wrapped at once.
    let me = unsafe { OwnedFd::from_raw_fd(sys::pidfd_open(sys::getpid(), 0).unwrap()) };
    let mut fs = sys::Statfs::default();
    // SAFETY: `fs` is writable.
    unsafe { sys::fstatfs(me.as_raw_fd(), &mut fs) }.unwrap();
    fs.f_type == sys::PIDFS_MAGIC
}

/// Forks a child that sends `count` times `msg` to `service`, then exits; returns its
/// pid and a pidfd of it, made with it (`clone` with `CLONE_PIDFD`).
fn fork_sender(service: &NotifySocket, msg: &[u8], count: usize) -> (i32, OwnedFd) {
    let mut pidfd = -1;
    // SAFETY: the child only sends (raw syscalls, no allocation) and exits.
    match unsafe { sys::fork_pidfd(&mut pidfd) }.expect("clone") {
        0 => {
            let ok = (0..count).all(|_| service.send(msg).is_ok());
            sys::exit_group(if ok { 0 } else { 1 })
        }
        // SAFETY: the pidfd the kernel made for us.
        pid => (pid, unsafe { OwnedFd::from_raw_fd(pidfd) }),
    }
}

/// Reaps `pid`, asserting it exited with 0.
fn reap_ok(pid: i32) {
    let mut status = 0;
    // SAFETY: our child; nobody else waits for it.
    assert_eq!(unsafe { sys::wait4(pid, &mut status, 0) }, Ok(pid));
    assert!(sys::wifexited(status) && sys::wexitstatus(status) == 0);
}

/// [`manager`], where the kernel passes pidfds (SO_PASSPIDFD, Linux 6.5+); `None`,
/// saying so, where it does not.
fn manager_with_pidfds() -> Option<(NotifyListener, NotifySocket)> {
    let (l, s) = manager();
    if !l.passes_pidfds() {
        eprintln!("skipped: this kernel passes no pidfds (SO_PASSPIDFD, Linux 6.5+)");
        return None;
    }
    Some((l, s))
}

/// Set for the namespace half: where `examples/notify_ready` is.
const NOTIFY_READY: &str = "BAREMSG_NOTIFY_READY";

/// In a PID namespace of its own (`unshare --pid --fork`, this binary as its PID 1, so
/// that the pid it forces, with `ns_last_pid`, is no other test's): an old instance
/// sends READY=1 and is reaped; the next child, started by `Spawn`, gets its pid; the
/// old messages must be refused, by pid and by the new child's pidfd, and the new
/// child's own accepted.
#[test]
fn a_message_from_a_reaped_process_whose_pid_was_reused_is_refused() {
    let Some((_l, _)) = manager_with_pidfds() else {
        return;
    };
    let notify_ready = example("notify_ready");
    run_test_alone(
        &["unshare", "--pid", "--fork", "--"],
        "pid_reuse_in_a_namespace_of_its_own",
        &[(NOTIFY_READY, notify_ready.as_ref())],
    );
}

#[test]
#[ignore = "the half of a_message_from_a_reaped_process_whose_pid_was_reused_is_refused that runs in a PID namespace"]
fn pid_reuse_in_a_namespace_of_its_own() {
    let Some(notify_ready) = std::env::var_os(NOTIFY_READY) else {
        eprintln!("not started by its parent test: nothing done");
        return;
    };
    assert_eq!(sys::getpid(), 1, "PID 1 of a new PID namespace");
    let (l, s) = manager();
    let mut buf = [0u8; MAX_MESSAGE];

    let (old, old_pidfd) = fork_sender(&s, b"READY=1\nX_INSTANCE=old", 2);
    reap_ok(old);
    drop(old_pidfd);
    // The next pid handed out in this namespace is `old` again.
    std::fs::write("/proc/sys/kernel/ns_last_pid", (old - 1).to_string())
        .expect("write /proc/sys/kernel/ns_last_pid");
    let exe = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(
        notify_ready.as_os_str(),
    ))
    .unwrap();
    let env = l.env().unwrap();
    let argv = [exe.as_c_str(), c"READY=1", c"X_INSTANCE=new"];
    let envp = [env.as_cstr()];
    let new = Spawn::new(&exe, &argv)
        .env(&envp)
        .spawn_with_pidfd(&mut ExecBuf::<8, 64>::new())
        .unwrap();
    assert_eq!(new.pid(), old, "the new child got the old one's pid");
    let pidfd = new.pidfd().expect("a pidfd made with the child");

    // Both old messages: the pid matches, the process does not.
    let stale = NotifyError::WrongSender {
        expected: old,
        actual: Some(old),
    };
    let n = recv::<0>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"READY=1\nX_INSTANCE=old");
    assert!(
        n.sender_is(old),
        "by number alone it looks like the new child"
    );
    assert_eq!(n.check_sender(old).unwrap_err(), stale, "by pid");
    assert_eq!(
        l.recv_from_pidfd::<0>(&mut buf, old, pidfd).unwrap_err(),
        stale,
        "by the new child's pidfd"
    );
    // The new child's own message passes both checks.
    let n = recv::<0>(&l, &mut buf).unwrap();
    assert_eq!(n.payload(), b"READY=1\nX_INSTANCE=new");
    let n = n
        .check_sender(old)
        .expect("the new child's message, by pid");
    assert!(n.check_sender_pidfd(old, pidfd).is_ok(), "by pidfd");
    reap_ok(old);
}

#[test]
fn a_message_the_expected_process_sent_before_it_was_reaped() {
    let Some((l, s)) = manager_with_pidfds() else {
        return;
    };
    let mut buf = [0u8; MAX_MESSAGE];
    let (pid, pidfd) = fork_sender(&s, b"READY=1", 2);
    reap_ok(pid);
    // By pid: the sender is gone, so it cannot be told from an earlier process with
    // that pid: refused.
    assert_eq!(
        l.recv_from_pid::<0>(&mut buf, pid).unwrap_err(),
        NotifyError::WrongSender {
            expected: pid,
            actual: Some(pid)
        }
    );
    // By pidfd: on pidfs the sender is known to be the expected process, gone or not;
    // before pidfs (6.5 to 6.8) it cannot be told, and is refused.
    let r = l.recv_from_pidfd::<0>(&mut buf, pid, pidfd.as_fd());
    if kernel_has_pidfs() {
        assert_eq!(r.unwrap().payload(), b"READY=1");
    } else {
        assert!(matches!(r, Err(NotifyError::WrongSender { .. })));
    }
}

#[test]
fn a_pidfd_of_another_process_refuses_a_message_whatever_its_pid() {
    let Some((l, s)) = manager_with_pidfds() else {
        return;
    };
    let mut buf = [0u8; MAX_MESSAGE];
    // Our own message, checked against a pidfd of another (live) process given with
    // our pid: the pids match, the processes do not.
    s.ready().unwrap();
    let (other, other_pidfd) = fork_sender(&s, b"X=1", 0);
    let n = recv::<0>(&l, &mut buf).unwrap();
    let r = n.check_sender_pidfd(sys::getpid(), other_pidfd.as_fd());
    reap_ok(other);
    assert_eq!(
        r.unwrap_err(),
        NotifyError::WrongSender {
            expected: sys::getpid(),
            actual: Some(sys::getpid())
        }
    );
    // And against our own pidfd: accepted.
    s.ready().unwrap();
    // SAFETY: the new fd is wrapped at once.
    let me = unsafe { OwnedFd::from_raw_fd(sys::pidfd_open(sys::getpid(), 0).unwrap()) };
    let n = l
        .recv_from_pidfd::<0>(&mut buf, sys::getpid(), me.as_fd())
        .unwrap();
    assert_eq!(n.payload(), b"READY=1");
    assert!(NotifyError::WrongSender {
        expected: 5,
        actual: Some(5)
    }
    .to_string()
    .contains("another process than the one expected"));
}

#[path = "seccomp/mod.rs"]
mod seccomp;

/// Without `/proc` (here: every `openat` refused by a seccomp filter, in a forked
/// child), where pidfds live on pidfs, `check_sender` compares the message's pidfd with
/// one of the process that has the pid now: a reaped sender is still refused, a live
/// one accepted.
#[test]
fn without_proc_a_reaped_sender_is_still_refused_where_the_kernel_has_pidfs() {
    let Some((l, s)) = manager_with_pidfds() else {
        return;
    };
    if !kernel_has_pidfs() {
        eprintln!("skipped: this kernel has no pidfs (Linux 6.9+)");
        return;
    }
    let (gone, _) = fork_sender(&s, b"X=gone", 1);
    reap_ok(gone);
    let filter = seccomp::refuse_each(&[(sys::raw::nr::OPENAT as u32, Errno::EACCES.raw() as u32)]);
    in_forked_child(|| {
        seccomp::install(&filter).expect("install the filter");
        // SAFETY: a NUL-terminated path; nothing is opened.
        let r = unsafe { sys::openat(sys::AT_FDCWD, c"/proc/self/status".as_ptr().cast(), 0, 0) };
        assert_eq!(r, Err(Errno::EACCES), "/proc cannot be opened");
        let mut buf = [0u8; MAX_MESSAGE];
        assert_eq!(
            l.recv_from_pid::<0>(&mut buf, gone).unwrap_err(),
            NotifyError::WrongSender {
                expected: gone,
                actual: Some(gone)
            }
        );
        s.ready().unwrap();
        assert!(l.recv_from_pid::<0>(&mut buf, sys::getpid()).is_ok());
    });
}

#[test]
fn systemd_notify_with_pid_sends_systemd_259_fields_the_manager_types() {
    // --pid=N: systemd-notify sends MAINPID=N (and speaks for N where it may).
    let me = sys::getpid().to_string();
    let pid_arg = format!("--pid={me}");
    let (fields, _, _) = run_systemd_notify(&[
        &pid_arg,
        "WATCHDOG=trigger",
        "EXTEND_TIMEOUT_USEC=7000000",
        "NOTIFYACCESS=all",
        "EXIT_STATUS=9",
        "RESTART_RESET=1",
        "X_PRIVATE=kept",
    ]);
    let typed: Vec<notify::Field<'_>> = fields
        .iter()
        .map(|(k, v)| notify::parse_field(k.as_bytes(), v.as_bytes()).unwrap())
        .collect();
    for want in [
        notify::Field::MainPid(sys::getpid()),
        notify::Field::WatchdogTrigger,
        notify::Field::ExtendTimeoutUsec(7_000_000),
        notify::Field::NotifyAccess(notify::NotifyAccessValue::All),
        notify::Field::ExitStatus(9),
        notify::Field::RestartReset,
        notify::Field::Private(b"X_PRIVATE", b"kept"),
    ] {
        assert!(typed.contains(&want), "{want:?} not in {typed:?}");
    }
}

#[test]
fn python_manager_sees_the_systemd_259_helpers_bytes_and_the_main_pidfd() {
    let addr = format!("@{}", unique("py-259"));
    let mut py = Guard::spawn(
        Command::new(python())
            .arg(script("notify_receiver.py"))
            .args([&addr, "9"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut lines = BufReader::new(py.child().stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let s = NotifySocket::parse(addr.as_bytes()).unwrap();
    s.watchdog_trigger().unwrap();
    s.watchdog_usec(20_000_000).unwrap();
    s.extend_timeout_usec(1).unwrap();
    s.notify_access(notify::NotifyAccessValue::Main).unwrap();
    s.exit_status(42).unwrap();
    s.restart_reset().unwrap();
    s.remove_stored_fds(b"old").unwrap();
    let held = pipe_holding(b"unpolled");
    s.store_fds_unpolled(Some(b"conn"), &[held.as_fd()])
        .unwrap();
    drop(held);
    let me = baremsg::process::Pidfd::open(sys::getpid()).unwrap();
    s.main_pidfd(me.as_fd()).unwrap();
    let c = our_cred();
    let creds = format!("{} {} {}", c.pid, c.uid, c.gid);
    let simple: [&[u8]; 7] = [
        b"WATCHDOG=trigger",
        b"WATCHDOG_USEC=20000000",
        b"EXTEND_TIMEOUT_USEC=1",
        b"NOTIFYACCESS=main",
        b"EXIT_STATUS=42",
        b"RESTART_RESET=1",
        b"FDSTOREREMOVE=1\nFDNAME=old",
    ];
    for want in simple {
        let line = lines.next().unwrap().unwrap();
        assert_eq!(line, format!("msg {} {creds} 0 0", hex(want)));
    }
    let line = lines.next().unwrap().unwrap();
    assert_eq!(
        line,
        format!(
            "msg {} {creds} 0 1 {}",
            hex(b"FDSTORE=1\nFDPOLL=0\nFDNAME=conn"),
            hex(b"unpolled")
        )
    );
    let line = lines.next().unwrap().unwrap();
    assert_eq!(
        line,
        format!("msg {} {creds} 0 1 pidfd:{}", hex(b"MAINPIDFD=1"), c.pid)
    );
    py.wait_ok();
}
