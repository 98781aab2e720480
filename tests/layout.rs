//! The kernel structs baremsg declares itself, against the `libc` crate's declarations
//! of the same structs on the target compiled for: size, alignment and every field
//! offset; plus the numbers expected on each architecture, the control-message size
//! helpers against `CMSG_SPACE`/`CMSG_LEN`, and the width and round trip of the
//! `KernelSize` fields behind their setters.

use core::mem::{align_of, offset_of, size_of, size_of_val};

use baremsg::sys::{self, Cmsghdr, Iovec, KernelSize, Mmsghdr, Msghdr, SockaddrUn, Ucred};
use proptest::prelude::*;

mod target;

/// Asserts that `$ours` and `$theirs` have the same size and alignment, and that each
/// listed field sits at the same offset in both.
macro_rules! same_layout {
    ($ours:ty, $theirs:ty { $($field:ident),+ $(,)? }) => {{
        assert_eq!(
            size_of::<$ours>(),
            size_of::<$theirs>(),
            concat!("size of ", stringify!($ours), " vs ", stringify!($theirs))
        );
        assert_eq!(
            align_of::<$ours>(),
            align_of::<$theirs>(),
            concat!("alignment of ", stringify!($ours), " vs ", stringify!($theirs))
        );
        $(
            assert_eq!(
                offset_of!($ours, $field),
                offset_of!($theirs, $field),
                concat!("offset of ", stringify!($ours), ".", stringify!($field))
            );
        )+
    }};
}

#[test]
fn iovec_matches_libc_iovec() {
    same_layout!(Iovec, libc::iovec { iov_base, iov_len });
}

#[test]
fn msghdr_matches_libc_msghdr() {
    same_layout!(
        Msghdr,
        libc::msghdr {
            msg_name,
            msg_namelen,
            msg_iov,
            msg_iovlen,
            msg_control,
            msg_controllen,
            msg_flags,
        }
    );
}

#[test]
fn cmsghdr_matches_libc_cmsghdr() {
    same_layout!(
        Cmsghdr,
        libc::cmsghdr {
            cmsg_len,
            cmsg_level,
            cmsg_type
        }
    );
}

#[test]
fn mmsghdr_matches_libc_mmsghdr() {
    same_layout!(Mmsghdr, libc::mmsghdr { msg_hdr, msg_len });
}

#[test]
fn ucred_matches_libc_ucred() {
    same_layout!(Ucred, libc::ucred { pid, uid, gid });
}

#[test]
fn sockaddr_un_matches_libc_sockaddr_un() {
    same_layout!(
        SockaddrUn,
        libc::sockaddr_un {
            sun_family,
            sun_path
        }
    );
    assert_eq!(
        sys::SUN_PATH_OFFSET,
        offset_of!(libc::sockaddr_un, sun_path)
    );
    // SAFETY: `sockaddr_un` is plain data, all-zero is a valid value.
    let theirs: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    assert_eq!(sys::SUN_PATH_LEN, theirs.sun_path.len());
    assert_eq!(SockaddrUn::new().sun_family, libc::AF_UNIX as u16);
}

#[test]
fn sigaction_and_sigset_match_the_kernels() {
    use linux_raw_sys::general::{kernel_sigaction, kernel_sigset_t};
    use sys::{Sigaction, Sigset};
    // riscv64's kernel struct has no restorer.
    #[cfg(not(target_arch = "riscv64"))]
    same_layout!(
        Sigaction,
        kernel_sigaction {
            sa_flags,
            sa_restorer,
            sa_mask
        }
    );
    #[cfg(target_arch = "riscv64")]
    same_layout!(Sigaction, kernel_sigaction { sa_flags, sa_mask });
    assert_eq!(offset_of!(kernel_sigaction, sa_handler_kernel), 0);
    assert_eq!(offset_of!(Sigaction, sa_handler), 0);
    assert_eq!(size_of::<Sigset>(), size_of::<kernel_sigset_t>());
    assert_eq!(align_of::<Sigset>(), align_of::<kernel_sigset_t>());
    let expected = if cfg!(target_pointer_width = "32") {
        (20, 12)
    } else if cfg!(target_arch = "riscv64") {
        (24, 16)
    } else {
        (32, 24)
    };
    assert_eq!(
        (size_of::<Sigaction>(), offset_of!(Sigaction, sa_mask)),
        expected
    );
}

