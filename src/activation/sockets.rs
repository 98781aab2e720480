//! What a passed socket is, checked as `sd_is_socket(3)`, `sd_is_socket_inet(3)` and
//! `sd_is_socket_unix(3)` check it, and (with `std`) std's socket types made from it.

use core::mem::size_of;

use super::listen::socket_info;
use crate::fd::{AsRawFd, BorrowedFd};
use crate::sys::{self, SockaddrStorage};
use crate::unix::UnixAddr;
use crate::Errno;

/// Whether `fd` is a socket of address family `family` (0: any), type `ty` (0: any)
/// that listens (`Some(true)`), does not (`Some(false)`) or either (`None`), as
/// `sd_is_socket(fd, family, type, listening)`. `Ok(false)` for an fd that is no socket;
/// `EBADF` for one that is not open.
pub fn is_socket(
    fd: BorrowedFd<'_>,
    family: i32,
    ty: i32,
    listening: Option<bool>,
) -> Result<bool, Errno> {
    if family < 0 || ty < 0 {
        return Err(Errno::EINVAL);
    }
    let Some(info) = socket_info(fd)? else {
        return Ok(false);
    };
    Ok((family == 0 || info.domain == family)
        && (ty == 0 || info.ty == ty)
        && listening.map_or(true, |l| l == info.listening))
}

/// The port an `AF_INET` or `AF_INET6` socket is bound to (`getsockname(2)`), in host
/// byte order; `Ok(None)` for a socket of another family.
pub fn local_port(fd: BorrowedFd<'_>) -> Result<Option<u16>, Errno> {
    let mut addr = SockaddrStorage::default();
    let mut len = size_of::<SockaddrStorage>() as u32;
    // SAFETY: `addr` is writable for `len` bytes.
    unsafe {
        sys::getsockname(
            fd.as_raw_fd(),
            (&mut addr as *mut SockaddrStorage).cast(),
            &mut len,
        )
    }?;
    let family = i32::from(addr.ss_family);
    // sin_port and sin6_port both follow the family, big-endian.
    Ok(
        ((family == sys::AF_INET || family == sys::AF_INET6) && len >= 4)
            .then(|| u16::from_be_bytes([addr.data[0], addr.data[1]])),
    )
}

/// Whether `fd` is an `AF_INET` or `AF_INET6` socket (`family` 0: either; another
/// family: `EINVAL`) of type `ty` (0: any), listening as `listening` says (`None`:
/// either), bound to `port` (0: any), as `sd_is_socket_inet(3)`.
pub fn is_socket_inet(
    fd: BorrowedFd<'_>,
    family: i32,
    ty: i32,
    listening: Option<bool>,
    port: u16,
) -> Result<bool, Errno> {
    if !matches!(family, 0 | sys::AF_INET | sys::AF_INET6) {
        return Err(Errno::EINVAL);
    }
    if !is_socket(fd, 0, ty, listening)? {
        return Ok(false);
    }
    let Some(bound) = local_port(fd)? else {
        return Ok(false);
    };
    if family != 0 && socket_info(fd)?.map(|i| i.domain) != Some(family) {
        return Ok(false);
    }
    Ok(port == 0 || bound == port)
}

/// Whether `fd` is an `AF_UNIX` socket of type `ty` (0: any), listening as `listening`
/// says (`None`: either), bound to `addr` (`None`: to anything or nothing), as
/// `sd_is_socket_unix(3)`: a path must be the same bytes, an abstract name the same
/// name.
pub fn is_socket_unix(
    fd: BorrowedFd<'_>,
    ty: i32,
    listening: Option<bool>,
    addr: Option<&UnixAddr>,
) -> Result<bool, Errno> {
    if !is_socket(fd, sys::AF_UNIX, ty, listening)? {
        return Ok(false);
    }
    match addr {
        None => Ok(true),
        Some(want) => match crate::unix::sockopt::local_addr(fd) {
            Ok(bound) => Ok(&bound == want),
            Err(e) => Err(e.errno()),
        },
    }
}

#[cfg(feature = "std")]
mod std_types {
    use super::*;
    use crate::activation::Activated;
    use crate::fd::OwnedFd;

    fn take_inet(
        a: Activated,
        ty: i32,
        proto: i32,
        listening: Option<bool>,
    ) -> Result<OwnedFd, Activated> {
        match a {
            Activated::Socket(fd, info)
                if (info.domain == sys::AF_INET || info.domain == sys::AF_INET6)
                    && info.ty == ty
                    && info.protocol == proto
                    && listening.map_or(true, |l| l == info.listening) =>
            {
                Ok(fd)
            }
            other => Err(other),
        }
    }

    /// A listening TCP socket (IPv4 or IPv6); any other fd comes back.
    impl TryFrom<Activated> for std::net::TcpListener {
        type Error = Activated;
        fn try_from(a: Activated) -> Result<Self, Activated> {
            take_inet(a, sys::SOCK_STREAM, sys::IPPROTO_TCP, Some(true)).map(Self::from)
        }
    }

    /// A connected TCP socket (`Accept=yes`, `--inetd`); any other fd comes back.
    impl TryFrom<Activated> for std::net::TcpStream {
        type Error = Activated;
        fn try_from(a: Activated) -> Result<Self, Activated> {
            take_inet(a, sys::SOCK_STREAM, sys::IPPROTO_TCP, Some(false)).map(Self::from)
        }
    }

    /// A UDP socket; any other fd comes back.
    impl TryFrom<Activated> for std::net::UdpSocket {
        type Error = Activated;
        fn try_from(a: Activated) -> Result<Self, Activated> {
            take_inet(a, sys::SOCK_DGRAM, sys::IPPROTO_UDP, None).map(Self::from)
        }
    }

    macro_rules! from_unix {
        ($($variant:ident => $std:ty, $what:literal;)*) => {$(
            #[doc = concat!("A ", $what, "; any other fd comes back.")]
            impl TryFrom<Activated> for $std {
                type Error = Activated;
                fn try_from(a: Activated) -> Result<Self, Activated> {
                    match a {
                        Activated::$variant(s) => Ok(Self::from(OwnedFd::from(s))),
                        other => Err(other),
                    }
                }
            }
        )*};
    }
    from_unix! {
        UnixListener => std::os::unix::net::UnixListener, "listening Unix stream socket";
        UnixStream => std::os::unix::net::UnixStream, "connected Unix stream socket";
        UnixDatagram => std::os::unix::net::UnixDatagram, "Unix datagram socket";
    }
}
