//! Webhooks to partners: a partner sets its endpoint (its `whsec_` secret
//! shown once); events are written to the outbox with the change they tell
//! of; the delivery worker posts each with Standard Webhooks headers and an
//! SM2 platform signature, in order per voucher, retrying over about three
//! days and disabling the endpoint after a 410 or when the schedule is spent.
//! No redirect is followed; private, loopback and link-local targets are
//! refused (at every connection, so DNS cannot point one there later) unless
//! the deployment allows them (`webhooks_allow_private`, tests only).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quan_domain::webhook::{self, Answer};
use quan_store::{AttemptOutcome, NewEvent, WebhookEndpoint, WebhookEvent};
use serde::Serialize;

use super::CheckoutError;
use super::auth::Authed;
use crate::Engine;

/// The label endpoint secrets are sealed under.
const SECRET_LABEL: &str = "partner-webhook";
/// Events a worker claims at once, and how long it holds them.
const CLAIM_MAX: u32 = 64;
const LEASE_S: i64 = 60;
/// How long an endpoint has to answer.
const TIMEOUT_S: u64 = 10;

/// An endpoint just set: its secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSet {
    pub url: String,
    pub secret: String,
}

/// What one round of the delivery worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryRound {
    pub attempted: u32,
    pub delivered: u32,
    pub retried: u32,
    pub dead: u32,
}

/// Resolves names for deliveries, keeping only public addresses.
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allow = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| allow || webhook::public(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries use: no redirects, no proxy, a timeout, the
/// resolver above; `https://` endpoints verified against the system's roots
/// (and `roots`, PEM, when given), TLS 1.2 at least.
pub(crate) fn client(allow_private: bool, roots: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(TIMEOUT_S))
        .tls_version_min(reqwest::tls::Version::TLS_1_2)
        .dns_resolver(Arc::new(PublicOnly { allow_private }));
    if let Some(pem) = roots {
        match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
            Ok(certs) => b = b.tls_certs_merge(certs),
            Err(e) => tracing::error!(error = %e, "the webhook roots are not PEM certificates: ignored"),
        }
    }
    b.build().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the webhook client could not be built with its settings: a plain one is used");
        reqwest::Client::new()
    })
}

impl Engine {
    /// A partner sets (or replaces) its webhook endpoint; the new secret is in
    /// this answer only. A replaced endpoint is active again.
    pub async fn set_webhook_endpoint(&self, a: &Authed, url: &str) -> Result<EndpointSet, CheckoutError> {
        let url = url.trim();
        webhook::check_url(url).map_err(CheckoutError::Invalid)?;
        if !self.config().webhooks_allow_private && literal_private(url) {
            let why = "a public address: private, loopback and link-local targets are refused";
            return Err(CheckoutError::Invalid(quan_domain::Invalid::new("url", "url_private", why)));
        }
        let mut raw = [0u8; 32];
        self.inner.random.fill(&mut raw);
        let secret = format!("whsec_{}", STANDARD.encode(raw));
        let mut nonce = [0u8; 12];
        self.inner.random.fill(&mut nonce);
        let e = WebhookEndpoint {
            partner_id: a.partner.id,
            url: url.to_owned(),
            sealed_secret: self.inner.pii_key.seal(SECRET_LABEL, secret.as_bytes(), nonce),
            status: "active".into(),
            status_reason: String::new(),
            updated_at: self.now(),
        };
        self.store().set_webhook_endpoint(&e).await?;
        tracing::info!(partner_id = %a.partner.id, "webhook endpoint set");
        Ok(EndpointSet { url: e.url, secret })
    }

    /// A `webhook.test` event for the partner, delivered like any other.
    pub async fn fire_test_event(&self, a: &Authed) -> Result<uuid::Uuid, CheckoutError> {
        let e =
            self.partner_event(a.partner.id, "webhook.test", "test", serde_json::json!({"partner_id": a.partner.id}));
        self.store().add_webhook_event(&e).await?;
        Ok(e.id)
    }

