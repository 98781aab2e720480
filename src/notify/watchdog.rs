//! `sd_watchdog_enabled(3)`: whether the manager expects `WATCHDOG=1` pings, and how
//! often, from `WATCHDOG_USEC` and `WATCHDOG_PID` in the environment.

use super::env::{parse_decimal, value_of};
use super::NotifyError;
use crate::sys;

/// `WATCHDOG_USEC`: the watchdog timeout, microseconds.
pub const WATCHDOG_USEC: &str = "WATCHDOG_USEC";
/// `WATCHDOG_PID`: the process the watchdog is meant for.
pub const WATCHDOG_PID: &str = "WATCHDOG_PID";

/// The watchdog timeout in microseconds that `env` (`KEY=VALUE` entries; the first of
/// each name counts) asks this process to keep, as `sd_watchdog_enabled(3)` reads it:
/// `Ok(None)` when `WATCHDOG_USEC` is not set, or `WATCHDOG_PID` is set and names another
/// process (a parent's variables inherited: not for us). Send `WATCHDOG=1` well within
/// the timeout; libsystemd's advice is every half of it.
///
/// [`NotifyError::InvalidWatchdogUsec`]: `WATCHDOG_USEC` is not a decimal number, or is
/// 0 or 2^64-1 (neither is a timeout); [`NotifyError::InvalidWatchdogPid`]:
/// `WATCHDOG_PID` is not a positive decimal pid.
///
/// ```
/// use baremsg::notify::watchdog_enabled;
/// let pid = format!("WATCHDOG_PID={}", baremsg::sys::getpid());
/// let env = [&b"WATCHDOG_USEC=20000000"[..], pid.as_bytes()];
/// assert_eq!(watchdog_enabled(env), Ok(Some(20_000_000)));
/// assert_eq!(watchdog_enabled([&b"WATCHDOG_USEC=5"[..], b"WATCHDOG_PID=1"]), Ok(None));
/// ```
pub fn watchdog_enabled<'e, I>(env: I) -> Result<Option<u64>, NotifyError>
where
    I: IntoIterator<Item = &'e [u8]>,
{
    let (mut usec, mut pid) = (None, None);
    for entry in env {
        if usec.is_none() {
            usec = value_of(entry, WATCHDOG_USEC.as_bytes());
        }
        if pid.is_none() {
            pid = value_of(entry, WATCHDOG_PID.as_bytes());
        }
    }
    from_values(usec, pid)
}

/// [`watchdog_enabled`] with the process environment, read through `std::env`.
#[cfg(feature = "std")]
pub fn watchdog_enabled_std() -> Result<Option<u64>, NotifyError> {
    use std::os::unix::ffi::OsStrExt;
    let usec = std::env::var_os(WATCHDOG_USEC);
    let pid = std::env::var_os(WATCHDOG_PID);
    from_values(
        usec.as_deref().map(|v| v.as_bytes()),
        pid.as_deref().map(|v| v.as_bytes()),
    )
}

fn from_values(usec: Option<&[u8]>, pid: Option<&[u8]>) -> Result<Option<u64>, NotifyError> {
    let Some(usec) = usec else {
        return Ok(None);
    };
    let usec = match parse_decimal(usec, u64::MAX) {
        Some(u) if u != 0 && u != u64::MAX => u,
        _ => return Err(NotifyError::InvalidWatchdogUsec),
    };
    if let Some(pid) = pid {
        let pid = match parse_decimal(pid, i32::MAX as u64) {
            Some(p) if p > 0 => p as i32,
            _ => return Err(NotifyError::InvalidWatchdogPid),
        };
        if pid != sys::getpid() {
            return Ok(None);
        }
    }
    Ok(Some(usec))
}
