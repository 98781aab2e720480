//! baremsg against its peers: four workloads, each written with baremsg, rustix, nix and
//! the `libc` crate, plus a C program (`benches/peers/glibc_cmsg.c`, compiled here with
//! `cc -O2`, `-m32` for i686) using glibc's CMSG macros, wrappers without the macros, or
//! raw syscalls. All run in one invocation, interleaved: each round runs every
//! implementation once (the order reversed every other round), so a ratio to the C/glibc
//! program is taken within a round and the table shows the median over the rounds.
//!
//! Workloads, each iteration one send and one receive over a `socketpair`:
//! - W1: 1,000,000 iterations, `SOCK_STREAM`, 16 bytes, no control data;
//! - W2: 200,000 iterations, 1 byte with one fd (`SCM_RIGHTS`), received close-on-exec,
//!   the received fd closed;
//! - W3: as W2 with 8 fds per message;
//! - W4: 500,000 iterations, `SOCK_DGRAM` with `SO_PASSCRED`, 16 bytes sent, received
//!   with `SCM_CREDENTIALS`, which is parsed and checked.
//!
//! ```text
//! cargo bench --bench msgbench -- [--quick] [--scale F] [--rounds N] [--iters N]
//!     [--impl NAME,...] [--workload W1,...] [--no-c] [--insns FILE] [--list] [--quiet]
//! ```
//! - `--quick`: 1% of the iterations, one round (for CI); `--scale F` (or
//!   `MSGBENCH_SCALE=F`): F times the iterations; `--iters N`: exactly N for every
//!   workload (callgrind uses it);
//! - `--rounds N` (or `MSGBENCH_ROUNDS=N`): rounds, default 3;
//! - `--impl`, `--workload`: run only these; `--no-c`: do not compile or run the C program;
//! - `--insns FILE`: a file written by `benches/callgrind` (`impl workload instructions`
//!   lines) whose figures go into the table;
//! - `--list`: print the implementations (name, workloads, what it uses) and exit;
//! - `--quiet`: print nothing (what `benches/callgrind` runs: formatting the times would
//!   cost a number of instructions that varies from run to run).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The C implementations: the program's first argument, the name in the table, the
/// workloads, what it does. Each runs from the dynamically linked build and, as
/// `<name>-static`, from the static one.
const C_IMPLS: [(&str, &str, &str, &str); 5] = [
    (
        "glibc",
        "c-glibc",
        "W1,W2,W3,W4,W3x64,W3x253,W5b1,W5b8,W5b32,W5b64",
        "C, glibc sendmsg/recvmsg + CMSG macros (the reference)",
    ),
    (
        "wrap",
        "c-wrap",
        "W1,W2,W3,W4",
        "C, glibc sendmsg/recvmsg, control data as a struct",
    ),
    (
        "raw",
        "c-raw",
        "W1,W2,W3,W4,W3x64,W3x253,W5b1,W5b8,W5b32,W5b64",
        "C, inline-asm syscalls (int 0x80 on i686), control data as a struct (the floor)",
    ),
    (
        "vdso",
        "c-vdso",
        "W1,W2,W3,W4",
        "i686 only: as c-raw, entering through the vDSO's __kernel_vsyscall",
    ),
    (
        "mmsg",
        "c-mmsg",
        "W5b1,W5b8,W5b32,W5b64",
        "C, glibc sendmmsg/recvmmsg in batches, CMSG macros per message",
    ),
];

/// The C implementations also run from the static build (`cc -static`).
const C_STATIC: [&str; 3] = ["glibc", "raw", "mmsg"];

/// What the ratio column compares with: in each round, the faster of these two (the
/// same C program, dynamically and statically linked).
const REFERENCES: [&str; 2] = ["c-glibc", "c-glibc-static"];
const REFERENCE: &str = "best C";
/// What the instruction ratio compares with: the C program issuing raw syscalls.
const FLOOR: &str = "c-raw";

const PAYLOAD: [u8; 16] = *b"0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Workload {
    W1,
    W2,
    W3,
    W4,
    /// W3 with 64 and 253 fds per message (the scaling table; W2 and W3 are 1 and 8).
    W3x64,
    W3x253,
    /// W5: 16-byte datagrams with credentials, received (and, for the batch
    /// implementations, sent) in batches of 1, 8, 32, 64. An iteration is one message.
    W5b1,
    W5b8,
    W5b32,
    W5b64,
}

impl Workload {
    /// What runs by default.
    const ALL: [Workload; 4] = [Workload::W1, Workload::W2, Workload::W3, Workload::W4];
    /// What `--workload` also knows.
    const EXTRA: [Workload; 6] = [
        Workload::W3x64,
        Workload::W3x253,
        Workload::W5b1,
        Workload::W5b8,
        Workload::W5b32,
        Workload::W5b64,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W3x64 => "W3x64",
            Workload::W3x253 => "W3x253",
            Workload::W5b1 => "W5b1",
            Workload::W5b8 => "W5b8",
            Workload::W5b32 => "W5b32",
            Workload::W5b64 => "W5b64",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Self::EXTRA)
            .find(|w| w.name().eq_ignore_ascii_case(s))
    }

    fn base_iters(self) -> u64 {
        match self {
            Workload::W1 => 1_000_000,
            Workload::W2 | Workload::W3 => 200_000,
            Workload::W3x64 => 50_000,
            Workload::W3x253 => 20_000,
            Workload::W4 => 500_000,
            Workload::W5b1 | Workload::W5b8 | Workload::W5b32 | Workload::W5b64 => 512_000,
        }
    }

    /// Fds per message (W2, W3 and its scaled forms).
    fn fds(self) -> usize {
        match self {
            Workload::W2 => 1,
            Workload::W3 => 8,
            Workload::W3x64 => 64,
            Workload::W3x253 => 253,
            _ => 0,
        }
    }

    /// Messages per batch (W5).
    fn batch(self) -> usize {
        match self {
            Workload::W5b1 => 1,
            Workload::W5b8 => 8,
            Workload::W5b32 => 32,
            Workload::W5b64 => 64,
            _ => 0,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Workload::W1 => "stream, 16 B, no control data",
            Workload::W2 => "stream, 1 B + 1 fd, cloexec, fd closed",
            Workload::W3 => "stream, 1 B + 8 fds, cloexec, fds closed",
            Workload::W3x64 => "as W3 with 64 fds",
            Workload::W3x253 => "as W3 with 253 fds",
            Workload::W4 => "dgram, 16 B, SO_PASSCRED, credentials parsed",
            Workload::W5b1 | Workload::W5b8 | Workload::W5b32 | Workload::W5b64 => {
                "dgram, 16 B, SO_PASSCRED, credentials parsed; batches of b (an iteration is one message)"
            }
        }
    }
}

