//! Socket activation (`LISTEN_FDS`, `sd_listen_fds`) on both sides: baremsg's service side
//! (`examples/activated.rs`) started by systemd's own `systemd-socket-activate` and by
//! baremsg's `Spawn`; baremsg's `Spawn` checked by a Python service; the variables'
//! parsing; and bad input on each side.

#[path = "init_helpers/mod.rs"]
mod init_helpers;
mod target;

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baremsg::activation::{
    self, is_listen_var, socket_info, Activated, ActivationError, ExecBuf, ListenEnv, Needs, Spawn,
    SpawnStep, LISTEN_FDS_START, UNKNOWN_NAME,
};
use baremsg::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use baremsg::notify::{NotifyListener, MAX_MESSAGE};
use baremsg::sys;
use baremsg::unix::{
    ConnectionKind, Datagram, Listener, Seqpacket, Socket, SocketKind, Stream, UnixAddr,
    UnixDatagram, UnixListener, UnixSeqpacket, UnixSeqpacketListener, UnixStream,
};
use baremsg::{Errno, Error};

use init_helpers::*;

fn our_pid() -> Vec<u8> {
    sys::getpid().to_string().into_bytes()
}

fn abstract_addr(what: &str) -> (UnixAddr, String) {
    let name = unique(what);
    (
        UnixAddr::from_abstract(name.as_bytes()).unwrap(),
        format!("@{name}"),
    )
}

/// Connects to `addr`, retrying while the other side is not listening yet.
fn connect_retry<K: ConnectionKind>(addr: &UnixAddr) -> Socket<K> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match Socket::<K>::connect(addr) {
            Ok(s) => return s,
            Err(Error::Os(Errno::ECONNREFUSED | Errno::ENOENT)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("connect to {addr}: {e}"),
        }
    }
}

/// The activated example's report: `key value` lines, and the `fd` lines apart.
struct Report {
    fields: HashMap<String, String>,
    fds: Vec<String>,
}

impl Report {
    fn parse(text: &str) -> Self {
        let mut fields = HashMap::new();
        let mut fds = Vec::new();
        for line in text.lines() {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            if k == "fd" {
                fds.push(v.to_owned());
            } else {
                fields.insert(k.to_owned(), v.to_owned());
            }
        }
        Report { fields, fds }
    }

    fn get(&self, k: &str) -> &str {
        self.fields
            .get(k)
            .unwrap_or_else(|| panic!("no {k:?} line in the report"))
    }
}

/// Sends `request` on a connected socket and reads the whole answer.
fn ask<K: SocketKind>(conn: &Socket<K>, request: &[u8]) -> String {
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    conn.send(request).unwrap();
    String::from_utf8(read_to_end(conn.as_fd())).unwrap()
}

// ---------------------------------------------------------------------------------
// The variables

#[test]
fn listen_env_reads_the_count_and_the_names() {
    let pid = our_pid();
    let e = ListenEnv::from_values(Some(&pid), Some(b"2"), Some(b"web:"))
        .unwrap()
        .unwrap();
    assert_eq!(e.count(), 2);
    assert_eq!(e.names().collect::<Vec<_>>(), [&b"web"[..], b""]);
    let e = ListenEnv::from_values(Some(&pid), Some(b"3"), None)
        .unwrap()
        .unwrap();
    assert_eq!(e.names().collect::<Vec<_>>(), [UNKNOWN_NAME; 3]);
    let e = ListenEnv::from_values(Some(&pid), Some(b"0"), Some(b""))
        .unwrap()
        .unwrap();
    assert_eq!((e.count(), e.names().count()), (0, 0));

    let pid_entry = [b"LISTEN_PID=".as_slice(), &pid].concat();
    let env: [&[u8]; 5] = [
        b"LISTEN_FDS=1",
        b"LISTEN_FDNAMESX=no",
        &pid_entry,
        b"LISTEN_FDNAMES=sock",
        b"LISTEN_FDS=7",
    ];
    let e = ListenEnv::from_env(env).unwrap().unwrap();
    assert_eq!((e.count(), e.names().next()), (1, Some(&b"sock"[..])));
}

#[test]
fn no_listen_pid_means_not_activated() {
    assert_eq!(
        ListenEnv::from_values(None, Some(b"2"), Some(b"a:b")),
        Ok(None)
    );
    let env: [&[u8]; 2] = [b"LISTEN_FDS=2", b"PATH=/bin"];
    assert_eq!(ListenEnv::from_env(env), Ok(None));
}

#[test]
fn listen_pid_of_another_process_means_not_for_us() {
    // As sd_listen_fds returns 0: a child that inherited its parent's variables was not
    // activated, and must not fail for it.
    let other = sys::getppid().to_string();
    for (pid, pidfdid) in [
        (other.as_bytes(), None),
        (other.as_bytes(), Some(&b"12"[..])),
    ] {
        let r = ListenEnv::from_all_values(Some(pid), pidfdid, Some(b"1"), None);
        assert_eq!(r, Ok(None));
    }
    let entry = format!("LISTEN_PID={other}");
    let env: [&[u8]; 2] = [entry.as_bytes(), b"LISTEN_FDS=1"];
    assert_eq!(ListenEnv::from_env(env), Ok(None));
    for garbage in [&b""[..], b"0", b"-1", b"+5", b"12a", b" 1", b"99999999999"] {
        assert_eq!(
            ListenEnv::from_values(Some(garbage), Some(b"1"), None),
            Err(ActivationError::InvalidListenPid),
            "{garbage:?}"
        );
    }
}

#[test]
fn garbage_listen_fds_is_refused() {
    let pid = our_pid();
    for garbage in [
        &b""[..],
        b"x",
        b"-1",
        b"+1",
        b" 1",
        b"1 ",
        b"0x1",
        b"1.0",
        b"99999999999999999999999",
    ] {
        let r = ListenEnv::from_values(Some(&pid), Some(garbage), None);
        assert_eq!(r, Err(ActivationError::InvalidListenFds), "{garbage:?}");
    }
    assert_eq!(
        ListenEnv::from_values(Some(&pid), None, None),
        Err(ActivationError::MissingListenFds)
    );
}

#[test]
fn more_fds_than_the_fd_limit_allows_is_refused() {
    let mut lim = sys::Rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: reads the limit only.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, std::ptr::null(), &mut lim) }.unwrap();
    let room = lim.rlim_cur.min(i32::MAX as u64) as usize - 3;
    let pid = our_pid();
    let fits = room.to_string();
    assert_eq!(
        ListenEnv::from_values(Some(&pid), Some(fits.as_bytes()), None)
            .map(|e| e.map(|e| e.count())),
        Ok(Some(room))
    );
    let over = (room + 1).to_string();
    assert_eq!(
        ListenEnv::from_values(Some(&pid), Some(over.as_bytes()), None),
        Err(ActivationError::TooManyFds {
            count: room + 1,
            limit: room
        })
    );
    // A count past usize (i686) saturates.
    let huge = usize::try_from(99_999_999_999u64).unwrap_or(usize::MAX);
    assert!(matches!(
        ListenEnv::from_values(Some(&pid), Some(b"99999999999"), None),
        Err(ActivationError::TooManyFds { count, .. }) if count == huge
    ));
}