/// What baremsg's `rt_sigprocmask` and `rt_sigaction` set, libc reads back, and the
/// other way round (in a thread of its own, whose mask dies with it; the disposition
/// changed is SIGUSR2's, which no other test uses).
#[test]
fn signal_mask_and_dispositions_agree_with_libc() {
    std::thread::spawn(|| {
        let set = sys::Sigset::EMPTY.with(sys::SIGTERM).with(34).with(64);
        let mut old = sys::Sigset::FULL;
        // SAFETY: valid sets; this thread's mask only.
        unsafe { sys::rt_sigprocmask(sys::SIG_BLOCK, &set, &mut old) }.unwrap();
        assert!(!old.contains(sys::SIGTERM));
        // SAFETY: an all-zero sigset_t is valid; pthread_sigmask fills it.
        let mut theirs: libc::sigset_t = unsafe { core::mem::zeroed() };
        // SAFETY: reads this thread's mask into `theirs`.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, core::ptr::null(), &mut theirs) };
        assert_eq!(r, 0);
        // qemu-user 7.2 has no host signal to give the guest's signal 64 (it keeps the
        // last real-time ones for itself): blocking it does nothing there.
        let qemu_drops_64 = target::under_qemu();
        if qemu_drops_64 {
            target::qemu_note("signal 64 cannot be blocked under qemu-user: asserted unblocked");
        }
        for sig in 1..=64 {
            // SAFETY: `theirs` is initialized.
            let libc_says = unsafe { libc::sigismember(&theirs, sig) } == 1;
            let expected =
                (set.contains(sig) || old.contains(sig)) && !(qemu_drops_64 && sig == 64);
            assert_eq!(libc_says, expected, "signal {sig}");
        }
        // SAFETY: libc sets SIGUSR1 in this thread's mask; ours reads it back.
        unsafe {
            libc::sigemptyset(&mut theirs);
            libc::sigaddset(&mut theirs, libc::SIGUSR1);
            assert_eq!(
                libc::pthread_sigmask(libc::SIG_BLOCK, &theirs, core::ptr::null_mut()),
                0
            );
        }
        let mut now = sys::Sigset::EMPTY;
        // SAFETY: only reads the mask.
        unsafe { sys::rt_sigprocmask(sys::SIG_BLOCK, core::ptr::null(), &mut now) }.unwrap();
        let mut expected = old.bits() | set.bits() | 1 << (libc::SIGUSR1 - 1);
        if qemu_drops_64 {
            expected &= !(1 << 63);
        }
        assert_eq!(now.bits(), expected);
    })
    .join()
    .unwrap();

    let ign = sys::Sigaction {
        sa_handler: sys::SIG_IGN,
        ..sys::Sigaction::DEFAULT
    };
    let mut was = sys::Sigaction::default();
    // SAFETY: SIG_IGN from a valid struct; `was` is writable.
    unsafe { sys::rt_sigaction(libc::SIGUSR2, &ign, &mut was) }.unwrap();
    // SAFETY: an all-zero sigaction is valid; libc fills it.
    let mut theirs: libc::sigaction = unsafe { core::mem::zeroed() };
    // SAFETY: only reads SIGUSR2's disposition.
    let r = unsafe { libc::sigaction(libc::SIGUSR2, core::ptr::null(), &mut theirs) };
    assert_eq!(r, 0);
    assert_eq!(theirs.sa_sigaction, libc::SIG_IGN);
    // Back to what it was; then SIGKILL cannot be changed.
    // SAFETY: the disposition read above, a plain one (no test installs a handler).
    unsafe { sys::rt_sigaction(libc::SIGUSR2, &was, core::ptr::null_mut()) }.unwrap();
    assert_eq!(was.sa_handler, sys::SIG_DFL);
    assert_eq!(
        // SAFETY: as above.
        unsafe { sys::rt_sigaction(sys::SIGKILL, &ign, core::ptr::null_mut()) },
        Err(baremsg::Errno::EINVAL)
    );
}

