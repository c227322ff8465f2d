//! The nightly analysis (`quan risk analyse`, and the server's night job):
//! over each running campaign's last days of redemptions, rings in the
//! resident–merchant graph and merchants whose orders hug the threshold;
//! over its claims, hoarding cohorts; over the catalogue, prices raised
//! before a batch opened. Each finding opens a case (or is recorded again
//! on the open case of the same subject); a ring's or a hugging merchant's
//! case holds the merchants' settlement at once when `hold_settlement`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use quan_domain::campaign::CampaignStatus;
use quan_domain::{CampaignId, Fen, MerchantId, ResidentId, collusion, hoarding, price_guard};
use quan_store::{NewCase, RedemptionFact};
use serde::{Deserialize, Serialize};

use super::RiskError;
use crate::Engine;

/// `[analysis]`: what the nightly analysis looks at and what makes a finding.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Days of redemptions looked at.
    pub days: u32,
    pub ring_min_residents: u32,
    pub ring_inside_pct: u32,
    pub ring_hug_pct: u32,
    pub ring_merchant_share_pct: u32,
    /// A shop is suspicious when this share (percent) of its orders hug the
    /// threshold, at least `ring_shop_hug_min` of them, `ring_shop_hug_z`
    /// standard deviations above the city's rate.
    pub ring_shop_hug_pct: u32,
    pub ring_shop_hug_min: u32,
    pub ring_shop_hug_z: u32,
    /// A merchant whose threshold orders hug it this often (percent) …
    pub merchant_hug_pct: u32,
    /// … over at least this many of them.
    pub merchant_hug_min: u32,
    pub hoard_cohort_min: u32,
    pub hoard_idle_pct: u32,
    /// A cohort's idle share stands this many points above the campaign's.
    pub hoard_above_baseline_pct: u32,
    /// Vouchers count as lying idle once this many days old.
    pub hoard_aged_days: u32,
    pub price: price_guard::Settings,
    /// A ring's or hugging merchant's case holds their settlement at once.
    pub hold_settlement: bool,
}

impl Default for AnalysisConfig {
    fn default() -> AnalysisConfig {
        let r = collusion::Settings::default();
        let h = hoarding::Settings::default();
        AnalysisConfig {
            days: 30,
            ring_min_residents: r.min_residents,
            ring_inside_pct: r.inside_pct,
            ring_hug_pct: r.hug_pct,
            ring_merchant_share_pct: r.merchant_share_pct,
            ring_shop_hug_pct: r.shop_hug_pct,
            ring_shop_hug_min: r.shop_hug_min,
            ring_shop_hug_z: r.shop_hug_z,
            merchant_hug_pct: 60,
            merchant_hug_min: 20,
            hoard_cohort_min: h.cohort_min,
            hoard_idle_pct: h.idle_pct,
            hoard_above_baseline_pct: h.above_baseline_pct,
            hoard_aged_days: 7,
            price: price_guard::Settings::default(),
            hold_settlement: true,
        }
    }
}

impl AnalysisConfig {
    pub fn check(&self) -> Result<(), String> {
        let pct = [
            self.ring_inside_pct,
            self.ring_hug_pct,
            self.ring_merchant_share_pct,
            self.ring_shop_hug_pct,
            self.merchant_hug_pct,
            self.hoard_idle_pct,
            self.hoard_above_baseline_pct,
        ];
        if pct.iter().any(|p| *p > 100) {
            return Err("[analysis] percentages must be at most 100".into());
        }
        if !(1..=366).contains(&self.days) || !(1..=366).contains(&self.price.window_days) {
            return Err("[analysis] days and price.window_days must be 1 to 366".into());
        }
        if self.ring_min_residents < 2 || self.hoard_cohort_min < 2 {
            return Err("[analysis] ring_min_residents and hoard_cohort_min must be at least 2".into());
        }
        Ok(())
    }

