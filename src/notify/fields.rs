//! The fields of `sd_notify(3)` as systemd 259 reads them, typed: what a manager acts on.

use core::fmt;

use super::env::parse_decimal;
use super::message::Fields;
use super::service::is_valid_fd_name;
use super::NotifyError;

/// Who may send notifications for a service (`NOTIFYACCESS=`, systemd's
/// `NotifyAccess=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyAccessValue {
    /// Nobody: notifications are ignored.
    None,
    /// The main process only.
    Main,
    /// The main process and the processes of the service's `Exec*=` commands.
    Exec,
    /// Every process of the service.
    All,
}

impl NotifyAccessValue {
    /// The value as written: `none`, `main`, `exec`, `all`.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            NotifyAccessValue::None => b"none",
            NotifyAccessValue::Main => b"main",
            NotifyAccessValue::Exec => b"exec",
            NotifyAccessValue::All => b"all",
        }
    }

    /// Parses `none`, `main`, `exec` or `all`.
    pub fn parse(value: &[u8]) -> Option<Self> {
        Some(match value {
            b"none" => NotifyAccessValue::None,
            b"main" => NotifyAccessValue::Main,
            b"exec" => NotifyAccessValue::Exec,
            b"all" => NotifyAccessValue::All,
            _ => return None,
        })
    }
}

/// The largest errno `ERRNO=` may carry (systemd's `ERRNO_MAX`).
pub const ERRNO_MAX: i32 = 4095;

