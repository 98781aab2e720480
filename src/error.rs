//! The error type of the safe layers: a kernel error, or a request baremsg refuses before
//! it reaches the kernel.

use core::fmt;

use crate::Errno;

/// What went wrong in a safe call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The kernel said no.
    Os(Errno),
    /// More fds than one message may carry (`SCM_MAX_FD`, 253) were asked to travel.
    TooManyFds {
        /// How many were asked.
        count: usize,
    },
    /// Control data on a stream socket needs at least one byte of payload to travel
    /// (unix(7)); a send with control data and an empty payload is refused rather than
    /// letting the control data vanish.
    ControlWithoutPayload,
    /// A control buffer has no room for what is being encoded or asked to be received.
    ControlBufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        capacity: usize,
    },
    /// A control buffer is not aligned for `struct cmsghdr` (`sizeof(long)`).
    ControlBufferMisaligned,
    /// Received control data is malformed at byte `offset` (a `cmsg_len` shorter than a
    /// header).
    MalformedControl {
        /// Where the bad header starts.
        offset: usize,
    },
    /// A control message's data has the wrong length for its type.
    BadControlLength {
        /// `cmsg_level`.
        level: i32,
        /// `cmsg_type`.
        ty: i32,
        /// The data length found.
        len: usize,
    },
    /// A Unix socket path or abstract name does not fit in `sun_path`, or a path holds a
    /// NUL byte or is empty.
    InvalidAddress,
    /// Too many buffers for one call (`UIO_MAXIOV`, 1024).
    TooManyBuffers,
    /// fds travel only through `Encoder::push_rights`, which borrows them: a raw
    /// `SCM_RIGHTS`/`SCM_PIDFD` message was refused.
    RawFdMessage {
        /// `cmsg_type` of the refused message (`SCM_RIGHTS` or `SCM_PIDFD`).
        ty: i32,
    },
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Error::Os(e)
    }
}

impl Error {
    /// The errno a C program would see for this error: the kernel's, or the one the
    /// kernel would have returned for the refused request.
    pub const fn errno(&self) -> Errno {
        match *self {
            Error::Os(e) => e,
            Error::TooManyFds { .. } => Errno::EINVAL,
            Error::ControlWithoutPayload => Errno::EINVAL,
            Error::ControlBufferTooSmall { .. } => Errno::ENOBUFS,
            Error::ControlBufferMisaligned => Errno::EINVAL,
            Error::MalformedControl { .. } => Errno::EINVAL,
            Error::BadControlLength { .. } => Errno::EINVAL,
            Error::InvalidAddress => Errno::EINVAL,
            Error::TooManyBuffers => Errno::EMSGSIZE,
            Error::RawFdMessage { .. } => Errno::EINVAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Os(e) => fmt::Display::fmt(&e, f),
            Error::TooManyFds { count } => {
                write!(
                    f,
                    "{count} fds in one message; the kernel takes at most 253 (SCM_MAX_FD)"
                )
            }
            Error::ControlWithoutPayload => {
                f.write_str("control data on a stream socket needs at least one byte of payload")
            }
            Error::ControlBufferTooSmall { needed, capacity } => {
                write!(
                    f,
                    "control buffer too small: {needed} bytes needed, {capacity} available"
                )
            }
            Error::ControlBufferMisaligned => {
                f.write_str("control buffer not aligned for struct cmsghdr")
            }
            Error::MalformedControl { offset } => {
                write!(f, "malformed control message at byte {offset}")
            }
            Error::BadControlLength { level, ty, len } => {
                write!(f, "control message (level {level}, type {ty}) has {len} data bytes, wrong for its type")
            }
            Error::InvalidAddress => f.write_str(
                "invalid Unix socket address (empty, holds a NUL byte, or longer than sun_path)",
            ),
            Error::TooManyBuffers => f.write_str("more than 1024 buffers in one call"),
            Error::RawFdMessage { ty } => write!(
                f,
                "raw SOL_SOCKET message of type {ty} carries fds; fds travel only through \
                 Encoder::push_rights, which borrows them"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Os(errno) => errno.into(),
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}
