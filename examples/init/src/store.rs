//! The fd store: fds the service hands the init with `FDSTORE=1` (named by `FDNAME=`,
//! `stored` without), kept across restarts and passed to the next start after the
//! activation sockets, in the order they came; `FDSTOREREMOVE=1` with `FDNAME=` closes
//! those of that name.

use baremsg::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::opts::MAX_FDSTORE;

/// The longest fd name systemd allows.
pub const NAME_MAX: usize = 255;

pub struct Store {
    fds: [Option<OwnedFd>; MAX_FDSTORE],
    names: [[u8; NAME_MAX]; MAX_FDSTORE],
    lens: [usize; MAX_FDSTORE],
    count: usize,
    limit: usize,
}

/// Why an fd was not stored.
pub enum Refused {
    Full,
}

impl Store {
    pub fn new(limit: usize) -> Self {
        Self {
            fds: [const { None }; MAX_FDSTORE],
            names: [[0; NAME_MAX]; MAX_FDSTORE],
            lens: [0; MAX_FDSTORE],
            count: 0,
            limit: limit.min(MAX_FDSTORE),
        }
    }

    /// Keeps `fd` under `name` (checked by the caller: at most [`NAME_MAX`] bytes);
    /// closes it if the store is full.
    pub fn add(&mut self, name: &[u8], fd: OwnedFd) -> Result<(), Refused> {
        if self.count >= self.limit {
            return Err(Refused::Full);
        }
        let (Some(slot), Some(room), Some(len)) = (
            self.fds.get_mut(self.count),
            self.names.get_mut(self.count),
            self.lens.get_mut(self.count),
        ) else {
            return Err(Refused::Full);
        };
        let Some(dst) = room.get_mut(..name.len()) else {
            return Err(Refused::Full);
        };
        dst.copy_from_slice(name);
        *len = name.len();
        *slot = Some(fd);
        self.count += 1;
        Ok(())
    }

    /// Closes every fd stored under `name`; returns how many.
    pub fn remove(&mut self, name: &[u8]) -> usize {
        let mut kept = 0;
        let mut removed = 0;
        for i in 0..self.count {
            let matches = self.name(i) == name;
            if matches {
                if let Some(slot) = self.fds.get_mut(i) {
                    *slot = None;
                }
                removed += 1;
                continue;
            }
            if kept != i {
                let fd = self.fds.get_mut(i).and_then(Option::take);
                if let Some(dst) = self.fds.get_mut(kept) {
                    *dst = fd;
                }
                let (name, len) = (self.names.get(i).copied(), self.lens.get(i).copied());
                if let (Some(n), Some(dst)) = (name, self.names.get_mut(kept)) {
                    *dst = n;
                }
                if let (Some(l), Some(dst)) = (len, self.lens.get_mut(kept)) {
                    *dst = l;
                }
            }
            kept += 1;
        }
        self.count = kept;
        removed
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The name of entry `i`.
    pub fn name(&self, i: usize) -> &[u8] {
        match (self.names.get(i), self.lens.get(i)) {
            (Some(n), Some(&len)) => n.get(..len).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The fd of entry `i`.
    pub fn fd(&self, i: usize) -> Option<BorrowedFd<'_>> {
        self.fds.get(i)?.as_ref().map(|fd| fd.as_fd())
    }
}
