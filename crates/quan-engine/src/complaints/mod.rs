//! Complaints (投诉): a resident files a ticket (with what it is about and
//! an optional photo), staff of its region work it, the merchant it names
//! answers what it is asked, and the resident reads the answers.

mod act;
pub mod figures;

pub use act::ActInput;

use quan_domain::complaint::{ComplaintKind, ComplaintState, check_photo, complaint_text, strip_metadata};
use quan_domain::{BusinessDay, DistrictCode, Invalid, MerchantId, Region, Role};
use quan_store::{Complaint, ComplaintEvent, StoreError};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status, whole_seconds};

#[derive(Debug, thiserror::Error)]
pub enum ComplaintError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("no such complaint")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error("you filed the most complaints allowed today; try again in {0} s or call the service line")]
    TooMany(u64),
    #[error("someone else acted on this complaint at the same moment; read it again and retry")]
    Concurrent,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ComplaintError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ComplaintError::NotFound,
            e => ComplaintError::Store(e),
        }
    }
}

impl Rejection for ComplaintError {
    fn status(&self) -> Status {
        match self {
            ComplaintError::Invalid(_) => Status::Unprocessable,
            ComplaintError::NotFound => Status::NotFound,
            ComplaintError::Forbidden => Status::Forbidden,
            ComplaintError::TooMany(_) => Status::TooManyRequests,
            ComplaintError::Concurrent => Status::Conflict,
            ComplaintError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ComplaintError::Invalid(i) => i.rule,
            ComplaintError::NotFound => "not_found",
            ComplaintError::Forbidden => "forbidden",
            ComplaintError::TooMany(_) => "complaint_limit",
            ComplaintError::Concurrent => "concurrent_change",
            ComplaintError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            ComplaintError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            ComplaintError::TooMany(s) => Some(*s),
            _ => None,
        }
    }
}

fn invalid(field: &str, rule: &'static str, message: &str) -> ComplaintError {
    ComplaintError::Invalid(Invalid::new(field, rule, message))
}

/// What a resident files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewComplaint {
    /// `shop_refused`, `wrong_discount`, `price_raised`, `could_not_claim`, `code_problem` or `other`.
    pub kind: String,
    pub text: String,
    pub voucher_id: Option<uuid::Uuid>,
    pub redemption_id: Option<uuid::Uuid>,
    pub merchant_id: Option<MerchantId>,
    /// The district it happened in, when nothing linked names one.
    pub district: Option<String>,
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
}

/// A ticket with what its reader may see of its history.
#[derive(Debug, Clone)]
pub struct ComplaintView {
    pub complaint: Complaint,
    pub events: Vec<ComplaintEvent>,
    /// Overdue now (first answer or close late).
    pub overdue: bool,
}

/// What a staff list shows.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub state: Option<ComplaintState>,
    pub open_only: bool,
    pub overdue_only: bool,
    pub merchant: Option<MerchantId>,
    pub before: Option<uuid::Uuid>,
    pub limit: u32,
}

/// What a ticket links to, once checked against its filer.
struct Links {
    voucher: Option<uuid::Uuid>,
    redemption: Option<uuid::Uuid>,
    merchant: Option<MerchantId>,
    campaign: Option<quan_domain::CampaignId>,
    region: Option<Region>,
}

