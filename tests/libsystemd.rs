//! baremsg against libsystemd itself (`tests/peers/libsystemd_peer.c`, linked with
//! `-l:libsystemd.so.0` from the `libsystemd0` package, prototypes declared by hand):
//! libsystemd's service side (`sd_notify`, `sd_pid_notify_with_fds`,
//! `sd_notify_barrier`) sending to baremsg's manager side, and libsystemd's readers of
//! the environment and of sockets (`sd_watchdog_enabled`, `sd_listen_fds_with_names`,
//! `sd_is_socket*`) given the same input as baremsg's, their answers compared.
//!
//! The library is the machine's (systemd 252 on Debian 12): it predates `MAINPIDFD`
//! handling on the manager side, vsock `NOTIFY_SOCKET` and `LISTEN_PIDFDID`, which it
//! passes on or ignores; where that matters a test says so. The library is installed
//! for x86_64 and i686 (`libsystemd0:i386`): on the qemu targets each test prints why it
//! is skipped.

#[path = "init_helpers/mod.rs"]
mod init_helpers;
mod target;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use baremsg::activation::{self, ListenEnv};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::notify::{self, Field, NotifyAccessValue, NotifyError, NotifyListener, MAX_MESSAGE};
use baremsg::process::{pidfd_id, Pidfd};
use baremsg::sys;
use baremsg::unix::{UnixAddr, UnixListener};
use baremsg::Errno;

use init_helpers::*;

/// The compiled peer, or `None` (with the reason printed) where libsystemd for the
/// target is not installed.
fn peer() -> Option<&'static Path> {
    static PEER: OnceLock<Option<PathBuf>> = OnceLock::new();
    PEER.get_or_init(|| {
        let (mut cc, arch) = target::c_compiler();
        // x86_64's from `libsystemd0`, i686's from `libsystemd0:i386` (.ci/install-deps
        // installs both); the qemu targets' would need a foreign architecture each.
        if arch != "x86_64" && arch != "x86" {
            eprintln!("skipped: libsystemd0 is installed for x86_64 and i686 only, not for {arch}");
            return None;
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/libsystemd_peer.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(dir).unwrap();
        let exe = dir.join(format!("libsystemd_peer-{arch}"));
        let tmp = dir.join(format!("libsystemd_peer-{arch}.{}.tmp", std::process::id()));
        cc.args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&tmp)
            .arg(&src)
            .arg("-l:libsystemd.so.0");
        let out = cc.output().expect("run the C compiler");
        assert!(
            out.status.success(),
            "{cc:?} failed (libsystemd0 must be installed):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &exe).unwrap();
        Some(exe)
    })
    .as_deref()
}

/// Runs the peer with `args`, `env` added and nothing else of libsystemd's variables,
/// keeping `inherit` open in it at the same numbers.
fn run(args: &[&str], env: &[(&str, &str)], inherit: &[BorrowedFd<'_>]) -> Output {
    let mut cmd = Command::new(peer().expect("checked by the caller"));
    cmd.args(args)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_FDNAMES")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let raw: Vec<i32> = inherit.iter().map(|fd| fd.as_raw_fd()).collect();
    // SAFETY: the closure runs in the forked child before `execve`; it only clears
    // FD_CLOEXEC with raw fcntl calls, which neither allocate nor lock.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &raw {
                fd::set_cloexec(BorrowedFd::borrow_raw(fd), false)
                    .map_err(|e| std::io::Error::from_raw_os_error(e.raw()))?;
            }
            Ok(())
        });
    }
    cmd.output().expect("run the libsystemd peer")
}

/// The peer's `key value` lines.
fn lines(out: &Output) -> HashMap<String, String> {
    assert!(
        out.status.success(),
        "peer failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap_or((l, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn r(out: &Output) -> i32 {
    lines(out)["r"].parse().unwrap()
}

/// A std socket's fd as baremsg's `BorrowedFd` (the same type with the `std` feature).
fn std_fd<T: std::os::fd::AsRawFd>(s: &T) -> BorrowedFd<'_> {
    // SAFETY: `s` owns the fd and is borrowed for as long as the result.
    unsafe { BorrowedFd::borrow_raw(s.as_raw_fd()) }
}

fn manager() -> (NotifyListener, String) {
    let name = unique("libsystemd");
    let l = NotifyListener::bind(&UnixAddr::from_abstract(name.as_bytes()).unwrap()).unwrap();
    l.socket().set_read_timeout(Some(TIMEOUT)).unwrap();
    (l, format!("@{name}"))
}

// ---------------------------------------------------------------------------------
// libsystemd sends, baremsg's manager side reads

