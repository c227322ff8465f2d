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
