//! `NOTIFY_SOCKET=vsock:CID:PORT`: a manager on the other side of a virtual machine
//! boundary (systemd in a VM notifying the host's `systemd-vmspawn`, say).
//!
//! `AF_VSOCK` sockets are not Unix sockets: they carry no fds and no credentials (the
//! receiver learns the sender's CID and port only), and most transports have no
//! datagrams (QEMU's `vhost-vsock` and Firecracker answer `ENODEV`), so a service
//! falls back to a connection as libsystemd does: `vsock:` tries `SOCK_DGRAM`, then
//! `SOCK_SEQPACKET`, then `SOCK_STREAM`; `vsock-dgram:`, `vsock-seqpacket:` and
//! `vsock-stream:` ask for one type only. On a connection the message is sent whole, the
//! socket is shut down for writing, and the service waits for the manager to close its
//! end (end-of-file), which says the message was read.

use core::ffi::c_void;
use core::mem::size_of;

use super::NotifyError;
use crate::fd::{AsRawFd, FromRawFd, OwnedFd};
use crate::sys::{self, SockaddrVm};
use crate::Errno;

/// Which socket type a vsock `NOTIFY_SOCKET` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VsockType {
    /// `vsock:`: a datagram, else a seqpacket connection, else a stream connection,
    /// whichever the transport has first.
    Any,
    /// `vsock-dgram:`.
    Dgram,
    /// `vsock-seqpacket:`.
    Seqpacket,
    /// `vsock-stream:`.
    Stream,
}

impl VsockType {
    /// The prefix that names it in `NOTIFY_SOCKET`, with its `:`.
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            VsockType::Any => b"vsock:",
            VsockType::Dgram => b"vsock-dgram:",
            VsockType::Seqpacket => b"vsock-seqpacket:",
            VsockType::Stream => b"vsock-stream:",
        }
    }
}

/// A vsock address from `NOTIFY_SOCKET`: the manager's context id (which machine) and
/// port, and the socket type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VsockAddr {
    /// The context id: a number, or `hypervisor` (0), `local` (1), `host` (2).
    pub cid: u32,
    /// The port.
    pub port: u32,
    /// The socket type.
    pub ty: VsockType,
}

/// Why a vsock `NOTIFY_SOCKET` was refused.
fn bad(reason: &'static str) -> NotifyError {
    NotifyError::InvalidVsockAddress { reason }
}

