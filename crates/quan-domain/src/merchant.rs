//! Merchants: the application a merchant files, the unified social credit
//! code that identifies it (GB 32100-2015), and the review life cycle.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::district::DistrictCode;
use crate::industry::Industry;
use crate::invalid::{Invalid, ensure, text};

/// The 31 characters of GB 32100 (no I, O, S, V, Z).
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A unified social credit code (统一社会信用代码), 18 characters with a
/// verified check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters")]
    Length,
    #[error("character {0} is not allowed in a unified social credit code (digits and A-Y without I, O, S, V, Z)")]
    Character(usize),
    #[error("the check character is wrong: expected {expected}")]
    CheckDigit { expected: char },
}

impl CreditCodeError {
    pub fn rule(&self) -> &'static str {
        match self {
            CreditCodeError::Length => "credit_code_length",
            CreditCodeError::Character(_) => "credit_code_character",
            CreditCodeError::CheckDigit { .. } => "credit_code_check_digit",
        }
    }
}

impl CreditCode {
    /// The `n`th of a series of valid codes (`91420500MA` + `n`, and the
    /// computed check character), for demos, benchmarks and tests.
    pub fn sample(n: u32) -> CreditCode {
        const CS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        const W: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
        let body = format!("91420500MA{:07}", n % 10_000_000);
        let sum: u32 = body.bytes().zip(W).map(|(c, w)| CS.iter().position(|x| *x == c).unwrap_or(0) as u32 * w).sum();
        let check = char::from(CS[((31 - sum % 31) % 31) as usize]);
        CreditCode::parse(&format!("{body}{check}")).expect("the sample's check character is computed")
    }

    pub fn parse(s: &str) -> Result<CreditCode, CreditCodeError> {
        let up = s.trim().to_ascii_uppercase();
        let b = up.as_bytes();
        if b.len() != 18 {
            return Err(CreditCodeError::Length);
        }
        let mut values = [0u32; 18];
        for (i, c) in b.iter().enumerate() {
            let v = CREDIT_CHARSET.iter().position(|x| x == c).ok_or(CreditCodeError::Character(i + 1))?;
            values[i] = v as u32;
        }
        let sum: u32 = values[..17].iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(CreditCodeError::CheckDigit { expected: char::from(CREDIT_CHARSET[check as usize]) });
        }
        Ok(CreditCode(up))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 3–8: the division code of the registering authority.
    pub fn registration_division(&self) -> Option<DistrictCode> {
        DistrictCode::parse(&self.0[2..8]).ok()
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

/// Enterprise size class (大型 / 中型 / 小型 / 微型), as reports group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Large,
    Medium,
    Small,
    Micro,
}

impl Scale {
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Large => "large",
            Scale::Medium => "medium",
            Scale::Small => "small",
            Scale::Micro => "micro",
        }
    }

    /// Accepts the code (`small`) or the Chinese name (`小型`).
    pub fn parse(s: &str) -> Option<Scale> {
        let s = s.trim();
        [(Scale::Large, "大型"), (Scale::Medium, "中型"), (Scale::Small, "小型"), (Scale::Micro, "微型")]
            .into_iter()
            .find(|(sc, zh)| sc.as_str() == s || *zh == s)
            .map(|(sc, _)| sc)
    }
}

/// A position in degrees. The coordinate system is the one the district
/// boundaries use (GCJ-02 for the shipped data).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

impl LatLng {
    /// China lies within latitude 3–54 and longitude 73–136.
    pub fn validate(&self, field: &str) -> Result<(), Invalid> {
        let ok = self.lat.is_finite()
            && self.lng.is_finite()
            && (3.0..=54.0).contains(&self.lat)
            && (73.0..=136.0).contains(&self.lng);
        ensure(ok, field, "position_out_of_range", || "latitude 3–54 and longitude 73–136 (inside China)".into())
    }
}

/// The bank account subsidies are paid to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementAccount {
    pub bank_name: String,
    pub account_name: String,
    /// 8–32 digits.
    pub account_number: String,
}

impl SettlementAccount {
    /// `6222****1234`: the form shown outside the payout file.
    pub fn masked_number(&self) -> String {
        let n = &self.account_number;
        if n.len() <= 8 { "*".repeat(n.len()) } else { format!("{}****{}", &n[..4], &n[n.len() - 4..]) }
    }
}

/// What a merchant submits to join.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantApplication {
    pub legal_name: String,
    pub credit_code: String,
    pub industry: Industry,
    pub scale: Scale,
    pub address: String,
    /// The GB/T 2260 code of the address.
    pub address_district: String,
    #[serde(default)]
    pub location: Option<LatLng>,
    pub contact_name: String,
    pub contact_phone: String,
    pub settlement_account: SettlementAccount,
}

/// A checked application.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidApplication {
    pub legal_name: String,
    pub credit_code: CreditCode,
    pub industry: Industry,
    pub scale: Scale,
    pub address: String,
    pub district: DistrictCode,
    pub location: Option<LatLng>,
    pub contact_name: String,
    pub contact_phone: ContactPhone,
    pub settlement_account: SettlementAccount,
}

/// A merchant's contact phone. As submitted it is the number; as quan keeps
/// it (never in clear): a masked form for display, a keyed hash for
/// matching (the same phone at another merchant, or a resident's), and the
/// number sealed (encrypted under a key derived from the personal-data key)
/// for the staff allowed to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactPhone {
    Given(crate::phone::PhoneNumber),
    Kept { masked: String, hash: crate::KeyedHash, sealed: Vec<u8> },
}

impl ContactPhone {
    /// `138****5678`.
    pub fn masked(&self) -> String {
        match self {
            ContactPhone::Given(p) => p.masked(),
            ContactPhone::Kept { masked, .. } => masked.clone(),
        }
    }
}