/// Stops the run when an iteration got a wrong result.
#[cold]
#[inline(never)]
fn failed(what: &str) -> ! {
    panic!("msgbench: wrong result: {what}")
}

/// `check!(cond)`: [`failed`] unless `cond` holds. Each check's failure is a function of
/// its own that takes no argument, so in the timed loop a check costs a compare and a
/// branch, as in the C program (an `assert_eq!` keeps both values in memory for its
/// message, and even a message argument is set up before the branch).
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            #[cold]
            #[inline(never)]
            fn fail() -> ! {
                $crate::failed(stringify!($cond))
            }
            fail()
        }
    };
}

/// Runs `iters` iterations of `body` and returns the nanoseconds per iteration.
#[inline(always)]
fn timed(iters: u64, mut body: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        body();
    }
    let ns = start.elapsed().as_nanos() as f64;
    if iters == 0 {
        0.0
    } else {
        ns / iters as f64
    }
}

/// baremsg through its safe API: `send`/`recv`; `send_msg` with an `Encoder` and
/// `recv_msg` with a `CmsgBuf` reused across iterations; `recv_msg` and
/// `credentials()`.
mod with_baremsg {
    use super::{timed, Workload, PAYLOAD};
    use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf};
    use baremsg::fd::{self, AsFd, BorrowedFd, OwnedFd};
    use baremsg::io::{IoSlice, IoSliceMut};
    use baremsg::unix::{RecvEntry, SendEntry, UnixDatagram, UnixStream};

    /// At least eight fds to send (the ends of pipes), `n` if more; they stay open for
    /// the run. Eight even for W2: the counts of W2 depend on it (under callgrind, W2
    /// with one pipe made counted 109 instructions, with four 95).
    pub(super) fn fds_to_send(n: usize) -> Vec<OwnedFd> {
        let n = n.max(8);
        let mut v: Vec<OwnedFd> = (0..n.div_ceil(2))
            .flat_map(|_| {
                let (r, w) = fd::pipe().expect("pipe");
                [r, w]
            })
            .collect();
        v.truncate(n);
        v
    }

    pub(super) fn run(w: Workload, iters: u64) -> Option<f64> {
        Some(match w {
            Workload::W1 => w1(iters),
            Workload::W2 => fds::<{ space_for_fds(1) }>(1, iters),
            Workload::W3 => fds::<{ space_for_fds(8) }>(8, iters),
            Workload::W3x64 => fds::<{ space_for_fds(64) }>(64, iters),
            Workload::W3x253 => fds::<{ space_for_fds(253) }>(253, iters),
            // W5 with single calls: W4's loop, one message an iteration.
            Workload::W4 | Workload::W5b1 | Workload::W5b8 | Workload::W5b32 | Workload::W5b64 => {
                w4(iters)
            }
        })
    }

    /// The README's calls as a user writes them: a `CmsgBuf::new()` for each send and
    /// each receive, `take_fds`, `credentials()`.
    pub(super) fn run_idiomatic(w: Workload, iters: u64) -> Option<f64> {
        Some(match w {
            Workload::W1 => w1(iters),
            Workload::W2 => idiomatic_fds::<{ space_for_fds(1) }>(1, iters),
            Workload::W3 => idiomatic_fds::<{ space_for_fds(8) }>(8, iters),
            Workload::W4 => idiomatic_w4(iters),
            _ => return None,
        })
    }

    fn idiomatic_fds<const N: usize>(n: usize, iters: u64) -> f64 {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let owned = fds_to_send(n);
        let to_send: Vec<BorrowedFd<'_>> = owned[..n].iter().map(|f| f.as_fd()).collect();
        let mut byte = [0u8; 1];
        timed(iters, || {
            let mut buf = CmsgBuf::<N>::new();
            let mut enc = buf.encoder();
            enc.push_rights(&to_send).expect("encode");
            let sent = a.send_msg(&[IoSlice::new(b"x")], &enc.finish());
            check!(sent.expect("send_msg") == 1);
            let mut ctl = CmsgBuf::<N>::new();
            let mut msg = b
                .recv_msg(&mut [IoSliceMut::new(&mut byte)], &mut ctl)
                .expect("recv_msg");
            check!(msg.bytes == 1 && !msg.is_control_truncated());
            let mut got = 0;
            for fd in msg.control.take_fds() {
                drop(fd);
                got += 1;
            }
            check!(got == n);
        })
    }

    fn idiomatic_w4(iters: u64) -> f64 {
        let (a, b) = UnixDatagram::pair().expect("socketpair");
        b.set_pass_cred(true).expect("SO_PASSCRED");
        let pid = std::process::id() as i32;
        let mut data = [0u8; 16];
        timed(iters, || {
            check!(a.send(&PAYLOAD).expect("send") == 16);
            let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
            let mut msg = b
                .recv_msg(&mut [IoSliceMut::new(&mut data)], &mut ctl)
                .expect("recv_msg");
            check!(msg.bytes == 16);
            let who = msg.control.credentials().expect("credentials");
            check!(who.pid == pid);
        })
    }

    /// W5 with the batch API: `send_mmsg` of `b` datagrams, then `recv_mmsg` of them,
    /// each message's credentials parsed and checked. One iteration is one message.
    pub(super) fn run_batch(w: Workload, iters: u64) -> Option<f64> {
        let b = w.batch();
        if b == 0 {
            return None;
        }
        let (tx, rx) = UnixDatagram::pair().expect("socketpair");
        rx.set_pass_cred(true).expect("SO_PASSCRED");
        let pid = std::process::id() as i32;
        let out = [IoSlice::new(&PAYLOAD)];
        let sends: Vec<SendEntry<'_>> = (0..b).map(|_| SendEntry::new(&out)).collect();
        let mut data = vec![[0u8; 16]; b];
        let mut ctls: Vec<CmsgBuf<{ space_for_credentials() }>> =
            (0..b).map(|_| CmsgBuf::new()).collect();
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
            data.iter_mut().map(|d| [IoSliceMut::new(d)]).collect();
        let mut entries: Vec<RecvEntry<'_>> = iovs
            .iter_mut()
            .zip(ctls.iter_mut())
            .map(|(i, c)| RecvEntry::new(i, c))
            .collect();
        let batches = iters.div_ceil(b as u64);
        let ns = timed(batches, || {
            check!(tx.send_mmsg(&sends).expect("send_mmsg") == b);
            let got = rx.recv_mmsg(&mut entries, None).expect("recv_mmsg");
            check!(got.len() == b);
            for mut m in got {
                check!(m.bytes == 16);
                check!(m.control.credentials().expect("credentials").pid == pid);
            }
        });
        Some(ns / b as f64)
    }

    fn w1(iters: u64) -> f64 {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let mut buf = [0u8; 16];
        timed(iters, || {
            check!(a.send(&PAYLOAD).expect("send") == 16);
            check!(b.recv(&mut buf).expect("recv") == 16);
        })
    }

    fn fds<const N: usize>(n: usize, iters: u64) -> f64 {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let owned = fds_to_send(n);
        let to_send: Vec<BorrowedFd<'_>> = owned[..n].iter().map(|f| f.as_fd()).collect();
        let mut send_ctl = CmsgBuf::<N>::new();
        let mut recv_ctl = CmsgBuf::<N>::new();
        let mut byte = [0u8; 1];
        timed(iters, || {
            let mut enc = send_ctl.encoder();
            enc.push_rights(&to_send).expect("encode");
            let sent = a.send_msg(&[IoSlice::new(b"x")], &enc.finish());
            check!(sent.expect("send_msg") == 1);
            let mut got = b
                .recv_msg(&mut [IoSliceMut::new(&mut byte)], &mut recv_ctl)
                .expect("recv_msg");
            check!(got.bytes == 1 && !got.is_control_truncated());
            // Each received fd is an OwnedFd, closed as it is dropped here.
            check!(got.control.take_fds().count() == n);
        })
    }

    fn w4(iters: u64) -> f64 {
        let (a, b) = UnixDatagram::pair().expect("socketpair");
        b.set_pass_cred(true).expect("SO_PASSCRED");
        let pid = std::process::id() as i32;
        let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
        let mut buf = [0u8; 16];
        timed(iters, || {
            check!(a.send(&PAYLOAD).expect("send") == 16);
            let mut got = b
                .recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)
                .expect("recv_msg");
            check!(got.bytes == 16);
            check!(got.control.credentials().expect("credentials").pid == pid);
        })
    }

    /// i686: `run` entering the kernel with `int 0x80` instead of the vDSO's
    /// `__kernel_vsyscall`, the entry baremsg uses when it finds none; the default entry
    /// is put back afterwards.
    #[cfg(target_arch = "x86")]
    pub(super) fn run_int80(w: Workload, iters: u64) -> Option<f64> {
        use baremsg::sys::raw;
        let entry = raw::vsyscall();
        // SAFETY: `int 0x80` needs nothing; `entry` is the one baremsg found.
        unsafe { raw::set_vsyscall(None) };
        let t = run(w, iters);
        // SAFETY: as above.
        unsafe { raw::set_vsyscall(entry) };
        t
    }

    /// W2 and W3 through the fd helpers: `send_fds` and `recv_fds`.
    pub(super) fn run_fd_helpers(w: Workload, iters: u64) -> Option<f64> {
        let n = w.fds();
        if n == 0 {
            return None;
        }
        let (a, b) = UnixStream::pair().expect("socketpair");
        let owned = fds_to_send(n);
        let to_send: Vec<BorrowedFd<'_>> = owned[..n].iter().map(|f| f.as_fd()).collect();
        let mut slots: Vec<Option<OwnedFd>> = (0..n).map(|_| None).collect();
        let mut byte = [0u8; 1];
        Some(timed(iters, || {
            check!(a.send_fds(b"x", &to_send).expect("send_fds") == 1);
            let got = b.recv_fds(&mut byte, &mut slots[..n]).expect("recv_fds");
            check!((got.bytes, got.fds, got.control_truncated) == (1, n, false));
            // Closes the received fds.
            slots[..n].iter_mut().for_each(|s| drop(s.take()));
        }))
    }
}

