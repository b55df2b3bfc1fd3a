//! The suite on a real Spin (`SPIN_BIN`): `spin up` in a process group of its own.

use super::app::{Running, Started};
use super::setup::{Kv, Setup};
use super::{build_components, TestDb, REDIS_URL};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Signals `spin up` and the trigger processes it started (its process group: `spin up` runs
/// each trigger as a child process, which a signal to `spin up` alone would leave running).
pub(super) fn signal_group(child: &std::process::Child, signal: &str) {
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
pub(super) fn manifest_for(setup: &Setup) -> anyhow::Result<PathBuf> {
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

/// `spin up` of the same manifest on a free port, variables as `SPIN_VARIABLE_*`.
pub(super) async fn start(spin: &Path, setup: Setup) -> anyhow::Result<Started> {
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
        let (url, file) = redis_database(&setup, state_dir.path()).await?;
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
    capture_output(&mut child, &logs);
    wait_until_listening(&mut child, &listen, &logs).await?;
    Ok(Started {
        app: Running::Spin(child),
        db,
        redis_url,
        redis_prefix: String::new(),
        logs,
        state_dir,
    })
}

/// Spin's Redis store has no key prefix: a database of its own per app, emptied, and the
/// runtime config (written to `dir`) that points the default store at it. Answers both.
async fn redis_database(setup: &Setup, dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = 1 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 15;
    let base = setup.redis_url.as_deref().unwrap_or(REDIS_URL);
    let url = format!("{}/{n}", base.trim_end_matches('/'));
    let client = redis::Client::open(url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("FLUSHDB").query_async::<()>(&mut conn).await?;
    let file = dir.join("runtime-config.toml");
    std::fs::write(
        &file,
        format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n"),
    )?;
    Ok((url, file))
}

/// Copies the child's stdout and stderr, line by line, into `logs` (the guests' output, which
/// Spin writes as the guest wrote it).
fn capture_output(child: &mut std::process::Child, logs: &Arc<Mutex<Vec<String>>>) {
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
}

/// Waits until `spin up` accepts connections on `listen`; fails when it exits first or takes
/// more than 120 s.
async fn wait_until_listening(
    child: &mut std::process::Child,
    listen: &str,
    logs: &Arc<Mutex<Vec<String>>>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let output = logs.lock().unwrap().join("\n");
            anyhow::bail!("spin up exited with {status}: {output}");
        }
        if tokio::net::TcpStream::connect(listen).await.is_ok() {
            return Ok(());
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            anyhow::bail!("spin up did not listen on {listen} within 120 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
