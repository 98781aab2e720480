//! Integration tests for `baremsg::Errno`: the hand-typed errno table is
//! checked against the `libc` crate's constants, plus conversions and
//! formatting.

use baremsg::Errno;

/// Every associated constant, paired with the `libc` value it must equal.
const ALL: &[(Errno, i32)] = &[
    (Errno::EPERM, libc::EPERM),
    (Errno::ENOENT, libc::ENOENT),
    (Errno::ESRCH, libc::ESRCH),
    (Errno::EINTR, libc::EINTR),
    (Errno::EIO, libc::EIO),
    (Errno::ENXIO, libc::ENXIO),
    (Errno::E2BIG, libc::E2BIG),
    (Errno::ENOEXEC, libc::ENOEXEC),
    (Errno::EBADF, libc::EBADF),
    (Errno::ECHILD, libc::ECHILD),
    (Errno::EAGAIN, libc::EAGAIN),
    (Errno::ENOMEM, libc::ENOMEM),
    (Errno::EACCES, libc::EACCES),
    (Errno::EFAULT, libc::EFAULT),
    (Errno::ENOTBLK, libc::ENOTBLK),
    (Errno::EBUSY, libc::EBUSY),
    (Errno::EEXIST, libc::EEXIST),
    (Errno::EXDEV, libc::EXDEV),
    (Errno::ENODEV, libc::ENODEV),
    (Errno::ENOTDIR, libc::ENOTDIR),
    (Errno::EISDIR, libc::EISDIR),
    (Errno::EINVAL, libc::EINVAL),
    (Errno::ENFILE, libc::ENFILE),
    (Errno::EMFILE, libc::EMFILE),
    (Errno::ENOTTY, libc::ENOTTY),
    (Errno::ETXTBSY, libc::ETXTBSY),
    (Errno::EFBIG, libc::EFBIG),
    (Errno::ENOSPC, libc::ENOSPC),
    (Errno::ESPIPE, libc::ESPIPE),
    (Errno::EROFS, libc::EROFS),
    (Errno::EMLINK, libc::EMLINK),
    (Errno::EPIPE, libc::EPIPE),
    (Errno::EDOM, libc::EDOM),
    (Errno::ERANGE, libc::ERANGE),
    (Errno::EDEADLK, libc::EDEADLK),
    (Errno::ENAMETOOLONG, libc::ENAMETOOLONG),
    (Errno::ENOLCK, libc::ENOLCK),
    (Errno::ENOSYS, libc::ENOSYS),
    (Errno::ENOTEMPTY, libc::ENOTEMPTY),
    (Errno::ELOOP, libc::ELOOP),
    (Errno::ENOMSG, libc::ENOMSG),
    (Errno::EIDRM, libc::EIDRM),
    (Errno::ECHRNG, libc::ECHRNG),
    (Errno::EL2NSYNC, libc::EL2NSYNC),
    (Errno::EL3HLT, libc::EL3HLT),
    (Errno::EL3RST, libc::EL3RST),
    (Errno::ELNRNG, libc::ELNRNG),
    (Errno::EUNATCH, libc::EUNATCH),
    (Errno::ENOCSI, libc::ENOCSI),
    (Errno::EL2HLT, libc::EL2HLT),
    (Errno::EBADE, libc::EBADE),
    (Errno::EBADR, libc::EBADR),
    (Errno::EXFULL, libc::EXFULL),
    (Errno::ENOANO, libc::ENOANO),
    (Errno::EBADRQC, libc::EBADRQC),
    (Errno::EBADSLT, libc::EBADSLT),
    (Errno::EBFONT, libc::EBFONT),
    (Errno::ENOSTR, libc::ENOSTR),
    (Errno::ENODATA, libc::ENODATA),
    (Errno::ETIME, libc::ETIME),
    (Errno::ENOSR, libc::ENOSR),
    (Errno::ENONET, libc::ENONET),
    (Errno::ENOPKG, libc::ENOPKG),
    (Errno::EREMOTE, libc::EREMOTE),
    (Errno::ENOLINK, libc::ENOLINK),
    (Errno::EADV, libc::EADV),
    (Errno::ESRMNT, libc::ESRMNT),
    (Errno::ECOMM, libc::ECOMM),
    (Errno::EPROTO, libc::EPROTO),
    (Errno::EMULTIHOP, libc::EMULTIHOP),
    (Errno::EDOTDOT, libc::EDOTDOT),
    (Errno::EBADMSG, libc::EBADMSG),
    (Errno::EOVERFLOW, libc::EOVERFLOW),
    (Errno::ENOTUNIQ, libc::ENOTUNIQ),
    (Errno::EBADFD, libc::EBADFD),
    (Errno::EREMCHG, libc::EREMCHG),
    (Errno::ELIBACC, libc::ELIBACC),
    (Errno::ELIBBAD, libc::ELIBBAD),
    (Errno::ELIBSCN, libc::ELIBSCN),
    (Errno::ELIBMAX, libc::ELIBMAX),
    (Errno::ELIBEXEC, libc::ELIBEXEC),
    (Errno::EILSEQ, libc::EILSEQ),
    (Errno::ERESTART, libc::ERESTART),
    (Errno::ESTRPIPE, libc::ESTRPIPE),
    (Errno::EUSERS, libc::EUSERS),
    (Errno::ENOTSOCK, libc::ENOTSOCK),
    (Errno::EDESTADDRREQ, libc::EDESTADDRREQ),
    (Errno::EMSGSIZE, libc::EMSGSIZE),
    (Errno::EPROTOTYPE, libc::EPROTOTYPE),
    (Errno::ENOPROTOOPT, libc::ENOPROTOOPT),
    (Errno::EPROTONOSUPPORT, libc::EPROTONOSUPPORT),
    (Errno::ESOCKTNOSUPPORT, libc::ESOCKTNOSUPPORT),
    (Errno::EOPNOTSUPP, libc::EOPNOTSUPP),
    (Errno::EPFNOSUPPORT, libc::EPFNOSUPPORT),
    (Errno::EAFNOSUPPORT, libc::EAFNOSUPPORT),
    (Errno::EADDRINUSE, libc::EADDRINUSE),
    (Errno::EADDRNOTAVAIL, libc::EADDRNOTAVAIL),
    (Errno::ENETDOWN, libc::ENETDOWN),
    (Errno::ENETUNREACH, libc::ENETUNREACH),
    (Errno::ENETRESET, libc::ENETRESET),
    (Errno::ECONNABORTED, libc::ECONNABORTED),
    (Errno::ECONNRESET, libc::ECONNRESET),
    (Errno::ENOBUFS, libc::ENOBUFS),
    (Errno::EISCONN, libc::EISCONN),
    (Errno::ENOTCONN, libc::ENOTCONN),
    (Errno::ESHUTDOWN, libc::ESHUTDOWN),
    (Errno::ETOOMANYREFS, libc::ETOOMANYREFS),
    (Errno::ETIMEDOUT, libc::ETIMEDOUT),
    (Errno::ECONNREFUSED, libc::ECONNREFUSED),
    (Errno::EHOSTDOWN, libc::EHOSTDOWN),
    (Errno::EHOSTUNREACH, libc::EHOSTUNREACH),
    (Errno::EALREADY, libc::EALREADY),
    (Errno::EINPROGRESS, libc::EINPROGRESS),
    (Errno::ESTALE, libc::ESTALE),
    (Errno::EUCLEAN, libc::EUCLEAN),
    (Errno::ENOTNAM, libc::ENOTNAM),
    (Errno::ENAVAIL, libc::ENAVAIL),
    (Errno::EISNAM, libc::EISNAM),
    (Errno::EREMOTEIO, libc::EREMOTEIO),
    (Errno::EDQUOT, libc::EDQUOT),
    (Errno::ENOMEDIUM, libc::ENOMEDIUM),
    (Errno::EMEDIUMTYPE, libc::EMEDIUMTYPE),
    (Errno::ECANCELED, libc::ECANCELED),
    (Errno::ENOKEY, libc::ENOKEY),
    (Errno::EKEYEXPIRED, libc::EKEYEXPIRED),
    (Errno::EKEYREVOKED, libc::EKEYREVOKED),
    (Errno::EKEYREJECTED, libc::EKEYREJECTED),
    (Errno::EOWNERDEAD, libc::EOWNERDEAD),
    (Errno::ENOTRECOVERABLE, libc::ENOTRECOVERABLE),
    (Errno::ERFKILL, libc::ERFKILL),
    (Errno::EHWPOISON, libc::EHWPOISON),
    (Errno::EWOULDBLOCK, libc::EWOULDBLOCK),
    (Errno::EDEADLOCK, libc::EDEADLOCK),
    (Errno::ENOTSUP, libc::ENOTSUP),
];

