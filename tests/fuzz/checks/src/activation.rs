//! Target `listen_env`: `baremsg::activation::ListenEnv` (`LISTEN_PID`, `LISTEN_FDS`,
//! `LISTEN_FDNAMES`) over arbitrary values; `take_fds` is not called (it takes fds 3..
//! of this process).
//!
//! The input: a flags byte, then up to three values separated by `0xff`. Flag bits 0-2:
//! the value is set (else `None`); bit 3: `LISTEN_PID` is replaced by this process's
//! pid, so that the fuzzer gets past the pid check. Checked against a model of the
//! documented rules: unset pid → `Ok(None)`; a pid that is not a positive decimal
//! (digits only, at most `i32::MAX`) → `InvalidListenPid`, another pid → `WrongPid`;
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
    fds: Option<&[u8]>,
    names: Option<&[u8]>,
) -> Result<Option<usize>, ActivationError> {
    let Some(pid) = pid else { return Ok(None) };
    let pid = match digits(pid) {
        Some(p) if p > 0 && p <= i32::MAX as u64 => p as i32,
        _ => return Err(ActivationError::InvalidListenPid),
    };
    let ours = sys::getpid();
    if pid != ours {
        return Err(ActivationError::WrongPid {
            listen_pid: pid,
            ours,
        });
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

/// Runs the checks on `data`.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0xff);
    let mut vals: [Option<&[u8]>; 3] = [None; 3];
    for (i, v) in vals.iter_mut().enumerate() {
        let part = parts.next().unwrap_or(&[]);
        if flags & (1 << i) != 0 {
            *v = Some(part);
        }
    }
    let own_pid = sys::getpid().to_string();
    if flags & 8 != 0 {
        vals[0] = Some(own_pid.as_bytes());
    }

    let want = model(vals[0], vals[1], vals[2]);
    let got = ListenEnv::from_values(vals[0], vals[1], vals[2]);
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
    let keys = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];
    let decoys: [&[u8]; 3] = [b"1", b"x", b"::"];
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
            || e.starts_with(b"LISTEN_FDS=")
            || e.starts_with(b"LISTEN_FDNAMES=");
        assert_eq!(is_listen_var(e), is, "{e:?}");
    }
}
