//! The kernel's structs, as `#[repr(C)]` types, written once for every architecture.
//!
//! The size fields (`iov_len`, `msg_iovlen`, `msg_controllen`, `cmsg_len`) are the
//! kernel's `__kernel_size_t`, [`KernelSize`]: `u32` on the 32-bit targets (x86, arm),
//! `u64` on the 64-bit ones (x86_64, aarch64, riscv64). Their setters take a `usize` and
//! store it at that width. The layout of each type is checked at compile time, size and
//! every field offset: the 64-bit targets share one layout, the 32-bit ones another (ARM
//! EABI lays these structs out as i386 does).

use core::ffi::c_void;
use core::mem::{offset_of, size_of};
use core::ptr;

use static_assertions::const_assert_eq;

pub use crate::arch::{KernelLong, KernelSize};

/// `struct iovec`: one buffer of a scatter/gather list.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Iovec {
    /// Start of the buffer.
    pub iov_base: *mut c_void,
    /// Length of the buffer in bytes.
    pub iov_len: KernelSize,
}

impl Iovec {
    /// An iovec over `buf` (the kernel only reads it when sending).
    #[inline]
    pub fn from_slice(buf: &[u8]) -> Self {
        Self {
            iov_base: buf.as_ptr() as *mut c_void,
            iov_len: buf.len() as KernelSize,
        }
    }

    /// An iovec over `buf`, for receiving.
    #[inline]
    pub fn from_mut_slice(buf: &mut [u8]) -> Self {
        Self {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len() as KernelSize,
        }
    }

    /// Sets `iov_len`.
    #[inline]
    pub fn set_len(&mut self, len: usize) {
        self.iov_len = len as KernelSize;
    }

    /// `iov_len` as a `usize`.
    #[inline]
    pub fn len(&self) -> usize {
        self.iov_len as usize
    }

    /// Whether `iov_len` is zero.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.iov_len == 0
    }
}

/// `struct msghdr`: the argument of `sendmsg(2)` and `recvmsg(2)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Msghdr {
    /// Optional address (`struct sockaddr *`).
    pub msg_name: *mut c_void,
    /// Size of the address buffer; on return, of the address (`socklen_t`).
    pub msg_namelen: u32,
    /// The scatter/gather list.
    pub msg_iov: *mut Iovec,
    /// Number of entries in `msg_iov`.
    pub msg_iovlen: KernelSize,
    /// Control data (ancillary messages).
    pub msg_control: *mut c_void,
    /// Size of the control buffer; on return, of the control data received.
    pub msg_controllen: KernelSize,
    /// Flags set by `recvmsg` (`MSG_TRUNC`, `MSG_CTRUNC`, ...).
    pub msg_flags: i32,
}

impl Msghdr {
    /// A header with every pointer null and every length zero.
    pub const fn new() -> Self {
        Self {
            msg_name: ptr::null_mut(),
            msg_namelen: 0,
            msg_iov: ptr::null_mut(),
            msg_iovlen: 0,
            msg_control: ptr::null_mut(),
            msg_controllen: 0,
            msg_flags: 0,
        }
    }

    /// Sets `msg_iovlen`.
    #[inline]
    pub fn set_iovlen(&mut self, len: usize) {
        self.msg_iovlen = len as KernelSize;
    }

    /// Sets `msg_controllen`.
    #[inline]
    pub fn set_controllen(&mut self, len: usize) {
        self.msg_controllen = len as KernelSize;
    }

    /// `msg_iovlen` as a `usize`.
    #[inline]
    pub fn iovlen(&self) -> usize {
        self.msg_iovlen as usize
    }

    /// `msg_controllen` as a `usize`.
    #[inline]
    pub fn controllen(&self) -> usize {
        self.msg_controllen as usize
    }
}

impl Default for Msghdr {
    fn default() -> Self {
        Self::new()
    }
}

/// `struct cmsghdr`: the header of one control message. Its data follows at
/// [`cmsg_align`]`(size_of::<Cmsghdr>())`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cmsghdr {
    /// Header plus data length, without trailing padding.
    pub cmsg_len: KernelSize,
    /// Originating protocol (`SOL_SOCKET`).
    pub cmsg_level: i32,
    /// Protocol-specific type (`SCM_RIGHTS`, ...).
    pub cmsg_type: i32,
}

impl Cmsghdr {
    /// Sets `cmsg_len`.
    #[inline]
    pub fn set_len(&mut self, len: usize) {
        self.cmsg_len = len as KernelSize;
    }

    /// `cmsg_len` as a `usize`.
    #[inline]
    pub fn len(&self) -> usize {
        self.cmsg_len as usize
    }

    /// Whether `cmsg_len` is zero.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.cmsg_len == 0
    }
}

/// `struct mmsghdr`: one message of `sendmmsg(2)` / `recvmmsg(2)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Mmsghdr {
    /// The message.
    pub msg_hdr: Msghdr,
    /// Bytes sent or received for it.
    pub msg_len: u32,
}

/// `struct ucred`: a process's credentials (`SCM_CREDENTIALS`, `SO_PEERCRED`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ucred {
    /// Process id.
    pub pid: i32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Bytes in `sun_path`.
pub const SUN_PATH_LEN: usize = 108;

/// `struct sockaddr_un`: a Unix socket address.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockaddrUn {
    /// `AF_UNIX`.
    pub sun_family: u16,
    /// A filesystem path (NUL-terminated unless it fills the array), or an abstract name
    /// (starting with a NUL byte, length given by the address length).
    pub sun_path: [u8; SUN_PATH_LEN],
}

