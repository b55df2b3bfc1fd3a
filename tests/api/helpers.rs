//! `TestApp`: the host started in-process on a free port, against a fresh database cloned from
//! a migrated template and a per-test Redis key prefix. One wasmtime engine for the whole test
//! binary; components are built once (`cargo build --target wasm32-wasip2`) and compiled once.
//!
//! With `SPIN_BIN=/path/to/spin` (`make test-spin`), every `TestApp` is a real `spin up` of the
//! same manifest instead, against the same per-test database; on Redis, each app gets a Redis
//! database number of its own (Spin's store has no key prefix). Tests about `xmp` itself are
//! named `xmp_…` and return at once there ([`skip_on_spin`]).

use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use xmp_host::log::LogSink;
use xmp_host::{AppOptions, RunningApp, Runtime};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The `jwt_secret` every TestApp gets unless a test sets another.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123456789";
/// The `encryption_key` every TestApp gets unless a test sets another (32 bytes, base64).
pub const TEST_ENCRYPTION_KEY: &str = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds the wasm components once per test binary.
fn build_components() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        // The same two builds as `make components` (the size profile for the API components).
        let builds: [&[&str]; 2] = [
            &["--release", "-p", "system", "-p", "web", "-p", "probe"],
            &[
                "--profile",
                "release-small",
                "-p",
                "auth",
                "-p",
                "accounts",
                "-p",
                "tweets",
                "-p",
                "scheduler",
                "-p",
                "analytics",
            ],
        ];
        for args in builds {
            let status = std::process::Command::new(env!("CARGO"))
                .current_dir(root())
                .args(["build", "--target", "wasm32-wasip2"])
                .args(args)
                .status()
                .expect("run cargo build for the components");
            assert!(status.success(), "building the components failed");
        }
    });
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        build_components();
        Runtime::new(Some(root().join("target/xmp-test-cache"))).expect("engine")
    })
}

/// A migrated template database; each test clones it (`CREATE DATABASE .. TEMPLATE`).
fn template_db() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let migrations = xmp_host::migrate::load_dir(&root().join("migrations")).unwrap();
                let mut h = <sha2::Sha256 as sha2::Digest>::new();
                for m in &migrations {
                    sha2::Digest::update(&mut h, m.checksum.as_bytes());
                }
                let name = format!("xmp_tmpl_{}", &hex::encode(sha2::Digest::finalize(h))[..16]);
                let admin = admin().await;
                admin
                    .execute("SELECT pg_advisory_lock(4242)", &[])
                    .await
                    .unwrap();
                let exists = admin
                    .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                    .await
                    .unwrap()
                    .is_some();
                if !exists {
                    let building = format!("{name}_building");
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {building}"))
                        .await
                        .unwrap();
                    admin
                        .batch_execute(&format!("CREATE DATABASE {building}"))
                        .await
                        .unwrap();
                    let url = format!("postgres://postgres@127.0.0.1:5432/{building}");
                    xmp_host::migrate::run(&url, &root().join("migrations"))
                        .await
                        .unwrap();
                    admin
                        .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                        .await
                        .unwrap();
                }
                admin
                    .execute("SELECT pg_advisory_unlock(4242)", &[])
                    .await
                    .unwrap();
                name
            })
        })
        .join()
        .unwrap()
    })
}

pub async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(PG_ADMIN, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432");
    tokio::spawn(conn);
    client
}

/// A fresh database for one test, dropped when the guard goes.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let template = template_db();
        let name = format!("xmp_t_{}", uuid::Uuid::new_v4().simple());
        let admin = admin().await;
        let mut attempts = 0;
        loop {
            match admin
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .await
            {
                Ok(()) => break,
                // Another clone of the template may be in flight.
                Err(e) if attempts < 20 && e.to_string().contains("being accessed") => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        TestDb {
            // The local server's certificate is self-signed; the app, like Spin, would refuse
            // it under the default `sslmode=prefer` (see tests/api/spin_pool.rs).
            url: format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"),
            name,
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(PG_ADMIN, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            })
        })
        .join();
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kv {
    Embedded,
    Redis,
}

