//! Writes the fuzz seed corpus: control data the kernel really produced on this machine,
//! captured through baremsg, plus cut and corrupted copies of it, Encoder programs and
//! socket addresses.
//!
//! ```text
//! corpus-gen <corpus dir>
//! ```
//!
//! Files are named `<arch>-<what>` (`x86_64-` or `i686-`: the control-message layout
//! differs, 16- versus 12-byte headers), so running it as an x86_64 and as an i686 binary
//! fills one directory with both layouts. Existing files are overwritten; nothing else
//! is touched.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use baremsg::cmsg::{space_for_credentials, space_for_fds, space_for_pidfd, CmsgBuf, SPACE_MAX};
use baremsg::fd::{self, AsFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{Socket, SocketKind, UnixDatagram, UnixSeqpacket, UnixStream};
use baremsg_fuzz_checks::encode::{encode_program, Op, Program, POOL};
use baremsg_fuzz_checks::model::{self, Item, HDR};

const ARCH: &str = if cfg!(target_arch = "x86_64") {
    "x86_64"
} else {
    "i686"
};

struct Out {
    dir: PathBuf,
    seen: BTreeSet<(String, Vec<u8>)>,
    written: usize,
}

impl Out {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) {
        if !self.seen.insert((target.to_string(), bytes.to_vec())) {
            return; // the same bytes under another name already
        }
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(name), bytes).expect("write seed");
        self.written += 1;
    }

    /// A seed for both control-data targets.
    fn control(&mut self, name: &str, bytes: &[u8]) {
        let name = format!("{ARCH}-{name}");
        self.put("cmsg_parse", &name, bytes);
        self.put("received_control", &name, bytes);
    }
}

/// Receives one message on `rx` with a control buffer of `len` bytes; returns the
/// control bytes exactly as the kernel wrote them and `msg_flags`. The fds in them are
/// closed when the receive is dropped, before this returns.
fn capture<K: SocketKind>(rx: &Socket<K>, len: usize) -> (Vec<u8>, i32) {
    let mut buf = [0u8; 64];
    let mut control = CmsgBuf::<SPACE_MAX>::new();
    let got = rx
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut control[..len])
        .expect("recvmsg");
    (got.control.as_bytes().to_vec(), got.flags)
}

fn pipes(n: usize) -> Vec<OwnedFd> {
    (0..n).map(|_| fd::pipe().expect("pipe").0).collect()
}

fn borrow(fds: &[OwnedFd]) -> Vec<BorrowedFd<'_>> {
    fds.iter().map(|f| f.as_fd()).collect()
}