impl Engine {
    /// Files a resident's ticket. Every link must be the resident's own; the
    /// ticket's region comes from the merchant, else the district chosen,
    /// else the voucher's campaign.
    pub async fn file_complaint(&self, actor: &Actor, input: NewComplaint) -> Result<Complaint, ComplaintError> {
        let Actor::Resident { resident, .. } = actor else { return Err(ComplaintError::Forbidden) };
        let kind = ComplaintKind::parse(input.kind.trim())
            .ok_or_else(|| invalid("kind", "unknown_complaint_kind", "must be one of the complaint types"))?;
        let body = complaint_text("text", &input.text).map_err(ComplaintError::Invalid)?;
        // Checked by its bytes, then stripped of what the camera wrote (the position above all).
        let (photo_type, photo) = match &input.photo {
            Some(p) => {
                let t = check_photo(p).map_err(ComplaintError::Invalid)?;
                (Some(t.mime().to_owned()), Some(strip_metadata(p, t)))
            }
            None => (None, None),
        };
        let links = self.complaint_links(resident.id, &input).await?;
        let region = links
            .region
            .ok_or_else(|| invalid("district", "required", "name the district, a voucher, a payment or a shop"))?;
        let now = self.now();
        let limits = &self.config().complaints;
        let (answer_due, close_due) = limits.due(now);
        let day = BusinessDay::of(now, self.config().business_day_cutoff);
        let (since, day_end) = day.bounds(self.config().business_day_cutoff);
        let c = Complaint {
            id: self.new_uuid(),
            ticket: self.ticket(day),
            resident: resident.id,
            kind,
            body,
            region,
            voucher: links.voucher,
            redemption: links.redemption,
            merchant: links.merchant,
            campaign: links.campaign,
            photo_type,
            state: ComplaintState::Open,
            outcome: None,
            assignee: None,
            merchant_asked: false,
            filed_at: now,
            answer_due,
            close_due,
            answered_at: None,
            closed_at: None,
            version: 1,
        };
        let event = self.complaint_event(&c, "filed", None, Role::Resident, &c.body, true, false);
        match self.store().insert_complaint(&c, photo.as_deref(), &event, since, limits.per_resident_per_day_max).await
        {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "complaint_limit" }) => {
                return Err(ComplaintError::TooMany(whole_seconds(day_end - now)));
            }
            Err(StoreError::Conflict { what: "ticket" }) => return Err(ComplaintError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(complaint = %c.id, ticket = %c.ticket, kind = kind.as_str(), "complaint filed");
        Ok(c)
    }

    /// `TS` + the business day + six random digits.
    fn ticket(&self, day: BusinessDay) -> String {
        format!("TS{}-{:06}", day.date().format("%Y%m%d"), self.inner.random.below(1_000_000))
    }

