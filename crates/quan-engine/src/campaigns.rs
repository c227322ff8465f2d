//! Campaigns and batches: what officials set up before residents can claim.

use chrono::{DateTime, Utc};
use quan_domain::batch::{BatchAmendment, BatchContext, BatchMode, BatchSpec, amend, check_budget};
use quan_domain::campaign::{CampaignCommand, CampaignMoney, CampaignRejection, CampaignSpec, CampaignStatus, decide};
use quan_domain::{BatchId, CampaignId, Fen, Invalid, Role, UserId};
use quan_store::{Batch, Campaign, CampaignEvent, CampaignTransition, LotteryState, StoreError, User};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status};

/// A campaign file as officials keep it in version control: the campaign
/// and its batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignFile {
    pub campaign: CampaignSpec,
    #[serde(default)]
    pub batches: Vec<BatchSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("no such campaign or batch")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Transition(CampaignRejection),
    #[error("someone else changed this at the same moment; read it again and retry")]
    Concurrent,
    #[error("this batch is not a lottery")]
    NotALottery,
    #[error("registration is not open: it runs from {} to {}", quan_domain::beijing(*opens), quan_domain::beijing(*closes))]
    RegistrationClosed { opens: DateTime<Utc>, closes: DateTime<Utc> },
    #[error("you are already registered for this lottery")]
    AlreadyRegistered,
    #[error("the draw happens once registration has closed, at {at}", at = quan_domain::beijing(*.0))]
    DrawTooEarly(DateTime<Utc>),
    #[error("this lottery has already been drawn")]
    AlreadyDrawn,
    #[error("only a draft holding no money can be edited or deleted; once funded, amend its batches instead")]
    NotADraft,
    #[error("the campaign cannot close yet: {0}")]
    NotReadyToClose(String),
    #[error("you are not eligible for this batch: {}", .0.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "))]
    NotEligible(Vec<quan_domain::eligibility::Failure>),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CampaignError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CampaignError::NotFound,
            e => CampaignError::Store(e),
        }
    }
}

impl Rejection for CampaignError {
    fn status(&self) -> Status {
        match self {
            CampaignError::Invalid(_) | CampaignError::Transition(_) | CampaignError::NotALottery => {
                Status::Unprocessable
            }
            CampaignError::NotFound => Status::NotFound,
            CampaignError::Forbidden | CampaignError::NotEligible(_) => Status::Forbidden,
            CampaignError::Concurrent
            | CampaignError::AlreadyRegistered
            | CampaignError::AlreadyDrawn
            | CampaignError::NotADraft
            | CampaignError::RegistrationClosed { .. }
            | CampaignError::DrawTooEarly(_)
            | CampaignError::NotReadyToClose(_) => Status::Conflict,
            CampaignError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            CampaignError::Invalid(i) => i.rule,
            CampaignError::NotFound => "not_found",
            CampaignError::Forbidden => "forbidden",
            CampaignError::Transition(t) => t.code(),
            CampaignError::Concurrent => "concurrent_change",
            CampaignError::NotALottery => "not_a_lottery",
            CampaignError::RegistrationClosed { .. } => "registration_closed",
            CampaignError::AlreadyRegistered => "already_registered",
            CampaignError::DrawTooEarly(_) => "draw_too_early",
            CampaignError::AlreadyDrawn => "already_drawn",
            CampaignError::NotADraft => "not_a_draft",
            CampaignError::NotReadyToClose(_) => "not_ready_to_close",
            CampaignError::NotEligible(_) => "not_eligible",
            CampaignError::Store(_) => "internal",
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            CampaignError::NotEligible(f) => Some(serde_json::json!({ "failures": f })),
            _ => None,
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            CampaignError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
}

fn context(c: &Campaign, now: DateTime<Utc>) -> BatchContext<'_> {
    BatchContext {
        campaign_region: &c.spec.region,
        divisions: Some(&crate::eligibility::DIVISIONS),
        campaign_starts_on: c.spec.starts_on,
        campaign_ends_on: c.spec.ends_on,
        now,
    }
}

/// Checks the batches of a new campaign and returns their total face value.
pub(crate) fn check_campaign_batches(c: &Campaign, batches: &[BatchSpec], now: DateTime<Utc>) -> Result<Fen, Invalid> {
    let mut committed = Fen::ZERO;
    for (i, spec) in batches.iter().enumerate() {
        let at = format!("batches[{i}]");
        spec.validate(&context(c, now)).map_err(|e| e.under(&at))?;
        let face = spec.face_total().unwrap_or(Fen::AMOUNT_MAX);
        check_budget(c.spec.budget_fen, committed, face).map_err(|e| e.under(&at))?;
        committed = committed.checked_add(face).unwrap_or(Fen::AMOUNT_MAX);
    }
    Ok(committed)
}

/// Checks a campaign file as creation would, without storing anything;
/// returns the batches' total face value. For `quan campaign check`.
pub fn check_campaign_file(file: &CampaignFile, now: DateTime<Utc>) -> Result<Fen, Invalid> {
    let today = quan_domain::BusinessDay::of(now, quan_domain::CutoffHour::default()).date();
    file.campaign.validate(today).map_err(|e| e.under("campaign"))?;
    let c = Campaign {
        id: CampaignId::from_uuid(uuid::Uuid::nil()),
        spec: file.campaign.clone(),
        status: CampaignStatus::Draft,
        funded: Fen::ZERO,
        committed: Fen::ZERO,
        created_by: UserId::from_uuid(uuid::Uuid::nil()),
        created_at: now,
        updated_at: now,
    };
    check_campaign_batches(&c, &file.batches, now)
}

pub(crate) fn official(actor: &Actor) -> Result<&User, CampaignError> {
    match actor {
        Actor::Staff { user, .. } if user.role == Role::Official => Ok(user),
        _ => Err(CampaignError::Forbidden),
    }
}

fn region_staff(actor: &Actor) -> Result<&User, CampaignError> {
    match actor {
        Actor::Staff { user, .. } if user.role.is_region_scoped() => Ok(user),
        _ => Err(CampaignError::Forbidden),
    }
}

/// A lottery's public record: enough for anyone to re-run the draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotteryRecord {
    pub batch: Batch,
    pub registrants: Vec<quan_domain::ResidentId>,
    pub winners: Vec<quan_domain::ResidentId>,
    pub winners_max: usize,
    /// Claims made in the batch so far: after the draw, the winners' vouchers.
    pub issued_claims: u64,
}

