//! Temporary files for the tests that pass std `File`s: unique names, unlinked at once.

use std::io::{Seek, Write};
use std::path::PathBuf;

/// A path in the temporary directory that no other test, run or process uses.
pub fn temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "baremsg-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A file holding `data`, already removed from the directory, its offset at 0.
pub fn file_with(data: &[u8]) -> std::fs::File {
    let path = temp_path("file");
    let mut f = std::fs::File::options()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f.write_all(data).unwrap();
    f.rewind().unwrap();
    f
}
