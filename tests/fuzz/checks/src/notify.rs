//! Target `notify_message`: `baremsg::notify::parse` (sd_notify messages), the
//! `NOTIFY_SOCKET` value parser, fd names and environment lookups, over arbitrary bytes.
//!
//! Checked against a model written here from the documented rules: `parse` accepts
//! exactly the non-empty messages without NUL whose lines are all `KEY=VALUE` with a key
//! of `A`-`Z`, `0`-`9`, `_` (one trailing newline allowed), and reports the first
//! offending byte's error; its fields are the lines split at their first `=`, in order,
//! and `Fields::get` finds the first of a key. `NotifySocket::parse` accepts `/path` and
//! `@name` of 1 to 107 bytes without NUL and names that address, and `vsock:CID:PORT`
//! (and `vsock-dgram:`, `vsock-seqpacket:`, `vsock-stream:`) with a CID of digits below
//! 2^32 - 1 or `hypervisor`/`local`/`host` and a port of digits below 2^32 - 1.
//! `is_valid_fd_name` is 0 to 255 printable ASCII bytes but `:`. `var` and
//! `is_notify_var` find `KEY=` entries. Every field of an accepted message is typed by
//! `parse_field` without a panic, and a numeric field's value is the model's; the input
//! split at `0xff` as `WATCHDOG_USEC`/`WATCHDOG_PID` values goes through
//! `watchdog_enabled` against its model.

use baremsg::notify::{
    is_notify_var, is_valid_fd_name, parse, parse_field, var, watchdog_enabled, Field,
    MessageError, NotifyError, NotifySocket, VsockType,
};
use baremsg::unix::AddrKind;

