//! Waiting for several things at once, for a supervisor's loop: [`Epoll`] over any fds
//! (a notify socket, a child's [`Pidfd`](crate::process::Pidfd), a [`SignalFd`], a
//! [`TimerFd`]), with timers and signals as fds; [`poll`] for a few fds without an epoll
//! instance. No allocation, no libc; every fd close-on-exec. `examples/supervisor.rs` is
//! a whole supervisor's loop built on them.
//!
//! ```no_run
//! use std::time::Duration;
//! use baremsg::event::{Epoll, TimerFd, READABLE};
//! use baremsg::sys::{EpollEvent, CLOCK_MONOTONIC};
//! # fn main() -> Result<(), baremsg::Errno> {
//! # let (sock, _) = baremsg::unix::UnixDatagram::pair().unwrap();
//! let timeout = TimerFd::new(CLOCK_MONOTONIC)?;
//! timeout.set(Duration::from_secs(5), None)?;
//! let epoll = Epoll::new()?;
//! epoll.add(&sock, READABLE, 1)?;
//! epoll.add(&timeout, READABLE, 2)?;
//! let mut events = [EpollEvent::default(); 8];
//! for ev in epoll.wait(&mut events, None)? {
//!     match ev.data {
//!         1 => { /* a message is waiting */ }
//!         _ => { /* five seconds passed */ }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use core::time::Duration;

use crate::fd::{self, AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use crate::sys::{self, EpollEvent, Itimerspec, SignalfdSiginfo, Sigset, Timespec};
use crate::Errno;

/// `EPOLLIN`: readable (a pidfd: its process exited; a timerfd: it expired).
pub const READABLE: u32 = sys::EPOLLIN;
/// `EPOLLOUT`: writable.
pub const WRITABLE: u32 = sys::EPOLLOUT;

/// An epoll instance (`epoll(7)`), close-on-exec.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> Result<Self, Errno> {
        // SAFETY: epoll_create1 returns a new fd that nobody else owns; it is wrapped at once.
        let fd = unsafe { OwnedFd::from_raw_fd(sys::epoll_create1(sys::EPOLL_CLOEXEC)?) };
        Ok(Self { fd })
    }

    fn ctl(&self, op: i32, fd: BorrowedFd<'_>, events: u32, data: u64) -> Result<(), Errno> {
        let ev = EpollEvent { events, data };
        // SAFETY: `ev` is readable; `fd` is borrowed, so open.
        unsafe { sys::epoll_ctl(self.fd.as_raw_fd(), op, fd.as_raw_fd(), &ev) }
    }

    /// Watches `fd` for `events` (`READABLE`, `WRITABLE`, or any `EPOLL*` flags); each
    /// event comes back with `data`. The epoll instance holds on to the open file, not to
    /// the borrow: remove it with [`delete`](Self::delete) before closing `fd` (an fd
    /// closed while watched stays watched while any copy of it is open).
    pub fn add(&self, fd: impl AsFd, events: u32, data: u64) -> Result<(), Errno> {
        self.ctl(sys::EPOLL_CTL_ADD, fd.as_fd(), events, data)
    }

    /// Changes what `fd` is watched for.
    pub fn modify(&self, fd: impl AsFd, events: u32, data: u64) -> Result<(), Errno> {
        self.ctl(sys::EPOLL_CTL_MOD, fd.as_fd(), events, data)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: impl AsFd) -> Result<(), Errno> {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL; `fd` is open.
        unsafe {
            sys::epoll_ctl(
                self.fd.as_raw_fd(),
                sys::EPOLL_CTL_DEL,
                fd.as_fd().as_raw_fd(),
                core::ptr::null(),
            )
        }
    }

    /// `epoll_pwait(2)`: waits until something is ready or `timeout` passes (`None`:
    /// forever; rounded up to whole milliseconds) and returns the events stored in
    /// `events` (empty on timeout). `EINTR` when a signal interrupts the wait (reported,
    /// not retried, as everywhere in baremsg).
    pub fn wait<'e>(
        &self,
        events: &'e mut [EpollEvent],
        timeout: Option<Duration>,
    ) -> Result<&'e [EpollEvent], Errno> {
        let ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        // SAFETY: the kernel writes at most `events.len()` entries.
        let n = unsafe { sys::epoll_pwait(self.fd.as_raw_fd(), events, ms) }?;
        Ok(&events[..n.min(events.len())])
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A timer read through an fd (`timerfd_create(2)`), close-on-exec: readable once it has
/// expired; [`read`](Self::read) says how many times.
#[derive(Debug)]
pub struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    /// A disarmed timer on `clock` (`CLOCK_MONOTONIC` for timeouts, `CLOCK_BOOTTIME` to
    /// count suspend, `CLOCK_REALTIME`).
    pub fn new(clock: i32) -> Result<Self, Errno> {
        // SAFETY: timerfd_create returns a new fd that nobody else owns; it is wrapped at once.
        let fd = unsafe { OwnedFd::from_raw_fd(sys::timerfd_create(clock, sys::TFD_CLOEXEC)?) };
        Ok(Self { fd })
    }

    /// Arms the timer to expire `after` from now (a zero duration expires at once, not
    /// "disarm"), then every `interval` if given.
    pub fn set(&self, after: Duration, interval: Option<Duration>) -> Result<(), Errno> {
        let mut value = Timespec::from_duration(after);
        if value == Timespec::default() {
            value.tv_nsec = 1; // zero would disarm
        }
        self.settime(0, value, interval)
    }

    /// Arms the timer to expire at `deadline` on its clock (`clock_gettime`'s time), then
    /// every `interval` if given. A deadline already past expires at once.
    pub fn set_deadline(
        &self,
        deadline: Timespec,
        interval: Option<Duration>,
    ) -> Result<(), Errno> {
        let mut value = deadline;
        if value == Timespec::default() {
            value.tv_nsec = 1;
        }
        self.settime(sys::TFD_TIMER_ABSTIME, value, interval)
    }

    /// Disarms the timer.
    pub fn disarm(&self) -> Result<(), Errno> {
        self.settime(0, Timespec::default(), None)
    }

    fn settime(
        &self,
        flags: i32,
        value: Timespec,
        interval: Option<Duration>,
    ) -> Result<(), Errno> {
        let spec = Itimerspec {
            it_interval: interval.map(Timespec::from_duration).unwrap_or_default(),
            it_value: value,
        };
        // SAFETY: `fd` is a timerfd.
        unsafe { sys::timerfd_settime(self.fd.as_raw_fd(), flags, &spec) }
    }

    /// How many times the timer expired since it was set or last read (at least 1);
    /// waits for the first expiry unless the fd is nonblocking (then `EAGAIN`).
    pub fn read(&self) -> Result<u64, Errno> {
        let mut n = [0u8; 8];
        let got = fd::read(self.fd.as_fd(), &mut n)?;
        if got != 8 {
            return Err(Errno::EIO);
        }
        Ok(u64::from_ne_bytes(n))
    }
}

