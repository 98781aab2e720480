//! The properties baremsg's fuzz targets check, one module per target. The libFuzzer
//! targets (`../fuzz_targets`) and the libFuzzer-free replay tool (`../tools`), which also
//! runs as a 32-bit i686 binary, call the same `check` functions; a violated property
//! panics.
//!
//! | target              | module         | what                                        |
//! |---------------------|----------------|---------------------------------------------|
//! | `cmsg_parse`        | [`cmsg_parse`] | `RawCmsgs` and the three decoders, any bytes |
//! | `encode_roundtrip`  | [`encode`]     | `Encoder` → bytes → parse, structured input |
//! | `unix_addr`         | [`unix_addr`]  | `UnixAddr` constructors, accessors, Display |
//! | `received_control`  | [`received`]   | `ReceivedControl` with harmless fd numbers  |
//! | `notify_message`    | [`notify`]     | sd_notify messages and fields, `NOTIFY_SOCKET`, `WATCHDOG_*`, names |
//! | `listen_env`        | [`activation`] | `LISTEN_PID`/`LISTEN_PIDFDID`/`LISTEN_FDS`/`LISTEN_FDNAMES` |
//! | `recv_batch`        | [`batch`]      | `recv_mmsg`'s per-message walk, via the kernel |
//!
//! A new target: a module here with `pub fn check(&[u8])`, an entry in [`TARGETS`], a
//! file in `../fuzz_targets/`, a `[[bin]]` in `../Cargo.toml`, seeds in
//! `../corpus/<target>/` (`tools/corpus-gen`), and its name in `../run`.

pub mod activation;
pub mod batch;
pub mod cmsg_parse;
pub mod encode;
pub mod model;
pub mod notify;
pub mod received;
pub mod unix_addr;

/// The bytes of a `u64` buffer: an easy way to an 8-byte-aligned byte buffer.
pub fn as_bytes_mut(words: &mut [u64]) -> &mut [u8] {
    // SAFETY: any bytes are valid u8s; the length is the words' size in bytes, and the
    // returned borrow keeps `words` borrowed.
    unsafe {
        std::slice::from_raw_parts_mut(
            words.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(words),
        )
    }
}

/// A copy of some bytes at an 8-byte-aligned address, as `ReceivedControl::new` requires
/// of its buffer (a `Vec<u8>` promises no alignment).
pub struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl From<&[u8]> for AlignedBuf {
    fn from(bytes: &[u8]) -> Self {
        let mut buf = Self {
            words: vec![0; bytes.len().div_ceil(8)],
            len: bytes.len(),
        };
        buf.copy_from_slice(bytes);
        buf
    }
}

impl std::ops::Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: as in `as_bytes_mut`; `len` is at most the words' size in bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }
}

impl std::ops::DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut as_bytes_mut(&mut self.words)[..self.len]
    }
}

/// A target's checks: panics if a property fails for the input.
pub type Check = fn(&[u8]);

/// The targets, by name, for tools that run them all.
pub const TARGETS: &[(&str, Check)] = &[
    ("cmsg_parse", cmsg_parse::check),
    ("encode_roundtrip", encode::check),
    ("unix_addr", unix_addr::check),
    ("received_control", received::check),
    ("notify_message", notify::check),
    ("listen_env", activation::check),
    ("recv_batch", batch::check),
];
