//! The freestanding example (`examples/freestanding/`: no std, no libc, its own `_start`)
//! builds for the target this suite runs on, links as a static executable with no
//! program interpreter, and runs: its parent passes a forked child a pipe
//! (`SCM_RIGHTS`) and its credentials (`SCM_CREDENTIALS`), and it exits 0 only when the
//! child saw both; started under a notify manager, it sends `READY=1` first.
//!
//! The program is built by a nested cargo (the one running this suite, `$CARGO`, with
//! its `RUSTC` and `RUSTFLAGS`: `--cfg baremsg_socketcall` on i686, `+thumb-mode` on
//! armv7) into `freestanding/` beside this suite's `CARGO_TARGET_TMPDIR`, for the suite's
//! own target, so every suite checks its own target and toolchain: x86_64 with rustup's
//! rustc and rust-lld, the others with Debian's rustc and GNU ld, riscv64 with `core`
//! built from source (`-Zbuild-std=core`) where the toolchain has no riscv64 `core`.
//! Under qemu-user the program runs through the emulator (`tests/target`).

use std::path::{Path, PathBuf};
use std::process::Command;

mod nested;
mod target;

use nested::{build, loading, own_triple, Loading, ELF, PT_INTERP, PT_LOAD};

const PACKAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/freestanding");
const BINARY: &str = "baremsg-freestanding";

/// Builds with `cargo` for `triple`, checks the file is a static executable of the
/// given class and machine, runs it, and checks it reports success.
fn check(cargo: Command, triple: &str, class: u32, machine: u16) -> PathBuf {
    let bin = build(cargo, PACKAGE, BINARY, triple);
    let file = std::fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let l = loading(&file).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert_eq!(
        (l.class, l.machine, l.elf_type, l.interp, l.dynamic),
        (class, machine, 2, false, false),
        "{}: want a static ELF{class} executable (ET_EXEC) with no PT_INTERP and no \
         PT_DYNAMIC, got {l:?}",
        bin.display()
    );
    assert!(l.loads >= 1, "{}: no PT_LOAD: {l:?}", bin.display());

    let run = target::command(&bin)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .expect("cannot run the example");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "{} exited with {}:\n{stderr}",
        bin.display(),
        run.status
    );
    assert!(
        stdout.contains("ok: the child read the pipe's bytes") && stderr.is_empty(),
        "unexpected output:\nstdout: {stdout}\nstderr: {stderr}"
    );
    bin
}

/// Runs the program under a notify manager made with baremsg: it must send `READY=1`
/// from its own pid, and fail with status 66 on a malformed `NOTIFY_SOCKET`.
fn check_notify(bin: &Path, triple: &str) {
    use baremsg::notify::{NotifyListener, MAX_MESSAGE};
    use baremsg::unix::UnixAddr;
    let name = format!("baremsg-freestanding-{triple}-{}", std::process::id());
    let manager = NotifyListener::bind(&UnixAddr::from_abstract(name.as_bytes()).unwrap()).unwrap();
    manager
        .socket()
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut child = target::command(bin)
        .env("NOTIFY_SOCKET", format!("@{name}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run the freestanding program");
    let mut buf = [0u8; MAX_MESSAGE];
    let ready = manager.recv_from_pid::<0>(&mut buf, child.id() as i32);
    let status = child.wait().expect("wait for the program");
    let ready = ready.expect("READY=1 from the program's own pid");
    assert_eq!(ready.payload(), b"READY=1");
    let me = (baremsg::sys::geteuid(), baremsg::sys::getegid());
    assert_eq!(ready.credentials().map(|c| (c.uid, c.gid)), Some(me));
    assert!(status.success(), "{status}");
    let out = target::command(bin)
        .env("NOTIFY_SOCKET", "relative/path")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(66));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("READY=1 failed: errno 22"), "{err}");
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo and the program it builds")]
fn freestanding_program_is_static_passes_an_fd_and_credentials_and_notifies() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let triple = own_triple();
    let bin = check(Command::new(cargo), &triple, ELF.0, ELF.1);
    check_notify(&bin, &triple);
}

#[test]
fn elf_reader_finds_an_interpreter_and_refuses_short_files() {
    // A minimal ELF64 header with two program headers: PT_INTERP and PT_LOAD.
    let mut f = vec![0u8; 64 + 2 * 56];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&2u16.to_le_bytes());
    f[64..68].copy_from_slice(&PT_INTERP.to_le_bytes());
    f[120..124].copy_from_slice(&PT_LOAD.to_le_bytes());
    assert_eq!(
        loading(&f),
        Ok(Loading {
            class: 64,
            machine: 62,
            elf_type: 3,
            loads: 1,
            interp: true,
            dynamic: false,
        })
    );
    assert!(loading(&f[..100]).is_err_and(|e| e.contains("too short")));
    assert!(loading(b"#!/bin/sh\n").is_err_and(|e| e.contains("magic")));
}