    fn rings(&self) -> collusion::Settings {
        collusion::Settings {
            min_residents: self.ring_min_residents,
            inside_pct: self.ring_inside_pct,
            hug_pct: self.ring_hug_pct,
            merchant_share_pct: self.ring_merchant_share_pct,
            shop_hug_pct: self.ring_shop_hug_pct,
            shop_hug_min: self.ring_shop_hug_min,
            shop_hug_z: self.ring_shop_hug_z,
            ..collusion::Settings::default()
        }
    }
}

/// What one analysis found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnalysisRun {
    pub campaigns: u32,
    pub redemptions: u32,
    pub rings: u32,
    pub hugging_merchants: u32,
    pub hoarding_cohorts: u32,
    pub raised_prices: u32,
    pub cases_opened: u32,
    pub found_again: u32,
}

/// A campaign's redemptions indexed for the graph.
struct Indexed {
    residents: Vec<ResidentId>,
    merchants: Vec<MerchantId>,
    edges: Vec<collusion::Edge>,
    /// Per redemption: (resident index, merchant index, hugged, threshold order).
    each: Vec<(u32, u32, bool, bool)>,
}

fn index(
    facts: &[RedemptionFact],
    thresholds: &HashMap<(quan_domain::BatchId, String), quan_domain::voucher_kind::Discount>,
    band_bp: u32,
) -> Indexed {
    let mut r_ix: HashMap<ResidentId, u32> = HashMap::new();
    let mut m_ix: HashMap<MerchantId, u32> = HashMap::new();
    let (mut residents, mut merchants) = (Vec::new(), Vec::new());
    let mut pairs: HashMap<(u32, u32), (u32, u32)> = HashMap::new();
    let mut each = Vec::with_capacity(facts.len());
    for f in facts {
        let r = *r_ix.entry(f.resident).or_insert_with(|| {
            residents.push(f.resident);
            u32::try_from(residents.len() - 1).unwrap_or(u32::MAX)
        });
        let m = *m_ix.entry(f.merchant).or_insert_with(|| {
            merchants.push(f.merchant);
            u32::try_from(merchants.len() - 1).unwrap_or(u32::MAX)
        });
        let t =
            thresholds.get(&(f.batch, f.kind_code.clone())).and_then(|d| quan_domain::cashout::threshold(d, f.face));
        let hug = t.is_some_and(|t| quan_domain::cashout::hugs(f.order, t, band_bp));
        let p = pairs.entry((r, m)).or_default();
        p.0 += 1;
        p.1 += u32::from(hug);
        each.push((r, m, hug, t.is_some()));
    }
    let mut edges: Vec<collusion::Edge> = pairs
        .into_iter()
        .map(|((resident, merchant), (redemptions, hugging))| collusion::Edge {
            resident,
            merchant,
            redemptions,
            hugging,
        })
        .collect();
    edges.sort_unstable_by_key(|e| (e.resident, e.merchant));
    Indexed { residents, merchants, edges, each }
}

impl Engine {
    /// Runs the analysis over every running or closing campaign and the
    /// catalogue, opening cases for what it finds.
    pub async fn analyse(&self) -> Result<AnalysisRun, RiskError> {
        let mut run = AnalysisRun::default();
        let ids = self
            .all_campaign_ids()
            .await
            .map_err(|e| RiskError::Store(quan_store::StoreError::message(e.to_string())))?;
        let mut campaigns = Vec::with_capacity(ids.len());
        for id in ids {
            campaigns.push(self.store().campaign_by_id(id).await?);
        }
        for c in campaigns.iter().filter(|c| matches!(c.status, CampaignStatus::Running | CampaignStatus::Closing)) {
            run.campaigns += 1;
            self.analyse_campaign(c.id, c.spec.region.as_str(), &mut run).await?;
        }
        self.analyse_prices(&campaigns, &mut run).await?;
        tracing::info!(?run, "risk analysis");
        Ok(run)
    }

