//! Control messages (ancillary data): buffers sized at compile time, an encoder, and a
//! parser that is total over any bytes.
//!
//! - [`CmsgBuf`]: an aligned control buffer that lives on the stack; size it with
//!   [`space_for_fds`], [`space_for_credentials`], [`space_for_pidfd`] (const fns).
//! - [`Encoder`]: writes several messages into one buffer: rights from
//!   [`BorrowedFd`](crate::fd::BorrowedFd)s, credentials, raw messages. What it produces,
//!   [`Cmsgs`], borrows the fds, so they stay open until the message is sent.
//! - [`RawCmsgs`]: a non-owning parser over any bytes, yielding `(level, type, data)`; it
//!   never panics, never reads outside the slice, and ends or reports an error on any
//!   malformed header. [`parse_unix_rights`], [`parse_unix_credentials`] and
//!   [`parse_pidfd`] decode one message, checking its level, type and length.
//! - [`ReceivedControl`]: what a receive hands back. Every fd the kernel installed is in
//!   there and is either taken by the caller as an [`OwnedFd`](crate::fd::OwnedFd) or
//!   closed when the `ReceivedControl` is dropped.
//!
//! ```
//! use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, RawCmsgs};
//! use baremsg::fd::{self, AsFd};
//! use baremsg::sys::{self, Ucred};
//!
//! # fn main() -> Result<(), baremsg::Error> {
//! let (r, _w) = fd::pipe()?;
//! let mut buf = CmsgBuf::<{ space_for_fds(1) + space_for_credentials() }>::new();
//! let mut enc = buf.encoder();
//! enc.push_rights(&[r.as_fd()])?;
//! enc.push_credentials(&Ucred { pid: sys::getpid(), uid: sys::getuid(), gid: sys::getgid() })?;
//! let msgs = enc.finish(); // borrows `r` until it is sent
//!
//! // The parser takes any bytes: here, what was just encoded.
//! let found: Vec<(i32, i32)> = RawCmsgs::new(msgs.as_bytes())
//!     .map(|m| m.map(|m| (m.level, m.ty)))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(found, [(sys::SOL_SOCKET, sys::SCM_RIGHTS), (sys::SOL_SOCKET, sys::SCM_CREDENTIALS)]);
//! // Malformed bytes end the walk with an error, never a panic.
//! assert!(RawCmsgs::new(&[0xff; 40]).all(|m| m.is_ok() || m.is_err()));
//! # Ok(())
//! # }
//! ```

mod buf;
mod encode;
mod parse;
mod received;

pub(crate) use buf::is_aligned;
pub use buf::CmsgBuf;
pub use encode::{unix_credentials, unix_rights, Cmsgs, Encoder};
pub use parse::{
    parse_pidfd, parse_unix_credentials, parse_unix_rights, RawCmsg, RawCmsgs, RawFds,
};
pub use received::{Message, Messages, PidfdSlot, ReceivedControl, Rights};

use core::mem::size_of;

use crate::sys::{cmsg_space, Ucred, SCM_MAX_FD};

/// Bytes a control buffer needs for one `SCM_RIGHTS` message carrying `n` fds.
pub const fn space_for_fds(n: usize) -> usize {
    cmsg_space(n * size_of::<i32>())
}

/// Bytes a control buffer needs for one `SCM_CREDENTIALS` message.
pub const fn space_for_credentials() -> usize {
    cmsg_space(size_of::<Ucred>())
}

/// Bytes a control buffer needs for one `SCM_PIDFD` message.
pub const fn space_for_pidfd() -> usize {
    cmsg_space(size_of::<i32>())
}

/// Enough room for anything a Unix socket delivers at once: the most fds one message may
/// carry (253), credentials and a pidfd.
pub const SPACE_MAX: usize =
    space_for_fds(SCM_MAX_FD) + space_for_credentials() + space_for_pidfd();