/// rustix: `send`/`recv`; `sendmsg`/`recvmsg` with its ancillary buffers sized by
/// `cmsg_space!` on the stack, `RecvFlags::CMSG_CLOEXEC`.
mod with_rustix {
    use super::{timed, Workload, PAYLOAD};
    use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
    use rustix::net::{
        recv, recvmsg, send, sendmsg, socketpair, sockopt, AddressFamily, RecvAncillaryBuffer,
        RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer, SendAncillaryMessage,
        SendFlags, SocketFlags, SocketType,
    };
    use std::io::{IoSlice, IoSliceMut};
    use std::mem::MaybeUninit;

    fn pair(ty: SocketType) -> (OwnedFd, OwnedFd) {
        socketpair(AddressFamily::UNIX, ty, SocketFlags::CLOEXEC, None).expect("socketpair")
    }

    pub(super) fn run(w: Workload, iters: u64) -> Option<f64> {
        Some(match w {
            Workload::W1 => w1(iters),
            Workload::W2 => fds(
                &mut [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))],
                &mut [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))],
                1,
                iters,
            ),
            Workload::W3 => fds(
                &mut [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(8))],
                &mut [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(8))],
                8,
                iters,
            ),
            Workload::W4 => w4(iters),
            _ => return None,
        })
    }

    fn w1(iters: u64) -> f64 {
        let (a, b) = pair(SocketType::STREAM);
        let mut buf = [0u8; 16];
        timed(iters, || {
            check!(send(&a, &PAYLOAD, SendFlags::NOSIGNAL).expect("send") == 16);
            let (n, _) = recv(&b, &mut buf[..], RecvFlags::empty()).expect("recv");
            check!(n == 16);
        })
    }

    fn fds(
        send_space: &mut [MaybeUninit<u8>],
        recv_space: &mut [MaybeUninit<u8>],
        n: usize,
        iters: u64,
    ) -> f64 {
        let (a, b) = pair(SocketType::STREAM);
        let owned: Vec<OwnedFd> = (0..4)
            .flat_map(|_| {
                let (r, w) =
                    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
                [r, w]
            })
            .collect();
        let to_send: Vec<BorrowedFd<'_>> = owned[..n].iter().map(|f| f.as_fd()).collect();
        let mut recv_ctl = RecvAncillaryBuffer::new(recv_space);
        let mut byte = [0u8; 1];
        timed(iters, || {
            let mut send_ctl = SendAncillaryBuffer::new(send_space);
            check!(send_ctl.push(SendAncillaryMessage::ScmRights(&to_send)));
            let sent = sendmsg(
                &a,
                &[IoSlice::new(b"x")],
                &mut send_ctl,
                SendFlags::NOSIGNAL,
            );
            check!(sent.expect("sendmsg") == 1);
            let got = recvmsg(
                &b,
                &mut [IoSliceMut::new(&mut byte)],
                &mut recv_ctl,
                RecvFlags::CMSG_CLOEXEC,
            )
            .expect("recvmsg");
            check!(got.bytes == 1 && !got.flags.contains(ReturnFlags::CTRUNC));
            let mut count = 0;
            for msg in recv_ctl.drain() {
                if let RecvAncillaryMessage::ScmRights(fds) = msg {
                    // Each received fd is an OwnedFd, closed as it is dropped here.
                    count += fds.count();
                }
            }
            check!(count == n);
        })
    }

    fn w4(iters: u64) -> f64 {
        let (a, b) = pair(SocketType::DGRAM);
        sockopt::set_socket_passcred(&b, true).expect("SO_PASSCRED");
        let pid = rustix::process::getpid();
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
        let mut ctl = RecvAncillaryBuffer::new(&mut space);
        let mut buf = [0u8; 16];
        timed(iters, || {
            check!(send(&a, &PAYLOAD, SendFlags::NOSIGNAL).expect("send") == 16);
            let got = recvmsg(
                &b,
                &mut [IoSliceMut::new(&mut buf)],
                &mut ctl,
                RecvFlags::CMSG_CLOEXEC,
            )
            .expect("recvmsg");
            check!(got.bytes == 16);
            let cred = ctl.drain().find_map(|m| match m {
                RecvAncillaryMessage::ScmCredentials(c) => Some(c),
                _ => None,
            });
            check!(cred.expect("credentials").pid == pid);
        })
    }
}