#[test]
fn constants_match_libc() {
    assert_eq!(ALL.len(), 131 + 3);
    for &(errno, expected) in ALL {
        assert_eq!(errno.raw(), expected, "{errno:?}");
        assert!(errno.name().is_some(), "{errno:?} has no name");
        assert!(
            errno.description().is_some(),
            "{errno:?} has no description"
        );
    }
}

#[test]
fn names_are_unique_and_match_numbers() {
    let mut named = 0;
    for raw in 1..=4095 {
        let errno = Errno::from_raw(raw);
        assert_eq!(errno.raw(), raw);
        assert_eq!(errno.name().is_some(), errno.description().is_some());
        if errno.name().is_some() {
            named += 1;
            assert!(raw <= 133, "unexpected name for {raw}");
        }
    }
    assert_eq!(named, 131);
    assert_eq!(Errno::from_raw(41).name(), None);
    assert_eq!(Errno::from_raw(58).name(), None);
}

#[test]
fn from_raw_clamps() {
    assert_eq!(Errno::from_raw(9), Errno::EBADF);
    assert_eq!(Errno::from_raw(1).raw(), 1);
    assert_eq!(Errno::from_raw(4095).raw(), 4095);
    assert_eq!(Errno::from_raw(0).raw(), 4095);
    assert_eq!(Errno::from_raw(-9).raw(), 4095);
    assert_eq!(Errno::from_raw(4096).raw(), 4095);
    assert_eq!(Errno::from_raw(i32::MAX).raw(), 4095);
    assert_eq!(Errno::from_raw(i32::MIN).raw(), 4095);
}

