//! Properties of the control-message encoder and parser, over generated inputs.
//!
//! - `RawCmsgs` over any bytes, and over buffers built from headers whose `cmsg_len` is
//!   0, shorter than a header, exact, past the end, `KernelSize::MAX` or random: never
//!   panics, yields only slices of the buffer, stops in time, and agrees item for item
//!   with a walk written here from the documented rules; the three decoders accept a
//!   message exactly when its level, type and length are right. `ReceivedControl`
//!   walks the same bytes the same way (with every fd slot set to -1 first).
//! - `Encoder`: any sequence of rights, credentials and raw messages encodes to the
//!   bytes built here by hand and parses back to the same sequence; more than 253 fds,
//!   a buffer too small and a misaligned buffer are refused with their own errors.
//! - The encoder's bytes are what the C `CMSG_*` macros (the `libc` crate's versions of
//!   glibc's) lay out, for every fd count from 0 to 253.
//!
//! Case counts default to 512 per property; `PROPTEST_CASES` overrides it (e.g. 16
//! under Miri).

use std::mem::size_of;
use std::ops::Range;

use baremsg::cmsg::{
    parse_pidfd, parse_unix_credentials, parse_unix_rights, space_for_credentials, space_for_fds,
    space_for_pidfd, unix_credentials, unix_rights, CmsgBuf, Encoder, Message, RawCmsg, RawCmsgs,
    ReceivedControl,
};
use baremsg::fd::BorrowedFd;
use baremsg::sys::{
    cmsg_space, Cmsghdr, KernelSize, Ucred, SCM_CREDENTIALS, SCM_MAX_FD, SCM_PIDFD, SCM_RIGHTS,
    SOL_SOCKET,
};
use baremsg::Error;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `sizeof(struct cmsghdr)`; data starts right after it.
const HDR: usize = size_of::<Cmsghdr>();
/// Width of `cmsg_len`.
const KS: usize = size_of::<KernelSize>();
/// Alignment of control messages (`sizeof(long)`).
const ALIGN: usize = size_of::<usize>();

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    Config {
        cases,
        // No regression files written next to the tests.
        failure_persistence: None,
        ..Config::default()
    }
}

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Appends one control message laid out by hand: header, data, zero padding.
fn put_msg(out: &mut Vec<u8>, cmsg_len: KernelSize, level: i32, ty: i32, data: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&cmsg_len.to_ne_bytes());
    out.extend_from_slice(&level.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    assert_eq!(out.len() - start, HDR);
    out.extend_from_slice(data);
    out.resize(start + align(HDR + data.len()), 0);
}

/// What a walk over control data should yield, data as a range of the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Walked {
    Msg {
        level: i32,
        ty: i32,
        data: Range<usize>,
        truncated: bool,
    },
    Malformed {
        offset: usize,
    },
}

/// The walk `RawCmsgs` documents, written independently: a header per step; a tail
/// shorter than a header ends it; `cmsg_len` below a header size is an error that ends
/// it; `cmsg_len` past the end gives the clamped, truncated message and ends it; the
/// next header is at the aligned end of this one.
fn model_walk(bytes: &[u8]) -> Vec<Walked> {
    let mut out = Vec::new();
    let mut pos = 0;
    while bytes.len() - pos >= HDR {
        let h = &bytes[pos..pos + HDR];
        let len = u128::from(KernelSize::from_ne_bytes(h[..KS].try_into().unwrap()));
        let level = i32::from_ne_bytes(h[KS..KS + 4].try_into().unwrap());
        let ty = i32::from_ne_bytes(h[KS + 4..KS + 8].try_into().unwrap());
        if len < HDR as u128 {
            out.push(Walked::Malformed { offset: pos });
            break;
        }
        let rest = (bytes.len() - pos) as u128;
        if len > rest {
            out.push(Walked::Msg {
                level,
                ty,
                data: pos + HDR..bytes.len(),
                truncated: true,
            });
            break;
        }
        let len = len as usize;
        out.push(Walked::Msg {
            level,
            ty,
            data: pos + HDR..pos + len,
            truncated: false,
        });
        pos += align(len);
        if pos >= bytes.len() {
            break;
        }
    }
    out
}

