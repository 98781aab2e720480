//! What a file is: `statx(2)` (the same struct on every architecture) and `fstatfs(2)`
//! (which filesystem it lives on).

use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::{check_unit, fd_arg, KernelLong};
use crate::arch::nr;
use crate::Errno;

/// `statx` flag: `path` is empty, describe `dirfd` itself.
pub const AT_EMPTY_PATH: i32 = 0x1000;
/// `statx` mask: the inode number (`stx_ino`).
pub const STATX_INO: u32 = 0x100;
/// `f_type` of pidfs, where pidfds live from Linux 6.9 on (before, they were anonymous
/// inodes: [`ANON_INODE_FS_MAGIC`]).
pub const PIDFS_MAGIC: KernelLong = 0x5049_4446;
/// `f_type` of the anonymous inode filesystem.
pub const ANON_INODE_FS_MAGIC: KernelLong = 0x0904_1934;

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    /// Seconds since the epoch.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: u32,
    /// Reserved.
    pub __reserved: i32,
}

/// `struct statx` (Linux 4.11+), the same on every architecture. The fields the kernel
/// filled in are those in `stx_mask`; what later kernels add lands in `__spare`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statx {
    /// Which fields were filled in (`STATX_*`).
    pub stx_mask: u32,
    /// Preferred I/O block size.
    pub stx_blksize: u32,
    /// `STATX_ATTR_*` flags.
    pub stx_attributes: u64,
    /// Hard links.
    pub stx_nlink: u32,
    /// Owner.
    pub stx_uid: u32,
    /// Group.
    pub stx_gid: u32,
    /// File type and mode.
    pub stx_mode: u16,
    /// Reserved.
    pub __spare0: u16,
    /// Inode number.
    pub stx_ino: u64,
    /// Size in bytes.
    pub stx_size: u64,
    /// 512-byte blocks allocated.
    pub stx_blocks: u64,
    /// Which `STATX_ATTR_*` flags the filesystem supports.
    pub stx_attributes_mask: u64,
    /// Last access.
    pub stx_atime: StatxTimestamp,
    /// Creation.
    pub stx_btime: StatxTimestamp,
    /// Last status change.
    pub stx_ctime: StatxTimestamp,
    /// Last modification.
    pub stx_mtime: StatxTimestamp,
    /// Device number of a device file: major.
    pub stx_rdev_major: u32,
    /// Minor.
    pub stx_rdev_minor: u32,
    /// Device the file lives on: major.
    pub stx_dev_major: u32,
    /// Minor.
    pub stx_dev_minor: u32,
    /// Mount id (`STATX_MNT_ID`, Linux 5.8+).
    pub stx_mnt_id: u64,
    /// Later fields (direct I/O alignment, ...), and room for more.
    pub __spare: [u64; 13],
}

const_assert_eq!(size_of::<Statx>(), 256);
const_assert_eq!(offset_of!(Statx, stx_ino), 32);
const_assert_eq!(offset_of!(Statx, stx_atime), 64);
const_assert_eq!(offset_of!(Statx, stx_dev_major), 136);
const_assert_eq!(offset_of!(Statx, stx_mnt_id), 144);

/// The kernel's `struct statfs` on the 64-bit targets and `struct statfs64` on the
/// 32-bit ones (what `fstatfs64` fills in): the same fields, words the width of
/// [`KernelLong`]. Packed to 4 on arm, as the kernel declares it there (84 bytes, as on
/// i386, where `u64` is aligned to 4 anyway).
#[cfg_attr(not(target_arch = "arm"), repr(C))]
#[cfg_attr(target_arch = "arm", repr(C, packed(4)))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statfs {
    /// The filesystem's magic number (`PIDFS_MAGIC`, ...).
    pub f_type: KernelLong,
    /// Block size.
    pub f_bsize: KernelLong,
    /// Blocks.
    pub f_blocks: u64,
    /// Free blocks.
    pub f_bfree: u64,
    /// Free blocks for unprivileged users.
    pub f_bavail: u64,
    /// Inodes.
    pub f_files: u64,
    /// Free inodes.
    pub f_ffree: u64,
    /// Filesystem id.
    pub f_fsid: [i32; 2],
    /// Longest file name.
    pub f_namelen: KernelLong,
    /// Fragment size.
    pub f_frsize: KernelLong,
    /// Mount flags (`ST_*`).
    pub f_flags: KernelLong,
    /// Reserved.
    pub f_spare: [KernelLong; 4],
}

