//! Hoarding (大量囤货): accounts registered together (a cohort: the same hour)
//! that claim vouchers and let them lie. One idle account is a resident who
//! forgot; a cohort of them, most idle, is a farm. Pure.

use std::collections::BTreeMap;

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

/// The numbers that make a cohort a hoarding farm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Seconds of registration time one cohort spans.
    pub cohort_s: i64,
    /// Claiming accounts in the cohort at least.
    pub cohort_min: u32,
    /// Of them, percent that redeemed nothing at least.
    pub idle_pct: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { cohort_s: 3_600, cohort_min: 10, idle_pct: 80 }
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

/// The hoarding cohorts among `accounts`.
pub fn cohorts(accounts: &[Account], s: &Settings) -> Vec<Cohort> {
    let mut by: BTreeMap<i64, Vec<&Account>> = BTreeMap::new();
    for a in accounts.iter().filter(|a| a.claimed_aged > 0) {
        by.entry(a.registered_s.div_euclid(s.cohort_s.max(1))).or_default().push(a);
    }
    by.into_iter()
        .filter_map(|(k, v)| {
            let idle: Vec<&Account> = v.iter().copied().filter(|a| a.redeemed == 0).collect();
            let claiming = u32::try_from(v.len()).unwrap_or(u32::MAX);
            let n = u32::try_from(idle.len()).unwrap_or(u32::MAX);
            (claiming >= s.cohort_min && n * 100 >= s.idle_pct * claiming).then(|| Cohort {
                starts_s: k * s.cohort_s,
                claiming,
                vouchers: idle.iter().map(|a| a.claimed_aged).sum(),
                idle: idle.iter().map(|a| a.resident).collect(),
            })
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
    fn a_farm_registered_in_one_hour_that_never_redeems_is_a_hoarding_cohort() {
        let mut a: Vec<Account> = (0..12).map(|i| acct(i, 7_200 + i64::from(i) * 60, 0)).collect();
        a.push(acct(99, 7_300, 3));
        let c = cohorts(&a, &Settings::default());
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].claiming, c[0].idle.len(), c[0].vouchers), (13, 12, 48));
    }

    #[test]
    fn a_busy_hour_of_honest_sign_ups_with_some_forgetful_residents_is_not() {
        let a: Vec<Account> = (0..200).map(|i| acct(i, 3_600 + i64::from(i), u32::from(i % 4 != 0))).collect();
        assert_eq!(cohorts(&a, &Settings::default()), vec![]);
        // Nine idle accounts are too few to be a cohort.
        let few: Vec<Account> = (0..9).map(|i| acct(i, 0, 0)).collect();
        assert_eq!(cohorts(&few, &Settings::default()), vec![]);
    }
}
