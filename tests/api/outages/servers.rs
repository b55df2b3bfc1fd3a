//! Private PostgreSQL and Redis servers that a test may stop and start: the shared servers of
//! the other tests are never touched.

use crate::helpers::root;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

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
pub(super) struct PrivatePg {
    dir: PathBuf,
    port: u16,
}

impl PrivatePg {
    pub(super) async fn start_new() -> PrivatePg {
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

    pub(super) fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    pub(super) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/xmp", self.port)
    }

    /// For the manifest's `allowed_outbound_hosts`.
    pub(super) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(super) fn start(&self) {
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
    pub(super) fn stop(&self) {
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
pub(super) struct PrivateRedis {
    port: u16,
}

impl PrivateRedis {
    pub(super) fn start_new() -> PrivateRedis {
        let r = PrivateRedis { port: free_port() };
        r.start();
        r
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(super) fn start(&self) {
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

    pub(super) fn stop(&self) {
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