/// Where `inner` sits in `outer`, which must contain it.
fn range_in(outer: &[u8], inner: &[u8]) -> Range<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    assert!(
        i >= o && i + inner.len() <= o + outer.len(),
        "slice {i:#x}+{} outside the buffer {o:#x}+{}",
        inner.len(),
        outer.len()
    );
    i - o..i - o + inner.len()
}

/// Checks one decoder against the rule: `Ok` exactly when level, type and length are
/// right, and otherwise `BadControlLength` naming the message.
fn check_decoders(msg: &RawCmsg<'_>) {
    let bad = Error::BadControlLength {
        level: msg.level,
        ty: msg.ty,
        len: msg.data.len(),
    };
    let d = msg.data;

    let rights_ok = msg.level == SOL_SOCKET && msg.ty == SCM_RIGHTS && d.len() % 4 == 0;
    match parse_unix_rights(msg) {
        Ok(fds) => {
            assert!(rights_ok, "rights accepted: {msg:?}");
            assert_eq!(fds.len(), d.len() / 4);
            let want: Vec<i32> = d
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(fds.collect::<Vec<_>>(), want);
        }
        Err(e) => {
            assert!(!rights_ok, "rights refused: {msg:?}");
            assert_eq!(e, bad);
        }
    }

    let cred_ok = msg.level == SOL_SOCKET && msg.ty == SCM_CREDENTIALS && d.len() == 12;
    match parse_unix_credentials(msg) {
        Ok(c) => {
            assert!(cred_ok, "credentials accepted: {msg:?}");
            let want = Ucred {
                pid: i32::from_ne_bytes(d[0..4].try_into().unwrap()),
                uid: u32::from_ne_bytes(d[4..8].try_into().unwrap()),
                gid: u32::from_ne_bytes(d[8..12].try_into().unwrap()),
            };
            assert_eq!(c, want);
        }
        Err(e) => {
            assert!(!cred_ok, "credentials refused: {msg:?}");
            assert_eq!(e, bad);
        }
    }

    let pidfd_ok = msg.level == SOL_SOCKET && msg.ty == SCM_PIDFD && d.len() == 4;
    match parse_pidfd(msg) {
        Ok(fd) => {
            assert!(pidfd_ok, "pidfd accepted: {msg:?}");
            assert_eq!(fd, i32::from_ne_bytes(d.try_into().unwrap()));
        }
        Err(e) => {
            assert!(!pidfd_ok, "pidfd refused: {msg:?}");
            assert_eq!(e, bad);
        }
    }
}

/// Walks `bytes` with `RawCmsgs` and checks everything that must hold for any input;
/// returns what it yielded.
fn walk_and_check(bytes: &[u8]) -> Vec<Walked> {
    let mut it = RawCmsgs::new(bytes);
    let mut got = Vec::new();
    let bound = bytes.len() / HDR + 1;
    for item in it.by_ref() {
        assert!(
            got.len() < bound,
            "more than {bound} items from {} bytes",
            bytes.len()
        );
        got.push(match item {
            Ok(msg) => {
                check_decoders(&msg);
                Walked::Msg {
                    level: msg.level,
                    ty: msg.ty,
                    data: range_in(bytes, msg.data),
                    truncated: msg.truncated,
                }
            }
            Err(Error::MalformedControl { offset }) => Walked::Malformed { offset },
            Err(e) => panic!("unexpected error {e:?}"),
        });
    }
    assert!(it.next().is_none(), "fused");
    // Nothing follows an error or a truncated message.
    for w in got.iter().rev().skip(1) {
        assert!(
            !matches!(
                w,
                Walked::Malformed { .. }
                    | Walked::Msg {
                        truncated: true,
                        ..
                    }
            ),
            "{w:?} not last in {got:?}"
        );
    }
    assert_eq!(got, model_walk(bytes));
    got
}

/// How a generated header sets its `cmsg_len`.
#[derive(Clone, Debug)]
enum Len {
    Zero,
    BelowHeader(usize),
    Exact,
    PastEnd(usize),
    Huge,
    Random(KernelSize),
}

#[derive(Clone, Debug)]
struct Header {
    len: Len,
    level: i32,
    ty: i32,
    data: Vec<u8>,
}

