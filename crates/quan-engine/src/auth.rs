//! Logging in and knowing who is calling: staff with a password, residents
//! with a one-time code sent by SMS, everyone with an opaque bearer token.

use chrono::{DateTime, Duration, Utc};
use quan_domain::{PhoneNumber, Region, Role, SessionId, Username};
use quan_store::{NewOtp, Principal, Resident, Session, StoreError, User};

use crate::Engine;
use crate::rejection::{Rejection, Status, whole_seconds};
use crate::secrets::{self, ct_eq, new_token, token_hash};

/// The caller of a request, after its token was checked.
#[derive(Debug, Clone)]
pub enum Actor {
    Staff { session: SessionId, user: User },
    Resident { session: SessionId, resident: Resident },
}

impl Actor {
    pub fn role(&self) -> Role {
        match self {
            Actor::Staff { user, .. } => user.role,
            Actor::Resident { .. } => Role::Resident,
        }
    }

    pub fn session(&self) -> SessionId {
        match self {
            Actor::Staff { session, .. } | Actor::Resident { session, .. } => *session,
        }
    }

    /// The region a staff account is confined to; residents have none.
    pub fn region(&self) -> Option<&Region> {
        match self {
            Actor::Staff { user, .. } => Some(&user.region),
            Actor::Resident { .. } => None,
        }
    }
}