#[test]
fn statx_and_statfs_match_the_kernels() {
    use linux_raw_sys::general as k;
    use sys::{Statfs, Statx, StatxTimestamp};
    same_layout!(StatxTimestamp, k::statx_timestamp { tv_sec, tv_nsec });
    same_layout!(
        Statx,
        k::statx {
            stx_mask,
            stx_blksize,
            stx_attributes,
            stx_nlink,
            stx_uid,
            stx_gid,
            stx_mode,
            stx_ino,
            stx_size,
            stx_blocks,
            stx_attributes_mask,
            stx_atime,
            stx_btime,
            stx_ctime,
            stx_mtime,
            stx_rdev_major,
            stx_rdev_minor,
            stx_dev_major,
            stx_dev_minor,
            stx_mnt_id,
        }
    );
    // What `fstatfs` fills in: `struct statfs` on the 64-bit targets, `struct statfs64`
    // on the 32-bit ones.
    #[cfg(target_pointer_width = "64")]
    type Theirs = k::statfs;
    #[cfg(target_pointer_width = "32")]
    type Theirs = k::statfs64;
    same_layout!(
        Statfs,
        Theirs {
            f_type,
            f_bsize,
            f_blocks,
            f_bfree,
            f_bavail,
            f_files,
            f_ffree,
            f_fsid,
            f_namelen,
            f_frsize,
            f_flags,
            f_spare,
        }
    );
}

/// `statx` and `fstatfs` on real fds, against libc's `fstat` and `fstatfs`; pidfds on
/// pidfs or, before Linux 6.9, anonymous inodes.
#[test]
fn statx_and_fstatfs_describe_real_fds() {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    let fd = file.as_raw_fd();
    let mut st = sys::Statx::default();
    // SAFETY: empty path with AT_EMPTY_PATH; `st` is writable.
    unsafe {
        sys::statx(
            fd,
            c"".as_ptr().cast(),
            sys::AT_EMPTY_PATH,
            sys::STATX_INO,
            &mut st,
        )
    }
    .unwrap();
    // SAFETY: an all-zero stat is valid; libc fills it.
    let mut theirs: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `theirs` is writable.
    assert_eq!(unsafe { libc::fstat(fd, &mut theirs) }, 0);
    assert_ne!(st.stx_mask & sys::STATX_INO, 0);
    assert_eq!(st.stx_ino, theirs.st_ino as u64);
    assert_eq!(st.stx_size, theirs.st_size as u64);
    assert_eq!(
        (st.stx_dev_major, st.stx_dev_minor),
        (libc::major(theirs.st_dev), libc::minor(theirs.st_dev))
    );
    let mut fs = sys::Statfs::default();
    // SAFETY: `fs` is writable.
    unsafe { sys::fstatfs(fd, &mut fs) }.unwrap();
    // SAFETY: an all-zero statfs is valid; libc fills it.
    let mut lfs: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: `lfs` is writable.
    assert_eq!(unsafe { libc::fstatfs(fd, &mut lfs) }, 0);
    // `f_type` and friends are i64 on x86_64, i32 on x86 (both sides).
    #[allow(clippy::unnecessary_cast)]
    let widen = |a: sys::KernelLong| a as i64;
    assert_eq!(widen(fs.f_type), lfs.f_type as i64);
    assert_eq!(widen(fs.f_bsize), lfs.f_bsize as i64);
    assert_eq!(widen(fs.f_namelen), lfs.f_namelen as i64);

    // PIDFS_MAGIC (linux/magic.h of 6.9+, in no header this suite has) is "PIDF".
    assert_eq!(sys::PIDFS_MAGIC as u32, u32::from_be_bytes(*b"PIDF"));
    assert_eq!(
        sys::ANON_INODE_FS_MAGIC as u32,
        linux_raw_sys::general::ANON_INODE_FS_MAGIC
    );
    // SAFETY: the new fd is closed below.
    let pidfd = unsafe { sys::pidfd_open(sys::getpid(), 0) }.unwrap();
    // SAFETY: `fs` is writable.
    unsafe { sys::fstatfs(pidfd, &mut fs) }.unwrap();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut v = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (v.next().unwrap(), v.next().unwrap());
    let want = if version >= (6, 9) {
        sys::PIDFS_MAGIC
    } else {
        sys::ANON_INODE_FS_MAGIC
    };
    assert_eq!(
        fs.f_type, want,
        "the filesystem of pidfds on Linux {release}"
    );
    // SAFETY: ours.
    unsafe { sys::close(pidfd) }.unwrap();
}

