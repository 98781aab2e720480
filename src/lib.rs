//! Messages, file descriptors and credentials over Unix sockets on Linux, with no libc.
//!
//! baremsg is `#![no_std]`, enters the kernel through its own inline-asm stubs and
//! declares the kernel's structs itself, so it fits static binaries with their own
//! `_start`, init systems and minimal containers. Targets: x86_64, 32-bit x86 (i386,
//! where socket calls go directly, Linux 4.3+, or through `socketcall`), aarch64, 32-bit
//! ARM (EABI, ARM and Thumb code) and riscv64.
//!
//! The layers, each depending only on the ones before it (`arch` also reads `sys`'s
//! constants and its [`SocketPath`](sys::SocketPath) value, no function of it):
//! - `arch` (private): how the kernel is entered on each architecture, the syscall
//!   numbers, the width of the kernel's size fields;
//! - [`Errno`] and [`Error`]: the kernel's error numbers, and the errors of the safe
//!   layers; [`fmt`]: numbers as decimal text on the stack, for the `no_std` caller's
//!   messages;
//! - [`sys`]: the kernel's `#[repr(C)]` types, constants and `unsafe` raw syscall
//!   wrappers returning `Result<_, Errno>`;
//! - [`fd`]: owned and borrowed fds (std's own with the `std` feature); [`io`]:
//!   iovec-shaped buffers;
//! - [`cmsg`]: control messages: aligned stack buffers, an encoder, a total parser, and
//!   received control data that owns every fd in it;
//! - [`unix`]: Unix sockets (stream, datagram, seqpacket), listeners, addresses, and
//!   sending and receiving fds and credentials, as methods and as functions over any
//!   socket fd;
//! - [`process`] and [`event`]: for supervisors: pidfds, waiting for children, the child
//!   subreaper, dropping privileges; epoll and timers as fds;
//! - [`notify`] and [`activation`]: the init-system protocols built on them, both sides
//!   of each: readiness notification (`NOTIFY_SOCKET`, `sd_notify`) and socket activation
//!   (`LISTEN_FDS`, `sd_listen_fds`), with the environment given as byte strings.
//!
//! ```
//! use baremsg::cmsg::{space_for_credentials, CmsgBuf};
//! use baremsg::fd::{self, AsFd};
//! use baremsg::io::IoSliceMut;
//! use baremsg::unix::UnixDatagram;
//!
//! # fn main() -> Result<(), baremsg::Error> {
//! let (a, b) = UnixDatagram::pair()?;
//! b.set_pass_cred(true)?; // the kernel attaches the sender's pid, uid and gid
//! let (r, w) = fd::pipe()?;
//! a.send_fds(b"hello", &[r.as_fd()])?;
//! a.send(b"who am I")?;
//!
//! let mut buf = [0u8; 16];
//! let mut slots = [None];
//! let got = b.recv_fds(&mut buf, &mut slots)?;
//! assert_eq!((&buf[..got.bytes], got.fds), (&b"hello"[..], 1));
//! fd::write_all(&w, b"!")?;
//! assert_eq!(fd::read(slots[0].as_ref().unwrap(), &mut buf)?, 1);
//!
//! let mut ctl = CmsgBuf::<{ space_for_credentials() }>::new();
//! let mut msg = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], &mut ctl)?;
//! assert_eq!(msg.control.credentials().unwrap().pid, baremsg::sys::getpid());
//! # Ok(())
//! # }
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

#[cfg(not(target_os = "linux"))]
compile_error!("baremsg supports Linux only");

#[cfg_attr(target_arch = "x86_64", path = "../arch/x86_64/mod.rs")]
#[cfg_attr(target_arch = "x86", path = "../arch/x86/mod.rs")]
#[cfg_attr(target_arch = "aarch64", path = "../arch/aarch64/mod.rs")]
#[cfg_attr(target_arch = "arm", path = "../arch/arm/mod.rs")]
#[cfg_attr(target_arch = "riscv64", path = "../arch/riscv64/mod.rs")]
mod arch;

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
compile_error!("baremsg supports x86_64, x86 (i386), aarch64, arm (EABI) and riscv64 only");

pub mod activation;
pub mod cmsg;
pub mod errno;
mod error;
pub mod event;
pub mod fd;
pub mod fmt;
pub mod io;
pub mod notify;
pub mod process;
pub mod sys;
pub mod unix;

pub use errno::Errno;
pub use error::Error;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