fn len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        1 => Just(Len::Zero),
        1 => (1..HDR).prop_map(Len::BelowHeader),
        6 => Just(Len::Exact),
        1 => (1usize..64).prop_map(Len::PastEnd),
        1 => Just(Len::Huge),
        1 => any::<KernelSize>().prop_map(Len::Random),
    ]
}

fn header_strategy() -> impl Strategy<Value = Header> {
    let level = prop_oneof![3 => Just(SOL_SOCKET), 1 => any::<i32>()];
    let ty = prop_oneof![
        Just(SCM_RIGHTS),
        Just(SCM_CREDENTIALS),
        Just(SCM_PIDFD),
        any::<i32>()
    ];
    let data_len = prop_oneof![
        Just(4usize),
        Just(12),
        (0usize..16).prop_map(|n| n * 4),
        0usize..64
    ];
    let data = data_len.prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n));
    (len_strategy(), level, ty, data).prop_map(|(len, level, ty, data)| Header {
        len,
        level,
        ty,
        data,
    })
}

/// Lays out `headers` one after another (each taking the room its data needs), then
/// `tail`.
fn build(headers: &[Header], tail: &[u8]) -> Vec<u8> {
    let total: usize = headers
        .iter()
        .map(|h| align(HDR + h.data.len()))
        .sum::<usize>()
        + tail.len();
    let mut out = Vec::with_capacity(total);
    for h in headers {
        let rest = total - out.len();
        let len = match h.len {
            Len::Zero => 0,
            Len::BelowHeader(n) => n,
            Len::Exact => HDR + h.data.len(),
            Len::PastEnd(extra) => rest + extra,
            Len::Huge => KernelSize::MAX as usize,
            Len::Random(v) => v as usize,
        };
        put_msg(&mut out, len as KernelSize, h.level, h.ty, &h.data);
    }
    out.extend_from_slice(tail);
    out
}

/// One message for the encoder.
#[derive(Clone, Debug)]
enum Item {
    Rights(Vec<i32>),
    Credentials(Ucred),
    Raw(i32, i32, Vec<u8>),
}

fn item_strategy() -> impl Strategy<Value = Item> {
    // Often SOL_SOCKET and the fd-passing types, which `push_raw` refuses.
    let raw_level = prop_oneof![1 => Just(SOL_SOCKET), 1 => any::<i32>()];
    let raw_ty = prop_oneof![
        Just(SCM_RIGHTS),
        Just(SCM_PIDFD),
        Just(SCM_CREDENTIALS),
        any::<i32>()
    ];
    prop_oneof![
        3 => proptest::collection::vec(0..i32::MAX, 0..=20).prop_map(Item::Rights),
        1 => (any::<i32>(), any::<u32>(), any::<u32>())
            .prop_map(|(pid, uid, gid)| Item::Credentials(Ucred { pid, uid, gid })),
        2 => (raw_level, raw_ty, proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(l, t, d)| Item::Raw(l, t, d)),
    ]
}

/// Whether `push_raw` refuses a message of this level and type: one that passes fds
/// (`Error::RawFdMessage`).
fn raw_refused(level: i32, ty: i32) -> bool {
    level == SOL_SOCKET && (ty == SCM_RIGHTS || ty == SCM_PIDFD)
}

/// Fd numbers as borrowed fds. Encoding only copies the numbers, so they need not be
/// open.
fn borrowed(fds: &[i32]) -> Vec<BorrowedFd<'static>> {
    fds.iter()
        // SAFETY: nothing uses these as fds: the encoder writes their numbers into a
        // buffer that is never sent.
        .map(|&n| unsafe { BorrowedFd::borrow_raw(n) })
        .collect()
}

fn cred_bytes(c: &Ucred) -> Vec<u8> {
    [
        c.pid.to_ne_bytes(),
        c.uid.to_ne_bytes(),
        c.gid.to_ne_bytes(),
    ]
    .concat()
}

fn fd_bytes(fds: &[i32]) -> Vec<u8> {
    fds.iter().flat_map(|fd| fd.to_ne_bytes()).collect()
}