/// One field of a notification, typed as systemd 259 reads it. Values are borrowed from
/// the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field<'m> {
    /// `READY=1`: start-up (or a reload) is finished.
    Ready,
    /// `RELOADING=1`: reloading its configuration.
    Reloading,
    /// `MONOTONIC_USEC=`: `CLOCK_MONOTONIC` when it sent `RELOADING=1`, microseconds.
    MonotonicUsec(u64),
    /// `STOPPING=1`: shutting down.
    Stopping,
    /// `STATUS=`: a one-line status text (UTF-8).
    Status(&'m str),
    /// `NOTIFYACCESS=`: who may notify from now on.
    NotifyAccess(NotifyAccessValue),
    /// `ERRNO=`: it failed with this errno (0 to [`ERRNO_MAX`]).
    Errno(i32),
    /// `BUSERROR=`: it failed with this D-Bus error name.
    BusError(&'m [u8]),
    /// `VARLINKERROR=`: it failed with this Varlink error name (systemd 257+).
    VarlinkError(&'m [u8]),
    /// `EXIT_STATUS=`: the exit status (0 to 255) to report for it.
    ExitStatus(u8),
    /// `MAINPID=`: its main process is this pid.
    MainPid(i32),
    /// `MAINPIDFD=1`: its main process is the one the message's only fd refers to.
    MainPidFd,
    /// `MAINPIDFDID=`: the pidfs id (see
    /// [`pidfd_id`](crate::process::pidfd_id)) of the main process `MAINPID=` names.
    MainPidFdId(u64),
    /// `WATCHDOG=1`: the watchdog keep-alive ping.
    Watchdog,
    /// `WATCHDOG=trigger`: act as if the watchdog timed out.
    WatchdogTrigger,
    /// `WATCHDOG_USEC=`: the watchdog timeout from now on, microseconds.
    WatchdogUsec(u64),
    /// `EXTEND_TIMEOUT_USEC=`: the current start, run-time or stop timeout moved to this
    /// many microseconds from now.
    ExtendTimeoutUsec(u64),
    /// `FDSTORE=1`: keep the message's fds.
    FdStore,
    /// `FDSTOREREMOVE=1`: close the stored fds named by `FDNAME=`.
    FdStoreRemove,
    /// `FDNAME=`: the name for the fds stored or removed.
    FdName(&'m [u8]),
    /// `FDPOLL=0` (`false`): do not poll the stored fds for hangup and errors (which
    /// would remove them); `FDPOLL=1` (`true`), the default.
    FdPoll(bool),
    /// `BARRIER=1`: close the message's only fd once every earlier message is processed.
    Barrier,
    /// `RESTART_RESET=1`: reset the restart counter.
    RestartReset,
    /// A private field, `X_...`, passed through.
    Private(&'m [u8], &'m [u8]),
    /// A key systemd 259 does not define: passed through, as systemd ignores it.
    Other(&'m [u8], &'m [u8]),
}

/// A field whose value is not one its key takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The key (`WATCHDOG_USEC`, ...).
    pub key: &'static str,
    /// What the value must be.
    pub expected: &'static str,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}= value: expected {}", self.key, self.expected)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FieldError {}

const ONE: &str = "1";
const USEC: &str = "a decimal number of microseconds (0 to 2^64-1)";

fn flag(
    key: &'static str,
    value: &[u8],
    field: Field<'static>,
) -> Result<Field<'static>, FieldError> {
    match value {
        b"1" => Ok(field),
        _ => Err(FieldError { key, expected: ONE }),
    }
}

fn usec(key: &'static str, value: &[u8]) -> Result<u64, FieldError> {
    parse_decimal(value, u64::MAX).ok_or(FieldError {
        key,
        expected: USEC,
    })
}

/// Types one `(key, value)` pair as systemd 259 reads it (see [`Field`]). Numbers are
/// ASCII digits only (no sign, no spaces); flags must be `1`; keys systemd does not
/// define are [`Field::Other`], `X_` ones [`Field::Private`], never an error.
///
/// ```
/// use baremsg::notify::{parse_field, Field};
/// assert_eq!(parse_field(b"WATCHDOG_USEC", b"30000000"), Ok(Field::WatchdogUsec(30_000_000)));
/// assert_eq!(parse_field(b"WATCHDOG", b"trigger"), Ok(Field::WatchdogTrigger));
/// assert_eq!(parse_field(b"X_MY_STATE", b"warm"), Ok(Field::Private(b"X_MY_STATE", b"warm")));
/// assert_eq!(parse_field(b"EXIT_STATUS", b"256").unwrap_err().key, "EXIT_STATUS");
/// ```
pub fn parse_field<'m>(key: &'m [u8], value: &'m [u8]) -> Result<Field<'m>, FieldError> {
    Ok(match key {
        b"READY" => flag("READY", value, Field::Ready)?,
        b"RELOADING" => flag("RELOADING", value, Field::Reloading)?,
        b"STOPPING" => flag("STOPPING", value, Field::Stopping)?,
        b"MAINPIDFD" => flag("MAINPIDFD", value, Field::MainPidFd)?,
        b"FDSTORE" => flag("FDSTORE", value, Field::FdStore)?,
        b"FDSTOREREMOVE" => flag("FDSTOREREMOVE", value, Field::FdStoreRemove)?,
        b"BARRIER" => flag("BARRIER", value, Field::Barrier)?,
        b"RESTART_RESET" => flag("RESTART_RESET", value, Field::RestartReset)?,
        b"MONOTONIC_USEC" => Field::MonotonicUsec(usec("MONOTONIC_USEC", value)?),
        b"WATCHDOG_USEC" => Field::WatchdogUsec(usec("WATCHDOG_USEC", value)?),
        b"EXTEND_TIMEOUT_USEC" => Field::ExtendTimeoutUsec(usec("EXTEND_TIMEOUT_USEC", value)?),
        b"MAINPIDFDID" => {
            Field::MainPidFdId(usec("MAINPIDFDID", value).map_err(|_| FieldError {
                key: "MAINPIDFDID",
                expected: "a decimal 64-bit pidfd id",
            })?)
        }
        b"WATCHDOG" => match value {
            b"1" => Field::Watchdog,
            b"trigger" => Field::WatchdogTrigger,
            _ => {
                return Err(FieldError {
                    key: "WATCHDOG",
                    expected: "1 or trigger",
                })
            }
        },
        b"FDPOLL" => match value {
            b"0" => Field::FdPoll(false),
            b"1" => Field::FdPoll(true),
            _ => {
                return Err(FieldError {
                    key: "FDPOLL",
                    expected: "0 or 1",
                })
            }
        },
        b"STATUS" => Field::Status(core::str::from_utf8(value).map_err(|_| FieldError {
            key: "STATUS",
            expected: "UTF-8 text",
        })?),
        b"NOTIFYACCESS" => {
            Field::NotifyAccess(NotifyAccessValue::parse(value).ok_or(FieldError {
                key: "NOTIFYACCESS",
                expected: "none, main, exec or all",
            })?)
        }
        b"ERRNO" => match parse_decimal(value, ERRNO_MAX as u64) {
            Some(n) => Field::Errno(n as i32),
            None => {
                return Err(FieldError {
                    key: "ERRNO",
                    expected: "a decimal errno, 0 to 4095",
                })
            }
        },
        b"BUSERROR" if !value.is_empty() => Field::BusError(value),
        b"BUSERROR" => {
            return Err(FieldError {
                key: "BUSERROR",
                expected: "a D-Bus error name",
            })
        }
        b"VARLINKERROR" if !value.is_empty() => Field::VarlinkError(value),
        b"VARLINKERROR" => {
            return Err(FieldError {
                key: "VARLINKERROR",
                expected: "a Varlink error name",
            })
        }
        b"EXIT_STATUS" => match parse_decimal(value, 255) {
            Some(n) => Field::ExitStatus(n as u8),
            None => {
                return Err(FieldError {
                    key: "EXIT_STATUS",
                    expected: "a decimal exit status, 0 to 255",
                })
            }
        },
        b"MAINPID" => match parse_decimal(value, i32::MAX as u64) {
            Some(n) if n > 0 => Field::MainPid(n as i32),
            _ => {
                return Err(FieldError {
                    key: "MAINPID",
                    expected: "a positive decimal pid",
                })
            }
        },
        b"FDNAME" if is_valid_fd_name(value) => Field::FdName(value),
        b"FDNAME" => {
            return Err(FieldError {
                key: "FDNAME",
                expected: "at most 255 bytes of printable ASCII without ':'",
            })
        }
        [b'X', b'_', ..] => Field::Private(key, value),
        _ => Field::Other(key, value),
    })
}

impl<'m> Fields<'m> {
    /// The fields typed (see [`parse_field`]), in order; a malformed value is an `Err`
    /// item, and the fields after it still come.
    pub fn typed(&self) -> Typed<'m> {
        Typed {
            fields: self.clone(),
        }
    }
}

/// The typed fields of a message: see [`Fields::typed`].
#[derive(Clone, Debug)]
pub struct Typed<'m> {
    fields: Fields<'m>,
}