    /// An event for the outbox, in Standard Webhooks' body shape.
    pub(crate) fn partner_event(
        &self,
        partner: uuid::Uuid,
        kind: &str,
        subject: &str,
        data: serde_json::Value,
    ) -> NewEvent {
        let at = self.now();
        let payload = serde_json::json!({"type": kind, "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "data": data});
        NewEvent {
            id: self.new_uuid(),
            partner_id: partner,
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            payload: payload.to_string(),
            at,
        }
    }

    /// The events telling partners of a pause (熔断) or its end: the paused
    /// partner for a pause of its channel, every active partner otherwise
    /// (their quotes, locks, confirms and claims meet it).
    pub(crate) async fn pause_events(
        &self,
        p: &quan_store::PauseRecord,
        kind: &str,
    ) -> Result<Vec<NewEvent>, quan_store::StoreError> {
        let channel = (p.target_kind == "channel").then_some(p.target_id.as_str());
        let data = serde_json::json!({
            "pause_id": p.id,
            "target": p.target_kind,
            "target_id": p.target_id,
            "stops": p.stops,
            "reason": p.reason,
            "paused_at": p.at,
            "resumed_at": p.resumed.as_ref().map(|r| r.at),
        });
        Ok(self
            .store()
            .partners()
            .await?
            .into_iter()
            .filter(|x| x.status == quan_domain::partner::PartnerStatus::Active)
            .filter(|x| channel.is_none_or(|c| c == x.id.to_string()))
            .map(|x| self.partner_event(x.id, kind, &p.id.to_string(), data.clone()))
            .collect())
    }

    /// One round of the delivery worker: claims the due events (in order
    /// per subject) and posts each, recording what came of it.
    pub async fn deliver_webhooks(&self) -> Result<DeliveryRound, quan_store::StoreError> {
        let mut round = self.delivery_round().await?;
        // The test partners' events, from the sandbox's own outbox.
        if let Some(s) = self.sandbox() {
            let r = s.delivery_round().await?;
            round.attempted += r.attempted;
            round.delivered += r.delivered;
            round.retried += r.retried;
            round.dead += r.dead;
        }
        Ok(round)
    }

    async fn delivery_round(&self) -> Result<DeliveryRound, quan_store::StoreError> {
        let now = self.now();
        let due = self.store().claim_webhook_events(now, now + chrono::Duration::seconds(LEASE_S), CLAIM_MAX).await?;
        let sends = due.iter().map(|(e, w)| self.deliver_one(e, w));
        let outcomes = futures_util::future::join_all(sends).await;
        let mut round = DeliveryRound::default();
        for ((e, _), outcome) in due.iter().zip(outcomes) {
            round.attempted += 1;
            match &outcome {
                AttemptOutcome::Delivered { .. } => round.delivered += 1,
                AttemptOutcome::Retry { .. } => round.retried += 1,
                AttemptOutcome::Dead { reason, .. } => {
                    round.dead += 1;
                    tracing::warn!(partner_id = %e.partner_id, event_id = %e.id, reason = %reason, "webhook endpoint disabled; the partner must set it again");
                }
            }
            self.store().record_webhook_attempt(e, &outcome, self.now()).await?;
        }
        Ok(round)
    }

    /// Delivers the worker's rounds every `every` until the engine is dropped.
    pub async fn run_webhook_worker(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = self.deliver_webhooks().await {
                tracing::error!(error = %e, "a webhook delivery round failed; the next one runs in a second");
            }
        }
    }

    async fn deliver_one(&self, e: &WebhookEvent, w: &WebhookEndpoint) -> AttemptOutcome {
        let attempts = e.attempts + 1;
        let secret = self.inner.pii_key.open(SECRET_LABEL, &w.sealed_secret).and_then(|s| String::from_utf8(s).ok());
        let Some(secret) = secret else {
            let reason = "its secret does not open under this deployment's key".to_owned();
            return AttemptOutcome::Dead { status: None, error: reason.clone(), reason };
        };
        let (status, retry_after, error) = self.post_event(e, w, &secret).await;
        match webhook::answer(status) {
            Answer::Delivered => AttemptOutcome::Delivered { status: status.unwrap_or(200) },
            Answer::Gone => AttemptOutcome::Dead { status, error, reason: "the endpoint answered 410 Gone".into() },
            Answer::Failed => {
                let jitter = u32::try_from(self.inner.random.u64() % 1000).unwrap_or(500);
                match webhook::next_wait_s(attempts, jitter, retry_after) {
                    Some(s) => {
                        AttemptOutcome::Retry { status, error, next_at: self.now() + chrono::Duration::seconds(s) }
                    }
                    None => AttemptOutcome::Dead { status, error, reason: "three days of failed deliveries".into() },
                }
            }
        }
    }

    /// Posts the event: its status (none without an answer), `Retry-After`, and what went wrong.
    async fn post_event(
        &self,
        e: &WebhookEvent,
        w: &WebhookEndpoint,
        secret: &str,
    ) -> (Option<u16>, Option<i64>, String) {
        if !self.config().webhooks_allow_private && literal_private(&w.url) {
            return (None, None, "the endpoint's address is not public".into());
        }
        let id = e.id.to_string();
        let ts = self.now().timestamp();
        let body = e.payload.as_bytes();
        let signature = webhook::signature(secret, &id, ts, body).unwrap_or_default();
        let sm2 = self.sign_webhook(&id, ts, body);
        let req = self
            .inner
            .partners
            .http
            .post(&w.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .header("quan-serial", sm2.0)
            .header("quan-signature", sm2.1)
            .body(e.payload.clone());
        match req.send().await {
            Ok(resp) => {
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                let status = resp.status().as_u16();
                (
                    Some(status),
                    retry_after,
                    if resp.status().is_success() { String::new() } else { format!("answered {status}") },
                )
            }
            Err(err) => (None, None, format!("no answer: {}", with_causes(&err))),
        }
    }

    /// The platform's SM2 signature of a webhook: over `{id}.{timestamp}.{body}`, r‖s base64.
    fn sign_webhook(&self, id: &str, ts: i64, body: &[u8]) -> (String, String) {
        let (serial, _) = self.platform_certificate();
        let mut m = format!("{id}.{ts}.").into_bytes();
        m.extend_from_slice(body);
        let sig = self.inner.partners.platform_sign(&m);
        (serial, sig)
    }

    /// A partner's events, oldest first.
    pub async fn partner_webhook_events(&self, a: &Authed) -> Result<Vec<WebhookEvent>, CheckoutError> {
        Ok(self.store().webhook_events(a.partner.id).await?)
    }
}

/// Whether the URL's host is an IP address that is not public (names are
/// checked by the resolver at every connection).
fn literal_private(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !webhook::public(ip),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// An error with its causes (a TLS refusal is two or three levels down).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_private_addresses_and_localhost_are_named() {
        for bad in [
            "http://127.0.0.1:9/h",
            "https://[::1]/h",
            "http://10.0.0.7/x",
            "http://localhost:80/",
            "http://169.254.169.254/latest",
        ] {
            assert!(literal_private(bad), "{bad}");
        }
        for good in ["https://bank.example.com/h", "http://8.8.8.8/h", "https://[2400:3200::1]:8443/h"] {
            assert!(!literal_private(good), "{good}");
        }
    }
}
