//! Every `baremsg::sys` wrapper with a real effect, exercised against the running kernel
//! through baremsg's own functions: bytes that arrive, fds that work, flags the kernel
//! reports, errnos it returns. `libc` is used only where baremsg has no wrapper
//! (`fstat64`, `ftruncate64`, `pwrite64`, `getrlimit64`).
//!
//! Tests run in parallel threads of one process: every fd is owned by an [`fd::Fd`]
//! that closes it on drop, and names (abstract socket addresses, memfd names, temp
//! paths) carry the pid and a per-test label. Forked children only make raw syscalls
//! and end with `exit_group`.

use core::ffi::c_void;
use core::mem::{size_of, size_of_val};
use core::ptr;

use baremsg::fd::AsRawFd as _;
use baremsg::sys::{self, Cmsghdr, Iovec, Mmsghdr, Msghdr, Rlimit, SockaddrUn, Timeval, Ucred};
use baremsg::Errno;

use fd::Fd;

mod target;

/// Owned fds for the tests, and constructors that create them through baremsg.
mod fd {
    use baremsg::sys;

    /// An fd the test owns; closed (through `sys::close`) when dropped.
    #[derive(Debug)]
    pub struct Fd(i32);

    impl Fd {
        /// Takes ownership of `raw`.
        ///
        /// # Safety
        /// `raw` is open and nothing else closes it.
        pub unsafe fn from_raw(raw: i32) -> Fd {
            assert!(raw >= 0, "not an fd: {raw}");
            Fd(raw)
        }

        /// The fd number.
        pub fn raw(&self) -> i32 {
            self.0
        }

        /// Gives up ownership without closing.
        pub fn into_raw(self) -> i32 {
            let raw = self.0;
            core::mem::forget(self);
            raw
        }
    }

    impl Drop for Fd {
        fn drop(&mut self) {
            // SAFETY: the fd is owned by this value and closed only here.
            let ret = unsafe { sys::close(self.0) };
            // A failure here is a double close somewhere: make it loud, unless the test
            // is already failing (a second panic would abort).
            if !std::thread::panicking() {
                assert_eq!(ret, Ok(()), "closing fd {}", self.0);
            }
        }
    }

    /// `socketpair(AF_UNIX, ty | SOCK_CLOEXEC)`.
    pub fn socketpair(ty: i32) -> (Fd, Fd) {
        let mut fds = [-1; 2];
        // SAFETY: both new fds are wrapped right away.
        unsafe {
            sys::socketpair(sys::AF_UNIX, ty | sys::SOCK_CLOEXEC, 0, &mut fds).expect("socketpair");
            (Fd::from_raw(fds[0]), Fd::from_raw(fds[1]))
        }
    }

    /// `socket(AF_UNIX, ty | SOCK_CLOEXEC)`.
    pub fn socket(ty: i32) -> Fd {
        // SAFETY: the new fd is wrapped right away.
        unsafe {
            Fd::from_raw(sys::socket(sys::AF_UNIX, ty | sys::SOCK_CLOEXEC, 0).expect("socket"))
        }
    }

    /// `pipe2(flags)`: (read end, write end).
    pub fn pipe(flags: i32) -> (Fd, Fd) {
        let mut fds = [-1; 2];
        // SAFETY: both new fds are wrapped right away.
        unsafe {
            sys::pipe2(&mut fds, flags).expect("pipe2");
            (Fd::from_raw(fds[0]), Fd::from_raw(fds[1]))
        }
    }

    /// `memfd_create(name, MFD_CLOEXEC)`; `name` ends with a NUL byte.
    pub fn memfd(name: &[u8]) -> Fd {
        assert_eq!(name.last(), Some(&0), "memfd name must be NUL-terminated");
        // SAFETY: `name` is NUL-terminated; the new fd is wrapped right away.
        unsafe {
            Fd::from_raw(sys::memfd_create(name.as_ptr(), sys::MFD_CLOEXEC).expect("memfd_create"))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers. The ones marked "fork-safe" allocate nothing and cannot panic, so forked
// children may call them.
// ---------------------------------------------------------------------------------------

/// A control-message buffer, aligned for `Cmsghdr` on both targets.
#[repr(C, align(8))]
struct CmsgBuf([u8; 128]);

impl CmsgBuf {
    const fn new() -> Self {
        CmsgBuf([0; 128])
    }
}

/// The access-mode bits of the file status flags (`O_ACCMODE`).
const O_ACCMODE: i32 = 0o3;

/// Most fds [`send_fds`] sends and [`recv_fds`] keeps track of.
const MAX_FDS: usize = 16;

/// What one `recvmsg` returned (fork-safe).
#[derive(Debug, Clone, Copy)]
struct Received {
    /// Bytes received.
    len: usize,
    /// `msg_flags` after the call.
    flags: i32,
    /// `msg_controllen` after the call.
    controllen: usize,
    /// The fds from `SCM_RIGHTS` messages, in order.
    fds: [i32; MAX_FDS],
    /// How many entries of `fds` are valid.
    nfds: usize,
    /// The first control message's header, if any.
    first_cmsg: Option<Cmsghdr>,
    /// `cmsg_len` of the first `SCM_RIGHTS` message, if any.
    rights_len: Option<usize>,
}

/// Sends `data` with one `SCM_RIGHTS` message carrying `fds` (at most [`MAX_FDS`]) through
/// `sys::sendmsg` (fork-safe).
fn send_fds(sock: i32, data: &[u8], fds: &[i32]) -> Result<usize, Errno> {
    if fds.len() > MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let mut ctrl = CmsgBuf::new();
    let mut hdr = Cmsghdr {
        cmsg_level: sys::SOL_SOCKET,
        cmsg_type: sys::SCM_RIGHTS,
        ..Cmsghdr::default()
    };
    hdr.set_len(sys::cmsg_len(size_of_val(fds)));
    // SAFETY: `ctrl` is 8-aligned and 128 bytes: room for the header at offset 0 and
    // up to MAX_FDS ints at `cmsg_len(0)`.
    unsafe {
        let base = ctrl.0.as_mut_ptr();
        ptr::write(base.cast::<Cmsghdr>(), hdr);
        let data_ptr = base.add(sys::cmsg_len(0)).cast::<i32>();
        for (i, fd) in fds.iter().enumerate() {
            ptr::write_unaligned(data_ptr.add(i), *fd);
        }
    }
    let mut iov = [Iovec {
        iov_base: data.as_ptr() as *mut c_void,
        iov_len: 0,
    }];
    iov[0].set_len(data.len());
    let mut msg = Msghdr::new();
    msg.msg_iov = iov.as_mut_ptr();
    msg.set_iovlen(1);
    msg.msg_control = ctrl.0.as_mut_ptr().cast();
    msg.set_controllen(sys::cmsg_space(size_of_val(fds)));
    // SAFETY: `msg` points to `iov` (over `data`) and `ctrl`, all live for the call; the
    // fds are the caller's, open.
    unsafe { sys::sendmsg(sock, &msg, 0) }
}

/// Receives into `buf` through `sys::recvmsg` with a control buffer of `controllen`
/// bytes (at most 128), and collects the fds of every `SCM_RIGHTS` message (fork-safe).
/// The caller owns the fds in the result.
fn recv_fds(sock: i32, buf: &mut [u8], controllen: usize, flags: i32) -> Result<Received, Errno> {
    let mut ctrl = CmsgBuf::new();
    if controllen > ctrl.0.len() {
        return Err(Errno::EINVAL);
    }
    let mut iov = [Iovec::from_mut_slice(buf)];
    let mut msg = Msghdr::new();
    msg.msg_iov = iov.as_mut_ptr();
    msg.set_iovlen(1);
    msg.msg_control = ctrl.0.as_mut_ptr().cast();
    msg.set_controllen(controllen);
    // SAFETY: `msg` points to `iov` (over `buf`) and `ctrl`, writable and live for the
    // call; the fds installed are handed to the caller.
    let len = unsafe { sys::recvmsg(sock, &mut msg, flags) }?;
    let mut out = Received {
        len,
        flags: msg.msg_flags,
        controllen: msg.controllen(),
        fds: [-1; MAX_FDS],
        nfds: 0,
        first_cmsg: None,
        rights_len: None,
    };
    let total = if out.controllen < controllen {
        out.controllen
    } else {
        controllen
    };
    let mut off = 0;
    while off + size_of::<Cmsghdr>() <= total {
        // SAFETY: `off + size_of::<Cmsghdr>() <= total <= 128`, inside `ctrl`.
        let hdr: Cmsghdr = unsafe { ptr::read_unaligned(ctrl.0.as_ptr().add(off).cast()) };
        if hdr.len() < sys::cmsg_len(0) || off + hdr.len() > total {
            break;
        }
        if out.first_cmsg.is_none() {
            out.first_cmsg = Some(hdr);
        }
        if hdr.cmsg_level == sys::SOL_SOCKET && hdr.cmsg_type == sys::SCM_RIGHTS {
            out.rights_len = out.rights_len.or(Some(hdr.len()));
            let n = (hdr.len() - sys::cmsg_len(0)) / size_of::<i32>();
            for i in 0..n {
                // SAFETY: the int lies inside this message (`off + hdr.len() <= total`).
                let fd: i32 = unsafe {
                    ptr::read_unaligned(
                        ctrl.0
                            .as_ptr()
                            .add(off + sys::cmsg_len(0) + i * size_of::<i32>())
                            .cast(),
                    )
                };
                if out.nfds < MAX_FDS {
                    out.fds[out.nfds] = fd;
                    out.nfds += 1;
                } else {
                    // No room to report it: close it rather than leak it.
                    // SAFETY: the kernel just installed this fd for us.
                    let _ = unsafe { sys::close(fd) };
                }
            }
        }
        off += sys::cmsg_align(hdr.len());
    }
    Ok(out)
}

/// Takes ownership of the fds a [`Received`] carries.
fn own_fds(r: &Received) -> Vec<Fd> {
    r.fds[..r.nfds]
        .iter()
        // SAFETY: the kernel installed these fds for this process and nothing else
        // owns them.
        .map(|&fd| unsafe { Fd::from_raw(fd) })
        .collect()
}

/// Writes all of `data` to `fd` through `sys::write`.
fn write_all(fd: &Fd, data: &[u8]) {
    // SAFETY: `data` is readable for its length.
    let n = unsafe { sys::write(fd.raw(), data.as_ptr(), data.len()) }.expect("write");
    assert_eq!(n, data.len(), "short write");
}

/// One `sys::read` of up to `max` bytes.
fn read_some(fd: i32, max: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; max];
    // SAFETY: `buf` is writable for `max` bytes.
    let n = unsafe { sys::read(fd, buf.as_mut_ptr(), max) }?;
    buf.truncate(n);
    Ok(buf)
}

/// `fcntl(F_GETFD)`.
fn fd_flags(fd: i32) -> Result<i32, Errno> {
    // SAFETY: F_GETFD only reads the fd's flags.
    unsafe { sys::fcntl(fd, sys::F_GETFD, 0) }.map(|v| v as i32)
}

/// `fcntl(F_GETFL)`.
fn status_flags(fd: i32) -> i32 {
    // SAFETY: F_GETFL only reads the file's status flags.
    unsafe { sys::fcntl(fd, sys::F_GETFL, 0) }.expect("F_GETFL") as i32
}

/// Whether `fd` has `FD_CLOEXEC`.
fn is_cloexec(fd: i32) -> bool {
    fd_flags(fd).expect("F_GETFD") & sys::FD_CLOEXEC != 0
}

/// `fstat64(fd)` through libc (baremsg has no `fstat`).
fn fstat(fd: i32) -> libc::stat64 {
    // SAFETY: all-zero is a valid `stat64`; `st` is writable.
    let mut st: libc::stat64 = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let ret = unsafe { libc::fstat64(fd, &mut st) };
    assert_eq!(ret, 0, "fstat64({fd}): {}", std::io::Error::last_os_error());
    st
}

/// An integer socket option.
fn getsockopt_int(fd: i32, level: i32, name: i32) -> Result<(i32, u32), Errno> {
    let mut val: i32 = -1;
    let mut len = size_of::<i32>() as u32;
    // SAFETY: `val` is writable for `len` bytes.
    unsafe { sys::getsockopt(fd, level, name, (&mut val as *mut i32).cast(), &mut len) }?;
    Ok((val, len))
}

/// Sets an integer socket option.
fn setsockopt_int(fd: i32, level: i32, name: i32, val: i32) -> Result<(), Errno> {
    // SAFETY: `val` is readable for 4 bytes.
    unsafe {
        sys::setsockopt(
            fd,
            level,
            name,
            (&val as *const i32).cast(),
            size_of::<i32>() as u32,
        )
    }
}

/// An abstract-namespace address (`sun_path[0] == 0`) for `name`, unique to this process
/// and label, and its length.
fn abstract_addr(label: &str) -> (SockaddrUn, u32, Vec<u8>) {
    let name = format!("baremsg-raw-{}-{label}", sys::getpid()).into_bytes();
    let mut addr = SockaddrUn::new();
    addr.sun_path[0] = 0;
    addr.sun_path[1..1 + name.len()].copy_from_slice(&name);
    let len = (sys::SUN_PATH_OFFSET + 1 + name.len()) as u32;
    (addr, len, name)
}

/// The permissions column of the `/proc/self/maps` line covering `addr`.
fn maps_perms(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    for line in maps.lines() {
        let mut cols = line.split_whitespace();
        let range = cols.next().unwrap();
        let perms = cols.next().unwrap();
        let (lo, hi) = range.split_once('-').unwrap();
        let lo = usize::from_str_radix(lo, 16).unwrap();
        let hi = usize::from_str_radix(hi, 16).unwrap();
        if (lo..hi).contains(&addr) {
            return perms.to_string();
        }
    }
    panic!("{addr:#x} is not mapped");
}

/// Whether a line of `/proc/self/maps` names `needle`.
fn maps_mention(needle: &str) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .any(|l| l.contains(needle))
}

/// The `Pid:` line of `/proc/self/fdinfo/<fd>` (pidfds have one).
fn fdinfo_pid(fd: i32) -> Option<i32> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .map(|v| v.trim().parse().expect("Pid: value"))
}

