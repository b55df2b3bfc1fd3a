//! `xmp up` stops on SIGTERM as Spin 3.5 does: at once, without finishing the requests in
//! flight. (A drain would make `xmp` kinder than the runtime the app ships to: a request or a
//! cron tick cut off by a deploy must be something the app survives, and the tests must see it.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn sigterm_stops_at_once_and_cuts_the_requests_in_flight_as_spin_does() {
    // Arrange: the test manifest's probe, whose `/probe/busy` computes for as long as asked.
    let probe = repo().join("target/wasm32-wasip2/release/probe.wasm");
    assert!(
        probe.exists(),
        "build the probe first: cargo build --target wasm32-wasip2 --release -p probe"
    );
    let state = std::env::temp_dir().join(format!("xmp-sigterm-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let listen = format!("127.0.0.1:{port}");
    let mut xmp = Command::new(env!("CARGO_BIN_EXE_xmp"))
        .args(["up", "--listen", &listen, "--state-dir"])
        .arg(&state)
        .arg("--manifest")
        .arg(repo().join("tests/fixtures/spin.toml"))
        .env(
            "SPIN_VARIABLE_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
        )
        .env(
            "SPIN_VARIABLE_ENCRYPTION_KEY",
            "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=",
        )
        .env(
            "SPIN_VARIABLE_JWT_SECRET",
            "test-jwt-secret-0123456789abcdef-0123456789",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xmp up");
    let started = Instant::now();
    let mut conn = loop {
        if let Ok(c) = TcpStream::connect(&listen) {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "xmp did not listen"
        );
        assert!(xmp.try_wait().ok().flatten().is_none(), "xmp exited early");
        std::thread::sleep(Duration::from_millis(50));
    };
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    conn.write_all(
        format!("GET /probe/busy?ms=20000 HTTP/1.1\r\nhost: {listen}\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    )
    .expect("request sent");
    std::thread::sleep(Duration::from_millis(500));

    // Act
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &xmp.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut answer = Vec::new();
    let read = conn.read_to_end(&mut answer);
    let status = xmp.wait().expect("xmp exit");
    let stopped_after = signalled.elapsed();
    let _ = std::fs::remove_dir_all(&state);

    // Assert: the connection ends without an answer, long before the request would have.
    assert!(
        read.is_err() || answer.is_empty(),
        "the request in flight was answered: {}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        stopped_after < Duration::from_secs(10),
        "xmp waited {stopped_after:?} for a 20 s request ({status})"
    );
}