/// Sends `fds` with one payload byte.
fn send<K: SocketKind>(tx: &Socket<K>, fds: &[BorrowedFd<'_>]) {
    tx.send_fds(b"x", fds).expect("send_fds");
}

/// Rights, credentials and (where the kernel has SO_PASSPIDFD) a pidfd in one receive,
/// at control buffer size `len`.
fn everything(len: usize, nfds: usize) -> Option<(Vec<u8>, i32)> {
    let (tx, rx) = UnixSeqpacket::pair().expect("pair");
    rx.set_pass_cred(true).expect("SO_PASSCRED");
    rx.set_pass_pidfd(true).ok()?;
    let f = pipes(nfds);
    send(&tx, &borrow(&f));
    Some(capture(&rx, len))
}

fn kernel_seeds(out: &mut Out) {
    // Rights, on each socket kind.
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let f = pipes(1);
        send(&tx, &borrow(&f));
        out.control("rights-1-stream", &capture(&rx, SPACE_MAX).0);
    }
    {
        let (tx, rx) = UnixSeqpacket::pair().unwrap();
        let f = pipes(3);
        send(&tx, &borrow(&f));
        out.control("rights-3-seqpacket", &capture(&rx, SPACE_MAX).0);
    }
    {
        let (tx, rx) = UnixDatagram::pair().unwrap();
        let f = pipes(1);
        let many = vec![f[0].as_fd(); sys::SCM_MAX_FD];
        send(&tx, &many);
        out.control("rights-253-datagram", &capture(&rx, SPACE_MAX).0);
    }
    // Two SCM_RIGHTS messages in one sendmsg (the kernel merges them).
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let f = pipes(3);
        let b = borrow(&f);
        let mut cbuf = CmsgBuf::<{ space_for_fds(1) + space_for_fds(2) }>::new();
        let mut enc = cbuf.encoder();
        enc.push_rights(&b[..1]).unwrap();
        enc.push_rights(&b[1..]).unwrap();
        tx.send_msg(&[IoSlice::new(b"x")], &enc.finish()).unwrap();
        out.control("rights-two-messages-merged", &capture(&rx, SPACE_MAX).0);
    }
    // Credentials.
    {
        let (tx, rx) = UnixDatagram::pair().unwrap();
        rx.set_pass_cred(true).unwrap();
        tx.send(b"x").unwrap();
        out.control("credentials", &capture(&rx, SPACE_MAX).0);
        // Credentials a process may send about itself, explicitly.
        let me = Ucred {
            pid: sys::getpid(),
            uid: sys::getuid(),
            gid: sys::getgid(),
        };
        let mut cbuf = CmsgBuf::<{ space_for_credentials() }>::new();
        let mut enc = cbuf.encoder();
        enc.push_credentials(&me).unwrap();
        tx.send_msg(&[IoSlice::new(b"x")], &enc.finish()).unwrap();
        out.control("credentials-explicit", &capture(&rx, SPACE_MAX).0);
    }
    // A pidfd alone.
    {
        let (tx, rx) = UnixSeqpacket::pair().unwrap();
        if rx.set_pass_pidfd(true).is_ok() {
            tx.send(b"x").unwrap();
            out.control("pidfd", &capture(&rx, SPACE_MAX).0);
        } else {
            eprintln!("no SO_PASSPIDFD on this kernel: no pidfd seeds");
        }
    }
    // Everything at once, then the same into control buffers too small for it: the
    // kernel cuts messages short (MSG_CTRUNC) and leaves cmsg_len past the end.
    if let Some((all, _)) = everything(SPACE_MAX, 2) {
        out.control("credentials-pidfd-rights", &all);
        let sizes = [
            HDR - 1,
            HDR,
            HDR + 4,
            space_for_credentials() - 1,
            space_for_credentials(),
            space_for_credentials() + HDR + 2,
            space_for_credentials() + space_for_pidfd(),
            space_for_credentials() + space_for_pidfd() + HDR + 4,
            all.len() - 1,
        ];
        for len in sizes {
            let (bytes, flags) = everything(len, 2).expect("pidfd worked once");
            // Most of these sizes cut something (MSG_CTRUNC); some fit what the
            // kernel writes exactly (the last message needs no trailing padding).
            let cut = if flags & sys::MSG_CTRUNC != 0 {
                "ctrunc"
            } else {
                "fits"
            };
            if !bytes.is_empty() {
                out.control(&format!("{cut}-everything-buf{len}"), &bytes);
            }
        }
        cut_and_corrupt(out, "credentials-pidfd-rights", &all);
    }
    {
        let (tx, rx) = UnixStream::pair().unwrap();
        let f = pipes(8);
        send(&tx, &borrow(&f));
        let (bytes, flags) = capture(&rx, space_for_fds(3));
        assert!(flags & sys::MSG_CTRUNC != 0);
        out.control("ctrunc-rights-8-into-3", &bytes);
    }
}

/// Cuts `bytes` at a few interesting lengths, and breaks headers: a `cmsg_len` of 0,
/// one short of a header, past the end, and the largest there is.
fn cut_and_corrupt(out: &mut Out, name: &str, bytes: &[u8]) {
    let items = model::walk(bytes);
    let mut cuts = BTreeSet::new();
    for item in &items {
        if let Item::Msg { offset, data, .. } = item {
            for c in [
                *offset + 1,
                *offset + HDR - 1,
                *offset + HDR,
                data.start + 2,
                data.end - 1,
            ] {
                if c < bytes.len() {
                    cuts.insert(c);
                }
            }
        }
    }
    for c in cuts {
        out.control(&format!("cut-{name}-at{c}"), &bytes[..c]);
    }
    for (i, item) in items.iter().enumerate() {
        let Item::Msg { offset, .. } = item else {
            continue;
        };
        let len_field = *offset..*offset + std::mem::size_of::<usize>();
        for (what, len) in [
            ("len0", 0usize),
            ("lenhdr-1", HDR - 1),
            ("lenpastend", bytes.len() - offset + 1),
            ("lenmax", usize::MAX),
        ] {
            let mut b = bytes.to_vec();
            b[len_field.clone()].copy_from_slice(&len.to_ne_bytes());
            out.control(&format!("bad-{name}-msg{i}-{what}"), &b);
        }
    }
}

