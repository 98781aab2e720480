//! The service manager notification protocol of `sd_notify(3)`, both sides, without
//! allocation and without libc.
//!
//! A manager (an init system, a supervisor) makes a datagram socket and starts a service
//! with its address in `NOTIFY_SOCKET`; the service sends it datagrams of `KEY=VALUE`
//! lines (`READY=1`, `STATUS=...`, ...), sometimes with fds attached. The kernel stamps
//! each with the sender's credentials, so the manager knows which process spoke.
//!
//! - Service side: [`notify`] (one call: find the socket, send, or report that there is
//!   no manager), [`NotifySocket`] (the socket `NOTIFY_SOCKET` names, a Unix one or a
//!   [`VsockAddr`], and a typed helper for every field of systemd 259:
//!   [`ready`](NotifySocket::ready), [`status`](NotifySocket::status),
//!   [`reloading`](NotifySocket::reloading), [`store_fds`](NotifySocket::store_fds),
//!   [`barrier`](NotifySocket::barrier), [`watchdog_trigger`](NotifySocket::watchdog_trigger),
//!   [`extend_timeout_usec`](NotifySocket::extend_timeout_usec),
//!   [`main_pidfd`](NotifySocket::main_pidfd), ...); [`watchdog_enabled`]
//!   (`sd_watchdog_enabled(3)`).
//! - Manager side: [`NotifyListener`] (the socket, with `SO_PASSCRED` and
//!   `SO_PASSPIDFD`), [`Notification`] (one message, its fields, credentials, pidfd and
//!   fds, all owned; [`typed_fields`](Notification::typed_fields),
//!   [`take_main_pidfd`](Notification::take_main_pidfd)), [`NotifyEnv`] (the
//!   `NOTIFY_SOCKET=` entry for a child).
//! - Messages: [`parse`] checks one and yields its fields; [`parse_field`] types one as
//!   systemd 259 reads it ([`Field`], [`FieldError`]); [`MAX_MESSAGE`]. Numbers for a
//!   message without allocation: [`crate::fmt`].
//! - The environment comes as the caller has it: `KEY=VALUE` byte strings, such as the
//!   [`Envp`] a freestanding `_start` receives. With the `std` feature,
//!   `notify_std` and `NotifySocket::from_std_env` read `std::env`.
//!
//! ```no_run
//! use baremsg::notify::NotifySocket;
//! # fn main() -> Result<(), baremsg::notify::NotifyError> {
//! # let env: [&[u8]; 1] = [b"NOTIFY_SOCKET=/run/notify"];
//! if let Some(manager) = NotifySocket::from_env(env)? {
//!     manager.ready_with_status(b"listening on 2 sockets")?;
//! }
//! # Ok(())
//! # }
//! ```

mod env;
mod error;
mod fields;
mod listener;
mod message;
mod sender;
mod service;
mod vsock;
mod watchdog;

pub use env::{var, Envp};
pub use error::NotifyError;
pub use fields::{parse_field, Field, FieldError, NotifyAccessValue, Typed, ERRNO_MAX};
pub use listener::{FdRefusal, Notification, NotifyAccess, NotifyEnv, NotifyListener, Process};
pub use message::{parse, Fields, MessageError, MAX_MESSAGE};
#[cfg(feature = "std")]
pub use service::notify_std;
pub use service::{
    is_valid_fd_name, notify, NotifyAddr, NotifySocket, DEFAULT_BARRIER_TIMEOUT, MAX_PARTS,
};
pub use vsock::{VsockAddr, VsockType};
#[cfg(feature = "std")]
pub use watchdog::watchdog_enabled_std;
pub use watchdog::{watchdog_enabled, WATCHDOG_PID, WATCHDOG_USEC};

pub(crate) use crate::fmt::decimal;
pub(crate) use env::{parse_decimal, value_of};

/// The variable that names the manager's socket.
pub const ENV_VAR: &str = "NOTIFY_SOCKET";

/// Whether the environment entry `entry` (`KEY=VALUE`) sets `NOTIFY_SOCKET`: the one to
/// leave out of a child's environment so the child does not notify in the service's name.
pub fn is_notify_var(entry: &[u8]) -> bool {
    value_of(entry, ENV_VAR.as_bytes()).is_some()
}

/// `CLOCK_MONOTONIC` now, in microseconds: what `MONOTONIC_USEC=` carries.
pub fn monotonic_usec() -> Result<u64, crate::Errno> {
    crate::sys::clock_gettime(crate::sys::CLOCK_MONOTONIC).map(|t| t.as_micros())
}