/// A forked child, killed and reaped on drop if the test did not wait for it.
struct Child {
    pid: i32,
    reaped: bool,
}

impl Child {
    /// Forks; the child runs `body` and exits with the code it returns. `body` must only
    /// make raw syscalls: no allocation, no locks, no printing, no panics.
    fn spawn(body: impl FnOnce() -> i32) -> Child {
        // SAFETY: the child runs only `body`, which by this function's contract makes
        // raw syscalls only, then `exit_group`.
        match unsafe { sys::fork() }.expect("fork") {
            0 => sys::exit_group(body()),
            pid => Child { pid, reaped: false },
        }
    }

    /// `wait4(pid, 0)`, retried on EINTR: the wait status.
    fn wait(mut self) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: this child is ours and nobody else waits for it.
            match unsafe { sys::wait4(self.pid, &mut status, 0) } {
                Err(Errno::EINTR) => continue,
                Ok(pid) => {
                    assert_eq!(pid, self.pid);
                    break;
                }
                Err(e) => panic!("wait4: {e}"),
            }
        }
        self.reaped = true;
        status
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            let mut status = 0;
            // SAFETY: the pid is our unreaped child, so it names no other process.
            unsafe {
                let _ = sys::kill(self.pid, sys::SIGKILL);
                let _ = sys::wait4(self.pid, &mut status, 0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// sendmsg / recvmsg
// ---------------------------------------------------------------------------------------

#[test]
fn sendmsg_gathers_two_iovecs_and_recvmsg_scatters_the_bytes_in_order() {
    let (a, b) = fd::socketpair(sys::SOCK_STREAM);
    let first = b"hello, ";
    let second = b"world!";
    let mut iov = [
        Iovec {
            iov_base: first.as_ptr() as *mut c_void,
            iov_len: 0,
        },
        Iovec {
            iov_base: second.as_ptr() as *mut c_void,
            iov_len: 0,
        },
    ];
    iov[0].set_len(first.len());
    iov[1].set_len(second.len());
    let mut msg = Msghdr::new();
    msg.msg_iov = iov.as_mut_ptr();
    msg.set_iovlen(iov.len());
    // SAFETY: `msg` points to `iov`, whose buffers are live and readable.
    let sent = unsafe { sys::sendmsg(a.raw(), &msg, 0) }.expect("sendmsg");
    assert_eq!(sent, 13);

    // Receive into two buffers split elsewhere than the send: 3 bytes, then the rest.
    let mut head = [0u8; 3];
    let mut tail = [0u8; 32];
    let mut riov = [
        Iovec::from_mut_slice(&mut head),
        Iovec::from_mut_slice(&mut tail),
    ];
    let mut rmsg = Msghdr::new();
    rmsg.msg_iov = riov.as_mut_ptr();
    rmsg.set_iovlen(2);
    // SAFETY: `rmsg` points to `riov`, whose buffers are live and writable.
    let got = unsafe { sys::recvmsg(b.raw(), &mut rmsg, 0) }.expect("recvmsg");
    assert_eq!(got, 13);
    assert_eq!(&head, b"hel");
    assert_eq!(&tail[..10], b"lo, world!");
    assert_eq!(rmsg.msg_flags, 0);
    assert_eq!(rmsg.controllen(), 0);
}

#[test]
fn scm_rights_with_msg_cmsg_cloexec_delivers_a_new_working_cloexec_fd() {
    let (a, b) = fd::socketpair(sys::SOCK_STREAM);
    let (r, w) = fd::pipe(0);
    assert!(!is_cloexec(r.raw()));
    write_all(&w, b"through the passed fd");

    assert_eq!(send_fds(a.raw(), b"x", &[r.raw()]), Ok(1));
    let mut byte = [0u8; 1];
    let got = recv_fds(
        b.raw(),
        &mut byte,
        sys::cmsg_space(4),
        sys::MSG_CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    let fds = own_fds(&got);
    assert_eq!((got.len, byte), (1, *b"x"));
    assert_eq!(got.flags & sys::MSG_CTRUNC, 0);
    assert_eq!(got.controllen, sys::cmsg_space(4));
    let hdr = got.first_cmsg.expect("a control message");
    assert_eq!(
        (hdr.cmsg_level, hdr.cmsg_type, hdr.len()),
        (sys::SOL_SOCKET, sys::SCM_RIGHTS, sys::cmsg_len(4))
    );
    assert_eq!(fds.len(), 1);
    let passed = &fds[0];
    assert!(![a.raw(), b.raw(), r.raw(), w.raw()].contains(&passed.raw()));
    assert!(is_cloexec(passed.raw()), "MSG_CMSG_CLOEXEC sets FD_CLOEXEC");
    assert_eq!(
        fstat(passed.raw()).st_ino,
        fstat(r.raw()).st_ino,
        "same pipe"
    );
    assert_eq!(
        read_some(passed.raw(), 64).unwrap(),
        b"through the passed fd"
    );
}

#[test]
fn scm_rights_without_msg_cmsg_cloexec_leaves_fd_cloexec_clear() {
    let (a, b) = fd::socketpair(sys::SOCK_STREAM);
    let (r, _w) = fd::pipe(sys::O_CLOEXEC);
    assert_eq!(send_fds(a.raw(), b"y", &[r.raw()]), Ok(1));
    let mut byte = [0u8; 1];
    let got = recv_fds(b.raw(), &mut byte, sys::cmsg_space(4), 0).expect("recvmsg");
    let fds = own_fds(&got);
    assert_eq!(fds.len(), 1);
    assert!(
        !is_cloexec(fds[0].raw()),
        "FD_CLOEXEC is per fd, not passed along"
    );
}

#[test]
fn scm_rights_passes_several_fds_in_one_message_in_order() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    let (r1, w1) = fd::pipe(sys::O_CLOEXEC);
    let (r2, w2) = fd::pipe(sys::O_CLOEXEC);
    let (r3, w3) = fd::pipe(sys::O_CLOEXEC);
    write_all(&w1, b"one");
    write_all(&w2, b"two");
    write_all(&w3, b"three");
    assert_eq!(
        send_fds(a.raw(), b"3", &[r1.raw(), r2.raw(), r3.raw()]),
        Ok(1)
    );
    let mut byte = [0u8; 1];
    let got = recv_fds(
        b.raw(),
        &mut byte,
        sys::cmsg_space(12),
        sys::MSG_CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    let fds = own_fds(&got);
    assert_eq!(got.first_cmsg.unwrap().len(), sys::cmsg_len(12));
    let contents: Vec<Vec<u8>> = fds
        .iter()
        .map(|f| read_some(f.raw(), 16).unwrap())
        .collect();
    assert_eq!(contents, [&b"one"[..], b"two", b"three"]);
}

#[test]
fn recvmsg_sets_msg_ctrunc_and_keeps_only_what_fits_in_a_short_control_buffer() {
    let (a, b) = fd::socketpair(sys::SOCK_STREAM);
    let (r, w) = fd::pipe(sys::O_CLOEXEC);
    assert_eq!(send_fds(a.raw(), b"z", &[r.raw(), w.raw()]), Ok(1));
    // Room for exactly one fd (`cmsg_space(4)` would hold two on x86_64: its padding).
    let mut byte = [0u8; 1];
    let got =
        recv_fds(b.raw(), &mut byte, sys::cmsg_len(4), sys::MSG_CMSG_CLOEXEC).expect("recvmsg");
    let fds = own_fds(&got);
    assert_eq!(got.len, 1);
    // SAFETY: both ends are open for the whole test.
    let files = unsafe { [borrow(&r), borrow(&w)] };
    let received: Vec<i32> = fds.iter().map(Fd::raw).collect();
    let left_open = target::copies_of(&files, &received);
    if target::under_qemu() {
        target::qemu_note(
            "the kernel got twice the control buffer: both fds were installed, one was \
             cut off unreported and left open, and MSG_CTRUNC is not set",
        );
        assert_eq!(got.flags & sys::MSG_CTRUNC, 0, "flags {:#x}", got.flags);
        assert_eq!(left_open.len(), 1, "the write end, left open by qemu");
        let left = left_open[0].as_raw_fd();
        assert_eq!(status_flags(left) & O_ACCMODE, sys::O_WRONLY, "a write end");
    } else {
        assert_ne!(got.flags & sys::MSG_CTRUNC, 0, "flags {:#x}", got.flags);
        assert!(left_open.is_empty(), "the kernel closed the other fd");
    }
    assert_eq!(got.controllen, sys::cmsg_len(4));
    assert_eq!(got.first_cmsg.unwrap().len(), sys::cmsg_len(4));
    assert_eq!(fds.len(), 1, "the one fd that fits arrives");
    assert_eq!(fstat(fds[0].raw()).st_ino, fstat(r.raw()).st_ino);
}

/// `fd` as a [`baremsg::fd::BorrowedFd`], for the helpers of `tests/target`.
///
/// # Safety
/// `fd` stays open while the result is used.
unsafe fn borrow(fd: &Fd) -> baremsg::fd::BorrowedFd<'_> {
    // SAFETY: the caller keeps `fd` open.
    unsafe { baremsg::fd::BorrowedFd::borrow_raw(fd.raw()) }
}

/// Short control buffers of every kind, with and without credentials ahead of the fds:
/// what arrives, `MSG_CTRUNC`, `msg_controllen`, the rights' `cmsg_len`, and fds
/// installed but not reported, as `tests/target`'s `short_control` says: the kernel's
/// rule natively (none left open), qemu-user's own result under qemu.
#[test]
fn short_control_buffers_receive_what_the_kernel_rule_gives() {
    let (l0, s4, l4) = (sys::cmsg_len(0), sys::cmsg_space(4), sys::cmsg_len(4));
    let cred = sys::cmsg_space(size_of::<Ucred>());
    let cases: [(usize, bool, usize); 17] = [
        (8, false, sys::cmsg_space(32)),
        (8, false, sys::cmsg_len(32)),
        (8, false, sys::cmsg_space(8)),
        (8, false, sys::cmsg_len(12)),
        (8, false, s4),
        (8, false, l4),
        (8, false, l0),
        (8, false, l0 - 4),
        (1, false, l0 + 2),
        (16, false, sys::cmsg_space(32)),
        (3, false, sys::cmsg_space(8)),
        (8, true, cred + sys::cmsg_space(32)),
        (8, true, cred + sys::cmsg_space(8)),
        (8, true, cred),
        (8, true, cred + l0),
        (2, true, sys::cmsg_len(size_of::<Ucred>()) - 4),
        (8, false, 0),
    ];
    let mut notes = Vec::new();
    for (sent, creds, len) in cases {
        for ty in [sys::SOCK_STREAM, sys::SOCK_DGRAM] {
            let (a, b) = fd::socketpair(ty);
            if creds {
                setsockopt_int(b.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED, 1).unwrap();
            }
            let pipes: Vec<(Fd, Fd)> = (0..sent).map(|_| fd::pipe(sys::O_CLOEXEC)).collect();
            let raws: Vec<i32> = pipes.iter().map(|p| p.0.raw()).collect();
            assert_eq!(send_fds(a.raw(), b"m", &raws), Ok(1));
            let mut byte = [0u8; 1];
            let got = recv_fds(b.raw(), &mut byte, len, sys::MSG_CMSG_CLOEXEC).unwrap();
            let fds = own_fds(&got);
            // Both ends: they are one file (one inode), and neither is a copy.
            let files: Vec<_> = pipes
                .iter()
                .flat_map(|p| [&p.0, &p.1])
                // SAFETY: the pipes are open for the whole iteration.
                .map(|end| unsafe { borrow(end) })
                .collect();
            let received: Vec<i32> = fds.iter().map(Fd::raw).collect();
            let left_open = target::copies_of(&files, &received);
            let seen = target::ShortControl {
                fds: fds.len(),
                left_open: left_open.len(),
                ctrunc: got.flags & sys::MSG_CTRUNC != 0,
                controllen: got.controllen,
                rights_len: got.rights_len,
            };
            let case = format!("{sent} fds, credentials {creds}, {len} bytes, type {ty}");
            assert_eq!(seen, target::short_control(sent, creds, len), "{case}");
            // What arrives is the first fds sent, in order.
            for (f, p) in fds.iter().zip(&pipes) {
                assert_eq!(fstat(f.raw()).st_ino, fstat(p.0.raw()).st_ino, "{case}");
            }
            if seen.left_open > 0 {
                notes.push(format!("{case}: {} left open", seen.left_open));
            }
        }
    }
    if !notes.is_empty() {
        target::qemu_note(&format!(
            "fds installed but cut off, unreported: {}",
            notes.join("; ")
        ));
    }
}

#[test]
fn recvmsg_with_no_control_buffer_sets_msg_ctrunc_and_installs_no_fd() {
    let (a, b) = fd::socketpair(sys::SOCK_STREAM);
    let (r, _w) = fd::pipe(sys::O_CLOEXEC);
    assert_eq!(send_fds(a.raw(), b"q", &[r.raw()]), Ok(1));
    let mut byte = [0u8; 1];
    let got = recv_fds(b.raw(), &mut byte, 0, sys::MSG_CMSG_CLOEXEC).expect("recvmsg");
    assert_eq!((got.len, byte), (1, *b"q"));
    assert_ne!(got.flags & sys::MSG_CTRUNC, 0, "flags {:#x}", got.flags);
    assert_eq!(got.controllen, 0);
    assert_eq!(got.nfds, 0);
}

#[test]
fn so_passcred_makes_recvmsg_deliver_scm_credentials_of_the_sender() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    setsockopt_int(b.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED, 1).expect("SO_PASSCRED");
    // SAFETY: `b"c"` is readable for 1 byte; no address.
    let sent = unsafe { sys::sendto(a.raw(), b"c".as_ptr(), 1, 0, ptr::null(), 0) };
    assert_eq!(sent, Ok(1));
    let mut ctrl = CmsgBuf::new();
    let mut byte = [0u8; 1];
    let mut iov = [Iovec::from_mut_slice(&mut byte)];
    let mut msg = Msghdr::new();
    msg.msg_iov = iov.as_mut_ptr();
    msg.set_iovlen(1);
    msg.msg_control = ctrl.0.as_mut_ptr().cast();
    msg.set_controllen(sys::cmsg_space(size_of::<Ucred>()));
    // SAFETY: `msg` points to live, writable `iov` and `ctrl`; SCM_CREDENTIALS installs
    // no fd.
    let n = unsafe { sys::recvmsg(b.raw(), &mut msg, 0) }.expect("recvmsg");
    assert_eq!(n, 1);
    assert_eq!(msg.controllen(), sys::cmsg_space(size_of::<Ucred>()));
    // SAFETY: the kernel wrote a header and a `Ucred` at these offsets of `ctrl`.
    let (hdr, cred): (Cmsghdr, Ucred) = unsafe {
        (
            ptr::read(ctrl.0.as_ptr().cast()),
            ptr::read_unaligned(ctrl.0.as_ptr().add(sys::cmsg_len(0)).cast()),
        )
    };
    assert_eq!(
        (hdr.cmsg_level, hdr.cmsg_type, hdr.len()),
        (sys::SOL_SOCKET, sys::SCM_CREDENTIALS, sys::cmsg_len(12))
    );
    assert_eq!(
        cred,
        Ucred {
            pid: sys::getpid(),
            uid: sys::getuid(),
            gid: sys::getgid()
        }
    );
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

#[test]
fn memfd_written_with_write_shows_its_bytes_through_a_shared_mapping() {
    let name = "baremsg-raw-memfd-shared";
    let memfd = fd::memfd(format!("{name}\0").as_bytes());
    assert!(is_cloexec(memfd.raw()), "MFD_CLOEXEC");
    let link = std::fs::read_link(format!("/proc/self/fd/{}", memfd.raw())).unwrap();
    assert!(
        link.to_string_lossy()
            .starts_with(&format!("/memfd:{name}")),
        "{link:?}"
    );
    let data = b"bytes written with sys::write";
    write_all(&memfd, data);
    assert_eq!(fstat(memfd.raw()).st_size, data.len() as i64);

    // SAFETY: a fresh shared read-only mapping of the memfd, unmapped below, with no
    // reference into it outliving that.
    let addr = unsafe {
        sys::mmap(
            ptr::null_mut(),
            data.len(),
            sys::PROT_READ,
            sys::MAP_SHARED,
            memfd.raw(),
            0,
        )
    }
    .expect("mmap");
    assert_eq!(addr as usize % 4096, 0);
    // SAFETY: the mapping is readable for `data.len()` bytes (rounded up to a page).
    let seen = unsafe { core::slice::from_raw_parts(addr.cast::<u8>(), data.len()) }.to_vec();
    assert_eq!(seen, data);
    assert_eq!(maps_perms(addr as usize), "r--s");
    assert!(maps_mention(&format!("/memfd:{name}")));

    // SAFETY: nothing refers to the mapping any more.
    unsafe { sys::munmap(addr, data.len()) }.expect("munmap");
    assert!(!maps_mention(&format!("/memfd:{name}")), "mapping gone");
}

#[test]
fn mmap_at_a_page_aligned_offset_maps_that_page_of_the_file() {
    let memfd = fd::memfd(b"baremsg-raw-memfd-offset\0");
    let mut content = vec![b'a'; 4096];
    content.extend_from_slice(&[b'b'; 4096]);
    write_all(&memfd, &content);
    // Grow the file (sparse, zeros) well past 4096 pages, so that an offset passed in
    // the wrong unit (bytes as pages) still maps something, and fails the assert below
    // instead of faulting.
    // SAFETY: a plain call on our memfd.
    assert_eq!(unsafe { libc::ftruncate64(memfd.raw(), 4097 * 4096) }, 0);
    // SAFETY: a fresh read-only mapping, unmapped below.
    let addr = unsafe {
        sys::mmap(
            ptr::null_mut(),
            4096,
            sys::PROT_READ,
            sys::MAP_SHARED,
            memfd.raw(),
            4096,
        )
    }
    .expect("mmap at offset 4096");
    // SAFETY: the page is mapped readable.
    let page = unsafe { core::slice::from_raw_parts(addr.cast::<u8>(), 4096) }.to_vec();
    // SAFETY: nothing refers to the mapping any more.
    unsafe { sys::munmap(addr, 4096) }.expect("munmap");
    assert!(page.iter().all(|&c| c == b'b'), "second page of the file");
}

#[test]
fn mmap_offset_beyond_4_gib_is_not_truncated() {
    // A sparse 4 GiB + 8 KiB memfd with a marker on the page at 4 GiB + 4 KiB: a 32-bit
    // truncation of the offset (or of `mmap2`'s page number) would map page 1 instead,
    // marked `pg 1`.
    const HIGH: u64 = (1 << 32) + 4096;
    let memfd = fd::memfd(b"baremsg-raw-memfd-high\0");
    // SAFETY: plain calls on our memfd; the markers are readable for 4 bytes.
    unsafe {
        assert_eq!(libc::ftruncate64(memfd.raw(), (HIGH + 4096) as i64), 0);
        for (mark, at) in [(b"high", HIGH), (b"pg 1", 4096)] {
            assert_eq!(
                libc::pwrite64(memfd.raw(), mark.as_ptr().cast(), 4, at as i64),
                4
            );
        }
    }
    // SAFETY: a fresh read-only mapping, unmapped below.
    let addr = unsafe {
        sys::mmap(
            ptr::null_mut(),
            4096,
            sys::PROT_READ,
            sys::MAP_SHARED,
            memfd.raw(),
            HIGH,
        )
    }
    .expect("mmap beyond 4 GiB");
    // SAFETY: the page is mapped readable.
    let head = unsafe { core::slice::from_raw_parts(addr.cast::<u8>(), 4) }.to_vec();
    // SAFETY: nothing refers to the mapping any more.
    unsafe { sys::munmap(addr, 4096) }.expect("munmap");
    if cfg!(target_pointer_width = "32") && target::under_qemu() {
        // qemu-user 7.2 cuts a 32-bit guest's mmap2 offset to 32 bits: page 1 is
        // mapped (glibc's mmap64 in a C program under qemu-arm maps page 1 too).
        target::qemu_note("mmap2's offset is cut to 32 bits by qemu: page 1 is mapped");
        assert_eq!(head, b"pg 1");
        return;
    }
    assert_eq!(head, b"high");
}

#[test]
fn mmap_with_an_offset_not_a_multiple_of_the_page_size_is_einval() {
    let memfd = fd::memfd(b"baremsg-raw-memfd-unaligned\0");
    write_all(&memfd, &[7u8; 8192]);
    for offset in [1u64, 100, 4095, 4097] {
        // SAFETY: the call fails without mapping anything (and would otherwise only map
        // a fresh region, unmapped by nobody: the assert below then fails the test).
        let ret = unsafe {
            sys::mmap(
                ptr::null_mut(),
                4096,
                sys::PROT_READ,
                sys::MAP_SHARED,
                memfd.raw(),
                offset,
            )
        };
        assert_eq!(ret, Err(Errno::EINVAL), "offset {offset}");
    }
}

#[test]
fn mprotect_to_read_only_keeps_an_anonymous_mapping_readable() {
    let len = 4096;
    // SAFETY: a fresh anonymous private mapping, unmapped below.
    let addr = unsafe {
        sys::mmap(
            ptr::null_mut(),
            len,
            sys::PROT_READ | sys::PROT_WRITE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .expect("anonymous mmap");
    let p = addr.cast::<u8>();
    // SAFETY: the mapping is readable and writable for `len` bytes; fresh anonymous
    // memory reads as zeros.
    unsafe {
        assert_eq!(*p.add(100), 0);
        p.add(100).write(0x5a);
    }
    assert_eq!(maps_perms(addr as usize), "rw-p");
    // SAFETY: no reference into the region is written through afterwards.
    unsafe { sys::mprotect(addr, len, sys::PROT_READ) }.expect("mprotect");
    assert_eq!(maps_perms(addr as usize), "r--p");
    // SAFETY: still readable.
    assert_eq!(unsafe { p.add(100).read_volatile() }, 0x5a);
    // SAFETY: nothing refers to the mapping any more.
    unsafe { sys::munmap(addr, len) }.expect("munmap");
}

#[test]
fn munmap_of_an_unaligned_address_is_einval() {
    // SAFETY: the call is refused before anything is unmapped.
    let ret = unsafe { sys::munmap(1 as *mut c_void, 4096) };
    assert_eq!(ret, Err(Errno::EINVAL));
}

// ---------------------------------------------------------------------------------------
// Fds
// ---------------------------------------------------------------------------------------

#[test]
fn a_closed_fd_gives_ebadf_on_read_and_on_a_second_close() {
    // Work on an fd number far above what the other tests' threads get (the kernel
    // hands out the lowest free number), so none of them can reuse it once closed.
    let mut lim = Rlimit::default();
    // SAFETY: `lim` is writable.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, ptr::null(), &mut lim) }.expect("prlimit");
    let high = (lim.rlim_cur.min(4096) - 7) as i32;
    assert_eq!(fd_flags(high), Err(Errno::EBADF), "fd {high} must be free");
    let (r, w) = fd::pipe(sys::O_CLOEXEC);
    write_all(&w, b"unread");
    // SAFETY: `high` is free (checked above), so dup3 closes nothing of anyone's.
    let dup = unsafe { sys::dup3(r.raw(), high, sys::O_CLOEXEC) }.expect("dup3");
    assert_eq!(dup, high);
    // SAFETY: `high` is ours and unused afterwards but for the failing calls below.
    assert_eq!(unsafe { sys::close(high) }, Ok(()));
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is writable; the fd is closed.
    let ret = unsafe { sys::read(high, buf.as_mut_ptr(), 8) };
    assert_eq!(ret, Err(Errno::EBADF));
    // SAFETY: closing a closed fd only fails.
    assert_eq!(unsafe { sys::close(high) }, Err(Errno::EBADF));
    assert_eq!(fd_flags(high), Err(Errno::EBADF));
    // The pipe itself is untouched: its own read end still has the bytes.
    assert_eq!(read_some(r.raw(), 16).unwrap(), b"unread");
}

#[test]
fn pipe2_gives_a_working_pipe_with_the_requested_flags() {
    let (r, w) = fd::pipe(sys::O_CLOEXEC);
    let (sr, sw) = (fstat(r.raw()), fstat(w.raw()));
    assert_eq!(sr.st_mode & libc::S_IFMT, libc::S_IFIFO);
    assert_eq!(sr.st_ino, sw.st_ino, "both ends of one pipe");
    assert!(is_cloexec(r.raw()) && is_cloexec(w.raw()));
    assert_eq!(status_flags(r.raw()) & O_ACCMODE, sys::O_RDONLY);
    assert_eq!(status_flags(w.raw()) & O_ACCMODE, sys::O_WRONLY);
    write_all(&w, b"piped");
    assert_eq!(read_some(r.raw(), 16).unwrap(), b"piped");

    let (r2, _w2) = fd::pipe(0);
    assert!(!is_cloexec(r2.raw()));

    let (r3, _w3) = fd::pipe(sys::O_NONBLOCK | sys::O_CLOEXEC);
    assert_ne!(status_flags(r3.raw()) & sys::O_NONBLOCK, 0);
    assert_eq!(read_some(r3.raw(), 16), Err(Errno::EAGAIN));
}

#[test]
fn dup3_makes_a_duplicate_that_reads_the_same_pipe_with_o_cloexec() {
    let (r, w) = fd::pipe(0);
    // A number we own to duplicate onto: dup3 closes what it was.
    let (target, _other) = fd::pipe(0);
    let target_no = target.into_raw();
    // SAFETY: `target_no` is ours; dup3 replaces it atomically and we own the result.
    let dup = unsafe { Fd::from_raw(sys::dup3(r.raw(), target_no, sys::O_CLOEXEC).expect("dup3")) };
    assert_eq!(dup.raw(), target_no);
    assert!(is_cloexec(dup.raw()), "O_CLOEXEC on the duplicate");
    assert!(!is_cloexec(r.raw()), "the original keeps its flags");
    assert_eq!(fstat(dup.raw()).st_ino, fstat(r.raw()).st_ino);
    write_all(&w, b"dup");
    assert_eq!(read_some(dup.raw(), 16).unwrap(), b"dup");

    // Without O_CLOEXEC the duplicate's flag is clear, even when it was set before.
    // SAFETY: `dup` is ours; dup3 onto it keeps the same number, still owned by `dup`.
    assert_eq!(unsafe { sys::dup3(w.raw(), dup.raw(), 0) }, Ok(dup.raw()));
    assert!(!is_cloexec(dup.raw()));
    // SAFETY: dup3 refuses oldfd == newfd without touching anything.
    let ret = unsafe { sys::dup3(r.raw(), r.raw(), 0) };
    assert_eq!(ret, Err(Errno::EINVAL));
    // SAFETY: an unknown flag is refused without touching anything.
    let ret = unsafe { sys::dup3(r.raw(), dup.raw(), 1) };
    assert_eq!(ret, Err(Errno::EINVAL));
}

#[test]
fn openat_creates_writes_and_unlinkat_removes_a_temp_file() {
    let dir = std::env::temp_dir().join(format!("baremsg-raw-{}-openat", sys::getpid()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let cdir = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: the path is NUL-terminated; the fd is wrapped.
    let dirfd = unsafe {
        Fd::from_raw(
            sys::openat(
                sys::AT_FDCWD,
                cdir.as_ptr().cast(),
                sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC,
                0,
            )
            .expect("open dir"),
        )
    };
    let flags = sys::O_RDWR | sys::O_CREAT | sys::O_EXCL | sys::O_CLOEXEC;
    // SAFETY: the path is NUL-terminated; the fd is wrapped.
    let file = unsafe {
        Fd::from_raw(sys::openat(dirfd.raw(), c"f".as_ptr().cast(), flags, 0o600).expect("create"))
    };
    assert!(is_cloexec(file.raw()));
    write_all(&file, b"on disk");
    let st = fstat(file.raw());
    assert_eq!(st.st_mode & 0o777, 0o600);
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFREG);
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"on disk");
    // SAFETY: as above; O_EXCL on an existing file fails.
    let again = unsafe { sys::openat(dirfd.raw(), c"f".as_ptr().cast(), flags, 0o600) };
    assert_eq!(again, Err(Errno::EEXIST));

    // SAFETY: the path is NUL-terminated.
    unsafe { sys::unlinkat(dirfd.raw(), c"f".as_ptr().cast(), 0) }.expect("unlinkat");
    assert!(!dir.join("f").exists());
    // SAFETY: as above.
    let gone = unsafe { sys::openat(dirfd.raw(), c"f".as_ptr().cast(), sys::O_RDONLY, 0) };
    assert_eq!(gone, Err(Errno::ENOENT));
    assert_eq!(fstat(file.raw()).st_nlink, 0, "open but unlinked");
    drop(dirfd);

    // SAFETY: the path is NUL-terminated.
    let not_file = unsafe { sys::unlinkat(sys::AT_FDCWD, cdir.as_ptr().cast(), 0) };
    assert_eq!(not_file, Err(Errno::EISDIR));
    // SAFETY: as above.
    unsafe { sys::unlinkat(sys::AT_FDCWD, cdir.as_ptr().cast(), sys::AT_REMOVEDIR) }
        .expect("rmdir");
    assert!(!dir.exists());
}

#[test]
fn fcntl_setfl_o_nonblock_makes_recvfrom_on_an_empty_socket_eagain() {
    let (_a, b) = fd::socketpair(sys::SOCK_DGRAM);
    let fl = status_flags(b.raw());
    assert_eq!(fl & sys::O_NONBLOCK, 0);
    // SAFETY: F_SETFL takes an integer.
    unsafe { sys::fcntl(b.raw(), sys::F_SETFL, (fl | sys::O_NONBLOCK) as usize) }.expect("F_SETFL");
    assert_ne!(status_flags(b.raw()) & sys::O_NONBLOCK, 0);
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is writable; no address.
    let ret = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            8,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(ret, Err(Errno::EAGAIN));
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
}

#[test]
fn msg_dontwait_makes_recvfrom_on_an_empty_blocking_socket_eagain() {
    let (_a, b) = fd::socketpair(sys::SOCK_STREAM);
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is writable; no address.
    let ret = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            8,
            sys::MSG_DONTWAIT,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(ret, Err(Errno::EAGAIN));
    assert_eq!(status_flags(b.raw()) & sys::O_NONBLOCK, 0);
}

#[test]
fn fcntl_dupfd_cloexec_and_setfd_change_the_fd_flag() {
    let (r, w) = fd::pipe(0);
    // SAFETY: the new fd is wrapped.
    let dup = unsafe { Fd::from_raw(sys::fcntl(r.raw(), sys::F_DUPFD_CLOEXEC, 0).unwrap() as i32) };
    assert!(dup.raw() != r.raw() && is_cloexec(dup.raw()));
    // SAFETY: F_SETFD takes an integer.
    unsafe { sys::fcntl(dup.raw(), sys::F_SETFD, 0) }.unwrap();
    assert!(!is_cloexec(dup.raw()));
    write_all(&w, b"d");
    assert_eq!(read_some(dup.raw(), 4).unwrap(), b"d");
}

// ---------------------------------------------------------------------------------------
// Datagrams, addresses, options
// ---------------------------------------------------------------------------------------

#[test]
fn sendto_and_recvfrom_move_datagrams_over_a_dgram_pair() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    for d in [&b"first datagram"[..], b"2nd"] {
        // SAFETY: `d` is readable; no address.
        let n = unsafe { sys::sendto(a.raw(), d.as_ptr(), d.len(), 0, ptr::null(), 0) };
        assert_eq!(n, Ok(d.len()));
    }
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is writable; no address.
    let n = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            64,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(&buf[..n.unwrap()], b"first datagram");
    // SAFETY: as above.
    let n = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            64,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(&buf[..n.unwrap()], b"2nd", "datagram boundaries kept");
}

#[test]
fn recvfrom_with_msg_trunc_returns_the_full_datagram_length_and_fills_the_short_buffer() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    let send = |d: &[u8]| {
        // SAFETY: `d` is readable; no address.
        let n = unsafe { sys::sendto(a.raw(), d.as_ptr(), d.len(), 0, ptr::null(), 0) };
        assert_eq!(n, Ok(d.len()));
    };
    send(b"0123456789");
    send(b"abcdefghij");
    let mut buf = [0u8; 4];
    // SAFETY: `buf` is writable for 4 bytes; no address.
    let n = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            4,
            sys::MSG_TRUNC,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(n, Ok(10), "MSG_TRUNC: the real length");
    assert_eq!(&buf, b"0123");
    // Without the flag: the buffer's length, and the rest of the datagram is gone.
    // SAFETY: as above.
    let n = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            4,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(n, Ok(4));
    assert_eq!(&buf, b"abcd");
    // And recvmsg reports the truncation in msg_flags.
    send(b"ABCDEFGHIJ");
    let got = recv_fds(b.raw(), &mut buf, 0, 0).expect("recvmsg");
    assert_eq!((got.len, &buf), (4, b"ABCD"));
    assert_ne!(got.flags & sys::MSG_TRUNC, 0, "flags {:#x}", got.flags);
}

#[test]
fn sendto_an_abstract_address_arrives_with_the_senders_abstract_address() {
    let rx = fd::socket(sys::SOCK_DGRAM);
    let tx = fd::socket(sys::SOCK_DGRAM);
    let (rx_addr, rx_len, _) = abstract_addr("dgram-rx");
    let (tx_addr, tx_len, _) = abstract_addr("dgram-tx");
    // SAFETY: each address is readable for its length.
    unsafe {
        sys::bind(rx.raw(), (&rx_addr as *const SockaddrUn).cast(), rx_len).expect("bind rx");
        sys::bind(tx.raw(), (&tx_addr as *const SockaddrUn).cast(), tx_len).expect("bind tx");
    }
    let d = b"addressed";
    // SAFETY: `d` and `rx_addr` are readable for their lengths.
    let n = unsafe {
        sys::sendto(
            tx.raw(),
            d.as_ptr(),
            d.len(),
            0,
            (&rx_addr as *const SockaddrUn).cast(),
            rx_len,
        )
    };
    assert_eq!(n, Ok(d.len()));
    let mut buf = [0u8; 32];
    let mut from = SockaddrUn::new();
    from.sun_family = 0;
    let mut from_len = size_of::<SockaddrUn>() as u32;
    // SAFETY: `buf` and `from` are writable for their lengths.
    let n = unsafe {
        sys::recvfrom(
            rx.raw(),
            buf.as_mut_ptr(),
            buf.len(),
            0,
            (&mut from as *mut SockaddrUn).cast(),
            &mut from_len,
        )
    };
    assert_eq!(&buf[..n.unwrap()], d);
    assert_eq!(from_len, tx_len);
    assert_eq!(from, tx_addr);
}

#[test]
fn abstract_stream_listener_accepts_names_both_ends_and_shutdown_gives_eof() {
    let (addr, addr_len, name) = abstract_addr("stream-listener");
    assert_eq!(addr.sun_path[0], 0);
    assert_eq!(addr_len as usize, sys::SUN_PATH_OFFSET + 1 + name.len());
    let listener = fd::socket(sys::SOCK_STREAM);
    // SAFETY: `addr` is readable for `addr_len` bytes.
    unsafe {
        sys::bind(
            listener.raw(),
            (&addr as *const SockaddrUn).cast(),
            addr_len,
        )
    }
    .expect("bind");
    // SAFETY: plain integers.
    unsafe { sys::listen(listener.raw(), 8) }.expect("listen");
    let (acceptconn, _) =
        getsockopt_int(listener.raw(), sys::SOL_SOCKET, sys::SO_ACCEPTCONN).unwrap();
    assert_eq!(acceptconn, 1);

    let client = fd::socket(sys::SOCK_STREAM);
    // SAFETY: as for bind.
    unsafe { sys::connect(client.raw(), (&addr as *const SockaddrUn).cast(), addr_len) }
        .expect("connect");

    let mut peer = SockaddrUn::new();
    let mut peer_len = size_of::<SockaddrUn>() as u32;
    // SAFETY: `peer` is writable for `peer_len` bytes; the new fd is wrapped.
    let server = unsafe {
        Fd::from_raw(
            sys::accept4(
                listener.raw(),
                (&mut peer as *mut SockaddrUn).cast(),
                &mut peer_len,
                sys::SOCK_CLOEXEC,
            )
            .expect("accept4"),
        )
    };
    assert!(is_cloexec(server.raw()), "SOCK_CLOEXEC on the accepted fd");
    assert_eq!(status_flags(server.raw()) & sys::O_NONBLOCK, 0);
    // The client is unbound: its address is just the family.
    assert_eq!(peer_len as usize, sys::SUN_PATH_OFFSET);
    assert_eq!(peer.sun_family, sys::AF_UNIX as u16);

    let name_of = |f: &Fd, peer: bool| {
        let mut out = SockaddrUn::new();
        out.sun_family = 0;
        let mut len = size_of::<SockaddrUn>() as u32;
        let p = (&mut out as *mut SockaddrUn).cast();
        // SAFETY: `out` is writable for `len` bytes.
        let ret = unsafe {
            if peer {
                sys::getpeername(f.raw(), p, &mut len)
            } else {
                sys::getsockname(f.raw(), p, &mut len)
            }
        };
        ret.expect("get*name");
        (out, len)
    };
    assert_eq!(name_of(&listener, false), (addr, addr_len));
    assert_eq!(name_of(&client, true), (addr, addr_len));
    assert_eq!(name_of(&server, false), (addr, addr_len));

    write_all(&client, b"ping");
    assert_eq!(read_some(server.raw(), 16).unwrap(), b"ping");
    write_all(&server, b"pong");
    assert_eq!(read_some(client.raw(), 16).unwrap(), b"pong");

    // SAFETY: plain integers.
    unsafe { sys::shutdown(client.raw(), sys::SHUT_WR) }.expect("shutdown");
    assert_eq!(
        read_some(server.raw(), 16).unwrap(),
        b"",
        "EOF after SHUT_WR"
    );
    // Half-closed: the other direction still works.
    write_all(&server, b"still");
    assert_eq!(read_some(client.raw(), 16).unwrap(), b"still");
    let mut b1 = [0u8; 1];
    // SAFETY: writing after SHUT_WR fails with EPIPE (SIGPIPE suppressed).
    let ret = unsafe {
        sys::sendto(
            client.raw(),
            b1.as_mut_ptr(),
            1,
            sys::MSG_NOSIGNAL,
            ptr::null(),
            0,
        )
    };
    assert_eq!(ret, Err(Errno::EPIPE));

    // A second connection accepted with SOCK_NONBLOCK and no address buffer.
    let client2 = fd::socket(sys::SOCK_STREAM);
    // SAFETY: as for bind.
    unsafe { sys::connect(client2.raw(), (&addr as *const SockaddrUn).cast(), addr_len) }
        .expect("connect");
    // SAFETY: null address and length are allowed; the new fd is wrapped.
    let server2 = unsafe {
        Fd::from_raw(
            sys::accept4(
                listener.raw(),
                ptr::null_mut(),
                ptr::null_mut(),
                sys::SOCK_NONBLOCK,
            )
            .expect("accept4"),
        )
    };
    assert!(!is_cloexec(server2.raw()));
    assert_ne!(status_flags(server2.raw()) & sys::O_NONBLOCK, 0);
    assert_eq!(read_some(server2.raw(), 4), Err(Errno::EAGAIN));
}

#[test]
fn connect_to_an_unbound_abstract_name_is_econnrefused() {
    let (addr, len, _) = abstract_addr("nobody-listens");
    let s = fd::socket(sys::SOCK_STREAM);
    // SAFETY: `addr` is readable for `len` bytes.
    let ret = unsafe { sys::connect(s.raw(), (&addr as *const SockaddrUn).cast(), len) };
    assert_eq!(ret, Err(Errno::ECONNREFUSED));
}

#[test]
fn getsockopt_so_type_reports_sock_seqpacket() {
    let s = fd::socket(sys::SOCK_SEQPACKET);
    assert_eq!(
        getsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_TYPE),
        Ok((sys::SOCK_SEQPACKET, 4))
    );
    assert_eq!(
        getsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_DOMAIN),
        Ok((sys::AF_UNIX, 4))
    );
    let d = fd::socket(sys::SOCK_DGRAM);
    assert_eq!(
        getsockopt_int(d.raw(), sys::SOL_SOCKET, sys::SO_TYPE),
        Ok((sys::SOCK_DGRAM, 4))
    );
}