fn encoder_seeds(out: &mut Out) {
    let me = Ucred {
        pid: 1234,
        uid: 1000,
        gid: 1000,
    };
    let progs: Vec<(&str, Program)> = vec![
        ("rights-1", prog(64, 0, vec![Op::Rights(vec![0])])),
        (
            "rights-3-credentials",
            prog(128, 2, vec![Op::Rights(vec![1, 2, 3]), Op::Credentials(me)]),
        ),
        (
            "rights-253",
            prog(
                2048,
                2,
                vec![Op::Rights((0..253).map(|i| i % POOL).collect())],
            ),
        ),
        (
            "rights-254-too-many",
            prog(
                2048,
                0,
                vec![Op::Rights((0..254).map(|i| i % POOL).collect())],
            ),
        ),
        (
            "rights-split-past-253",
            prog(
                4096,
                0,
                vec![
                    Op::Rights(vec![0; 200]),
                    Op::Rights(vec![1; 54]),
                    Op::Rights(vec![2; 53]),
                ],
            ),
        ),
        ("credentials", prog(32, 3, vec![Op::Credentials(me)])),
        (
            "raw-unknown-type",
            prog(64, 1, vec![Op::Raw(1, 99, b"hello".to_vec())]),
        ),
        (
            "raw-other-level",
            prog(64, 0, vec![Op::Raw(0x1234, 1, vec![0; 3])]),
        ),
        ("raw-empty", prog(32, 0, vec![Op::Raw(1, 1, vec![])])),
        (
            "too-small",
            prog(20, 0, vec![Op::Rights(vec![0, 1]), Op::Credentials(me)]),
        ),
        (
            "zero-capacity",
            prog(0, 1, vec![Op::Credentials(me), Op::Rights(vec![])]),
        ),
        (
            "mixed",
            prog(
                512,
                3,
                vec![
                    Op::Credentials(me),
                    Op::Rights(vec![5; 7]),
                    Op::Raw(1, 4, vec![9; 4]),
                    Op::Rights(vec![6]),
                ],
            ),
        ),
    ];
    for (name, p) in progs {
        out.put(
            "encode_roundtrip",
            &format!("any-{name}"),
            &encode_program(&p),
        );
    }
}

fn prog(capacity: usize, flags: u8, ops: Vec<Op>) -> Program {
    Program {
        capacity,
        flags,
        ops,
    }
}

fn addr_seeds(out: &mut Out) {
    let mut seeds: Vec<(String, Vec<u8>)> = vec![
        ("notify".into(), b"/run/systemd/notify".to_vec()),
        (
            "abstract".into(),
            b"@/org/freedesktop/systemd1/notify/123".to_vec(),
        ),
        ("at-only".into(), b"@".to_vec()),
        ("empty".into(), vec![]),
        ("root".into(), b"/".to_vec()),
        ("path-107".into(), vec![b'p'; 107]),
        ("path-108".into(), vec![b'p'; 108]),
        ("abstract-107".into(), [&b"@"[..], &[b'a'; 107]].concat()),
        ("abstract-108".into(), [&b"@"[..], &[b'a'; 108]].concat()),
        ("path-nul".into(), b"/tmp/a\0b".to_vec()),
        ("abstract-nul".into(), b"@a\0b".to_vec()),
        ("path-latin1".into(), b"/tmp/caf\xe9".to_vec()),
        ("abstract-utf8".into(), "@café-☃".as_bytes().to_vec()),
        ("escape-lookalike".into(), b"/tmp/\\x41".to_vec()),
    ];
    // Names the kernel gave: an autobound abstract address, as baremsg shows it.
    {
        let s = UnixDatagram::unbound().unwrap();
        let mut raw = sys::SockaddrUn::new();
        raw.sun_family = sys::AF_UNIX as u16;
        // SAFETY: binding with only the family asks the kernel to autobind.
        let r = unsafe {
            sys::bind(
                baremsg::fd::AsRawFd::as_raw_fd(&s),
                (&raw as *const sys::SockaddrUn).cast(),
                std::mem::size_of::<u16>() as u32,
            )
        };
        if r.is_ok() {
            let shown = s.local_addr().unwrap().to_string();
            seeds.push(("autobind".into(), shown.into_bytes()));
        }
    }
    for (name, bytes) in seeds {
        out.put("unix_addr", &format!("any-{name}"), &bytes);
    }
}

