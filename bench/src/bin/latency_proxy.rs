//! `kubesnap-latency-proxy`: a loopback TCP proxy that delays every byte by a fixed one-way
//! latency, so the collector benchmark can show what concurrency buys on a real network.
//!
//! It forwards raw TCP (TLS passes through untouched: the client still verifies the API
//! server's certificate, whose SANs include 127.0.0.1) and models a network link, not a slow
//! server: each direction is a delay line in which every chunk read at time `t` is written at
//! `t + rtt / 2`, whatever is still in flight before or after it. Requests that overlap
//! (HTTP/2 streams on one connection, or several connections) therefore overlap their waits as
//! they would on a real link, while a client that waits for each answer before sending the next
//! request pays one full `rtt` per request. A new connection pays its handshakes' round trips
//! too (TCP is local, so the TLS handshake's round trips only). Bandwidth is not limited.
//!
//! Usage: `kubesnap-latency-proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:6443 --rtt-ms 20`
//! prints `listening on ADDR` on stdout once ready, then runs until killed.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A loopback TCP proxy adding a fixed round-trip time.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Address to forward every connection to (the API server).
    #[arg(long)]
    upstream: SocketAddr,

    /// Round-trip time to add, in milliseconds: half of it on each direction.
    #[arg(long, default_value_t = 20)]
    rtt_ms: u64,
}

/// Chunks read but not yet written, per direction. Bounds the proxy's memory per connection
/// (64 × 64 KiB) the way a socket buffer bounds a link: a reader that gets ahead of its
/// writer by this much waits.
const IN_FLIGHT_CHUNKS: usize = 64;
const CHUNK_BYTES: usize = 64 * 1024;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "error: failed to start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let local = listener.local_addr().context("failed to read the listening address")?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {local}").context("failed to write to stdout")?;
        stdout.flush().context("failed to write to stdout")?;
    }
    let one_way = Duration::from_micros(args.rtt_ms.saturating_mul(1000) / 2);
    loop {
        let (client, _) = listener.accept().await.context("failed to accept a connection")?;
        let upstream = args.upstream;
        tokio::spawn(async move {
            if let Err(error) = proxy(client, upstream, one_way).await {
                // A connection's end is the client's business; keep serving the others.
                log(&format!("connection closed: {error:#}"));
            }
        });
    }
}

/// Plain stderr logging: a benchmark helper needs no tracing subscriber.
fn log(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "kubesnap-latency-proxy: {message}");
}

async fn proxy(client: TcpStream, upstream: SocketAddr, one_way: Duration) -> anyhow::Result<()> {
    // The connect itself is not delayed: on a real network it is one round trip, but the
    // TLS handshake that follows already pays its own round trips through the delay lines.
    let server =
        TcpStream::connect(upstream).await.with_context(|| format!("failed to connect to {upstream}"))?;
    client.set_nodelay(true).context("failed to set TCP_NODELAY")?;
    server.set_nodelay(true).context("failed to set TCP_NODELAY")?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = delay_line(client_read, server_write, one_way);
    let down = delay_line(server_read, client_write, one_way);
    let (up, down) = tokio::join!(up, down);
    up.context("client to server")?;
    down.context("server to client")?;
    Ok(())
}

/// Copies `from` to `to`, writing each chunk `delay` after it was read. The reader and the
/// writer run concurrently, so chunks in flight overlap their delays as bytes on a wire do.
async fn delay_line(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) -> anyhow::Result<()> {
    let (sender, mut receiver) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT_CHUNKS);
    let reader = async move {
        let mut buffer = vec![0u8; CHUNK_BYTES];
        loop {
            let n = from.read(&mut buffer).await.context("failed to read")?;
            if n == 0 {
                break;
            }
            let chunk = buffer[..n].to_vec();
            if sender.send((Instant::now() + delay, chunk)).await.is_err() {
                break;
            }
        }
        // Dropping the sender tells the writer to shut its side down after the last chunk.
        anyhow::Ok(())
    };
    let writer = async move {
        while let Some((due, chunk)) = receiver.recv().await {
            tokio::time::sleep_until(due).await;
            to.write_all(&chunk).await.context("failed to write")?;
        }
        // Half-close, as the peer did: the other direction may still carry an answer.
        to.shutdown().await.context("failed to shut down")?;
        anyhow::Ok(())
    };
    let (read, write) = tokio::join!(reader, writer);
    read.and(write)
}