#[test]
fn a_name_count_other_than_the_fd_count_is_refused() {
    let pid = our_pid();
    for (fds, names, got) in [
        (&b"2"[..], &b"a"[..], 1),
        (b"2", b"a:b:c", 3),
        (b"0", b"a", 1),
        (b"3", b"", 1),
    ] {
        let r = ListenEnv::from_values(Some(&pid), Some(fds), Some(names));
        let want: usize = std::str::from_utf8(fds).unwrap().parse().unwrap();
        assert_eq!(
            r,
            Err(ActivationError::NameCountMismatch {
                fds: want,
                names: got
            }),
            "{names:?}"
        );
    }
}

#[test]
fn the_variables_to_drop_for_children_are_the_four() {
    for entry in [
        &b"LISTEN_PID=1"[..],
        b"LISTEN_PIDFDID=123",
        b"LISTEN_FDS=2",
        b"LISTEN_FDNAMES=a:b",
        b"LISTEN_FDS=",
    ] {
        assert!(is_listen_var(entry), "{entry:?}");
    }
    for entry in [
        &b"LISTEN_PIDS=1"[..],
        b"LISTEN_FDS",
        b"XLISTEN_FDS=1",
        b"PATH=/bin",
    ] {
        assert!(!is_listen_var(entry), "{entry:?}");
    }
    assert_eq!(
        activation::ENV_VARS,
        [
            "LISTEN_PID",
            "LISTEN_PIDFDID",
            "LISTEN_FDS",
            "LISTEN_FDNAMES"
        ]
    );
}

// ---------------------------------------------------------------------------------
// Taking the fds (in forked children, which may put what they like at fds 3..)

/// In a forked child: puts `fds` at 3, 4, ... without close-on-exec, as a manager
/// leaves them, and closes everything else that sits in 3..3+n.
fn place_as_passed(fds: Vec<OwnedFd>) {
    let high: Vec<OwnedFd> = fds
        .iter()
        .map(|f| {
            // SAFETY: makes a new fd, owned at once.
            let fd = unsafe { sys::fcntl(f.as_raw_fd(), sys::F_DUPFD_CLOEXEC, 200) }.unwrap();
            // SAFETY: fcntl made it for us.
            unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
        })
        .collect();
    drop(fds);
    for (i, f) in high.iter().enumerate() {
        // SAFETY: replaces whatever this child had at 3 + i.
        unsafe { sys::dup3(f.as_raw_fd(), LISTEN_FDS_START + i as RawFd, 0) }.unwrap();
    }
}

/// In a forked child: the same open file at a number above the ones
/// [`place_as_passed`] overwrites.
fn lift(fd: OwnedFd) -> OwnedFd {
    // SAFETY: makes a new fd, owned at once.
    let high = unsafe { sys::fcntl(fd.as_raw_fd(), sys::F_DUPFD_CLOEXEC, 300) }.unwrap();
    // SAFETY: fcntl made it for us.
    unsafe { OwnedFd::from_raw_fd(high as RawFd) }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads flags.
    unsafe { sys::fcntl(fd, sys::F_GETFD, 0) }.is_ok()
}

#[test]
fn taken_fds_come_typed_named_and_close_on_exec() {
    in_forked_child(|| {
        let (stream_addr, stream_name) = abstract_addr("take-stream");
        let (seq_addr, _) = abstract_addr("take-seq");
        let (dgram_addr, _) = abstract_addr("take-dgram");
        let (conn, peer) = UnixStream::pair().unwrap();
        let (seq_conn, seq_peer) = UnixSeqpacket::pair().unwrap();
        // SAFETY: a new socket, owned at once.
        let tcp = unsafe {
            OwnedFd::from_raw_fd(libc::socket(
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
            ))
        };
        let (pipe_r, _pipe_w) = baremsg::fd::pipe().unwrap();
        let fds: Vec<OwnedFd> = vec![
            UnixListener::bind(&stream_addr).unwrap().into(),
            UnixSeqpacketListener::bind(&seq_addr).unwrap().into(),
            UnixDatagram::bind(&dgram_addr).unwrap().into(),
            conn.into(),
            seq_conn.into(),
            tcp,
            pipe_r,
        ];
        let n = fds.len();
        // The test's own ends, out of the way of the fds about to be placed.
        let peer = UnixStream::try_from_fd(lift(peer.into())).unwrap();
        let seq_peer = UnixSeqpacket::try_from_fd(lift(seq_peer.into())).unwrap();
        let _pipe_w = lift(_pipe_w);
        place_as_passed(fds);
        for fd in 3..3 + n as RawFd {
            // SAFETY: open, placed above.
            assert!(!baremsg::fd::is_cloexec(unsafe { BorrowedFd::borrow_raw(fd) }).unwrap());
        }
        let pid = our_pid();
        let names = b"web:pkt:dgram:conn:seqconn:tcp:pipe";
        let env = ListenEnv::from_values(Some(&pid), Some(b"7"), Some(names))
            .unwrap()
            .unwrap();
        // SAFETY: fds 3..10 were placed for this.
        let taken: Vec<_> = unsafe { env.take_fds() }.unwrap().collect();
        let kinds: Vec<_> = taken.iter().map(|t| t.socket.kind()).collect();
        assert_eq!(
            kinds,
            [
                "unix-listener",
                "unix-seqpacket-listener",
                "unix-datagram",
                "unix-stream",
                "unix-seqpacket",
                "socket",
                "other"
            ]
        );
        let got_names: Vec<_> = taken.iter().map(|t| t.name).collect();
        assert_eq!(got_names, names.split(|&b| b == b':').collect::<Vec<_>>());
        for (i, t) in taken.iter().enumerate() {
            assert_eq!(t.socket.as_fd().as_raw_fd(), 3 + i as RawFd);
            assert!(
                baremsg::fd::is_cloexec(t.socket.as_fd()).unwrap(),
                "fd {} cloexec",
                3 + i
            );
        }
        // Each works as what it claims to be.
        let mut it = taken.into_iter().map(|t| t.socket);
        let Some(Activated::UnixListener(l)) = it.next() else {
            panic!()
        };
        assert_eq!(l.local_addr().unwrap().to_string(), stream_name);
        let client = UnixStream::connect(&stream_addr).unwrap();
        let (served, _) = l.accept().unwrap();
        client.send(b"x").unwrap();
        let mut b = [0u8; 4];
        assert_eq!(served.recv(&mut b).unwrap(), 1);
        let Some(Activated::UnixSeqpacketListener(l)) = it.next() else {
            panic!()
        };
        assert_eq!(l.local_addr().unwrap(), seq_addr);
        let Some(Activated::UnixDatagram(d)) = it.next() else {
            panic!()
        };
        UnixDatagram::unbound()
            .unwrap()
            .send_to(b"dg", &dgram_addr)
            .unwrap();
        assert_eq!(d.recv(&mut b).unwrap(), 2);
        let Some(Activated::UnixStream(s)) = it.next() else {
            panic!()
        };
        s.send(b"s").unwrap();
        assert_eq!(peer.recv(&mut b).unwrap(), 1);
        let Some(Activated::UnixSeqpacket(s)) = it.next() else {
            panic!()
        };
        s.send(b"q").unwrap();
        assert_eq!(seq_peer.recv(&mut b).unwrap(), 1);
        let Some(Activated::Socket(_, info)) = it.next() else {
            panic!()
        };
        assert_eq!(
            (info.domain, info.ty, info.listening),
            (libc::AF_INET, libc::SOCK_STREAM, false)
        );
        let Some(Activated::Other(p)) = it.next() else {
            panic!()
        };
        assert_eq!(socket_info(p.as_fd()), Ok(None));

        // Once taken, never again.
        let env = ListenEnv::from_values(Some(&pid), Some(b"7"), Some(names))
            .unwrap()
            .unwrap();
        // SAFETY: it fails before taking anything.
        let again = unsafe { env.take_fds() };
        assert_eq!(again.unwrap_err(), ActivationError::AlreadyTaken);
    });
}

