//! `TestApp`: a started host, and one method per way the tests call it.

use super::setup::{Kv, Setup};
use super::spin::{self, manifest_for, signal_group, spin_bin};
use super::{runtime, TestDb, PASSWORD, REDIS_URL};
use reqwest::Method;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use xmp_host::log::LogSink;
use xmp_host::{AppOptions, RunningApp, Runtime};

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
pub(super) struct Started {
    pub(super) app: Running,
    pub(super) db: TestDb,
    pub(super) redis_url: String,
    pub(super) redis_prefix: String,
    pub(super) logs: Arc<Mutex<Vec<String>>>,
    pub(super) state_dir: tempfile::TempDir,
}

/// What serves a TestApp: `xmp` in-process, or a real Spin.
pub(super) enum Running {
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
            return spin::start(&spin, setup).await;
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
        // `runtime()` also builds the components.
        let shared = runtime();
        let own = setup
            .compile_cache
            .map(|dir| Runtime::new(Some(dir)))
            .transpose()?;
        let app = xmp_host::start(own.as_ref().unwrap_or(shared), opts).await?;
        Ok(Started {
            app: Running::Xmp(app),
            db,
            redis_url,
            redis_prefix,
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
