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