#[test]
fn a_promised_fd_that_is_not_open_is_refused_and_nothing_taken() {
    in_forked_child(|| {
        let (a, b) = UnixStream::pair().unwrap();
        place_as_passed(vec![a.into(), b.into()]);
        // SAFETY: fd 5 may be anything in this child; make sure it is closed.
        let _ = unsafe { sys::close(5) };
        let pid = our_pid();
        let env = ListenEnv::from_values(Some(&pid), Some(b"3"), None)
            .unwrap()
            .unwrap();
        // SAFETY: fails before taking anything.
        let err = unsafe { env.take_fds() }.unwrap_err();
        assert_eq!(err, ActivationError::FdNotOpen { fd: 5 });
        assert_eq!(err.errno(), Errno::EBADF);
        for fd in [3, 4] {
            assert!(is_open(fd), "fd {fd} left alone");
            // SAFETY: open, checked.
            assert!(!baremsg::fd::is_cloexec(unsafe { BorrowedFd::borrow_raw(fd) }).unwrap());
        }
        // Taking the two that are there works, and fds not taken from the iterator are
        // closed with it.
        let env = ListenEnv::from_values(Some(&pid), Some(b"2"), None)
            .unwrap()
            .unwrap();
        // SAFETY: 3 and 4 were placed for this.
        let mut fds = unsafe { env.take_fds() }.unwrap();
        assert_eq!(fds.len(), 2);
        let first = fds.next().unwrap();
        drop(fds);
        assert!(is_open(3) && !is_open(4));
        drop(first);
        assert!(!is_open(3));
    });
}

// ---------------------------------------------------------------------------------
// systemd-socket-activate starting the baremsg example

