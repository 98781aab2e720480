//! The kernel structs baremsg declares itself, against the `libc` crate's declarations
//! of the same structs on the target compiled for: size, alignment and every field
//! offset; plus the numbers expected on each architecture, the control-message size
//! helpers against `CMSG_SPACE`/`CMSG_LEN`, and the width and round trip of the
//! `KernelSize` fields behind their setters.

use core::mem::{align_of, offset_of, size_of, size_of_val};

use baremsg::sys::{self, Cmsghdr, Iovec, KernelSize, Mmsghdr, Msghdr, SockaddrUn, Ucred};
use proptest::prelude::*;

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
