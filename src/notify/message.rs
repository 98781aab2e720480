//! Notification messages: `KEY=VALUE` lines, checked and split without allocation.

use core::fmt;

/// The longest message baremsg sends or, by default, expects: 4096 bytes, the receive
/// buffer systemd's manager reads notifications into (`NOTIFY_BUFFER_MAX`, `PIPE_BUF`);
/// anything longer it drops as truncated.
pub const MAX_MESSAGE: usize = 4096;

/// Why a notification message breaks the protocol. Offsets count bytes from the start of
/// the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// The message has no bytes.
    Empty,
    /// The message is longer than the receiver takes.
    TooLong {
        /// Its length.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// A NUL byte at `offset` (systemd drops such messages).
    Nul {
        /// Where.
        offset: usize,
    },
    /// The line starting at `line` has no `=` (an empty line included).
    MissingEquals {
        /// Where the line starts.
        line: usize,
    },
    /// The key of the line starting at `line` is empty or holds a byte other than
    /// `A`-`Z`, `0`-`9` and `_`.
    InvalidKey {
        /// Where the line starts.
        line: usize,
    },
    /// A value given to a typed helper (such as a status text) holds a newline at
    /// `offset` of that value, which would start another assignment.
    NewlineInValue {
        /// Where, in the value.
        offset: usize,
    },
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MessageError::Empty => f.write_str("empty notification message"),
            MessageError::TooLong { len, max } => {
                write!(f, "notification message of {len} bytes, more than {max}")
            }
            MessageError::Nul { offset } => {
                write!(f, "NUL byte at offset {offset} of a notification message")
            }
            MessageError::MissingEquals { line } => {
                write!(f, "line at offset {line} of a notification message is not KEY=VALUE")
            }
            MessageError::InvalidKey { line } => write!(
                f,
                "line at offset {line} of a notification message has a key that is empty or not A-Z, 0-9, _"
            ),
            MessageError::NewlineInValue { offset } => {
                write!(f, "newline at offset {offset} of a value: it would start another assignment")
            }
        }
    }
}

/// Whether `b` may appear in a key.
#[inline]
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    LineStart,
    Key,
    Value,
}

/// Checks a message fed in pieces (the pieces of a vectored send, or one slice).
///
/// The rules: not empty, no NUL byte, every line `KEY=VALUE` with a key of `A`-`Z`,
/// `0`-`9`, `_`; the message may end with one newline.
pub(crate) struct Checker {
    pos: usize,
    line: usize,
    state: State,
}

impl Checker {
    pub(crate) const fn new() -> Self {
        Self {
            pos: 0,
            line: 0,
            state: State::LineStart,
        }
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<(), MessageError> {
        for &b in bytes {
            if b == 0 {
                return Err(MessageError::Nul { offset: self.pos });
            }
            self.state = match (self.state, b) {
                (State::Value, b'\n') => {
                    self.line = self.pos + 1;
                    State::LineStart
                }
                (State::Value, _) => State::Value,
                (State::Key, b'=') => State::Value,
                (_, b'\n') => return Err(MessageError::MissingEquals { line: self.line }),
                (_, b) if is_key_byte(b) => State::Key,
                _ => return Err(MessageError::InvalidKey { line: self.line }),
            };
            self.pos += 1;
        }
        Ok(())
    }

    pub(crate) fn finish(&self) -> Result<usize, MessageError> {
        match self.state {
            State::LineStart if self.pos == 0 => Err(MessageError::Empty),
            State::Key => Err(MessageError::MissingEquals { line: self.line }),
            _ => Ok(self.pos),
        }
    }
}

/// Checks `msg` against the protocol and splits it into its `(key, value)` pairs.
///
/// ```
/// use baremsg::notify::{parse, MessageError};
/// let fields: Vec<_> = parse(b"READY=1\nSTATUS=up: 3 workers\n").unwrap().collect();
/// assert_eq!(fields, [(&b"READY"[..], &b"1"[..]), (b"STATUS", b"up: 3 workers")]);
/// assert_eq!(parse(b"READY").unwrap_err(), MessageError::MissingEquals { line: 0 });
/// ```
pub fn parse(msg: &[u8]) -> Result<Fields<'_>, MessageError> {
    let mut checker = Checker::new();
    checker.feed(msg)?;
    checker.finish()?;
    Ok(Fields { rest: msg })
}

/// The `(key, value)` pairs of a checked message, in order, borrowed from it.
#[derive(Clone, Debug)]
pub struct Fields<'m> {
    rest: &'m [u8],
}

impl<'m> Fields<'m> {
    /// The value of the first field named `key`.
    pub fn get(&self, key: &[u8]) -> Option<&'m [u8]> {
        self.clone().find(|&(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<'m> Iterator for Fields<'m> {
    type Item = (&'m [u8], &'m [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        // Checked: every line has a '='.
        let eq = line.iter().position(|&b| b == b'=').unwrap_or(line.len());
        let value = line.get(eq + 1..).unwrap_or(&[]);
        Some((&line[..eq], value))
    }
}