/// `systemd-socket-activate <args> <example activated>` (under qemu-user, the emulator
/// command before the example: systemd-socket-activate, a host program, execs it, and
/// qemu keeps the pid that `LISTEN_PID` names).
fn socket_activate(args: &[&str]) -> Guard {
    Guard::spawn(
        Command::new("systemd-socket-activate")
            .args(args)
            .args(target::words(example("activated")))
            // So that the report's `notified 0` holds wherever the suite runs.
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
}

#[test]
fn systemd_socket_activate_stream_listener_with_a_name() {
    let path = TempPath::new("sa-stream");
    let child = socket_activate(&["-l", path.str(), "--fdname=web"]);
    wait_for_path(&path.0);
    // The program starts on the first connection.
    let conn = connect_retry::<Stream>(&UnixAddr::from_path(path.bytes()).unwrap());
    let report = Report::parse(&ask(&conn, b"hello"));
    // Without --accept, systemd-socket-activate execs the program in its own process.
    assert_eq!(report.get("pid"), child.pid().to_string());
    assert_eq!(report.get("notified"), "0");
    assert_eq!(report.get("fds"), "1");
    assert_eq!(
        report.fds,
        [format!("3 web unix-listener 1 {}", path.str())]
    );
    assert_eq!(report.get("request"), "hello");
    child.wait_ok();
}

#[test]
fn systemd_socket_activate_datagram_socket() {
    let (addr, name) = abstract_addr("sa-dgram");
    let child = socket_activate(&["--datagram", "-l", &name]);
    let (me, _) = abstract_addr("sa-dgram-client");
    let client = UnixDatagram::bind(&me).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while let Err(e) = client.send_to(b"ping", &addr) {
        assert!(Instant::now() < deadline, "send to {name}: {e}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut buf = [0u8; 4096];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(from, addr);
    let report = Report::parse(std::str::from_utf8(&buf[..n]).unwrap());
    assert_eq!(report.get("pid"), child.pid().to_string());
    assert_eq!(
        report.fds,
        [format!("3 {} unix-datagram 1 {name}", "unknown")]
    );
    assert_eq!(report.get("request"), "ping");
    child.wait_ok();
}

#[test]
fn systemd_socket_activate_seqpacket_listener() {
    let path = TempPath::new("sa-seq");
    let child = socket_activate(&["--seqpacket", "-l", path.str(), "--fdname=packets"]);
    wait_for_path(&path.0);
    let conn = connect_retry::<Seqpacket>(&UnixAddr::from_path(path.bytes()).unwrap());
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    conn.send(b"one packet").unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.recv(&mut buf).unwrap();
    let report = Report::parse(std::str::from_utf8(&buf[..n]).unwrap());
    assert_eq!(
        report.fds,
        [format!(
            "3 packets unix-seqpacket-listener 1 {}",
            path.str()
        )]
    );
    assert_eq!(report.get("request"), "one packet");
    child.wait_ok();
}

#[test]
fn systemd_socket_activate_several_listeners_keep_their_order_and_names() {
    let first = TempPath::new("sa-multi");
    let third = TempPath::new("sa-multi");
    let (_, second) = abstract_addr("sa-multi");
    let child = socket_activate(&[
        "-l",
        first.str(),
        "-l",
        &second,
        "-l",
        third.str(),
        "--fdname=one:two:three",
    ]);
    wait_for_path(&third.0);
    let conn = connect_retry::<Stream>(&UnixAddr::from_path(first.bytes()).unwrap());
    let report = Report::parse(&ask(&conn, b"multi"));
    assert_eq!(report.get("fds"), "3");
    assert_eq!(
        report.fds,
        [
            format!("3 one unix-listener 1 {}", first.str()),
            format!("4 two unix-listener 1 {second}"),
            format!("5 three unix-listener 1 {}", third.str()),
        ]
    );
    child.wait_ok();
}

#[test]
fn systemd_socket_activate_accept_mode_passes_the_connection() {
    let path = TempPath::new("sa-accept");
    let child = socket_activate(&["--accept", "-l", path.str(), "--fdname=conn"]);
    wait_for_path(&path.0);
    let conn = connect_retry::<Stream>(&UnixAddr::from_path(path.bytes()).unwrap());
    let report = Report::parse(&ask(&conn, b"accepted"));
    // A forked instance per connection: not systemd-socket-activate's own pid.
    assert_ne!(report.get("pid"), child.pid().to_string());
    assert_eq!(report.get("fds"), "1");
    let fd = &report.fds[0];
    assert!(
        fd.starts_with("3 ") && fd.contains(" unix-stream 1 "),
        "a connected stream at fd 3: {fd}"
    );
    assert!(fd.ends_with(path.str()), "{fd}");
    assert_eq!(report.get("request"), "accepted");
    // systemd-socket-activate keeps listening; the guard stops it.
}

// ---------------------------------------------------------------------------------
// baremsg's Spawn

fn cstring(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

#[test]
fn spawn_passes_sockets_names_and_the_childs_own_pid_and_the_child_notifies() {
    let (notify_addr, _) = abstract_addr("spawn-notify");
    let manager = NotifyListener::bind(&notify_addr).unwrap();
    manager.socket().set_read_timeout(Some(TIMEOUT)).unwrap();
    let notify_env = manager.env().unwrap();
    let web = TempPath::new("spawn-web");
    let web_addr = UnixAddr::from_path(web.bytes()).unwrap();
    let listener = UnixListener::bind(&web_addr).unwrap();
    let (dgram_addr, dgram_name) = abstract_addr("spawn-dgram");
    let dgram = UnixDatagram::bind(&dgram_addr).unwrap();

    let (exe, args) = target::exec_argv(&example("activated"), &[]);
    let argv: Vec<&CStr> = args.iter().map(|a| a.as_c_str()).collect();
    // A stale LISTEN_PID in the environment given is replaced by the right one.
    let env = [
        notify_env.as_cstr(),
        c"LISTEN_PID=1",
        c"LISTEN_FDNAMES=stale",
    ];
    let fds = [listener.as_fd(), dgram.as_fd()];
    let names: [&[u8]; 2] = [b"web", b"dgram"];
    let spawn = Spawn::new(&exe, &argv).env(&env).fds(&fds).names(&names);
    let mut buf = ExecBuf::<16, 256>::new();
    let child = PidGuard(Some(spawn.spawn(&mut buf).unwrap()));
    let pid = child.0.unwrap();

    // The service says it is ready, as itself.
    let mut msg = [0u8; MAX_MESSAGE];
    let n = manager.recv_from_pid::<0>(&mut msg, pid).unwrap();
    assert_eq!(n.payload(), b"READY=1\nSTATUS=serving 2 fds");
    drop(n);

    let conn = connect_retry::<Stream>(&web_addr);
    let report = Report::parse(&ask(&conn, b"spawned"));
    assert_eq!(report.get("pid"), pid.to_string());
    assert_eq!(report.get("notified"), "1");
    assert_eq!(
        report.fds,
        [
            format!("3 web unix-listener 1 {}", web.str()),
            format!("4 dgram unix-datagram 1 {dgram_name}"),
        ]
    );
    child.wait_ok();
    // The parent's sockets are untouched: still close-on-exec, still working.
    assert!(
        baremsg::fd::is_cloexec(listener.as_fd()).unwrap()
            && baremsg::fd::is_cloexec(dgram.as_fd()).unwrap()
    );
    let again = UnixStream::connect(&web_addr).unwrap();
    drop(again);
    assert!(listener.accept().is_ok());
}

/// Runs `tests/init_helpers/activated.py` with `fds` (and `names`) through `Spawn`;
/// its report lines.
fn python_activated(fds: &[BorrowedFd<'_>], names: Option<&[&[u8]]>) -> (i32, Vec<String>) {
    let report = TempPath::new("py-activated");
    let py = cstring(python());
    let script = cstring(&script("activated.py"));
    let out = CString::new(report.str()).unwrap();
    let argv = [py.as_c_str(), &script, &out];
    let mut spawn = Spawn::new(&py, &argv).env(&[c"LISTEN_FDS=99"]).fds(fds);
    if let Some(names) = names {
        spawn = spawn.names(names);
    }
    let mut buf = ExecBuf::<8, 2048>::new();
    let pid = spawn.spawn(&mut buf).unwrap();
    PidGuard(Some(pid)).wait_ok();
    let text = std::fs::read_to_string(&report.0).unwrap();
    (pid, text.lines().map(str::to_owned).collect())
}

#[test]
fn python_sees_what_spawn_passed() {
    let (la, la_name) = abstract_addr("py-listen");
    let listener = UnixListener::bind(&la).unwrap();
    let (sa, sa_name) = abstract_addr("py-seq");
    let seq = UnixSeqpacketListener::bind(&sa).unwrap();
    let (da, da_name) = abstract_addr("py-dgram");
    let dgram = UnixDatagram::bind(&da).unwrap();
    let names: [&[u8]; 3] = [b"http", b"ctl", b"log"];
    let (pid, lines) = python_activated(
        &[listener.as_fd(), seq.as_fd(), dgram.as_fd()],
        Some(&names),
    );
    let (unix, stream, dgram_ty, seqp) = (
        libc::AF_UNIX,
        libc::SOCK_STREAM,
        libc::SOCK_DGRAM,
        libc::SOCK_SEQPACKET,
    );
    assert_eq!(
        lines,
        [
            format!("pid {pid}"),
            format!("env {pid} 3 http:ctl:log"),
            format!("fd 3 {unix} {stream} 1 1 {la_name}"),
            format!("fd 4 {unix} {seqp} 1 1 {sa_name}"),
            format!("fd 5 {unix} {dgram_ty} 0 1 {da_name}"),
        ]
    );
    // Without names, LISTEN_FDNAMES is not set.
    let (pid, lines) = python_activated(&[dgram.as_fd()], None);
    assert_eq!(lines[1], format!("env {pid} 1 -"));
}

#[test]
fn spawn_moves_sources_that_sit_where_the_fds_must_go() {
    let (aa, a_name) = abstract_addr("clash-a");
    let (ba, b_name) = abstract_addr("clash-b");
    let a = UnixDatagram::bind(&aa).unwrap();
    let b = UnixDatagram::bind(&ba).unwrap();
    let (lo, lo_name, hi, hi_name) = if a.as_raw_fd() < b.as_raw_fd() {
        (&a, &a_name, &b, &b_name)
    } else {
        (&b, &b_name, &a, &a_name)
    };
    // `hi` goes to fd 3 and `lo` to every fd after it, up to `hi`'s own number: both
    // sources sit inside 3..3+n, and placing `lo` at `hi`'s number would destroy `hi`
    // if it had not been moved out of the way first.
    let n = (hi.as_raw_fd() - 2).max(2) as usize;
    assert!(lo.as_raw_fd() >= 3 && (hi.as_raw_fd() as usize) < 3 + n);
    let mut fds = vec![hi.as_fd()];
    fds.extend(std::iter::repeat(lo.as_fd()).take(n - 1));
    let (_, lines) = python_activated(&fds, None);
    assert_eq!(lines.len(), 2 + n);
    let addr_of = |line: &str| line.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(addr_of(&lines[2]), *hi_name, "fd 3");
    for (i, line) in lines[3..].iter().enumerate() {
        assert_eq!(addr_of(line), *lo_name, "fd {}", 4 + i);
        assert!(line.starts_with(&format!("fd {} ", 4 + i)));
    }
    // The parent's fds are where they were.
    assert_eq!(a.local_addr().unwrap(), aa);
    assert_eq!(b.local_addr().unwrap(), ba);
}

#[test]
fn spawn_checks_names_and_the_buffer_before_starting_anything() {
    let (s1, s2) = UnixStream::pair().unwrap();
    let fds = [s1.as_fd(), s2.as_fd()];
    let argv = [c"true", c"x"];
    let env = [c"X=1", c"LISTEN_PID=9"];
    let mut buf = ExecBuf::<16, 256>::new();
    let base = Spawn::new(c"/bin/true", &argv).env(&env).fds(&fds);
    assert_eq!(
        base.names(&[b"a"]).spawn(&mut buf),
        Err(ActivationError::NameCountMismatch { fds: 2, names: 1 })
    );
    assert_eq!(
        base.names(&[b"a", b"b:c"]).spawn(&mut buf),
        Err(ActivationError::InvalidFdName { index: 1 })
    );
    assert_eq!(
        base.names(&[b"a", b"\x7f"]).spawn(&mut buf),
        Err(ActivationError::InvalidFdName { index: 1 })
    );
    // An empty name is valid (systemd's fdname_is_valid) beside others, but not as the
    // only one: `LISTEN_FDNAMES=` reads as no names in libsystemd.
    assert_eq!(
        Spawn::new(c"/bin/true", &argv)
            .fds(&fds[..1])
            .names(&[b""])
            .spawn(&mut buf),
        Err(ActivationError::InvalidFdName { index: 0 })
    );

    // argv + NULL + 1 kept entry + LISTEN_PID + LISTEN_FDS + LISTEN_FDNAMES + NULL;
    // 4 scratch bytes per fd + "LISTEN_PID=" and 11 + "LISTEN_FDS=2\0" + "LISTEN_FDNAMES=ab:c\0".
    let named = base.names(&[b"ab", b"c"]);
    let needs = Needs {
        ptrs: 2 + 1 + 1 + 3 + 1,
        bytes: 8 + 22 + 13 + 20,
    };
    assert_eq!(named.needs(), needs);
    assert_eq!(
        named.spawn(&mut ExecBuf::<7, 63>::new()),
        Err(ActivationError::ExecBufTooSmall {
            needs,
            have: Needs { ptrs: 7, bytes: 63 }
        })
    );
    assert_eq!(
        named.spawn(&mut ExecBuf::<8, 62>::new()),
        Err(ActivationError::ExecBufTooSmall {
            needs,
            have: Needs { ptrs: 8, bytes: 62 }
        })
    );
    // Exactly enough is enough.
    let pid = named.spawn(&mut ExecBuf::<8, 63>::new()).unwrap();
    PidGuard(Some(pid)).wait_ok();
}

#[test]
fn a_failed_exec_is_reported_and_the_child_reaped() {
    let not_exec = TempPath::new("not-executable");
    std::fs::write(&not_exec.0, b"#!/bin/sh\n").unwrap();
    let not_exec_c = CString::new(not_exec.str()).unwrap();
    let cases: [(&CStr, Errno); 3] = [
        (c"/nonexistent/baremsg/program", Errno::ENOENT),
        (c"/", Errno::EACCES),
        (&not_exec_c, Errno::EACCES),
    ];
    in_forked_child(|| {
        let (s, _) = UnixStream::pair().unwrap();
        let fds = [s.as_fd()];
        for (path, errno) in cases {
            let r = Spawn::new(path, &[path])
                .fds(&fds)
                .spawn(&mut ExecBuf::<8, 64>::new());
            assert_eq!(
                r,
                Err(ActivationError::Spawn {
                    step: SpawnStep::Exec,
                    errno
                }),
                "{path:?}"
            );
        }
        // This forked child has no other children: none is left to reap.
        let mut status = 0;
        // SAFETY: WNOHANG: only asks.
        let r = unsafe { sys::wait4(-1, &mut status, sys::WNOHANG) };
        assert_eq!(r, Err(Errno::ECHILD), "every failed child was reaped");
    });
}

#[test]
fn a_child_that_cannot_move_the_fds_reports_it() {
    in_forked_child(|| {
        // An fd limit that leaves no room above 3 + n for the moves.
        let (s, _) = UnixStream::pair().unwrap();
        let fds = vec![s.as_fd(); 20];
        let lim = sys::Rlimit {
            rlim_cur: 20,
            rlim_max: 4096,
        };
        // SAFETY: lowers this forked child's own limit.
        unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) }.unwrap();
        let r = Spawn::new(c"/bin/true", &[c"true"])
            .fds(&fds)
            .spawn(&mut ExecBuf::<8, 256>::new());
        assert_eq!(
            r,
            Err(ActivationError::Spawn {
                step: SpawnStep::MoveFds,
                errno: Errno::EINVAL
            })
        );
    });
}

#[test]
fn failure_paths_leave_no_fd_behind() {
    in_forked_child(|| {
        let (s, _) = UnixStream::pair().unwrap();
        let before = open_fd_count();
        let pid = our_pid();
        for _ in 0..20 {
            let fds = [s.as_fd()];
            let r = Spawn::new(c"/nonexistent", &[c"x"])
                .fds(&fds)
                .spawn(&mut ExecBuf::<8, 64>::new());
            assert!(matches!(r, Err(ActivationError::Spawn { .. })));
            let r = Spawn::new(c"/bin/true", &[c"x"])
                .fds(&fds)
                .spawn(&mut ExecBuf::<1, 64>::new());
            assert!(matches!(r, Err(ActivationError::ExecBufTooSmall { .. })));
            assert_eq!(
                ListenEnv::from_values(Some(b"1"), Some(b"1"), None),
                Ok(None)
            );
            assert!(ListenEnv::from_all_values(Some(&pid), Some(b"x"), Some(b"1"), None).is_err());
            if baremsg::process::own_pidfd_id().unwrap().is_some() {
                assert_eq!(
                    ListenEnv::from_all_values(Some(&pid), Some(b"1"), Some(b"1"), None),
                    Ok(None)
                );
            }
            assert!(ListenEnv::from_values(Some(&pid), Some(b"x"), None).is_err());
            assert!(ListenEnv::from_values(Some(&pid), Some(b"1"), Some(b"a:b")).is_err());
        }
        assert_eq!(open_fd_count(), before);
    });
}

#[test]
fn the_kind_of_any_fd_is_read_from_the_fd_itself() {
    let (addr, _) = abstract_addr("kind");
    let l = Listener::<Stream>::bind(&addr).unwrap();
    assert_eq!(
        socket_info(l.as_fd()),
        Ok(Some(activation::SocketInfo {
            domain: sys::AF_UNIX,
            ty: sys::SOCK_STREAM,
            protocol: 0,
            listening: true
        }))
    );
    let (d, _) = Socket::<Datagram>::pair().unwrap();
    assert_eq!(socket_info(d.as_fd()).unwrap().unwrap().ty, sys::SOCK_DGRAM);
    let memfd = baremsg::fd::memfd_create(c"kind", 0).unwrap();
    assert_eq!(socket_info(memfd.as_fd()), Ok(None));
    let a = Activated::classify(memfd);
    assert_eq!(a.kind(), "other");
    let fd: OwnedFd = a.into();
    assert!(baremsg::fd::is_cloexec(fd.as_fd()).unwrap());
}

#[cfg(feature = "std")]
#[test]
fn the_std_helpers_take_the_fds_and_clear_the_variables() {
    let path = TempPath::new("std-take");
    let addr = UnixAddr::from_path(path.bytes()).unwrap();
    let listener = UnixListener::bind(&addr).unwrap();
    let (exe, args) = target::exec_argv(&example("activated"), &["--std"]);
    let argv: Vec<&CStr> = args.iter().map(|a| a.as_c_str()).collect();
    let fds = [listener.as_fd()];
    let names: [&[u8]; 1] = [b"std"];
    let spawn = Spawn::new(&exe, &argv).fds(&fds).names(&names);
    // Room for the emulator's words too, under qemu-user.
    let child = PidGuard(Some(spawn.spawn(&mut ExecBuf::<16, 128>::new()).unwrap()));
    let conn = connect_retry::<Stream>(&addr);
    let report = Report::parse(&ask(&conn, b"std"));
    assert_eq!(report.get("pid"), child.0.unwrap().to_string());
    assert_eq!(
        report.fds,
        [format!("3 std unix-listener 1 {}", path.str())]
    );
    assert_eq!(report.get("listen_vars_left"), "0");
    child.wait_ok();
}

// ---------------------------------------------------------------------------------
// Signals the program starts with

/// `SigBlk`, `SigIgn`, `SigCgt` of a `/proc/<pid>/status` text.
fn signal_lines(status: &str) -> [u64; 3] {
    ["SigBlk:", "SigIgn:", "SigCgt:"].map(|key| {
        let hex = status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in:\n{status}"));
        u64::from_str_radix(hex.trim(), 16).unwrap()
    })
}

/// In a forked child that blocks and ignores signals: the `/proc/self/status` of a
/// program spawned with `mask` (None: the default).
fn status_of_spawned(mask: Option<sys::Sigset>) -> String {
    let (r, w) = baremsg::fd::pipe().unwrap();
    let fds = [w.as_fd()];
    let argv = [c"sh", c"-c", c"exec cat /proc/self/status >&3"];
    let mut spawn = Spawn::new(c"/bin/sh", &argv).fds(&fds);
    if let Some(mask) = mask {
        spawn = spawn.signal_mask(mask);
    }
    let pid = spawn.spawn(&mut ExecBuf::<8, 128>::new()).unwrap();
    drop(w);
    let status = String::from_utf8(read_to_end(r.as_fd())).unwrap();
    PidGuard(Some(pid)).wait_ok();
    status
}

/// Blocks SIGTERM, SIGCHLD and signal 64 and ignores SIGPIPE, SIGTERM, SIGHUP and
/// signal 40 (a real-time one, which libc's `signal` refuses to touch), as a
/// supervisor that reads them from a signalfd would; returns the mask and the ignored
/// set, read back from `/proc/self/status`.
///
/// Under qemu-user the real-time signals are left out: qemu maps the guest's onto other
/// host signals (it keeps some for itself), so `/proc/self/status`, which shows the
/// host process, cannot show them where the guest put them.
fn block_and_ignore_like_a_supervisor() -> (u64, u64) {
    let rt = !target::under_qemu();
    if !rt {
        target::qemu_note("signals 40 and 64 left out: qemu-user remaps real-time signals");
    }
    let blocked = sys::Sigset::EMPTY
        .with(sys::SIGTERM)
        .with(sys::SIGCHLD)
        .with(if rt { 64 } else { 0 });
    // SAFETY: a valid set; this forked child has no other thread to mind.
    unsafe { sys::rt_sigprocmask(sys::SIG_BLOCK, &blocked, std::ptr::null_mut()) }.unwrap();
    let ignore = sys::Sigaction {
        sa_handler: sys::SIG_IGN,
        ..sys::Sigaction::DEFAULT
    };
    for sig in [sys::SIGPIPE, sys::SIGTERM, 1, 40] {
        if sig == 40 && !rt {
            continue;
        }
        // SAFETY: SIG_IGN from a valid struct.
        unsafe { sys::rt_sigaction(sig, &ignore, std::ptr::null_mut()) }.unwrap();
    }
    let [blk, ign, _] = signal_lines(&std::fs::read_to_string("/proc/self/status").unwrap());
    assert_eq!(blk & blocked.bits(), blocked.bits());
    let ignored = sys::Sigset::EMPTY
        .with(sys::SIGPIPE)
        .with(sys::SIGTERM)
        .with(1)
        .with(if rt { 40 } else { 0 })
        .bits();
    assert_eq!(ign & ignored, ignored);
    (blk, ign)
}

#[test]
fn the_program_starts_with_default_dispositions_and_an_empty_signal_mask() {
    in_forked_child(|| {
        let (blk, ign) = block_and_ignore_like_a_supervisor();
        let [c_blk, mut c_ign, c_cgt] = signal_lines(&status_of_spawned(None));
        if target::under_qemu() {
            // The program is a host one: it inherits what qemu itself did to the host's
            // real-time signals (it ignores one for its own use), beyond the guest's reach.
            target::qemu_note(&format!(
                "the program's ignored real-time signals ({:x}) are qemu's own",
                c_ign & !0x7fff_ffff
            ));
            c_ign &= 0x7fff_ffff;
        }
        assert_eq!(c_blk, 0, "SigBlk of the program (the parent's: {blk:x})");
        assert_eq!(c_ign, 0, "SigIgn of the program (the parent's: {ign:x})");
        assert_eq!(c_cgt, 0, "SigCgt of the program");
        // A mask asked for is the mask the program gets.
        let usr2 = sys::Sigset::EMPTY.with(12);
        let [c_blk, mut c_ign, _] = signal_lines(&status_of_spawned(Some(usr2)));
        if target::under_qemu() {
            c_ign &= 0x7fff_ffff;
        }
        assert_eq!((c_blk, c_ign), (usr2.bits(), 0));
        // The caller's own mask and dispositions are as they were.
        let [p_blk, p_ign, _] =
            signal_lines(&std::fs::read_to_string("/proc/self/status").unwrap());
        assert_eq!(
            (p_blk, p_ign),
            (blk, ign),
            "the caller's signals after spawning"
        );
    });
}

#[test]
fn a_spawned_program_ends_on_sigterm_though_its_parent_ignores_and_blocks_it() {
    in_forked_child(|| {
        block_and_ignore_like_a_supervisor();
        let pid = Spawn::new(c"/bin/sleep", &[c"sleep", c"60"])
            .spawn(&mut ExecBuf::<8, 64>::new())
            .unwrap();
        let started = Instant::now();
        // SAFETY: our child, not reaped.
        unsafe { sys::kill(pid, sys::SIGTERM) }.unwrap();
        let status = PidGuard(Some(pid)).wait();
        assert!(
            sys::wifsignaled(status) && sys::wtermsig(status) == sys::SIGTERM,
            "sleep did not end on SIGTERM (status {status:#x}, after {:?})",
            started.elapsed()
        );
    });
}

// ---------------------------------------------------------------------------------
// Where the fds come from, and the fd limit

/// In a forked child: puts the write ends of `at.len()` pipes at fd numbers `at` (fds
/// 3..=64 closed first), lowers the soft fd limit to `limit`, and spawns a shell that
/// writes "N\n" to each fd N of 3 .. 3 + order.len(), fd 3 + i being pipe `order[i]`.
/// Checks what each pipe got; returns the spawn's error, if any.
fn place_pipes(at: &[RawFd], order: &[usize], limit: u64) -> Result<(), ActivationError> {
    let mut ends = Vec::new();
    for j in 0..at.len() as RawFd {
        let mut p = [-1; 2];
        // SAFETY: raw fds of this forked child, parked far from the numbers in play.
        unsafe {
            sys::pipe2(&mut p, sys::O_CLOEXEC).unwrap();
            sys::dup3(p[0], 300 + j, sys::O_CLOEXEC).unwrap();
            sys::dup3(p[1], 400 + j, sys::O_CLOEXEC).unwrap();
        }
        ends.push(300 + j);
    }
    for fd in 3..=64 {
        // SAFETY: this child owns nothing at these numbers that is used again (the fds
        // of its test harness it inherited are not).
        let _ = unsafe { sys::close(fd) };
    }
    for (j, &fd) in at.iter().enumerate() {
        // SAFETY: puts the write end where the case wants it.
        unsafe { sys::dup3(400 + j as RawFd, fd, sys::O_CLOEXEC) }.unwrap();
        // SAFETY: the parked copy, not used again.
        unsafe { sys::close(400 + j as RawFd) }.unwrap();
    }
    let targets: Vec<CString> = (0..order.len())
        .map(|i| CString::new((3 + i).to_string()).unwrap())
        .collect();
    let script = c"ulimit -S -n 256 && for i in \"$@\"; do echo $i >&$i || exit 1; done";
    let mut argv = vec![c"sh", c"-c", script, c"sh"];
    argv.extend(targets.iter().map(CString::as_c_str));
    // SAFETY: the write ends placed above stay open for the whole function.
    let fds: Vec<BorrowedFd<'_>> = order
        .iter()
        .map(|&j| unsafe { BorrowedFd::borrow_raw(at[j]) })
        .collect();
    let lim = sys::Rlimit {
        rlim_cur: limit,
        rlim_max: 4096,
    };
    // SAFETY: lowers this forked child's own limit.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) }.unwrap();
    let pid = Spawn::new(c"/bin/sh", &argv)
        .fds(&fds)
        .spawn(&mut ExecBuf::<16, 128>::new())?;
    PidGuard(Some(pid)).wait_ok();
    for (j, &fd) in at.iter().enumerate() {
        // SAFETY: our write end; the program that had copies has exited.
        unsafe { sys::close(fd) }.unwrap();
        let want: String = (0..order.len())
            .filter(|&i| order[i] == j)
            .map(|i| format!("{}\n", 3 + i))
            .collect();
        // SAFETY: the read end parked above.
        let got = read_to_end(unsafe { BorrowedFd::borrow_raw(ends[j]) });
        assert_eq!(
            String::from_utf8(got).unwrap(),
            want,
            "pipe {j} (at fd {fd})"
        );
    }
    Ok(())
}

#[test]
fn spawn_needs_only_3_plus_n_fd_numbers_and_one_for_the_report_pipe() {
    // Three fds far above the limit go to 3, 4, 5; the report pipe is made at 3 and 4
    // (the lowest free numbers), so its write end moves to 6: a limit of 7 is enough.
    in_forked_child(|| place_pipes(&[200, 201, 202], &[0, 1, 2], 7).unwrap());
    // With a limit of 6 the report pipe has nowhere to go.
    in_forked_child(|| {
        assert_eq!(
            place_pipes(&[200, 201, 202], &[0, 1, 2], 6),
            Err(ActivationError::Spawn {
                step: SpawnStep::MoveFds,
                errno: Errno::EINVAL
            })
        );
    });
}

#[test]
fn spawn_moves_only_the_fds_that_sit_at_another_fds_target() {
    // Pipe 0 at its own target (3) and again at 6; pipes 1 and 2 swapped (at 5 and 4,
    // going to 4 and 5). The report pipe is made at 6 and 7: its write end is out of
    // the way, its read end (the parent's) may be overwritten; only the two swapped fds
    // are moved (to 8 and 9), so a limit of 10 is enough (copying all four, as
    // before, took 13).
    in_forked_child(|| place_pipes(&[3, 5, 4], &[0, 1, 2, 0], 10).unwrap());
    in_forked_child(|| {
        assert_eq!(
            place_pipes(&[3, 5, 4], &[0, 1, 2, 0], 9),
            Err(ActivationError::Spawn {
                step: SpawnStep::MoveFds,
                errno: Errno::EMFILE
            })
        );
    });
}

#[test]
fn spawn_with_pidfd_returns_a_close_on_exec_pidfd_of_the_child() {
    let mut child = Spawn::new(c"/bin/sleep", &[c"sleep", c"60"])
        .spawn_with_pidfd(&mut ExecBuf::<8, 64>::new())
        .unwrap();
    let pid = child.pid();
    let guard = PidGuard(Some(pid));
    let pidfd = child.pidfd().expect("Linux 5.2+ makes pidfds with clone");
    // SAFETY: F_GETFD only reads the fd's flags.
    let flags = unsafe { sys::fcntl(pidfd.as_raw_fd(), sys::F_GETFD, 0) }.unwrap();
    assert_eq!(flags as i32 & sys::FD_CLOEXEC, sys::FD_CLOEXEC);
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).unwrap();
    assert!(info.lines().any(|l| l == format!("Pid:\t{pid}")), "{info}");
    // The pidfd works: a signal through it ends the child.
    // SAFETY: integer arguments; signal 15 to our child.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGTERM,
            0,
            0,
        )
    };
    assert_eq!(r, 0);
    let status = guard.wait();
    assert!(sys::wifsignaled(status) && sys::wtermsig(status) == sys::SIGTERM);
    let taken = child.take_pidfd().unwrap();
    assert!(child.pidfd().is_none());
    drop(taken);
}

