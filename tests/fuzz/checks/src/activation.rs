//! Target `listen_env`: `baremsg::activation::ListenEnv` (`LISTEN_PID`, `LISTEN_FDS`,
//! `LISTEN_FDNAMES`, `LISTEN_PIDFDID`) over arbitrary values; `take_fds` is not called
//! (it takes fds 3.. of this process).
//!
//! The input: a flags byte, then up to four values separated by `0xff` (pid, fds, names,
//! pidfd id). Flag bits 0-2 and 4: the value is set (else `None`); bit 3: `LISTEN_PID` is
//! replaced by this process's pid, so that the fuzzer gets past the pid check; bit 5:
//! `LISTEN_PIDFDID` is replaced by this process's pidfs id (where it has one). Checked
//! against a model of the documented rules: unset pid → `Ok(None)`; a pid that is not a
//! positive decimal (digits only, at most `i32::MAX`) → `InvalidListenPid`, another pid
//! → `Ok(None)`; a pidfd id that is not digits (or past `u64`) →
//! `InvalidListenPidfdId`, another id than ours (where we have one) → `Ok(None)`;
//! then `LISTEN_FDS` missing → `MissingListenFds`, not digits (or past `u64`) →
//! `InvalidListenFds`, more than `RLIMIT_NOFILE - 3` → `TooManyFds`; names, if set,
//! one per fd (`""` is no names for no fds) else `NameCountMismatch`. Accepted: `count`
//! as given, and `names()` yields exactly `count` names, the `:`-separated pieces or
//! `unknown` when unset. `from_env` finds the same from `KEY=VALUE` entries, the first
//! of each key counting, and `is_listen_var` tells them.

use baremsg::activation::{is_listen_var, ActivationError, ListenEnv, UNKNOWN_NAME};
use baremsg::sys;

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

fn soft_fd_limit() -> u64 {
    let mut lim = sys::Rlimit::default();
    // SAFETY: a null `new` only reads the limits into `lim`.
    unsafe { sys::prlimit(0, sys::RLIMIT_NOFILE, std::ptr::null(), &mut lim) }.unwrap();
    lim.rlim_cur.min(i32::MAX as u64)
}

/// What `from_values` should say: the count, or the error.
fn model(
    pid: Option<&[u8]>,
    pidfdid: Option<&[u8]>,
    fds: Option<&[u8]>,
    names: Option<&[u8]>,
) -> Result<Option<usize>, ActivationError> {
    let Some(pid) = pid else { return Ok(None) };
    let pid = match digits(pid) {
        Some(p) if p > 0 && p <= i32::MAX as u64 => p as i32,
        _ => return Err(ActivationError::InvalidListenPid),
    };
    if pid != sys::getpid() {
        return Ok(None);
    }
    if let Some(id) = pidfdid {
        let id = digits(id).ok_or(ActivationError::InvalidListenPidfdId)?;
        if own_id().is_some_and(|ours| ours != id) {
            return Ok(None);
        }
    }
    let count = digits(fds.ok_or(ActivationError::MissingListenFds)?)
        .ok_or(ActivationError::InvalidListenFds)?;
    let limit = soft_fd_limit().saturating_sub(3);
    if count > limit {
        return Err(ActivationError::TooManyFds {
            count: usize::try_from(count).unwrap_or(usize::MAX),
            limit: limit as usize,
        });
    }
    let count = count as usize;
    if let Some(names) = names {
        let given = if names.is_empty() && count == 0 {
            0
        } else {
            names.split(|&b| b == b':').count()
        };
        if given != count {
            return Err(ActivationError::NameCountMismatch {
                fds: count,
                names: given,
            });
        }
    }
    Ok(Some(count))
}

/// This process's pidfs id, read once (the kernel's answer does not change).
fn own_id() -> Option<u64> {
    static ID: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *ID.get_or_init(|| baremsg::process::own_pidfd_id().unwrap())
}

/// Runs the checks on `data`.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0xff);
    // pid, fds, names, pidfd id; set per flag bits 0, 1, 2, 4.
    let mut vals: [Option<&[u8]>; 4] = [None; 4];
    for (i, v) in vals.iter_mut().enumerate() {
        let part = parts.next().unwrap_or(&[]);
        let bit = if i == 3 { 4 } else { i };
        if flags & (1 << bit) != 0 {
            *v = Some(part);
        }
    }
    let own_pid = sys::getpid().to_string();
    if flags & 8 != 0 {
        vals[0] = Some(own_pid.as_bytes());
    }
    let own_id_text = own_id().map(|i| i.to_string());
    if flags & 32 != 0 {
        if let Some(t) = &own_id_text {
            vals[3] = Some(t.as_bytes());
        }
    }

    let want = model(vals[0], vals[3], vals[1], vals[2]);
    let got = ListenEnv::from_all_values(vals[0], vals[3], vals[1], vals[2]);
    if vals[3].is_none() {
        assert_eq!(ListenEnv::from_values(vals[0], vals[1], vals[2]), got);
    }
    match (&got, &want) {
        (Ok(Some(env)), Ok(Some(count))) => {
            assert_eq!(env.count(), *count);
            let names: Vec<&[u8]> = env.names().collect();
            assert_eq!(env.names().len(), *count);
            let want_names: Vec<&[u8]> = match vals[2] {
                Some(n) if *count > 0 => n.split(|&b| b == b':').collect(),
                Some(_) => Vec::new(),
                None => vec![UNKNOWN_NAME; *count],
            };
            assert_eq!(names, want_names);
        }
        (Ok(None), Ok(None)) => {}
        (Err(g), Err(w)) => {
            assert_eq!(g, w);
            let _ = g.to_string();
            let _ = g.errno();
        }
        _ => panic!("from_values: {got:?}, model: {want:?}"),
    }

    // The same values as environment entries, among others, with later duplicates that
    // must not count.
    let keys = [
        "LISTEN_PID",
        "LISTEN_FDS",
        "LISTEN_FDNAMES",
        "LISTEN_PIDFDID",
    ];
    let decoys: [&[u8]; 4] = [b"1", b"x", b"::", b"y"];
    let mut entries: Vec<Vec<u8>> = vec![
        b"PATH=/bin".to_vec(),
        b"LISTEN_PIDX=1".to_vec(),
        b"LISTEN_FD=2".to_vec(),
    ];
    for (k, v) in keys.iter().zip(vals) {
        if let Some(v) = v {
            entries.push([k.as_bytes(), b"=", v].concat());
        }
    }
    // Later entries of a key that is set do not count.
    for ((k, v), d) in keys.iter().zip(vals).zip(decoys) {
        if v.is_some() {
            entries.push([k.as_bytes(), b"=", d].concat());
        }
    }
    let env: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    assert_eq!(ListenEnv::from_env(env.iter().copied()), got, "from_env");
    for e in &env {
        let is = e.starts_with(b"LISTEN_PID=")
            || e.starts_with(b"LISTEN_PIDFDID=")
            || e.starts_with(b"LISTEN_FDS=")
            || e.starts_with(b"LISTEN_FDNAMES=");
        assert_eq!(is_listen_var(e), is, "{e:?}");
    }
}
