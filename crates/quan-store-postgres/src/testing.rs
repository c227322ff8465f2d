//! Fresh PostgreSQL databases for tests: each test gets its own database,
//! created empty and dropped when the returned guard is dropped.
//!
//! The server is found through `QUAN_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached
//! the test is skipped with a message, except when `CI=true`: there a skip
//! is an error, so CI can never pass without running the PostgreSQL tests.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Dropping runs on its own thread and runtime: `Drop` cannot await,
        // and the test's runtime may already be shutting down.
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop test database {}", self.name);
        }
    }
}

pub fn admin_url() -> String {
    std::env::var("QUAN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// Creates an empty database and returns it, or `None` (after saying why on
/// stderr) when PostgreSQL is not reachable outside CI.
///
/// # Panics
/// When PostgreSQL cannot be reached and `CI=true`, or when the server is
/// reachable but refuses to create a database.
pub async fn fresh_database() -> Option<TestDatabase> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let admin_url = admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if in_ci() => {
            panic!("CI=true and PostgreSQL at {admin_url} is unreachable, so its tests cannot be skipped: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL test (PostgreSQL at {admin_url} unreachable: {e}); set QUAN_TEST_PG_URL");
            return None;
        }
    };
    let name = format!(
        "quan_test_{}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::now_v7().simple()
    );
    let sql = format!("CREATE DATABASE \"{name}\"");
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await {
        panic!("PostgreSQL at {admin_url} refused to create a test database: {e}");
    }
    let _ = admin.close().await;
    let url = PgConnectOptions::from_str(&admin_url)
        .unwrap_or_else(|e| panic!("QUAN_TEST_PG_URL is not a PostgreSQL URL: {e}"))
        .database(&name)
        .to_url_lossy()
        .to_string();
    Some(TestDatabase { url, admin_url, name })
}