    async fn analyse_campaign(&self, id: CampaignId, region: &str, run: &mut AnalysisRun) -> Result<(), RiskError> {
        let cfg = self.config().analysis.clone();
        let now = self.now();
        let facts = self.store().redemption_facts(id, now - Duration::days(i64::from(cfg.days)), now).await?;
        run.redemptions += u32::try_from(facts.len()).unwrap_or(u32::MAX);
        let mut thresholds = HashMap::new();
        for b in self.store().list_batches(id).await? {
            for k in b.spec.kinds {
                thresholds.insert((b.id, k.kind.code.clone()), k.kind.discount);
            }
        }
        let ix = index(&facts, &thresholds, self.config().cashout.hug_band_bp);
        let rings = collusion::rings(&ix.edges, &cfg.rings());
        let mut in_ring = std::collections::HashSet::new();
        for ring in &rings {
            run.rings += 1;
            in_ring.extend(ring.merchants.iter().copied());
            let case = self.ring_case(id, &ix, &facts, ring, now).await?;
            self.count(self.open_found_case(case, cfg.hold_settlement).await?, run);
        }
        let mut per: HashMap<u32, (u32, u32)> = HashMap::new();
        for &(_, m, hug, threshold) in &ix.each {
            if threshold {
                let x = per.entry(m).or_default();
                x.0 += 1;
                x.1 += u32::from(hug);
            }
        }
        let mut hugging: Vec<(u32, u32, u32)> = per
            .into_iter()
            .filter(|(m, (n, h))| {
                !in_ring.contains(m) && *n >= cfg.merchant_hug_min && h * 100 >= cfg.merchant_hug_pct * n
            })
            .map(|(m, (n, h))| (m, n, h))
            .collect();
        hugging.sort_unstable();
        for (m, n, h) in hugging {
            run.hugging_merchants += 1;
            let case = self.hugging_case(id, &ix, &facts, m, n, h, now).await?;
            self.count(self.open_found_case(case, cfg.hold_settlement).await?, run);
        }
        self.analyse_hoarding(id, region, &cfg, now, run).await
    }

    fn count(&self, (_, opened): (uuid::Uuid, bool), run: &mut AnalysisRun) {
        if opened {
            run.cases_opened += 1;
        } else {
            run.found_again += 1;
        }
    }

    async fn analyse_hoarding(
        &self,
        id: CampaignId,
        region: &str,
        cfg: &AnalysisConfig,
        now: DateTime<Utc>,
        run: &mut AnalysisRun,
    ) -> Result<(), RiskError> {
        let facts = self.store().claim_facts(id, now - Duration::days(i64::from(cfg.hoard_aged_days))).await?;
        let accounts: Vec<hoarding::Account> = facts
            .iter()
            .enumerate()
            .map(|(i, f)| hoarding::Account {
                resident: u32::try_from(i).unwrap_or(u32::MAX),
                registered_s: f.registered_at.timestamp(),
                claimed_aged: f.claimed_aged,
                redeemed: f.redeemed,
            })
            .collect();
        let s = hoarding::Settings {
            cohort_min: cfg.hoard_cohort_min,
            idle_pct: cfg.hoard_idle_pct,
            above_baseline_pct: cfg.hoard_above_baseline_pct,
            ..hoarding::Settings::default()
        };
        for c in hoarding::cohorts(&accounts, &s) {
            run.hoarding_cohorts += 1;
            let idle: Vec<ResidentId> = c.idle.iter().map(|&i| facts[i as usize].resident).collect();
            let case = super::findings::hoarding_case(self.new_uuid(), id, region, &c, &idle, now);
            self.count(self.open_found_case(case, false).await?, run);
        }
        Ok(())
    }

