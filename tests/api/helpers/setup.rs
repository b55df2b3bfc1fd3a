//! `Setup`: how a test's app is started (manifest, store, variables, limits).

use super::{root, TestApp, TEST_ENCRYPTION_KEY, TEST_JWT_SECRET};
use std::collections::HashMap;
use std::path::PathBuf;
use xsim::{Profile, Sim, SimConfig, SimHandle};

/// `xsim` with `profile` on a free port, in this process.
pub async fn start_sim(profile: Profile) -> SimHandle {
    Sim::start(SimConfig::ephemeral().with_profile(profile))
        .await
        .expect("start xsim")
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
    /// A runtime of the test's own, compiling into this directory (the process's shared
    /// runtime otherwise, whose components are compiled once per test run).
    pub compile_cache: Option<PathBuf>,
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
            compile_cache: None,
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

    /// Starts `xsim` with `profile` in this process, so that the test can inject faults and
    /// read its state, then this app against it ([`Setup::x_at`]).
    pub async fn with_sim(self, profile: Profile) -> (SimHandle, TestApp) {
        let sim = start_sim(profile).await;
        let app = self.x_at(&sim).spawn().await;
        (sim, app)
    }

    /// The app pointed at `sim` as X: its base URL, its address as the one X host the probe
    /// may call (the shipping manifest allows its base URL instead), and the key-value store
    /// on Redis (where the X client keeps its budgets and breakers).
    pub fn x_at(self, sim: &SimHandle) -> Setup {
        self.var("x_api_base_url", &sim.base_url())
            .var("x_host", &sim.addr().to_string())
            .kv(Kv::Redis)
    }
}
