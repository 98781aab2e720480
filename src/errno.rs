//! Linux error numbers as a small, copyable type. [`Errno`] wraps one of the
//! kernel's errno values (the asm-generic numbering, which every supported
//! architecture shares), converts the raw system call return convention (`-4095..=-1`) into
//! a typed error, and knows the symbolic name and a short description of every
//! errno the kernel defines, without allocating and without `libc`.
//!
//! ```
//! use baremsg::Errno;
//!
//! let e = Errno::from_raw(2);
//! assert_eq!(e, Errno::ENOENT);
//! assert_eq!(e.name(), Some("ENOENT"));
//! assert_eq!(e.description(), Some("No such file or directory"));
//! // The raw syscall return convention: -4095..=-1 is an error.
//! assert_eq!(Errno::from_ret(-9), Some(Errno::EBADF));
//! assert_eq!(Errno::from_ret(3), None);
//! ```

use core::fmt;

/// A Linux error number in the range `1..=4095`.
///
/// Values are the kernel's asm-generic errno numbers, which are the same on
/// x86, x86_64, arm, aarch64 and riscv64. Every errno the kernel defines (1 to 133) has an
/// associated constant such as [`Errno::EBADF`]; other values in range can
/// still be held and are shown by number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Errno(u16);

/// Generates, from one list, the associated constants plus the `name` and
/// `description` lookups, so that each errno is written exactly once. The names and
/// the descriptions are each one string, cut by a table of `u16` offsets indexed by
/// the number: a few hundred bytes of table where a `match` returning `&str`s costs a
/// 16-byte entry per errno, twice, in every binary that formats an error.
macro_rules! errno_table {
    ($($name:ident = $num:literal, $desc:literal;)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($num), "): ", $desc, ".")]
                pub const $name: Errno = Errno($num);
            )*

            /// The symbolic name of this errno, such as `Some("EBADF")`, or
            /// `None` for a number the kernel does not define.
            ///
            /// Aliases share their primary's number and so report the
            /// primary name: `EWOULDBLOCK` gives `"EAGAIN"`.
            pub const fn name(self) -> Option<&'static str> {
                NAMES.get(self.0)
            }

            /// A short English description of this errno, such as
            /// `Some("Bad file descriptor")`, or `None` for a number the
            /// kernel does not define.
            pub const fn description(self) -> Option<&'static str> {
                DESCRIPTIONS.get(self.0)
            }
        }

        /// The numbers the table defines, in its order.
        const NUMBERS: &[u16] = &[$($num),*];
        /// The largest number the table defines.
        const LAST: usize = NUMBERS[NUMBERS.len() - 1] as usize;

        const NAMES: Packed<{ LAST + 2 }> =
            Packed::new(concat!($(stringify!($name)),*), NUMBERS, &[$(stringify!($name).len()),*]);
        const DESCRIPTIONS: Packed<{ LAST + 2 }> =
            Packed::new(concat!($($desc),*), NUMBERS, &[$($desc.len()),*]);
    };
}

/// Strings for the numbers `0..M - 1`, packed: the string of `n` is
/// `text[offsets[n]..offsets[n + 1]]`, empty for a number without one.
struct Packed<const M: usize> {
    text: &'static str,
    offsets: [u16; M],
}

impl<const M: usize> Packed<M> {
    /// Packs `text`, the concatenation of one string per number in `numbers` (ascending,
    /// each once) whose lengths are `lens`. Checked at compile time: the order, the
    /// lengths, and that `text` is ASCII (so every offset is a character boundary).
    const fn new(text: &'static str, numbers: &[u16], lens: &[usize]) -> Self {
        assert!(numbers.len() == lens.len());
        assert!(text.len() <= u16::MAX as usize);
        let bytes = text.as_bytes();
        let mut b = 0;
        while b < bytes.len() {
            assert!(bytes[b].is_ascii());
            b += 1;
        }
        let mut offsets = [0u16; M];
        let (mut n, mut i, mut pos) = (0, 0, 0);
        while n < M {
            offsets[n] = pos as u16;
            if i < numbers.len() && numbers[i] as usize == n {
                pos += lens[i];
                i += 1;
            }
            n += 1;
        }
        assert!(i == numbers.len() && pos == text.len());
        Packed { text, offsets }
    }

    /// The string of `n`, `None` for a number without one.
    const fn get(&self, n: u16) -> Option<&'static str> {
        let n = n as usize;
        if n + 1 >= M {
            return None;
        }
        let (start, end) = (self.offsets[n] as usize, self.offsets[n + 1] as usize);
        if start == end {
            return None;
        }
        let (_, rest) = self.text.as_bytes().split_at(start);
        let (s, _) = rest.split_at(end - start);
        // SAFETY: `text` is ASCII (checked in `new`), so any cut of it is UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(s) })
    }
}

