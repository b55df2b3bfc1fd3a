//! `xmp migrate`: applies `migrations/NNNN_name.sql` in order, each in its own transaction,
//! under an advisory lock, recording a SHA-256 checksum per file in `schema_migrations`.
//! Running it twice changes nothing; an applied file whose content changed is refused.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// An arbitrary constant identifying this application's migration lock.
const LOCK_ID: i64 = 0x786d_705f_6d69_6772; // "xmp_migr"

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
    pub checksum: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub applied: Vec<String>,
    pub already: usize,
}

pub fn load_dir(dir: &Path) -> Result<Vec<Migration>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let Some((num, name)) = stem.split_once('_') else {
            bail!("migration file {file} must be named NNNN_name.sql");
        };
        let version: i64 = num
            .parse()
            .with_context(|| format!("migration file {file} must start with a number"))?;
        let sql = std::fs::read_to_string(&path)?;
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        out.push(Migration {
            version,
            name: name.to_string(),
            sql,
            checksum,
        });
    }
    out.sort_by_key(|m| m.version);
    for pair in out.windows(2) {
        if pair[0].version == pair[1].version {
            bail!("two migrations share version {}", pair[0].version);
        }
    }
    Ok(out)
}

pub async fn run(database_url: &str, dir: &Path) -> Result<Report> {
    let migrations = load_dir(dir)?;
    let (mut client, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .with_context(|| "cannot connect to PostgreSQL (is it running? is DATABASE_URL right?)")?;
    let conn_task = tokio::spawn(conn);
    let result = apply(&mut client, &migrations).await;
    drop(client);
    let _ = conn_task.await;
    result
}

async fn apply(client: &mut tokio_postgres::Client, migrations: &[Migration]) -> Result<Report> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_ID])
        .await?;
    let result = apply_locked(client, migrations).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_ID])
        .await?;
    result
}

async fn apply_locked(
    client: &mut tokio_postgres::Client,
    migrations: &[Migration],
) -> Result<Report> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
    let rows = client
        .query("SELECT version, name, checksum FROM schema_migrations", &[])
        .await?;
    let applied: std::collections::HashMap<i64, (String, String)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let mut report = Report::default();
    for m in migrations {
        if let Some((name, checksum)) = applied.get(&m.version) {
            if *checksum != m.checksum {
                bail!(
                    "migration {:04}_{} was changed after it was applied (checksum {} in the database, {} on disk); \
                     write a new migration instead of editing an applied one",
                    m.version, name, &checksum[..12], &m.checksum[..12]
                );
            }
            report.already += 1;
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(&m.sql)
            .await
            .with_context(|| format!("migration {:04}_{} failed", m.version, m.name))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &m.checksum],
        )
        .await?;
        tx.commit().await?;
        report.applied.push(format!("{:04}_{}", m.version, m.name));
    }
    Ok(report)
}