#[test]
fn sigset_keeps_one_bit_per_signal_and_ignores_numbers_outside_1_to_64() {
    use sys::Sigset;
    let s = Sigset::EMPTY.with(1).with(64).with(0).with(65).with(-3);
    assert_eq!(s.bits(), 1 | 1 << 63);
    assert!(s.contains(1) && s.contains(64) && !s.contains(0) && !s.contains(65));
    assert_eq!(s.without(1).without(64), Sigset::EMPTY);
    assert!(Sigset::EMPTY.is_empty() && !Sigset::FULL.is_empty());
    assert_eq!(Sigset::from_bits(0x4000).bits(), 0x4000);
    assert!(Sigset::from_bits(0x4000).contains(sys::SIGTERM));
}

#[cfg(target_arch = "x86")]
#[test]
fn timeval_matches_libc_timeval() {
    // glibc's own `timeval` has the kernel's `long` fields on every target tested
    // (Debian 12's armhf glibc still defaults to a 32-bit time_t).
    same_layout!(sys::Timeval, libc::timeval { tv_sec, tv_usec });
}

#[test]
fn rlimit_matches_libc_rlimit64() {
    same_layout!(sys::Rlimit, libc::rlimit64 { rlim_cur, rlim_max });
}

/// The 32-bit targets (i386, and ARM EABI, which lays these structs out as i386 does).
#[cfg(target_pointer_width = "32")]
#[test]
fn ilp32_layout_has_the_expected_sizes_and_offsets() {
    assert_eq!(size_of::<KernelSize>(), 4);
    assert_eq!(size_of::<Iovec>(), 8);
    assert_eq!(offset_of!(Iovec, iov_len), 4);
    assert_eq!(size_of::<Cmsghdr>(), 12);
    assert_eq!(
        [
            offset_of!(Cmsghdr, cmsg_level),
            offset_of!(Cmsghdr, cmsg_type)
        ],
        [4, 8]
    );
    assert_eq!(size_of::<Msghdr>(), 28);
    assert_eq!(
        [
            offset_of!(Msghdr, msg_name),
            offset_of!(Msghdr, msg_namelen),
            offset_of!(Msghdr, msg_iov),
            offset_of!(Msghdr, msg_iovlen),
            offset_of!(Msghdr, msg_control),
            offset_of!(Msghdr, msg_controllen),
            offset_of!(Msghdr, msg_flags),
        ],
        [0, 4, 8, 12, 16, 20, 24]
    );
    assert_eq!(size_of::<Mmsghdr>(), 32);
    assert_eq!(offset_of!(Mmsghdr, msg_len), 28);
    assert_eq!(size_of::<Ucred>(), 12);
    assert_eq!(size_of::<SockaddrUn>(), 110);
}

/// The 64-bit targets (x86_64, aarch64, riscv64).
#[cfg(target_pointer_width = "64")]
#[test]
fn lp64_layout_has_the_expected_sizes_and_offsets() {
    assert_eq!(size_of::<KernelSize>(), 8);
    assert_eq!(size_of::<Iovec>(), 16);
    assert_eq!(offset_of!(Iovec, iov_len), 8);
    assert_eq!(size_of::<Cmsghdr>(), 16);
    assert_eq!(
        [
            offset_of!(Cmsghdr, cmsg_level),
            offset_of!(Cmsghdr, cmsg_type)
        ],
        [8, 12]
    );
    assert_eq!(size_of::<Msghdr>(), 56);
    assert_eq!(
        [
            offset_of!(Msghdr, msg_name),
            offset_of!(Msghdr, msg_namelen),
            offset_of!(Msghdr, msg_iov),
            offset_of!(Msghdr, msg_iovlen),
            offset_of!(Msghdr, msg_control),
            offset_of!(Msghdr, msg_controllen),
            offset_of!(Msghdr, msg_flags),
        ],
        [0, 8, 16, 24, 32, 40, 48]
    );
    assert_eq!(size_of::<Mmsghdr>(), 64);
    assert_eq!(offset_of!(Mmsghdr, msg_len), 56);
    assert_eq!(size_of::<Ucred>(), 12);
    assert_eq!(size_of::<SockaddrUn>(), 110);
}

