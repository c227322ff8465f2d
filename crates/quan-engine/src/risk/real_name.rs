//! Real-name checks (三要素核验: name, ID number and phone, as payment
//! institutions and carriers offer them) behind a trait, with a file-backed
//! verifier for the demo and tests. A matched check marks the resident's
//! recorded number as theirs; the same number recorded by other accounts
//! opens a conflict an operator resolves for the checked holder (the other
//! account loses the number). A batch may ask every claimant for a checked
//! number (`require_real_name`).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::id_number::IdNumberError;
use quan_domain::{Invalid, PhoneNumber, Role};
use quan_store::{Identity, IdentityConflict, StoreError};
use sha2::{Digest, Sha256};

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status};

/// The service that says whether a name, an ID number and a phone number
/// belong together.
#[async_trait]
pub trait IdentityVerifier: Send + Sync + std::fmt::Debug {
    /// Its name, kept with each check.
    fn name(&self) -> &str;
    /// `Ok(true)` when the three match; `Err` when the service cannot answer.
    async fn check(&self, name: &str, id_number: &str, phone: &PhoneNumber) -> Result<bool, String>;
}

/// No verifier configured: every check says so.
#[derive(Debug, Default)]
pub struct NoVerifier;

#[async_trait]
impl IdentityVerifier for NoVerifier {
    fn name(&self) -> &str {
        "none"
    }
    async fn check(&self, _: &str, _: &str, _: &PhoneNumber) -> Result<bool, String> {
        Err("no real-name verifier is configured ([identity] verifier_file)".into())
    }
}

/// A verifier reading the triples it accepts from a CSV file
/// (`name,id_number,phone`, a header line allowed), kept as hashes only.
#[derive(Debug)]
pub struct FileVerifier {
    keys: HashSet<[u8; 32]>,
}

fn key(name: &str, id_number: &str, phone: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [name.trim(), &id_number.trim().to_ascii_uppercase(), phone.trim()] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    h.finalize().into()
}

impl FileVerifier {
    /// The triples of `text`; a line that is not three fields is named.
    pub fn from_csv(text: &str) -> Result<FileVerifier, String> {
        let mut keys = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || (n == 0 && line.starts_with("name,")) {
                continue;
            }
            let f: Vec<&str> = line.split(',').collect();
            let [name, id, phone] = f.as_slice() else {
                return Err(format!("line {}: expected name,id_number,phone", n + 1));
            };
            keys.insert(key(name, id, phone));
        }
        Ok(FileVerifier { keys })
    }
}

#[async_trait]
impl IdentityVerifier for FileVerifier {
    fn name(&self) -> &str {
        "file"
    }
    async fn check(&self, name: &str, id_number: &str, phone: &PhoneNumber) -> Result<bool, String> {
        Ok(self.keys.contains(&key(name, id_number, phone.expose())))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RealNameError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    IdNumber(IdNumberError),
    #[error("this is not the phone number you logged in with")]
    PhoneNotYours,
    #[error("the name, ID number and phone number do not belong together")]
    Mismatch,
    #[error("the real-name check is unavailable now; try again later")]
    Unavailable,
    #[error("your ID number is already recorded ({0}); to change it, ask the service desk")]
    IdentityRecorded(String),
    #[error("too many checks; try again in {0} s")]
    TooMany(u64),
    #[error("this conflict was resolved already")]
    AlreadyResolved,
    #[error("not found")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RealNameError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RealNameError::NotFound,
            StoreError::Conflict { what: "resolved" } => RealNameError::AlreadyResolved,
            e => RealNameError::Store(e),
        }
    }
}