#[test]
fn from_ret_boundaries() {
    assert_eq!(Errno::from_ret(-1), Some(Errno::EPERM));
    assert_eq!(Errno::from_ret(-9), Some(Errno::EBADF));
    assert_eq!(Errno::from_ret(-133), Some(Errno::EHWPOISON));
    assert_eq!(Errno::from_ret(-4095).map(Errno::raw), Some(4095));
    assert_eq!(Errno::from_ret(-4096), None);
    assert_eq!(Errno::from_ret(0), None);
    assert_eq!(Errno::from_ret(5), None);
    assert_eq!(Errno::from_ret(isize::MIN), None);
    assert_eq!(Errno::from_ret(isize::MAX), None);
}

#[test]
fn ebadf_formatting() {
    let e = Errno::EBADF;
    assert_eq!(e.raw(), 9);
    assert_eq!(e.name(), Some("EBADF"));
    assert_eq!(e.description(), Some("Bad file descriptor"));
    assert_eq!(format!("{e}"), "EBADF (9): Bad file descriptor");
    assert_eq!(format!("{e:?}"), "Errno(EBADF)");
}

#[test]
fn unnamed_formatting() {
    let e = Errno::from_raw(999);
    assert_eq!(e.raw(), 999);
    assert_eq!(e.name(), None);
    assert_eq!(e.description(), None);
    assert_eq!(format!("{e}"), "errno 999");
    assert_eq!(format!("{e:?}"), "Errno(999)");
}

#[test]
fn aliases_report_primary_name() {
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
    assert_eq!(Errno::EWOULDBLOCK.name(), Some("EAGAIN"));
    assert_eq!(Errno::EDEADLOCK.name(), Some("EDEADLK"));
    assert_eq!(Errno::ENOTSUP.name(), Some("EOPNOTSUPP"));
    assert_eq!(format!("{:?}", Errno::EWOULDBLOCK), "Errno(EAGAIN)");
}

#[test]
fn usable_in_const_context() {
    const E: Option<Errno> = Errno::from_ret(-2);
    const NAME: Option<&str> = Errno::ENOENT.name();
    assert_eq!(E, Some(Errno::ENOENT));
    assert_eq!(NAME, Some("ENOENT"));
}

#[cfg(feature = "std")]
#[test]
fn std_conversions() {
    let err = std::io::Error::from(Errno::ENOENT);
    assert_eq!(err.raw_os_error(), Some(2));
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);

    let boxed: Box<dyn std::error::Error> = Box::new(Errno::EBADF);
    assert_eq!(boxed.to_string(), "EBADF (9): Bad file descriptor");
}

extern "C" {
    /// glibc 2.32+: the symbolic name of an errno (`"EBADF"`), null for an unknown one.
    fn strerrorname_np(errnum: libc::c_int) -> *const libc::c_char;
}

/// glibc's name and message for `raw`, if it names it.
fn glibc_says(raw: i32) -> Option<(String, String)> {
    // SAFETY: both return null or a pointer to a static NUL-terminated string (strerror's
    // is not kept past the next call, so it is copied at once); nothing else in this
    // test calls strerror concurrently.
    unsafe {
        let name = strerrorname_np(raw);
        if name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(name).to_str().unwrap().to_owned();
        let msg = std::ffi::CStr::from_ptr(libc::strerror(raw))
            .to_str()
            .unwrap()
            .to_owned();
        Some((name, msg))
    }
}

#[test]
fn every_name_and_description_is_glibcs() {
    for raw in 1..=4095 {
        let errno = Errno::from_raw(raw);
        let ours = errno
            .name()
            .map(|n| (n.to_owned(), errno.description().unwrap().to_owned()));
        assert_eq!(ours, glibc_says(raw), "errno {raw}");
    }
}
