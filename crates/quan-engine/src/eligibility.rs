//! Eligibility: residents' verified identities, imported lists, and the
//! decision for one resident and one batch.

use std::sync::LazyLock;

use quan_domain::eligibility::{Facts, Failure, Place, decide};
use quan_domain::id_number::{DivisionTable, IdNumberError, ResidentIdNumber};
use quan_domain::{BatchId, BusinessDay, Invalid, PhoneNumber, Role};
use quan_store::{Identity, MemberKind, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::districts::{Located, Position, PositionRejection};
use crate::merchants::RowError;
use crate::rejection::{Rejection, Status};

/// GB/T 2260 county codes, current and retired, shipped in `data/`.
pub static DIVISIONS: LazyLock<DivisionTable> = LazyLock::new(|| {
    DivisionTable::from_csv(&[
        include_str!("../../../data/regions/divisions/areas.csv"),
        include_str!("../../../data/regions/divisions/retired.csv"),
    ])
});

#[derive(Debug, thiserror::Error)]
pub enum EligibilityError {
    #[error("{0}")]
    IdNumber(IdNumberError),
    #[error("{0}")]
    Position(PositionRejection),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("no such batch or list")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error(
        "your ID number is already recorded ({0}); to change it, ask the service desk: an operator records the change and its reason"
    )]
    IdentityRecorded(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EligibilityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => EligibilityError::NotFound,
            e => EligibilityError::Store(e),
        }
    }
}

impl Rejection for EligibilityError {
    fn status(&self) -> Status {
        match self {
            EligibilityError::IdNumber(_) | EligibilityError::Position(_) | EligibilityError::Invalid(_) => {
                Status::Unprocessable
            }
            EligibilityError::NotFound => Status::NotFound,
            EligibilityError::Forbidden => Status::Forbidden,
            EligibilityError::IdentityRecorded(_) => Status::Conflict,
            EligibilityError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            EligibilityError::IdNumber(e) => e.code(),
            EligibilityError::Position(e) => e.code(),
            EligibilityError::Invalid(i) => i.rule,
            EligibilityError::NotFound => "not_found",
            EligibilityError::Forbidden => "forbidden",
            EligibilityError::IdentityRecorded(_) => "identity_already_recorded",
            EligibilityError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            EligibilityError::IdNumber(_) => Some("id_number"),
            EligibilityError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
}

/// The answer for one resident and one batch.
#[derive(Debug, Clone)]
pub struct Decision {
    pub located: Option<Located>,
    pub failures: Vec<Failure>,
}

/// What a list import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListImport {
    pub rows: usize,
    pub added: u64,
    /// Rows already on the list, or repeated in the input.
    pub duplicates: u64,
    pub invalid: Vec<RowError>,
}

impl Engine {
    /// The lists (named by the rule) the resident is on, by phone or ID
    /// hash, and the resident's place for the decision.
    pub(crate) async fn lists_and_place(
        &self,
        resident: &quan_store::Resident,
        identity: Option<&Identity>,
        rule: &quan_domain::batch::EligibilityRule,
        located: Option<Located>,
    ) -> Result<(Vec<String>, Option<Place>), StoreError> {
        let mut members = vec![(MemberKind::Phone, resident.phone_hash)];
        if let Some(i) = identity {
            members.push((MemberKind::IdNumber, i.id_hash));
        }
        let on_lists =
            if rule.lists.is_empty() { Vec::new() } else { self.lists_with_member(&rule.lists, &members).await? };
        let place = located.map(|l| match l {
            Located::Inside(c) => Place::Inside(c),
            Located::Uncertain { inside, .. } => Place::Uncertain { inside },
            Located::Outside => Place::Outside,
        });
        Ok((on_lists, place))
    }

    pub(crate) fn today(&self) -> chrono::NaiveDate {
        BusinessDay::of(self.now(), self.config().business_day_cutoff).date()
    }

    /// Adds people to a named list (created on first use) as keyed hashes.
    /// `values` are ID numbers or phone numbers with the line they came
    /// from; invalid ones are reported, never stored.
    pub async fn import_list(
        &self,
        actor: &Actor,
        name: &str,
        kind: MemberKind,
        values: &[(usize, String)],
    ) -> Result<ListImport, EligibilityError> {
        let Actor::Staff { user, .. } = actor else { return Err(EligibilityError::Forbidden) };
        if !matches!(user.role, Role::Official | Role::Operator) {
            return Err(EligibilityError::Forbidden);
        }
        let name = quan_domain::invalid::text("name", name, 64).map_err(EligibilityError::Invalid)?;
        let list = match self.store().upsert_list(&name, &user.region, user.id, self.now()).await {
            Ok(l) => l,
            Err(StoreError::Conflict { .. }) => {
                return Err(EligibilityError::Invalid(Invalid::new(
                    "name",
                    "list_outside_your_region",
                    "a list of this name belongs to another region",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let today = self.today();
        let mut report = ListImport { rows: values.len(), ..ListImport::default() };
        let mut members = Vec::with_capacity(values.len());
        let mut seen = std::collections::HashSet::new();
        for (line, raw) in values {
            let hash = match kind {
                MemberKind::IdNumber => ResidentIdNumber::parse(raw, &DIVISIONS, today)
                    .map(|id| self.inner.pii_key.hash("id", id.expose().as_bytes()))
                    .map_err(|e| (e.code(), e.to_string())),
                MemberKind::Phone => PhoneNumber::parse(raw)
                    .map(|p| self.inner.pii_key.hash("phone", p.expose().as_bytes()))
                    .map_err(|e| ("bad_phone", e.to_string())),
            };
            match hash {
                Ok(h) if seen.insert(h) => members.push((kind, h)),
                Ok(_) => report.duplicates += 1,
                Err((rule, message)) => {
                    report.invalid.push(RowError {
                        line: *line,
                        field: kind.as_str().into(),
                        rule: rule.into(),
                        message,
                    });
                }
            }
        }
        for chunk in members.chunks(1000) {
            let added = self.store().add_list_members(list.id, chunk, self.now()).await?;
            report.added += added;
            report.duplicates += chunk.len() as u64 - added;
        }
        tracing::info!(list = %name, added = report.added, invalid = report.invalid.len(), "list imported");
        Ok(report)
    }

    /// Whether the calling resident may claim from a batch now, with every
    /// failed condition.
    pub async fn eligibility(
        &self,
        actor: &Actor,
        batch: BatchId,
        position: Option<Position>,
    ) -> Result<Decision, EligibilityError> {
        let Actor::Resident { resident, .. } = actor else { return Err(EligibilityError::Forbidden) };
        let b = self.store().batch_by_id(batch).await?;
        let rule = &b.spec.eligibility;
        let located = position.map(|p| self.locate(&p)).transpose().map_err(EligibilityError::Position)?;
        let identity = self.store().identity(resident.id).await?;
        let (on_lists, place) = self.lists_and_place(resident, identity.as_ref(), rule, located).await?;
        let facts = Facts {
            place,
            household_region: identity.as_ref().map(|i| i.household_region.as_str()),
            birth_date: identity.as_ref().map(|i| i.birth_date),
            on_lists: &on_lists,
        };
        Ok(Decision { located, failures: decide(rule, &facts, self.today()) })
    }
}
