//! Who may do what: roles and the region a staff account is confined to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::district::{DistrictCode, DivisionCodeError, check_digits};

/// The roles of quan's users. Every API endpoint names the roles it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Commerce bureau staff: campaigns, budgets, rules, reports.
    Official,
    /// Read-only: ledger, reports, audit log, invariant checks.
    Auditor,
    /// Platform staff: merchant review, risk cases, settlement runs.
    Operator,
    /// The owner of a registered merchant.
    MerchantOwner,
    /// A cashier at one till of a merchant.
    Cashier,
    /// A resident, who logs in with a phone number and a one-time code.
    Resident,
    /// A payment app or e-commerce platform calling the open API.
    Partner,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Official,
        Role::Auditor,
        Role::Operator,
        Role::MerchantOwner,
        Role::Cashier,
        Role::Resident,
        Role::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Official => "official",
            Role::Auditor => "auditor",
            Role::Operator => "operator",
            Role::MerchantOwner => "merchant_owner",
            Role::Cashier => "cashier",
            Role::Resident => "resident",
            Role::Partner => "partner",
        }
    }

    /// Roles whose view of the data is confined to a region.
    pub fn is_region_scoped(self) -> bool {
        matches!(self, Role::Official | Role::Auditor | Role::Operator)
    }

    /// Which roles an account of this role may create. Officials manage the
    /// bureau's own staff; nobody creates residents (they sign up by phone).
    pub fn may_create(self, other: Role) -> bool {
        match self {
            Role::Official => matches!(other, Role::Official | Role::Auditor | Role::Operator | Role::Partner),
            _ => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role; expected one of official, auditor, operator, merchant_owner, cashier, resident, partner")]
pub struct RoleParseError(pub String);

impl FromStr for Role {
    type Err = RoleParseError;
    fn from_str(s: &str) -> Result<Role, RoleParseError> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| RoleParseError(s.chars().take(32).collect()))
    }
}

/// A GB/T 2260 code prefix that bounds what an account sees: `42` a province,
/// `4205` a city, `420502` a district.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Result<Region, DivisionCodeError> {
        check_digits(s, &[2, 4, 6], "2, 4 or 6")?;
        Ok(Region(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` lies inside this region (a region contains itself).
    pub fn contains(&self, other: &Region) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The region a district is (its six digits).
    pub fn of_district(d: &DistrictCode) -> Region {
        Region(d.as_str().to_owned())
    }

    pub fn contains_district(&self, d: &DistrictCode) -> bool {
        d.as_str().starts_with(&self.0)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Region {
    type Err = DivisionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::parse(s)
    }
}

impl TryFrom<String> for Region {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Region::parse(&s)
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(s: &str) -> Region {
        Region::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_city_region_contains_its_districts_but_not_another_city() {
        let yichang = region("4205");
        assert!(yichang.contains(&region("420502")));
        assert!(yichang.contains(&region("4205")));
        assert!(!yichang.contains(&region("42")));
        assert!(!yichang.contains(&region("3301")));
        assert!(region("42").contains(&yichang));
    }

    #[test]
    fn a_region_has_two_four_or_six_digits() {
        assert!(Region::parse("420").is_err());
        assert!(Region::parse("42050").is_err());
        assert!(Region::parse("").is_err());
        assert!(Region::parse("4205").is_ok());
    }

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn only_officials_create_staff_accounts_and_nobody_creates_residents() {
        assert!(Role::Official.may_create(Role::Auditor));
        assert!(!Role::Official.may_create(Role::Resident));
        assert!(!Role::Auditor.may_create(Role::Auditor));
        assert!(!Role::Operator.may_create(Role::Official));
    }
}
