//! The databases of the tests: one migrated template, and a clone of it per test.

use super::{root, PG_ADMIN};
use std::sync::OnceLock;

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