fn notify_seeds(out: &mut Out) {
    let big = [&b"STATUS="[..], &[b'x'; 4089]].concat();
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("ready", b"READY=1".to_vec()),
        ("ready-status", b"READY=1\nSTATUS=up: 3 workers\n".to_vec()),
        (
            "mainpid",
            b"MAINPID=4242\nMONOTONIC_USEC=123456789".to_vec(),
        ),
        ("fdstore", b"FDSTORE=1\nFDNAME=web".to_vec()),
        ("barrier", b"BARRIER=1".to_vec()),
        ("extend", b"EXTEND_TIMEOUT_USEC=5000000\n".to_vec()),
        ("two-newlines", b"STATUS=x\n\n".to_vec()),
        ("no-equals", b"READY".to_vec()),
        ("empty-key", b"=1".to_vec()),
        ("lowercase-key", b"ready=1".to_vec()),
        ("nul", b"READY=1\0".to_vec()),
        ("4096", big),
        ("notify-socket-path", b"/run/systemd/notify".to_vec()),
        (
            "notify-socket-abstract",
            b"@/org/freedesktop/systemd1/notify/123".to_vec(),
        ),
        ("fdnames", b"web:admin".to_vec()),
        (
            "env",
            b"PATH=/bin\xffNOTIFY_SOCKETX=1\xffNOTIFY_SOCKET=/run/notify\xffNOTIFY_SOCKET=@x"
                .to_vec(),
        ),
        (
            "fields-259",
            b"WATCHDOG=trigger\nWATCHDOG_USEC=30000000\nNOTIFYACCESS=exec\nEXIT_STATUS=3\n\
              MAINPIDFD=1\nMAINPIDFDID=77\nFDSTOREREMOVE=1\nFDPOLL=0\nRESTART_RESET=1\nX_A=b"
                .to_vec(),
        ),
        (
            "bad-fields",
            b"EXIT_STATUS=256\nERRNO=4096\nSTATUS=\xff\nFDPOLL=2".to_vec(),
        ),
        ("vsock", b"vsock:2:1234".to_vec()),
        ("vsock-stream-host", b"vsock-stream:host:9".to_vec()),
        ("vsock-bad-port", b"vsock-seqpacket:3:4294967295".to_vec()),
        ("watchdog-own", b"!20000000".to_vec()),
        ("watchdog-other", b"5000\xff1".to_vec()),
    ];
    for (name, bytes) in seeds {
        out.put("notify_message", &format!("any-{name}"), &bytes);
    }
}

fn listen_env_seeds(out: &mut Out) {
    // flags: bits 0-2 and 4 the value is set, bit 3 LISTEN_PID is this process's pid,
    // bit 5 LISTEN_PIDFDID its pidfs id.
    let seeds: [(&str, &[u8]); 14] = [
        ("own-two-named", b"\x0f\xff2\xffweb:admin"),
        ("own-three-unnamed", b"\x0b\xff3"),
        ("own-zero-empty-names", b"\x0f\xff0\xff"),
        ("own-one-empty-name", b"\x0f\xff1\xff"),
        ("own-name-count-mismatch", b"\x0f\xff2\xffone"),
        ("pid-1", b"\x031\xff1"),
        ("pid-zero", b"\x01\x30"),
        ("own-missing-fds", b"\x09"),
        ("own-too-many", b"\x0b\xff99999999999"),
        ("own-plus-sign", b"\x0b\xff+1"),
        ("unset", b"\x00"),
        ("own-pidfdid", b"\x2b\xff1\xff\xff"),
        ("own-wrong-pidfdid", b"\x1b\xff1\xff\xff12"),
        ("own-bad-pidfdid", b"\x1b\xff1\xff\xffx"),
    ];
    for (name, bytes) in seeds {
        out.put("listen_env", &format!("any-{name}"), bytes);
    }
}

fn batch_seeds(out: &mut Out) {
    // See checks/src/batch.rs: [flags] [entries] then per message
    // [payload] [fds] [buf] [control] [take].
    let seeds: [(&str, &[u8]); 6] = [
        ("three-fit", b"\x10\x03\x04\x02\x08\x02\x09\x03\x00\x08\x00\x00\x05\x08\x08\x08\x01"),
        ("creds-short", b"\x11\x02\x04\x08\x08\x81\x09\x04\x03\x08\xff\x00"),
        ("truncated-payload", b"\x04\x02\x20\x00\x04\x00\x00\x02\x00\x08\x00\x00"),
        ("waitforone-more-entries", b"\x12\x0f\x01\x01\x01\x01\x09"),
        ("dropped-untouched", b"\x18\x04\x02\x08\x02\x08\x00\x02\x08\x02\x02\x00"),
        ("empty", b""),
    ];
    for (name, bytes) in seeds {
        out.put("recv_batch", &format!("any-{name}"), bytes);
    }
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .expect("usage: corpus-gen <corpus dir>");
    let mut out = Out {
        dir: Path::new(&dir).to_path_buf(),
        seen: BTreeSet::new(),
        written: 0,
    };
    kernel_seeds(&mut out);
    encoder_seeds(&mut out);
    addr_seeds(&mut out);
    notify_seeds(&mut out);
    listen_env_seeds(&mut out);
    batch_seeds(&mut out);
    println!(
        "corpus-gen ({ARCH}): {} seed files written under {}",
        out.written,
        out.dir.display()
    );
}
