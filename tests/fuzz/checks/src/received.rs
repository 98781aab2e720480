//! Target `received_control`: the owning parser, `ReceivedControl`, over arbitrary bytes.
//!
//! `ReceivedControl` takes ownership of, and closes, every fd number in the bytes, so
//! arbitrary bytes in-process would close this process's own fds. The fd slots are
//! made harmless first: every non-negative number in a slot the reference walk
//! ([`crate::model::fd_slots`]) finds is moved to `HARMLESS_BASE..`, numbers no fd of
//! this process can have (checked against `RLIMIT_NOFILE`'s hard limit; `close` on them
//! is `EBADF`). Negative numbers stay: they mean "already taken".
//!
//! Two passes over copies of the same bytes:
//! 1. take everything (`messages()`, `Rights`, `Pidfd`): each fd handed out must be one
//!    of the harmless numbers, in the order the slots hold them, and is released with
//!    `into_raw_fd` (never closed) *before* anything else is checked; the slots then
//!    read -1, nothing is handed out twice, the other bytes are untouched;
//! 2. drop without taking: closes exactly the fds pass 1 saw (the same walk over the
//!    same bytes), all of them harmless.
//!
//! If baremsg's walk disagreed with the reference one so that it reached a slot left
//! unsanitized, pass 1 stops the run with that number before it could be closed.

use std::sync::OnceLock;

