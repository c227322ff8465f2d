use quan_store_sqlite::{SqliteOptions, SqliteStore};

/// Bytes of the database file (not its WAL).
fn main_file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn what_the_committers_write_reaches_the_database_file_through_background_checkpoints() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("quan.db");
    let s = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    // Wait for the checkpoint of the migrations, then write ~4 MiB through
    // the committers' connection: far below the pages past which it would
    // checkpoint itself.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = main_file_len(&path);
    let mut tx = s.batch_pool().begin().await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("CREATE TABLE filler (b BLOB NOT NULL)").execute(&mut *tx).await.unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..1_000 {
        sqlx::query("INSERT INTO filler VALUES (randomblob(4000))")
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    let mut waited_ms = 0;
    while main_file_len(&path) < before + 4_000_000 {
        assert!(waited_ms < 5_000, "the database file stayed at {} bytes: no checkpoint ran", main_file_len(&path));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited_ms += 20;
    }
    s.close().await;
}

#[tokio::test]
async fn the_committers_connection_keeps_statement_journals_in_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store: i64 =
        sqlx::query_scalar("PRAGMA temp_store").fetch_one(s.batch_pool()).await.unwrap_or_else(|e| panic!("{e}"));
    let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(s.batch_pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // 2 = MEMORY.
    assert_eq!((store, pages), (2, i64::from(quan_store_sqlite::COMMITTER_CHECKPOINT_PAGES)));
    s.close().await;
}
