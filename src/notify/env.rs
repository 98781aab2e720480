//! The environment as a program without libc sees it: `KEY=VALUE` byte strings.

use core::marker::PhantomData;

/// The environment array a freestanding `_start` receives (`envp`), as an iterator over
/// its `KEY=VALUE` entries, without their terminating NUL.
///
/// ```no_run
/// # let envp: *const *const u8 = core::ptr::null();
/// // SAFETY: `envp` is the array the kernel put on the initial stack.
/// let env = unsafe { baremsg::notify::Envp::from_raw(envp) };
/// let notified = baremsg::notify::notify(env, b"READY=1");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Envp<'a> {
    next: *const *const u8,
    _env: PhantomData<&'a [u8]>,
}

impl<'a> Envp<'a> {
    /// Wraps `envp`; a null `envp` is an empty environment.
    ///
    /// # Safety
    /// `envp` is null or points to an array of pointers ended by a null pointer, each
    /// pointing to a NUL-terminated string; the array and the strings stay valid and
    /// unchanged for `'a` (true of the `envp` the kernel hands to `_start` for as long as
    /// the program does not change it).
    pub unsafe fn from_raw(envp: *const *const u8) -> Self {
        Self {
            next: envp,
            _env: PhantomData,
        }
    }
}

impl<'a> Iterator for Envp<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: `from_raw`'s contract: `next` points into the array, which is ended by
        // a null pointer that this iterator stops at.
        let entry = unsafe { *self.next };
        if entry.is_null() {
            self.next = core::ptr::null();
            return None;
        }
        // SAFETY: not past the end: the current entry was not the null pointer.
        self.next = unsafe { self.next.add(1) };
        // SAFETY: `entry` is a NUL-terminated string valid for 'a (the contract).
        Some(unsafe { core::ffi::CStr::from_ptr(entry.cast()) }.to_bytes())
    }
}

/// The value of the first `key=...` entry of `env`, as `getenv(3)` finds it.
pub fn var<'e, I>(env: I, key: &[u8]) -> Option<&'e [u8]>
where
    I: IntoIterator<Item = &'e [u8]>,
{
    env.into_iter().find_map(|entry| value_of(entry, key))
}

/// `entry`'s value if it is `key=value`.
pub(crate) fn value_of<'e>(entry: &'e [u8], key: &[u8]) -> Option<&'e [u8]> {
    match entry.strip_prefix(key) {
        Some([b'=', value @ ..]) => Some(value),
        _ => None,
    }
}

/// Parses a decimal number of ASCII digits only (no sign, no spaces), at most `max`.
pub(crate) fn parse_decimal(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if n > max {
            return None;
        }
    }
    Some(n)
}
