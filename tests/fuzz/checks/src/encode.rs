//! Target `encode_roundtrip`: structured input → `Encoder` → `RawCmsgs` and the
//! decoders give back the same messages.
//!
//! The input is a small byte program (so seeds can be written by hand, see
//! `tools/corpus-gen`):
//!
//! ```text
//! [capacity: u16 le] [flags: u8] op*
//! op = 0 n:u8 idx[n]:u8              push_rights of pool fds idx % POOL
//!    | 1 pid:i32 uid:u32 gid:u32     push_credentials
//!    | 2 level:i32 ty:i32 len:u16 data[len % 2048]   push_raw
//!    | 3 n:u16                       push_rights of n % 300 pool fds (hits the 253 limit)
//! ```
//! (the op byte is taken modulo 4; missing bytes read as zero). Flag bit 0: also check
//! that `Encoder::new` refuses a buffer one byte off alignment; bit 1: encode the first
//! rights or credentials op with `unix_rights`/`unix_credentials` too and compare.
//!
//! Each push is predicted first (nothing for no fds; `RawFdMessage` for a raw
//! `SOL_SOCKET` `SCM_RIGHTS`/`SCM_PIDFD` message; `TooManyFds` past 253 fds in all;
//! `ControlBufferTooSmall` when the message does not fit) and must do exactly that, and
//! a refused push must leave the encoder as it was. The finished bytes must be exactly
//! the predicted messages, zero-padded, and parse back to them.

use std::sync::OnceLock;

use baremsg::cmsg::{
    parse_unix_credentials, parse_unix_rights, unix_credentials, unix_rights, Encoder, RawCmsgs,
};
use baremsg::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use baremsg::sys::{Ucred, SCM_CREDENTIALS, SCM_MAX_FD, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET};
use baremsg::Error;

use crate::model::{self, HDR};

/// Open fds the rights messages name (real ones: `BorrowedFd` requires open fds).
pub const POOL: usize = 64;

fn pool() -> &'static [OwnedFd] {
    static POOL_FDS: OnceLock<Vec<OwnedFd>> = OnceLock::new();
    POOL_FDS.get_or_init(|| {
        let (r, _w) = baremsg::fd::pipe().expect("pipe");
        let mut fds: Vec<OwnedFd> = (1..POOL).map(|_| r.try_clone().expect("dup")).collect();
        fds.push(r);
        fds
    })
}

/// One operation of the program.
#[derive(Clone, Debug)]
pub enum Op {
    /// Rights for these pool indices.
    Rights(Vec<usize>),
    /// Credentials.
    Credentials(Ucred),
    /// A raw message.
    Raw(i32, i32, Vec<u8>),
}

/// A decoded program.
#[derive(Clone, Debug)]
pub struct Program {
    pub capacity: usize,
    pub flags: u8,
    pub ops: Vec<Op>,
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn byte(&mut self) -> u8 {
        self.u8().unwrap_or(0)
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// Decodes the byte program; every input decodes to something.
pub fn decode(data: &[u8]) -> Program {
    let mut r = Reader(data);
    let capacity = r.u16() as usize;
    let flags = r.byte();
    let mut ops = Vec::new();
    while let Some(op) = r.u8() {
        ops.push(match op % 4 {
            0 => {
                let n = r.byte() as usize;
                Op::Rights((0..n).map(|_| r.byte() as usize % POOL).collect())
            }
            1 => Op::Credentials(Ucred {
                pid: r.u32() as i32,
                uid: r.u32(),
                gid: r.u32(),
            }),
            2 => {
                let level = r.u32() as i32;
                let ty = r.u32() as i32;
                let len = r.u16() as usize % 2048;
                Op::Raw(level, ty, r.bytes(len))
            }
            _ => {
                let n = r.u16() as usize % 300;
                Op::Rights((0..n).map(|i| (i * 7) % POOL).collect())
            }
        });
    }
    Program {
        capacity,
        flags,
        ops,
    }
}

/// Encodes `program` back to bytes (for writing seeds).
pub fn encode_program(p: &Program) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(p.capacity as u16).to_le_bytes());
    out.push(p.flags);
    for op in &p.ops {
        match op {
            Op::Rights(idx) if idx.len() <= 255 && idx.iter().all(|&i| i < POOL) => {
                out.push(0);
                out.push(idx.len() as u8);
                out.extend(idx.iter().map(|&i| i as u8));
            }
            Op::Rights(idx) => {
                out.push(3);
                out.extend_from_slice(&(idx.len() as u16).to_le_bytes());
            }
            Op::Credentials(c) => {
                out.push(1);
                out.extend_from_slice(&c.pid.to_le_bytes());
                out.extend_from_slice(&c.uid.to_le_bytes());
                out.extend_from_slice(&c.gid.to_le_bytes());
            }
            Op::Raw(level, ty, data) => {
                out.push(2);
                out.extend_from_slice(&level.to_le_bytes());
                out.extend_from_slice(&ty.to_le_bytes());
                out.extend_from_slice(&(data.len() as u16).to_le_bytes());
                out.extend_from_slice(data);
            }
        }
    }
    out
}

