//! Fd passing from async code: two tasks on a tokio runtime pass a file over a
//! `tokio::net::UnixStream` with baremsg's functions, inside tokio's `async_io`, with
//! no `unsafe` and no conversion between fd types; what arrives is read as a
//! `tokio::fs::File`.
//!
//! ```text
//! cargo run --example tokio_fdpass --features std
//! ```

use std::io;
use std::os::fd::AsFd;

use baremsg::unix;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::UnixStream;

fn main() -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (a, b) = UnixStream::pair()?;

        let receiver = tokio::spawn(async move {
            let mut byte = [0u8; 1];
            let mut slots = [None];
            // Waits until `b` is readable, then receives; an EAGAIN (another reader was
            // faster) makes async_io wait again.
            let got = b
                .async_io(Interest::READABLE, || {
                    Ok(unix::recv_fds(&b, &mut byte, &mut slots)?)
                })
                .await?;
            let fd = slots[0]
                .take()
                .ok_or_else(|| io::Error::other("no fd arrived"))?;
            println!(
                "receiver: {} byte and {} fd (close-on-exec: {})",
                got.bytes,
                got.fds,
                baremsg::fd::is_cloexec(&fd)?
            );
            let mut file = tokio::fs::File::from_std(std::fs::File::from(fd));
            let mut text = String::new();
            file.read_to_string(&mut text).await?;
            println!("receiver: read {text:?} through the passed fd");
            io::Result::Ok(text)
        });

        let path = std::env::temp_dir().join(format!("baremsg-tokio-{}", std::process::id()));
        let mut file = tokio::fs::File::create(&path).await?;
        file.write_all(b"hello from another task").await?;
        drop(file);
        let file = std::fs::File::open(&path)?;
        tokio::fs::remove_file(&path).await?;
        a.async_io(Interest::WRITABLE, || {
            Ok(unix::send_fds(&a, b"f", &[file.as_fd()])?)
        })
        .await?;
        println!("sender: passed the file's fd with SCM_RIGHTS");

        let text = receiver.await.map_err(io::Error::other)??;
        if text != "hello from another task" {
            return Err(io::Error::other("the receiver read something else"));
        }
        println!("tokio_fdpass: the receiving task read what the sending task wrote");
        Ok(())
    })
}