impl AsFd for TimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Signals read through an fd (`signalfd(2)`), close-on-exec: readable while one of its
/// signals is pending. The signals must be blocked in every thread
/// ([`block_signals`](crate::process::block_signals) before starting threads), or they
/// are delivered as usual instead.
///
/// ```no_run
/// use baremsg::event::SignalFd;
/// use baremsg::process::block_signals;
/// use baremsg::sys::{self, Sigset};
/// # fn main() -> Result<(), baremsg::Errno> {
/// let set = Sigset::EMPTY.with(sys::SIGTERM).with(sys::SIGCHLD);
/// block_signals(&set)?;
/// let signals = SignalFd::new(&set)?;
/// let info = signals.read()?;
/// if info.ssi_signo == sys::SIGTERM as u32 {
///     // stop
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// A signalfd for the signals of `set`.
    pub fn new(set: &Sigset) -> Result<Self, Errno> {
        // SAFETY: signalfd4 returns a new fd that nobody else owns; it is wrapped at once.
        let fd = unsafe { OwnedFd::from_raw_fd(sys::signalfd4(-1, set, sys::SFD_CLOEXEC)?) };
        Ok(Self { fd })
    }

    /// Changes the signals it accepts.
    pub fn set_mask(&self, set: &Sigset) -> Result<(), Errno> {
        // SAFETY: an existing signalfd: no new fd.
        unsafe { sys::signalfd4(self.fd.as_raw_fd(), set, 0) }.map(drop)
    }

    /// Takes one pending signal; waits for one unless the fd is nonblocking (then
    /// `EAGAIN`).
    pub fn read(&self) -> Result<SignalfdSiginfo, Errno> {
        let mut one = [SignalfdSiginfo::default()];
        self.read_many(&mut one)?;
        Ok(one[0])
    }

    /// Takes up to `infos.len()` pending signals at once; returns how many (at least 1;
    /// waits unless the fd is nonblocking). Standard signals are merged by the kernel:
    /// several `SIGCHLD`s pending at once read as one, so reap every child that exited
    /// after one.
    pub fn read_many(&self, infos: &mut [SignalfdSiginfo]) -> Result<usize, Errno> {
        let len = core::mem::size_of_val(infos);
        // SAFETY: `infos` is writable for `len` bytes, and any bytes form a valid
        // `SignalfdSiginfo` (plain integers).
        let got = unsafe { sys::read(self.fd.as_raw_fd(), infos.as_mut_ptr().cast(), len) }?;
        Ok(got / core::mem::size_of::<SignalfdSiginfo>())
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `ppoll(2)` over `fds` (each entry an fd number, the events to watch and the events
/// seen): waits until one is ready, `timeout` passes (`None`: forever) or a signal
/// arrives (`EINTR`); returns how many entries have events (0 on timeout). An entry whose
/// fd is not open comes back with `POLLNVAL`; a negative fd is skipped. For a loop over a
/// few fds without an [`Epoll`].
///
/// ```
/// use std::time::Duration;
/// use baremsg::event::poll;
/// use baremsg::fd::{self, AsRawFd};
/// use baremsg::sys::{Pollfd, POLLIN};
/// let (r, w) = fd::pipe()?;
/// let mut fds = [Pollfd { fd: r.as_raw_fd(), events: POLLIN, revents: 0 }];
/// assert_eq!(poll(&mut fds, Some(Duration::from_millis(1)))?, 0);
/// fd::write(&w, b"x")?;
/// assert_eq!(poll(&mut fds, None)?, 1);
/// assert_eq!(fds[0].revents & POLLIN, POLLIN);
/// # Ok::<(), baremsg::Errno>(())
/// ```
pub fn poll(fds: &mut [sys::Pollfd], timeout: Option<Duration>) -> Result<usize, Errno> {
    let t = timeout.map(Timespec::from_duration);
    // SAFETY: the kernel only reads the fd numbers and writes `revents`; a number that is
    // not open, or another fd's, makes no memory unsafe.
    unsafe { sys::ppoll(fds, t.as_ref()) }
}
