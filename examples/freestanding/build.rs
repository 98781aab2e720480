//! Link flags for a static program with its own `_start` (src/rt.rs) and no libc.
//! Shared by the container init (`examples/init`) and the size-comparison programs in
//! `benches/size/`. The same flags work with rustup's rustc (which links x86_64 with
//! rust-lld) and Debian's (GNU ld).

fn main() {
    for arg in [
        // No crt1.o/crti.o: `_start` is ours, and no libc is initialized.
        "-nostartfiles",
        // No program interpreter, no dynamic section.
        "-static",
        // rustc asks for a PIE; a static PIE would need relocating itself at start-up,
        // which is libc's start-up code's job. Link at a fixed address instead.
        "-no-pie",
        // Keep the file small without `-Wl,-n`: `-n` lets the writable segment share a
        // page with code, and the kernel then maps that code without execute permission
        // (SIGSEGV). These two only stop GNU ld padding the file to page boundaries
        // (separate code pages, a RELRO region); segments keep their own pages in memory.
        "-Wl,-z,noseparate-code",
        "-Wl,-z,norelro",
        // No .note.gnu.build-id.
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    // This file, wherever it sits relative to the package using it.
    println!("cargo:rerun-if-changed={}", file!());
}
