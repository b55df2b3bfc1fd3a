//! Create-post throughput: `cargo run --release -p xsim --example bench -- [CONNS] [SECS]`.
//!
//! Starts the simulator in-process (unlimited profile) and drives `POST /2/tweets` over
//! keep-alive HTTP/1.1 connections with a minimal client, so the client costs little CPU.
//! Bounded: it stops after SECS seconds (default 5) and only talks to 127.0.0.1.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use xsim::{Profile, Sim, SimConfig};

async fn one(stream: &mut TcpStream, buf: &mut Vec<u8>, req: &[u8]) -> std::io::Result<bool> {
    stream.write_all(req).await?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head.starts_with("http/1.1 201"));
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let conns: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let secs: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .min(60);
    let sim = Sim::start(SimConfig::ephemeral().with_profile(Profile::Unlimited))
        .await
        .expect("start");
    let token = sim
        .state()
        .issue_user_token(xsim::DEFAULT_USER_ID, None, None)
        .expect("token")
        .access_token;
    let addr = sim.addr();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let (mut ok, mut bad, mut buf) = (0u64, 0u64, Vec::with_capacity(1024));
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = format!("{{\"text\":\"bench post {c} {i} with a little text\"}}");
                let req = format!(
                    "POST /2/tweets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                match one(&mut stream, &mut buf, req.as_bytes()).await {
                    Ok(true) => ok += 1,
                    Ok(false) => bad += 1,
                    Err(_) => break,
                }
                i += 1;
            }
            (ok, bad)
        }));
    }
    let (mut ok, mut bad) = (0, 0);
    for t in tasks {
        let (o, b) = t.await.expect("task");
        ok += o;
        bad += b;
    }
    let el = started.elapsed().as_secs_f64();
    println!(
        "{conns} connections, {el:.1} s: {ok} created ({:.0} posts/s), {bad} non-201",
        ok as f64 / el
    );
    sim.stop().await;
}