fn key_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// The model: the fields, or the error at the first offending byte.
#[allow(clippy::type_complexity)]
fn model(msg: &[u8]) -> Result<Vec<(&[u8], &[u8])>, MessageError> {
    if msg.is_empty() {
        return Err(MessageError::Empty);
    }
    let mut fields = Vec::new();
    let mut line = 0;
    while line < msg.len() {
        // The key: up to the first '='.
        let mut i = line;
        loop {
            match msg.get(i) {
                None => return Err(MessageError::MissingEquals { line }),
                Some(0) => return Err(MessageError::Nul { offset: i }),
                Some(b'\n') => return Err(MessageError::MissingEquals { line }),
                Some(b'=') if i > line => break,
                Some(&b) if key_byte(b) => i += 1,
                Some(_) => return Err(MessageError::InvalidKey { line }),
            }
        }
        let key = &msg[line..i];
        let start = i + 1;
        let end = msg[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(msg.len(), |p| start + p);
        if let Some(p) = msg[start..end].iter().position(|&b| b == 0) {
            return Err(MessageError::Nul { offset: start + p });
        }
        fields.push((key, &msg[start..end]));
        line = end + 1;
    }
    Ok(fields)
}

/// Runs the checks on `data`.
pub fn check(data: &[u8]) {
    // The message parser.
    let want = model(data);
    match parse(data) {
        Ok(fields) => {
            let want =
                want.unwrap_or_else(|e| panic!("parse accepted what breaks the rules: {e:?}"));
            let got: Vec<_> = fields.clone().collect();
            assert_eq!(got, want, "fields");
            for (k, _) in &want {
                let first = want.iter().find(|(k2, _)| k2 == k).map(|(_, v)| *v);
                assert_eq!(fields.get(k), first, "get");
            }
            assert_eq!(fields.get(b"NO SUCH KEY"), None);
        }
        Err(e) => {
            assert_eq!(Err(e), want.map(|_| ()), "error");
            let _ = e.to_string();
        }
    }

    // Every field typed, numbers as the model reads them.
    if let Ok(fields) = parse(data) {
        for (k, v) in fields {
            match parse_field(k, v) {
                Ok(f) => check_typed(k, v, f),
                Err(e) => {
                    assert_eq!(e.key.as_bytes(), k);
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    // WATCHDOG_USEC and WATCHDOG_PID.
    let mut parts = data.split(|&b| b == 0xff);
    let (usec, pid) = (parts.next(), parts.next());
    let own = baremsg::sys::getpid().to_string();
    let pid = if data.first() == Some(&b'!') {
        Some(own.as_bytes())
    } else {
        pid
    };
    let entries: Vec<Vec<u8>> = [("WATCHDOG_USEC=", usec), ("WATCHDOG_PID=", pid)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| [k.as_bytes(), v].concat()))
        .collect();
    let want = match usec.map(digits) {
        None => Ok(None),
        Some(None | Some(0 | u64::MAX)) => Err(NotifyError::InvalidWatchdogUsec),
        Some(Some(u)) => match pid.map(digits) {
            None => Ok(Some(u)),
            Some(Some(p)) if p > 0 && p <= i32::MAX as u64 => {
                Ok((p == u64::from(baremsg::sys::getpid() as u32)).then_some(u))
            }
            Some(_) => Err(NotifyError::InvalidWatchdogPid),
        },
    };
    assert_eq!(watchdog_enabled(entries.iter().map(Vec::as_slice)), want);

    // The NOTIFY_SOCKET value.
    if let Some(want) = vsock_model(data) {
        let got = NotifySocket::parse(data);
        match (got, want) {
            (Ok(s), Some((cid, port, ty))) => {
                let v = s.vsock().expect("a vsock address");
                assert_eq!((v.cid, v.port, v.ty), (cid, port, ty));
                assert!(s.addr().is_none());
            }
            (Err(NotifyError::InvalidVsockAddress { reason }), None) => assert!(!reason.is_empty()),
            (got, want) => panic!("vsock {data:?}: {got:?}, model {want:?}"),
        }
    } else {
        check_unix_address(data);
    }

    // fd names, per `:`-separated piece as LISTEN_FDNAMES holds them.
    assert_eq!(
        is_valid_fd_name(data),
        data.len() <= 255 && data.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b':')
    );

    // Environment lookups: the bytes split into entries at 0xff.
    let env: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    let want = env.iter().find_map(|e| e.strip_prefix(b"NOTIFY_SOCKET="));
    assert_eq!(var(env.iter().copied(), b"NOTIFY_SOCKET"), want);
    for e in &env {
        assert_eq!(is_notify_var(e), e.starts_with(b"NOTIFY_SOCKET="));
    }
}

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// `None`: not a vsock address; `Some(None)`: a malformed one; else CID, port, type.
#[allow(clippy::option_option)]
fn vsock_model(data: &[u8]) -> Option<Option<(u32, u32, VsockType)>> {
    let (ty, rest) = [
        (VsockType::Any, &b"vsock:"[..]),
        (VsockType::Dgram, b"vsock-dgram:"),
        (VsockType::Seqpacket, b"vsock-seqpacket:"),
        (VsockType::Stream, b"vsock-stream:"),
    ]
    .into_iter()
    .find_map(|(t, p)| data.strip_prefix(p).map(|r| (t, r)))?;
    let colon = rest.iter().position(|&b| b == b':');
    Some((|| {
        let colon = colon?;
        let (cid, port) = (&rest[..colon], &rest[colon + 1..]);
        let port = digits(port).filter(|&p| p < u64::from(u32::MAX))? as u32;
        let cid = match cid {
            b"hypervisor" => 0,
            b"local" => 1,
            b"host" => 2,
            c => digits(c).filter(|&c| c < u64::from(u32::MAX))? as u32,
        };
        Some((cid, port, ty))
    })())
}

/// A typed field agrees with its bytes.
fn check_typed(k: &[u8], v: &[u8], f: Field<'_>) {
    let num = digits(v);
    match f {
        Field::MonotonicUsec(n)
        | Field::WatchdogUsec(n)
        | Field::ExtendTimeoutUsec(n)
        | Field::MainPidFdId(n) => {
            assert_eq!(Some(n), num)
        }
        Field::MainPid(p) => assert_eq!(Some(p as u64), num.filter(|&n| n > 0)),
        Field::Errno(e) => assert_eq!(Some(e as u64), num.filter(|&n| n <= 4095)),
        Field::ExitStatus(e) => assert_eq!(Some(u64::from(e)), num.filter(|&n| n <= 255)),
        Field::Status(t) => assert_eq!(t.as_bytes(), v),
        Field::FdName(n) => assert!(n == v && is_valid_fd_name(v)),
        Field::BusError(n) | Field::VarlinkError(n) => assert!(n == v && !v.is_empty()),
        Field::Private(pk, pv) => assert!(pk == k && pv == v && k.starts_with(b"X_")),
        Field::Other(ok, ov) => assert!(ok == k && ov == v && !k.starts_with(b"X_")),
        Field::FdPoll(b) => assert_eq!(v, if b { &b"1"[..] } else { b"0" }),
        Field::WatchdogTrigger => assert_eq!(v, b"trigger"),
        Field::NotifyAccess(a) => assert_eq!(a.as_bytes(), v),
        _ => assert_eq!(v, b"1", "a flag: {f:?}"),
    }
}

/// `NOTIFY_SOCKET` values that are not vsock addresses.
fn check_unix_address(data: &[u8]) {
    match NotifySocket::parse(data) {
        Ok(sock) => {
            let kind = sock.addr().unwrap().kind();
            match data {
                [b'@', name @ ..] => assert_eq!(kind, AddrKind::Abstract(name)),
                [b'/', ..] => assert_eq!(kind, AddrKind::Path(data)),
                _ => panic!("accepted {data:?}"),
            }
            assert!(data.len() - usize::from(data[0] == b'@') <= 107);
            assert!(!data[1..].contains(&0) && data[0] != 0);
        }
        Err(e) => {
            let name = data.strip_prefix(b"@").unwrap_or(data);
            let breaks = name.is_empty()
                || !(data[0] == b'@' || data[0] == b'/')
                || name.len() > 107
                || name.contains(&0);
            assert!(breaks, "refused {data:?}: {e:?}");
            let _ = e.to_string();
        }
    }
}
