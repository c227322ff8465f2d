//! The storage conformance suite on SQLite: every case gets a new database
//! file in its own temporary folder.

use std::sync::Arc;

use quan_store::Store;
use quan_store_sqlite::{SqliteOptions, SqliteStore};

async fn open() -> Option<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let store = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("open: {e}"));
    Some((Arc::new(store), dir))
}

quan_store::conformance_tests!(open());

mod migrations;
mod wal;
