//! Merchants' contact phones as quan keeps them: never in clear, but
//! masked for display, hashed (the same key and label as residents'
//! phones, so a shop's phone that is also a resident's can be matched) and
//! sealed for the staff allowed to call the shop.

use quan_domain::merchant::ContactPhone;
use quan_domain::{MerchantId, PhoneNumber, Role};

use crate::Engine;
use crate::auth::Actor;
use crate::merchants::MerchantError;

/// The label merchants' phone numbers are sealed under.
const SEAL_LABEL: &str = "merchant_phone";

impl Engine {
    /// A contact phone as it is stored: masked, hashed, sealed.
    pub(crate) fn keep_phone(&self, p: ContactPhone) -> ContactPhone {
        match p {
            ContactPhone::Given(n) => self.sealed_phone(&n),
            kept => kept,
        }
    }

    fn sealed_phone(&self, n: &PhoneNumber) -> ContactPhone {
        ContactPhone::Kept { masked: n.masked(), hash: self.phone_hash(n), sealed: self.seal_phone(n.expose()) }
    }

    /// The number sealed under a fresh random nonce.
    fn seal_phone(&self, raw: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        self.inner.random.fill(&mut nonce);
        self.inner.pii_key.seal(SEAL_LABEL, raw.as_bytes(), nonce)
    }

    /// Seals the contact phones an earlier version stored in clear; returns
    /// how many. Run at start, before the node serves.
    pub async fn seal_merchant_phones(&self) -> Result<u64, quan_store::StoreError> {
        let mut done = 0u64;
        loop {
            let page = self.store().merchants_with_clear_phone(500).await?;
            if page.is_empty() {
                return Ok(done);
            }
            for (id, raw) in page {
                let kept = match PhoneNumber::parse(&raw) {
                    Ok(n) => self.sealed_phone(&n),
                    // Not a phone number (hand-edited data): kept sealed all the same.
                    Err(_) => ContactPhone::Kept {
                        masked: "***********".into(),
                        hash: self.inner.pii_key.hash("phone", raw.as_bytes()),
                        sealed: self.seal_phone(&raw),
                    },
                };
                if let ContactPhone::Kept { masked, hash, sealed } = kept {
                    self.store().seal_merchant_phone(id, &masked, &hash, &sealed).await?;
                    done += 1;
                }
            }
        }
    }

    /// The contact phone of a merchant, in full, for an operator or official
    /// of its region who needs to call it (logged, without the number).
    pub async fn merchant_contact_phone(&self, actor: &Actor, id: MerchantId) -> Result<String, MerchantError> {
        let Actor::Staff { user, .. } = actor else { return Err(MerchantError::Forbidden) };
        if !matches!(user.role, Role::Operator | Role::Official) {
            return Err(MerchantError::Forbidden);
        }
        let m = self.get_merchant(actor, id).await?;
        let number = match &m.app.contact_phone {
            ContactPhone::Given(n) => n.expose().to_owned(),
            ContactPhone::Kept { sealed, .. } => {
                let open = self.inner.pii_key.open(SEAL_LABEL, sealed);
                let text = open.and_then(|b| String::from_utf8(b).ok());
                text.ok_or_else(|| {
                    MerchantError::Store(quan_store::StoreError::message(
                        "the contact phone does not open with this node's personal-data key",
                    ))
                })?
            }
        };
        tracing::info!(user_id = %user.id, merchant_id = %id, "a merchant's contact phone was shown in full");
        Ok(number)
    }
}