#[cfg(target_pointer_width = "64")]
const_assert_eq!(size_of::<Statfs>(), 120);
#[cfg(target_pointer_width = "32")]
const_assert_eq!(size_of::<Statfs>(), 84);

/// `statx(2)`: what `path` (relative to `dirfd`; empty with [`AT_EMPTY_PATH`]: `dirfd`
/// itself) is, the fields of `mask` at least, into `buf`.
///
/// # Safety
/// `path` is NUL-terminated; `buf` is writable.
#[inline]
pub unsafe fn statx(
    dirfd: i32,
    path: *const u8,
    flags: i32,
    mask: u32,
    buf: *mut Statx,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract; the kernel writes one `struct statx`.
    check_unit(unsafe {
        crate::arch::syscall5(
            nr::STATX,
            fd_arg(dirfd),
            path as usize,
            flags as usize,
            mask as usize,
            buf as usize,
        )
    })
}

/// `fstatfs(2)` (`fstatfs64` on the 32-bit targets): the filesystem `fd` lives on, into `buf`.
///
/// # Safety
/// `buf` is writable.
#[inline]
pub unsafe fn fstatfs(fd: i32, buf: *mut Statfs) -> Result<(), Errno> {
    // SAFETY: the caller's contract; the kernel writes one `Statfs`, whose size x86's
    // call takes and checks.
    #[cfg(target_pointer_width = "32")]
    let ret = unsafe {
        crate::arch::syscall3(nr::FSTATFS64, fd_arg(fd), size_of::<Statfs>(), buf as usize)
    };
    // SAFETY: as above.
    #[cfg(target_pointer_width = "64")]
    let ret = unsafe { crate::arch::syscall2(nr::FSTATFS, fd_arg(fd), buf as usize) };
    check_unit(ret)
}

/// `MAX_HANDLE_SZ`: the most bytes a file handle's `f_handle` holds.
pub const MAX_HANDLE_SZ: usize = 128;
/// `FILEID_KERNFS`: the handle type of kernfs-like filesystems (cgroupfs, pidfs), whose
/// handle is the 64-bit inode id.
pub const FILEID_KERNFS: i32 = 0xfe;

/// `struct file_handle` with room for the largest handle ([`MAX_HANDLE_SZ`]).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FileHandle {
    /// In: the room in `f_handle`; out: the handle's length.
    pub handle_bytes: u32,
    /// Out: the handle's type (`FILEID_*`).
    pub handle_type: i32,
    /// The handle.
    pub f_handle: [u8; MAX_HANDLE_SZ],
}

impl Default for FileHandle {
    fn default() -> Self {
        Self {
            handle_bytes: MAX_HANDLE_SZ as u32,
            handle_type: 0,
            f_handle: [0; MAX_HANDLE_SZ],
        }
    }
}

const_assert_eq!(offset_of!(FileHandle, f_handle), 8);
const_assert_eq!(size_of::<FileHandle>(), 8 + MAX_HANDLE_SZ);

/// `name_to_handle_at(2)`: the file handle of `path` (relative to `dirfd`; empty with
/// [`AT_EMPTY_PATH`]: `dirfd` itself) into `handle`, and its mount id into `mount_id`.
///
/// # Safety
/// `path` is NUL-terminated; `handle` and `mount_id` are writable, and
/// `handle.handle_bytes` is at most the room in `f_handle`.
#[inline]
pub unsafe fn name_to_handle_at(
    dirfd: i32,
    path: *const u8,
    handle: *mut FileHandle,
    mount_id: *mut i32,
    flags: i32,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract; the kernel writes at most `handle_bytes` bytes of
    // handle after the header, and one int.
    check_unit(unsafe {
        crate::arch::syscall5(
            nr::NAME_TO_HANDLE_AT,
            fd_arg(dirfd),
            path as usize,
            handle as usize,
            mount_id as usize,
            flags as usize,
        )
    })
}

/// `statx` of `fd` itself (an empty path with [`AT_EMPTY_PATH`]) for the fields of `mask`.
pub(crate) fn fstatx(fd: i32, mask: u32) -> Result<Statx, Errno> {
    let mut st = Statx::default();
    // SAFETY: an empty NUL-terminated path with AT_EMPTY_PATH names the fd itself; `st`
    // is writable.
    unsafe { statx(fd, c"".as_ptr().cast(), AT_EMPTY_PATH, mask, &mut st) }?;
    Ok(st)
}