// ---------------------------------------------------------------------------------
// Sockets of other families: TCP and UDP from systemd-socket-activate, checked as
// sd_is_socket_inet checks them and taken through std's types; LISTEN_PIDFDID from a
// Python manager

/// A std socket's fd as baremsg's `BorrowedFd` (the same type with the `std` feature).
fn std_fd<T: std::os::fd::AsRawFd>(s: &T) -> BorrowedFd<'_> {
    // SAFETY: `s` owns the fd and is borrowed for as long as the result.
    unsafe { BorrowedFd::borrow_raw(s.as_raw_fd()) }
}

/// A TCP or UDP port on 127.0.0.1 that was free a moment ago.
fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

/// Connects to 127.0.0.1:`port`, retrying while nobody listens yet.
fn tcp_connect_retry(port: u16) -> std::net::TcpStream {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(TIMEOUT)).unwrap();
                return s;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("connect to port {port}: {e}"),
        }
    }
}

fn tcp_ask(mut conn: std::net::TcpStream, request: &[u8]) -> String {
    use std::io::{Read, Write};
    conn.write_all(request).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

#[cfg(feature = "std")]
#[test]
fn systemd_socket_activate_tcp_listener_becomes_a_std_tcp_listener() {
    let port = free_port(false);
    let addr = format!("127.0.0.1:{port}");
    let child = socket_activate(&["-l", &addr, "--fdname=web"]);
    let report = Report::parse(&tcp_ask(tcp_connect_retry(port), b"over tcp"));
    assert_eq!(report.get("pid"), child.pid().to_string());
    assert_eq!(report.fds, [format!("3 web socket 1 port:{port}")]);
    assert_eq!(report.get("request"), "over tcp");
    child.wait_ok();
}

#[cfg(feature = "std")]
#[test]
fn systemd_socket_activate_udp_socket_becomes_a_std_udp_socket() {
    let port = free_port(true);
    let addr = format!("127.0.0.1:{port}");
    let child = socket_activate(&["--datagram", "-l", &addr]);
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = [0u8; 4096];
    // Datagrams sent before the socket exists are lost: send until one is answered.
    let n = loop {
        let _ = client.send_to(b"over udp", ("127.0.0.1", port));
        if let Ok((n, _)) = client.recv_from(&mut buf) {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "no answer from the activated UDP service"
        );
    };
    let report = Report::parse(std::str::from_utf8(&buf[..n]).unwrap());
    assert_eq!(report.fds, [format!("3 unknown socket 1 port:{port}")]);
    assert_eq!(report.get("request"), "over udp");
    child.wait_ok();
}

#[cfg(feature = "std")]
#[test]
fn systemd_socket_activate_accept_passes_a_tcp_connection_as_a_std_tcp_stream() {
    let port = free_port(false);
    let addr = format!("127.0.0.1:{port}");
    let child = socket_activate(&["--accept", "-l", &addr, "--fdname=conn"]);
    let report = Report::parse(&tcp_ask(tcp_connect_retry(port), b"accepted tcp"));
    assert_ne!(report.get("pid"), child.pid().to_string());
    assert_eq!(report.fds, [format!("3 conn socket 1 port:{port}")]);
    assert_eq!(report.get("request"), "accepted tcp");
}

#[test]
fn systemd_socket_activate_inetd_connection_is_an_inet_socket() {
    let port = free_port(false);
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.args(["--accept", "--inetd", "-l", &addr])
        .args(target::words(example("activated")))
        .arg("--inetd")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _child = Guard::spawn(&mut cmd);
    let report = Report::parse(&tcp_ask(tcp_connect_retry(port), b"inetd"));
    assert_eq!(
        report.get("inetd_tcp"),
        "1",
        "is_socket_inet(0, stream, connected)"
    );
    assert_eq!(report.get("port"), port.to_string());
    assert_eq!(report.get("request"), "inetd");
}

#[test]
fn is_socket_checks_family_type_listening_port_and_path() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (ua, _) = abstract_addr("is-socket");
    let unix = Listener::<Stream>::bind(&ua).unwrap();
    let (r, _w) = baremsg::fd::pipe().unwrap();
    use activation::{is_socket, is_socket_inet, is_socket_unix, local_port};
    let (t, u, x, p) = (std_fd(&tcp), std_fd(&udp), unix.as_fd(), r.as_fd());
    assert_eq!(
        is_socket(t, sys::AF_INET, sys::SOCK_STREAM, Some(true)),
        Ok(true)
    );
    assert_eq!(is_socket(t, sys::AF_INET6, 0, None), Ok(false));
    assert_eq!(is_socket(t, 0, sys::SOCK_DGRAM, None), Ok(false));
    assert_eq!(is_socket(t, 0, 0, Some(false)), Ok(false));
    assert_eq!(is_socket(p, 0, 0, None), Ok(false), "a pipe is no socket");
    assert_eq!(is_socket(t, -1, 0, None), Err(Errno::EINVAL));
    assert_eq!(is_socket_inet(t, 0, 0, None, port), Ok(true));
    assert_eq!(
        is_socket_inet(t, sys::AF_INET, sys::SOCK_STREAM, Some(true), 0),
        Ok(true)
    );
    assert_eq!(
        is_socket_inet(t, 0, 0, None, port.wrapping_add(1)),
        Ok(false)
    );
    assert_eq!(is_socket_inet(u, 0, sys::SOCK_DGRAM, None, 0), Ok(true));
    assert_eq!(is_socket_inet(x, 0, 0, None, 0), Ok(false), "a unix socket");
    assert_eq!(
        is_socket_inet(t, sys::AF_UNIX, 0, None, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(local_port(t), Ok(Some(port)));
    assert_eq!(local_port(x), Ok(None));
    assert_eq!(
        is_socket_unix(x, sys::SOCK_STREAM, Some(true), Some(&ua)),
        Ok(true)
    );
    assert_eq!(is_socket_unix(x, 0, None, None), Ok(true));
    let (other, _) = abstract_addr("is-socket-other");
    assert_eq!(is_socket_unix(x, 0, None, Some(&other)), Ok(false));
    assert_eq!(is_socket_unix(t, 0, None, None), Ok(false));
    assert_eq!(is_socket_unix(p, 0, None, None), Ok(false));
    // A closed fd number: EBADF, as from libsystemd.
    let closed = {
        let (a, _b) = baremsg::fd::pipe().unwrap();
        a.as_raw_fd()
    };
    // SAFETY: the number is closed; the calls only report EBADF for it.
    let closed = unsafe { BorrowedFd::borrow_raw(closed) };
    assert_eq!(is_socket(closed, 0, 0, None), Err(Errno::EBADF));
}

#[cfg(feature = "std")]
#[test]
fn activated_sockets_convert_to_std_types_only_when_they_are_that() {
    use std::net::{TcpListener, TcpStream, UdpSocket};
    let classify = |fd: BorrowedFd<'_>| Activated::classify(baremsg::fd::try_clone(fd).unwrap());
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let conn = TcpStream::connect(tcp.local_addr().unwrap()).unwrap();
    let l = TcpListener::try_from(classify(tcp.as_fd())).unwrap();
    assert_eq!(l.local_addr().unwrap(), tcp.local_addr().unwrap());
    assert!(TcpStream::try_from(classify(tcp.as_fd())).is_err());
    assert!(UdpSocket::try_from(classify(tcp.as_fd())).is_err());
    let s = TcpStream::try_from(classify(conn.as_fd())).unwrap();
    assert_eq!(s.peer_addr().unwrap(), tcp.local_addr().unwrap());
    assert!(TcpListener::try_from(classify(conn.as_fd())).is_err());
    let u = UdpSocket::try_from(classify(udp.as_fd())).unwrap();
    assert_eq!(u.local_addr().unwrap(), udp.local_addr().unwrap());
    let (ua, _) = abstract_addr("std-conv");
    let unix = Listener::<Stream>::bind(&ua).unwrap();
    let back = TcpListener::try_from(classify(unix.as_fd())).unwrap_err();
    assert_eq!(
        back.kind(),
        "unix-listener",
        "a refused conversion gives the fd back"
    );
    assert!(std::os::unix::net::UnixListener::try_from(back).is_ok());
    let (d, _) = Socket::<Datagram>::pair().unwrap();
    assert!(std::os::unix::net::UnixDatagram::try_from(classify(d.as_fd())).is_ok());
    assert!(std::os::unix::net::UnixStream::try_from(classify(d.as_fd())).is_err());
}

/// A Python manager that passes one TCP listener with `LISTEN_PIDFDID` set to the
/// service's pidfs id (plus `skew`), computed after `fork` in the child itself.
fn python_manager_with_pidfdid(skew: u64) -> (Guard, u16) {
    let code = r#"
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
    me = os.getpid()
    pfd = os.pidfd_open(me); ino = os.fstat(pfd).st_ino; os.close(pfd)
    env = dict(os.environ, LISTEN_PID=str(me), LISTEN_FDS="1", LISTEN_FDNAMES="py",
               LISTEN_PIDFDID=str(ino + int(sys.argv[1])))
    env.pop("NOTIFY_SOCKET", None)
    os.execvpe(sys.argv[2], sys.argv[2:], env)
s.close()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut cmd = Command::new(python());
    cmd.args(["-c", code, &skew.to_string()])
        .args(target::words(example("activated")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut g = Guard::spawn(&mut cmd);
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(g.child().stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (g, line.trim().parse().expect("the port"))
}

#[cfg(feature = "std")]
#[test]
fn python_manager_listen_pidfdid_of_the_service_is_accepted() {
    if baremsg::process::own_pidfd_id().unwrap().is_none() {
        eprintln!("skipped: no pidfs ids on this kernel (Linux 6.9+)");
        return;
    }
    let (child, port) = python_manager_with_pidfdid(0);
    let report = Report::parse(&tcp_ask(tcp_connect_retry(port), b"pidfdid"));
    assert_eq!(report.fds, [format!("3 py socket 1 port:{port}")]);
    child.wait_ok();
}

#[test]
fn python_manager_listen_pidfdid_of_another_process_means_not_activated() {
    if baremsg::process::own_pidfd_id().unwrap().is_none() {
        eprintln!("skipped: no pidfs ids on this kernel (Linux 6.9+)");
        return;
    }
    let (child, _port) = python_manager_with_pidfdid(1);
    let (status, _out, err) = child.wait();
    assert!(!status.success());
    assert!(err.contains("not socket-activated"), "{err}");
}