/// nix: `send`/`recv`; `sendmsg` with `ControlMessage`, `recvmsg` with a `cmsg_space!`
/// buffer allocated once, `MsgFlags::MSG_CMSG_CLOEXEC`.
mod with_nix {
    use super::{timed, Workload, PAYLOAD};
    use nix::sys::socket::{
        recv, recvmsg, send, sendmsg, setsockopt, socketpair, sockopt, AddressFamily,
        ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, UnixCredentials,
    };
    use std::io::{IoSlice, IoSliceMut};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    fn pair(ty: SockType) -> (OwnedFd, OwnedFd) {
        socketpair(AddressFamily::Unix, ty, None, SockFlag::SOCK_CLOEXEC).expect("socketpair")
    }

    pub(super) fn run(w: Workload, iters: u64) -> Option<f64> {
        Some(match w {
            Workload::W1 => w1(iters),
            Workload::W2 => fds(nix::cmsg_space!([RawFd; 1]), 1, iters),
            Workload::W3 => fds(nix::cmsg_space!([RawFd; 8]), 8, iters),
            Workload::W4 => w4(iters),
            _ => return None,
        })
    }

    fn w1(iters: u64) -> f64 {
        let (a, b) = pair(SockType::Stream);
        let (a, b) = (a.as_raw_fd(), b.as_raw_fd());
        let mut buf = [0u8; 16];
        timed(iters, || {
            check!(send(a, &PAYLOAD, MsgFlags::MSG_NOSIGNAL).expect("send") == 16);
            check!(recv(b, &mut buf, MsgFlags::empty()).expect("recv") == 16);
        })
    }