    async fn complaint_links(
        &self,
        me: quan_domain::ResidentId,
        input: &NewComplaint,
    ) -> Result<Links, ComplaintError> {
        let not_yours = |field: &str| invalid(field, "not_yours", "is not one of your vouchers or payments");
        let mut l = Links { voucher: input.voucher_id, redemption: None, merchant: None, campaign: None, region: None };
        if let Some(id) = input.redemption_id {
            let r = match self.store().redemption_by_id(id).await {
                Ok(r) if r.resident_id == me => r,
                Ok(_) | Err(StoreError::NotFound) => return Err(not_yours("redemption_id")),
                Err(e) => return Err(e.into()),
            };
            l.redemption = Some(r.id);
            l.voucher = Some(r.voucher_id);
            l.merchant = Some(r.merchant_id);
            l.campaign = Some(r.campaign_id);
        }
        if let Some(id) = l.voucher {
            match self.store().voucher_by_id(id).await {
                Ok(v) if v.resident_id == me => l.campaign = Some(v.campaign_id),
                Ok(_) | Err(StoreError::NotFound) => return Err(not_yours("voucher_id")),
                Err(e) => return Err(e.into()),
            }
        }
        if l.merchant.is_none() {
            l.merchant = input.merchant_id;
        }
        if let Some(id) = l.merchant {
            match self.store().merchant_by_id(id).await {
                Ok(m) => l.region = Some(region_of(&m.app.district)),
                Err(StoreError::NotFound) => return Err(invalid("merchant_id", "unknown_merchant", "no such shop")),
                Err(e) => return Err(e.into()),
            }
        }
        if l.region.is_none()
            && let Some(d) = input.district.as_deref().map(str::trim).filter(|d| !d.is_empty())
        {
            let d = DistrictCode::parse(d).map_err(|e| invalid("district", "invalid_district", &e.to_string()))?;
            l.region = Some(region_of(&d));
        }
        if l.region.is_none()
            && let Some(c) = l.campaign
        {
            l.region = Some(self.store().campaign_by_id(c).await?.spec.region);
        }
        Ok(l)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn complaint_event(
        &self,
        c: &Complaint,
        action: &str,
        user: Option<quan_domain::UserId>,
        role: Role,
        body: &str,
        resident_reads: bool,
        merchant_reads: bool,
    ) -> ComplaintEvent {
        ComplaintEvent {
            id: self.new_uuid(),
            complaint: c.id,
            action: action.into(),
            actor_user: user,
            actor_role: role,
            body: body.into(),
            resident_reads,
            merchant_reads,
            at: self.now(),
        }
    }

    /// A resident's own tickets, newest first.
    pub async fn my_complaints(&self, actor: &Actor) -> Result<Vec<Complaint>, ComplaintError> {
        let Actor::Resident { resident, .. } = actor else { return Err(ComplaintError::Forbidden) };
        Ok(self.store().complaints_of_resident(resident.id, 100).await?)
    }

    /// A ticket as its reader may see it: the resident who filed it (the
    /// replies and the close), staff of its region (everything), the owner
    /// of the merchant it names once asked (the question and answers).
    pub async fn complaint(&self, actor: &Actor, id: uuid::Uuid) -> Result<ComplaintView, ComplaintError> {
        let c = self.store().complaint_by_id(id).await?;
        let reader = Reader::of(actor, &c).ok_or(ComplaintError::NotFound)?;
        let events = self.store().complaint_events(id).await?;
        let events = events
            .into_iter()
            .filter(|e| match reader {
                Reader::Staff => true,
                Reader::Resident => e.resident_reads,
                Reader::Merchant => e.merchant_reads,
            })
            .collect();
        let overdue = c.state != ComplaintState::Closed
            && quan_domain::complaint::overdue(self.now(), c.answer_due, c.answered_at, c.close_due, c.closed_at);
        Ok(ComplaintView { complaint: c, events, overdue })
    }

    /// The photo of a ticket, for its resident and the staff of its region
    /// (not the merchant, who reads only what it is asked): (type, bytes).
    pub async fn complaint_photo(&self, actor: &Actor, id: uuid::Uuid) -> Result<(String, Vec<u8>), ComplaintError> {
        let c = self.store().complaint_by_id(id).await?;
        if !matches!(Reader::of(actor, &c), Some(Reader::Resident | Reader::Staff)) {
            return Err(ComplaintError::NotFound);
        }
        let mime = c.photo_type.clone().ok_or(ComplaintError::NotFound)?;
        Ok((mime, self.store().complaint_photo(id).await?))
    }

    /// The queue of staff of a region (operators, officials, auditors).
    pub async fn complaint_queue(&self, actor: &Actor, q: &QueueQuery) -> Result<Vec<Complaint>, ComplaintError> {
        let region = match actor {
            Actor::Staff { user, .. } if user.role.is_region_scoped() => &user.region,
            _ => return Err(ComplaintError::Forbidden),
        };
        let f = quan_store::ComplaintFilter {
            within: region.clone(),
            state: q.state,
            open_only: q.open_only,
            merchant: q.merchant,
            merchant_asked: false,
            overdue_at: q.overdue_only.then(|| self.now()),
        };
        Ok(self.store().list_complaints(&f, q.before, q.limit.clamp(1, crate::LIST_LEN_MAX)).await?)
    }

    /// The tickets a merchant's owner was asked about, newest first.
    pub async fn merchant_complaints(&self, actor: &Actor, m: MerchantId) -> Result<Vec<Complaint>, ComplaintError> {
        Self::owner_of(actor, m).map_err(|_| ComplaintError::Forbidden)?;
        let district = self.store().merchant_by_id(m).await?.app.district;
        let f = quan_store::ComplaintFilter {
            merchant: Some(m),
            merchant_asked: true,
            ..quan_store::ComplaintFilter::within(&region_of(&district))
        };
        Ok(self.store().list_complaints(&f, None, 200).await?)
    }

    /// How many tickets name a merchant (for its review page), for staff who see it.
    pub async fn merchant_complaint_count(&self, actor: &Actor, m: MerchantId) -> Result<u64, ComplaintError> {
        self.get_merchant(actor, m).await.map_err(|_| ComplaintError::NotFound)?;
        Ok(self.store().count_complaints_of_merchant(m).await?)
    }
}

/// Who reads a ticket, if anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Resident,
    Staff,
    Merchant,
}

impl Reader {
    fn of(actor: &Actor, c: &Complaint) -> Option<Reader> {
        match actor {
            Actor::Resident { resident, .. } => (resident.id == c.resident).then_some(Reader::Resident),
            Actor::Staff { user, .. } if user.role.is_region_scoped() => {
                user.region.contains(&c.region).then_some(Reader::Staff)
            }
            Actor::Staff { user, .. } => (user.role == Role::MerchantOwner
                && c.merchant_asked
                && c.merchant.is_some()
                && user.merchant == c.merchant)
                .then_some(Reader::Merchant),
        }
    }
}

/// A district as the region of a ticket.
fn region_of(d: &DistrictCode) -> Region {
    Region::of_district(d)
}
