//! i386: how syscalls enter the kernel. Through the vDSO's `__kernel_vsyscall` when the
//! auxiliary vector has `AT_SYSINFO`, else with `int 0x80`; both ways are exercised here,
//! every stub arity (0 to 6 arguments), with effects checked: pids, fds that work, bytes
//! that arrive, errnos.
//!
//! One test function: the entry is process-wide, and the steps must not interleave with
//! another test switching it (both ways are correct at any time, but the assertions on
//! which one is in force would race).
#![cfg(target_arch = "x86")]

use baremsg::fd::{self, AsFd, AsRawFd, OwnedFd};
use baremsg::sys::{self, raw};
use baremsg::unix::{UnixDatagram, UnixStream};
use baremsg::Errno;

/// `AT_SYSINFO` (not in the `libc` crate for i686).
const AT_SYSINFO: libc::c_ulong = 32;
/// `PR_SET_NAME`, `PR_GET_NAME`.
const PR_SET_NAME: usize = 15;
const PR_GET_NAME: usize = 16;

/// This process's auxiliary vector, read without baremsg.
fn auxv() -> Vec<usize> {
    let bytes = std::fs::read("/proc/self/auxv").expect("/proc/self/auxv");
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_ne_bytes(w.try_into().unwrap()) as usize)
        .collect()
}

/// Makes a call through every stub arity and checks what it did.
fn every_arity_works(label: &str) {
    // SAFETY: for the raw calls below, each syscall gets valid arguments: fds this
    // function owns, buffers that live across the call.
    unsafe {
        // 0 arguments.
        assert_eq!(
            raw::syscall0(raw::nr::GETPID),
            std::process::id() as isize,
            "{label}"
        );
        // 1: close(-1) fails with EBADF, the errno comes back through the entry.
        assert_eq!(
            raw::syscall1(raw::nr::CLOSE, usize::MAX),
            -(Errno::EBADF.raw() as isize)
        );
        // 2: kill(self, 0).
        assert_eq!(
            raw::syscall2(raw::nr::KILL, std::process::id() as usize, 0),
            0,
            "{label}"
        );
        // 3: write into a pipe, read it back.
        let (r, w) = fd::pipe().unwrap();
        let msg = *b"abc";
        let n = raw::syscall3(
            raw::nr::WRITE,
            w.as_raw_fd() as usize,
            msg.as_ptr() as usize,
            3,
        );
        assert_eq!(n, 3, "{label}");
        let mut got = [0u8; 3];
        let n = raw::syscall3(
            raw::nr::READ,
            r.as_raw_fd() as usize,
            got.as_mut_ptr() as usize,
            3,
        );
        assert_eq!((n, got), (3, msg), "{label}");
        // 5: prctl names the thread, and reads the name back.
        let name = *b"vsys-test\0";
        let set = raw::syscall5(raw::nr::PRCTL, PR_SET_NAME, name.as_ptr() as usize, 0, 0, 0);
        assert_eq!(set, 0, "{label}");
        let mut back = [0u8; 16];
        let get = raw::syscall5(
            raw::nr::PRCTL,
            PR_GET_NAME,
            back.as_mut_ptr() as usize,
            0,
            0,
            0,
        );
        assert_eq!((get, &back[..10]), (0, &name[..]), "{label}");
    }
    // 4: socketpair (direct) and the datagram round trip through sendto and recvfrom
    // (6 arguments each).
    let (a, b) = UnixDatagram::pair().unwrap();
    assert_eq!(a.send(b"ping").unwrap(), 4, "{label}");
    let mut buf = [0u8; 8];
    assert_eq!(b.recv(&mut buf).unwrap(), 4, "{label}");
    assert_eq!(&buf[..4], b"ping", "{label}");
    // An fd passed over a stream (sendmsg, recvmsg: 3 arguments) works on arrival.
    let (s, t) = UnixStream::pair().unwrap();
    let (r, w) = fd::pipe().unwrap();
    s.send_fds(b"x", &[w.as_fd()]).unwrap();
    drop(w);
    let mut slots: [Option<OwnedFd>; 1] = [None];
    let got = t.recv_fds(&mut buf, &mut slots).unwrap();
    assert_eq!((got.bytes, got.fds), (1, 1), "{label}");
    let w2 = slots[0].take().unwrap();
    fd::write_all(w2.as_fd(), b"through").unwrap();
    drop(w2);
    let mut read = [0u8; 7];
    assert_eq!(fd::read(r.as_fd(), &mut read).unwrap(), 7, "{label}");
    assert_eq!(&read, b"through", "{label}");
}

#[test]
fn syscalls_work_through_the_vdso_and_through_int_0x80() {
    // SAFETY: getauxval has no preconditions.
    let at_sysinfo = unsafe { libc::getauxval(AT_SYSINFO) } as usize;
    let vdso = (at_sysinfo != 0).then_some(at_sysinfo);

    // Looked up on first use: the kernel's AT_SYSINFO.
    assert_eq!(raw::vsyscall(), vdso);
    every_arity_works("looked up");

    // Forced to int 0x80: the fallback, as on a kernel without a vDSO.
    // SAFETY: `int 0x80` needs nothing.
    unsafe { raw::set_vsyscall(None) };
    assert_eq!(raw::vsyscall(), None);
    every_arity_works("int 0x80");

    // An auxiliary vector without AT_SYSINFO also means int 0x80.
    // SAFETY: an auxiliary vector that holds only AT_NULL names no entry to call.
    unsafe { sys::init_vsyscall(&[0, 0]) };
    assert_eq!(raw::vsyscall(), None);

    // Handed the auxiliary vector: the vDSO again.
    // SAFETY: this process's own auxiliary vector.
    unsafe { sys::init_vsyscall(&auxv()) };
    assert_eq!(raw::vsyscall(), vdso);
    every_arity_works("from auxv");

    // The int 0x80 stubs work whatever the entry.
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { raw::int80_syscall0(raw::nr::GETPID) };
    assert_eq!(pid, std::process::id() as isize);
}
