//! Control data received from the kernel, with ownership of every fd in it.

use super::parse::{lone, parse_unix_credentials, step_in, ucred_from, RawCmsg, Step, HDR};
use crate::fd::{FromRawFd, OwnedFd, RawFd};
use crate::sys::{Ucred, SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use crate::Error;

/// The control data of one received message.
///
/// Owns every fd in it (`SCM_RIGHTS`, `SCM_PIDFD`): the caller takes them as
/// [`OwnedFd`]s, and whatever is not taken is closed when this is dropped. A taken fd's
/// slot in the buffer is overwritten with -1, so nothing is closed twice.
///
/// ```
/// use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Message};
/// use baremsg::fd::{self, AsFd};
/// use baremsg::io::IoSliceMut;
/// use baremsg::unix::UnixDatagram;
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let (a, b) = UnixDatagram::pair()?;
/// b.set_pass_cred(true)?;
/// let (r1, _w1) = fd::pipe()?;
/// let (r2, _w2) = fd::pipe()?;
/// a.send_fds(b"two", &[r1.as_fd(), r2.as_fd()])?;
///
/// let mut ctl = CmsgBuf::<{ space_for_fds(2) + space_for_credentials() }>::new();
/// let mut data = [0u8; 8];
/// let mut got = b.recv_msg(&mut [IoSliceMut::new(&mut data)], &mut ctl)?;
/// let mut kept = None;
/// for msg in got.control.messages() {
///     match msg? {
///         Message::Credentials(c) => assert_eq!(c.pid, baremsg::sys::getpid()),
///         Message::Rights(mut fds) => kept = fds.next(), // the second stays behind
///         _ => {}
///     }
/// }
/// assert!(kept.is_some());
/// drop(got); // closes the fd that was not taken
/// # Ok(())
/// # }
/// ```
pub struct ReceivedControl<'c> {
    /// Invariant (`new`'s contract): starts at an address aligned for `struct cmsghdr`,
    /// so every header a walk reads is aligned, and so is every fd slot (at 4-byte steps
    /// from an aligned header's data); the walks read them with aligned loads.
    buf: &'c mut [u8],
    /// False once no fd in `buf` can be owned any more (a walk found every `SCM_RIGHTS`
    /// slot taken and no `SCM_PIDFD` message): dropping then has nothing to close.
    may_own: bool,
}

/// One received control message.
#[derive(Debug)]
pub enum Message<'m> {
    /// `SCM_RIGHTS`: fds, taken one by one as [`OwnedFd`]s.
    Rights(Rights<'m>),
    /// `SCM_CREDENTIALS`: the sender's pid, uid and gid, checked by the kernel.
    Credentials(Ucred),
    /// `SCM_PIDFD`: an fd referring to the sending process, taken with
    /// [`PidfdSlot::take`]; left untaken, it stays with the [`ReceivedControl`].
    Pidfd(PidfdSlot<'m>),
    /// Any other message, undecoded.
    Other(RawCmsg<'m>),
}

/// The fds of one `SCM_RIGHTS` message. Each `next()` hands over one [`OwnedFd`]; fds
/// not taken stay with the [`ReceivedControl`] and are closed when it is dropped.
#[derive(Debug)]
pub struct Rights<'m> {
    data: &'m mut [u8],
}

/// The fd of one `SCM_PIDFD` message, not yet taken.
#[derive(Debug)]
pub struct PidfdSlot<'m> {
    data: &'m mut [u8],
}

impl PidfdSlot<'_> {
    /// Takes the pidfd, once: `None` if it was already taken.
    pub fn take(&mut self) -> Option<OwnedFd> {
        take_fd(&mut self.data[..4])
    }
}

/// Iterator over the messages of a [`ReceivedControl`]; see [`RawCmsgs`](super::RawCmsgs)
/// for how malformed data ends it.
#[derive(Debug)]
pub struct Messages<'m> {
    rest: &'m mut [u8],
    /// Where `rest` starts in the whole buffer, for error offsets.
    offset: usize,
}

