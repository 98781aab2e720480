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
//! 2. the helpers, whose fast paths read a lone message in one step: `credentials()`
//!    gives the first well-formed credentials, `take_fds()` hands out the `SCM_RIGHTS`
//!    fds in order (the first through `next`, the rest through `for_each`), and
//!    `take_pidfd()` the first pidfd left; then what remains is taken as in pass 1 and
//!    the slots read -1;
//! 3. with real fds in the slots (pass 1 showed the walk reaches no other slot): after
//!    `credentials()`, or after one fd taken from `take_fds()`, dropping closes every fd
//!    left, whatever the helpers' walks learned;
//! 4. drop without taking: closes exactly the fds pass 1 saw (the same walk over the
//!    same bytes), all of them harmless.
//!
//! If baremsg's walk disagreed with the reference one so that it reached a slot left
//! unsanitized, pass 1 stops the run with that number before it could be closed.

use std::sync::OnceLock;

use baremsg::cmsg::{Message, ReceivedControl};
use baremsg::fd::{AsFd, AsRawFd, IntoRawFd};
use baremsg::sys::{SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use baremsg::Error;

use crate::model::{self, Item};
use crate::AlignedBuf;

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
    take_with_helpers(clean, &items, &slots);
    drop_after_a_helper(clean, &slots);

    let mut copy = AlignedBuf::from(&clean[..]);
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
    let mut buf = AlignedBuf::from(clean);
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

fn take_with_helpers(clean: &[u8], items: &[Item], slots: &[usize]) {
    let (rights, pidfds) = split_slots(items);
    let fds_in = |slots: &[usize]| -> Vec<i32> {
        slots
            .iter()
            .map(|&s| model::read_int(clean, s))
            .filter(|&v| v >= 0)
            .collect()
    };
    let want_cred = expected_shapes(clean, items)
        .into_iter()
        .find_map(|s| match s {
            Shape::Credentials(pid, uid, gid) => Some((pid, uid, gid)),
            _ => None,
        });
    let mut buf = AlignedBuf::from(clean);
    let mut seen = Vec::new();
    {
        // SAFETY: as in `take_everything`.
        let mut rc = unsafe { ReceivedControl::new(&mut buf) };
        let cred = rc.credentials().map(|c| (c.pid, c.uid, c.gid));
        assert_eq!(cred, want_cred, "credentials()");
        let mut fds = rc.take_fds();
        if let Some(fd) = fds.next() {
            release(fd, &mut seen);
        }
        fds.for_each(|fd| release(fd, &mut seen));
        assert_eq!(
            seen,
            fds_in(&rights),
            "take_fds(): the SCM_RIGHTS fds, in order"
        );
        assert_eq!(rc.take_fds().count(), 0, "fds handed out twice");
        let pidfd = rc.take_pidfd();
        assert_eq!(
            pidfd.as_ref().map(|fd| fd.as_raw_fd()),
            fds_in(&pidfds).first().copied(),
            "take_pidfd(): the first pidfd"
        );
        if let Some(fd) = pidfd {
            release(fd, &mut seen);
        }
        for m in rc.messages() {
            if let Ok(Message::Pidfd(mut slot)) = m {
                if let Some(fd) = slot.take() {
                    release(fd, &mut seen);
                }
            }
        }
        let after = rc.as_bytes().to_vec();
        drop(rc);
        check_after(clean, &after, slots);
    }
    let mut all = seen;
    all.sort_unstable();
    let mut want = fds_in(slots);
    want.sort_unstable();
    assert_eq!(all, want, "every fd handed out once");
}

/// Most slots pass 3 fills with real fds (far below any `RLIMIT_NOFILE`).
const MAX_REAL: usize = 64;

fn drop_after_a_helper(clean: &[u8], slots: &[usize]) {
    let live: Vec<usize> = slots
        .iter()
        .copied()
        .filter(|&s| model::read_int(clean, s) >= 0)
        .collect();
    if live.len() > MAX_REAL {
        return;
    }
    for take_one in [false, true] {
        let mut buf = AlignedBuf::from(clean);
        let real: Vec<i32> = live
            .iter()
            .map(|&s| {
                let fd = null_fd().try_clone_to_owned().expect("dup").into_raw_fd();
                buf[s..s + 4].copy_from_slice(&fd.to_ne_bytes());
                fd
            })
            .collect();
        let mut taken = None;
        {
            // SAFETY: every fd slot the walk reaches (pass 1) holds an fd made just now
            // for this buffer, owned by nothing else, or a negative number.
            let mut rc = unsafe { ReceivedControl::new(&mut buf) };
            if take_one {
                taken = rc.take_fds().next();
            } else {
                let _ = rc.credentials();
            }
        }
        let taken = taken.map(IntoRawFd::into_raw_fd);
        for &fd in &real {
            // SAFETY: F_GETFD only reads an fd's flags; EBADF when it names nothing.
            let open = unsafe { baremsg::sys::fcntl(fd, baremsg::sys::F_GETFD, 0) }.is_ok();
            if Some(fd) == taken {
                assert!(open, "the fd taken was closed");
                // SAFETY: handed out by take_fds: ours to close.
                drop(unsafe { <baremsg::fd::OwnedFd as baremsg::fd::FromRawFd>::from_raw_fd(fd) });
            } else {
                assert!(
                    !open,
                    "fd {fd} left open after the drop (take_one: {take_one})"
                );
            }
        }
    }
}

/// A pipe's read end, made once: the source of the real fds of pass 3.
fn null_fd() -> baremsg::fd::BorrowedFd<'static> {
    static PIPE: OnceLock<(baremsg::fd::OwnedFd, baremsg::fd::OwnedFd)> = OnceLock::new();
    PIPE.get_or_init(|| baremsg::fd::pipe().expect("pipe"))
        .0
        .as_fd()
}

/// The fd slots of `SCM_RIGHTS` messages and those of `SCM_PIDFD` ones, apart.
fn split_slots(items: &[Item]) -> (Vec<usize>, Vec<usize>) {
    let mut rights = Vec::new();
    let mut pidfds = Vec::new();
    for item in items {
        let slots = model::fd_slots(std::slice::from_ref(item));
        match item {
            Item::Msg { ty: SCM_RIGHTS, .. } => rights.extend(slots),
            Item::Msg { ty: SCM_PIDFD, .. } => pidfds.extend(slots),
            _ => {}
        }
    }
    (rights, pidfds)
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
