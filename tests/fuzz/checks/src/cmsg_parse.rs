//! Target `cmsg_parse`: `RawCmsgs` and the three decoders over arbitrary bytes.
//!
//! Checked: the walk yields exactly what the reference walk ([`crate::model`]) finds;
//! every data slice lies inside the buffer; the number of items is at most
//! `len / header size`; the iterator is fused and its clones agree; each decoder accepts
//! exactly the messages of its level, type and length and returns the bytes found;
//! errors format without panicking.

use baremsg::cmsg::{parse_pidfd, parse_unix_credentials, parse_unix_rights, RawCmsg, RawCmsgs};
use baremsg::sys::{SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use baremsg::Error;

use crate::model::{self, Item};

/// Runs every check on `data` as given, on an 8-byte-aligned copy, and one byte in.
pub fn check(data: &[u8]) {
    check_walk(data);
    let mut aligned = vec![0u64; data.len().div_ceil(8)];
    let bytes = crate::as_bytes_mut(&mut aligned);
    bytes[..data.len()].copy_from_slice(data);
    check_walk(&bytes[..data.len()]);
    if let Some(rest) = data.get(1..) {
        check_walk(rest);
    }
}

/// Where `inner` starts inside `outer`, asserting it lies wholly inside.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    let start = outer.as_ptr() as usize;
    let p = inner.as_ptr() as usize;
    assert!(
        p >= start && p + inner.len() <= start + outer.len(),
        "slice {p:#x}+{} outside buffer {start:#x}+{}",
        inner.len(),
        outer.len()
    );
    p - start
}

fn check_walk(buf: &[u8]) {
    let expected = model::walk(buf);
    let mut walk = RawCmsgs::new(buf);
    let mut got = Vec::new();
    for (i, item) in walk.by_ref().enumerate() {
        assert!(
            i <= buf.len() / model::HDR,
            "too many items from {} bytes",
            buf.len()
        );
        got.push(item);
    }
    assert!(walk.next().is_none(), "not fused");
    assert!(walk.next().is_none(), "not fused");
    assert_eq!(
        got.len(),
        expected.len(),
        "items: {got:?} vs model {expected:?}"
    );

    for (item, want) in got.iter().zip(&expected) {
        match (item, want) {
            (Err(e), Item::Malformed { offset }) => {
                assert_eq!(*e, Error::MalformedControl { offset: *offset });
                let _ = e.to_string();
            }
            (
                Ok(msg),
                Item::Msg {
                    level,
                    ty,
                    data,
                    truncated,
                    ..
                },
            ) => {
                assert_eq!((msg.level, msg.ty), (*level, *ty));
                assert_eq!(msg.truncated, *truncated);
                let at = offset_in(buf, msg.data);
                assert_eq!(at..at + msg.data.len(), *data, "data range");
                check_decoders(msg);
            }
            (got, want) => panic!("item {got:?}, model says {want:?}"),
        }
    }

    // A clone taken after the first item walks the same rest.
    let mut a = RawCmsgs::new(buf);
    if a.next().is_some() {
        let b = a.clone();
        assert!(a.eq(b), "clone disagrees");
    }
}

fn check_decoders(msg: &RawCmsg<'_>) {
    let sol = msg.level == SOL_SOCKET;
    let bad = Error::BadControlLength {
        level: msg.level,
        ty: msg.ty,
        len: msg.data.len(),
    };

    match parse_unix_rights(msg) {
        Ok(fds) => {
            assert!(sol && msg.ty == SCM_RIGHTS && msg.data.len().is_multiple_of(4));
            assert_eq!(fds.len(), msg.data.len() / 4);
            let want = msg
                .data
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes(c.try_into().unwrap()));
            assert!(fds.eq(want), "fd numbers");
        }
        Err(e) => {
            assert!(!(sol && msg.ty == SCM_RIGHTS && msg.data.len().is_multiple_of(4)));
            assert_eq!(e, bad);
            let _ = e.to_string();
        }
    }

    match parse_unix_credentials(msg) {
        Ok(c) => {
            assert!(sol && msg.ty == SCM_CREDENTIALS && msg.data.len() == 12);
            let d = msg.data;
            assert_eq!(c.pid, i32::from_ne_bytes(d[0..4].try_into().unwrap()));
            assert_eq!(c.uid, u32::from_ne_bytes(d[4..8].try_into().unwrap()));
            assert_eq!(c.gid, u32::from_ne_bytes(d[8..12].try_into().unwrap()));
        }
        Err(e) => {
            assert!(!(sol && msg.ty == SCM_CREDENTIALS && msg.data.len() == 12));
            assert_eq!(e, bad);
        }
    }

    match parse_pidfd(msg) {
        Ok(fd) => {
            assert!(sol && msg.ty == SCM_PIDFD && msg.data.len() == 4);
            assert_eq!(fd, i32::from_ne_bytes(msg.data.try_into().unwrap()));
        }
        Err(e) => {
            assert!(!(sol && msg.ty == SCM_PIDFD && msg.data.len() == 4));
            assert_eq!(e, bad);
            assert_eq!(e.errno(), baremsg::Errno::EINVAL);
        }
    }
}