#[test]
fn libsystemd_notifications_of_systemd_259_fields_are_typed() {
    if peer().is_none() {
        return;
    }
    let (l, name) = manager();
    let state = "READY=1\nSTATUS=up \u{2713}\nVARLINKERROR=org.varlink.service.InvalidParameter\nWATCHDOG=trigger\nWATCHDOG_USEC=30000000\n\
                 EXTEND_TIMEOUT_USEC=5000000\nNOTIFYACCESS=exec\nEXIT_STATUS=3\nERRNO=2\n\
                 RESTART_RESET=1\nMAINPID=1\nMAINPIDFDID=77\nX_APP_STATE=warm\nNEW_KEY=v";
    let out = run(&["notify", state], &[("NOTIFY_SOCKET", &name)], &[]);
    assert_eq!(r(&out), 1, "sd_notify sent it");
    let mut buf = [0u8; MAX_MESSAGE];
    let msg = l.recv::<0>(&mut buf).unwrap();
    let typed: Vec<Field<'_>> = msg.typed_fields().map(Result::unwrap).collect();
    assert_eq!(
        typed,
        [
            Field::Ready,
            Field::Status("up \u{2713}"),
            Field::VarlinkError(b"org.varlink.service.InvalidParameter"),
            Field::WatchdogTrigger,
            Field::WatchdogUsec(30_000_000),
            Field::ExtendTimeoutUsec(5_000_000),
            Field::NotifyAccess(NotifyAccessValue::Exec),
            Field::ExitStatus(3),
            Field::Errno(2),
            Field::RestartReset,
            Field::MainPid(1),
            Field::MainPidFdId(77),
            Field::Private(b"X_APP_STATE", b"warm"),
            Field::Other(b"NEW_KEY", b"v"),
        ]
    );
}

#[test]
fn libsystemd_fdstore_with_name_and_fdpoll_then_fdstoreremove() {
    if peer().is_none() {
        return;
    }
    let (l, name) = manager();
    let stored = pipe_holding_bytes(b"kept across restarts");
    let fdnum = stored.as_raw_fd().to_string();
    let out = run(
        &["fds", "FDSTORE=1\nFDNAME=db\nFDPOLL=0", &fdnum],
        &[("NOTIFY_SOCKET", &name)],
        &[stored.as_fd()],
    );
    assert_eq!(r(&out), 1);
    let mut buf = [0u8; MAX_MESSAGE];
    let mut msg = l.recv::<2>(&mut buf).unwrap();
    let typed: Vec<_> = msg.typed_fields().map(Result::unwrap).collect();
    assert_eq!(
        typed,
        [Field::FdStore, Field::FdName(b"db"), Field::FdPoll(false)]
    );
    let got: Vec<OwnedFd> = msg.take_fds().collect();
    assert_eq!(got.len(), 1);
    drop(stored);
    assert_eq!(read_to_end(got[0].as_fd()), b"kept across restarts");

    let out = run(
        &["notify", "FDSTOREREMOVE=1\nFDNAME=db"],
        &[("NOTIFY_SOCKET", &name)],
        &[],
    );
    assert_eq!(r(&out), 1);
    let msg = l.recv::<0>(&mut buf).unwrap();
    let typed: Vec<_> = msg.typed_fields().map(Result::unwrap).collect();
    assert_eq!(typed, [Field::FdStoreRemove, Field::FdName(b"db")]);
}

/// The read end of a pipe holding `bytes`, its write end closed.
fn pipe_holding_bytes(bytes: &[u8]) -> OwnedFd {
    let (r, w) = fd::pipe().unwrap();
    fd::write_all(w.as_fd(), bytes).unwrap();
    r
}

#[test]
fn libsystemd_mainpidfd_is_taken_as_the_senders_own_pidfd() {
    if peer().is_none() {
        return;
    }
    let (l, name) = manager();
    // Started by hand so that it stays unreaped (a zombie) while its message is read.
    let child = Command::new(peer().unwrap())
        .arg("mainpidfd")
        .env("NOTIFY_SOCKET", &name)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut buf = [0u8; MAX_MESSAGE];
    let mut msg = l.recv::<2>(&mut buf).unwrap();
    assert_eq!(msg.sender_pid(), Some(pid));
    let pidfd = msg
        .take_main_pidfd()
        .unwrap()
        .expect("MAINPIDFD=1 names one");
    assert_eq!(msg.fd_count(), 1);
    assert_eq!(msg.fds().count(), 0, "the pidfd was taken");
    let ours = Pidfd::open(pid).unwrap();
    match (pidfd_id(pidfd.as_fd()).unwrap(), ours.id().unwrap()) {
        (Some(theirs), Some(ours)) => assert_eq!(theirs, ours, "the same process"),
        (None, None) => eprintln!("note: no pidfs ids on this kernel; compared by fdinfo"),
        other => panic!("one pidfd has an id and the other not: {other:?}"),
    }
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("r 1"));
    // Reaped now: the pidfd it sent says so.
    assert_eq!(pidfd.send_signal(0), Err(Errno::ESRCH));
}

