//! Hoarding (大量囤货): accounts registered together (a burst: at least
//! `cohort_min` idle accounts within `cohort_s` seconds, most accounts of
//! that span idle) that claim vouchers and let them lie. One idle account is
//! a resident who forgot; a burst of them is a farm. Pure.

/// One account as the analysis sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub resident: u32,
    /// When it registered, Unix seconds.
    pub registered_s: i64,
    /// Vouchers claimed whose validity is at least half gone.
    pub claimed_aged: u32,
    /// Of all its vouchers, redeemed.
    pub redeemed: u32,
}

/// The numbers that make a burst a hoarding farm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Seconds of registration time one burst spans at most.
    pub cohort_s: i64,
    /// Idle accounts in the span at least.
    pub cohort_min: u32,
    /// Of the claiming accounts registered in the span, percent idle at least …
    pub idle_pct: u32,
    /// … and at least this many points above the share idle among all
    /// claiming accounts (early in a campaign most honest accounts have not
    /// redeemed yet; a farm stands out from that, not from zero).
    pub above_baseline_pct: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { cohort_s: 300, cohort_min: 10, idle_pct: 80, above_baseline_pct: 25 }
    }
}

/// A cohort found hoarding: its idle accounts and the vouchers they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cohort {
    pub starts_s: i64,
    pub claiming: u32,
    pub idle: Vec<u32>,
    pub vouchers: u32,
}

/// The hoarding cohorts among `accounts`: every span of `cohort_s` seconds
/// (starting at an idle account's registration) that qualifies, overlapping
/// spans merged into one cohort.
pub fn cohorts(accounts: &[Account], s: &Settings) -> Vec<Cohort> {
    let mut v: Vec<&Account> = accounts.iter().filter(|a| a.claimed_aged > 0).collect();
    v.sort_by_key(|a| (a.registered_s, a.resident));
    let idle_all = v.iter().filter(|a| a.redeemed == 0).count();
    let baseline = u32::try_from((idle_all * 100).checked_div(v.len()).unwrap_or(0)).unwrap_or(100);
    let need = s.idle_pct.max(baseline + s.above_baseline_pct).min(100);
    // Qualifying spans as index ranges [i, j).
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut j = 0;
    for i in 0..v.len() {
        if v[i].redeemed > 0 {
            continue;
        }
        j = j.max(i);
        while j < v.len() && v[j].registered_s - v[i].registered_s < s.cohort_s {
            j += 1;
        }
        let all = u32::try_from(j - i).unwrap_or(u32::MAX);
        let idle = u32::try_from(v[i..j].iter().filter(|a| a.redeemed == 0).count()).unwrap_or(u32::MAX);
        if idle >= s.cohort_min && idle * 100 >= need * all {
            match spans.last_mut() {
                Some(last) if last.1 > i => last.1 = last.1.max(j),
                _ => spans.push((i, j)),
            }
        }
    }
    spans
        .into_iter()
        .map(|(i, j)| {
            let idle: Vec<&Account> = v[i..j].iter().copied().filter(|a| a.redeemed == 0).collect();
            Cohort {
                starts_s: v[i].registered_s,
                claiming: u32::try_from(j - i).unwrap_or(u32::MAX),
                vouchers: idle.iter().map(|a| a.claimed_aged).sum(),
                idle: idle.iter().map(|a| a.resident).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(resident: u32, registered_s: i64, redeemed: u32) -> Account {
        Account { resident, registered_s, claimed_aged: 4, redeemed }
    }

    #[test]
    fn a_farm_registered_within_minutes_that_never_redeems_is_a_hoarding_cohort() {
        let mut a: Vec<Account> = (0..12).map(|i| acct(i, 7_200 + i64::from(i) * 20, 0)).collect();
        a.push(acct(99, 7_300, 3));
        // Honest sign-ups around it, most of them redeeming.
        a.extend((0..40).map(|i| acct(200 + i, 20_000 + i64::from(i) * 300, u32::from(i % 4 != 0))));
        let c = cohorts(&a, &Settings::default());
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].claiming, c[0].idle.len(), c[0].vouchers), (13, 12, 48));
    }

    #[test]
    fn early_in_a_campaign_when_most_have_not_redeemed_yet_only_a_wholly_idle_burst_is_a_cohort() {
        // 85 % of the city has not redeemed yet; a busy minute of sign-ups is as idle.
        let mut a: Vec<Account> = (0..400).map(|i| acct(i, i64::from(i) * 400, u32::from(i % 7 == 0))).collect();
        a.extend((0..40).map(|i| acct(1_000 + i, 500_000 + i64::from(i), u32::from(i % 7 == 0))));
        assert_eq!(cohorts(&a, &Settings::default()), vec![], "85 % idle is the baseline, not a farm");
        a.extend((0..12).map(|i| acct(2_000 + i, 900_000 + i64::from(i) * 5, 0)));
        let c = cohorts(&a, &Settings::default());
        assert_eq!(c.iter().map(|c| c.idle.len()).collect::<Vec<_>>(), vec![12], "{c:?}");
    }

    #[test]
    fn a_busy_hour_of_honest_sign_ups_with_some_forgetful_residents_is_not_a_cohort() {
        let a: Vec<Account> = (0..200).map(|i| acct(i, 3_600 + i64::from(i) * 5, u32::from(i % 4 != 0))).collect();
        assert_eq!(cohorts(&a, &Settings::default()), vec![]);
        // Nine idle accounts are too few to be a cohort.
        let few: Vec<Account> = (0..9).map(|i| acct(i, 0, 0)).collect();
        assert_eq!(cohorts(&few, &Settings::default()), vec![]);
    }
}