    async fn analyse_prices(&self, campaigns: &[quan_store::Campaign], run: &mut AnalysisRun) -> Result<(), RiskError> {
        let now = self.now();
        let s = self.config().analysis.price;
        let mut openings = Vec::new();
        for c in campaigns.iter().filter(|c| matches!(c.status, CampaignStatus::Funded | CampaignStatus::Running)) {
            for b in self.store().list_batches(c.id).await? {
                openings.push((c.id, c.spec.region.clone(), b.id, b.spec.name.clone(), b.spec.opening_at.min(now)));
            }
        }
        let products = self.store().product_prices().await?;
        let mut districts: HashMap<MerchantId, String> = HashMap::new();
        for p in &products {
            if let std::collections::hash_map::Entry::Vacant(e) = districts.entry(p.merchant) {
                let m = self.store().merchant_by_id(p.merchant).await?;
                e.insert(m.app.district.as_str().to_owned());
            }
        }
        for (campaign, region, batch, batch_name, opens) in &openings {
            for p in
                products.iter().filter(|p| districts.get(&p.merchant).is_some_and(|d| d.starts_with(region.as_str())))
            {
                let peers: Vec<Fen> = products
                    .iter()
                    .filter(|o| o.merchant != p.merchant && o.brand == p.brand && o.model == p.model)
                    .filter_map(|o| price_guard::price_at(&o.history, *opens))
                    .collect();
                let raise = price_guard::over_own_past(&p.history, *opens, &s).or_else(|| {
                    price_guard::price_at(&p.history, *opens).and_then(|at| price_guard::over_peers(at, &peers, &s))
                });
                let Some(raise) = raise else { continue };
                run.raised_prices += 1;
                let district = districts.get(&p.merchant).cloned().unwrap_or_default();
                let case = super::findings::price_case(
                    self.new_uuid(),
                    *campaign,
                    &district,
                    p,
                    *batch,
                    batch_name,
                    &raise,
                    now,
                );
                self.count(self.open_found_case(case, false).await?, run);
            }
        }
        Ok(())
    }

    async fn ring_case(
        &self,
        campaign: CampaignId,
        ix: &Indexed,
        facts: &[RedemptionFact],
        ring: &collusion::Ring,
        now: DateTime<Utc>,
    ) -> Result<NewCase, RiskError> {
        let merchants: Vec<MerchantId> = ring.merchants.iter().map(|&m| ix.merchants[m as usize]).collect();
        let residents: Vec<ResidentId> = ring.residents.iter().map(|&r| ix.residents[r as usize]).collect();
        let mut names = Vec::new();
        let mut district = String::new();
        for m in &merchants {
            let x = self.store().merchant_by_id(*m).await?;
            if district.is_empty() {
                district = x.app.district.as_str().to_owned();
            }
            names.push(x.app.legal_name);
        }
        let inside: Vec<&RedemptionFact> =
            facts.iter().filter(|f| merchants.contains(&f.merchant) && residents.contains(&f.resident)).collect();
        let edges: Vec<&collusion::Edge> = ix
            .edges
            .iter()
            .filter(|e| ring.merchants.contains(&e.merchant) && ring.residents.contains(&e.resident))
            .collect();
        Ok(super::findings::ring_case(
            self.new_uuid(),
            campaign,
            &district,
            (&merchants, &names, &residents),
            ring,
            &inside,
            &edges
                .iter()
                .map(|e| {
                    (ix.residents[e.resident as usize], ix.merchants[e.merchant as usize], e.redemptions, e.hugging)
                })
                .collect::<Vec<_>>(),
            now,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    async fn hugging_case(
        &self,
        campaign: CampaignId,
        ix: &Indexed,
        facts: &[RedemptionFact],
        m: u32,
        n: u32,
        hugged: u32,
        now: DateTime<Utc>,
    ) -> Result<NewCase, RiskError> {
        let merchant = ix.merchants[m as usize];
        let x = self.store().merchant_by_id(merchant).await?;
        let mine: Vec<&RedemptionFact> = facts.iter().filter(|f| f.merchant == merchant).collect();
        // The residents behind the orders: those who hugged the threshold here twice or more.
        let residents: Vec<ResidentId> = ix
            .edges
            .iter()
            .filter(|e| e.merchant == m && e.hugging >= 2)
            .map(|e| ix.residents[e.resident as usize])
            .collect();
        Ok(super::findings::hugging_case(self.new_uuid(), campaign, &x, (n, hugged), (&mine, &residents), now))
    }
}