#[test]
fn libsystemd_barrier_returns_once_the_manager_drops_the_fd() {
    if peer().is_none() {
        return;
    }
    let (l, name) = manager();
    let name2 = name.clone();
    let peer_run = std::thread::spawn(move || run(&["barrier"], &[("NOTIFY_SOCKET", &name2)], &[]));
    let mut buf = [0u8; MAX_MESSAGE];
    let msg = l.recv::<2>(&mut buf).unwrap();
    let typed: Vec<_> = msg.typed_fields().map(Result::unwrap).collect();
    assert_eq!(typed, [Field::Barrier]);
    assert_eq!(msg.fd_count(), 1);
    drop(msg);
    assert_eq!(
        r(&peer_run.join().unwrap()),
        1,
        "sd_notify_barrier succeeded"
    );
}

// ---------------------------------------------------------------------------------
// The same input to libsystemd's readers and to baremsg's

#[test]
fn sd_watchdog_enabled_and_watchdog_enabled_agree() {
    if peer().is_none() {
        return;
    }
    // WATCHDOG_PID: None unset, Some("$$") the process itself, else the value.
    let usecs = [
        None,
        Some("1"),
        Some("20000000"),
        Some("18446744073709551614"),
        Some("0"),
        Some("18446744073709551615"),
        Some("99999999999999999999"),
        Some(""),
        Some("x"),
        Some("5 "),
        Some("-5"),
    ];
    let pids = [
        None,
        Some("$$"),
        Some("1"),
        Some("0"),
        Some("x"),
        Some(""),
        Some("-1"),
    ];
    for usec in usecs {
        for pid in pids {
            // The peer runs under sh, which sets WATCHDOG_PID to its own pid and execs.
            let mut script = String::new();
            if let Some(u) = usec {
                script += &format!("WATCHDOG_USEC='{u}' ");
            }
            if let Some(p) = pid {
                script += &format!("WATCHDOG_PID={p} ");
            }
            script += "exec \"$0\" watchdog";
            let out = Command::new("sh")
                .args(["-c", &script])
                .arg(peer().unwrap())
                .env_remove("WATCHDOG_USEC")
                .env_remove("WATCHDOG_PID")
                .output()
                .unwrap();
            let theirs = lines(&out);
            let theirs_r: i32 = theirs["r"].parse().unwrap();
            let me = sys::getpid().to_string();
            let mut env: Vec<String> = Vec::new();
            if let Some(u) = usec {
                env.push(format!("WATCHDOG_USEC={u}"));
            }
            if let Some(p) = pid {
                env.push(format!("WATCHDOG_PID={}", if p == "$$" { &me } else { p }));
            }
            let ours = notify::watchdog_enabled(env.iter().map(|e| e.as_bytes()));
            let case = format!("{usec:?} {pid:?}: libsystemd {theirs:?}, baremsg {ours:?}");
            match ours {
                Ok(Some(u)) => {
                    assert_eq!(theirs_r, 1, "{case}");
                    assert_eq!(theirs["usec"], u.to_string(), "{case}");
                }
                Ok(None) => assert_eq!(theirs_r, 0, "{case}"),
                Err(e) => {
                    // libsystemd says ERANGE for a number too large, EINVAL otherwise.
                    assert!(theirs_r == -22 || theirs_r == -34, "{case}");
                    assert_eq!(e.errno(), Errno::EINVAL, "{case}");
                    assert!(e.to_string().contains("WATCHDOG_"), "{case}");
                }
            }
        }
    }
}

#[test]
fn libsystemd_accepts_a_sign_or_space_that_baremsg_refuses() {
    if peer().is_none() {
        return;
    }
    // A documented difference: libsystemd parses with strtoull, baremsg takes digits only.
    for v in [" 5", "+5"] {
        let out = run(&["watchdog"], &[("WATCHDOG_USEC", v)], &[]);
        assert_eq!(r(&out), 1, "{v:?}");
        let e = format!("WATCHDOG_USEC={v}");
        assert_eq!(
            notify::watchdog_enabled([e.as_bytes()]),
            Err(NotifyError::InvalidWatchdogUsec)
        );
    }
}

#[test]
fn sd_listen_fds_and_listen_env_agree_on_whose_fds_they_are() {
    if peer().is_none() {
        return;
    }
    // Another process's pid: neither takes the fds, neither fails.
    let out = run(
        &["listen"],
        &[("LISTEN_PID", "1"), ("LISTEN_FDS", "1")],
        &[],
    );
    assert_eq!(lines(&out)["n"], "0");
    assert_eq!(
        ListenEnv::from_values(Some(b"1"), Some(b"1"), None),
        Ok(None)
    );
    // A malformed pid: both refuse with EINVAL.
    let out = run(
        &["listen"],
        &[("LISTEN_PID", "x"), ("LISTEN_FDS", "1")],
        &[],
    );
    assert_eq!(lines(&out)["n"], "-22");
    let e = ListenEnv::from_values(Some(b"x"), Some(b"1"), None).unwrap_err();
    assert_eq!(e.errno(), Errno::EINVAL);
}