impl Rejection for RealNameError {
    fn status(&self) -> Status {
        use RealNameError as E;
        match self {
            E::Invalid(_) | E::IdNumber(_) | E::PhoneNotYours | E::Mismatch => Status::Unprocessable,
            E::Unavailable => Status::Unavailable,
            E::IdentityRecorded(_) | E::AlreadyResolved => Status::Conflict,
            E::TooMany(_) => Status::TooManyRequests,
            E::NotFound => Status::NotFound,
            E::Forbidden => Status::Forbidden,
            E::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        use RealNameError as E;
        match self {
            E::Invalid(i) => i.rule,
            E::IdNumber(e) => e.code(),
            E::PhoneNotYours => "phone_not_yours",
            E::Mismatch => "real_name_mismatch",
            E::Unavailable => "real_name_unavailable",
            E::IdentityRecorded(_) => "identity_already_recorded",
            E::TooMany(_) => "too_many_requests",
            E::AlreadyResolved => "already_resolved",
            E::NotFound => "not_found",
            E::Forbidden => "forbidden",
            E::Store(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        if let RealNameError::TooMany(s) = self { Some(*s) } else { None }
    }
    fn field(&self) -> Option<&str> {
        match self {
            RealNameError::Invalid(i) => Some(&i.field),
            RealNameError::IdNumber(_) => Some("id_number"),
            RealNameError::PhoneNotYours => Some("phone"),
            _ => None,
        }
    }
}

impl Engine {
    /// The verifier real-name checks go to (none until one is set).
    pub fn use_identity_verifier(&self, v: Arc<dyn IdentityVerifier>) {
        *self.inner.verifier.write().unwrap_or_else(|p| p.into_inner()) = v;
    }

    /// A resident checks their name, ID number and the phone they log in
    /// with: on a match the number is recorded (if it was not) and marked
    /// theirs, and every other account that recorded it meets a conflict.
    pub async fn check_real_name(
        &self,
        actor: &Actor,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> Result<Identity, RealNameError> {
        let Actor::Resident { resident, .. } = actor else { return Err(RealNameError::Forbidden) };
        let name = quan_domain::invalid::text("name", name, 32).map_err(RealNameError::Invalid)?;
        let phone = PhoneNumber::parse(phone)
            .map_err(|e| RealNameError::Invalid(Invalid::new("phone", "invalid", e.to_string())))?;
        if self.phone_hash(&phone) != resident.phone_hash {
            return Err(RealNameError::PhoneNotYours);
        }
        let now = self.now();
        // A check costs the platform money: five an hour per account.
        self.inner
            .risk_gate
            .real_name
            .check(&resident.id.to_string(), now)
            .map_err(|w| RealNameError::TooMany(u64::try_from(w.num_seconds().max(1)).unwrap_or(1)))?;
        let wanted = self.stored_identity(resident.id, id_number.trim()).map_err(RealNameError::IdNumber)?;
        let verifier = self.inner.verifier.read().unwrap_or_else(|p| p.into_inner()).clone();
        match verifier.check(&name, id_number.trim(), &phone).await {
            Ok(true) => {}
            Ok(false) => return Err(RealNameError::Mismatch),
            Err(e) => {
                tracing::error!(verifier = verifier.name(), error = %e, "real-name check unavailable");
                return Err(RealNameError::Unavailable);
            }
        }
        let stored = self.store().record_identity_once(&wanted).await?;
        if stored.id_hash != wanted.id_hash {
            return Err(RealNameError::IdentityRecorded(stored.id_masked));
        }
        self.store().mark_real_name_checked(resident.id, &wanted.id_hash, now).await?;
        for other in self.store().residents_with_id(&wanted.id_hash).await? {
            if other == resident.id {
                continue;
            }
            let c = IdentityConflict {
                id: self.new_uuid(),
                id_hash: wanted.id_hash,
                id_masked: wanted.id_masked.clone(),
                holder: resident.id,
                other,
                opened_at: now,
                resolved: None,
                outcome: Default::default(),
            };
            self.store().open_identity_conflict(&c).await?;
            tracing::warn!(holder = %resident.id, other = %other, id = %wanted.id_masked, "identity conflict opened");
        }
        let checked = Identity { real_name_checked_at: Some(now), verified_at: now, ..stored };
        self.remember_identity(checked.clone());
        tracing::info!(resident_id = %resident.id, id = %checked.id_masked, "real name checked");
        Ok(checked)
    }

    /// Identity conflicts for operators: the open ones, or all.
    pub async fn identity_conflicts(
        &self,
        actor: &Actor,
        open_only: bool,
    ) -> Result<Vec<IdentityConflict>, RealNameError> {
        self.conflict_desk(actor)?;
        Ok(self.store().identity_conflicts(open_only).await?)
    }

    /// An operator resolves a conflict for its checked holder: the other
    /// account no longer counts as that person.
    pub async fn resolve_identity_conflict(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        note: &str,
    ) -> Result<IdentityConflict, RealNameError> {
        let user = self.conflict_desk(actor)?;
        let note = quan_domain::invalid::text("note", note, 500).map_err(RealNameError::Invalid)?;
        let c = self.store().resolve_identity_conflict(id, user.id, self.now(), &note).await?;
        self.forget_conflict(&c);
        tracing::warn!(
            conflict = %id,
            other = %c.other,
            frozen_vouchers = c.outcome.frozen_vouchers,
            frozen_fen = c.outcome.frozen_fen.as_i64(),
            slots_released = c.outcome.slots_released,
            "identity conflict resolved for the checked holder"
        );
        Ok(c)
    }

    /// What this node remembers of a resolved conflict's losing side: the
    /// other account's record of the number, and the claims it counted
    /// against the person (their slots were given back in the database).
    fn forget_conflict(&self, c: &IdentityConflict) {
        self.inner.remembered_sessions.forget_identity(c.other, &c.id_hash);
        self.forget_person_claims(&c.id_hash);
    }

    /// Conflicts resolved since `since` (on any node), applied to this
    /// node's memory; how many.
    pub(crate) async fn follow_identity_conflicts(&self, since: DateTime<Utc>) -> Result<usize, StoreError> {
        let resolved = self.store().conflicts_resolved_since(since).await?;
        for c in &resolved {
            self.forget_conflict(c);
        }
        Ok(resolved.len())
    }

    fn conflict_desk<'a>(&self, actor: &'a Actor) -> Result<&'a quan_store::User, RealNameError> {
        match actor {
            Actor::Staff { user, .. } if user.role == Role::Operator => Ok(user),
            _ => Err(RealNameError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_verifier_matches_only_the_three_together() {
        let v = FileVerifier::from_csv("name,id_number,phone\n张三,42050219900101123x,13800000001\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let phone = PhoneNumber::parse("13800000001").unwrap_or_else(|e| panic!("{e}"));
        let other = PhoneNumber::parse("13800000002").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.check("张三", "42050219900101123X", &phone).await, Ok(true), "the check letter in either case");
        assert_eq!(v.check("李四", "42050219900101123X", &phone).await, Ok(false));
        assert_eq!(v.check("张三", "42050219900101123X", &other).await, Ok(false));
        assert!(FileVerifier::from_csv("just one field").is_err());
    }
}