/// Overwrites the data of every `SCM_RIGHTS` and `SCM_PIDFD` message the walk finds
/// with 0xff bytes: fd -1 in every slot, which `ReceivedControl` skips, so it can walk
/// generated bytes without owning (and closing) anything real. Headers are untouched,
/// so the walk is the same.
fn defuse(bytes: &mut [u8]) {
    for w in model_walk(bytes) {
        if let Walked::Msg {
            level: SOL_SOCKET,
            ty: SCM_RIGHTS | SCM_PIDFD,
            data,
            ..
        } = w
        {
            bytes[data].fill(0xff);
        }
    }
}

/// A `ReceivedControl` message, reduced to what can be compared.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Rights {
        fds: usize,
    },
    Credentials(Ucred),
    Pidfd {
        present: bool,
    },
    Other {
        level: i32,
        ty: i32,
        data: Range<usize>,
        truncated: bool,
    },
    Err(Error),
}

/// What `ReceivedControl::messages` should yield for defused `bytes`, from the model
/// walk: rights (all -1, so no fds), credentials decoded or refused, a pidfd slot
/// (taken when it holds at least 4 bytes), anything else raw.
fn model_messages(bytes: &[u8]) -> Vec<Seen> {
    model_walk(bytes)
        .into_iter()
        .map(|w| match w {
            Walked::Malformed { offset } => Seen::Err(Error::MalformedControl { offset }),
            Walked::Msg {
                level,
                ty,
                data,
                truncated,
            } => match (level, ty) {
                (SOL_SOCKET, SCM_RIGHTS) => Seen::Rights { fds: 0 },
                (SOL_SOCKET, SCM_PIDFD) if data.len() >= 4 => Seen::Pidfd { present: false },
                (SOL_SOCKET, SCM_CREDENTIALS) => {
                    let msg = RawCmsg {
                        level,
                        ty,
                        data: &bytes[data],
                        truncated,
                    };
                    match parse_unix_credentials(&msg) {
                        Ok(c) => Seen::Credentials(c),
                        Err(e) => Seen::Err(e),
                    }
                }
                _ => Seen::Other {
                    level,
                    ty,
                    data,
                    truncated,
                },
            },
        })
        .collect()
}

/// Walks `bytes` (defused) with `ReceivedControl::messages`, from an aligned copy (as
/// `ReceivedControl::new` requires), then copies back what the walk wrote.
fn received_messages(bytes: &mut [u8]) -> Vec<Seen> {
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    // SAFETY: any bytes are valid u8s, and `bytes.len()` of them fit in the words.
    let aligned =
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), bytes.len()) };
    aligned.copy_from_slice(bytes);
    let seen = received_messages_aligned(aligned);
    bytes.copy_from_slice(aligned);
    seen
}

fn received_messages_aligned(bytes: &mut [u8]) -> Vec<Seen> {
    let base = bytes.as_ptr() as usize;
    // SAFETY: `defuse` wrote -1 into every fd slot: there is no fd to own; `bytes` is
    // 8-aligned.
    let mut control = unsafe { ReceivedControl::new(bytes) };
    let seen = control
        .messages()
        .map(|m| match m {
            Ok(Message::Rights(r)) => Seen::Rights { fds: r.count() },
            Ok(Message::Credentials(c)) => Seen::Credentials(c),
            Ok(Message::Pidfd(mut slot)) => Seen::Pidfd {
                present: slot.take().is_some(),
            },
            Ok(Message::Other(raw)) => {
                let start = raw.data.as_ptr() as usize - base;
                Seen::Other {
                    level: raw.level,
                    ty: raw.ty,
                    data: start..start + raw.data.len(),
                    truncated: raw.truncated,
                }
            }
            Err(e) => Seen::Err(e),
        })
        .collect();
    assert_eq!(control.take_fds().count(), 0);
    assert!(control.take_pidfd().is_none());
    seen
}

/// The offset of a `MalformedControl` error set to 0, for the property that leaves
/// offsets to `received_control_reports_malformed_offsets_from_the_buffer_start`.
fn without_offsets(seen: Vec<Seen>) -> Vec<Seen> {
    seen.into_iter()
        .map(|s| match s {
            Seen::Err(Error::MalformedControl { .. }) => {
                Seen::Err(Error::MalformedControl { offset: 0 })
            }
            s => s,
        })
        .collect()
}