impl VsockAddr {
    /// Parses `vsock:CID:PORT` (or `vsock-dgram:`, `vsock-seqpacket:`,
    /// `vsock-stream:`): `Ok(None)` if `value` starts with none of these prefixes (it is
    /// not a vsock address). CID and port are decimal numbers that fit in 32 bits; the
    /// CID may also be `hypervisor`, `local` or `host`. Refused, as libsystemd refuses
    /// them: a missing `:PORT`, port 4294967295 (`VMADDR_PORT_ANY`), an empty CID or
    /// `any`/`-1`/4294967295 (`VMADDR_CID_ANY`: a notification needs a specific
    /// machine), anything else that is not a number.
    pub fn parse(value: &[u8]) -> Result<Option<Self>, NotifyError> {
        let Some((ty, rest)) = [
            VsockType::Any,
            VsockType::Dgram,
            VsockType::Seqpacket,
            VsockType::Stream,
        ]
        .into_iter()
        .find_map(|ty| value.strip_prefix(ty.prefix()).map(|rest| (ty, rest))) else {
            return Ok(None);
        };
        let colon = rest
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad("no :PORT after the CID"))?;
        let (cid, port) = (&rest[..colon], &rest[colon + 1..]);
        let port = super::parse_decimal(port, u64::from(u32::MAX))
            .ok_or_else(|| bad("the port is not a decimal number below 2^32"))?
            as u32;
        if port == sys::VMADDR_PORT_ANY {
            return Err(bad("port 4294967295 (VMADDR_PORT_ANY) names no port"));
        }
        let cid = match cid {
            b"hypervisor" => sys::VMADDR_CID_HYPERVISOR,
            b"local" => sys::VMADDR_CID_LOCAL,
            b"host" => sys::VMADDR_CID_HOST,
            b"" | b"any" | b"-1" => return Err(bad("no CID: a notification needs a specific one")),
            n => super::parse_decimal(n, u64::from(u32::MAX)).ok_or_else(|| {
                bad("the CID is not a decimal number below 2^32 or hypervisor, local, host")
            })? as u32,
        };
        if cid == sys::VMADDR_CID_ANY {
            return Err(bad("no CID: a notification needs a specific one"));
        }
        Ok(Some(Self { cid, port, ty }))
    }

    /// The kernel's form of the address.
    pub fn sockaddr(&self) -> SockaddrVm {
        SockaddrVm::new(self.cid, self.port)
    }

    /// Sends `msg` to the manager: see the [module docs](self) for how.
    pub(super) fn send(&self, msg: &[u8]) -> Result<(), NotifyError> {
        let (sock, ty) = self.open()?;
        bind_privileged_port(&sock)?;
        let addr = self.sockaddr();
        let (ap, al) = (
            (&addr as *const SockaddrVm).cast::<c_void>(),
            size_of::<SockaddrVm>() as u32,
        );
        if ty == sys::SOCK_DGRAM {
            // SAFETY: `msg` and `addr` are readable for their lengths; the socket is ours.
            let n = unsafe {
                sys::sendto(
                    sock.as_raw_fd(),
                    msg.as_ptr(),
                    msg.len(),
                    sys::MSG_NOSIGNAL,
                    ap,
                    al,
                )
            }
            .map_err(NotifyError::Send)?;
            return if n == msg.len() {
                Ok(())
            } else {
                Err(NotifyError::Send(Errno::EIO))
            };
        }
        // SAFETY: `addr` is readable for its length; the socket is ours.
        unsafe { sys::connect(sock.as_raw_fd(), ap, al) }.map_err(NotifyError::Send)?;
        let mut left = msg;
        while !left.is_empty() {
            // SAFETY: `left` is readable; no address (connected).
            match unsafe {
                sys::sendto(
                    sock.as_raw_fd(),
                    left.as_ptr(),
                    left.len(),
                    sys::MSG_NOSIGNAL,
                    core::ptr::null(),
                    0,
                )
            } {
                Ok(n) if ty == sys::SOCK_SEQPACKET && n != left.len() => {
                    return Err(NotifyError::Send(Errno::EIO))
                }
                Ok(n) => left = &left[n..],
                Err(Errno::EINTR) => {}
                Err(e) => return Err(NotifyError::Send(e)),
            }
        }
        // SAFETY: the socket is ours.
        unsafe { sys::shutdown(sock.as_raw_fd(), sys::SHUT_WR) }.map_err(NotifyError::Send)?;
        // The manager closes its end once it has read the message.
        let mut byte = 0u8;
        loop {
            // SAFETY: one writable byte; no address wanted.
            match unsafe {
                sys::recvfrom(
                    sock.as_raw_fd(),
                    &mut byte,
                    1,
                    0,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                )
            } {
                Ok(0) => return Ok(()),
                Ok(_) => return Err(NotifyError::Send(Errno::EPROTO)),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(NotifyError::Send(e)),
            }
        }
    }

    /// A new close-on-exec vsock socket of the type asked for, or the first the
    /// transport has for [`VsockType::Any`].
    fn open(&self) -> Result<(OwnedFd, i32), NotifyError> {
        let tries: &[i32] = match self.ty {
            VsockType::Any => &[sys::SOCK_DGRAM, sys::SOCK_SEQPACKET, sys::SOCK_STREAM],
            VsockType::Dgram => &[sys::SOCK_DGRAM],
            VsockType::Seqpacket => &[sys::SOCK_SEQPACKET],
            VsockType::Stream => &[sys::SOCK_STREAM],
        };
        let mut last = Errno::EAFNOSUPPORT;
        for &ty in tries {
            // SAFETY: the new fd is wrapped at once.
            match unsafe { sys::socket(sys::AF_VSOCK, ty | sys::SOCK_CLOEXEC, 0) } {
                // SAFETY: a new fd, ours alone.
                Ok(fd) => return Ok((unsafe { OwnedFd::from_raw_fd(fd) }, ty)),
                // The transport lacks this type: try the next one.
                Err(
                    e @ (Errno::ENODEV
                    | Errno::EOPNOTSUPP
                    | Errno::ESOCKTNOSUPPORT
                    | Errno::EPROTONOSUPPORT),
                ) => last = e,
                Err(e) => return Err(NotifyError::Send(e)),
            }
        }
        Err(NotifyError::Send(last))
    }
}

/// Binds to the highest free port below 1024, as libsystemd does, so that a manager can
/// tell a privileged sender; without the privilege to do so the socket stays unbound.
fn bind_privileged_port(sock: &OwnedFd) -> Result<(), NotifyError> {
    for port in (1..=1023).rev() {
        let addr = SockaddrVm::new(sys::VMADDR_CID_ANY, port);
        // SAFETY: `addr` is readable for its length; the socket is ours.
        match unsafe {
            sys::bind(
                sock.as_raw_fd(),
                (&addr as *const SockaddrVm).cast(),
                size_of::<SockaddrVm>() as u32,
            )
        } {
            Ok(()) => return Ok(()),
            Err(Errno::EADDRINUSE) => {}
            Err(Errno::EPERM | Errno::EACCES) => return Ok(()),
            Err(e) => return Err(NotifyError::Send(e)),
        }
    }
    Ok(())
}
