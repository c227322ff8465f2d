//! Typed identifiers. Each is a UUID (version 7 when quan makes it, so ids sort
//! by creation time), but a `UserId` can never be passed where a `ResidentId`
//! is expected. Ids are made by an id generator the caller passes in; this crate
//! never calls the random number generator itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {kind} id (expected a UUID)")]
pub struct IdParseError {
    pub kind: &'static str,
    pub input: String,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const KIND: &'static str = $kind;

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, IdParseError> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdParseError {
                    kind: $kind,
                    input: s.chars().take(64).collect(),
                })
            }
        }
    };
}

typed_id!(
    /// A staff or merchant account (official, auditor, operator, merchant owner, cashier, partner).
    UserId,
    "user"
);
typed_id!(
    /// A resident, known by the keyed hash of a phone number.
    ResidentId,
    "resident"
);
typed_id!(
    /// One login session (its bearer token is stored only as a hash).
    SessionId,
    "session"
);

typed_id!(
    /// A campaign: one policy programme with one budget.
    CampaignId,
    "campaign"
);
typed_id!(
    /// A batch: one release of vouchers inside a campaign.
    BatchId,
    "batch"
);
typed_id!(
    /// A merchant (from its application on).
    MerchantId,
    "merchant"
);
typed_id!(
    /// One till (cash register) of a merchant.
    TillId,
    "till"
);

/// An id as people tell ids apart on a page: its last twelve characters (a
/// time-ordered id's first ones are the same for everything made that day).
pub fn short(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(12)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let u = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let id = UserId::from_uuid(u);
        assert_eq!(id.to_string().parse::<UserId>(), Ok(id));
    }

    #[test]
    fn a_malformed_id_is_rejected_naming_its_kind() {
        let err = "not-a-uuid".parse::<ResidentId>().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("`not-a-uuid` is not a valid resident id (expected a UUID)".into())
        );
    }

    #[test]
    fn a_short_id_is_the_random_end_of_a_time_ordered_one() {
        assert_eq!(super::short("01a2445b-0e80-7009-b85c-d75ad1414097"), "d75ad1414097");
        assert_eq!(super::short("m1"), "m1");
    }
}
