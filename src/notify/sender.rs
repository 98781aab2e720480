//! Whether a notification's pidfd (`SCM_PIDFD`) names the process the manager expects,
//! not merely one that has, or had, its pid.
//!
//! Two things can be asked of a pidfd without libc:
//! - whether its process still exists: `/proc/self/fdinfo/N` says `Pid: -1` once it has
//!   been reaped (a zombie still shows its pid), on every kernel that passes pidfds;
//! - which process it is: from Linux 6.9 pidfds live on pidfs, one inode per process,
//!   numbered from a 64-bit counter that never repeats while the system runs, so two
//!   pidfds name the same process exactly when `statx` gives both the same device and
//!   inode number (on a 32-bit kernel the inode number is 32 bits, and repeats only after
//!   2^32 processes). Before 6.9 every pidfd is the same anonymous inode, which tells
//!   nothing: `fstatfs` tells the two apart (`PIDFS_MAGIC`).

use crate::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use crate::notify::decimal;
use crate::sys::{self, Statfs};
use crate::Errno;

/// What `/proc/self/fdinfo` says of a pidfd's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Liveness {
    /// Running or a zombie, with its pid in the namespace of `/proc` (0: outside it).
    Alive(i32),
    /// Reaped (`Pid: -1`).
    Gone,
    /// `/proc` is not mounted, or refused, or the line is missing.
    Unknown,
}

fn liveness(pidfd: BorrowedFd<'_>) -> Result<Liveness, Errno> {
    const DIR: &[u8] = b"/proc/self/fdinfo/";
    let mut path = [0u8; DIR.len() + 11];
    let mut digits = [0u8; 20];
    let n = decimal(pidfd.as_raw_fd() as u64, &mut digits);
    path[..DIR.len()].copy_from_slice(DIR);
    path[DIR.len()..DIR.len() + n.len()].copy_from_slice(n);
    // SAFETY: `path` is NUL-terminated (zeroed past the digits, at most 10 of them); the
    // new fd is wrapped at once.
    let fd = match unsafe {
        sys::openat(
            sys::AT_FDCWD,
            path.as_ptr(),
            sys::O_RDONLY | sys::O_CLOEXEC,
            0,
        )
    } {
        // SAFETY: a new fd, ours alone.
        Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
        Err(Errno::ENOENT | Errno::EACCES | Errno::EPERM | Errno::ENOSYS) => {
            return Ok(Liveness::Unknown)
        }
        Err(e) => return Err(e),
    };
    // "pos:", "flags:", "mnt_id:", "ino:" come first: a few dozen bytes.
    let mut text = [0u8; 512];
    let mut len = 0;
    while len < text.len() {
        match crate::fd::read(fd.as_fd(), &mut text[len..]) {
            Ok(0) => break,
            Ok(k) => len += k,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    let pid = text[..len]
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"Pid:"))
        .map(|v| {
            let start = v.iter().position(|b| !b.is_ascii_whitespace());
            start.map_or(&v[v.len()..], |i| &v[i..])
        });
    Ok(match pid {
        Some(b"-1") => Liveness::Gone,
        Some(v) => match super::parse_decimal(v, i32::MAX as u64) {
            Some(n) => Liveness::Alive(n as i32),
            None => Liveness::Unknown,
        },
        None => Liveness::Unknown,
    })
}

/// The process a pidfd names, as pidfs numbers it (device and inode); `None` where
/// pidfds are not on pidfs, or `fstatfs`/`statx` is refused.
fn pidfs_id(pidfd: BorrowedFd<'_>) -> Option<(u32, u32, u64)> {
    let mut fs = Statfs::default();
    // SAFETY: `fs` is writable.
    unsafe { sys::fstatfs(pidfd.as_raw_fd(), &mut fs) }.ok()?;
    if fs.f_type != sys::PIDFS_MAGIC {
        return None;
    }
    let st = sys::fstatx(pidfd.as_raw_fd(), sys::STATX_INO).ok()?;
    (st.stx_mask & sys::STATX_INO != 0).then_some((st.stx_dev_major, st.stx_dev_minor, st.stx_ino))
}

/// Whether `sent`, the pidfd a message came with from pid `pid` (its credentials say
/// so, checked already), names the expected process: the one `expected` names if given,
/// else the one that has pid `pid` now. `Ok(true)` also where nothing but the number can
/// tell (no `/proc`, no pidfs); an error where the check itself failed (`EMFILE`, ...).
pub(super) fn is_expected(
    sent: BorrowedFd<'_>,
    pid: i32,
    expected: Option<BorrowedFd<'_>>,
) -> Result<bool, Errno> {
    // pidfs: the same inode is the same process, alive or not.
    if let Some(ours) = expected.and_then(pidfs_id) {
        if let Some(theirs) = pidfs_id(sent) {
            return Ok(theirs == ours);
        }
    }
    match liveness(sent)? {
        // Reaped: whoever has its pid now, if anyone, is another process.
        Liveness::Gone => return Ok(false),
        // Alive, so it is the process that has pid `pid` now; the expected one if that
        // is alive with the same number (as `/proc` numbers them; 0 for both tells
        // nothing more).
        Liveness::Alive(theirs) => {
            return match expected.map(liveness).transpose()? {
                None | Some(Liveness::Unknown) => Ok(true),
                Some(Liveness::Gone) => Ok(false),
                Some(Liveness::Alive(ours)) => Ok(ours == theirs),
            }
        }
        Liveness::Unknown => {}
    }
    // No /proc: on pidfs, the process that has pid `pid` now.
    if let Some(theirs) = expected.is_none().then(|| pidfs_id(sent)).flatten() {
        // SAFETY: the new fd is wrapped at once.
        return match unsafe { sys::pidfd_open(pid, 0) } {
            Ok(fd) => {
                // SAFETY: a new fd, ours alone.
                let now = unsafe { OwnedFd::from_raw_fd(fd) };
                Ok(pidfs_id(now.as_fd()) == Some(theirs))
            }
            Err(Errno::ESRCH) => Ok(false),
            Err(e) => Err(e),
        };
    }
    Ok(true)
}
