//! A reference walk over control data, written from the contract in the docs of
//! `baremsg::cmsg::RawCmsgs` and the kernel's `CMSG_NXTHDR` rules, independently of
//! baremsg's code: the checks compare baremsg against it.

use std::ops::Range;

/// `struct cmsghdr`: `cmsg_len` is `__kernel_size_t` (the width of a pointer on both
/// x86_64 and i386), then two `int`s.
pub const HDR: usize = std::mem::size_of::<usize>() + 8;

/// `CMSG_ALIGN`: to `sizeof(long)`.
pub const fn align(n: usize) -> usize {
    let a = std::mem::size_of::<usize>();
    (n + a - 1) & !(a - 1)
}

/// One item of the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A message: its header starts at `offset`, its data is `data` (a range of the
    /// buffer, cut at the buffer's end when `truncated`).
    Msg {
        offset: usize,
        level: i32,
        ty: i32,
        data: Range<usize>,
        truncated: bool,
    },
    /// A header at `offset` whose `cmsg_len` is shorter than a header; the walk ends.
    Malformed { offset: usize },
}

fn word(buf: &[u8], at: usize) -> usize {
    let mut b = [0u8; std::mem::size_of::<usize>()];
    let n = b.len();
    b.copy_from_slice(&buf[at..at + n]);
    usize::from_ne_bytes(b)
}

fn int(buf: &[u8], at: usize) -> i32 {
    i32::from_ne_bytes(buf[at..at + 4].try_into().unwrap())
}

/// Walks `buf`: headers one after another at aligned steps, until less than a header is
/// left, a header is malformed, or a message runs past the end.
pub fn walk(buf: &[u8]) -> Vec<Item> {
    let ks = std::mem::size_of::<usize>();
    let mut items = Vec::new();
    let mut pos = 0;
    while buf.len() - pos >= HDR {
        let len = word(buf, pos);
        let level = int(buf, pos + ks);
        let ty = int(buf, pos + ks + 4);
        if len < HDR {
            items.push(Item::Malformed { offset: pos });
            break;
        }
        let left = buf.len() - pos;
        if len > left {
            items.push(Item::Msg {
                offset: pos,
                level,
                ty,
                data: pos + HDR..buf.len(),
                truncated: true,
            });
            break;
        }
        items.push(Item::Msg {
            offset: pos,
            level,
            ty,
            data: pos + HDR..pos + len,
            truncated: false,
        });
        // len <= left, so the aligned step cannot overflow; it may pass the end.
        pos += align(len);
        if pos >= buf.len() {
            break;
        }
    }
    items
}

/// The offsets of the 4-byte fd slots a receiver owns in `buf`: every whole `int` of a
/// `SOL_SOCKET`/`SCM_RIGHTS` message's data, and the first `int` of a
/// `SOL_SOCKET`/`SCM_PIDFD` message with at least 4 data bytes.
pub fn fd_slots(items: &[Item]) -> Vec<usize> {
    const SOL_SOCKET: i32 = 1;
    const SCM_RIGHTS: i32 = 1;
    const SCM_PIDFD: i32 = 4;
    let mut slots = Vec::new();
    for item in items {
        if let Item::Msg {
            level: SOL_SOCKET,
            ty,
            data,
            ..
        } = item
        {
            match *ty {
                SCM_RIGHTS => slots.extend(data.clone().step_by(4).filter(|&s| s + 4 <= data.end)),
                SCM_PIDFD if data.len() >= 4 => slots.push(data.start),
                _ => {}
            }
        }
    }
    slots
}

/// The `int` at `at`.
pub fn read_int(buf: &[u8], at: usize) -> i32 {
    int(buf, at)
}