/// Big enough for every encoder property here.
const BUF: usize = 8192;
const FILL: u8 = 0xa5;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn raw_cmsgs_over_any_bytes_is_total_and_in_bounds(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        walk_and_check(&bytes);
    }

    #[test]
    fn raw_cmsgs_over_generated_headers_follows_each_cmsg_len(
        headers in proptest::collection::vec(header_strategy(), 0..8),
        tail in proptest::collection::vec(any::<u8>(), 0..HDR),
    ) {
        let bytes = build(&headers, &tail);
        let got = walk_and_check(&bytes);

        // The messages before the first header with a bad length come back as built.
        let exact = headers.iter().take_while(|h| matches!(h.len, Len::Exact)).count();
        let mut pos = 0;
        for (h, w) in headers[..exact].iter().zip(&got) {
            let want = Walked::Msg {
                level: h.level,
                ty: h.ty,
                data: pos + HDR..pos + HDR + h.data.len(),
                truncated: false,
            };
            prop_assert_eq!(w, &want);
            pos += align(HDR + h.data.len());
        }
        match headers.get(exact).map(|h| &h.len) {
            // All exact: a tail shorter than a header ends the walk.
            None => prop_assert_eq!(got.len(), exact),
            Some(Len::Zero) | Some(Len::BelowHeader(_)) => {
                prop_assert_eq!(got.len(), exact + 1);
                prop_assert_eq!(&got[exact], &Walked::Malformed { offset: pos });
            }
            Some(Len::PastEnd(_)) | Some(Len::Huge) => {
                prop_assert_eq!(got.len(), exact + 1);
                let is_truncated = matches!(&got[exact], Walked::Msg { truncated: true, data, .. }
                    if *data == (pos + HDR..bytes.len()));
                prop_assert!(is_truncated, "{:?}", got[exact]);
            }
            Some(Len::Exact) => unreachable!(),
            // A random length: whatever the rules say, which walk_and_check checked.
            Some(Len::Random(_)) => {}
        }

        // Alignment of the slice does not matter to the parser.
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        prop_assert_eq!(walk_and_check(&shifted[1..]), got);
    }

    #[test]
    fn received_control_walks_generated_bytes_like_raw_cmsgs(
        headers in proptest::collection::vec(header_strategy(), 0..8),
        tail in proptest::collection::vec(any::<u8>(), 0..HDR),
    ) {
        let mut bytes = build(&headers, &tail);
        defuse(&mut bytes);
        // The parser walks as the model does, so every fd slot it will find is -1.
        walk_and_check(&bytes);
        let before = bytes.clone();
        let want = model_messages(&bytes);
        let got = received_messages(&mut bytes);
        prop_assert_eq!(without_offsets(got), without_offsets(want));
        // Walking takes nothing and so writes nothing: every slot already said -1.
        prop_assert_eq!(bytes, before);
    }

    #[test]
    fn encoder_round_trips_any_sequence_and_refuses_what_does_not_fit(
        items in proptest::collection::vec(item_strategy(), 0..24),
        cap_choice in 0usize..4,
        cut in any::<prop::sample::Index>(),
    ) {
        let needed: usize = items
            .iter()
            .map(|i| match i {
                Item::Rights(v) if v.is_empty() => 0,
                Item::Rights(v) => space_for_fds(v.len()),
                Item::Credentials(_) => space_for_credentials(),
                Item::Raw(l, t, _) if raw_refused(*l, *t) => 0,
                Item::Raw(_, _, d) => cmsg_space(d.len()),
            })
            .sum();
        // Exactly enough, plenty, or (twice as often) a random amount short.
        let cap = match cap_choice {
            0 => needed,
            1 => BUF,
            _ => cut.index(needed + 1),
        };
        prop_assume!(needed <= BUF);

        let mut buf = CmsgBuf::<BUF>::new();
        buf.fill(FILL);
        let mut enc = Encoder::new(&mut buf[..cap]).expect("a CmsgBuf is aligned");
        let mut want = Vec::new();
        let mut want_msgs = Vec::new();
        let mut fds = 0;
        for item in &items {
            let (level, ty, data, nfds) = match item {
                Item::Rights(v) => (SOL_SOCKET, SCM_RIGHTS, fd_bytes(v), v.len()),
                Item::Credentials(c) => (SOL_SOCKET, SCM_CREDENTIALS, cred_bytes(c), 0),
                Item::Raw(l, t, d) => (*l, *t, d.clone(), 0),
            };
            let space = cmsg_space(data.len());
            let expected = if matches!(item, Item::Rights(v) if v.is_empty()) {
                Ok(false)
            } else if matches!(item, Item::Raw(l, t, _) if raw_refused(*l, *t)) {
                Err(Error::RawFdMessage { ty })
            } else if fds + nfds > SCM_MAX_FD {
                Err(Error::TooManyFds { count: fds + nfds })
            } else if want.len() + space > cap {
                Err(Error::ControlBufferTooSmall { needed: want.len() + space, capacity: cap })
            } else {
                Ok(true)
            };
            let res = match item {
                Item::Rights(v) => enc.push_rights(&borrowed(v)),
                Item::Credentials(c) => enc.push_credentials(c),
                Item::Raw(l, t, d) => enc.push_raw(*l, *t, d),
            };
            prop_assert_eq!(res, expected.map(drop), "pushing {:?}", item);
            if expected == Ok(true) {
                put_msg(&mut want, (HDR + data.len()) as KernelSize, level, ty, &data);
                want_msgs.push((level, ty, data));
                fds += nfds;
            }
            prop_assert_eq!(enc.len(), want.len());
            prop_assert_eq!(enc.is_empty(), want.is_empty());
        }

        let cmsgs = enc.finish();
        prop_assert_eq!(cmsgs.as_bytes(), &want[..]);
        prop_assert_eq!(cmsgs.fd_count(), fds);
        prop_assert_eq!(cmsgs.is_empty(), want.is_empty());
        let parsed: Vec<(i32, i32, Vec<u8>)> = RawCmsgs::new(cmsgs.as_bytes())
            .map(|m| {
                let m = m.expect("encoded data parses");
                assert!(!m.truncated);
                (m.level, m.ty, m.data.to_vec())
            })
            .collect();
        prop_assert_eq!(&parsed, &want_msgs);
        // Nothing written past what was encoded, even by refused pushes.
        prop_assert!(buf[want.len()..].iter().all(|&b| b == FILL));

        // The same bytes walked the C way.
        prop_assert_eq!(c_walk(&want), want_msgs);
    }

    #[test]
    fn encoder_refuses_more_than_253_fds_in_all(
        batches in proptest::collection::vec(0usize..=120, 1..8),
    ) {
        let mut buf = CmsgBuf::<BUF>::new();
        let mut enc = buf.encoder();
        let numbers: Vec<i32> = (0..120).collect();
        let fds = borrowed(&numbers);
        let mut total = 0;
        for n in batches {
            let before = enc.len();
            let res = enc.push_rights(&fds[..n]);
            if n > 0 && total + n > SCM_MAX_FD {
                prop_assert_eq!(res, Err(Error::TooManyFds { count: total + n }));
                prop_assert_eq!(enc.len(), before);
            } else {
                prop_assert_eq!(res, Ok(()));
                total += n;
            }
        }
        let cmsgs = enc.finish();
        prop_assert_eq!(cmsgs.fd_count(), total);
        let parsed: usize = RawCmsgs::new(cmsgs.as_bytes())
            .map(|m| parse_unix_rights(&m.unwrap()).unwrap().len())
            .sum();
        prop_assert_eq!(parsed, total);
    }

    #[test]
    fn encoder_refuses_misaligned_buffers(
        offset in 0usize..3 * ALIGN,
        fds in proptest::collection::vec(0..i32::MAX, 1..4),
        cred in (any::<i32>(), any::<u32>(), any::<u32>()),
    ) {
        let mut buf = CmsgBuf::<256>::new();
        let aligned = offset % ALIGN == 0;
        let fds = borrowed(&fds);
        let cred = Ucred { pid: cred.0, uid: cred.1, gid: cred.2 };
        prop_assert_eq!(Encoder::new(&mut buf[offset..]).is_ok(), aligned);
        match unix_rights(&mut buf[offset..], &fds) {
            Ok(c) => {
                prop_assert!(aligned);
                prop_assert_eq!(c.as_bytes().len(), space_for_fds(fds.len()));
            }
            Err(e) => {
                prop_assert!(!aligned);
                prop_assert_eq!(e, Error::ControlBufferMisaligned);
            }
        }
        match unix_credentials(&mut buf[offset..], &cred) {
            Ok(c) => {
                prop_assert!(aligned);
                let msg = RawCmsgs::new(c.as_bytes()).next().unwrap().unwrap();
                prop_assert_eq!(parse_unix_credentials(&msg), Ok(cred));
            }
            Err(e) => {
                prop_assert!(!aligned);
                prop_assert_eq!(e, Error::ControlBufferMisaligned);
            }
        }
    }

    #[test]
    fn raw_message_sizes_match_cmsg_len_and_cmsg_space(len in 0usize..=1024) {
        // SAFETY: CMSG_LEN and CMSG_SPACE are arithmetic only.
        let (c_len, c_space) = unsafe {
            (libc::CMSG_LEN(len as u32) as usize, libc::CMSG_SPACE(len as u32) as usize)
        };
        prop_assert_eq!(cmsg_space(len), c_space);
        prop_assert_eq!(baremsg::sys::cmsg_len(len), c_len);
        let data = vec![0x5au8; len];
        let mut buf = CmsgBuf::<2048>::new();
        let mut enc = buf.encoder();
        enc.push_raw(7, 9, &data).unwrap();
        let bytes = enc.finish().as_bytes();
        prop_assert_eq!(bytes.len(), c_space);
        prop_assert_eq!(&bytes[..KS], &(c_len as KernelSize).to_ne_bytes()[..]);
    }
}

