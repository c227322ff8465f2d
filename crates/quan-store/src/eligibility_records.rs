//! Identities of residents and imported lists.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{KeyedHash, Region, ResidentId, UserId};

/// A resident's verified ID number, as stored: never the number itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub resident_id: ResidentId,
    pub id_hash: KeyedHash,
    /// `4****************X`.
    pub id_masked: String,
    /// The first six digits (household registration region).
    pub household_region: String,
    pub birth_date: NaiveDate,
    pub verified_at: DateTime<Utc>,
    /// When a real-name check (name, ID number and phone, 三要素) matched
    /// this number to this resident; none: recorded on their word only.
    pub real_name_checked_at: Option<DateTime<Utc>>,
}

/// An operator's change of a resident's recorded ID number, kept for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityChange {
    pub resident_id: ResidentId,
    pub changed_at: DateTime<Utc>,
    pub changed_by: UserId,
    pub old_masked: String,
    pub new_masked: String,
    pub old_region: String,
    pub new_region: String,
    pub reason: String,
}

/// Which personal datum a list entry is the keyed hash of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    IdNumber,
    Phone,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::IdNumber => "id",
            MemberKind::Phone => "phone",
        }
    }
}

/// One entry of a list, and when it was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListMember {
    pub kind: MemberKind,
    pub hash: KeyedHash,
    pub added_at: DateTime<Utc>,
}

/// An imported list of people (lottery winners, a target group, excluded people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityList {
    pub id: uuid::Uuid,
    pub name: String,
    pub region: Region,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub members: u64,
}
