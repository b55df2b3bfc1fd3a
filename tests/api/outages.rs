//! Outages of what the platform stands on, for real: a private PostgreSQL server stopped and
//! started (`pg_ctl stop -m fast` / `start`), a private Redis server shut down and started again
//! on the same port, and X answering slowly or with 5xx storms (xsim faults). The shared servers
//! of the other tests are never touched.

use crate::helpers::{assert_error_envelope, root, Resp, Setup, TestApp, PASSWORD};
use crate::scheduler::{now_ms, SchedTest};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use xsim::{FaultKind, Profile};

/// A free local port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL server program: on the PATH, or in Debian's versioned directory.
fn pg_tool(name: &str) -> String {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return name.to_string();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found
        .pop()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("{name} is not installed (Debian: apt-get install postgresql)"))
}

/// Runs a PostgreSQL tool as the `postgres` user (initdb refuses root).
fn as_postgres(program: &str, args: &[&str]) -> std::process::Output {
    let program = &pg_tool(program);
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    };
    let out = cmd.args(args).output().expect("run a PostgreSQL tool");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A PostgreSQL server of this test's own: a fresh cluster in a temporary directory.
struct PrivatePg {
    dir: PathBuf,
    port: u16,
}

impl PrivatePg {
    async fn start_new() -> PrivatePg {
        let dir = std::env::temp_dir().join(format!("xmp-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        // The cluster belongs to `postgres` when the tests run as root.
        let _ = Command::new("chown").arg("postgres").arg(&dir).status();
        let pg = PrivatePg {
            dir,
            port: free_port(),
        };
        let data = pg.data();
        as_postgres(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        pg.start();
        let url = pg.url();
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute("CREATE DATABASE xmp").await.unwrap();
        xmp_host::migrate::run(&url, &root().join("migrations"))
            .await
            .unwrap();
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/xmp", self.port)
    }

    /// For the manifest's `allowed_outbound_hosts`.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").to_string_lossy().into_owned();
        as_postgres(
            "pg_ctl",
            &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Stops the server as an operator would for a restart: `-m fast` ends every session.
    fn stop(&self) {
        as_postgres("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &pg_tool("pg_ctl"),
                "-D",
                &self.data(),
            ])
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of this test's own, on its own port, without persistence.
struct PrivateRedis {
    port: u16,
}

impl PrivateRedis {
    fn start_new() -> PrivateRedis {
        let r = PrivateRedis { port: free_port() };
        r.start();
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn start(&self) {
        let port = self.port.to_string();
        let status = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "yes"])
            .status()
            .expect("run redis-server");
        assert!(status.success());
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    fn stop(&self) {
        let _ = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .output();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not stop");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request of each kind a client makes, with what it is.
async fn each_route(app: &TestApp, token: &str) -> Vec<(&'static str, Resp)> {
    let auth = format!("Bearer {token}");
    let json = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let bearer = [("authorization", auth.as_str())];
    let login = json!({ "email": "outage@example.com", "password": PASSWORD });
    let register = json!({ "email": format!("{}@example.com", uuid::Uuid::new_v4().simple()),
                            "password": PASSWORD, "name": "New" });
    let draft = json!({ "content": "written during an outage" });
    let mut out = Vec::new();
    let body = |v: &Value| Some(v.to_string().into_bytes());
    let ct = [("content-type", "application/json")];
    out.push(("health", app.get("/api/health").await));
    out.push(("version", app.get("/api/version").await));
    out.push((
        "login",
        app.request(Method::POST, "/api/auth/login", &ct, body(&login))
            .await,
    ));
    out.push((
        "register",
        app.request(Method::POST, "/api/auth/register", &ct, body(&register))
            .await,
    ));
    out.push((
        "profile",
        app.request(Method::GET, "/api/auth/profile", &bearer, None)
            .await,
    ));
    out.push((
        "accounts",
        app.request(Method::GET, "/api/accounts", &bearer, None)
            .await,
    ));
    out.push((
        "posts",
        app.request(Method::GET, "/api/tweets", &bearer, None).await,
    ));
    out.push((
        "create draft",
        app.request(Method::POST, "/api/tweets", &json, body(&draft))
            .await,
    ));
    out
}

fn summary(answers: &[(&str, Resp)]) -> String {
    answers
        .iter()
        .map(|(what, r)| {
            format!(
                "{what}: {} {}",
                r.status,
                r.text.chars().take(160).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn postgres_stopped_mid_run_gives_503_envelopes_and_the_api_recovers_by_itself() {
    // Arrange
    let pg = PrivatePg::start_new().await;
    let app = Setup::app()
        .var("database_url", &pg.url())
        .var("database_host", &pg.host())
        .spawn()
        .await;
    let user = app.register("outage@example.com", "Outage").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    assert_eq!(app.auth_get("/api/auth/profile", &token).await.status, 200);

    // Act: the server is stopped (every session ended), requests come in, it is started again.
    pg.stop();
    let during = each_route(&app, &token).await;
    pg.start();
    let restarted = Instant::now();
    let mut first_ok = None;
    while restarted.elapsed() < Duration::from_secs(30) {
        if app.auth_get("/api/auth/profile", &token).await.status == 200 {
            first_ok = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = each_route(&app, &token).await;

    // Assert: during the outage, 503 envelopes wherever the database is needed, never a 500.
    for (what, r) in &during {
        match *what {
            "version" => assert_eq!(r.status, 200, "{what} needs no database"),
            "health" => {
                assert_eq!(r.status, 503, "{what}: {}", r.text);
                assert_eq!(
                    r.json()["data"]["checks"]["postgres"]["status"],
                    "failed",
                    "{}",
                    r.text
                );
            }
            _ => {
                assert_eq!(r.status, 503, "{what}:\n{}", summary(&during));
                assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE");
                assert!(
                    !r.text.to_lowercase().contains("postgres"),
                    "no internal text: {}",
                    r.text
                );
            }
        }
    }
    assert!(
        first_ok.is_some(),
        "the API came back by itself after the restart"
    );
    for (what, r) in &after {
        assert!(
            r.status < 500,
            "{what} after recovery:\n{}",
            summary(&after)
        );
    }
}

#[tokio::test]
async fn postgres_stopped_while_a_post_is_at_x_loses_and_doubles_nothing() {
    // Arrange: five posts due now, three due in the middle of the outage; X takes a while to
    // answer the first create, and the database goes down while X holds it.
    let pg = PrivatePg::start_new().await;
    let setup = Setup::probe()
        .var("database_url", &pg.url())
        .var("database_host", &pg.host());
    let t = SchedTest::start_with(Profile::Unlimited, 1, setup).await;
    let account = t.accounts[0].1.clone();
    let t0 = now_ms();
    for i in 0..5 {
        t.post(
            &account,
            &[&format!("before the outage {i} https://example.com/{i}")],
            -1_000,
        )
        .await;
    }
    for i in 0..3 {
        t.post(
            &account,
            &[&format!("due during the outage {i} 🚀")],
            20_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 1_500, 1, 0);

    // Act
    let tick = {
        let (addr, client) = (t.app.address.clone(), t.app.client.clone());
        tokio::spawn(async move {
            client
                .post(format!("{addr}/probe/scheduler/tick"))
                .json(&json!({ "now_ms": t0 }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    while t.sim.state().request_count("POST", "/2/tweets") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop();
    let interrupted = tick.await.unwrap().unwrap();
    let mut during = Vec::new();
    for i in 0..3 {
        let r = t
            .app
            .post_json(
                "/probe/scheduler/tick",
                &json!({ "now_ms": t0 + 25_000 + i * 1_000 }),
            )
            .await;
        during.push((r.status, r.text));
    }
    pg.start();
    // Later ticks, after the lease of the interrupted one ran out, until everything is out.
    let mut later = Vec::new();
    for i in 0..40 {
        let r = t
            .app
            .post_json(
                "/probe/scheduler/tick",
                &json!({ "now_ms": t0 + 120_000 + i * 60_000 }),
            )
            .await;
        later.push(r.status);
        if r.status == 200 && t.statuses().await == [("published".to_string(), 8)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert
    assert_ne!(interrupted, 500, "the interrupted tick is no 500");
    for (status, text) in &during {
        assert_eq!(*status, 503, "{text}");
    }
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 8)],
        "{later:?}"
    );
    t.assert_exactly_once(8).await;
    let db = t.app.db.client().await;
    let reconciled: i64 = db
        .query_one(
            "SELECT count(*) FROM post_events WHERE kind = 'published' AND details->>'how' = 'reconciled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reconciled, 1, "the post X had was found, not sent again");
}

#[tokio::test]
async fn redis_stopped_mid_run_holds_requests_until_it_is_back_without_a_500_or_a_restart() {
    // Arrange
    let redis = PrivateRedis::start_new();
    let app = Setup::app().redis_at(&redis.url()).spawn().await;
    let user = app.register("outage@example.com", "Outage").await;
    let token = user["accessToken"].as_str().unwrap().to_string();

    // Act: Redis goes away. The first key-value call fails at once (the health check's), and
    // the store's connection manager starts reconnecting, as Spin's does (redis-rs
    // `ConnectionManager`, exponential backoff); calls meanwhile wait for it.
    redis.stop();
    let first = app.get("/api/health").await;
    let stopped = Instant::now();
    let monitor = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let version = app.get("/api/version").await;
        redis.start();
        (version, Instant::now())
    };
    let ((during, done), (version_during, restarted)) = tokio::time::timeout(
        Duration::from_secs(180),
        futures::future::join(
            async { (each_route(&app, &token).await, Instant::now()) },
            monitor,
        ),
    )
    .await
    .expect("requests held by the outage complete once Redis is back");
    let held = done > restarted;
    eprintln!("during the outage:\n{}", summary(&during));
    eprintln!(
        "held requests drained {:?} after Redis restarted ({:?} after it stopped)",
        done.saturating_duration_since(restarted),
        stopped.elapsed()
    );
    let after = each_route(&app, &token).await;

    // Assert: the failing call is a 503 envelope naming key-value, never a 500; what needs no
    // key-value answers throughout; the held requests complete after the restart with what
    // they would have answered anyway; afterwards everything works, without restarting xmp.
    assert_eq!(first.status, 503, "{}", first.text);
    assert_eq!(
        first.json()["data"]["checks"]["keyValue"]["status"],
        "failed",
        "{}",
        first.text
    );
    assert_eq!(version_during.status, 200, "version needs no key-value");
    assert!(held, "requests that count a rate limit wait for the store");
    for (what, r) in during.iter().chain(after.iter()) {
        assert!(
            r.status < 500 || *what == "health",
            "{what}:\n{}\n{}",
            summary(&during),
            summary(&after)
        );
    }
    let expected = [
        ("health", 200),
        ("version", 200),
        ("login", 200),
        ("register", 201),
        ("profile", 200),
        ("accounts", 200),
        ("posts", 200),
        // No account given: the handler's own validation answers, as it would anyway.
        ("create draft", 422),
    ];
    let got: Vec<(&str, u16)> = after.iter().map(|(w, r)| (*w, r.status)).collect();
    assert_eq!(got, expected, "\n{}", summary(&after));
}

#[tokio::test]
async fn a_5xx_storm_at_x_opens_the_breaker_and_everything_is_published_once_afterwards() {
    // Arrange
    let t = SchedTest::start_with(Profile::Standard, 1, Setup::probe()).await;
    let account = t.accounts[0].1.clone();
    for i in 0..12 {
        t.post(
            &account,
            &[&format!("storm {i} https://example.com/s/{i} #storm")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Status, 503, 0, 10_000, 0);
    let t0 = now_ms();

    // Act: ticks during the storm, then after it.
    let mut storm = Vec::new();
    for i in 0..3 {
        storm.push(t.tick_at(t0 + i * 10_000).await);
    }
    let sent_in_storm = t.sim.state().request_count("POST", "/2/tweets");
    t.sim.state().inner.lock().faults.clear();
    for i in 0..30 {
        t.tick_at(t0 + 600_000 + i * 300_000).await;
        if t.statuses().await == [("published".to_string(), 12)] {
            break;
        }
    }

    // Assert: the breaker stopped the calls (far fewer than 12 posts x 3 ticks), the posts
    // waited rather than failed, and each is on X once.
    assert!(
        sent_in_storm < 12,
        "the breaker held calls back: {sent_in_storm} creates sent; {storm:?}"
    );
    let db = t.app.db.client().await;
    let breaker_deferrals: i64 = db
        .query_one(
            "SELECT count(*) FROM post_events WHERE kind = 'deferred'
               AND details->>'reason' LIKE '%circuit breaker%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        breaker_deferrals > 0,
        "posts were deferred by the open breaker"
    );
    assert_eq!(t.statuses().await, [("published".to_string(), 12)]);
    t.assert_exactly_once(12).await;
}

#[tokio::test]
async fn x_answering_after_the_timeout_still_publishes_each_post_once() {
    // Arrange: X creates the post but answers after the client's 2 s timeout, three times.
    let t = SchedTest::start_with(Profile::Standard, 1, Setup::probe()).await;
    let account = t.accounts[0].1.clone();
    for i in 0..3 {
        t.post(
            &account,
            &[&format!("slow {i} 日本語 https://example.com/slow/{i}")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 2_500, 3, 0);
    let t0 = now_ms();

    // Act
    let mut reports = Vec::new();
    for i in 0..20 {
        reports.push(t.tick_at(t0 + i * 120_000).await);
        if t.statuses().await == [("published".to_string(), 3)] {
            break;
        }
        // X's late creates land while the tick has moved on.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }

    // Assert
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 3)],
        "{reports:?}"
    );
    t.assert_exactly_once(3).await;
}
