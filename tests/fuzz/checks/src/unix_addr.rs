//! Target `unix_addr`: `UnixAddr::parse`, `from_path`, `from_abstract`, the accessors,
//! equality and `Display`/`Debug` over arbitrary bytes.
//!
//! Checked: each constructor accepts exactly what its doc allows (a path: non-empty, no
//! NUL, at most 107 bytes; an abstract name: at most 107 bytes, any bytes; `parse`: a
//! leading `@` means abstract), and what it accepts reads back unchanged through
//! `kind()`, `as_path()`/`as_abstract()` and the raw `sockaddr_un`; `Display` shows
//! valid UTF-8 as is (an abstract name after `@`), and anything else without panicking,
//! each byte as at most 4 characters.

use std::fmt::Write;

use baremsg::sys::{AF_UNIX, SUN_PATH_LEN, SUN_PATH_OFFSET};
use baremsg::unix::{AddrKind, UnixAddr};
use baremsg::Error;

/// Runs the checks on `data` as a path, as an abstract name and as text.
pub fn check(data: &[u8]) {
    let path_ok = !data.is_empty() && data.len() < SUN_PATH_LEN && !data.contains(&0);
    let path = UnixAddr::from_path(data);
    match &path {
        Ok(a) => {
            assert!(path_ok, "from_path accepted {data:?}");
            check_addr(a, AddrKind::Path(data));
        }
        Err(e) => {
            assert!(!path_ok, "from_path refused {data:?}");
            assert_eq!(*e, Error::InvalidAddress);
        }
    }

    let abs_ok = data.len() < SUN_PATH_LEN;
    let abs = UnixAddr::from_abstract(data);
    match &abs {
        Ok(a) => {
            assert!(abs_ok);
            check_addr(a, AddrKind::Abstract(data));
        }
        Err(e) => {
            assert!(!abs_ok);
            assert_eq!(*e, Error::InvalidAddress);
        }
    }
    if let (Ok(p), Ok(a)) = (&path, &abs) {
        assert_ne!(p, a, "a path equals an abstract name");
    }

    let parsed = UnixAddr::parse(data);
    match data.split_first() {
        Some((b'@', name)) => assert_eq!(parsed, UnixAddr::from_abstract(name)),
        _ => assert_eq!(parsed, path),
    }
    if let Ok(a) = parsed {
        // What Display shows parses back to the same address when it is the bytes
        // themselves (valid UTF-8, so nothing was escaped).
        let shown = a.to_string();
        if std::str::from_utf8(data).is_ok() {
            assert_eq!(UnixAddr::parse(shown.as_bytes()), Ok(a));
        }
    }
}

fn check_addr(a: &UnixAddr, want: AddrKind<'_>) {
    assert_eq!(a.kind(), want);
    assert!(!a.is_unnamed());
    let (raw, len) = a.as_raw();
    assert_eq!(raw.sun_family as i32, AF_UNIX);
    let len = len as usize;
    match want {
        AddrKind::Path(p) => {
            assert_eq!(a.as_path(), Some(p));
            assert_eq!(a.as_abstract(), None);
            assert_eq!(len, SUN_PATH_OFFSET + p.len() + 1);
            assert_eq!(&raw.sun_path[..p.len()], p);
            assert_eq!(raw.sun_path[p.len()], 0);
            check_display(a, "", p);
        }
        AddrKind::Abstract(n) => {
            assert_eq!(a.as_abstract(), Some(n));
            assert_eq!(a.as_path(), None);
            assert_eq!(len, SUN_PATH_OFFSET + 1 + n.len());
            assert_eq!(raw.sun_path[0], 0);
            assert_eq!(&raw.sun_path[1..=n.len()], n);
            check_display(a, "@", n);
        }
        AddrKind::Unnamed => unreachable!(),
    }
    let copy = *a;
    assert_eq!(copy, *a, "a copy is equal");
}

fn check_display(a: &UnixAddr, prefix: &str, bytes: &[u8]) {
    let mut shown = String::new();
    write!(shown, "{a}").expect("Display does not fail");
    let body = shown.strip_prefix(prefix).expect("prefix");
    match std::str::from_utf8(bytes) {
        Ok(s) => assert_eq!(body, s),
        Err(_) => {
            assert!(body.len() <= 4 * bytes.len(), "{body:?} for {bytes:?}");
            assert!(
                body.contains("\\x"),
                "invalid UTF-8 shown without escapes: {body:?}"
            );
        }
    }
    let debug = format!("{a:?}");
    assert!(
        debug.starts_with("UnixAddr(\"") && debug.ends_with("\")"),
        "{debug}"
    );
}