/// A new session: the token is shown to the client once and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginRejection {
    /// The same answer for an unknown user and a wrong password.
    #[error("the username or password is wrong")]
    InvalidCredentials,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("too many login attempts for this account; try again in {0} s")]
    TooManyAttempts(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for LoginRejection {
    fn status(&self) -> Status {
        match self {
            LoginRejection::InvalidCredentials => Status::Unauthorized,
            LoginRejection::AccountDisabled => Status::Forbidden,
            LoginRejection::TooManyAttempts(_) => Status::TooManyRequests,
            LoginRejection::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            LoginRejection::InvalidCredentials => "invalid_credentials",
            LoginRejection::AccountDisabled => "account_disabled",
            LoginRejection::TooManyAttempts(_) => "too_many_attempts",
            LoginRejection::Store(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            LoginRejection::TooManyAttempts(s) => Some(*s),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthRejection {
    #[error("a bearer token is required")]
    MissingToken,
    #[error("the token is unknown, expired or logged out")]
    InvalidToken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for AuthRejection {
    fn status(&self) -> Status {
        match self {
            AuthRejection::MissingToken | AuthRejection::InvalidToken => Status::Unauthorized,
            AuthRejection::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            AuthRejection::MissingToken => "missing_token",
            AuthRejection::InvalidToken => "invalid_token",
            AuthRejection::Store(_) => "internal",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OtpRequestRejection {
    #[error("a code was sent to this number moments ago; wait {0} s before asking again")]
    TooSoon(u64),
    #[error("too many codes were sent to this number in the last hour; try again in {0} s")]
    TooManyCodes(u64),
    #[error("too many code requests from this client; try again in {0} s")]
    TooManyRequests(u64),
    #[error("the SMS gateway is unavailable; try again later")]
    SmsUnavailable(#[source] crate::sms::SmsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for OtpRequestRejection {
    fn status(&self) -> Status {
        match self {
            OtpRequestRejection::TooSoon(_)
            | OtpRequestRejection::TooManyCodes(_)
            | OtpRequestRejection::TooManyRequests(_) => Status::TooManyRequests,
            OtpRequestRejection::SmsUnavailable(_) => Status::Unavailable,
            OtpRequestRejection::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            OtpRequestRejection::TooSoon(_) => "code_recently_sent",
            OtpRequestRejection::TooManyCodes(_) => "too_many_codes",
            OtpRequestRejection::TooManyRequests(_) => "too_many_requests",
            OtpRequestRejection::SmsUnavailable(_) => "sms_unavailable",
            OtpRequestRejection::Store(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            OtpRequestRejection::TooSoon(s)
            | OtpRequestRejection::TooManyCodes(s)
            | OtpRequestRejection::TooManyRequests(s) => Some(*s),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OtpVerifyRejection {
    #[error("the code is wrong; {tries_left} tries left")]
    WrongCode { tries_left: u32 },
    #[error(
        "there is no live code for this number (none was sent, it expired, or its tries are used up); request a new one"
    )]
    NoLiveCode,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for OtpVerifyRejection {
    fn status(&self) -> Status {
        match self {
            OtpVerifyRejection::WrongCode { .. } | OtpVerifyRejection::NoLiveCode => Status::Unauthorized,
            OtpVerifyRejection::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            OtpVerifyRejection::WrongCode { .. } => "wrong_code",
            OtpVerifyRejection::NoLiveCode => "no_live_code",
            OtpVerifyRejection::Store(_) => "internal",
        }
    }
}

/// A 6-digit one-time code, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a login code is exactly 6 digits")]
pub struct OtpCodeError;

impl OtpCode {
    pub fn parse(s: &str) -> Result<OtpCode, OtpCodeError> {
        let s = s.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(OtpCode(s.to_owned()))
        } else {
            Err(OtpCodeError)
        }
    }
}

impl Engine {
    /// Staff login. An unknown username costs the same password hash as a
    /// wrong password and gets the same answer.
    /// Attempts are limited per client address (spraying one password over
    /// many usernames) and slowed per (username, client address) with
    /// growing delays after failures, so that an attacker can lock out
    /// nobody: the owner logging in from elsewhere is not slowed at all.
    pub async fn login(&self, username: &str, password: &str, client: &str) -> Result<Issued, LoginRejection> {
        let now = self.now();
        let pair = format!("{}\u{1f}{client}", username.trim().to_ascii_lowercase());
        if let Err(wait) = self.inner.login_backoff.check(&pair, now) {
            return Err(LoginRejection::TooManyAttempts(whole_seconds(wait)));
        }
        if let Err(wait) = self.inner.login_limiter.allows(client, now) {
            return Err(LoginRejection::TooManyAttempts(whole_seconds(wait)));
        }
        let block = client.parse().ok().map(crate::risk::gate::block);
        if let Some(Err(wait)) = block.as_deref().map(|b| self.inner.risk_gate.login_block.allows(b, now)) {
            return Err(LoginRejection::TooManyAttempts(whole_seconds(wait)));
        }
        let found = match Username::parse(username.trim()) {
            Ok(u) => match self.inner.store.user_by_username(&u).await {
                Ok(user) => Some(user),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let hash = found.as_ref().map_or(self.inner.dummy_password_hash.as_str(), |u| u.password_hash.as_str());
        let password = password.to_owned();
        let hash = hash.to_owned();
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let matches =
            tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash)).await.unwrap_or(false);
        let Some(user) = found.filter(|_| matches) else {
            let wait = self.inner.login_backoff.fail(&pair, now);
            // Failures count against the address: one password sprayed over
            // many usernames runs out; the address's good logins cost nothing.
            let _ = self.inner.login_limiter.check(client, now);
            if let Some(b) = &block {
                let _ = self.inner.risk_gate.login_block.check(b, now);
            }
            tracing::info!(client, wait_s = wait.num_seconds(), "staff login refused: invalid credentials");
            return Err(LoginRejection::InvalidCredentials);
        };
        self.inner.login_backoff.succeed(&pair);
        if user.disabled {
            return Err(LoginRejection::AccountDisabled);
        }
        let ttl = Duration::seconds(self.inner.config.staff_session_ttl_s);
        let (token, expires_at, session) = self.new_session(Principal::User(user.id), now, ttl).await?;
        tracing::info!(user_id = %user.id, role = %user.role, "staff logged in");
        Ok(Issued { token, expires_at, actor: Actor::Staff { session, user } })
    }

    async fn new_session(
        &self,
        principal: Principal,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>, SessionId), StoreError> {
        let (token, hash) = new_token(self.inner.random.as_ref());
        let session = Session {
            id: SessionId::from_uuid(self.new_uuid()),
            token_hash: hash,
            principal,
            created_at: now,
            expires_at: now + ttl,
        };
        self.inner.store.insert_session(&session).await?;
        Ok((token, session.expires_at, session.id))
    }

    /// Who holds this bearer token, if it is live and its account enabled.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Actor, AuthRejection> {
        let token = token.ok_or(AuthRejection::MissingToken)?;
        let now = self.now();
        let hash = token_hash(token);
        if let Some(actor) = self.inner.remembered_sessions.get(&hash, now) {
            return Ok(actor);
        }
        let (session, resident) = match self.inner.store.live_session_with_resident(&hash, now).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(AuthRejection::InvalidToken),
            Err(e) => return Err(e.into()),
        };
        // Guard against a hash collision or a store bug handing back another row.
        if !ct_eq(&session.token_hash, &hash) {
            return Err(AuthRejection::InvalidToken);
        }
        match session.principal {
            Principal::User(id) => {
                let user = self.inner.store.user_by_id(id).await?;
                if user.disabled {
                    return Err(AuthRejection::InvalidToken);
                }
                // A till scans all day: its cashier's token is remembered
                // like a resident's. Other staff are always checked.
                let cashier = user.role == quan_domain::Role::Cashier;
                let actor = Actor::Staff { session: session.id, user };
                let ttl = self.inner.config.cashier_session_cache_s;
                if cashier && ttl > 0 {
                    let until = session.expires_at.min(now + Duration::seconds(ttl));
                    let _ = self.inner.remembered_sessions.put(hash, actor.clone(), until, false, now);
                }
                Ok(actor)
            }
            Principal::Resident(id) => {
                let resident = match resident {
                    Some(r) if r.id == id => r,
                    _ => self.inner.store.resident_by_id(id).await?,
                };
                let actor = Actor::Resident { session: session.id, resident };
                let ttl = self.inner.config.resident_session_cache_s;
                if ttl > 0 {
                    // While this node follows the sessions, a logout anywhere
                    // reaches its memory within a round: the token is
                    // remembered until its session expires.
                    let cache = &self.inner.remembered_sessions;
                    let followed = cache.following(now);
                    let until = if followed {
                        session.expires_at
                    } else {
                        session.expires_at.min(now + Duration::seconds(ttl))
                    };
                    let _ = cache.put(hash, actor.clone(), until, followed, now);
                }
                Ok(actor)
            }
        }
    }

    /// The actor for a command run on the server's own machine
    /// (`quan campaign create --as NAME`): the account's rights, no session.
    pub async fn actor_for_username(&self, username: &Username) -> Result<Actor, AuthRejection> {
        match self.inner.store.user_by_username(username).await {
            Ok(user) if !user.disabled => Ok(Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user }),
            Ok(_) | Err(StoreError::NotFound) => Err(AuthRejection::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends the caller's session: the token stops working at once on this
    /// node, and on the others within their window (`resident_session_cache_s`,
    /// `cashier_session_cache_s`) or their next round of following.
    pub async fn logout(&self, actor: &Actor) -> Result<(), AuthRejection> {
        match self.inner.store.delete_session(actor.session(), self.now()).await {
            Ok(hash) => {
                self.inner.remembered_sessions.forget_tokens(&[hash]);
                Ok(())
            }
            Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Bulk enrolment (a bureau's list, a demo, a load test): each phone
    /// becomes a resident with a live session, in one transaction; returns
    /// their bearer tokens in order. The residents are the same as those a
    /// first SMS login creates (keyed phone hash, masked phone).
    pub async fn enrol_residents(&self, phones: &[PhoneNumber]) -> Result<Vec<String>, StoreError> {
        let now = self.now();
        let ttl = Duration::seconds(self.inner.config.resident_session_ttl_s);
        let mut rows = Vec::with_capacity(phones.len());
        let mut tokens = Vec::with_capacity(phones.len());
        for phone in phones {
            let resident = Resident {
                id: quan_domain::ResidentId::from_uuid(self.new_uuid()),
                phone_hash: self.phone_hash(phone),
                phone_masked: phone.masked(),
                created_at: now,
            };
            let (token, hash) = new_token(self.inner.random.as_ref());
            let session = Session {
                id: SessionId::from_uuid(self.new_uuid()),
                token_hash: hash,
                principal: Principal::Resident(resident.id),
                created_at: now,
                expires_at: now + ttl,
            };
            rows.push((resident, session));
            tokens.push(token);
        }
        self.inner.store.enrol_residents(&rows).await?;
        Ok(tokens)
    }

    pub(crate) fn phone_hash(&self, phone: &PhoneNumber) -> quan_domain::KeyedHash {
        self.inner.pii_key.hash("phone", phone.expose().as_bytes())
    }

    fn otp_hash(&self, phone: &PhoneNumber, code: &str) -> [u8; 32] {
        *self.inner.pii_key.hash("otp", format!("{}:{code}", phone.expose()).as_bytes()).as_bytes()
    }

    /// Sends a resident a login code. `client` identifies the caller (its
    /// address) for rate limiting.
    pub async fn request_login_code(
        &self,
        phone: &PhoneNumber,
        client: &str,
    ) -> Result<DateTime<Utc>, OtpRequestRejection> {
        self.request_login_code_from(phone, client, None).await
    }

    /// `request_login_code`, limited also per device token and per address
    /// block (/24, /64): the per-address limit is generous for a carrier's
    /// NAT, the per-number and per-device limits do the work.
    pub async fn request_login_code_from(
        &self,
        phone: &PhoneNumber,
        client: &str,
        device: Option<&str>,
    ) -> Result<DateTime<Utc>, OtpRequestRejection> {
        let now = self.now();
        let cfg = &self.inner.config;
        let gate = &self.inner.risk_gate;
        let block = client.parse().ok().map(crate::risk::gate::block);
        let limited = [
            self.inner.otp_client_limiter.check(client, now),
            device.map_or(Ok(()), |d| gate.sms_device.check(d, now)),
            block.as_deref().map_or(Ok(()), |b| gate.sms_block.check(b, now)),
        ];
        if let Some(Err(wait)) = limited.into_iter().find(Result::is_err) {
            return Err(OtpRequestRejection::TooManyRequests(whole_seconds(wait)));
        }
        let hash = self.phone_hash(phone);
        let resend = Duration::seconds(cfg.otp_resend_interval_s);
        let code = format!("{:06}", self.inner.random.below(1_000_000));
        let expires_at = now + Duration::seconds(cfg.otp_ttl_s);
        let otp = NewOtp {
            id: self.new_uuid(),
            phone_hash: hash,
            code_hash: self.otp_hash(phone, &code),
            attempts: 0,
            created_at: now,
            expires_at,
        };
        let limits = quan_store::OtpSendLimits {
            resend_since: now - resend,
            hour_since: now - Duration::hours(1),
            per_hour_max: cfg.otp_sends_per_hour_max,
        };
        match self.inner.store.put_otp(&otp, limits).await? {
            quan_store::OtpSend::Stored => {}
            quan_store::OtpSend::TooSoon => return Err(OtpRequestRejection::TooSoon(whole_seconds(resend))),
            quan_store::OtpSend::TooMany => return Err(OtpRequestRejection::TooManyCodes(3600)),
        }
        self.inner.sms.send_login_code(phone, &code, expires_at).await.map_err(OtpRequestRejection::SmsUnavailable)?;
        tracing::info!(phone = %phone, "login code sent");
        Ok(expires_at)
    }

    /// Checks a resident's code; on success creates the resident on first
    /// login and opens a session.
    pub async fn verify_login_code(&self, phone: &PhoneNumber, code: &OtpCode) -> Result<Issued, OtpVerifyRejection> {
        let now = self.now();
        let hash = self.phone_hash(phone);
        let max = self.inner.config.otp_attempts_max;
        let challenge = match self.inner.store.take_otp_attempt(&hash, now, max).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Err(OtpVerifyRejection::NoLiveCode),
            Err(e) => return Err(e.into()),
        };
        if !ct_eq(&challenge.code_hash, &self.otp_hash(phone, &code.0)) {
            return Err(OtpVerifyRejection::WrongCode { tries_left: max.saturating_sub(challenge.attempts) });
        }
        match self.inner.store.consume_otp(challenge.id).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(OtpVerifyRejection::NoLiveCode),
            Err(e) => return Err(e.into()),
        }
        let candidate = Resident {
            id: quan_domain::ResidentId::from_uuid(self.new_uuid()),
            phone_hash: hash,
            phone_masked: phone.masked(),
            created_at: now,
        };
        let resident = self.inner.store.upsert_resident(&candidate).await?;
        let ttl = Duration::seconds(self.inner.config.resident_session_ttl_s);
        let (token, expires_at, session) = self.new_session(Principal::Resident(resident.id), now, ttl).await?;
        tracing::info!(resident_id = %resident.id, "resident logged in");
        Ok(Issued { token, expires_at, actor: Actor::Resident { session, resident } })
    }
}