/// [`step_in`] with aligned loads, for the walks over a [`ReceivedControl`]'s buffer.
/// Safe only as this module calls it: `buf` is a `ReceivedControl`'s buffer, or a tail
/// of it that starts at a `next` of a step, and `pos` is 0 or a `next` of a step over
/// `buf`.
#[inline(always)]
fn step(buf: &[u8], pos: usize) -> Step {
    // SAFETY: the buffer is aligned (`ReceivedControl`'s invariant), and so is a tail
    // starting at a `next`, which is aligned or the end.
    unsafe { step_in::<true>(buf, pos) }
}

/// Takes the fd in the first 4 bytes of `slot`, which starts 4-aligned (it is in a
/// `ReceivedControl`'s buffer at a 4-byte step from an aligned header's data).
#[inline(always)]
fn take_fd(slot: &mut [u8]) -> Option<OwnedFd> {
    let slot: &mut [u8; 4] = slot.first_chunk_mut()?;
    let p = slot.as_mut_ptr().cast::<RawFd>();
    debug_assert!(p as usize % core::mem::align_of::<RawFd>() == 0);
    // SAFETY: four bytes, 4-aligned (see above); any bits are an `i32`.
    let fd = unsafe { p.read() };
    if fd < 0 {
        return None;
    }
    // SAFETY: as the read.
    unsafe { p.write(-1) };
    // SAFETY: `ReceivedControl::new`'s contract: the fds in the buffer were installed by
    // the kernel for us and nobody else owns them; the slot now says -1, so this is the
    // only owner.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl<'m> Iterator for Rights<'m> {
    type Item = OwnedFd;
    #[inline]
    fn next(&mut self) -> Option<OwnedFd> {
        loop {
            if self.data.len() < 4 {
                return None;
            }
            let (slot, rest) = core::mem::take(&mut self.data).split_at_mut(4);
            self.data = rest;
            if let Some(fd) = take_fd(slot) {
                return Some(fd);
            }
        }
    }
}

impl<'m> Iterator for Messages<'m> {
    type Item = Result<Message<'m>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: `rest` is the buffer or a tail of it from a `next`.
        match step(self.rest, 0) {
            Step::End => None,
            Step::Malformed => {
                self.rest = &mut [];
                Some(Err(Error::MalformedControl {
                    offset: self.offset,
                }))
            }
            Step::Msg {
                level,
                ty,
                data_start,
                data_end,
                next,
                truncated,
            } => {
                let (this, tail) = core::mem::take(&mut self.rest).split_at_mut(next);
                self.rest = tail;
                self.offset += next;
                let data = &mut this[data_start..data_end];
                Some(Ok(match (level, ty) {
                    (SOL_SOCKET, SCM_RIGHTS) => Message::Rights(Rights { data }),
                    (SOL_SOCKET, SCM_PIDFD) if data.len() >= 4 => {
                        Message::Pidfd(PidfdSlot { data })
                    }
                    _ => {
                        let raw = RawCmsg {
                            level,
                            ty,
                            data,
                            truncated,
                        };
                        if (level, ty) == (SOL_SOCKET, SCM_CREDENTIALS) {
                            match parse_unix_credentials(&raw) {
                                Ok(c) => Message::Credentials(c),
                                Err(e) => return Some(Err(e)),
                            }
                        } else {
                            Message::Other(raw)
                        }
                    }
                }))
            }
        }
    }
}