/// Walks control data with `CMSG_FIRSTHDR`/`CMSG_NXTHDR`/`CMSG_DATA` (the `libc`
/// crate's versions of glibc's macros) and returns each message's level, type and data.
fn c_walk(bytes: &[u8]) -> Vec<(i32, i32, Vec<u8>)> {
    // Copied into storage aligned for cmsghdr, as a C buffer would be.
    let mut storage = vec![0usize; bytes.len().div_ceil(ALIGN)];
    let base = storage.as_mut_ptr().cast::<u8>();
    // SAFETY: `storage` holds at least `bytes.len()` bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), base, bytes.len()) };
    // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_control = base.cast();
    msg.msg_controllen = bytes.len() as _;
    let mut out = Vec::new();
    // SAFETY: `msg` describes `storage`, which outlives the walk; the macros only move
    // within `msg_controllen` bytes, and every header they return lies inside it with
    // its whole `cmsg_len` (the encoder's output is well formed, which is checked
    // against the independent layout before this is called).
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            assert_eq!(data as usize - c as usize, HDR, "CMSG_DATA offset");
            let len = (*c).cmsg_len as usize - HDR;
            let d = std::slice::from_raw_parts(data, len).to_vec();
            out.push(((*c).cmsg_level, (*c).cmsg_type, d));
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    out
}