    fn fds(mut space: Vec<u8>, n: usize, iters: u64) -> f64 {
        let (a, b) = pair(SockType::Stream);
        let owned: Vec<OwnedFd> = (0..4)
            .flat_map(|_| {
                let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
                [r, w]
            })
            .collect();
        let to_send: Vec<RawFd> = owned[..n].iter().map(|f| f.as_raw_fd()).collect();
        let mut byte = [0u8; 1];
        timed(iters, || {
            let sent = sendmsg::<()>(
                a.as_raw_fd(),
                &[IoSlice::new(b"x")],
                &[ControlMessage::ScmRights(&to_send)],
                MsgFlags::MSG_NOSIGNAL,
                None,
            );
            check!(sent.expect("sendmsg") == 1);
            let mut iov = [IoSliceMut::new(&mut byte)];
            let got = recvmsg::<()>(
                b.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .expect("recvmsg");
            check!(got.bytes == 1 && !got.flags.contains(MsgFlags::MSG_CTRUNC));
            let mut count = 0;
            for msg in got.cmsgs().expect("control data") {
                if let ControlMessageOwned::ScmRights(fds) = msg {
                    for fd in fds {
                        // SAFETY: the kernel installed `fd` for this receive; nothing
                        // else owns it.
                        drop(unsafe { OwnedFd::from_raw_fd(fd) });
                        count += 1;
                    }
                }
            }
            check!(count == n);
        })
    }

    fn w4(iters: u64) -> f64 {
        let (a, b) = pair(SockType::Datagram);
        setsockopt(&b, sockopt::PassCred, &true).expect("SO_PASSCRED");
        let pid = std::process::id() as i32;
        let mut space = nix::cmsg_space!(UnixCredentials);
        let mut buf = [0u8; 16];
        timed(iters, || {
            let sent = send(a.as_raw_fd(), &PAYLOAD, MsgFlags::MSG_NOSIGNAL);
            check!(sent.expect("send") == 16);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let got = recvmsg::<()>(
                b.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .expect("recvmsg");
            check!(got.bytes == 16);
            let cred = got.cmsgs().expect("control data").find_map(|m| match m {
                ControlMessageOwned::ScmCredentials(c) => Some(c),
                _ => None,
            });
            check!(cred.expect("credentials").pid() == pid);
        })
    }
}

/// The `libc` crate, as the C program does it: `sendmsg`/`recvmsg` and the CMSG
/// functions over a buffer aligned for `cmsghdr`.
mod with_libc {
    use super::{timed, Workload, PAYLOAD};
    use std::mem::{size_of, zeroed};
    use std::ptr;

    /// A control buffer aligned for `struct cmsghdr`, as a C union would be.
    #[repr(C)]
    struct Ctl<const N: usize> {
        _align: [libc::cmsghdr; 0],
        buf: [u8; N],
    }

    const fn space(data: usize) -> usize {
        // SAFETY: CMSG_SPACE is arithmetic only.
        unsafe { libc::CMSG_SPACE(data as u32) as usize }
    }

    fn pair(ty: i32) -> [i32; 2] {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two fds; they stay open for the process.
        let r = unsafe {
            libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
        };
        assert_eq!(r, 0, "socketpair");
        fds
    }

    fn close_all(fds: &[i32]) {
        for &fd in fds {
            // SAFETY: the benchmark's own fds, closed once at its end.
            unsafe { libc::close(fd) };
        }
    }

    pub(super) fn run(w: Workload, iters: u64) -> Option<f64> {
        Some(match w {
            Workload::W1 => w1(iters),
            Workload::W2 => fds::<{ space(size_of::<i32>()) }>(1, iters),
            Workload::W3 => fds::<{ space(size_of::<[i32; 8]>()) }>(8, iters),
            Workload::W4 => w4(iters),
            _ => return None,
        })
    }

    fn w1(iters: u64) -> f64 {
        let [a, b] = pair(libc::SOCK_STREAM);
        let mut buf = [0u8; 16];
        let ns = timed(iters, || {
            let mut iov = libc::iovec {
                iov_base: PAYLOAD.as_ptr() as *mut _,
                iov_len: 16,
            };
            // SAFETY: an all-zero msghdr is valid (no name, no control data).
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            // SAFETY: `msg` points at `iov`, which is readable for 16 bytes.
            check!(unsafe { libc::sendmsg(a, &msg, libc::MSG_NOSIGNAL) } == 16);
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: 16,
            };
            msg.msg_iov = &mut iov;
            // SAFETY: `msg` points at `iov`, which is writable for 16 bytes.
            let n = unsafe { libc::recvmsg(b, &mut msg, libc::MSG_CMSG_CLOEXEC) };
            check!(n == 16);
        });
        close_all(&[a, b]);
        ns
    }

    fn fds<const N: usize>(n: usize, iters: u64) -> f64 {
        let [a, b] = pair(libc::SOCK_STREAM);
        let mut owned = [-1i32; 8];
        for p in owned.chunks_exact_mut(2) {
            // SAFETY: `p` has room for two fds; closed at the end.
            assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        }
        let mut send_ctl = Ctl::<N> {
            _align: [],
            buf: [0; N],
        };
        let mut recv_ctl = Ctl::<N> {
            _align: [],
            buf: [0; N],
        };
        let mut byte = [0u8; 1];
        let data_len = (n * size_of::<i32>()) as u32;
        let ns = timed(iters, || {
            let mut iov = libc::iovec {
                iov_base: b"x".as_ptr() as *mut _,
                iov_len: 1,
            };
            // SAFETY: an all-zero msghdr is valid.
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = send_ctl.buf.as_mut_ptr().cast();
            msg.msg_controllen = space(n * size_of::<i32>()) as _;
            // SAFETY: the buffer is aligned and has room for one header and `n` fds
            // (CMSG_SPACE), so CMSG_FIRSTHDR is not null and its data holds `n` ints.
            unsafe {
                let c = libc::CMSG_FIRSTHDR(&msg);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN(data_len) as _;
                ptr::copy_nonoverlapping(owned.as_ptr(), libc::CMSG_DATA(c).cast(), n);
            }
            // SAFETY: every pointer in `msg` is valid for its length; the fds are open.
            check!(unsafe { libc::sendmsg(a, &msg, libc::MSG_NOSIGNAL) } == 1);

            let mut iov = libc::iovec {
                iov_base: byte.as_mut_ptr().cast(),
                iov_len: 1,
            };
            // SAFETY: an all-zero msghdr is valid.
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = recv_ctl.buf.as_mut_ptr().cast();
            msg.msg_controllen = N as _;
            // SAFETY: every pointer in `msg` is valid for writes of its length.
            let r = unsafe { libc::recvmsg(b, &mut msg, libc::MSG_CMSG_CLOEXEC) };
            check!(r == 1);
            let mut got = 0;
            // SAFETY: the kernel filled `msg_controllen` bytes of the aligned buffer;
            // CMSG_FIRSTHDR/CMSG_NXTHDR stay within them, and the fds read are ours.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&msg);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                        let k = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                        let data = libc::CMSG_DATA(c).cast::<i32>();
                        for j in 0..k {
                            libc::close(data.add(j).read_unaligned());
                        }
                        got += k;
                    }
                    c = libc::CMSG_NXTHDR(&msg, c);
                }
            }
            check!(got == n && msg.msg_flags & libc::MSG_CTRUNC == 0);
        });
        close_all(&owned);
        close_all(&[a, b]);
        ns
    }

    fn w4(iters: u64) -> f64 {
        let [a, b] = pair(libc::SOCK_DGRAM);
        let on = 1i32;
        // SAFETY: `on` is readable for its size.
        let r = unsafe {
            libc::setsockopt(
                b,
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                (&on as *const i32).cast(),
                4,
            )
        };
        assert_eq!(r, 0, "SO_PASSCRED");
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        const N: usize = space(size_of::<libc::ucred>());
        let mut ctl = Ctl::<N> {
            _align: [],
            buf: [0; N],
        };
        let mut buf = [0u8; 16];
        let ns = timed(iters, || {
            let mut iov = libc::iovec {
                iov_base: PAYLOAD.as_ptr() as *mut _,
                iov_len: 16,
            };
            // SAFETY: an all-zero msghdr is valid.
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            // SAFETY: `msg` points at `iov`, readable for 16 bytes.
            check!(unsafe { libc::sendmsg(a, &msg, libc::MSG_NOSIGNAL) } == 16);
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: 16,
            };
            msg.msg_iov = &mut iov;
            msg.msg_control = ctl.buf.as_mut_ptr().cast();
            msg.msg_controllen = N as _;
            // SAFETY: every pointer in `msg` is valid for writes of its length.
            let n = unsafe { libc::recvmsg(b, &mut msg, libc::MSG_CMSG_CLOEXEC) };
            check!(n == 16);
            let mut cred = None;
            // SAFETY: as in `fds`; the credentials are read unaligned from a message
            // whose length says it holds a whole `ucred`.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&msg);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_SOCKET
                        && (*c).cmsg_type == libc::SCM_CREDENTIALS
                        && (*c).cmsg_len as usize
                            == libc::CMSG_LEN(size_of::<libc::ucred>() as u32) as usize
                    {
                        cred = Some(libc::CMSG_DATA(c).cast::<libc::ucred>().read_unaligned());
                        break;
                    }
                    c = libc::CMSG_NXTHDR(&msg, c);
                }
            }
            check!(cred.expect("credentials").pid == pid);
        });
        close_all(&[a, b]);
        ns
    }
}