#[test]
fn setsockopt_so_passcred_is_read_back_by_getsockopt() {
    let s = fd::socket(sys::SOCK_SEQPACKET);
    assert_eq!(
        getsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED),
        Ok((0, 4))
    );
    setsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED, 1).expect("setsockopt");
    assert_eq!(
        getsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED),
        Ok((1, 4))
    );
    setsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED, 0).expect("setsockopt");
    assert_eq!(
        getsockopt_int(s.raw(), sys::SOL_SOCKET, sys::SO_PASSCRED),
        Ok((0, 4))
    );
}

#[test]
fn getsockopt_so_peercred_gives_this_process_credentials() {
    let (a, _b) = fd::socketpair(sys::SOCK_STREAM);
    let mut cred = Ucred {
        pid: -1,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = size_of::<Ucred>() as u32;
    // SAFETY: `cred` is writable for `len` bytes.
    unsafe {
        sys::getsockopt(
            a.raw(),
            sys::SOL_SOCKET,
            sys::SO_PEERCRED,
            (&mut cred as *mut Ucred).cast(),
            &mut len,
        )
    }
    .expect("SO_PEERCRED");
    assert_eq!(len, 12);
    assert_eq!(cred.pid, sys::getpid());
    // The kernel records effective ids; this test process is not set-id.
    assert_eq!((cred.uid, cred.gid), (sys::geteuid(), sys::getegid()));
    assert_eq!((cred.uid, cred.gid), (sys::getuid(), sys::getgid()));
}

#[test]
fn setsockopt_with_an_unknown_option_is_enoprotoopt() {
    let s = fd::socket(sys::SOCK_STREAM);
    assert_eq!(
        setsockopt_int(s.raw(), sys::SOL_SOCKET, 9999, 1),
        Err(Errno::ENOPROTOOPT)
    );
}

#[test]
fn socket_calls_on_a_non_socket_are_enotsock() {
    let (r, _w) = fd::pipe(sys::O_CLOEXEC);
    assert_eq!(
        getsockopt_int(r.raw(), sys::SOL_SOCKET, sys::SO_TYPE),
        Err(Errno::ENOTSOCK)
    );
    assert_eq!(send_fds(r.raw(), b"x", &[]), Err(Errno::ENOTSOCK));
}

#[test]
fn so_rcvtimeo_timeval_is_read_back_and_makes_a_blocking_recv_time_out_with_eagain() {
    let (_a, b) = fd::socketpair(sys::SOCK_DGRAM);
    let tv = Timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: `tv` is readable for its size.
    unsafe {
        sys::setsockopt(
            b.raw(),
            sys::SOL_SOCKET,
            sys::SO_RCVTIMEO,
            (&tv as *const Timeval).cast(),
            size_of::<Timeval>() as u32,
        )
    }
    .expect("SO_RCVTIMEO");
    let mut back = Timeval::default();
    let mut len = size_of::<Timeval>() as u32;
    // SAFETY: `back` is writable for `len` bytes.
    unsafe {
        sys::getsockopt(
            b.raw(),
            sys::SOL_SOCKET,
            sys::SO_RCVTIMEO,
            (&mut back as *mut Timeval).cast(),
            &mut len,
        )
    }
    .expect("getsockopt SO_RCVTIMEO");
    assert_eq!(len as usize, size_of::<Timeval>());
    // The kernel keeps the timeout in jiffies: allow for its rounding.
    assert_eq!(back.tv_sec, 0);
    assert!((90_000..=110_000).contains(&back.tv_usec), "{back:?}");

    let start = std::time::Instant::now();
    let mut buf = [0u8; 4];
    // SAFETY: `buf` is writable; no address.
    let ret = unsafe {
        sys::recvfrom(
            b.raw(),
            buf.as_mut_ptr(),
            4,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let waited = start.elapsed();
    assert_eq!(ret, Err(Errno::EAGAIN));
    assert!(waited >= std::time::Duration::from_millis(80), "{waited:?}");
}

#[test]
fn sendmmsg_and_recvmmsg_move_three_datagrams_in_one_call_each() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    let payloads: [&[u8]; 3] = [b"one", b"two!", b"three"];
    let mut iovs: Vec<Iovec> = payloads.iter().map(|p| Iovec::from_slice(p)).collect();
    let mut msgs: Vec<Mmsghdr> = (0..3)
        .map(|i| {
            let mut m = Mmsghdr::default();
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.set_iovlen(1);
            m
        })
        .collect();
    // SAFETY: each header points to one live iovec over a live payload.
    let sent = unsafe { sys::sendmmsg(a.raw(), msgs.as_mut_ptr(), 3, 0) };
    assert_eq!(sent, Ok(3));
    assert_eq!(
        msgs.iter().map(|m| m.msg_len).collect::<Vec<_>>(),
        [3, 4, 5]
    );

    let mut bufs = [[0u8; 16]; 3];
    let mut riovs: Vec<Iovec> = bufs.iter_mut().map(|b| Iovec::from_mut_slice(b)).collect();
    let mut rmsgs: Vec<Mmsghdr> = (0..3)
        .map(|i| {
            let mut m = Mmsghdr::default();
            m.msg_hdr.msg_iov = &mut riovs[i];
            m.msg_hdr.set_iovlen(1);
            m
        })
        .collect();
    // SAFETY: each header points to one live iovec over a writable buffer.
    let got = unsafe { sys::recvmmsg(b.raw(), rmsgs.as_mut_ptr(), 3, sys::MSG_DONTWAIT) };
    assert_eq!(got, Ok(3));
    for (i, p) in payloads.iter().enumerate() {
        assert_eq!(rmsgs[i].msg_len as usize, p.len());
        assert_eq!(&bufs[i][..p.len()], *p);
        assert_eq!(rmsgs[i].msg_hdr.msg_flags, 0);
    }
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

#[test]
fn forked_child_reads_a_pipe_end_passed_over_a_socketpair_and_exits_zero() {
    const PAYLOAD: &[u8] = b"bytes for the child";
    let (parent_sock, child_sock) = fd::socketpair(sys::SOCK_STREAM);
    let (r, w) = fd::pipe(sys::O_CLOEXEC);
    write_all(&w, PAYLOAD);
    let child_raw = child_sock.raw();
    let child = Child::spawn(|| {
        let mut byte = [0u8; 1];
        let got = match recv_fds(
            child_raw,
            &mut byte,
            sys::cmsg_space(4),
            sys::MSG_CMSG_CLOEXEC,
        ) {
            Ok(g) => g,
            Err(_) => return 10,
        };
        if got.len != 1 || byte[0] != b'!' {
            return 11;
        }
        if got.nfds != 1 {
            return 12;
        }
        let passed = got.fds[0];
        let mut buf = [0u8; 64];
        // SAFETY: `buf` is writable for its length.
        let n = match unsafe { sys::read(passed, buf.as_mut_ptr(), buf.len()) } {
            Ok(n) => n,
            Err(_) => return 13,
        };
        if buf.get(..n) != Some(PAYLOAD) {
            return 14;
        }
        // SAFETY: the fd was installed for this process by recvmsg.
        if unsafe { sys::close(passed) }.is_err() {
            return 15;
        }
        0
    });
    // The parent keeps no read access of its own: it passes `r` and closes it.
    assert_eq!(send_fds(parent_sock.raw(), b"!", &[r.raw()]), Ok(1));
    drop(r);
    let status = child.wait();
    assert!(sys::wifexited(status), "status {status:#x}");
    assert!(!sys::wifsignaled(status));
    assert_eq!(
        sys::wexitstatus(status),
        0,
        "child failed at step {}",
        sys::wexitstatus(status)
    );
}

#[test]
fn exit_group_code_is_what_wait4_reports() {
    let status = Child::spawn(|| 42).wait();
    assert!(sys::wifexited(status));
    assert_eq!(sys::wexitstatus(status), 42);
    let status = Child::spawn(|| 255).wait();
    assert_eq!(sys::wexitstatus(status), 255);
}

#[test]
fn child_killed_with_sigkill_is_reported_as_signaled_by_9() {
    let (r, _w) = fd::pipe(sys::O_CLOEXEC);
    let r_raw = r.raw();
    let child = Child::spawn(|| {
        let mut b = [0u8; 1];
        // Blocks: nobody writes to the pipe (the parent holds the write end open).
        // SAFETY: `b` is writable for one byte.
        let _ = unsafe { sys::read(r_raw, b.as_mut_ptr(), 1) };
        3
    });
    let mut status = 0;
    // SAFETY: `child.pid` is our child.
    let ret = unsafe { sys::wait4(child.pid, &mut status, sys::WNOHANG) };
    assert_eq!(ret, Ok(0), "still running");
    // SAFETY: `child.pid` is our unreaped child.
    unsafe { sys::kill(child.pid, sys::SIGKILL) }.expect("kill");
    let status = child.wait();
    assert!(sys::wifsignaled(status), "status {status:#x}");
    assert!(!sys::wifexited(status));
    assert_eq!(sys::wtermsig(status), 9);
    assert_eq!(sys::wtermsig(status), sys::SIGKILL);
}

#[test]
fn wait4_without_children_to_wait_for_is_echild() {
    let mut status = 0;
    // SAFETY: pid 1 is never our child: the call only fails.
    let ret = unsafe { sys::wait4(1, &mut status, sys::WNOHANG) };
    assert_eq!(ret, Err(Errno::ECHILD));
}

#[test]
fn getppid_names_the_parent_seen_from_a_child() {
    let parent = sys::getpid();
    let status = Child::spawn(move || if sys::getppid() == parent { 0 } else { 1 }).wait();
    assert_eq!(sys::wexitstatus(status), 0);
    assert_ne!(sys::getppid(), sys::getpid());
}

#[test]
fn execve_in_a_child_runs_the_program_with_its_arguments() {
    // Everything the child needs is built before the fork.
    let path = c"/bin/sh";
    let argv: [*const u8; 4] = [
        c"sh".as_ptr().cast(),
        c"-c".as_ptr().cast(),
        c"exit 7".as_ptr().cast(),
        ptr::null(),
    ];
    let envp: [*const u8; 1] = [ptr::null()];
    let status = Child::spawn(|| {
        // SAFETY: NUL-terminated path; null-terminated arrays of NUL-terminated strings.
        let _err = unsafe { sys::execve(path.as_ptr().cast(), argv.as_ptr(), envp.as_ptr()) };
        100
    })
    .wait();
    assert!(sys::wifexited(status), "status {status:#x}");
    assert_eq!(sys::wexitstatus(status), 7, "the shell ran `exit 7`");
}

#[test]
fn execve_of_a_missing_program_returns_enoent() {
    let path = c"/nonexistent/baremsg-no-such-program";
    let argv: [*const u8; 2] = [path.as_ptr().cast(), ptr::null()];
    let envp: [*const u8; 1] = [ptr::null()];
    // In a child all the same: a successful execve would replace the test process.
    let status = Child::spawn(|| {
        // SAFETY: NUL-terminated path; null-terminated arrays of NUL-terminated strings.
        match unsafe { sys::execve(path.as_ptr().cast(), argv.as_ptr(), envp.as_ptr()) } {
            Errno::ENOENT => 0,
            _ => 1,
        }
    })
    .wait();
    assert_eq!(sys::wexitstatus(status), 0, "execve did not return ENOENT");
}

#[test]
fn prctl_set_no_new_privs_is_read_back_by_get_no_new_privs() {
    const PR_GET_NO_NEW_PRIVS: i32 = 39;
    const PR_GET_PDEATHSIG: i32 = 2;
    assert_eq!(PR_GET_NO_NEW_PRIVS, libc::PR_GET_NO_NEW_PRIVS);
    assert_eq!(PR_GET_PDEATHSIG, libc::PR_GET_PDEATHSIG);
    // In a child: both settings are irreversible or per-process.
    let status = Child::spawn(|| {
        // SAFETY: integer arguments only.
        if unsafe { sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != Ok(0) {
            return 1;
        }
        // SAFETY: integer arguments only.
        if unsafe { sys::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) } != Ok(1) {
            return 2;
        }
        // SAFETY: integer arguments only.
        if unsafe { sys::prctl(sys::PR_SET_PDEATHSIG, sys::SIGTERM as usize, 0, 0, 0) }.is_err() {
            return 3;
        }
        let mut sig: i32 = 0;
        // SAFETY: PR_GET_PDEATHSIG writes one int at the pointer, which is `sig`.
        let ret = unsafe { sys::prctl(PR_GET_PDEATHSIG, (&mut sig as *mut i32) as usize, 0, 0, 0) };
        if ret != Ok(0) || sig != sys::SIGTERM {
            return 4;
        }
        0
    })
    .wait();
    assert!(sys::wifexited(status));
    assert_eq!(
        sys::wexitstatus(status),
        0,
        "failed at step {}",
        sys::wexitstatus(status)
    );
}

#[test]
fn prlimit_reads_the_same_nofile_limit_as_libc() {
    let mut old = Rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `old` is writable; nothing is set.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, ptr::null(), &mut old) }.expect("prlimit");
    assert!(old.rlim_cur >= 3 && old.rlim_cur <= old.rlim_max, "{old:?}");
    // SAFETY: all-zero is a valid rlimit64; `theirs` is writable.
    let mut theirs: libc::rlimit64 = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let ret = unsafe { libc::getrlimit64(libc::RLIMIT_NOFILE, &mut theirs) };
    assert_eq!(ret, 0);
    assert_eq!(
        (old.rlim_cur, old.rlim_max),
        (theirs.rlim_cur, theirs.rlim_max)
    );

    // By pid, and setting the same values back returns the previous ones.
    let mut by_pid = Rlimit::default();
    let mut prev = Rlimit::default();
    // SAFETY: `old` is readable, `by_pid` and `prev` writable; the limit is unchanged.
    unsafe {
        sys::prlimit(sys::getpid(), sys::RLIMIT_NOFILE, ptr::null(), &mut by_pid).unwrap();
        sys::prlimit(0, sys::RLIMIT_NOFILE, &old, &mut prev).unwrap();
    }
    assert_eq!(by_pid, old);
    assert_eq!(prev, old);
    let mut bad = Rlimit::default();
    // SAFETY: as above; an unknown resource is refused.
    let ret = unsafe { sys::prlimit(0, 9999, ptr::null(), &mut bad) };
    assert_eq!(ret, Err(Errno::EINVAL));
}

#[test]
fn pidfd_open_of_this_process_gives_a_cloexec_pidfd_naming_it() {
    // SAFETY: the new fd is wrapped below.
    let pidfd = match unsafe { sys::pidfd_open(sys::getpid(), 0) } {
        Err(Errno::ENOSYS) => {
            println!("skipped: pidfd_open is not available on this kernel (ENOSYS)");
            return;
        }
        // SAFETY: a new fd for us.
        ret => unsafe { Fd::from_raw(ret.expect("pidfd_open")) },
    };
    assert!(is_cloexec(pidfd.raw()), "pidfds are always close-on-exec");
    assert_eq!(fdinfo_pid(pidfd.raw()), Some(sys::getpid()));
    // SAFETY: an unknown flag is refused without creating an fd.
    let ret = unsafe { sys::pidfd_open(sys::getpid(), 1) };
    assert_eq!(ret, Err(Errno::EINVAL));
}

#[test]
fn so_passpidfd_receiver_gets_an_scm_pidfd_message_with_a_pidfd_of_the_sender() {
    let (a, b) = fd::socketpair(sys::SOCK_DGRAM);
    match setsockopt_int(b.raw(), sys::SOL_SOCKET, sys::SO_PASSPIDFD, 1) {
        Err(e) if target::qemu_refused_passpidfd(e) => return,
        Err(e @ (Errno::ENOPROTOOPT | Errno::EINVAL)) => {
            println!("skipped: SO_PASSPIDFD refused ({e}): kernel older than 6.5");
            return;
        }
        ret => ret.expect("SO_PASSPIDFD"),
    }
    // SAFETY: one readable byte; no address.
    let sent = unsafe { sys::sendto(a.raw(), b"p".as_ptr(), 1, 0, ptr::null(), 0) };
    assert_eq!(sent, Ok(1));

    let mut ctrl = CmsgBuf::new();
    let mut byte = [0u8; 1];
    let mut iov = [Iovec::from_mut_slice(&mut byte)];
    let mut msg = Msghdr::new();
    msg.msg_iov = iov.as_mut_ptr();
    msg.set_iovlen(1);
    msg.msg_control = ctrl.0.as_mut_ptr().cast();
    msg.set_controllen(ctrl.0.len());
    // SAFETY: `msg` points to live, writable `iov` and `ctrl`; the pidfd the kernel
    // installs is closed below.
    let n = unsafe { sys::recvmsg(b.raw(), &mut msg, sys::MSG_CMSG_CLOEXEC) }.expect("recvmsg");
    assert_eq!((n, byte), (1, *b"p"));
    assert_eq!(msg.msg_flags & sys::MSG_CTRUNC, 0);

    // Walk the control messages; own every fd that arrived before asserting anything.
    let mut pidfds = Vec::new();
    let mut types = Vec::new();
    let mut off = 0;
    while off + size_of::<Cmsghdr>() <= msg.controllen() {
        // SAFETY: within the part of `ctrl` the kernel filled.
        let hdr: Cmsghdr = unsafe { ptr::read(ctrl.0.as_ptr().add(off).cast()) };
        types.push((hdr.cmsg_level, hdr.cmsg_type, hdr.len()));
        if hdr.cmsg_level == sys::SOL_SOCKET && hdr.cmsg_type == sys::SCM_PIDFD {
            // SAFETY: an SCM_PIDFD message holds one int, a new fd of ours.
            let fd: i32 =
                unsafe { ptr::read_unaligned(ctrl.0.as_ptr().add(off + sys::cmsg_len(0)).cast()) };
            // SAFETY: as above.
            pidfds.push(unsafe { Fd::from_raw(fd) });
        }
        off += sys::cmsg_align(hdr.len().max(1));
    }
    assert_eq!(sys::SCM_PIDFD, 4);
    assert_eq!(types, [(sys::SOL_SOCKET, sys::SCM_PIDFD, sys::cmsg_len(4))]);
    assert_eq!(pidfds.len(), 1);
    assert!(is_cloexec(pidfds[0].raw()));
    assert_eq!(
        fdinfo_pid(pidfds[0].raw()),
        Some(sys::getpid()),
        "a pidfd of the sender"
    );
}
