//! Target `recv_batch`: the per-message walk of `recv_mmsg`, over batches the input
//! describes, through the kernel (a seqpacket socketpair): what each message's entry
//! receives, and that every fd the kernel hands over is owned by exactly one message.
//!
//! The input is a small byte program (missing bytes read as zero):
//!
//! ```text
//! [flags: u8] [entries: u8] msg*
//! msg = [payload: u8] [fds: u8] [buf: u8] [control: u8] [take: u8]
//! ```
//! Flags: bit 0 `SO_PASSCRED` on the receiver, bit 1 `MSG_WAITFORONE`, bit 2 `MSG_TRUNC`,
//! bit 3 the batch is dropped without handing out any message, bit 4 the messages are
//! sent with one `send_mmsg` (else one `send_fds` each). Up to 12 messages: payload
//! `% 40` bytes, `% 9` fds (each a dup of one pipe's write end), a receive buffer of
//! `% 40` bytes, a control buffer of `space_for_fds(control % 9)` bytes (plus room for
//! credentials when bit 7 of `control` is set, none at all when `control` is 0xff);
//! `take % 10` fds taken from the message before it is dropped (9: every one, then its
//! credentials read). `entries % 16` entries (0 counts as 1), the socket nonblocking.
//!
//! Checked, per message handed out: its index; `bytes`, `data` and `MSG_TRUNC` against
//! the payload and buffer; every fd taken is a write end of the pipe and close-on-exec;
//! no more fds than were sent, all of them unless `MSG_CTRUNC`; with `SO_PASSCRED` and
//! no `MSG_CTRUNC`, the credentials are this process's. For the batch: it holds
//! `min(messages, entries, MMSG_MAX)` messages. At the end, with every socket closed: no
//! writer of the pipe is left anywhere (every fd was closed or taken and dropped) and
//! the number of open fds is what it was.

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Encoder, SPACE_MAX};
use baremsg::fd::{self, AsFd, AsRawFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{recv_mmsg_with_flags, RecvEntry, SendEntry, UnixSeqpacket, MMSG_MAX};

const MAX_MSGS: usize = 12;

#[derive(Clone, Copy, Debug, Default)]
struct Msg {
    payload: usize,
    fds: usize,
    buf: usize,
    control: Option<(usize, bool)>,
    take: usize,
}

fn parse(data: &[u8]) -> (u8, usize, Vec<Msg>) {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let flags = at(0);
    let entries = (at(1) as usize % 16).max(1);
    let n = data.len().saturating_sub(2).div_ceil(5).min(MAX_MSGS);
    let msgs = (0..n)
        .map(|k| {
            let b = |j: usize| at(2 + 5 * k + j);
            Msg {
                payload: b(0) as usize % 40,
                fds: b(1) as usize % 9,
                buf: b(2) as usize % 40,
                control: (b(3) != 0xff).then(|| ((b(3) & 0x7f) as usize % 9, b(3) & 0x80 != 0)),
                take: b(4) as usize % 10,
            }
        })
        .collect();
    (flags, entries, msgs)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

fn same_file(a: &OwnedFd, b: &OwnedFd) -> bool {
    let id = |f: &OwnedFd| {
        let st = std::fs::metadata(format!("/proc/self/fd/{}", f.as_raw_fd())).ok();
        st.map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        })
    };
    id(a).is_some() && id(a) == id(b)
}

/// Runs the checks on `data`.
pub fn check(data: &[u8]) {
    let (flags, entries, msgs) = parse(data);
    let base = open_fds();
    run(flags, entries, &msgs);
    assert_eq!(open_fds(), base, "fds leaked: {msgs:?}");
}