/// For every fd count from 0 to 253, `unix_rights` writes the bytes a C program writes
/// with `CMSG_FIRSTHDR`, `CMSG_LEN` and `CMSG_DATA` into a `CMSG_SPACE` buffer; and
/// `space_for_fds` is `CMSG_SPACE`.
#[test]
fn rights_encoding_matches_the_c_macros_for_0_to_253_fds() {
    for n in 0..=SCM_MAX_FD {
        let numbers: Vec<i32> = (0..n as i32).map(|i| i * 7919 - 1000).collect();
        let fds = borrowed(&numbers);
        let mut ours = CmsgBuf::<{ space_for_fds(SCM_MAX_FD) }>::new();
        let ours = unix_rights(&mut ours, &fds).unwrap().as_bytes().to_vec();

        let data_len = (n * 4) as u32;
        // SAFETY: CMSG_SPACE and CMSG_LEN are arithmetic only.
        let (space, len) = unsafe { (libc::CMSG_SPACE(data_len), libc::CMSG_LEN(data_len)) };
        let space = space as usize;
        assert_eq!(space_for_fds(n), space, "space_for_fds({n})");
        let mut storage = vec![0usize; space / ALIGN];
        // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = storage.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: `msg` describes `storage`, `space` bytes long: CMSG_FIRSTHDR returns
        // its start (space >= a header), and the header plus `n` ints after CMSG_DATA
        // fit in CMSG_SPACE(n * 4) bytes.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            assert!(!c.is_null());
            (*c).cmsg_len = len as _;
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            let data = libc::CMSG_DATA(c);
            assert_eq!(data as usize - c as usize, HDR);
            std::ptr::copy_nonoverlapping(numbers.as_ptr().cast::<u8>(), data, n * 4);
        }
        // SAFETY: `storage` is `space` initialized bytes.
        let theirs = unsafe { std::slice::from_raw_parts(storage.as_ptr().cast::<u8>(), space) };
        if n == 0 {
            // An empty fd list adds no message at all (documented), where C would
            // write a header with no data.
            assert!(ours.is_empty());
        } else {
            assert_eq!(ours, theirs, "{n} fds");
        }
    }
}

