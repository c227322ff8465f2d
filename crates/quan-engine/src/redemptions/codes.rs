//! Dynamic codes: made from the node's secret, checked for their MAC and
//! window; a resident's voucher code and a till's code.

use chrono::{DateTime, Utc};
use quan_domain::code::{self, CodeError, CodeKey, MacAlgorithm, Subject};
use quan_domain::redemption::{Refusal, VoucherState};
use quan_domain::{Role, TillId};

use super::cache::remember;
use super::{IssuedCode, RedemptionError};
use crate::Engine;
use crate::auth::Actor;

/// How dynamic codes are made and checked. Units are last in each name.
#[derive(Debug, Clone)]
pub struct CodeConfig {
    /// Seconds between refreshes (15–60).
    pub refresh_s: u32,
    /// Seconds a code stays good after its window ends.
    pub grace_s: u32,
    pub algorithm: MacAlgorithm,
    /// The key that signs new codes.
    pub key_id: u8,
    /// Earlier keys that still verify until their retirement instant.
    pub retiring_keys: Vec<(u8, DateTime<Utc>)>,
}

impl Default for CodeConfig {
    fn default() -> Self {
        CodeConfig {
            refresh_s: 30,
            grace_s: 5,
            algorithm: MacAlgorithm::HmacSha256,
            key_id: 1,
            retiring_keys: Vec::new(),
        }
    }
}

impl Engine {
    fn code_keys(&self) -> (CodeKey, Vec<(CodeKey, DateTime<Utc>)>) {
        let c = &self.config().codes;
        let key = |id: u8| {
            let h = self.inner.pii_key.hash("dynamic-code-key", &[id]);
            CodeKey::new(id, c.algorithm, *h.as_bytes())
        };
        (key(c.key_id), c.retiring_keys.iter().map(|(id, until)| (key(*id), *until)).collect())
    }

    fn refresh_s(&self) -> u32 {
        self.config().codes.refresh_s.clamp(code::REFRESH_S_MIN, code::REFRESH_S_MAX)
    }

    fn issue_code(&self, subject: Subject, owner: uuid::Uuid) -> IssuedCode {
        let refresh = self.refresh_s();
        let now = self.now().timestamp();
        let window = code::window_of(now, refresh);
        let (key, _) = self.code_keys();
        let end = (i64::from(window) + 1) * i64::from(refresh);
        IssuedCode {
            code: code::issue(subject, owner, window, &key),
            expires_at: DateTime::from_timestamp(end, 0).unwrap_or_default(),
            refresh_s: refresh,
        }
    }

    /// Finds the key a code names (the current one, or a retiring one
    /// before its retirement) and checks the MAC for `owner`.
    pub(super) fn check_mac(&self, parsed: &code::Parsed, owner: uuid::Uuid) -> Result<(), CodeError> {
        let (current, retiring) = self.code_keys();
        let now = self.now();
        let key = if parsed.key_id == current.id {
            current
        } else {
            retiring
                .into_iter()
                .find(|(k, until)| k.id == parsed.key_id && now < *until)
                .map(|(k, _)| k)
                .ok_or(CodeError::UnknownKey)?
        };
        parsed.verify_mac(&key, owner)
    }

    pub(super) fn check_window(&self, parsed: &code::Parsed) -> Result<(), CodeError> {
        parsed.check_window(self.now().timestamp(), self.refresh_s(), self.config().codes.grace_s)
    }

    /// The current code of one of the resident's own vouchers.
    pub async fn voucher_code(&self, actor: &Actor, voucher: uuid::Uuid) -> Result<IssuedCode, RedemptionError> {
        let Actor::Resident { resident, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let v = self.store().voucher_by_id(voucher).await?;
        if v.resident_id != resident.id {
            return Err(RedemptionError::NotFound);
        }
        match v.state {
            VoucherState::Claimed => {}
            VoucherState::Redeemed => return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed)),
            _ => return Err(RedemptionError::Refused(Refusal::Expired)),
        }
        if let Some((_, why)) = v.frozen {
            return Err(RedemptionError::Refused(Refusal::Frozen(why)));
        }
        remember(&self.inner.read_cache.issued, voucher, std::sync::Arc::new(v));
        Ok(self.issue_code(Subject::Voucher(voucher), resident.id.as_uuid()))
    }

    /// The current code of a resident's voucher, for a caller that checked
    /// the voucher is theirs (the partner sandbox's test vouchers).
    pub(crate) fn code_of_voucher(&self, voucher: uuid::Uuid, resident: quan_domain::ResidentId) -> IssuedCode {
        self.issue_code(Subject::Voucher(voucher), resident.as_uuid())
    }

    /// The till a cashier or merchant owner may act for.
    pub(crate) async fn own_till(&self, actor: &Actor, till: TillId) -> Result<quan_store::Till, RedemptionError> {
        let Actor::Staff { user, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let t = self.till_for_redemption(till).await?;
        let allowed = match user.role {
            Role::Cashier => user.till == Some(till),
            Role::MerchantOwner => user.merchant == Some(t.merchant_id),
            _ => false,
        };
        if !allowed {
            return Err(RedemptionError::NotFound);
        }
        Ok((*t).clone())
    }

    /// The current code of a till, for the resident to scan.
    pub async fn till_code(&self, actor: &Actor, till: TillId) -> Result<IssuedCode, RedemptionError> {
        let t = self.own_till(actor, till).await?;
        Ok(self.issue_code(Subject::Till(till.as_uuid()), t.merchant_id.as_uuid()))
    }
}
