//! Runs the fuzz targets' checks without libFuzzer: every seed of the corpus, then
//! random mutations of them (no coverage guidance). Its use is where libFuzzer is not:
//! as a 32-bit i686 binary, where the control-message layout (12-byte headers, 4-byte
//! `cmsg_len`) is the one under test.
//!
//! ```text
//! replay <corpus dir> [seconds per target] [seed]
//! ```
//!
//! Prints, per target, the seeds and mutated inputs run; a failed check prints the
//! target's name and the input in hex, and exits with status 1. The default seed comes
//! from the clock and is printed, so a run can be repeated.

use std::fs;
use std::path::Path;
use std::time::Instant;

use baremsg_fuzz_checks::TARGETS;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Interesting values for a length or type field.
const MAGIC: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    11,
    12,
    15,
    16,
    20,
    24,
    28,
    32,
    253,
    254,
    0x7fff_ffff,
    u32::MAX as u64,
    u64::MAX,
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            2 => input.truncate(rng.below(input.len() + 1)),
            3 => {
                let i = rng.below(input.len() + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(i..i, bytes);
            }
            4 if input.len() >= 4 => {
                // A magic value over a word (a cmsg_len, level or type field, often).
                let width = if rng.below(2) == 0 {
                    4
                } else {
                    std::mem::size_of::<usize>()
                };
                let i = rng.below(input.len() - 3) & !3;
                let v = MAGIC[rng.below(MAGIC.len())].to_ne_bytes();
                let end = (i + width).min(input.len());
                input[i..end].copy_from_slice(&v[..end - i]);
            }
            5 if !seeds.is_empty() => {
                // Splice in a piece of another seed.
                let other = &seeds[rng.below(seeds.len())];
                let a = rng.below(other.len() + 1);
                let b = a + rng.below(other.len() - a + 1);
                let at = rng.below(input.len() + 1);
                input.splice(at..at, other[a..b].iter().copied());
            }
            _ => {
                if !input.is_empty() {
                    let i = rng.below(input.len());
                    input.remove(i);
                }
            }
        }
    }
}

fn run(name: &str, check: fn(&[u8]), input: &[u8]) {
    let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
    let ok = std::panic::catch_unwind(|| check(input));
    if ok.is_err() {
        eprintln!(
            "FAILED target {name} on input ({} bytes): {hex}",
            input.len()
        );
        eprintln!("replay: 1 failure");
        std::process::exit(1);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: replay <corpus dir> [seconds] [seed]");
    let seconds: f64 = args.next().map_or(5.0, |s| s.parse().expect("seconds"));
    let seed: u64 = args.next().map_or_else(
        || {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 | 1
        },
        |s| s.parse().expect("seed"),
    );
    let arch = if cfg!(target_arch = "x86_64") {
        "x86_64"
    } else {
        "i686"
    };
    println!("replay ({arch}): seed {seed}, {seconds} s per target");

    for &(name, check) in TARGETS {
        let t0 = Instant::now();
        let dir = Path::new(&dir).join(name);
        let mut seeds: Vec<Vec<u8>> = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| e.expect("read corpus dir").path())
                .filter(|p| p.is_file())
                .map(|p| fs::read(p).expect("read seed"))
                .collect(),
            Err(_) => Vec::new(),
        };
        seeds.sort();
        for s in &seeds {
            run(name, check, s);
        }
        let mut rng = Rng(seed ^ (name.len() as u64).wrapping_mul(0x100_0000_01b3));
        let mut input = Vec::new();
        let budget = std::time::Duration::from_secs_f64(seconds);
        let mut mutations = 0u64;
        while t0.elapsed() < budget {
            mutations += 1;
            if seeds.is_empty() || rng.below(8) == 0 {
                input = (0..rng.below(256)).map(|_| rng.next() as u8).collect();
            } else if rng.below(2) == 0 {
                input = seeds[rng.below(seeds.len())].clone();
            }
            mutate(&mut rng, &seeds, &mut input);
            input.truncate(4096);
            run(name, check, &input);
        }
        println!(
            "{name}: {} seeds + {mutations} mutated inputs run, 0 failures ({:.1} s)",
            seeds.len(),
            t0.elapsed().as_secs_f64()
        );
    }
}