/// One implementation: a function run in this process, or the C program.
#[derive(Clone, Copy)]
enum Runner {
    InProcess(fn(Workload, u64) -> Option<f64>),
    /// The C program's implementation argument, and whether from the static build.
    C(&'static str, bool),
}

#[derive(Clone, Copy)]
struct Impl {
    name: &'static str,
    runner: Runner,
    /// The workloads it implements.
    workloads: &'static str,
    what: &'static str,
}

const ALL_WORKLOADS: &str = "W1,W2,W3,W4";
const BAREMSG_WORKLOADS: &str = "W1,W2,W3,W4,W3x64,W3x253,W5b1,W5b8,W5b32,W5b64";

fn impls() -> Vec<Impl> {
    let mut v = vec![
        Impl {
            name: "baremsg",
            runner: Runner::InProcess(with_baremsg::run),
            workloads: BAREMSG_WORKLOADS,
            what: "send/recv; send_msg + Encoder, recv_msg + CmsgBuf (reused); recv_msg + credentials() (W4, W5: one message a call)",
        },
        Impl {
            name: "baremsg-idiom",
            runner: Runner::InProcess(with_baremsg::run_idiomatic),
            workloads: ALL_WORKLOADS,
            what: "the README's calls as written: CmsgBuf::new() per send and per receive, take_fds, credentials()",
        },
        Impl {
            name: "baremsg-batch",
            runner: Runner::InProcess(with_baremsg::run_batch),
            workloads: "W5b1,W5b8,W5b32,W5b64",
            what: "send_mmsg of a batch, recv_mmsg of it, credentials() per message (W5)",
        },
        Impl {
            name: "baremsg-fds",
            runner: Runner::InProcess(with_baremsg::run_fd_helpers),
            workloads: "W2,W3,W3x64,W3x253",
            what: "send_fds / recv_fds (W2, W3)",
        },
        Impl {
            name: "rustix",
            runner: Runner::InProcess(with_rustix::run),
            workloads: ALL_WORKLOADS,
            what: "send/recv; sendmsg/recvmsg, cmsg_space! buffers, CMSG_CLOEXEC",
        },
        Impl {
            name: "nix",
            runner: Runner::InProcess(with_nix::run),
            workloads: ALL_WORKLOADS,
            what: "send/recv; sendmsg/recvmsg, cmsg_space! Vec, MSG_CMSG_CLOEXEC",
        },
        Impl {
            name: "libc",
            runner: Runner::InProcess(with_libc::run),
            workloads: ALL_WORKLOADS,
            what: "libc crate: sendmsg/recvmsg and CMSG_* functions, as the C program",
        },
    ];
    // On i686, baremsg with the other way into the kernel, for the comparison.
    #[cfg(target_arch = "x86")]
    v.insert(
        1,
        Impl {
            name: "baremsg-int80",
            runner: Runner::InProcess(with_baremsg::run_int80),
            workloads: ALL_WORKLOADS,
            what: "i686: as baremsg, entering the kernel with int 0x80 instead of the vDSO",
        },
    );
    for (arg, name, workloads, what) in C_IMPLS {
        // On x86_64 the `syscall` instruction is the fast way in; there is no vDSO entry.
        if arg == "vdso" && !cfg!(target_arch = "x86") {
            continue;
        }
        v.push(Impl {
            name,
            runner: Runner::C(arg, false),
            workloads,
            what,
        });
        if C_STATIC.contains(&arg) {
            v.push(Impl {
                name: static_name(name),
                runner: Runner::C(arg, true),
                workloads,
                what: "as above, the program linked statically (cc -static)",
            });
        }
    }
    v
}

struct Opts {
    scale: f64,
    rounds: usize,
    iters: Option<u64>,
    impls: Option<Vec<String>>,
    workloads: Option<Vec<Workload>>,
    with_c: bool,
    insns: Option<PathBuf>,
    list: bool,
    quiet: bool,
}

fn parse_opts() -> Result<Opts, String> {
    let env_num = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut o = Opts {
        scale: env_num("MSGBENCH_SCALE")
            .map(|v| v.parse().map_err(|_| format!("MSGBENCH_SCALE={v}")))
            .transpose()?
            .unwrap_or(1.0),
        rounds: env_num("MSGBENCH_ROUNDS")
            .map(|v| v.parse().map_err(|_| format!("MSGBENCH_ROUNDS={v}")))
            .transpose()?
            .unwrap_or(3),
        iters: None,
        impls: None,
        workloads: None,
        with_c: true,
        insns: None,
        list: false,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    let mut rounds_given = false;
    let mut quick = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            // cargo passes --bench to benchmarks with harness = false.
            "--bench" => {}
            "--quick" => quick = true,
            "--scale" => {
                let v = value("--scale")?;
                o.scale = v.parse().map_err(|_| format!("--scale {v}"))?;
            }
            "--rounds" => {
                let v = value("--rounds")?;
                o.rounds = v.parse().map_err(|_| format!("--rounds {v}"))?;
                rounds_given = true;
            }
            "--iters" => {
                let v = value("--iters")?;
                o.iters = Some(v.parse().map_err(|_| format!("--iters {v}"))?);
            }
            "--impl" => {
                let v = value("--impl")?;
                o.impls = Some(v.split(',').map(str::to_owned).collect());
            }
            "--workload" => {
                let v = value("--workload")?;
                let ws = v
                    .split(',')
                    .map(|s| Workload::parse(s).ok_or(format!("workload {s}")));
                o.workloads = Some(ws.collect::<Result<_, _>>()?);
            }
            "--no-c" => o.with_c = false,
            "--insns" => o.insns = Some(value("--insns")?.into()),
            "--list" => o.list = true,
            "--quiet" => o.quiet = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if quick {
        o.scale *= 0.01;
        if !rounds_given {
            o.rounds = 1;
        }
    }
    o.rounds = o.rounds.max(1);
    Ok(o)
}

/// `name` with `-static` appended, for the table (leaked once per name: a handful).
fn static_name(name: &str) -> &'static str {
    Box::leak(format!("{name}-static").into_boxed_str())
}

fn arch() -> &'static str {
    if cfg!(target_arch = "x86") {
        "i686"
    } else {
        "x86_64"
    }
}