impl SockaddrUn {
    /// An `AF_UNIX` address with an all-zero path.
    pub const fn new() -> Self {
        Self {
            sun_family: super::consts::AF_UNIX as u16,
            sun_path: [0; SUN_PATH_LEN],
        }
    }
}

impl Default for SockaddrUn {
    fn default() -> Self {
        Self::new()
    }
}

/// Offset of `sun_path` in [`SockaddrUn`]: the length of an unnamed address.
pub const SUN_PATH_OFFSET: usize = offset_of!(SockaddrUn, sun_path);

/// `struct timeval` as the kernel's `SO_RCVTIMEO_OLD` / `SO_SNDTIMEO_OLD` take it
/// (`long` fields: 32-bit on x86 and arm).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeval {
    /// Seconds.
    pub tv_sec: KernelLong,
    /// Microseconds.
    pub tv_usec: KernelLong,
}

/// `struct rlimit64` (`prlimit64(2)`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    /// Soft limit.
    pub rlim_cur: u64,
    /// Hard limit.
    pub rlim_max: u64,
}

/// Rounds `len` up to the alignment of control data (`CMSG_ALIGN`): `sizeof(long)`.
#[inline]
pub const fn cmsg_align(len: usize) -> usize {
    let a = size_of::<usize>();
    (len + a - 1) & !(a - 1)
}

/// Bytes a control message with `data_len` bytes of data takes in a buffer, padding
/// included (`CMSG_SPACE`).
#[inline]
pub const fn cmsg_space(data_len: usize) -> usize {
    cmsg_align(size_of::<Cmsghdr>()) + cmsg_align(data_len)
}

/// The `cmsg_len` of a control message with `data_len` bytes of data (`CMSG_LEN`).
#[inline]
pub const fn cmsg_len(data_len: usize) -> usize {
    cmsg_align(size_of::<Cmsghdr>()) + data_len
}

// Layouts, per architecture. Sizes and offsets from the kernel's uapi headers
// (include/linux/socket.h, include/uapi/linux/uio.h, include/uapi/linux/un.h).
const_assert_eq!(size_of::<Ucred>(), 12);
const_assert_eq!(offset_of!(Ucred, pid), 0);
const_assert_eq!(offset_of!(Ucred, uid), 4);
const_assert_eq!(offset_of!(Ucred, gid), 8);
const_assert_eq!(size_of::<SockaddrUn>(), 110);
const_assert_eq!(offset_of!(SockaddrUn, sun_family), 0);
const_assert_eq!(offset_of!(SockaddrUn, sun_path), 2);
const_assert_eq!(size_of::<Rlimit>(), 16);
const_assert_eq!(offset_of!(Iovec, iov_base), 0);
const_assert_eq!(offset_of!(Msghdr, msg_name), 0);
const_assert_eq!(offset_of!(Cmsghdr, cmsg_len), 0);
const_assert_eq!(offset_of!(Mmsghdr, msg_hdr), 0);
const_assert_eq!(offset_of!(Timeval, tv_sec), 0);

#[cfg(target_pointer_width = "64")]
mod layout {
    use super::*;
    const_assert_eq!(size_of::<KernelSize>(), 8);
    const_assert_eq!(size_of::<Iovec>(), 16);
    const_assert_eq!(offset_of!(Iovec, iov_len), 8);
    const_assert_eq!(size_of::<Msghdr>(), 56);
    const_assert_eq!(offset_of!(Msghdr, msg_namelen), 8);
    const_assert_eq!(offset_of!(Msghdr, msg_iov), 16);
    const_assert_eq!(offset_of!(Msghdr, msg_iovlen), 24);
    const_assert_eq!(offset_of!(Msghdr, msg_control), 32);
    const_assert_eq!(offset_of!(Msghdr, msg_controllen), 40);
    const_assert_eq!(offset_of!(Msghdr, msg_flags), 48);
    const_assert_eq!(size_of::<Cmsghdr>(), 16);
    const_assert_eq!(offset_of!(Cmsghdr, cmsg_level), 8);
    const_assert_eq!(offset_of!(Cmsghdr, cmsg_type), 12);
    const_assert_eq!(size_of::<Mmsghdr>(), 64);
    const_assert_eq!(offset_of!(Mmsghdr, msg_len), 56);
    const_assert_eq!(size_of::<Timeval>(), 16);
    const_assert_eq!(offset_of!(Timeval, tv_usec), 8);
}

#[cfg(target_pointer_width = "32")]
mod layout {
    use super::*;
    const_assert_eq!(size_of::<KernelSize>(), 4);
    const_assert_eq!(size_of::<Iovec>(), 8);
    const_assert_eq!(offset_of!(Iovec, iov_len), 4);
    const_assert_eq!(size_of::<Msghdr>(), 28);
    const_assert_eq!(offset_of!(Msghdr, msg_namelen), 4);
    const_assert_eq!(offset_of!(Msghdr, msg_iov), 8);
    const_assert_eq!(offset_of!(Msghdr, msg_iovlen), 12);
    const_assert_eq!(offset_of!(Msghdr, msg_control), 16);
    const_assert_eq!(offset_of!(Msghdr, msg_controllen), 20);
    const_assert_eq!(offset_of!(Msghdr, msg_flags), 24);
    const_assert_eq!(size_of::<Cmsghdr>(), 12);
    const_assert_eq!(offset_of!(Cmsghdr, cmsg_level), 4);
    const_assert_eq!(offset_of!(Cmsghdr, cmsg_type), 8);
    const_assert_eq!(size_of::<Mmsghdr>(), 32);
    const_assert_eq!(offset_of!(Mmsghdr, msg_len), 28);
    const_assert_eq!(size_of::<Timeval>(), 8);
    const_assert_eq!(offset_of!(Timeval, tv_usec), 4);
}