impl<'m> Iterator for Typed<'m> {
    type Item = Result<Field<'m>, FieldError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.fields.next().map(|(k, v)| parse_field(k, v))
    }
}

impl<'b, const FDS: usize> super::Notification<'b, FDS> {
    /// The fields typed (see [`parse_field`]), in order.
    pub fn typed_fields(&self) -> Typed<'b> {
        self.fields().typed()
    }

    /// The main process this notification names, as a pidfd, checked as systemd 259
    /// checks it; `Ok(None)` if it names none.
    ///
    /// - `MAINPIDFD=1`: the message must carry exactly one fd
    ///   ([`NotifyError::MainPidFdCount`]), a pidfd ([`NotifyError::NotAPidfd`]) of a
    ///   process that has not exited ([`NotifyError::MainPidGone`]); it is taken from
    ///   the message.
    /// - else `MAINPID=n`: a pidfd of process `n` is opened (`pidfd_open(2)`;
    ///   [`NotifyError::MainPidGone`] if there is none). Whether `n` is a process the
    ///   caller may accept as the service's is the caller's policy, as in systemd.
    /// - `MAINPIDFDID=` with either: where pidfs gives the pidfd an id (Linux 6.9+), it
    ///   must be that id ([`NotifyError::MainPidFdIdMismatch`]).
    /// - A malformed `MAINPID=`, `MAINPIDFD=` or `MAINPIDFDID=`:
    ///   [`NotifyError::InvalidField`].
    ///
    /// On an error, a pidfd taken from the message is closed; the message's other fds
    /// stay in it.
    pub fn take_main_pidfd(&mut self) -> Result<Option<crate::process::Pidfd>, NotifyError> {
        use crate::fd::AsRawFd;
        use crate::process::{pidfd_id, Pidfd};
        let (mut by_fd, mut pid, mut id) = (false, None, None);
        for field in self.typed_fields() {
            match field {
                Ok(Field::MainPidFd) => by_fd = true,
                Ok(Field::MainPid(p)) => pid = pid.or(Some(p)),
                Ok(Field::MainPidFdId(i)) => id = id.or(Some(i)),
                Err(e) if matches!(e.key, "MAINPID" | "MAINPIDFD" | "MAINPIDFDID") => {
                    return Err(NotifyError::InvalidField(e))
                }
                _ => {}
            }
        }
        let pidfd = if by_fd {
            if self.fd_count() != 1 || self.fds_truncated() {
                return Err(NotifyError::MainPidFdCount(self.fd_count()));
            }
            let Some(fd) = self.take_fds().next() else {
                return Err(NotifyError::MainPidFdCount(0));
            };
            // Signal 0 checks without signalling: EBADF/EINVAL for an fd that is not a
            // pidfd, ESRCH once the process has exited, EPERM for one we may not signal
            // (but which exists).
            // SAFETY: only integers cross.
            match unsafe { crate::sys::pidfd_send_signal(fd.as_raw_fd(), 0, 0) } {
                Ok(()) | Err(crate::Errno::EPERM) => {}
                Err(crate::Errno::ESRCH) => return Err(NotifyError::MainPidGone),
                Err(crate::Errno::EBADF | crate::Errno::EINVAL) => {
                    return Err(NotifyError::NotAPidfd)
                }
                Err(e) => return Err(e.into()),
            }
            Pidfd::from_fd(fd)
        } else if let Some(pid) = pid {
            match Pidfd::open(pid) {
                Ok(p) => p,
                Err(crate::Errno::ESRCH) => return Err(NotifyError::MainPidGone),
                Err(e) => return Err(e.into()),
            }
        } else {
            return Ok(None);
        };
        if let Some(expected) = id {
            if let Some(actual) = pidfd_id(crate::fd::AsFd::as_fd(&pidfd))? {
                if actual != expected {
                    return Err(NotifyError::MainPidFdIdMismatch { expected, actual });
                }
            }
        }
        Ok(Some(pidfd))
    }
}
