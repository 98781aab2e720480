//! Control data received from the kernel, with ownership of every fd in it.

use super::parse::{parse_unix_credentials, step, RawCmsg, Step};
use crate::fd::{FromRawFd, OwnedFd, RawFd};
use crate::sys::{Ucred, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use crate::Error;

/// The control data of one received message.
///
/// Owns every fd in it (`SCM_RIGHTS`, `SCM_PIDFD`): the caller takes them as
/// [`OwnedFd`]s, and whatever is not taken is closed when this is dropped. A taken fd's
/// slot in the buffer is overwritten with -1, so nothing is closed twice.
pub struct ReceivedControl<'c> {
    buf: &'c mut [u8],
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

fn take_fd(slot: &mut [u8]) -> Option<OwnedFd> {
    let fd = RawFd::from_ne_bytes([slot[0], slot[1], slot[2], slot[3]]);
    if fd < 0 {
        return None;
    }
    slot.copy_from_slice(&(-1i32).to_ne_bytes());
    // SAFETY: `ReceivedControl::new`'s contract: the fds in the buffer were installed by
    // the kernel for us and nobody else owns them; the slot now says -1, so this is the
    // only owner.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl<'m> Iterator for Rights<'m> {
    type Item = OwnedFd;
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
                        if (level, ty) == (SOL_SOCKET, crate::sys::SCM_CREDENTIALS) {
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

/// Calls `f(fd, is_rights)` with every fd still in the `SCM_RIGHTS` messages of `buf`
/// (and, with `pidfd`, the `SCM_PIDFD` ones), in order, marking each slot -1. Stops
/// where [`Messages`] does. One walk with [`step`], no [`Message`] built (no credentials
/// parsed, no error values): what `Drop` and `recv_fds` need, in far less code.
fn each_fd(buf: &mut [u8], pidfd: bool, mut f: impl FnMut(OwnedFd, bool)) {
    let mut pos = 0;
    while let Step::Msg {
        level,
        ty,
        data_start,
        data_end,
        next,
        ..
    } = step(buf, pos)
    {
        let data = match (level, ty) {
            (SOL_SOCKET, SCM_RIGHTS) => &mut buf[data_start..data_end],
            // One fd, as `PidfdSlot` reads it.
            (SOL_SOCKET, SCM_PIDFD) if pidfd => &mut buf[data_start..data_end.min(data_start + 4)],
            _ => &mut [],
        };
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
        each_fd(core::mem::take(&mut this.buf), true, |fd, rights| {
            if rights {
                f(fd)
            }
        });
    }

    /// Wraps the first `msg_controllen` bytes of a control buffer that `recvmsg` filled.
    ///
    /// # Safety
    /// Every fd in `SCM_RIGHTS` and `SCM_PIDFD` messages in `buf` is open and owned by
    /// nobody else (the kernel installed it for this receive), or is -1.
    pub unsafe fn new(buf: &'c mut [u8]) -> Self {
        Self { buf }
    }

    /// No control data.
    pub fn empty() -> ReceivedControl<'static> {
        ReceivedControl { buf: &mut [] }
    }

    /// The messages, in order.
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            rest: self.buf,
            offset: 0,
        }
    }

    /// Takes every fd of every `SCM_RIGHTS` message, in order.
    pub fn take_fds(&mut self) -> impl Iterator<Item = OwnedFd> + '_ {
        self.messages()
            .filter_map(|m| match m {
                Ok(Message::Rights(r)) => Some(r),
                _ => None,
            })
            .flatten()
    }

    /// The credentials of the first well-formed `SCM_CREDENTIALS` message, if any.
    pub fn credentials(&mut self) -> Option<Ucred> {
        self.messages().find_map(|m| match m {
            Ok(Message::Credentials(c)) => Some(c),
            _ => None,
        })
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

impl Drop for ReceivedControl<'_> {
    fn drop(&mut self) {
        // Closes whatever fds were not taken.
        each_fd(self.buf, true, |fd, _| drop(fd));
    }
}

impl core::fmt::Debug for ReceivedControl<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReceivedControl")
            .field("len", &self.buf.len())
            .finish()
    }
}