use baremsg::cmsg::{Message, ReceivedControl};
use baremsg::fd::IntoRawFd;
use baremsg::sys::{SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use baremsg::Error;

use crate::model::{self, Item};

/// Fd numbers at and above this are never open in this process.
pub const HARMLESS_BASE: i32 = 0x4000_0000;

/// Whether the harmless range is really out of reach: `RLIMIT_NOFILE`'s hard limit is
/// below it (an fd number is always below the soft limit, which the hard one bounds).
pub fn harmless_range_is_safe() -> bool {
    *SAFE.get_or_init(|| {
        let mut lim = baremsg::sys::Rlimit::default();
        // SAFETY: a null `new` only reads the limits into `lim`.
        let r = unsafe {
            baremsg::sys::prlimit(0, baremsg::sys::RLIMIT_NOFILE, std::ptr::null(), &mut lim)
        };
        r.is_ok() && lim.rlim_max < HARMLESS_BASE as u64
    })
}

static SAFE: OnceLock<bool> = OnceLock::new();

/// Moves every non-negative fd number in `slots` of `buf` into the harmless range.
fn sanitize(buf: &mut [u8], slots: &[usize]) {
    for &s in slots {
        let v = model::read_int(buf, s);
        if v >= 0 {
            let h = HARMLESS_BASE | (v & 0x0fff_ffff);
            buf[s..s + 4].copy_from_slice(&h.to_ne_bytes());
        }
    }
}

/// Runs the checks on `data`, unless the harmless range cannot be vouched for.
pub fn check(data: &[u8]) {
    assert!(
        harmless_range_is_safe(),
        "RLIMIT_NOFILE's hard limit reaches {HARMLESS_BASE:#x}: refusing to hand arbitrary fd numbers to ReceivedControl"
    );
    let items = model::walk(data);
    let slots = model::fd_slots(&items);

    let mut clean = vec![0u64; data.len().div_ceil(8)];
    let clean = &mut crate::as_bytes_mut(&mut clean)[..data.len()];
    clean.copy_from_slice(data);
    sanitize(clean, &slots);
    // Only data bytes changed: the walk is the same.
    assert_eq!(model::walk(clean), items);

    take_everything(clean, &items, &slots);

    let mut copy = clean.to_vec();
    // SAFETY: every non-negative number in an fd slot is in the harmless range, which
    // no fd of this process reaches (checked above): closing them closes nothing.
    drop(unsafe { ReceivedControl::new(&mut copy) });
}

/// The fds `ReceivedControl` hands out, released without closing, each checked harmless
/// before anything else happens.
fn release(fd: baremsg::fd::OwnedFd, seen: &mut Vec<i32>) {
    let n = fd.into_raw_fd();
    assert!(
        n >= HARMLESS_BASE,
        "ReceivedControl handed out fd {n}, a slot the reference walk does not know"
    );
    seen.push(n);
}

fn take_everything(clean: &[u8], items: &[Item], slots: &[usize]) {
    let mut buf = clean.to_vec();
    let mut seen = Vec::new();
    let mut got = Vec::new();
    {
        // SAFETY: as in `check`: the fd numbers are harmless, and each one handed out is
        // released with `into_raw_fd`, never closed.
        let mut rc = unsafe { ReceivedControl::new(&mut buf) };
        assert_eq!(rc.is_empty(), clean.is_empty());
        for m in rc.messages() {
            got.push(match m {
                Ok(Message::Rights(r)) => {
                    let before = seen.len();
                    r.for_each(|fd| release(fd, &mut seen));
                    Shape::Rights(seen.len() - before)
                }
                Ok(Message::Pidfd(mut slot)) => {
                    let fd = slot.take();
                    let some = fd.is_some();
                    if let Some(fd) = fd {
                        release(fd, &mut seen);
                    }
                    assert!(slot.take().is_none(), "pidfd handed out twice");
                    Shape::Pidfd(some)
                }
                Ok(Message::Credentials(c)) => Shape::Credentials(c.pid, c.uid, c.gid),
                Ok(Message::Other(raw)) => {
                    Shape::Other(raw.level, raw.ty, raw.data.len(), raw.truncated)
                }
                Err(Error::MalformedControl { offset }) => Shape::Malformed(offset),
                Err(Error::BadControlLength { level, ty, len }) => Shape::Bad(level, ty, len),
                Err(e) => panic!("unexpected error {e:?}"),
            });
        }
        // Everything was taken: a second walk hands out nothing.
        assert_eq!(rc.take_fds().count(), 0, "fds handed out twice");
        assert!(rc.take_pidfd().is_none(), "pidfd handed out twice");
        let after = rc.as_bytes().to_vec();
        drop(rc);
        check_after(clean, &after, slots);
    }

    let want_fds: Vec<i32> = slots
        .iter()
        .map(|&s| model::read_int(clean, s))
        .filter(|&v| v >= 0)
        .collect();
    assert_eq!(seen, want_fds, "fds handed out, in order");
    assert_eq!(got, expected_shapes(clean, items));
}

/// After taking: each slot that held an fd reads -1, every other byte is as before.
fn check_after(before: &[u8], after: &[u8], slots: &[usize]) {
    assert_eq!(before.len(), after.len());
    let mut want = before.to_vec();
    for &s in slots {
        if model::read_int(before, s) >= 0 {
            want[s..s + 4].copy_from_slice(&(-1i32).to_ne_bytes());
        }
    }
    assert_eq!(after, &want[..], "bytes after taking every fd");
}

/// A message as `ReceivedControl` should present it.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    Rights(usize),
    Pidfd(bool),
    Credentials(i32, u32, u32),
    Other(i32, i32, usize, bool),
    /// `MalformedControl { offset }`: where the bad header starts in the buffer.
    Malformed(usize),
    Bad(i32, i32, usize),
}

fn expected_shapes(buf: &[u8], items: &[Item]) -> Vec<Shape> {
    items
        .iter()
        .map(|item| match *item {
            Item::Malformed { offset } => Shape::Malformed(offset),
            Item::Msg {
                level,
                ty,
                ref data,
                truncated,
                ..
            } => {
                let d = &buf[data.clone()];
                match (level, ty) {
                    (SOL_SOCKET, SCM_RIGHTS) => Shape::Rights(
                        d.chunks_exact(4)
                            .filter(|c| i32::from_ne_bytes((*c).try_into().unwrap()) >= 0)
                            .count(),
                    ),
                    (SOL_SOCKET, SCM_PIDFD) if d.len() >= 4 => {
                        Shape::Pidfd(model::read_int(d, 0) >= 0)
                    }
                    (SOL_SOCKET, SCM_CREDENTIALS) if d.len() == 12 => Shape::Credentials(
                        model::read_int(d, 0),
                        model::read_int(d, 4) as u32,
                        model::read_int(d, 8) as u32,
                    ),
                    (SOL_SOCKET, SCM_CREDENTIALS) => Shape::Bad(level, ty, d.len()),
                    _ => Shape::Other(level, ty, d.len(), truncated),
                }
            }
        })
        .collect()
}