/// How to start a TestApp.
pub struct Setup {
    pub manifest: PathBuf,
    pub kv: Kv,
    pub env: HashMap<String, String>,
    pub overrides: HashMap<String, String>,
    pub cpu_limit: std::time::Duration,
    pub memory_limit: usize,
    pub state_dir: Option<PathBuf>,
    /// The Redis of `Kv::Redis` (default `REDIS_URL`).
    pub redis_url: Option<String>,
    /// Runs the manifest without its cron triggers (for tests that drive the scheduler's
    /// clock themselves, which a tick on the real clock would disturb).
    pub no_cron: bool,
}

impl Setup {
    /// The shipping `spin.toml`.
    pub fn app() -> Setup {
        Setup::with_manifest(root().join("spin.toml"))
    }

    /// The test manifest with the `probe` fixture component.
    pub fn probe() -> Setup {
        Setup::with_manifest(root().join("tests/fixtures/spin.toml"))
    }

    pub fn with_manifest(manifest: PathBuf) -> Setup {
        // `jwt_secret` is required by the shipping manifest; manifests without it ignore it.
        let mut overrides = HashMap::new();
        overrides.insert("jwt_secret".to_string(), TEST_JWT_SECRET.to_string());
        overrides.insert(
            "encryption_key".to_string(),
            TEST_ENCRYPTION_KEY.to_string(),
        );
        // `TEST_KV=redis` runs every test that does not choose its store on Redis.
        let kv = match std::env::var("TEST_KV").as_deref() {
            Ok("redis") => Kv::Redis,
            _ => Kv::Embedded,
        };
        Setup {
            manifest,
            kv,
            env: HashMap::new(),
            overrides,
            cpu_limit: std::time::Duration::from_secs(10),
            memory_limit: 128 << 20,
            state_dir: None,
            redis_url: None,
            no_cron: false,
        }
    }

    pub fn kv(mut self, kv: Kv) -> Setup {
        self.kv = kv;
        self
    }

    /// `Kv::Redis` on another server than the shared one.
    pub fn redis_at(mut self, url: &str) -> Setup {
        self.kv = Kv::Redis;
        self.redis_url = Some(url.into());
        self
    }

    /// Without the manifest's cron triggers: only the test's own ticks run the scheduler.
    pub fn without_cron(mut self) -> Setup {
        self.no_cron = true;
        self
    }

