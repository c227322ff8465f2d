//! The storage conformance suite on PostgreSQL: every case gets a new,
//! empty database. Outside CI a missing server skips these tests (loudly);
//! with `CI=true` it fails them.

use std::sync::Arc;

use quan_store::Store;
use quan_store_postgres::testing::{TestDatabase, fresh_database};
use quan_store_postgres::{PgOptions, PgStore};

async fn open() -> Option<(Arc<dyn Store>, TestDatabase)> {
    let db = fresh_database().await?;
    let store = PgStore::open(&db.url, PgOptions::default()).await.unwrap_or_else(|e| panic!("open: {e}"));
    Some((Arc::new(store), db))
}

quan_store::conformance_tests!(open());

mod migrations;
