//! What the suite needs to know about the target it runs on, shared by the test files:
//! whether it runs under qemu-user (and how to start another program of the target
//! there), and the C compiler for the target's peer programs.
//!
//! Under qemu-user the suite is a guest program: it can start host programs (python3,
//! systemd's tools) but not other guest programs by `execve` (binfmt_misc is not set up
//! on the CI machine), so those go through [`command`]. The runners in
//! `.cargo/config.toml` set `BAREMSG_QEMU` to the emulator command. A test that meets a
//! known qemu-user defect asserts what qemu does and says so ([`qemu_note`]); the same
//! test run natively checks the kernel's behaviour in full.

#![allow(dead_code)]

use baremsg::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The qemu-user command the suite runs under (`qemu-aarch64 -L /usr/aarch64-linux-gnu`,
/// split into words), or `None` on the real kernel.
pub fn qemu() -> Option<&'static [String]> {
    static QEMU: OnceLock<Option<Vec<String>>> = OnceLock::new();
    QEMU.get_or_init(|| {
        let v = std::env::var("BAREMSG_QEMU").ok()?;
        let words: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
        (!words.is_empty()).then_some(words)
    })
    .as_deref()
}

/// Whether the suite runs under qemu-user.
pub fn under_qemu() -> bool {
    qemu().is_some()
}

/// Prints why a check is reduced or skipped under qemu-user (shown with `--nocapture`
/// and in the output of failing tests).
pub fn qemu_note(what: &str) {
    if let Some(q) = qemu() {
        eprintln!("note: under {}: {what}", q[0]);
    }
}

/// For a test of `SCM_PIDFD` whose `SO_PASSPIDFD` was refused with `errno`: under
/// qemu-user, which does not emulate that option (7.2: `ENOPROTOOPT`, and `SCM_PIDFD`
/// never arrives), asserts exactly that, says the test is skipped, and is true; on the
/// real kernel false, and the caller judges (a kernel before 6.5).
pub fn qemu_refused_passpidfd(errno: baremsg::Errno) -> bool {
    if !under_qemu() {
        return false;
    }
    assert_eq!(
        errno,
        baremsg::Errno::ENOPROTOOPT,
        "SO_PASSPIDFD under qemu"
    );
    qemu_note("SO_PASSPIDFD is ENOPROTOOPT (not emulated): SCM_PIDFD not checked");
    true
}

/// A command that runs `program`, a binary of the target: directly on the real kernel,
/// through the emulator under qemu-user.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    match qemu() {
        Some(q) => {
            let mut c = Command::new(&q[0]);
            c.args(&q[1..]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// The C compiler that builds programs for the target (`cc`, `cc -m32`, or the cross
/// compiler from `.ci/install-cross`), and the name of the target's arch.
pub fn c_compiler() -> (Command, &'static str) {
    let (cc, flags, arch): (&str, &[&str], &str) = if cfg!(target_arch = "x86") {
        ("cc", &["-m32"], "x86")
    } else if cfg!(target_arch = "aarch64") {
        ("aarch64-linux-gnu-gcc", &[], "aarch64")
    } else if cfg!(target_arch = "arm") {
        ("arm-linux-gnueabihf-gcc", &[], "arm")
    } else if cfg!(target_arch = "riscv64") {
        ("riscv64-linux-gnu-gcc", &[], "riscv64")
    } else {
        ("cc", &[], "x86_64")
    };
    let mut c = Command::new(cc);
    c.args(flags);
    (c, arch)
}

/// Whether the compiler running this suite (`$RUSTC`, else `rustc`) has a prebuilt
/// `core` for `triple`; Debian 12 ships none for riscv64, where a nested build of the
/// crate needs `-Zbuild-std` as the suite's own build did.
pub fn has_prebuilt_core(triple: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let lib = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(triple)
        .join("lib");
    std::fs::read_dir(lib).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
    })
}

/// The words that start `program`, a binary of the target: `program` alone, or under
/// qemu-user the emulator command and then `program` (for a host program that execs
/// what it is given, such as `systemd-socket-activate`).
pub fn words(program: impl AsRef<OsStr>) -> Vec<OsString> {
    let mut w: Vec<OsString> = qemu()
        .unwrap_or_default()
        .iter()
        .map(OsString::from)
        .collect();
    w.push(program.as_ref().to_owned());
    w
}

/// The path and `argv` that `execve` (`activation::Spawn`) needs to start `program`, a
/// binary of the target, with `args`: `program` itself, or under qemu-user the emulator
/// (found in `PATH` here: `execve` does not search it) with its arguments, then
/// `program`. qemu-user runs the guest in the process it was exec'd in: the pid stays.
pub fn exec_argv(program: &Path, args: &[&str]) -> (CString, Vec<CString>) {
    let c = |s: &OsStr| CString::new(s.as_bytes()).expect("no NUL in a path or argument");
    let mut argv: Vec<CString> = words(program).iter().map(|w| c(w)).collect();
    argv.extend(args.iter().map(|a| c(OsStr::new(a))));
    let path = match qemu() {
        Some(q) => c(in_path(&q[0]).as_os_str()),
        None => c(program.as_os_str()),
    };
    (path, argv)
}

/// Where `PATH` finds `name`.
fn in_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not in PATH"))
}

// ---------------------------------------------------------------------------------
// Control data into a short buffer: the kernel's rule, and what qemu-user 7.2 makes of it

