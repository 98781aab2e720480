//! `baremsg::fd` is std's `std::os::fd` with the `std` feature and baremsg's own types
//! without it. This file has no `cfg` but the last test's: the suite compiles it both
//! ways (`cargo test --all-features` and the no-std run, `cargo test --lib --tests`), so
//! every line below is code that compiles without `std` and still compiles with it.

use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use baremsg::unix::UnixStream;
use baremsg::Errno;

#[cfg(feature = "std")]
mod files;

/// Takes any fd the way library code written for both builds would.
fn raw_of(fd: impl AsFd) -> RawFd {
    fd.as_fd().as_raw_fd()
}

/// The fd is open: `F_GETFD` succeeds.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: only asks; the number is not used as an fd afterwards.
    unsafe { baremsg::sys::fcntl(fd, baremsg::sys::F_GETFD, 0) }.is_ok()
}

#[test]
fn the_fd_api_is_the_same_with_and_without_std() {
    let (r, w) = fd::pipe().unwrap();
    // The traits, on owned, borrowed, `&` and `&mut` values.
    let borrowed: BorrowedFd<'_> = r.as_fd();
    assert_eq!(borrowed.as_raw_fd(), r.as_raw_fd());
    assert_eq!(raw_of(&r), r.as_raw_fd());
    assert_eq!(raw_of(borrowed), r.as_raw_fd());
    let mut w = w;
    assert_eq!(raw_of(&mut w), w.as_raw_fd());

    // std's inherent methods: try_clone on OwnedFd, try_clone_to_owned on BorrowedFd.
    // Their error types differ between the builds (std's io::Error, baremsg's Errno),
    // so portable code unwraps them or uses `fd::try_clone`.
    let a = r.try_clone().unwrap();
    let b = borrowed.try_clone_to_owned().unwrap();
    let c: Result<OwnedFd, Errno> = fd::try_clone(&w);
    let c = c.unwrap();
    for dup in [&a, &b] {
        assert_ne!(dup.as_raw_fd(), r.as_raw_fd());
        assert!(fd::is_cloexec(dup).unwrap(), "F_DUPFD_CLOEXEC");
    }

    // The free functions: bytes written through the duplicate of the write end come
    // out of a duplicate of the read end.
    fd::write_all(&c, b"same pipe").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(fd::read(&b, &mut buf).unwrap(), 9);
    assert_eq!(&buf[..9], b"same pipe");

    // Ownership through raw numbers: into_raw_fd does not close, from_raw_fd owns again.
    let n = a.into_raw_fd();
    assert!(is_open(n));
    // SAFETY: `n` came from into_raw_fd just now; nothing else owns it.
    let a = unsafe { OwnedFd::from_raw_fd(n) };
    drop(a);
    assert!(!is_open(n), "dropping the OwnedFd closed it");

    // SAFETY: `r` outlives the borrow.
    let again = unsafe { BorrowedFd::borrow_raw(r.as_raw_fd()) };
    assert_eq!(again.as_raw_fd(), r.as_raw_fd());
    assert_eq!(
        format!("{r:?}"),
        format!("OwnedFd {{ fd: {} }}", r.as_raw_fd())
    );
}

#[test]
fn fd_flags_are_free_functions_over_any_fd() {
    let (a, _b) = UnixStream::pair().unwrap();
    assert!(fd::is_cloexec(&a).unwrap());
    fd::set_cloexec(&a, false).unwrap();
    assert!(!fd::is_cloexec(a.as_fd()).unwrap());
    fd::set_cloexec(&a, true).unwrap();
    assert!(fd::is_cloexec(&a).unwrap());

    assert!(!fd::is_nonblocking(&a).unwrap());
    fd::set_nonblocking(&a, true).unwrap();
    assert!(fd::is_nonblocking(&a).unwrap());
    assert_eq!(a.recv(&mut [0u8; 4]), Err(Errno::EAGAIN.into()));
    fd::set_nonblocking(&a, false).unwrap();
    assert!(!fd::is_nonblocking(&a).unwrap());
}

#[cfg(feature = "std")]
#[test]
fn with_std_the_fd_types_are_std_s_own() {
    use std::io::Read;
    // No conversion anywhere: std's File in, std's OwnedFd out.
    let (a, b) = UnixStream::pair().unwrap();
    let file = files::file_with(b"std's own");
    a.send_fds(b"f", &[file.as_fd()]).unwrap();
    let mut slots = [None];
    b.recv_fds(&mut [0u8; 1], &mut slots).unwrap();
    let got: Option<std::os::fd::OwnedFd> = slots[0].take();
    let mut received = std::fs::File::from(got.unwrap());
    let mut text = String::new();
    received.read_to_string(&mut text).unwrap();
    assert_eq!(text, "std's own");
    // One trait, not two: `as_fd` on a baremsg socket is not ambiguous, and a socket
    // goes into std's OwnedFd and std's socket types as it is.
    use std::os::fd::AsFd as _;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&a);
    assert_eq!(a.as_fd().as_raw_fd(), raw);
    let owned: std::os::fd::OwnedFd = a.into();
    let std_sock = std::os::unix::net::UnixStream::from(owned);
    assert_eq!(std::os::fd::IntoRawFd::into_raw_fd(std_sock), raw);
    // SAFETY: `raw` was given up by into_raw_fd just now; nothing else owns it.
    drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
}
