//! The command line: `baremsg-init [OPTIONS] -- PROGRAM [ARGS...]`.

use core::time::Duration;

use crate::rt::Args;

/// How many `--listen` sockets at most.
pub const MAX_LISTEN: usize = 16;

pub const USAGE: &[u8] = b"usage: baremsg-init [OPTIONS] [--] PROGRAM [ARGS...]
  -s, --subreaper           be a child subreaper (on anyway when not PID 1)
  -g, --group               signal the service's own process group
  --listen PATH[:NAME]      a Unix stream socket (@NAME: abstract) at fd 3.., LISTEN_FDS
  --listen-seqpacket PATH[:NAME], --listen-datagram PATH[:NAME]
  --notify                  NOTIFY_SOCKET for the service; wait for READY=1
  --start-timeout T         SIGKILL if no READY=1 within T
  --watchdog T              WATCHDOG_USEC; SIGKILL if no WATCHDOG=1 within T
  --stop-timeout T          SIGKILL if not ended T after the stop (10s)
  --restart never|on-failure|always   (never)
  --restart-delay T, --restart-delay-max T   doubling from 100ms up to 10s
  --fdstore N               keep N fds sent with FDSTORE=1 (0; at most 64)
  T: seconds, or 250ms, 3s
";

/// When the service is started again after it ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Never,
    OnFailure,
    Always,
}

/// The kind of an activation socket.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stream,
    Seqpacket,
    Datagram,
}

/// One `--listen`: the address as written, and the name for `LISTEN_FDNAMES`.
#[derive(Clone, Copy)]
pub struct Listen {
    pub addr: &'static [u8],
    pub name: &'static [u8],
    pub kind: Kind,
}

pub struct Opts {
    pub subreaper: bool,
    pub group: bool,
    pub notify: bool,
    pub start_timeout: Option<Duration>,
    pub watchdog: Option<Duration>,
    pub stop_timeout: Duration,
    pub restart: Restart,
    pub delay: Duration,
    pub delay_max: Duration,
    pub fdstore: usize,
    pub listen: [Option<Listen>; MAX_LISTEN],
    /// Index in `argv` of PROGRAM.
    pub program: usize,
}

/// Why the command line was refused: a message, and the argument it is about.
pub struct Bad(pub &'static [u8], pub &'static [u8]);

pub const MAX_FDSTORE: usize = 64;

/// The options that take a value.
const VALUED: [&[u8]; 10] = [
    b"--start-timeout",
    b"--watchdog",
    b"--stop-timeout",
    b"--restart-delay",
    b"--restart-delay-max",
    b"--restart",
    b"--fdstore",
    b"--listen",
    b"--listen-seqpacket",
    b"--listen-datagram",
];

pub fn parse(args: &Args) -> Result<Opts, Bad> {
    let mut o = Opts {
        subreaper: false,
        group: false,
        notify: false,
        start_timeout: None,
        watchdog: None,
        stop_timeout: Duration::from_secs(10),
        restart: Restart::Never,
        delay: Duration::from_millis(100),
        delay_max: Duration::from_secs(10),
        fdstore: 0,
        listen: [None; MAX_LISTEN],
        program: 0,
    };
    let mut i = 1;
    let mut listens = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        let v = if VALUED.contains(&arg) {
            i += 1;
            args.get(i - 1)
                .ok_or(Bad(b"a value is missing after", arg))?
        } else {
            b""
        };
        match arg {
            b"--" => break,
            b"-s" | b"--subreaper" => o.subreaper = true,
            b"-g" | b"--group" => o.group = true,
            b"--notify" => o.notify = true,
            // 0: none, as in systemd.
            b"--start-timeout" => o.start_timeout = Some(duration(v)?).filter(|d| !d.is_zero()),
            b"--watchdog" => o.watchdog = Some(duration(v)?).filter(|d| !d.is_zero()),
            b"--stop-timeout" => o.stop_timeout = duration(v)?,
            b"--restart-delay" => o.delay = duration(v)?,
            b"--restart-delay-max" => o.delay_max = duration(v)?,
            b"--restart" => {
                o.restart = match v {
                    b"never" => Restart::Never,
                    b"on-failure" => Restart::OnFailure,
                    b"always" => Restart::Always,
                    _ => return Err(Bad(b"--restart takes never, on-failure or always, not", v)),
                }
            }
            b"--fdstore" => {
                o.fdstore = match number(v) {
                    Some(n) if n <= MAX_FDSTORE as u64 => n as usize,
                    _ => return Err(Bad(b"--fdstore takes a number from 0 to 64, not", v)),
                }
            }
            b"--listen" | b"--listen-seqpacket" | b"--listen-datagram" => {
                let kind = match arg {
                    b"--listen" => Kind::Stream,
                    b"--listen-seqpacket" => Kind::Seqpacket,
                    _ => Kind::Datagram,
                };
                let slot = o
                    .listen
                    .get_mut(listens)
                    .ok_or(Bad(b"too many sockets (at most 16), at", v))?;
                *slot = Some(listen(v, kind)?);
                listens += 1;
            }
            _ if arg.first() == Some(&b'-') => return Err(Bad(b"unknown option", arg)),
            _ => {
                i -= 1;
                break;
            }
        }
    }
    if args.get(i).is_none() {
        return Err(Bad(b"no program to run", b""));
    }
    o.program = i;
    o.notify |= o.start_timeout.is_some() || o.watchdog.is_some() || o.fdstore > 0;
    if o.delay > o.delay_max {
        o.delay_max = o.delay;
    }
    Ok(o)
}

/// `PATH[:NAME]`, split at the last `:`; without a name, the last part of the path.
fn listen(v: &'static [u8], kind: Kind) -> Result<Listen, Bad> {
    let (addr, name) = match v.iter().rposition(|&b| b == b':') {
        Some(at) => (v.get(..at).unwrap_or(&[]), v.get(at + 1..).unwrap_or(&[])),
        None => {
            let base = match v.iter().rposition(|&b| b == b'/' || b == b'@') {
                Some(at) => v.get(at + 1..).unwrap_or(&[]),
                None => v,
            };
            (v, base)
        }
    };
    if addr.is_empty() {
        return Err(Bad(b"--listen wants a path, not", v));
    }
    if name.is_empty() || !baremsg::notify::is_valid_fd_name(name) {
        return Err(Bad(
            b"a socket's name is 1 to 255 printable characters but ':', in",
            v,
        ));
    }
    Ok(Listen { addr, name, kind })
}

/// A decimal number (no sign, no overflow).
fn number(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// `N` or `Ns` seconds, `Nms` milliseconds.
fn duration(v: &'static [u8]) -> Result<Duration, Bad> {
    let bad = Bad(b"a time is a number of seconds, or 250ms, 3s; not", v);
    let (digits, ms) = match v {
        [d @ .., b'm', b's'] => (d, true),
        [d @ .., b's'] => (d, false),
        d => (d, false),
    };
    match number(digits) {
        Some(n) if ms => Ok(Duration::from_millis(n)),
        Some(n) if n <= u64::from(u32::MAX) => Ok(Duration::from_secs(n)),
        _ => Err(bad),
    }
}
