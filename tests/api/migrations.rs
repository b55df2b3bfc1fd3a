//! `xmp migrate`: ordered, transactional, idempotent, checksum-guarded.

use crate::helpers::{root, TestDb};

fn copy_migrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

async fn empty_db() -> TestDb {
    let db = TestDb::new().await;
    // Start from nothing: the template is already migrated, and later migrations need not be
    // re-runnable over their own tables.
    db.client()
        .await
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    let db = empty_db().await;
    let dir = copy_migrations();

    let first = xmp_host::migrate::run(&db.url, dir.path()).await.unwrap();
    let second = xmp_host::migrate::run(&db.url, dir.path()).await.unwrap();

    assert!(!first.applied.is_empty());
    assert!(second.applied.is_empty());
    assert_eq!(second.already, first.applied.len());
}

#[tokio::test]
async fn migrations_apply_in_order_and_a_failing_one_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let dir = copy_migrations();
    std::fs::write(
        dir.path().join("9001_good.sql"),
        "CREATE TABLE mig_good (id int);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("9002_bad.sql"),
        "CREATE TABLE mig_half (id int); SELECT no_such_function();",
    )
    .unwrap();

    let err = xmp_host::migrate::run(&db.url, dir.path())
        .await
        .unwrap_err();

    assert!(format!("{err:#}").contains("9002_bad"), "{err:#}");
    let client = db.client().await;
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'mig_%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        vec!["mig_good".to_string()],
        "9001 committed, 9002 rolled back whole"
    );
}

#[tokio::test]
async fn an_applied_migration_whose_content_changed_is_refused() {
    let db = TestDb::new().await;
    let dir = copy_migrations();
    std::fs::write(
        dir.path().join("9001_t.sql"),
        "CREATE TABLE mig_t (id int);",
    )
    .unwrap();
    xmp_host::migrate::run(&db.url, dir.path()).await.unwrap();
    std::fs::write(
        dir.path().join("9001_t.sql"),
        "CREATE TABLE mig_t (id bigint);",
    )
    .unwrap();

    let err = xmp_host::migrate::run(&db.url, dir.path())
        .await
        .unwrap_err();

    let text = format!("{err:#}");
    assert!(
        text.contains("9001_t") && text.contains("changed"),
        "{text}"
    );
}

/// Runs `deploy/migrate.sh` (psql only) against `url`; answers (success, stdout + stderr).
fn migrate_with_psql(url: &str, dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("sh")
        .arg(root().join("deploy/migrate.sh"))
        .arg(dir)
        .env("DATABASE_URL", url)
        .output()
        .expect("sh and psql are installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The schema as `pg_dump --schema-only` prints it, without comments and blank lines.
fn schema_of(url: &str) -> String {
    let out = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", url])
        .output()
        .expect("pg_dump is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
        // pg_dump 17.6+ fences its output with a random key that differs on every run.
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn recorded(db: &TestDb) -> Vec<(i64, String, String)> {
    db.client()
        .await
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn the_psql_script_migrates_a_fresh_database_exactly_as_xmp_migrate_does() {
    let by_script = empty_db().await;
    let by_xmp = empty_db().await;
    let dir = root().join("migrations");
    let files = std::fs::read_dir(&dir).unwrap().count();

    let (ok, output) = migrate_with_psql(&by_script.url, &dir);
    let after_script = xmp_host::migrate::run(&by_script.url, &dir).await.unwrap();
    xmp_host::migrate::run(&by_xmp.url, &dir).await.unwrap();

    assert!(ok, "{output}");
    assert!(
        output.contains(&format!("{files} applied, 0 already")),
        "{output}"
    );
    assert!(after_script.applied.is_empty(), "{after_script:?}");
    assert_eq!(after_script.already, files);
    assert_eq!(recorded(&by_script).await, recorded(&by_xmp).await);
    assert_eq!(schema_of(&by_script.url), schema_of(&by_xmp.url));
}

#[tokio::test]
async fn the_psql_script_sees_nothing_to_do_after_xmp_migrate() {
    let db = empty_db().await;
    let dir = root().join("migrations");
    xmp_host::migrate::run(&db.url, &dir).await.unwrap();
    let before = schema_of(&db.url);

    let (ok, output) = migrate_with_psql(&db.url, &dir);

    assert!(ok, "{output}");
    assert!(output.contains("0 applied,"), "{output}");
    assert_eq!(schema_of(&db.url), before);
}

#[tokio::test]
async fn the_psql_script_rolls_back_a_failing_file_and_refuses_a_changed_one() {
    let db = TestDb::new().await;
    let dir = copy_migrations();
    std::fs::write(
        dir.path().join("9001_good.sql"),
        "CREATE TABLE mig_good (id int);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("9002_bad.sql"),
        "CREATE TABLE mig_half (id int); SELECT no_such_function();",
    )
    .unwrap();

    let (failed_ok, failed_output) = migrate_with_psql(&db.url, dir.path());
    std::fs::remove_file(dir.path().join("9002_bad.sql")).unwrap();
    std::fs::write(
        dir.path().join("9001_good.sql"),
        "CREATE TABLE mig_good (id bigint);",
    )
    .unwrap();
    let (changed_ok, changed_output) = migrate_with_psql(&db.url, dir.path());
    let xmp_refuses = xmp_host::migrate::run(&db.url, dir.path()).await.is_err();

    assert!(!failed_ok, "{failed_output}");
    let tables: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'mig_%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        vec!["mig_good".to_string()],
        "9001 committed, 9002 rolled back whole"
    );
    assert!(!changed_ok, "{changed_output}");
    assert!(
        changed_output.contains("9001_good was changed"),
        "{changed_output}"
    );
    assert!(
        xmp_refuses,
        "the checksum the script recorded guards xmp too"
    );
}

#[tokio::test]
async fn the_posts_page_carries_row_locations_only_inside_one_snapshot() {
    // Migration 0020: `xmp_post_page` hands the `ctid`s its first statement found to a TID scan
    // in its second. That is sound only while both read with one snapshot, which a STABLE
    // PL/pgSQL function does and a VOLATILE one does not.
    let db = TestDb::new().await;

    let rows = db
        .client()
        .await
        .query(
            "SELECT proname::text, provolatile::text FROM pg_proc
             WHERE proname IN ('xmp_post_page', 'xmp_post_window') ORDER BY proname",
            &[],
        )
        .await
        .unwrap();

    let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        found,
        [
            ("xmp_post_page".to_string(), "s".to_string()),
            ("xmp_post_window".to_string(), "s".to_string()),
        ]
    );
}
