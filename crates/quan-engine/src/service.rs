//! What the HTTP layer needs of the store that is not a use case of its
//! own: the database's health and pool for operations, the idempotency
//! keys of requests that move money or create records, and the imported
//! districts. Every store access of the layers above goes through the engine.

use quan_domain::Role;
use quan_store::{CommitRetries, DistrictBoundary, EligibilityList, IdempotencyBegin, PoolStats, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::eligibility::EligibilityError;

impl Engine {
    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store().backend()
    }

    /// The database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store().ping().await
    }

    /// The store's connection pools, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        self.store().pool_stats()
    }

    /// How often the batch committers retried, by cause, for `/metrics`.
    pub fn commit_retries(&self) -> CommitRetries {
        self.store().commit_retries()
    }

    /// Starts a request under an `Idempotency-Key` (`New`: run it), or
    /// says what the key already stands for.
    pub async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8; 32],
    ) -> Result<IdempotencyBegin, StoreError> {
        self.store().begin_idempotent(scope, key, request_hash, self.now()).await
    }

    /// Stores the answer a retry with the key gets.
    pub async fn complete_idempotent(&self, scope: &str, key: &str, status: u16, body: &str) -> Result<(), StoreError> {
        self.store().complete_idempotent(scope, key, status, body).await
    }

    /// Frees a key whose request failed on our side, so a retry runs again.
    pub async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.store().abandon_idempotent(scope, key).await
    }

    /// Deletes the sessions that have expired by now.
    pub async fn delete_expired_sessions(&self) -> Result<u64, StoreError> {
        self.store().delete_expired_sessions(self.now()).await
    }

    /// The imported districts, as stored.
    pub async fn districts(&self) -> Result<Vec<DistrictBoundary>, StoreError> {
        self.store().districts().await
    }

    /// An eligibility list's name, region and size, for staff of a region
    /// that contains it (`NotFound` for anyone else).
    pub async fn list_summary(&self, actor: &Actor, name: &str) -> Result<EligibilityList, EligibilityError> {
        let Actor::Staff { user, .. } = actor else { return Err(EligibilityError::Forbidden) };
        if !matches!(user.role, Role::Official | Role::Auditor | Role::Operator) {
            return Err(EligibilityError::Forbidden);
        }
        let l = self.store().list_by_name(name).await?;
        if !user.region.contains(&l.region) {
            return Err(EligibilityError::NotFound);
        }
        Ok(l)
    }
}
