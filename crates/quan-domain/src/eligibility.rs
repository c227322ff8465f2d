//! Who may claim from a batch: every condition of the batch's rule, each
//! failure named so a resident knows why. Pure: the claim path calls the
//! same function from memory, without a database round trip.

use chrono::NaiveDate;
use serde::Serialize;

use crate::batch::EligibilityRule;
pub use crate::batch::UncertainPolicy;
use crate::district::DistrictCode;
use crate::id_number::age_on;

/// Where the resident's phone is, by the imported boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Inside(DistrictCode),
    Uncertain { inside: Option<DistrictCode> },
    Outside,
}

/// What is known about the resident at the moment of the check.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub place: Option<Place>,
    /// The six-digit region of the resident's ID number (户籍), if verified.
    pub household_region: Option<&'a str>,
    pub birth_date: Option<NaiveDate>,
    /// The names of the imported lists the resident is on.
    pub on_lists: &'a [String],
}

/// One unmet condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `position_required`, `outside_districts`, `position_uncertain`,
    /// `identity_required`, `household_prefix_mismatch`, `not_on_list`,
    /// `age_out_of_range`.
    pub code: &'static str,
    pub message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

/// Every failed condition; empty means eligible.
pub fn decide(rule: &EligibilityRule, facts: &Facts<'_>, today: NaiveDate) -> Vec<Failure> {
    let mut out = Vec::new();
    if !rule.gps_districts.is_empty() {
        let listed = |d: &DistrictCode| rule.gps_districts.contains(d);
        let names = || rule.gps_districts.iter().map(DistrictCode::to_string).collect::<Vec<_>>().join(", ");
        match facts.place {
            None => out.push(fail("position_required", "this batch needs your phone's position")),
            Some(Place::Inside(d)) if listed(&d) => {}
            Some(Place::Inside(d)) => {
                out.push(fail("outside_districts", format!("you are in {d}; this batch is for {}", names())))
            }
            Some(Place::Outside) => out
                .push(fail("outside_districts", format!("you are outside the districts of this batch ({})", names()))),
            Some(Place::Uncertain { inside }) => match rule.uncertain_position {
                UncertainPolicy::Allow if inside.as_ref().is_some_and(listed) => {}
                UncertainPolicy::Allow => out.push(fail(
                    "outside_districts",
                    format!("you are outside the districts of this batch ({})", names()),
                )),
                UncertainPolicy::Deny => out.push(fail(
                    "position_uncertain",
                    "you are too close to a district border to tell which side you are on",
                )),
                UncertainPolicy::Recheck => out.push(fail(
                    "position_uncertain",
                    "you are close to a district border: turn on precise location and try again",
                )),
            },
        }
    }
    let needs_identity = !rule.household_prefixes.is_empty() || rule.age_min.is_some() || rule.age_max.is_some();
    if needs_identity && (facts.household_region.is_none() || facts.birth_date.is_none()) {
        out.push(fail(
            "identity_required",
            "verify your ID number first: this batch depends on household registration or age",
        ));
    }
    if let Some(region) = facts.household_region
        && !rule.household_prefixes.is_empty()
        && !rule.household_prefixes.iter().any(|p| region.starts_with(p.as_str()))
    {
        let names = rule.household_prefixes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
        out.push(fail("household_prefix_mismatch", format!("this batch is for households registered in {names}")));
    }
    if let Some(birth) = facts.birth_date {
        let age = age_on(birth, today);
        let too_young = rule.age_min.is_some_and(|m| age < u32::from(m));
        let too_old = rule.age_max.is_some_and(|m| age > u32::from(m));
        if too_young || too_old {
            let range = format!(
                "{}–{}",
                rule.age_min.map_or("0".into(), |a| a.to_string()),
                rule.age_max.map_or("".into(), |a| a.to_string())
            );
            out.push(fail("age_out_of_range", format!("this batch is for ages {range}")));
        }
    }
    if !rule.lists.is_empty() && !rule.lists.iter().any(|l| facts.on_lists.contains(l)) {
        out.push(fail("not_on_list", "you are not on the list of people this batch is for"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Region;

    fn d(s: &str) -> DistrictCode {
        DistrictCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default()
    }

    fn codes(f: &[Failure]) -> Vec<&'static str> {
        f.iter().map(|f| f.code).collect()
    }

    fn rule() -> EligibilityRule {
        EligibilityRule {
            gps_districts: vec![d("420502")],
            household_prefixes: vec![Region::parse("4205").unwrap_or_else(|e| panic!("{e}"))],
            lists: vec!["low-income-2027".into()],
            age_min: Some(18),
            age_max: Some(65),
            uncertain_position: UncertainPolicy::Deny,
        }
    }

    #[test]
    fn a_resident_meeting_every_condition_is_eligible() {
        let lists = vec!["low-income-2027".to_owned()];
        let facts = Facts {
            place: Some(Place::Inside(d("420502"))),
            household_region: Some("420503"),
            birth_date: NaiveDate::from_ymd_opt(1990, 1, 1),
            on_lists: &lists,
        };
        assert!(decide(&rule(), &facts, today()).is_empty());
    }

    #[test]
    fn every_failed_condition_is_listed_not_just_the_first() {
        let facts = Facts {
            place: Some(Place::Inside(d("330109"))),
            household_region: Some("330109"),
            birth_date: NaiveDate::from_ymd_opt(2010, 1, 1),
            on_lists: &[],
        };
        assert_eq!(
            codes(&decide(&rule(), &facts, today())),
            vec!["outside_districts", "household_prefix_mismatch", "age_out_of_range", "not_on_list"]
        );
    }

    #[test]
    fn unknown_facts_ask_for_a_position_or_an_identity() {
        let f = decide(&rule(), &Facts::default(), today());
        assert_eq!(codes(&f), vec!["position_required", "identity_required", "not_on_list"]);
    }

    #[test]
    fn the_batch_rule_decides_what_a_position_near_a_border_means() {
        let near = Facts { place: Some(Place::Uncertain { inside: Some(d("420502")) }), ..Facts::default() };
        let only_gps = |p| EligibilityRule {
            gps_districts: vec![d("420502")],
            uncertain_position: p,
            ..EligibilityRule::default()
        };
        assert!(decide(&only_gps(UncertainPolicy::Allow), &near, today()).is_empty());
        assert_eq!(codes(&decide(&only_gps(UncertainPolicy::Deny), &near, today())), vec!["position_uncertain"]);
        let f = decide(&only_gps(UncertainPolicy::Recheck), &near, today());
        assert!(f[0].message.contains("precise location"));
    }

    #[test]
    fn a_rule_without_conditions_lets_everyone_in() {
        assert!(decide(&EligibilityRule::default(), &Facts::default(), today()).is_empty());
    }
}
