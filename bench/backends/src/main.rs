//! `kubesnap-decode-backend BUNDLE`: decodes a `.tar.gz` into a sink with the flate2 backend it
//! was built with, exactly as `kubesnap-decode-floor` does (1 MiB buffers in and out), and
//! prints the backend and the number of decompressed bytes. `bench/backends/run` builds it once
//! per backend.

use std::fs::File;
use std::io::{self, BufReader};
use std::process::ExitCode;

use flate2::bufread::MultiGzDecoder;

const BACKEND: &str = if cfg!(feature = "zlib-rs") {
    "zlib-rs"
} else if cfg!(feature = "zlib-ng") {
    "zlib-ng"
} else if cfg!(feature = "zlib") {
    "zlib"
} else {
    "miniz_oxide"
};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: kubesnap-decode-backend BUNDLE.tar.gz");
        return ExitCode::from(2);
    };
    let decoded = File::open(&path).and_then(|file| {
        let decoder = MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file));
        io::copy(&mut BufReader::with_capacity(1 << 20, decoder), &mut io::sink())
    });
    match decoded {
        Ok(bytes) => {
            println!("{BACKEND}\t{bytes}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {}: {error}", path.to_string_lossy());
            ExitCode::from(2)
        }
    }
}