impl Engine {
    pub(crate) fn event(&self, campaign: CampaignId, kind: &str, actor: Option<UserId>) -> CampaignEvent {
        CampaignEvent {
            id: self.new_uuid(),
            campaign_id: campaign,
            kind: kind.into(),
            amount: None,
            batch_id: None,
            note: String::new(),
            actor,
            at: self.now(),
        }
    }

    fn batch_context<'a>(&self, c: &'a Campaign) -> BatchContext<'a> {
        context(c, self.now())
    }

    /// A campaign's spec as an official submits it: valid today and inside
    /// their region.
    pub(crate) fn check_campaign_spec(&self, me: &User, spec: &CampaignSpec) -> Result<(), CampaignError> {
        let today = quan_domain::BusinessDay::of(self.now(), quan_domain::CutoffHour::default()).date();
        spec.validate(today).map_err(|e| CampaignError::Invalid(e.under("campaign")))?;
        if !me.region.contains(&spec.region) {
            return Err(CampaignError::Invalid(Invalid::new(
                "campaign.region",
                "region_outside_yours",
                format!("{} is outside your region {}", spec.region, me.region),
            )));
        }
        Ok(())
    }

    /// New batches of a campaign, each with its `batch_created` event.
    pub(crate) fn new_batches(
        &self,
        campaign: CampaignId,
        specs: Vec<BatchSpec>,
        by: UserId,
        events: &mut Vec<CampaignEvent>,
    ) -> Vec<Batch> {
        let mut batches = Vec::new();
        for spec in specs {
            let face = spec.face_total().unwrap_or(Fen::AMOUNT_MAX);
            let b = self.new_batch(campaign, spec, by);
            events.push(CampaignEvent {
                batch_id: Some(b.id),
                amount: Some(face),
                ..self.event(campaign, "batch_created", Some(by))
            });
            batches.push(b);
        }
        batches
    }

    fn new_batch(&self, campaign: CampaignId, spec: BatchSpec, by: UserId) -> Batch {
        // A lottery's draw and a grab's admission window draw from the
        // batch's one seed, committed to now and revealed after the draw.
        let draws = matches!(spec.mode, BatchMode::Lottery { .. }) || spec.admission_window_ends_at().is_some();
        let lottery = draws.then(|| {
            let mut seed = [0u8; 32];
            self.inner.random.fill(&mut seed);
            LotteryState { seed, commitment: quan_domain::lottery::commitment(&seed), drawn_at: None }
        });
        Batch {
            id: BatchId::from_uuid(self.new_uuid()),
            campaign_id: campaign,
            face_total: spec.face_total().unwrap_or(Fen::AMOUNT_MAX),
            spec,
            version: 1,
            lottery,
            created_by: by,
            created_at: self.now(),
        }
    }

    /// Creates a campaign with its batches, all or nothing. The batches'
    /// total face value must fit the budget.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        file: CampaignFile,
    ) -> Result<(Campaign, Vec<Batch>), CampaignError> {
        let me = official(actor)?;
        self.check_campaign_spec(me, &file.campaign)?;
        let now = self.now();
        let campaign = Campaign {
            id: CampaignId::from_uuid(self.new_uuid()),
            spec: file.campaign,
            status: CampaignStatus::Draft,
            funded: Fen::ZERO,
            committed: Fen::ZERO,
            created_by: me.id,
            created_at: now,
            updated_at: now,
        };
        let committed = check_campaign_batches(&campaign, &file.batches, now).map_err(CampaignError::Invalid)?;
        let mut events = vec![self.event(campaign.id, "created", Some(me.id))];
        let batches = self.new_batches(campaign.id, file.batches, me.id, &mut events);
        self.store().insert_campaign(&campaign, &batches, &events).await?;
        let back = self.store().campaign_by_id(campaign.id).await?;
        assert_eq!(back.committed, committed, "the stored commitment must equal the batches' face value");
        tracing::info!(campaign_id = %campaign.id, batches = batches.len(), budget = %campaign.spec.budget_fen, "campaign created");
        Ok((back, batches))
    }

    /// A campaign inside the caller's region; outside it, the same 404 as
    /// for a campaign that does not exist.
    pub async fn get_campaign(&self, actor: &Actor, id: CampaignId) -> Result<Campaign, CampaignError> {
        let me = region_staff(actor)?;
        let c = self.store().campaign_by_id(id).await?;
        if !me.region.contains(&c.spec.region) {
            return Err(CampaignError::NotFound);
        }
        Ok(c)
    }

    pub async fn list_campaigns(
        &self,
        actor: &Actor,
        after: Option<CampaignId>,
        limit: u32,
        search: Option<&str>,
    ) -> Result<Vec<Campaign>, CampaignError> {
        let me = region_staff(actor)?;
        let search = crate::search_text(search);
        Ok(self.store().list_campaigns(&me.region, after, limit.clamp(1, crate::LIST_LEN_MAX), search).await?)
    }

    pub async fn campaign_events(&self, actor: &Actor, id: CampaignId) -> Result<Vec<CampaignEvent>, CampaignError> {
        self.get_campaign(actor, id).await?;
        Ok(self.store().campaign_events(id).await?)
    }

    /// Funding, start, closing: one step of the campaign's life cycle.
    pub async fn change_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        cmd: CampaignCommand,
        note: &str,
    ) -> Result<Campaign, CampaignError> {
        let me = official(actor)?.clone();
        let c = self.get_campaign(actor, id).await?;
        let money = CampaignMoney { budget: c.spec.budget_fen, funded: c.funded };
        let (status, after) = decide(c.status, money, &cmd).map_err(CampaignError::Transition)?;
        let kind = match cmd {
            CampaignCommand::Fund { .. } => "funded",
            CampaignCommand::Start => "started",
            CampaignCommand::BeginClosing => "closing",
            CampaignCommand::Close => "closed",
        };
        let amount = if let CampaignCommand::Fund { amount } = cmd { Some(amount) } else { None };
        let event =
            CampaignEvent { amount, note: note.chars().take(500).collect(), ..self.event(id, kind, Some(me.id)) };
        let transfers = match amount {
            None if matches!(cmd, CampaignCommand::Close) => self.close_out_transfers(id).await?,
            Some(a) => vec![quan_store::Transfer {
                id: self.new_uuid(),
                debit: quan_domain::ledger::Account::campaign(id, quan_domain::ledger::AccountKind::Treasury),
                credit: quan_domain::ledger::Account::campaign(id, quan_domain::ledger::AccountKind::Available),
                amount: a,
                reason: quan_domain::ledger::Reason::Funding,
                reference: format!("campaign_event:{}", event.id),
                at: self.now(),
            }],
            None => Vec::new(),
        };
        let t = CampaignTransition {
            id,
            from_status: c.status,
            from_funded: c.funded,
            to_status: status,
            to_funded: after.funded,
            event,
            transfers,
        };
        match self.store().transition_campaign(&t, self.now()).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(CampaignError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        let back = self.store().campaign_by_id(id).await?;
        assert_eq!((back.status, back.funded), (status, after.funded), "a transition must read back as decided");
        tracing::info!(campaign_id = %id, status = status.as_str(), funded = %after.funded, "campaign changed");
        Ok(back)
    }

    async fn budget_error(&self, campaign: CampaignId, requested: Fen, field: &str) -> CampaignError {
        match self.store().campaign_by_id(campaign).await {
            Ok(c) => match check_budget(c.spec.budget_fen, c.committed, requested) {
                Err(e) => CampaignError::Invalid(e.under(field)),
                Ok(()) => CampaignError::Concurrent,
            },
            Err(e) => e.into(),
        }
    }

    pub async fn add_batch(
        &self,
        actor: &Actor,
        campaign: CampaignId,
        spec: BatchSpec,
    ) -> Result<Batch, CampaignError> {
        let me = official(actor)?.clone();
        let c = self.get_campaign(actor, campaign).await?;
        if !c.status.accepts_batches() {
            return Err(CampaignError::Transition(CampaignRejection::InvalidTransition {
                status: c.status.as_str(),
                command: "add_batch",
            }));
        }
        spec.validate(&self.batch_context(&c)).map_err(CampaignError::Invalid)?;
        let face = spec.face_total().unwrap_or(Fen::AMOUNT_MAX);
        check_budget(c.spec.budget_fen, c.committed, face).map_err(CampaignError::Invalid)?;
        let b = self.new_batch(campaign, spec, me.id);
        let event = CampaignEvent {
            batch_id: Some(b.id),
            amount: Some(face),
            ..self.event(campaign, "batch_created", Some(me.id))
        };
        match self.store().insert_batch(&b, &event).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "budget" }) => {
                return Err(self.budget_error(campaign, face, "kinds").await);
            }
            Err(StoreError::Conflict { .. }) => return Err(CampaignError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(campaign_id = %campaign, batch_id = %b.id, face = %face, "batch created");
        Ok(b)
    }

    /// A batch and its campaign, if the campaign is inside the caller's region.
    pub async fn get_batch(&self, actor: &Actor, id: BatchId) -> Result<(Batch, Campaign), CampaignError> {
        let b = self.store().batch_by_id(id).await?;
        let c = self.get_campaign(actor, b.campaign_id).await?;
        Ok((b, c))
    }

    pub async fn list_batches(&self, actor: &Actor, campaign: CampaignId) -> Result<Vec<Batch>, CampaignError> {
        self.get_campaign(actor, campaign).await?;
        Ok(self.store().list_batches(campaign).await?)
    }

    /// Amends a batch; once it has opened only a later close and more stock
    /// (within the budget) are allowed.
    pub async fn amend_batch(&self, actor: &Actor, id: BatchId, a: &BatchAmendment) -> Result<Batch, CampaignError> {
        let me = official(actor)?.clone();
        let (b, c) = self.get_batch(actor, id).await?;
        if !c.status.accepts_batches() {
            return Err(CampaignError::Transition(CampaignRejection::InvalidTransition {
                status: c.status.as_str(),
                command: "amend_batch",
            }));
        }
        let spec = amend(&b.spec, a, &self.batch_context(&c)).map_err(CampaignError::Invalid)?;
        let face = spec.face_total().unwrap_or(Fen::AMOUNT_MAX);
        let delta = face.checked_sub(b.face_total).unwrap_or(Fen::AMOUNT_MAX);
        if delta > Fen::ZERO {
            check_budget(c.spec.budget_fen, c.committed, delta)
                .map_err(|e| CampaignError::Invalid(Invalid { field: "add_stock".into(), ..e }))?;
        }
        let next = Batch { spec, face_total: face, version: b.version + 1, ..b };
        let event =
            CampaignEvent { batch_id: Some(id), amount: Some(delta), ..self.event(c.id, "batch_amended", Some(me.id)) };
        match self.store().update_batch(&next, delta, &event).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "budget" }) => {
                return Err(self.budget_error(c.id, delta, "add_stock").await);
            }
            Err(StoreError::Conflict { .. }) => return Err(CampaignError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        let back = self.store().batch_by_id(id).await?;
        assert_eq!(back, next, "an amended batch must read back as written");
        Ok(back)
    }
}