/// The sizes of the other fixed messages against the C macros.
#[test]
fn credentials_and_pidfd_sizes_match_cmsg_space() {
    // SAFETY: CMSG_SPACE is arithmetic only.
    unsafe {
        assert_eq!(
            space_for_credentials(),
            libc::CMSG_SPACE(size_of::<libc::ucred>() as u32) as usize
        );
        assert_eq!(space_for_pidfd(), libc::CMSG_SPACE(4) as usize);
    }
    let cred = Ucred {
        pid: 4242,
        uid: 1000,
        gid: 100,
    };
    let mut buf = CmsgBuf::<{ space_for_credentials() }>::new();
    let c = unix_credentials(&mut buf, &cred).unwrap();
    let mut want = Vec::new();
    put_msg(
        &mut want,
        (HDR + 12) as KernelSize,
        libc::SOL_SOCKET,
        libc::SCM_CREDENTIALS,
        &cred_bytes(&cred),
    );
    assert_eq!(c.as_bytes(), &want[..]);
}

/// `push_raw` refuses fd-passing messages (their fd numbers would not be borrowed) and
/// writes nothing; `push_raw_unchecked` encodes the same messages byte for byte.
#[test]
fn push_raw_refuses_fd_messages() {
    let data = 0x3fff_fff0i32.to_ne_bytes();
    for ty in [SCM_RIGHTS, SCM_PIDFD] {
        let mut buf = CmsgBuf::<64>::new();
        buf.fill(FILL);
        let mut enc = buf.encoder();
        let err = enc.push_raw(SOL_SOCKET, ty, &data);
        assert_eq!(err, Err(Error::RawFdMessage { ty }));
        assert_eq!(err.unwrap_err().errno(), baremsg::Errno::EINVAL);
        assert!(enc.is_empty());
        // The same type at another level is no fd message: it goes through.
        enc.push_raw(SOL_SOCKET + 1, ty, &data).unwrap();
        let first = enc.len();
        assert_eq!(first, cmsg_space(4));
        // SAFETY: the encoded bytes are only compared, never sent.
        unsafe { enc.push_raw_unchecked(SOL_SOCKET, ty, &data) }.unwrap();
        let cmsgs = enc.finish();
        assert_eq!(cmsgs.fd_count(), 0);
        let mut want = Vec::new();
        put_msg(
            &mut want,
            (HDR + 4) as KernelSize,
            SOL_SOCKET + 1,
            ty,
            &data,
        );
        put_msg(&mut want, (HDR + 4) as KernelSize, SOL_SOCKET, ty, &data);
        assert_eq!(cmsgs.as_bytes(), &want[..]);
        let len = want.len();
        assert!(
            buf[len..].iter().all(|&b| b == FILL),
            "nothing written past the end"
        );
    }
}

/// `ReceivedControl::messages` reports a malformed header at its offset in the control
/// data, as `RawCmsgs` does (`Error::MalformedControl` documents "where the bad header
/// starts").
#[test]
fn received_control_reports_malformed_offsets_from_the_buffer_start() {
    let mut buf = CmsgBuf::<64>::new();
    buf.encoder().push_raw(7, 7, b"data").unwrap();
    let second = cmsg_space(4);
    // A second header whose cmsg_len (1) is shorter than a header.
    buf[second..second + KS].copy_from_slice(&(1 as KernelSize).to_ne_bytes());
    let bytes = &mut buf[..second + HDR];
    let want = Error::MalformedControl { offset: second };
    let raw: Vec<_> = RawCmsgs::new(bytes).collect();
    assert_eq!(raw.last(), Some(&Err(want)));
    let got = received_messages(bytes);
    assert_eq!(got.last(), Some(&Seen::Err(want)));
}
