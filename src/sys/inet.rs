//! Socket addresses of the families other than `AF_UNIX` that baremsg reads or makes:
//! `AF_INET`, `AF_INET6` (to check a passed socket's port, as `sd_is_socket_inet` does)
//! and `AF_VSOCK` (a `NOTIFY_SOCKET` of the form `vsock:CID:PORT`).

use core::mem::{align_of, offset_of, size_of};

use static_assertions::const_assert_eq;

/// `AF_INET`: IPv4.
pub const AF_INET: i32 = 2;
/// `AF_INET6`: IPv6.
pub const AF_INET6: i32 = 10;
/// `AF_NETLINK`.
pub const AF_NETLINK: i32 = 16;
/// `AF_PACKET`.
pub const AF_PACKET: i32 = 17;
/// `AF_VSOCK`: sockets between virtual machines and their host.
pub const AF_VSOCK: i32 = 40;

/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: i32 = 17;
/// `IPPROTO_SCTP`.
pub const IPPROTO_SCTP: i32 = 132;

/// `VMADDR_CID_ANY`: any CID (binding), or, in `NOTIFY_SOCKET`, no CID given.
pub const VMADDR_CID_ANY: u32 = u32::MAX;
/// `VMADDR_CID_HYPERVISOR`.
pub const VMADDR_CID_HYPERVISOR: u32 = 0;
/// `VMADDR_CID_LOCAL`: this machine, through the loopback transport.
pub const VMADDR_CID_LOCAL: u32 = 1;
/// `VMADDR_CID_HOST`: the host, seen from a virtual machine.
pub const VMADDR_CID_HOST: u32 = 2;
/// `VMADDR_PORT_ANY`.
pub const VMADDR_PORT_ANY: u32 = u32::MAX;

/// `struct sockaddr_in`: an IPv4 address and port, both in network byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockaddrIn {
    /// `AF_INET`.
    pub sin_family: u16,
    /// The port, big-endian.
    pub sin_port: u16,
    /// The address, big-endian.
    pub sin_addr: u32,
    /// Padding to the size of `struct sockaddr`.
    pub sin_zero: [u8; 8],
}

/// `struct sockaddr_in6`: an IPv6 address and port.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockaddrIn6 {
    /// `AF_INET6`.
    pub sin6_family: u16,
    /// The port, big-endian.
    pub sin6_port: u16,
    /// Flow information, big-endian.
    pub sin6_flowinfo: u32,
    /// The address.
    pub sin6_addr: [u8; 16],
    /// The scope (interface index for link-local addresses).
    pub sin6_scope_id: u32,
}

/// `struct sockaddr_vm` (`linux/vm_sockets.h`): a vsock address, a context id (CID,
/// which machine) and a port, in host byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockaddrVm {
    /// `AF_VSOCK`.
    pub svm_family: u16,
    /// Zero.
    pub svm_reserved1: u16,
    /// The port.
    pub svm_port: u32,
    /// The context id.
    pub svm_cid: u32,
    /// `VMADDR_FLAG_TO_HOST` or zero.
    pub svm_flags: u8,
    /// Zero.
    pub svm_zero: [u8; 3],
}

impl SockaddrVm {
    /// The address of `port` on machine `cid`.
    pub const fn new(cid: u32, port: u32) -> Self {
        Self {
            svm_family: AF_VSOCK as u16,
            svm_reserved1: 0,
            svm_port: port,
            svm_cid: cid,
            svm_flags: 0,
            svm_zero: [0; 3],
        }
    }
}

/// Big enough for any socket address (`struct sockaddr_storage`): what `getsockname`
/// is given when the family is not known yet. Aligned as a pointer, as the kernel's
/// `__kernel_sockaddr_storage` (4 bytes on the 32-bit targets, 8 on the 64-bit ones).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SockaddrStorage {
    /// The family, as in every socket address.
    pub ss_family: u16,
    /// The rest.
    pub data: [u8; 126],
    _align: [usize; 0],
}

impl Default for SockaddrStorage {
    fn default() -> Self {
        Self {
            ss_family: 0,
            data: [0; 126],
            _align: [],
        }
    }
}

const_assert_eq!(size_of::<SockaddrIn>(), 16);
const_assert_eq!(offset_of!(SockaddrIn, sin_port), 2);
const_assert_eq!(offset_of!(SockaddrIn, sin_addr), 4);
const_assert_eq!(size_of::<SockaddrIn6>(), 28);
const_assert_eq!(offset_of!(SockaddrIn6, sin6_flowinfo), 4);
const_assert_eq!(offset_of!(SockaddrIn6, sin6_addr), 8);
const_assert_eq!(offset_of!(SockaddrIn6, sin6_scope_id), 24);
const_assert_eq!(size_of::<SockaddrVm>(), 16);
const_assert_eq!(align_of::<SockaddrVm>(), 4);
const_assert_eq!(offset_of!(SockaddrVm, svm_port), 4);
const_assert_eq!(offset_of!(SockaddrVm, svm_cid), 8);
const_assert_eq!(offset_of!(SockaddrVm, svm_flags), 12);
const_assert_eq!(size_of::<SockaddrStorage>(), 128);
const_assert_eq!(align_of::<SockaddrStorage>(), size_of::<usize>());