impl MerchantApplication {
    pub fn validate(&self) -> Result<ValidApplication, Invalid> {
        let legal_name = text("legal_name", &self.legal_name, 100)?;
        let credit_code =
            CreditCode::parse(&self.credit_code).map_err(|e| Invalid::new("credit_code", e.rule(), e.to_string()))?;
        let address = text("address", &self.address, 200)?;
        let district = DistrictCode::parse(self.address_district.trim())
            .map_err(|e| Invalid::new("address_district", "bad_district_code", e.to_string()))?;
        if let Some(l) = &self.location {
            l.validate("location")?;
        }
        let contact_name = text("contact_name", &self.contact_name, 50)?;
        let contact_phone = crate::phone::PhoneNumber::parse(&self.contact_phone)
            .map_err(|e| Invalid::new("contact_phone", "bad_phone", e.to_string()))?;
        let a = &self.settlement_account;
        text("settlement_account.bank_name", &a.bank_name, 100)?;
        text("settlement_account.account_name", &a.account_name, 100)?;
        let n = a.account_number.trim();
        ensure(
            n.len() >= 8 && n.len() <= 32 && n.bytes().all(|b| b.is_ascii_digit()),
            "settlement_account.account_number",
            "bad_account_number",
            || "8 to 32 digits".into(),
        )?;
        Ok(ValidApplication {
            legal_name,
            credit_code,
            industry: self.industry,
            scale: self.scale,
            address,
            district,
            location: self.location,
            contact_name,
            contact_phone: ContactPhone::Given(contact_phone),
            settlement_account: SettlementAccount {
                bank_name: a.bank_name.trim().to_owned(),
                account_name: a.account_name.trim().to_owned(),
                account_number: n.to_owned(),
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MerchantStatus {
    Pending,
    Approved,
    Rejected,
    Suspended,
}

impl MerchantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantStatus::Pending => "pending",
            MerchantStatus::Approved => "approved",
            MerchantStatus::Rejected => "rejected",
            MerchantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<MerchantStatus> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Suspended].into_iter().find(|m| m.as_str() == s)
    }

    /// Only an approved merchant may redeem vouchers.
    pub fn may_redeem(self) -> bool {
        self == MerchantStatus::Approved
    }
}

/// An operator's review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Approve,
    Reject,
    Suspend,
    Reinstate,
}

/// The review state machine: pending → approved | rejected; approved ⇄ suspended.
/// Rejecting and suspending need a reason.
pub fn review(status: MerchantStatus, action: ReviewAction, reason: Option<&str>) -> Result<MerchantStatus, Invalid> {
    use MerchantStatus as S;
    use ReviewAction as A;
    let needs_reason = matches!(action, A::Reject | A::Suspend);
    if needs_reason {
        text("reason", reason.unwrap_or(""), 500)?;
    }
    match (status, action) {
        (S::Pending, A::Approve) => Ok(S::Approved),
        (S::Pending, A::Reject) => Ok(S::Rejected),
        (S::Approved, A::Suspend) => Ok(S::Suspended),
        (S::Suspended, A::Reinstate) => Ok(S::Approved),
        _ => Err(Invalid::new(
            "action",
            "invalid_transition",
            format!("a {} merchant cannot be {action:?}d", status.as_str()).to_lowercase(),
        )),
    }
}

#[cfg(test)]
mod sample_tests {
    use super::*;

    #[test]
    fn every_sample_credit_code_parses_and_they_differ() {
        let a: Vec<String> = (0..500).map(|n| CreditCode::sample(n).to_string()).collect();
        let mut b = a.clone();
        b.sort();
        b.dedup();
        assert_eq!(a.len(), b.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_credit_codes_pass_the_check_digit() {
        for c in ["91350100M000100Y43", "91110000600037341L", "91420500MA4F0C0Q78", "91420500ma4f0c0q78"] {
            assert!(CreditCode::parse(c).is_ok(), "{c}");
        }
        assert_eq!(
            CreditCode::parse("91420500MA4F0C0Q78").ok().and_then(|c| c.registration_division()).map(|d| d.to_string()),
            Some("420500".into())
        );
    }

    #[test]
    fn a_wrong_check_character_names_the_right_one() {
        assert_eq!(CreditCode::parse("91350100M000100Y44"), Err(CreditCodeError::CheckDigit { expected: '3' }));
        assert_eq!(CreditCode::parse("91350100M000100Y4"), Err(CreditCodeError::Length));
        assert_eq!(CreditCode::parse("91350100I000100Y43"), Err(CreditCodeError::Character(9)));
    }

    #[test]
    fn review_follows_the_life_cycle_and_demands_reasons() {
        assert_eq!(review(MerchantStatus::Pending, ReviewAction::Approve, None), Ok(MerchantStatus::Approved));
        assert_eq!(review(MerchantStatus::Pending, ReviewAction::Reject, None).err().map(|e| e.rule), Some("required"));
        assert_eq!(
            review(MerchantStatus::Approved, ReviewAction::Suspend, Some("套现嫌疑")),
            Ok(MerchantStatus::Suspended)
        );
        assert_eq!(review(MerchantStatus::Suspended, ReviewAction::Reinstate, None), Ok(MerchantStatus::Approved));
        assert_eq!(
            review(MerchantStatus::Rejected, ReviewAction::Approve, None).err().map(|e| e.rule),
            Some("invalid_transition")
        );
        assert!(!MerchantStatus::Suspended.may_redeem());
    }

    #[test]
    fn account_numbers_are_masked_for_display() {
        let a = SettlementAccount {
            bank_name: "b".into(),
            account_name: "n".into(),
            account_number: "6222020200112233".into(),
        };
        assert_eq!(a.masked_number(), "6222****2233");
    }
}
