//! `TestApp`: the host started in-process on a free port, against a fresh database cloned from
//! a migrated template and a per-test Redis key prefix. One wasmtime engine for the whole test
//! binary; components are built once (`cargo build --target wasm32-wasip2`) and compiled once.

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
            &["--release", "-p", "system", "-p", "probe"],
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
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
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

    fn with_manifest(manifest: PathBuf) -> Setup {
        // `jwt_secret` is required by the shipping manifest; manifests without it ignore it.
        let mut overrides = HashMap::new();
        overrides.insert("jwt_secret".to_string(), TEST_JWT_SECRET.to_string());
        overrides.insert(
            "encryption_key".to_string(),
            TEST_ENCRYPTION_KEY.to_string(),
        );
        Setup {
            manifest,
            kv: Kv::Embedded,
            env: HashMap::new(),
            overrides,
            cpu_limit: std::time::Duration::from_secs(10),
            memory_limit: 128 << 20,
            state_dir: None,
        }
    }

    pub fn kv(mut self, kv: Kv) -> Setup {
        self.kv = kv;
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
    pub logs: Arc<Mutex<Vec<String>>>,
    pub state_dir: tempfile::TempDir,
    app: Option<RunningApp>,
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
        let (app, db, redis_prefix, logs, state_dir) =
            Self::start(setup).await.expect("start the app");
        TestApp {
            address: format!("http://{}", app.addr),
            client: reqwest::Client::new(),
            db,
            redis_prefix,
            logs,
            state_dir,
            app: Some(app),
        }
    }

    /// Starts the host and returns the error instead of panicking (for startup failure tests).
    pub async fn try_start(setup: Setup) -> anyhow::Result<()> {
        Self::start(setup).await.map(|_| ())
    }

    async fn start(
        setup: Setup,
    ) -> anyhow::Result<(
        RunningApp,
        TestDb,
        String,
        Arc<Mutex<Vec<String>>>,
        tempfile::TempDir,
    )> {
        let db = TestDb::new().await;
        let state_dir = tempfile::tempdir().unwrap();
        let redis_prefix = format!("xmp-test:{}:", uuid::Uuid::new_v4().simple());
        let mut opts = AppOptions::new(setup.manifest);
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
        if setup.kv == Kv::Redis {
            let file = state_dir.path().join("runtime-config.toml");
            std::fs::write(
                &file,
                format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{REDIS_URL}\"\n"),
            )
            .unwrap();
            opts.runtime_config = Some(file);
        }
        let app = xmp_host::start(runtime(), opts).await?;
        Ok((app, db, redis_prefix, logs, state_dir))
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

    /// Stops the host gracefully.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
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