/// Calls `f(fd, is_rights)` with every fd still in the `SCM_RIGHTS` and `SCM_PIDFD`
/// messages of `buf`, in order, marking each slot -1. Stops where [`Messages`] does. One
/// walk with [`step`], no [`Message`] built (no credentials parsed, no error values):
/// what `Drop` and `recv_fds` need, in far less code. `buf` is a `ReceivedControl`'s.
fn each_fd(buf: &mut [u8], mut f: impl FnMut(OwnedFd, bool)) {
    let mut pos = 0;
    // The step: `buf` is a `ReceivedControl`'s, `pos` 0 or a `next`.
    while let Step::Msg {
        level,
        ty,
        data_start,
        data_end,
        next,
        ..
    } = step(buf, pos)
    {
        // `step` keeps both ends within `buf`; `get_mut` says so without a panic path.
        let data = match (level, ty) {
            (SOL_SOCKET, SCM_RIGHTS) => buf.get_mut(data_start..data_end),
            // One fd, as `PidfdSlot` reads it.
            (SOL_SOCKET, SCM_PIDFD) => buf.get_mut(data_start..data_end.min(data_start + 4)),
            _ => None,
        }
        .unwrap_or_default();
        for slot in data.chunks_exact_mut(4) {
            if let Some(fd) = take_fd(slot) {
                f(fd, ty == SCM_RIGHTS);
            }
        }
        pos = next;
    }
}

impl<'c> ReceivedControl<'c> {
    /// Hands every fd of every `SCM_RIGHTS` message to `f`, in order, and closes the
    /// rest (`SCM_PIDFD`): one walk over the data, where taking the fds and then
    /// dropping `self` would take two.
    pub(crate) fn drain_rights(self, mut f: impl FnMut(OwnedFd)) {
        // Not dropped: the walk below closes what `Drop` would.
        let mut this = core::mem::ManuallyDrop::new(self);
        each_fd(core::mem::take(&mut this.buf), |fd, rights| {
            if rights {
                f(fd)
            }
        });
    }

    /// Wraps the first `msg_controllen` bytes of a control buffer that `recvmsg` filled.
    ///
    /// # Safety
    /// Every fd in `SCM_RIGHTS` and `SCM_PIDFD` messages in `buf` is open and owned by
    /// nobody else (the kernel installed it for this receive), or is -1; and `buf`, unless
    /// empty, starts at an address aligned for `struct cmsghdr` (`align_of::<usize>()`),
    /// as a [`CmsgBuf`](super::CmsgBuf)'s bytes do and as `recvmsg` needs anyway.
    #[inline]
    pub unsafe fn new(buf: &'c mut [u8]) -> Self {
        debug_assert!(buf.is_empty() || super::is_aligned(buf));
        // Until a walk shows otherwise (an empty buffer's walk ends at once).
        Self { buf, may_own: true }
    }

    /// No control data.
    #[inline]
    pub fn empty() -> ReceivedControl<'static> {
        ReceivedControl {
            buf: &mut [],
            may_own: false,
        }
    }

    /// The messages, in order.
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            rest: self.buf,
            offset: 0,
        }
    }

    /// Takes every fd of every `SCM_RIGHTS` message, in order.
    #[inline]
    pub fn take_fds(&mut self) -> impl Iterator<Item = OwnedFd> + '_ {
        let mut rest: &mut [u8] = self.buf;
        let mut slots: &mut [u8] = &mut [];
        // The usual case, read in one step: the only message passes fds.
        // SAFETY: the buffer is aligned (the invariant).
        if let Some(end) = unsafe { lone(rest, SOL_SOCKET, SCM_RIGHTS) }.filter(|&end| end >= HDR) {
            slots = &mut core::mem::take(&mut rest)[HDR..end];
        }
        TakeFds {
            rest,
            slots,
            may_own: &mut self.may_own,
            saw_pidfd: false,
        }
    }

    /// The credentials of the first well-formed `SCM_CREDENTIALS` message, if any.
    #[inline]
    pub fn credentials(&mut self) -> Option<Ucred> {
        // The usual case, in one step: the credentials are the only message, so nothing
        // is left to close.
        // SAFETY: the buffer is aligned (the invariant).
        if let Some(end) = unsafe { lone(self.buf, SOL_SOCKET, SCM_CREDENTIALS) } {
            self.may_own = false;
            return self.buf.get(HDR..end).and_then(ucred_from);
        }
        // Otherwise every message is walked (usually two or three): when none can hold
        // an fd, dropping has nothing to close and need not walk them again.
        let mut found = None;
        let mut holds_fds = false;
        let mut pos = 0;
        // The step: over the buffer, `pos` 0 or a `next`.
        while let Step::Msg {
            level,
            ty,
            data_start,
            data_end,
            next,
            ..
        } = step(self.buf, pos)
        {
            if level == SOL_SOCKET {
                match ty {
                    SCM_CREDENTIALS if found.is_none() => {
                        found = ucred_from(&self.buf[data_start..data_end]);
                    }
                    SCM_RIGHTS | SCM_PIDFD => holds_fds = true,
                    _ => {}
                }
            }
            pos = next;
        }
        if !holds_fds {
            self.may_own = false;
        }
        found
    }

    /// Takes the fd of the first `SCM_PIDFD` message, if any is left.
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        self.messages().find_map(|m| match m {
            Ok(Message::Pidfd(mut slot)) => slot.take(),
            _ => None,
        })
    }

    /// The raw bytes (fds already taken read as -1).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf
    }

    /// Whether no control data arrived.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// What [`ReceivedControl::take_fds`] returns: walks the messages, taking the fds of
