//! fd passing for programs that use std, through baremsg's `std` feature: a pair of
//! std `UnixStream`s becomes baremsg sockets, a std `File` travels with `SCM_RIGHTS`,
//! and what arrives is a std `File` again, with no conversion between fd types (with
//! `std`, baremsg's `OwnedFd` and `BorrowedFd` are std's). baremsg's errors convert into
//! `std::io::Error`, so `?` works in an `io::Result` function.
//!
//! ```text
//! cargo run --example std_fdpass --features std
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream as StdUnixStream;

use baremsg::unix::UnixStream;

const TEXT: &str = "written through one fd, read through another";

fn main() -> io::Result<()> {
    // std's sockets, as a program might already have them, converted without a syscall.
    let (a, b) = StdUnixStream::pair()?;
    let (a, b) = (UnixStream::from(a), UnixStream::from(b));

    // A std File; removed from the directory at once, it lives on as long as an fd
    // refers to it.
    let path = std::env::temp_dir().join(format!("baremsg-std-fdpass-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    fs::remove_file(&path)?;
    file.write_all(TEXT.as_bytes())?;
    println!(
        "sender: wrote {} bytes to a file, fd {}",
        TEXT.len(),
        file.as_raw_fd()
    );

    // With the `std` feature baremsg's fd types are std's: the File's BorrowedFd goes
    // in as is, and the borrow keeps the file open until the send is done.
    a.send_fds(b"f", &[file.as_fd()])?;
    println!("sender: passed fd {} with SCM_RIGHTS", file.as_raw_fd());

    let mut byte = [0u8; 1];
    let mut slots = [None];
    let got = b.recv_fds(&mut byte, &mut slots)?;
    let Some(fd) = slots[0].take() else {
        return Err(io::Error::other("no fd arrived"));
    };
    let cloexec = baremsg::fd::is_cloexec(&fd)?;
    // What arrives is std's OwnedFd, which becomes a File.
    let mut received = File::from(fd);
    println!(
        "receiver: got {} byte and fd {} (close-on-exec: {cloexec})",
        got.bytes,
        received.as_raw_fd()
    );

    // Both fds refer to one open file, so they share the offset: the writer left it at
    // the end, and seeking through the received fd moves it for the sender's too.
    received.seek(SeekFrom::Start(0))?;
    let mut text = String::new();
    received.read_to_string(&mut text)?;
    println!("receiver: read {text:?}");
    let offset = file.stream_position()?;
    println!("sender: the shared offset is now {offset}");

    if text != TEXT || offset != TEXT.len() as u64 || !cloexec {
        return Err(io::Error::other("what came back is not what was written"));
    }
    println!("std_fdpass: the received File reads what the sent File wrote");
    Ok(())
}