#[test]
fn cmsg_space_and_cmsg_len_match_libc_macros() {
    let lens = (0..=64usize).chain([4 * sys::SCM_MAX_FD]);
    for len in lens {
        // SAFETY: CMSG_SPACE and CMSG_LEN are pure arithmetic on their argument.
        let (space, clen) = unsafe { (libc::CMSG_SPACE(len as u32), libc::CMSG_LEN(len as u32)) };
        assert_eq!(sys::cmsg_space(len), space as usize, "cmsg_space({len})");
        assert_eq!(sys::cmsg_len(len), clen as usize, "cmsg_len({len})");
    }
}

#[test]
fn cmsg_helpers_give_the_per_arch_numbers_for_one_fd() {
    #[cfg(target_pointer_width = "32")]
    let (len, space) = (16, 16);
    #[cfg(target_pointer_width = "64")]
    let (len, space) = (20, 24);
    assert_eq!(sys::cmsg_len(4), len);
    assert_eq!(sys::cmsg_space(4), space);
    assert_eq!(sys::cmsg_len(0), sys::cmsg_align(size_of::<Cmsghdr>()));
}

#[test]
fn kernel_size_fields_have_the_width_of_kernel_size() {
    let width = if cfg!(target_pointer_width = "32") {
        4
    } else {
        8
    };
    assert_eq!(size_of::<KernelSize>(), width);
    let iov = Iovec::from_slice(&[]);
    let msg = Msghdr::new();
    let cmsg = Cmsghdr::default();
    assert_eq!(size_of_val(&iov.iov_len), width);
    assert_eq!(size_of_val(&msg.msg_iovlen), width);
    assert_eq!(size_of_val(&msg.msg_controllen), width);
    assert_eq!(size_of_val(&cmsg.cmsg_len), width);
    // The space between a size field and the next field is exactly its width.
    assert_eq!(
        offset_of!(Msghdr, msg_control) - offset_of!(Msghdr, msg_iovlen),
        width
    );
    assert_eq!(
        offset_of!(Msghdr, msg_flags) - offset_of!(Msghdr, msg_controllen),
        width
    );
    assert_eq!(offset_of!(Cmsghdr, cmsg_level), width);
    assert_eq!(size_of::<Iovec>() - offset_of!(Iovec, iov_len), width);
}

/// The `KernelSize` stored at byte `offset` of `value`, read as raw native-endian bytes
/// (not through the field's type), so a setter that wrote fewer bytes than the field
/// has would show.
fn kernel_size_at<T>(value: &T, offset: usize) -> usize {
    assert!(offset + size_of::<KernelSize>() <= size_of::<T>());
    // SAFETY: the bytes read lie inside `*value` (checked above) and are those of one
    // initialized `KernelSize` field, as the callers pass that field's offset.
    let raw: [u8; size_of::<KernelSize>()] =
        unsafe { core::ptr::read_unaligned((value as *const T).cast::<u8>().add(offset).cast()) };
    KernelSize::from_ne_bytes(raw) as usize
}

#[test]
fn setters_store_the_full_value_in_the_kernel_size_field_and_nothing_else() {
    let value = 0x1234_5678usize;

    let mut iov = Iovec::from_slice(&[]);
    iov.iov_base = 0x1000 as *mut core::ffi::c_void;
    iov.set_len(value);
    assert_eq!(iov.len(), value);
    assert_eq!(kernel_size_at(&iov, offset_of!(Iovec, iov_len)), value);
    assert_eq!(iov.iov_base as usize, 0x1000, "iov_base untouched");

    let mut msg = Msghdr::new();
    msg.msg_namelen = 0xdead;
    msg.msg_flags = 0x0bad;
    msg.set_iovlen(value);
    msg.set_controllen(value + 1);
    assert_eq!(msg.iovlen(), value);
    assert_eq!(msg.controllen(), value + 1);
    assert_eq!(kernel_size_at(&msg, offset_of!(Msghdr, msg_iovlen)), value);
    assert_eq!(
        kernel_size_at(&msg, offset_of!(Msghdr, msg_controllen)),
        value + 1
    );
    assert_eq!((msg.msg_namelen, msg.msg_flags), (0xdead, 0x0bad));
    assert!(msg.msg_iov.is_null() && msg.msg_control.is_null());

    let mut cmsg = Cmsghdr {
        cmsg_level: sys::SOL_SOCKET,
        cmsg_type: sys::SCM_RIGHTS,
        ..Cmsghdr::default()
    };
    cmsg.set_len(value);
    assert_eq!(cmsg.len(), value);
    assert_eq!(kernel_size_at(&cmsg, offset_of!(Cmsghdr, cmsg_len)), value);
    assert_eq!(
        (cmsg.cmsg_level, cmsg.cmsg_type),
        (sys::SOL_SOCKET, sys::SCM_RIGHTS)
    );
}