    pub fn var(mut self, name: &str, value: &str) -> Setup {
        self.overrides.insert(name.into(), value.into());
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Setup {
        self.env.insert(name.into(), value.into());
        self
    }

    pub async fn spawn(self) -> TestApp {
        TestApp::spawn(self).await
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub redis_prefix: String,
    /// The Redis database the app's store uses (a numbered database of its own on Spin).
    pub redis_url: String,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub state_dir: tempfile::TempDir,
    app: Option<Running>,
}

/// A started host and what the test reaches it through.
struct Started {
    app: Running,
    db: TestDb,
    redis_url: String,
    redis_prefix: String,
    logs: Arc<Mutex<Vec<String>>>,
    state_dir: tempfile::TempDir,
}

/// What serves a TestApp: `xmp` in-process, or a real Spin.
enum Running {
    Xmp(RunningApp),
    Spin(std::process::Child),
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(Running::Spin(mut child)) = self.app.take() {
            signal_group(&child, "KILL");
            let _ = child.wait();
        }
    }
}

/// Signals `spin up` and the trigger processes it started (its process group: `spin up` runs
/// each trigger as a child process, which a signal to `spin up` alone would leave running).
fn signal_group(child: &std::process::Child, signal: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{}", child.id()))
        .status();
}

/// The real Spin binary the suite runs against, when asked.
pub fn spin_bin() -> Option<PathBuf> {
    std::env::var_os("SPIN_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The manifest to run: as it is, or a copy beside it without its cron triggers when the
/// test asks for that or, with `SPIN_NO_CRON=1`, when the Spin under test has no trigger-cron
/// plugin (like SpinKube's shim).
fn manifest_for(setup: &Setup) -> anyhow::Result<PathBuf> {
    let plugin_missing =
        spin_bin().is_some() && std::env::var("SPIN_NO_CRON").as_deref() == Ok("1");
    if !setup.no_cron && !plugin_missing {
        return Ok(setup.manifest.clone());
    }
    let text = std::fs::read_to_string(&setup.manifest)?;
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            skipping = line.trim() == "[[trigger.cron]]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    // Written under a unique name and renamed: concurrent tests read a whole file.
    let copy = setup.manifest.with_extension("nocron.toml");
    let partial = setup
        .manifest
        .with_extension(format!("{}.nocron.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&partial, out)?;
    std::fs::rename(&partial, &copy)?;
    Ok(copy)
}

/// True (and says so) when the suite runs on real Spin: for tests about `xmp` itself.
pub fn skip_on_spin(test: &str) -> bool {
    let skip = spin_bin().is_some();
    if skip {
        eprintln!("{test}: about xmp itself, skipped on Spin");
    }
    skip
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn spawn(setup: Setup) -> TestApp {
        let Started {
            app,
            db,
            redis_url,
            redis_prefix,
            logs,
            state_dir,
        } = Self::start(setup).await.expect("start the app");
        let addr = match &app {
            Running::Xmp(app) => app.addr.to_string(),
            Running::Spin(_) => logs
                .lock()
                .unwrap()
                .iter()
                .find_map(|l| l.strip_prefix("spin-listen "))
                .unwrap_or_default()
                .to_string(),
        };
        TestApp {
            address: format!("http://{addr}"),
            client: reqwest::Client::new(),
            db,
            redis_prefix,
            redis_url,
            logs,
            state_dir,
            app: Some(app),
        }
    }

    /// Starts the host and returns the error instead of panicking (for startup failure tests).
    pub async fn try_start(setup: Setup) -> anyhow::Result<()> {
        Self::start(setup).await.map(|_| ())
    }

    async fn start(setup: Setup) -> anyhow::Result<Started> {
        if let Some(spin) = spin_bin() {
            return Self::start_spin(&spin, setup).await;
        }
        let db = TestDb::new().await;
        let state_dir = tempfile::tempdir().unwrap();
        let redis_prefix = format!("xmp-test:{}:", uuid::Uuid::new_v4().simple());
        let mut opts = AppOptions::new(manifest_for(&setup)?);
        opts.listen = "127.0.0.1:0".parse().unwrap();
        opts.env = setup.env;
        opts.variable_overrides = setup.overrides;
        opts.variable_overrides
            .entry("database_url".into())
            .or_insert_with(|| db.url.clone());
        if opts
            .variable_overrides
            .get("database_url")
            .map(String::as_str)
            == Some("")
        {
            opts.variable_overrides.remove("database_url");
        }
        opts.redis_prefix = redis_prefix.clone();
        opts.state_dir = Some(
            setup
                .state_dir
                .unwrap_or_else(|| state_dir.path().to_path_buf()),
        );
        opts.cpu_limit = setup.cpu_limit;
        opts.memory_limit = setup.memory_limit;
        let (sink, logs) = LogSink::capture();
        opts.log = sink;
        let redis_url = setup.redis_url.as_deref().unwrap_or(REDIS_URL).to_string();
        if setup.kv == Kv::Redis {
            let file = state_dir.path().join("runtime-config.toml");
            std::fs::write(
                &file,
                format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{redis_url}\"\n"),
            )
            .unwrap();
            opts.runtime_config = Some(file);
        }
        let app = xmp_host::start(runtime(), opts).await?;
        Ok(Started {
            app: Running::Xmp(app),
            db,
            redis_url,
            redis_prefix,
            logs,
            state_dir,
        })
    }

    /// `spin up` of the same manifest on a free port, variables as `SPIN_VARIABLE_*`.
    async fn start_spin(spin: &Path, setup: Setup) -> anyhow::Result<Started> {
        build_components();
        let db = TestDb::new().await;
        let state_dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let manifest = manifest_for(&setup)?;
        let mut cmd = std::process::Command::new(spin);
        // A process group of its own, so that stopping it stops its trigger processes too.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.arg("up")
            .arg("--from")
            .arg(&manifest)
            .args(["--listen", &listen])
            .arg("--state-dir")
            .arg(setup.state_dir.as_deref().unwrap_or(state_dir.path()))
            .args(["--log-dir", ""])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut redis_url = REDIS_URL.to_string();
        if setup.kv == Kv::Redis {
            // Spin's Redis store has no key prefix: a database of its own per app, emptied.
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = 1 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 15;
            let base = setup.redis_url.as_deref().unwrap_or(REDIS_URL);
            let url = format!("{}/{n}", base.trim_end_matches('/'));
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("FLUSHDB").query_async::<()>(&mut conn).await?;
            let file = state_dir.path().join("runtime-config.toml");
            std::fs::write(
                &file,
                format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n"),
            )?;
            cmd.arg("--runtime-config-file").arg(file);
            redis_url = url;
        }
        let mut vars = setup.overrides;
        vars.entry("database_url".into())
            .or_insert_with(|| db.url.clone());
        if vars.get("database_url").map(String::as_str) == Some("") {
            vars.remove("database_url");
        }
        for (name, value) in &vars {
            cmd.env(
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                value,
            );
        }
        for (name, value) in &setup.env {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn()?;
        let logs = Arc::new(Mutex::new(vec![format!("spin-listen {listen}")]));
        let out = child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>);
        let err = child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>);
        for stream in [out, err].into_iter().flatten() {
            let logs = logs.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                let output = logs.lock().unwrap().join("\n");
                anyhow::bail!("spin up exited with {status}: {output}");
            }
            if tokio::net::TcpStream::connect(&listen).await.is_ok() {
                break;
            }
            if started.elapsed() > std::time::Duration::from_secs(120) {
                let _ = child.kill();
                anyhow::bail!("spin up did not listen on {listen} within 120 s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(Started {
            app: Running::Spin(child),
            db,
            redis_url,
            redis_prefix: String::new(),
            logs,
            state_dir,
        })
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request");
        Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, &[], None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Resp {
        self.request(
            Method::PUT,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// A request with a bearer token, an optional JSON body and extra headers.
    pub async fn authed(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![("authorization", bearer.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        headers.extend_from_slice(extra);
        self.request(
            method,
            path,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    pub async fn auth_get(&self, path: &str, token: &str) -> Resp {
        self.authed(Method::GET, path, token, None, &[]).await
    }

    /// Registers a user and returns the `data` of the 201 (user, accessToken, refreshToken).
    pub async fn register(&self, email: &str, name: &str) -> Value {
        let resp = self
            .post_json(
                "/api/auth/register",
                &serde_json::json!({ "email": email, "password": PASSWORD, "name": name }),
            )
            .await;
        assert_eq!(resp.status, 201, "register {email}: {}", resp.text);
        resp.json()["data"].clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post_json(
            "/api/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The first log line that `found` accepts, waiting up to 10 s for it: on Spin, guest
    /// output comes from another process a moment after the response.
    pub async fn wait_for_log(&self, found: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let line = self.log_lines().into_iter().find(|l| found(l));
            if line.is_some() || std::time::Instant::now() > deadline {
                return line;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `component`'s own output line that contains `needle`, as JSON. `xmp` prefixes guest
    /// output with `[component] `; Spin writes it as the guest wrote it.
    pub async fn component_log(&self, component: &str, needle: &str) -> Option<Value> {
        let prefix = format!("[{component}] ");
        let guest_json = |l: &str| match spin_bin() {
            Some(_) => Some(l.to_string()),
            None => l.strip_prefix(&prefix).map(str::to_string),
        };
        let line = self
            .wait_for_log(|l| {
                guest_json(l).is_some_and(|j| {
                    j.contains(needle) && serde_json::from_str::<Value>(&j).is_ok()
                })
            })
            .await?;
        serde_json::from_str(&guest_json(&line)?).ok()
    }

    /// Stops the host gracefully.
    pub async fn stop(&mut self) {
        match self.app.take() {
            Some(Running::Xmp(app)) => app.stop().await,
            Some(Running::Spin(mut child)) => {
                // SIGTERM to Spin and its triggers, as an operator would stop it.
                signal_group(&child, "TERM");
                let _ = child.wait();
                signal_group(&child, "KILL");
            }
            None => {}
        }
    }
}

/// Asserts the error envelope of DESIGN.md §3 and returns its `error` object.
pub fn assert_error_envelope(resp: &Resp, status: u16, kind: &str) -> Value {
    assert_eq!(resp.status, status, "status; body: {}", resp.text);
    let body = resp.json();
    assert_eq!(body["success"], false, "{body}");
    let error = body["error"].clone();
    assert_eq!(error["type"], kind, "{body}");
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "code: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message: {body}"
    );
    assert!(
        error["timestamp"].as_str().is_some_and(|t| t.contains('T')),
        "timestamp: {body}"
    );
    let cid = resp
        .header("x-correlation-id")
        .expect("x-correlation-id header");
    assert_eq!(
        error["correlationId"], cid,
        "envelope and header agree: {body}"
    );
    error
}
