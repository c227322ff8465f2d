use quan_store_postgres::testing::fresh_database;
use quan_store_postgres::{MIGRATIONS, PgOptions, PgStore};

#[tokio::test]
async fn nodes_starting_together_apply_each_migration_once() {
    let Some(db) = fresh_database().await else { return };
    let (a, b) =
        tokio::join!(PgStore::open(&db.url, PgOptions::default()), PgStore::open(&db.url, PgOptions::default()));
    let a = a.unwrap_or_else(|e| panic!("{e}"));
    b.unwrap_or_else(|e| panic!("{e}"));
    let applied = a.applied_migrations().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_with_the_reason() {
    let start = std::time::Instant::now();
    let opts = PgOptions { connect_timeout_ms: 2_000, ..PgOptions::default() };
    let err = PgStore::open("postgres://postgres@127.0.0.1:1/none", opts).await.err().map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("refused") || e.contains("timed out") || e.contains("connect")));
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn a_ledger_transfer_can_be_neither_updated_nor_deleted() {
    use quan_store::conformance::{APPEND_ONLY_CHANGES, APPEND_ONLY_SETUP};
    let Some(db) = fresh_database().await else { return };
    let s = PgStore::open(&db.url, PgOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
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
    s.close().await;
}

#[tokio::test]
async fn claims_of_the_three_row_layout_keep_their_limits_after_migrations_20_and_22() {
    use quan_store::conformance::{
        claims_of_the_three_row_layout_keep_their_limits_after_the_upgrade, three_row_claims,
    };
    let Some(db) = fresh_database().await else { return };
    let before = PgStore::open_at_migration(&db.url, PgOptions::default(), 19).await.unwrap_or_else(|e| panic!("{e}"));
    let old = three_row_claims(std::sync::Arc::new(before.clone())).await;
    old.write(before.pool()).await.unwrap_or_else(|e| panic!("{e}"));
    before.close().await;
    let after = PgStore::open(&db.url, PgOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    claims_of_the_three_row_layout_keep_their_limits_after_the_upgrade(std::sync::Arc::new(after.clone()), old).await;
    after.close().await;
}
