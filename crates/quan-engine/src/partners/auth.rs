//! A partner's signed request checked (the header's form and clock, the
//! key by its serial number, the signature, the partner's standing, the
//! nonce's single use, the scope), and quan's answers signed with the
//! deployment's SM2 key. A node remembers each partner for at most half a
//! second, so a cut-off reaches every node within a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quan_domain::partner::{KeyScheme, NONCE_TTL_S, PartnerStatus, Scope};
use quan_domain::partner_auth::{self, Refusal, Scheme};
use quan_store::{Partner, StoreError};
use sm2::dsa::signature::Verifier;
use sm2::dsa::{Signature, VerifyingKey};

use super::PartnerAuthError;
use crate::Engine;
use crate::platform_key::{PlatformKey, SIGNER_ID};

/// How long a node trusts what it read of a partner.
const REMEMBERED: Duration = Duration::from_millis(500);

/// A partner with its usable keys ready to check signatures.
#[derive(Debug)]
pub struct Authed {
    pub partner: Partner,
    sm2: Vec<(String, VerifyingKey)>,
    hmac: Vec<(String, Vec<u8>)>,
}

/// What a node keeps for the partner API: the platform key (derived
/// once) and the partners it read lately.
pub struct PartnerMemory {
    platform: PlatformKey,
    serial: String,
    partners: Mutex<HashMap<uuid::Uuid, (Instant, Arc<Authed>)>>,
    /// The client webhooks are delivered with.
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for PartnerMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartnerMemory(platform serial {})", self.serial)
    }
}

impl PartnerMemory {
    /// `http`: the client webhooks are delivered with.
    pub fn new(platform: PlatformKey, http: reqwest::Client) -> PartnerMemory {
        let serial = super::serial_of(&platform.public_hex());
        PartnerMemory { platform, serial, partners: Mutex::new(HashMap::new()), http }
    }

    /// The deployment's platform key (derived once, at start).
    pub(crate) fn platform(&self) -> &PlatformKey {
        &self.platform
    }

    /// The platform key's signature of `message`, r‖s in base64.
    pub(crate) fn platform_sign(&self, message: &[u8]) -> String {
        STANDARD.encode(hex::decode(self.platform.sign_hex(message)).unwrap_or_default())
    }
}

/// The headers of a signed answer: `Quan-Timestamp`, `Quan-Nonce`,
/// `Quan-Serial` and `Quan-Signature` (SM2 with SM3 over
/// `TIMESTAMP\nNONCE\nBODY\n`, r‖s in base64).
#[derive(Debug, Clone)]
pub struct ResponseSignature {
    pub timestamp: i64,
    pub nonce: String,
    pub serial: String,
    pub signature: String,
}

impl Engine {
    /// Checks a signed request for `scope`; the partner it comes from.
    pub async fn authenticate_partner(
        &self,
        header: Option<&str>,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        scope: Scope,
    ) -> Result<Arc<Authed>, PartnerAuthError> {
        let refused = PartnerAuthError::Refused;
        let signed = partner_auth::parse(header.unwrap_or_default()).map_err(refused)?;
        let now = self.now();
        partner_auth::check_time(signed.timestamp, now.timestamp()).map_err(refused)?;
        // An unknown partner is answered as a bad signature: nothing to probe.
        let id = uuid::Uuid::parse_str(&signed.partner_id).map_err(|_| refused(Refusal::SignatureInvalid))?;
        let authed = match self.remembered_partner(id).await {
            Err(StoreError::NotFound) => return Err(refused(Refusal::SignatureInvalid)),
            r => r.map_err(PartnerAuthError::Store)?,
        };
        let message = partner_auth::message(method, path_and_query, signed.timestamp, &signed.nonce, body);
        let sig = STANDARD.decode(signed.signature.as_bytes()).map_err(|_| refused(Refusal::SignatureInvalid))?;
        let good = match signed.scheme {
            Scheme::Sm2Sm3 => authed.sm2.iter().find(|(s, _)| *s == signed.serial_no).is_some_and(|(_, vk)| {
                Signature::try_from(sig.as_slice()).is_ok_and(|sig| vk.verify(&message, &sig).is_ok())
            }),
            // The serial number names the secret; without one, any of the partner's.
            Scheme::HmacSha256 => authed
                .hmac
                .iter()
                .filter(|(s, _)| signed.serial_no.is_empty() || *s == signed.serial_no)
                .any(|(_, secret)| partner_auth::check_hmac(secret, &message, &sig).is_ok()),
        };
        if !good {
            return Err(refused(Refusal::SignatureInvalid));
        }
        if authed.partner.status == PartnerStatus::Suspended {
            return Err(PartnerAuthError::Suspended(authed.partner.status_reason.clone()));
        }
        let expires = now + chrono::Duration::seconds(NONCE_TTL_S);
        let item = (id, signed.nonce.clone(), expires, now);
        let taken = self.inner.partner_batches.nonces.submit(self.store(), item).await;
        if !taken.map_err(PartnerAuthError::Store)? {
            return Err(PartnerAuthError::NonceReused);
        }
        if !authed.partner.scopes.contains(&scope) {
            return Err(PartnerAuthError::ScopeMissing(scope));
        }
        Ok(authed)
    }

    /// Signs an answer's body with the deployment's SM2 key.
    pub fn sign_partner_response(&self, body: &[u8]) -> ResponseSignature {
        let m = &self.inner.partners;
        let timestamp = self.now().timestamp();
        let mut n = [0u8; 16];
        self.inner.random.fill(&mut n);
        let nonce = hex::encode_upper(n);
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        let signature = m.platform_sign(&message);
        ResponseSignature { timestamp, nonce, serial: m.serial.clone(), signature }
    }

    /// The platform key's serial number and public key (SEC1 hex), for partners.
    pub fn platform_certificate(&self) -> (String, String) {
        let m = &self.inner.partners;
        (m.serial.clone(), m.platform.public_hex())
    }

    /// Forgets what this node read of a partner (after a change here).
    pub(crate) fn forget_partner(&self, id: uuid::Uuid) {
        self.inner.partners.partners.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    async fn remembered_partner(&self, id: uuid::Uuid) -> Result<Arc<Authed>, StoreError> {
        let cached = self.inner.partners.partners.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
        if let Some((at, a)) = cached
            && at.elapsed() < REMEMBERED
        {
            return Ok(a);
        }
        let partner = self.store().partner(id).await?;
        let live = partner.keys.iter().filter(|k| k.revoked_at.is_none());
        let mut sm2 = Vec::new();
        let mut hmac = Vec::new();
        for k in live {
            match k.scheme {
                KeyScheme::Sm2 => {
                    let bytes = k.public_key.as_deref().and_then(|h| hex::decode(h).ok()).unwrap_or_default();
                    if let Ok(vk) = VerifyingKey::from_sec1_bytes(SIGNER_ID, &bytes) {
                        sm2.push((k.serial_no.clone(), vk));
                    }
                }
                KeyScheme::Hmac => {
                    if let Some(secret) = k.sealed_secret.as_deref().and_then(|s| super::open_secret(self, s)) {
                        hmac.push((k.serial_no.clone(), secret));
                    }
                }
            }
        }
        let a = Arc::new(Authed { partner, sm2, hmac });
        let mut map = self.inner.partners.partners.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(id, (Instant::now(), a.clone()));
        Ok(a)
    }
}
