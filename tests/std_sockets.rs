//! std's `UnixStream`, `UnixDatagram` and `UnixListener` passing fds and credentials
//! through baremsg's functions over any fd: no `unsafe`, no conversion between fd types,
//! and std's `File`s in and out.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::{self, UnixAddr};
use baremsg::Error;

mod files;
use files::{file_with, temp_path};

fn text_of(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn std_streams_pass_files_and_credentials() {
    let (a, b) = UnixStream::pair().unwrap();
    let file = file_with(b"a std File");
    assert_eq!(unix::send_fds(&a, b"f", &[file.as_fd()]).unwrap(), 1);
    let mut slots = [None];
    let got = unix::recv_fds(&b, &mut [0u8; 1], &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds), (1, 1));
    let fd = slots[0].take().unwrap();
    assert_ne!(fd.as_raw_fd(), file.as_raw_fd());
    assert!(baremsg::fd::is_cloexec(&fd).unwrap());
    assert_eq!(text_of(fd), "a std File");

    // Credentials, checked by the kernel.
    unix::set_pass_cred(&b, true).unwrap();
    let me = Ucred {
        pid: sys::getpid(),
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let mut buf = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = buf.encoder();
    enc.push_credentials(&me).unwrap();
    unix::send_msg(&a, &[IoSlice::new(b"c")], &enc.finish()).unwrap();
    let mut ctl = CmsgBuf::<{ space_for_credentials() + space_for_fds(1) }>::new();
    let mut data = [0u8; 4];
    let mut got = unix::recv_msg(&b, &mut [IoSliceMut::new(&mut data)], &mut ctl).unwrap();
    assert_eq!(got.control.credentials(), Some(me));
    assert_eq!(unix::peer_cred(&a).unwrap(), me);
    // std's own I/O still works on the same sockets.
    (&a).write_all(b"std").unwrap();
    let mut three = [0u8; 3];
    (&b).read_exact(&mut three).unwrap();
    assert_eq!(&three, b"std");
}

#[test]
fn std_datagrams_pass_fds_to_an_address() {
    let path = temp_path("dgram");
    let server = UnixDatagram::bind(&path).unwrap();
    let client = UnixDatagram::unbound().unwrap();
    let addr = UnixAddr::try_from(path.as_path()).unwrap();
    assert_eq!(addr.as_std_path(), Some(path.as_path()));
    let file = file_with(b"to a path");
    let mut buf = CmsgBuf::<{ space_for_fds(1) }>::new();
    let mut enc = buf.encoder();
    enc.push_rights(&[file.as_fd()]).unwrap();
    unix::send_msg_to(&client, &[IoSlice::new(b"d")], &enc.finish(), &addr).unwrap();
    let mut slots = [None];
    let got = unix::recv_fds(&server, &mut [0u8; 4], &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds), (1, 1));
    assert_eq!(text_of(slots[0].take().unwrap()), "to a path");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_std_listener_accepts_and_the_connection_passes_fds() {
    let path = temp_path("listener");
    let listener = UnixListener::bind(&path).unwrap();
    let client =
        baremsg::unix::UnixStream::connect(&UnixAddr::try_from(path.as_os_str()).unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let file = file_with(b"over an accepted std stream");
    client.send_fds(b"x", &[file.as_fd()]).unwrap();
    let mut slots = [None, None];
    let got = unix::recv_fds(&server, &mut [0u8; 1], &mut slots).unwrap();
    assert_eq!(got.fds, 1);
    assert_eq!(
        text_of(slots[0].take().unwrap()),
        "over an accepted std stream"
    );
    assert_eq!(
        unix::send_fds(&server, b"", &[file.as_fd()]),
        Err(Error::ControlWithoutPayload),
        "a std UnixStream is a stream: found with SO_TYPE"
    );
    // baremsg's listener converts into std's and accepts there.
    let path2 = temp_path("listener2");
    let ours =
        baremsg::unix::UnixListener::bind(&UnixAddr::try_from(path2.as_path()).unwrap()).unwrap();
    let theirs: UnixListener = ours.into();
    let _c = UnixStream::connect(&path2).unwrap();
    assert!(theirs.accept().is_ok());
    for p in [path, path2] {
        std::fs::remove_file(p).unwrap();
    }
}

#[test]
fn bad_paths_are_refused_as_addresses() {
    assert_eq!(
        UnixAddr::try_from(std::path::Path::new("")),
        Err(Error::InvalidAddress)
    );
    let long = "x".repeat(108);
    assert_eq!(
        UnixAddr::try_from(std::ffi::OsStr::new(&long)),
        Err(Error::InvalidAddress)
    );
    assert!(UnixAddr::try_from(std::ffi::OsStr::new(&long[..107])).is_ok());
    assert_eq!(UnixAddr::from_abstract(b"x").unwrap().as_std_path(), None);
}