/// What the encoder should have produced: one message.
#[derive(Debug)]
struct Expected {
    level: i32,
    ty: i32,
    data: Vec<u8>,
}

fn space(data_len: usize) -> usize {
    HDR + model::align(data_len)
}

/// Runs the checks on the program in `data`.
pub fn check(data: &[u8]) {
    let p = decode(data);
    let pool = pool();
    let borrowed: Vec<BorrowedFd<'static>> = pool.iter().map(|f| f.as_fd()).collect();

    let mut storage = vec![0u64; p.capacity.div_ceil(8) + 1];
    let whole = crate::as_bytes_mut(&mut storage);

    if p.flags & 1 != 0 {
        assert!(matches!(
            Encoder::new(&mut whole[1..]),
            Err(Error::ControlBufferMisaligned)
        ));
    }
    if p.flags & 2 != 0 {
        check_one_shot_helpers(&p, &borrowed);
    }

    // Garbage in the buffer must not survive: the encoder writes every byte it claims.
    whole.fill(0xa5);
    let buf = &mut whole[..p.capacity];
    let mut enc = Encoder::new(buf).expect("aligned buffer");
    let mut expected: Vec<Expected> = Vec::new();
    let (mut len, mut fds) = (0usize, 0usize);

    for op in &p.ops {
        let (level, ty, payload, nfds) = match op {
            Op::Rights(idx) => {
                let data: Vec<u8> = idx
                    .iter()
                    .flat_map(|&i| pool[i].as_raw_fd().to_ne_bytes())
                    .collect();
                (SOL_SOCKET, SCM_RIGHTS, data, idx.len())
            }
            Op::Credentials(c) => {
                let mut d = Vec::new();
                d.extend_from_slice(&c.pid.to_ne_bytes());
                d.extend_from_slice(&c.uid.to_ne_bytes());
                d.extend_from_slice(&c.gid.to_ne_bytes());
                (SOL_SOCKET, SCM_CREDENTIALS, d, 0)
            }
            Op::Raw(level, ty, d) => (*level, *ty, d.clone(), 0),
        };
        let predicted = if matches!(op, Op::Rights(idx) if idx.is_empty()) {
            Ok(false)
        } else if matches!(op, Op::Raw(..))
            && level == SOL_SOCKET
            && (ty == SCM_RIGHTS || ty == SCM_PIDFD)
        {
            // fd numbers pass only through `push_rights`, which borrows them.
            Err(Error::RawFdMessage { ty })
        } else if fds + nfds > SCM_MAX_FD {
            Err(Error::TooManyFds { count: fds + nfds })
        } else if len + space(payload.len()) > p.capacity {
            Err(Error::ControlBufferTooSmall {
                needed: len + space(payload.len()),
                capacity: p.capacity,
            })
        } else {
            Ok(true)
        };
        let res = match op {
            Op::Rights(idx) => {
                let b: Vec<BorrowedFd<'static>> = idx.iter().map(|&i| borrowed[i]).collect();
                enc.push_rights(&b)
            }
            Op::Credentials(c) => enc.push_credentials(c),
            Op::Raw(level, ty, d) => enc.push_raw(*level, *ty, d),
        };
        match (predicted, res) {
            (Ok(added), Ok(())) => {
                if added {
                    len += space(payload.len());
                    fds += nfds;
                    expected.push(Expected {
                        level,
                        ty,
                        data: payload,
                    });
                }
            }
            (Err(want), Err(got)) => assert_eq!(got, want),
            (want, got) => panic!("{op:?}: predicted {want:?}, got {got:?}"),
        }
        assert_eq!(enc.len(), len, "encoded length after {op:?}");
        assert_eq!(enc.is_empty(), len == 0);
    }

    let cmsgs = enc.finish();
    assert_eq!(cmsgs.fd_count(), fds);
    assert_eq!(cmsgs.is_empty(), len == 0);
    let bytes = cmsgs.as_bytes();
    assert_eq!(bytes.len(), len);
    assert_eq!(bytes.as_ptr() as usize % std::mem::align_of::<usize>(), 0);

    // The exact bytes: header, data, zero padding.
    let mut want = Vec::with_capacity(len);
    for e in &expected {
        want.extend_from_slice(&(HDR + e.data.len()).to_ne_bytes());
        want.extend_from_slice(&e.level.to_ne_bytes());
        want.extend_from_slice(&e.ty.to_ne_bytes());
        want.extend_from_slice(&e.data);
        want.resize(want.len() + model::align(e.data.len()) - e.data.len(), 0);
    }
    assert_eq!(bytes, &want[..], "encoded bytes");

    // And they parse back.
    let parsed: Vec<_> = RawCmsgs::new(bytes).collect();
    assert_eq!(parsed.len(), expected.len());
    for (m, e) in parsed.iter().zip(&expected) {
        let m = m.as_ref().expect("well-formed");
        assert!(!m.truncated);
        assert_eq!((m.level, m.ty, m.data), (e.level, e.ty, &e.data[..]));
        if (e.level, e.ty) == (SOL_SOCKET, SCM_RIGHTS) && e.data.len() % 4 == 0 {
            let fds: Vec<i32> = parse_unix_rights(m).unwrap().collect();
            let want: Vec<i32> = e
                .data
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(fds, want);
        }
        if (e.level, e.ty) == (SOL_SOCKET, SCM_CREDENTIALS) && e.data.len() == 12 {
            let c = parse_unix_credentials(m).unwrap();
            let mut d = Vec::new();
            d.extend_from_slice(&c.pid.to_ne_bytes());
            d.extend_from_slice(&c.uid.to_ne_bytes());
            d.extend_from_slice(&c.gid.to_ne_bytes());
            assert_eq!(d, e.data);
        }
    }
}