/// What one `recvmsg` of a message carrying credentials (if asked for with
/// `SO_PASSCRED`) and then `sent` fds (one `SCM_RIGHTS`) leaves, given a control buffer
/// of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortControl {
    /// Fds in the control data the program sees.
    pub fds: usize,
    /// Fds installed in the process that the control data does not mention (qemu's).
    pub left_open: usize,
    /// `MSG_CTRUNC` in `msg_flags`.
    pub ctrunc: bool,
    /// `msg_controllen` after the call.
    pub controllen: usize,
    /// `cmsg_len` of the `SCM_RIGHTS` message, if one is in the control data.
    pub rights_len: Option<usize>,
}

/// Size of `struct ucred`.
const UCRED: usize = 12;

/// The kernel's rule (`put_cmsg` for the credentials, then `scm_detach_fds`) for a
/// process whose `struct cmsghdr` is `hdr` bytes and whose control messages are
/// aligned to `align`: the messages written, as (is rights, data bytes), and
/// `MSG_CTRUNC`.
fn kernel_fill(
    sent: usize,
    creds: bool,
    len: usize,
    hdr: usize,
    align: usize,
) -> (Vec<(bool, usize)>, bool) {
    let space = |data: usize| (hdr + data).next_multiple_of(align);
    let (mut room, mut ctrunc, mut out) = (len, false, Vec::new());
    if creds {
        if room < hdr {
            ctrunc = true;
        } else {
            let data = UCRED.min(room - hdr);
            ctrunc |= data < UCRED;
            out.push((false, data));
            room -= space(UCRED).min(room);
        }
    }
    let fdmax = if room > hdr { (room - hdr) / 4 } else { 0 };
    let n = sent.min(fdmax);
    if n > 0 {
        out.push((true, 4 * n));
    }
    ctrunc |= n < sent;
    (out, ctrunc)
}

/// What a short control buffer of `len` bytes receives, as [`ShortControl`]: on the
/// real kernel, its rule for this target's layout (a 32-bit process on a 64-bit kernel
/// gets the 32-bit layout); under qemu-user 7.2, measured on aarch64, armv7 and riscv64:
/// qemu hands the (64-bit) host kernel a buffer of `2 * len` bytes, then converts the
/// host's messages into the program's `len` bytes, cutting what does not fit: fds cut
/// off stay open in the process, unreported; `MSG_CTRUNC` is the host kernel's alone
/// (qemu's own is overwritten); and the credentials' 12 bytes are written whole even
/// where fewer fit (past `msg_controllen`).
pub fn short_control(sent: usize, creds: bool, len: usize) -> ShortControl {
    let hdr = std::mem::size_of::<baremsg::sys::Cmsghdr>();
    let align = std::mem::size_of::<usize>();
    if !under_qemu() {
        let (msgs, ctrunc) = kernel_fill(sent, creds, len, hdr, align);
        let rights = msgs.iter().find(|m| m.0).map(|m| m.1);
        let used: usize = msgs
            .iter()
            .map(|&(_, data)| (hdr + data).next_multiple_of(align))
            .sum();
        return ShortControl {
            fds: rights.unwrap_or(0) / 4,
            left_open: 0,
            ctrunc,
            controllen: used.min(len),
            rights_len: rights.map(|d| hdr + d),
        };
    }
    let (host, ctrunc) = kernel_fill(sent, creds, 2 * len, 16, 8);
    let host_fds = host.iter().find(|m| m.0).map_or(0, |m| m.1 / 4);
    let (mut room, mut controllen) = (len, 0);
    let (mut fds, mut rights_len) = (0, None);
    for (is_rights, data) in host {
        if room < hdr {
            break;
        }
        let data = data.min(room - hdr);
        if is_rights {
            fds = data / 4;
            rights_len = Some(hdr + data);
        }
        let space = (hdr + data).next_multiple_of(align).min(room);
        room -= space;
        controllen += space;
    }
    ShortControl {
        fds,
        left_open: host_fds - fds,
        ctrunc,
        controllen,
        rights_len,
    }
}

/// The fds open in this process that are the same files as `files` (same device and
/// inode), other than `files` themselves and the numbers in `known`: copies that
/// something installed without saying so, owned, so dropping them closes them. For files
/// only the caller has (pipes, memfds it made), so that no other thread's fd is taken.
pub fn copies_of(files: &[BorrowedFd<'_>], known: &[RawFd]) -> Vec<OwnedFd> {
    let id = |fd: RawFd| {
        // SAFETY: `st` is written by fstat before it is read; a closed number fails.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstat(fd, &mut st) == 0).then_some((st.st_dev, st.st_ino))
        }
    };
    let ids: Vec<_> = files.iter().filter_map(|f| id(f.as_raw_fd())).collect();
    let ours: Vec<RawFd> = files.iter().map(|f| f.as_raw_fd()).collect();
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    listed
        .into_iter()
        .filter(|n| !ours.contains(n) && !known.contains(n))
        .filter(|&n| id(n).is_some_and(|i| ids.contains(&i)))
        // SAFETY: an open fd (fstat just succeeded) that is a copy of one of the
        // caller's own files which nobody else knows of: the caller now owns it.
        .map(|n| unsafe { OwnedFd::from_raw_fd(n) })
        .collect()
}

/// Closes the fds that an emulator installed for a short control buffer without
/// reporting them: the copies of `files` other than `received` (see [`copies_of`]).
/// Asserts there are exactly `left_open` (from [`short_control`]: none on the real
/// kernel, which closes what does not fit) and says so when there are any.
pub fn close_unreported(files: &[BorrowedFd<'_>], received: &[RawFd], left_open: usize) {
    let copies = copies_of(files, received);
    assert_eq!(
        copies.len(),
        left_open,
        "fds installed but not reported: {copies:?}"
    );
    if left_open > 0 {
        qemu_note(&format!(
            "{left_open} fds cut off from a short control buffer were left open \
             unreported; closed by the test"
        ));
    }
}
