//! The demo: a parent process passes a memfd holding a message and the write end of a
//! pipe to its child over a Unix socket (`SCM_RIGHTS`). The child maps the memfd, reads
//! the message, writes a reply into the pipe and sends its credentials back
//! (`SCM_CREDENTIALS`); the parent checks that the kernel vouches for the child's pid,
//! uid and gid, and reads the reply. Each side prints the fd numbers it sees.
//!
//! ```text
//! cargo run --example fdpass
//! ```
//!
//! Exit status 0 when every check held; 1, with a line saying what failed, otherwise.
//!
//! The parent uses std to print. The forked child does not touch std (nothing that
//! allocates or locks, as `sys::fork` asks): it formats its lines in a buffer on its
//! stack and writes them to fd 1 with baremsg's `fd::write_all`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use baremsg::cmsg::{space_for_credentials, space_for_fds, CmsgBuf, Message};
use baremsg::fd::{self, AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::io::{IoSlice, IoSliceMut};
use baremsg::sys::{self, Ucred};
use baremsg::unix::UnixStream;
use baremsg::Error;

/// What the parent puts in the memfd.
const MESSAGE: &[u8] = b"hello from the parent, through shared memory";
/// What the child's reply starts with; the message it read follows.
const REPLY_PREFIX: &[u8] = b"child read: ";
/// Room for the child's reply.
const REPLY_MAX: usize = 128;

fn main() -> ExitCode {
    match parent() {
        Ok(()) => {
            println!("fdpass: all checks passed");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("fdpass: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Turns a baremsg error into the demo's failure message.
fn ctx(what: &str) -> impl FnOnce(Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn parent() -> Result<(), String> {
    let (mine, theirs) = UnixStream::pair().map_err(ctx("socketpair"))?;
    mine.set_pass_cred(true).map_err(ctx("SO_PASSCRED"))?;
    println!(
        "parent (pid {}): socketpair: parent end fd {}, child end fd {}; SO_PASSCRED on the parent end",
        sys::getpid(),
        mine.as_raw_fd(),
        theirs.as_raw_fd()
    );
    // Anything still buffered would be printed twice: once by each process.
    let _ = std::io::stdout().flush();

    // SAFETY: this program has one thread; the child makes raw syscalls only and ends
    // with exit_group, never returning into std.
    let pid = unsafe { sys::fork() }.map_err(|e| format!("fork: {e}"))?;
    if pid == 0 {
        drop(mine);
        sys::exit_group(child(theirs));
    }
    drop(theirs);
    println!("parent: forked child pid {pid}");

    // `talk` makes the memfd and the pipe now, after the fork: the child can only have
    // them through the socket.
    let outcome = talk(&mine, pid);
    drop(mine); // if the parent gave up early, the child now reads end-of-file
    let mut status = 0;
    // SAFETY: `pid` is our child and nothing else waits for it.
    unsafe { sys::wait4(pid, &mut status, 0) }.map_err(|e| format!("wait4: {e}"))?;
    let how = if sys::wifexited(status) {
        format!("exited with status {}", sys::wexitstatus(status))
    } else {
        format!("was killed by signal {}", sys::wtermsig(status))
    };
    let child_ok = sys::wifexited(status) && sys::wexitstatus(status) == 0;
    match (outcome, child_ok) {
        (Ok(()), true) => {
            println!("parent: child exited with status 0");
            Ok(())
        }
        (Ok(()), false) => Err(format!("the child {how}")),
        (Err(why), true) => Err(why),
        (Err(why), false) => Err(format!("{why} (and the child {how})")),
    }
}

/// The parent's side of the conversation with child `pid`.
fn talk(sock: &UnixStream, pid: i32) -> Result<(), String> {
    let memfd = fd::memfd_create(c"baremsg-demo", 0).map_err(|e| format!("memfd_create: {e}"))?;
    fd::write_all(memfd.as_fd(), MESSAGE).map_err(|e| format!("writing the memfd: {e}"))?;
    let (reply_r, reply_w) = fd::pipe().map_err(|e| format!("pipe: {e}"))?;
    println!(
        "parent: memfd fd {} holds {:?} ({} bytes); pipe: read end fd {}, write end fd {}",
        memfd.as_raw_fd(),
        String::from_utf8_lossy(MESSAGE),
        MESSAGE.len(),
        reply_r.as_raw_fd(),
        reply_w.as_raw_fd()
    );

    // The payload says how long the message is, so the child knows how much to map.
    let len = (MESSAGE.len() as u32).to_ne_bytes();
    // Printed before sending, so that it comes before the child's lines.
    println!(
        "parent: sending fds {} (memfd) and {} (pipe write end) with SCM_RIGHTS",
        memfd.as_raw_fd(),
        reply_w.as_raw_fd()
    );
    let _ = std::io::stdout().flush();
    sock.send_fds(&len, &[memfd.as_fd(), reply_w.as_fd()])
        .map_err(ctx("sending the fds"))?;
    // Our copies are no longer needed; the pipe ends at EOF once the child closes its.
    drop((memfd, reply_w));

    let mut payload = [0u8; 8];
    let mut buf = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut got = sock
        .recv_msg(&mut [IoSliceMut::new(&mut payload)], &mut buf)
        .map_err(ctx("receiving the credentials"))?;
    let cred = got
        .control
        .credentials()
        .ok_or("the child's message carried no credentials")?;
    let want = Ucred {
        pid,
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    if cred != want {
        return Err(format!(
            "credentials: got pid {} uid {} gid {}, want the child's pid {} and our uid {} gid {}",
            cred.pid, cred.uid, cred.gid, want.pid, want.uid, want.gid
        ));
    }
    println!(
        "parent: SCM_CREDENTIALS from the child: pid {}, uid {}, gid {}: the child's pid, our uid and gid",
        cred.pid, cred.uid, cred.gid
    );

    let reply = read_to_end(reply_r.as_fd()).map_err(|e| format!("reading the pipe: {e}"))?;
    let want = [REPLY_PREFIX, MESSAGE].concat();
    if reply != want {
        return Err(format!(
            "the pipe read {:?}, want {:?}",
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(&want)
        ));
    }
    println!(
        "parent: read from the pipe (fd {}): {:?}",
        reply_r.as_raw_fd(),
        String::from_utf8_lossy(&reply)
    );
    Ok(())
}

fn read_to_end(fd: BorrowedFd<'_>) -> Result<Vec<u8>, baremsg::Errno> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        match fd::read(fd, &mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(baremsg::Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// A line of text built on the stack: the child must not allocate.
struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Self {
            buf: [0; 256],
            len: 0,
        }
    }

    /// Writes the line and a newline to fd 1 (the child's stdout).
    fn print(mut self) {
        let _ = self.write_str("\n");
        // SAFETY: fd 1 is the process's stdout, which nothing in the child closes; if it
        // is not open, the write fails with EBADF.
        let stdout = unsafe { BorrowedFd::borrow_raw(1) };
        let _ = fd::write_all(stdout, &self.buf[..self.len]);
    }
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = &mut self.buf[self.len..];
        let n = s.len().min(room.len());
        room[..n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints one line from the child: `say!("format", args...)`.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = Line::new();
        let _ = write!(line, $($arg)*);
        line.print();
    }};
}

/// The child: raw syscalls and stack buffers only. Returns its exit status.
fn child(sock: UnixStream) -> i32 {
    match child_checks(&sock) {
        Ok(()) => 0,
        Err(why) => {
            say!("child: FAILED: {why}");
            1
        }
    }
}

fn child_checks(sock: &UnixStream) -> Result<(), &'static str> {
    let me = sys::getpid();
    let mut len = [0u8; 4];
    let mut buf = CmsgBuf::<{ space_for_fds(2) }>::new();
    let mut got = sock
        .recv_msg(&mut [IoSliceMut::new(&mut len)], &mut buf)
        .map_err(|_| "recvmsg failed")?;
    if got.bytes == 0 {
        return Err("the parent closed the socket without sending anything");
    }
    if got.bytes != len.len() || got.is_control_truncated() {
        return Err("the message or its fds were cut short");
    }
    let mut fds: [Option<OwnedFd>; 2] = [None, None];
    for msg in got.control.messages() {
        if let Ok(Message::Rights(rights)) = msg {
            for (slot, fd) in fds.iter_mut().filter(|s| s.is_none()).zip(rights) {
                *slot = Some(fd);
            }
        }
    }
    let [Some(memfd), Some(reply)] = fds else {
        return Err("two fds were sent, fewer arrived");
    };
    say!(
        "child (pid {me}): received fds {} (memfd) and {} (pipe write end) with SCM_RIGHTS",
        memfd.as_raw_fd(),
        reply.as_raw_fd()
    );

    let len = u32::from_ne_bytes(len) as usize;
    if len == 0 || REPLY_PREFIX.len() + len > REPLY_MAX {
        return Err("the message length is out of range");
    }
    let mut text = [0u8; REPLY_MAX];
    text[..REPLY_PREFIX.len()].copy_from_slice(REPLY_PREFIX);
    // SAFETY: a fresh read-only mapping of the memfd, placed by the kernel (no
    // MAP_FIXED); it is read only through `bytes` below and unmapped after.
    let map = unsafe {
        sys::mmap(
            core::ptr::null_mut(),
            len,
            sys::PROT_READ,
            sys::MAP_SHARED,
            memfd.as_raw_fd(),
            0,
        )
    }
    .map_err(|_| "mmap of the memfd failed")?;
    {
        // SAFETY: the mapping is `len` bytes long, readable, and the parent wrote `len`
        // bytes into the memfd before sending it, so none of it is past the file's end.
        let bytes = unsafe { core::slice::from_raw_parts(map.cast::<u8>(), len) };
        text[REPLY_PREFIX.len()..][..len].copy_from_slice(bytes);
    }
    // SAFETY: `bytes` is gone; nothing refers to the mapping.
    let _ = unsafe { sys::munmap(map, len) };
    let message = &text[REPLY_PREFIX.len()..][..len];
    say!(
        "child: mapped the memfd (mmap, MAP_SHARED, PROT_READ): {:?}",
        core::str::from_utf8(message).unwrap_or("<not UTF-8>")
    );

    let reply_text = &text[..REPLY_PREFIX.len() + len];
    fd::write_all(reply.as_fd(), reply_text).map_err(|_| "writing the reply failed")?;
    drop(reply);
    say!(
        "child: wrote {} bytes to the pipe and closed it; sending SCM_CREDENTIALS",
        reply_text.len()
    );

    let cred = Ucred {
        pid: me,
        uid: sys::getuid(),
        gid: sys::getgid(),
    };
    let mut buf = CmsgBuf::<{ space_for_credentials() }>::new();
    let mut enc = buf.encoder();
    enc.push_credentials(&cred)
        .map_err(|_| "encoding the credentials failed")?;
    sock.send_msg(&[IoSlice::new(b"done")], &enc.finish())
        .map_err(|_| "sending the credentials failed")?;
    Ok(())
}