errno_table! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ECHRNG = 44, "Channel number out of range";
    EL2NSYNC = 45, "Level 2 not synchronized";
    EL3HLT = 46, "Level 3 halted";
    EL3RST = 47, "Level 3 reset";
    ELNRNG = 48, "Link number out of range";
    EUNATCH = 49, "Protocol driver not attached";
    ENOCSI = 50, "No CSI structure available";
    EL2HLT = 51, "Level 2 halted";
    EBADE = 52, "Invalid exchange";
    EBADR = 53, "Invalid request descriptor";
    EXFULL = 54, "Exchange full";
    ENOANO = 55, "No anode";
    EBADRQC = 56, "Invalid request code";
    EBADSLT = 57, "Invalid slot";
    EBFONT = 59, "Bad font file format";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOSR = 63, "Out of streams resources";
    ENONET = 64, "Machine is not on the network";
    ENOPKG = 65, "Package not installed";
    EREMOTE = 66, "Object is remote";
    ENOLINK = 67, "Link has been severed";
    EADV = 68, "Advertise error";
    ESRMNT = 69, "Srmount error";
    ECOMM = 70, "Communication error on send";
    EPROTO = 71, "Protocol error";
    EMULTIHOP = 72, "Multihop attempted";
    EDOTDOT = 73, "RFS specific error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTUNIQ = 76, "Name not unique on network";
    EBADFD = 77, "File descriptor in bad state";
    EREMCHG = 78, "Remote address changed";
    ELIBACC = 79, "Can not access a needed shared library";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ELIBSCN = 81, ".lib section in a.out corrupted";
    ELIBMAX = 82, "Attempting to link in too many shared libraries";
    ELIBEXEC = 83, "Cannot exec a shared library directly";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    ESTRPIPE = 86, "Streams pipe error";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EUCLEAN = 117, "Structure needs cleaning";
    ENOTNAM = 118, "Not a XENIX named type file";
    ENAVAIL = 119, "No XENIX semaphores available";
    EISNAM = 120, "Is a named type file";
    EREMOTEIO = 121, "Remote I/O error";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    EMEDIUMTYPE = 124, "Wrong medium type";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EKEYEXPIRED = 127, "Key has expired";
    EKEYREVOKED = 128, "Key has been revoked";
    EKEYREJECTED = 129, "Key was rejected by service";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
}

impl Errno {
    /// Alias of [`Errno::EAGAIN`] (11): the operation would block.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// Alias of [`Errno::EDEADLK`] (35): resource deadlock avoided.
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// Alias of [`Errno::EOPNOTSUPP`] (95): operation not supported.
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// The largest errno value, and the magnitude of the most negative
    /// error return a system call can produce.
    const MAX: u16 = 4095;

    /// Builds an `Errno` from a positive error number such as `9`.
    ///
    /// Values in `1..=4095` are stored as they are. Any other value (zero,
    /// negative, or above 4095) is clamped to `Errno(4095)`, so the result
    /// is always a valid errno; pass positive numbers, not raw negative
    /// system call returns (use [`Errno::from_ret`] for those).
    pub const fn from_raw(raw: i32) -> Errno {
        if matches!(raw, 1..=4095) {
            Errno(raw as u16)
        } else {
            Errno(Errno::MAX)
        }
    }

    /// Interprets a raw system call return value.
    ///
    /// The kernel reports failure by returning `-errno`, a value in
    /// `-4095..=-1`. Such a value gives `Some(errno)`; anything else (zero,
    /// a positive result, or a large negative value such as an address)
    /// is a success and gives `None`.
    pub const fn from_ret(ret: isize) -> Option<Errno> {
        if matches!(ret, -4095..=-1) {
            Some(Errno((-ret) as u16))
        } else {
            None
        }
    }

    /// The positive error number, such as `9` for [`Errno::EBADF`].
    pub const fn raw(self) -> i32 {
        self.0 as i32
    }
}

impl fmt::Debug for Errno {
    /// Formats as `Errno(EBADF)`, or `Errno(999)` for an unnamed number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    /// Formats as `EBADF (9): Bad file descriptor`, or `errno 999` for an
    /// unnamed number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(desc)) => write!(f, "{name} ({}): {desc}", self.0),
            _ => write!(f, "errno {}", self.0),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Errno {}

#[cfg(feature = "std")]
impl From<Errno> for std::io::Error {
    /// Converts to an OS error carrying the same error number.
    fn from(errno: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(errno.raw())
    }
}
