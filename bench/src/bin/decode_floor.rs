//! `kubesnap-decode-floor`: the floor the analyzer is measured against. It only decompresses a
//! `.tar.gz` with flate2's zlib-rs backend (the analyzer's decoder) into a sink: no tar
//! parsing, no JSON, no log scanning. Prints the number of decompressed bytes.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::process::ExitCode;

use anyhow::Context;
use flate2::bufread::MultiGzDecoder;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr().lock(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let path = std::env::args_os().nth(1).context("usage: kubesnap-decode-floor BUNDLE.tar.gz")?;
    let file = File::open(&path).with_context(|| format!("failed to open {}", path.to_string_lossy()))?;
    // The same buffering as the bundle reader: 1 MiB in, 1 MiB out (io::copy then reads the
    // outer BufReader's buffer directly).
    let decoder = MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file));
    let mut decoded = BufReader::with_capacity(1 << 20, decoder);
    let bytes = io::copy(&mut decoded, &mut io::sink()).context("failed to decode")?;
    writeln!(io::stdout().lock(), "{bytes}").context("failed to write to stdout")?;
    Ok(())
}