/// `SCM_RIGHTS` ones; at the end of the walk, tells the control data whether it may still
/// own an fd.
struct TakeFds<'a> {
    /// The messages not walked yet.
    rest: &'a mut [u8],
    /// The slots not yet taken of the `SCM_RIGHTS` message being walked.
    slots: &'a mut [u8],
    may_own: &'a mut bool,
    saw_pidfd: bool,
}

impl<'a> TakeFds<'a> {
    /// The slots of the next `SCM_RIGHTS` message; `None` at the end of the walk (where
    /// [`Messages`] ends too).
    #[inline(always)]
    fn next_rights(&mut self) -> Option<&'a mut [u8]> {
        // The step: `rest` is the buffer or a tail of it from a `next`.
        while let Step::Msg {
            level,
            ty,
            data_start,
            data_end,
            next,
            ..
        } = step(self.rest, 0)
        {
            let (this, tail) = core::mem::take(&mut self.rest).split_at_mut(next);
            self.rest = tail;
            if level == SOL_SOCKET {
                if ty == SCM_RIGHTS {
                    return Some(&mut this[data_start..data_end]);
                }
                self.saw_pidfd |= ty == SCM_PIDFD;
            }
        }
        // Every SCM_RIGHTS slot a walk can reach is taken now.
        if !self.saw_pidfd {
            *self.may_own = false;
        }
        None
    }
}

/// Takes the fds still in `slots`, folding them into `acc` with `f`.
#[inline(always)]
fn fold_slots<B>(slots: &mut [u8], mut acc: B, f: &mut impl FnMut(B, OwnedFd) -> B) -> B {
    for slot in slots.chunks_exact_mut(4) {
        if let Some(fd) = take_fd(slot) {
            acc = f(acc, fd);
        }
    }
    acc
}

impl Iterator for TakeFds<'_> {
    type Item = OwnedFd;

    #[inline]
    fn next(&mut self) -> Option<OwnedFd> {
        loop {
            while let Some((slot, tail)) =
                core::mem::take(&mut self.slots).split_first_chunk_mut::<4>()
            {
                self.slots = tail;
                if let Some(fd) = take_fd(slot) {
                    return Some(fd);
                }
            }
            self.slots = self.next_rights()?;
        }
    }

    // `count`, `for_each`, `collect` into an array and the like go through here: one
    // loop over the slots per message, none of `next`'s re-entry.
    #[inline]
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, OwnedFd) -> B,
    {
        let mut acc = fold_slots(core::mem::take(&mut self.slots), init, &mut f);
        while let Some(slots) = self.next_rights() {
            acc = fold_slots(slots, acc, &mut f);
        }
        acc
    }
}

impl Drop for ReceivedControl<'_> {
    #[inline]
    fn drop(&mut self) {
        // Closes whatever fds were not taken.
        if self.may_own {
            each_fd(self.buf, |fd, _| drop(fd));
        }
    }
}

impl core::fmt::Debug for ReceivedControl<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReceivedControl")
            .field("len", &self.buf.len())
            .finish()
    }
}
