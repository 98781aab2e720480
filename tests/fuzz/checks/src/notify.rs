//! Target `notify_message`: `baremsg::notify::parse` (sd_notify messages), the
//! `NOTIFY_SOCKET` value parser, fd names and environment lookups, over arbitrary bytes.
//!
//! Checked against a model written here from the documented rules: `parse` accepts
//! exactly the non-empty messages without NUL whose lines are all `KEY=VALUE` with a key
//! of `A`-`Z`, `0`-`9`, `_` (one trailing newline allowed), and reports the first
//! offending byte's error; its fields are the lines split at their first `=`, in order,
//! and `Fields::get` finds the first of a key. `NotifySocket::parse` accepts `/path` and
//! `@name` of 1 to 107 bytes without NUL and names that address. `is_valid_fd_name` is
//! 1 to 255 printable ASCII bytes but `:`. `var` and `is_notify_var` find `KEY=` entries.

use baremsg::notify::{is_notify_var, is_valid_fd_name, parse, var, MessageError, NotifySocket};
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

    // The NOTIFY_SOCKET value.
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

    // fd names, per `:`-separated piece as LISTEN_FDNAMES holds them.
    assert_eq!(
        is_valid_fd_name(data),
        data.len() <= 255
            && data.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b':')
    );

    // Environment lookups: the bytes split into entries at 0xff.
    let env: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    let want = env.iter().find_map(|e| e.strip_prefix(b"NOTIFY_SOCKET="));
    assert_eq!(var(env.iter().copied(), b"NOTIFY_SOCKET"), want);
    for e in &env {
        assert_eq!(is_notify_var(e), e.starts_with(b"NOTIFY_SOCKET="));
    }
}