fn run(flags: u8, n_entries: usize, msgs: &[Msg]) {
    let (a, b) = UnixSeqpacket::pair_nonblocking().expect("socketpair");
    if flags & 1 != 0 {
        b.set_pass_cred(true).expect("SO_PASSCRED");
    }
    let (r, w) = fd::pipe().expect("pipe");
    fd::set_nonblocking(&r, true).expect("O_NONBLOCK");
    let payloads: Vec<Vec<u8>> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (0..m.payload).map(|j| (i * 41 + j) as u8).collect())
        .collect();
    let ws = [w.as_fd(); 8];

    // Send: one send_mmsg, or one call per message; either way every message goes.
    let mut ctls: Vec<CmsgBuf<{ space_for_fds(8) }>> = msgs.iter().map(|_| CmsgBuf::new()).collect();
    let cmsgs: Vec<_> = ctls
        .iter_mut()
        .zip(msgs)
        .map(|(c, m)| {
            let mut enc: Encoder<'_, '_> = c.encoder();
            enc.push_rights(&ws[..m.fds]).expect("push_rights");
            enc.finish()
        })
        .collect();
    let iovs: Vec<[IoSlice<'_>; 1]> = payloads.iter().map(|p| [IoSlice::new(p)]).collect();
    let sends: Vec<SendEntry<'_>> = iovs
        .iter()
        .zip(&cmsgs)
        .map(|(i, c)| SendEntry::new(i).control(c))
        .collect();
    if flags & 16 != 0 {
        let mut sent = 0;
        while sent < sends.len() {
            sent += a.send_mmsg(&sends[sent..]).expect("send_mmsg");
        }
    } else {
        for s in &sends {
            assert_eq!(a.send_mmsg(std::slice::from_ref(s)).expect("send_mmsg"), 1);
        }
    }
    drop(cmsgs);
    drop(w);

    // Receive.
    let n_entries = n_entries.min(msgs.len().max(1));
    let shape = |i: usize| msgs.get(i).copied().unwrap_or_default();
    let mut bufs: Vec<Vec<u8>> = (0..n_entries).map(|i| vec![0; shape(i).buf]).collect();
    let mut ctl: Vec<CmsgBuf<SPACE_MAX>> = (0..n_entries).map(|_| CmsgBuf::new()).collect();
    let mut riovs: Vec<[IoSliceMut<'_>; 1]> =
        bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
    let mut entries: Vec<RecvEntry<'_>> = riovs
        .iter_mut()
        .zip(ctl.iter_mut())
        .enumerate()
        .map(|(i, (io, c))| {
            let len = match shape(i).control {
                None => 0,
                Some((k, creds)) => {
                    space_for_fds(k) + if creds { space_for_credentials() } else { 0 }
                }
            };
            RecvEntry::new(io, &mut c[..len])
        })
        .collect();
    let mut rflags = sys::MSG_CMSG_CLOEXEC;
    if flags & 2 != 0 {
        rflags |= sys::MSG_WAITFORONE;
    }
    if flags & 4 != 0 {
        rflags |= sys::MSG_TRUNC;
    }
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    match recv_mmsg_with_flags(&b, &mut entries, rflags, None) {
        Err(e) => {
            assert!(msgs.is_empty(), "recv_mmsg: {e:?} with {} queued", msgs.len());
            assert_eq!(e, baremsg::Error::Os(baremsg::Errno::EAGAIN));
        }
        Ok(batch) => {
            let expect = msgs.len().min(n_entries).min(MMSG_MAX);
            assert_eq!(batch.len(), expect);
            if flags & 8 == 0 {
                for (i, mut m) in batch.enumerate() {
                    let s = msgs[i];
                    assert_eq!(m.index, i);
                    let got = s.payload.min(s.buf);
                    let reported = if flags & 4 != 0 { s.payload } else { got };
                    assert_eq!(m.bytes, reported);
                    assert_eq!(m.data, &payloads[i][..got]);
                    assert_eq!(m.is_truncated(), s.payload > s.buf);
                    let ctrunc = m.is_control_truncated();
                    let want = if s.take == 9 { usize::MAX } else { s.take };
                    let taken: Vec<OwnedFd> = m.control.take_fds().take(want).collect();
                    for f in &taken {
                        assert!(same_file(f, &r), "a received fd is not the pipe's");
                        assert_eq!(fd::is_cloexec(f), Ok(true));
                    }
                    assert!(taken.len() <= s.fds);
                    if !ctrunc && want >= s.fds {
                        assert_eq!(taken.len(), s.fds, "fds lost without MSG_CTRUNC");
                    }
                    if s.take == 9 && flags & 1 != 0 && !ctrunc {
                        assert_eq!(m.control.credentials(), Some(me));
                    }
                }
            }
        }
    }
    drop(entries);
    drop((a, b));
    assert_eq!(
        fd::read(&r, &mut [0u8; 1]),
        Ok(0),
        "a write end of the pipe is still open"
    );
}