/// Compiles the C program next to this binary, linked dynamically or (`static_`)
/// statically; `None` (with a note) if that fails.
fn build_c(static_: bool) -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/glibc_cmsg.c");
    let exe = std::env::current_exe().ok()?;
    let kind = if static_ { "-static" } else { "" };
    let out = exe.with_file_name(format!("glibc_cmsg-{}{kind}", arch()));
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cc.arg("-O2");
    if cfg!(target_arch = "x86") {
        cc.arg("-m32");
    }
    if static_ {
        cc.arg("-static");
    }
    cc.arg("-o").arg(&out).arg(&src);
    match cc.status() {
        Ok(s) if s.success() => Some(out),
        Ok(s) => {
            eprintln!("msgbench: cc{kind} failed ({s}); those C rows are left out");
            None
        }
        Err(e) => {
            eprintln!("msgbench: cannot run cc ({e}); the C rows are left out");
            None
        }
    }
}

fn run_c(exe: &Path, arg: &str, w: Workload, iters: u64) -> Option<f64> {
    let out = Command::new(exe)
        .args([arg, w.name(), &iters.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "msgbench: {} {arg} {} failed: {}",
            exe.display(),
            w.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `impl workload instructions` lines, as `benches/callgrind` writes them.
fn read_insns(path: &Path) -> HashMap<(String, String), f64> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("msgbench: cannot read {}: {e}", path.display());
        String::new()
    });
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [i, w, n, ..] => Some(((i.to_owned(), w.to_owned()), n.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

fn main() {
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("msgbench: {e}");
            std::process::exit(2);
        }
    };
    let all = impls();
    if opts.list {
        for i in &all {
            println!("{:12} {:12} {}", i.name, i.workloads, i.what);
        }
        return;
    }
    let selected: Vec<Impl> = all
        .iter()
        .copied()
        .filter(|i| {
            opts.impls
                .as_ref()
                .map_or(true, |l| l.iter().any(|n| n == i.name))
        })
        .filter(|i| opts.with_c || matches!(i.runner, Runner::InProcess(_)))
        .collect();
    // Only what implements one of the workloads asked for.
    let workloads = opts.workloads.clone().unwrap_or(Workload::ALL.to_vec());
    let selected: Vec<Impl> = selected
        .into_iter()
        .filter(|i| {
            workloads
                .iter()
                .any(|w| i.workloads.split(',').any(|x| x == w.name()))
        })
        .collect();
    let wants_c = |st: bool| {
        selected
            .iter()
            .any(|i| matches!(i.runner, Runner::C(_, s) if s == st))
    };
    let c_exe = wants_c(false).then(|| build_c(false)).flatten();
    let c_static = wants_c(true).then(|| build_c(true)).flatten();
    let iters_of = |w: Workload| {
        opts.iters
            .unwrap_or(((w.base_iters() as f64 * opts.scale).round() as u64).max(1))
    };

    // ns[(impl, workload)][round]
    let mut ns: HashMap<(&str, Workload), Vec<f64>> = HashMap::new();
    let mut ratios: HashMap<(&str, Workload), Vec<f64>> = HashMap::new();
    for round in 0..opts.rounds {
        for &w in &workloads {
            let iters = iters_of(w);
            let mut order = selected.clone();
            if round % 2 == 1 {
                order.reverse();
            }
            let mut this_round: HashMap<&str, f64> = HashMap::new();
            for i in &order {
                if !i.workloads.split(',').any(|x| x == w.name()) {
                    continue;
                }
                let t = match i.runner {
                    Runner::InProcess(f) => f(w, iters),
                    Runner::C(arg, st) => {
                        let exe = if st { &c_static } else { &c_exe };
                        exe.as_deref().and_then(|e| run_c(e, arg, w, iters))
                    }
                };
                if let Some(t) = t {
                    this_round.insert(i.name, t);
                    ns.entry((i.name, w)).or_default().push(t);
                }
            }
            let best = REFERENCES
                .iter()
                .filter_map(|r| this_round.get(r).copied())
                .min_by(|a, b| a.total_cmp(b));
            if let Some(reference) = best {
                for (name, t) in &this_round {
                    ratios.entry((name, w)).or_default().push(t / reference);
                }
            }
        }
    }

    if opts.quiet {
        // Formatting the times costs a number of instructions that depends on their
        // digits, which would make callgrind's counts vary from run to run.
        return;
    }
    let insns = opts.insns.as_deref().map(read_insns).unwrap_or_default();
    let ir = |i: &str, w: Workload| insns.get(&(i.to_owned(), w.name().to_owned())).copied();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "msgbench {}: ns/iter = median of {} round(s), spread = min-max; vs {REFERENCE} = median \
         of the per-round ratios to the faster of c-glibc and c-glibc-static (the same C \
         program, dynamic and static) in that round; instr/iter from callgrind{}",
        arch(),
        opts.rounds,
        if insns.is_empty() { " (not given)" } else { "" },
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| workload | implementation | iterations | ns/iter | spread | vs {REFERENCE} | instr/iter | vs {FLOOR} |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|");
    for &w in &workloads {
        for i in &selected {
            let Some(samples) = ns.get(&(i.name, w)) else {
                continue;
            };
            let mut s = samples.clone();
            let med = median(&mut s).unwrap_or(0.0);
            let (lo, hi) = (s[0], s[s.len() - 1]);
            let ratio = ratios
                .get(&(i.name, w))
                .and_then(|r| median(&mut r.clone()))
                .map_or("-".to_owned(), |r| format!("{r:.2}"));
            let (ins, vs_floor) = match (ir(i.name, w), ir(FLOOR, w)) {
                (Some(n), Some(f)) if f > 0.0 => (format!("{n:.0}"), format!("{:.2}", n / f)),
                (Some(n), _) => (format!("{n:.0}"), "-".to_owned()),
                _ => ("-".to_owned(), "-".to_owned()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {med:.0} | {lo:.0}-{hi:.0} | {ratio} | {ins} | {vs_floor} |",
                w.name(),
                i.name,
                iters_of(w),
            );
        }
    }
    let med = |i: &str, w: Workload| ns.get(&(i, w)).and_then(|v| median(&mut v.clone()));
    // W5: messages per second, batch against single calls, baremsg against C.
    let w5: Vec<Workload> = workloads
        .iter()
        .copied()
        .filter(|w| w.batch() > 0)
        .collect();
    if !w5.is_empty() {
        let cols = [
            "baremsg-batch",
            "baremsg",
            "c-mmsg",
            "c-mmsg-static",
            "c-glibc",
            "c-glibc-static",
            "c-raw",
        ];
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "W5, messages per second (millions; from the medians above):"
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| batch | {} | batch / single (baremsg) |",
            cols.join(" | ")
        );
        let _ = writeln!(out, "|--:|{}--:|", "--:|".repeat(cols.len()));
        for &w in &w5 {
            let cell = |i: &str| med(i, w).map_or("-".to_owned(), |t| format!("{:.2}", 1e3 / t));
            let row: Vec<String> = cols.iter().map(|c| cell(c)).collect();
            let gain = match (med("baremsg-batch", w), med("baremsg", w)) {
                (Some(b), Some(s)) => format!("{:.2}", s / b),
                _ => "-".to_owned(),
            };
            let _ = writeln!(out, "| {} | {} | {gain} |", w.batch(), row.join(" | "));
        }
    }
    // The scaling table: W3 with 1, 8, 64, 253 fds, per fd, against the floor.
    let scale: Vec<Workload> = workloads.iter().copied().filter(|w| w.fds() > 0).collect();
    if scale.len() > 1 {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Cost per fd (W2 = 1 fd, W3 = 8, W3x64, W3x253), against {FLOOR}:"
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "| fds | baremsg ns/fd | {FLOOR} ns/fd | ns ratio | baremsg instr/fd | {FLOOR} instr/fd | instr ratio |");
        let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|--:|");
        for &w in &scale {
            let n = w.fds() as f64;
            let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}", v / n));
            let r = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ => "-".to_owned(),
            };
            let (bt, ft) = (med("baremsg", w), med(FLOOR, w));
            let (bi, fi) = (ir("baremsg", w), ir(FLOOR, w));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                w.fds(),
                f(bt),
                f(ft),
                r(bt, ft),
                f(bi),
                f(fi),
                r(bi, fi)
            );
        }
    }
    let _ = writeln!(out);
    for &w in &workloads {
        let _ = writeln!(out, "- {}: {}", w.name(), w.describe());
    }
    for i in &selected {
        let _ = writeln!(out, "- {}: {}", i.name, i.what);
    }
    print!("{out}");
}
