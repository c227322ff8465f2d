use quan_store_sqlite::{MIGRATIONS, SqliteOptions, SqliteStore};

#[tokio::test]
async fn opening_twice_applies_each_migration_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("quan.db");
    let first = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    first.close().await;
    let again = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let applied = again.applied_migrations().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_database_whose_migration_was_edited_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("quan.db");
    let s = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(s.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    s.close().await;
    let err = SqliteStore::open(&path, SqliteOptions::default()).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("was changed after it was applied"), "{err}");
}

#[tokio::test]
async fn a_ledger_transfer_can_be_neither_updated_nor_deleted() {
    use quan_store::conformance::{APPEND_ONLY_CHANGES, APPEND_ONLY_SETUP};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = uuid::Uuid::now_v7();
    for sql in APPEND_ONLY_SETUP {
        sqlx::query(sql).bind(id).execute(s.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for sql in APPEND_ONLY_CHANGES {
        let err = sqlx::query(sql).execute(s.pool()).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let floor = sqlx::query("UPDATE ledger_accounts SET debits_fen = 6 WHERE key = 'b'").execute(s.pool()).await;
    assert!(floor.is_err(), "the CHECK keeps an account with a floor from going below zero");
}

#[tokio::test]
async fn claims_of_the_three_row_layout_keep_their_limits_after_migrations_20_and_22() {
    use quan_store::conformance::{
        claims_of_the_three_row_layout_keep_their_limits_after_the_upgrade, three_row_claims,
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("quan.db");
    let before =
        SqliteStore::open_at_migration(&path, SqliteOptions::default(), 19).await.unwrap_or_else(|e| panic!("{e}"));
    let old = three_row_claims(std::sync::Arc::new(before.clone())).await;
    old.write(before.pool()).await.unwrap_or_else(|e| panic!("{e}"));
    before.close().await;
    let after = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    // The migration ran with foreign keys off on a connection of its own.
    let fks: i64 =
        sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(after.pool()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fks, 1, "foreign keys are on again");
    claims_of_the_three_row_layout_keep_their_limits_after_the_upgrade(std::sync::Arc::new(after), old).await;
}

#[tokio::test]
async fn the_reports_voucher_history_is_read_through_the_residents_index() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sql = format!("EXPLAIN QUERY PLAN {}", quan_store::sql::reports::VOUCHER_HISTORY);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(uuid::Uuid::nil())
        .bind(0i64)
        .bind(1i64)
        .fetch_all(s.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A plan's rows are (id, parent, notused, detail).
    let details: Vec<String> = rows.iter().map(|r| r.try_get::<String, _>(3).unwrap_or_default()).collect();
    assert!(
        details.iter().any(|d| d.starts_with("SEARCH h USING INDEX vouchers_resident_slot (resident_id=?)")),
        "the history is read per resident, not per campaign: {details:?}"
    );
}