#[cfg(target_pointer_width = "64")]
#[test]
fn setters_keep_values_above_4_gib_on_64_bit_targets() {
    let value = 0x1_0000_0001usize;
    let mut iov = Iovec::from_slice(&[]);
    iov.set_len(value);
    let mut msg = Msghdr::new();
    msg.set_iovlen(value);
    msg.set_controllen(value);
    let mut cmsg = Cmsghdr::default();
    cmsg.set_len(value);
    assert_eq!(
        [iov.len(), msg.iovlen(), msg.controllen(), cmsg.len()],
        [value; 4]
    );
}

#[test]
fn empty_checks_follow_the_size_fields() {
    let mut iov = Iovec::from_slice(&[]);
    assert!(iov.is_empty());
    iov.set_len(1);
    assert!(!iov.is_empty());
    let mut cmsg = Cmsghdr::default();
    assert!(cmsg.is_empty());
    cmsg.set_len(sys::cmsg_len(4));
    assert!(!cmsg.is_empty());
    assert_eq!(Msghdr::default().iovlen(), 0);
    assert_eq!(Msghdr::default().controllen(), 0);
}

proptest! {
    // Every `usize` fits a `KernelSize` on every target (32 bits on x86 and arm, 64 bits
    // on the others),
    // so every value must come back unchanged.
    #[test]
    fn any_usize_round_trips_through_every_setter(value in any::<usize>()) {
        let mut iov = Iovec::from_slice(&[]);
        iov.set_len(value);
        let mut msg = Msghdr::new();
        msg.set_iovlen(value);
        msg.set_controllen(value);
        let mut cmsg = Cmsghdr::default();
        cmsg.set_len(value);
        prop_assert_eq!(iov.len(), value);
        prop_assert_eq!(msg.iovlen(), value);
        prop_assert_eq!(msg.controllen(), value);
        prop_assert_eq!(cmsg.len(), value);
    }
}

#[test]
fn inet_vsock_and_file_handle_structs_match_libc() {
    same_layout!(
        sys::SockaddrIn,
        libc::sockaddr_in {
            sin_family,
            sin_port,
            sin_addr,
            sin_zero
        }
    );
    same_layout!(
        sys::SockaddrIn6,
        libc::sockaddr_in6 {
            sin6_family,
            sin6_port,
            sin6_flowinfo,
            sin6_addr,
            sin6_scope_id
        }
    );
    same_layout!(
        sys::SockaddrVm,
        libc::sockaddr_vm {
            svm_family,
            svm_reserved1,
            svm_port,
            svm_cid
        }
    );
    // libc folds svm_flags into svm_zero (older uapi headers): its first byte.
    assert_eq!(
        offset_of!(sys::SockaddrVm, svm_flags),
        offset_of!(libc::sockaddr_vm, svm_zero)
    );
    assert_eq!(
        size_of::<sys::SockaddrStorage>(),
        size_of::<libc::sockaddr_storage>()
    );
    assert_eq!(
        align_of::<sys::SockaddrStorage>(),
        align_of::<libc::sockaddr_storage>()
    );
    assert_eq!(
        offset_of!(sys::FileHandle, f_handle),
        offset_of!(libc::file_handle, f_handle)
    );
    assert_eq!(
        offset_of!(sys::FileHandle, handle_type),
        offset_of!(libc::file_handle, handle_type)
    );
}