/// `unix_rights` / `unix_credentials` on the first op they apply to give the same bytes
/// as an `Encoder` with that op alone, or the same error.
fn check_one_shot_helpers(p: &Program, borrowed: &[BorrowedFd<'static>]) {
    let mut a = vec![0u64; p.capacity.div_ceil(8) + 1];
    let mut b = vec![0u64; p.capacity.div_ceil(8) + 1];
    let a = &mut crate::as_bytes_mut(&mut a)[..p.capacity];
    let b = &mut crate::as_bytes_mut(&mut b)[..p.capacity];
    for op in &p.ops {
        match op {
            Op::Rights(idx) => {
                let fds: Vec<BorrowedFd<'static>> = idx.iter().map(|&i| borrowed[i]).collect();
                let one = unix_rights(a, &fds).map(|c| c.as_bytes().to_vec());
                let mut enc = Encoder::new(b).unwrap();
                let two = enc
                    .push_rights(&fds)
                    .map(|()| enc.finish().as_bytes().to_vec());
                assert_eq!(one, two);
                return;
            }
            Op::Credentials(c) => {
                let one = unix_credentials(a, c).map(|c| c.as_bytes().to_vec());
                let mut enc = Encoder::new(b).unwrap();
                let two = enc
                    .push_credentials(c)
                    .map(|()| enc.finish().as_bytes().to_vec());
                assert_eq!(one, two);
                return;
            }
            Op::Raw(..) => {}
        }
    }
}