#[test]
fn sd_is_socket_inet_and_unix_agree_with_baremsg() {
    if peer().is_none() {
        return;
    }
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let conn = std::net::TcpStream::connect(tcp.local_addr().unwrap()).unwrap();
    let path = TempPath::new("is-socket");
    let unix =
        UnixListener::bind(&UnixAddr::from_path(path.0.as_os_str().as_encoded_bytes()).unwrap())
            .unwrap();
    let (pipe, _w) = fd::pipe().unwrap();
    let fds: [BorrowedFd<'_>; 5] = [
        std_fd(&tcp),
        std_fd(&udp),
        std_fd(&conn),
        unix.as_fd(),
        pipe.as_fd(),
    ];
    let families = [0, sys::AF_INET, sys::AF_INET6, sys::AF_UNIX];
    let types = [0, sys::SOCK_STREAM, sys::SOCK_DGRAM];
    let listenings = [-1, 0, 1];
    let ports = [0, tcp_port, udp_port, 9];
    let mut compared = 0;
    for fd in fds {
        for family in families {
            for ty in types {
                for listening in listenings {
                    let l = (listening >= 0).then_some(listening == 1);
                    for port in ports {
                        let args = [
                            "inet".to_owned(),
                            fd.as_raw_fd().to_string(),
                            family.to_string(),
                            ty.to_string(),
                            listening.to_string(),
                            port.to_string(),
                        ];
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        let theirs = r(&run(&args, &[], &fds));
                        let ours = activation::is_socket_inet(fd, family, ty, l, port);
                        let want = match ours {
                            Ok(b) => b as i32,
                            Err(e) => -e.raw(),
                        };
                        assert_eq!(theirs, want, "{args:?}");
                        compared += 1;
                    }
                    let args = [
                        "unix".to_owned(),
                        fd.as_raw_fd().to_string(),
                        ty.to_string(),
                        listening.to_string(),
                        path.0.to_str().unwrap().to_owned(),
                    ];
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let theirs = r(&run(&args, &[], &fds));
                    let addr = UnixAddr::from_path(path.0.as_os_str().as_encoded_bytes()).unwrap();
                    let ours = activation::is_socket_unix(fd, ty, l, Some(&addr)).unwrap();
                    assert_eq!(theirs, ours as i32, "{args:?}");
                }
            }
        }
    }
    assert!(compared > 500);
}

#[test]
fn sd_listen_fds_with_names_reads_what_baremsgs_spawn_passes() {
    if peer().is_none() {
        return;
    }
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let path = TempPath::new("lfd");
    let unix =
        UnixListener::bind(&UnixAddr::from_path(path.0.as_os_str().as_encoded_bytes()).unwrap())
            .unwrap();
    let (pipe, _w) = fd::pipe().unwrap();
    let fds = [std_fd(&tcp), std_fd(&udp), unix.as_fd(), pipe.as_fd()];
    let names: [&[u8]; 4] = [b"web", b"dns", b"ctl", b"log"];
    let out = TempPath::new("lfd-out");
    let exe = CString::new(peer().unwrap().as_os_str().as_bytes()).unwrap();
    let out_arg = CString::new(out.0.as_os_str().as_bytes()).unwrap();
    let argv = [exe.as_c_str(), c"listen", out_arg.as_c_str()];
    let pid = activation::Spawn::new(&exe, &argv)
        .env(&[])
        .fds(&fds)
        .names(&names)
        .spawn(&mut activation::ExecBuf::<8, 512>::new())
        .unwrap();
    let (_, status) = baremsg::process::wait(pid, 0).unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&out.0).unwrap();
    // libsystemd: n, then per fd: number, name, sd_is_socket, sd_is_socket_inet,
    // sd_is_socket_unix. baremsg's answers for the same fds, here in the parent.
    let mut want = format!("n {}\n", fds.len());
    for (i, (fd, name)) in fds.iter().zip(names).enumerate() {
        let b = |r: Result<bool, Errno>| r.unwrap() as u8;
        want += &format!(
            "fd {} {} {} {} {}\n",
            3 + i,
            std::str::from_utf8(name).unwrap(),
            b(activation::is_socket(*fd, 0, 0, None)),
            b(activation::is_socket_inet(*fd, 0, 0, None, 0)),
            b(activation::is_socket_unix(*fd, 0, None, None)),
        );
    }
    assert_eq!(text, want);
    assert!(
        want.contains("fd 3 web 1 1 0") && want.contains("fd 6 log 0 0 0"),
        "{want}"
    );
}
