use super::*;

/// A small linear congruential generator: tests stay deterministic.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(n)) as u32
    }
}

/// Residents `0..residents` each redeem `per` times at random shops of
/// `0..merchants`, one order in ten hugging the threshold.
fn honest(residents: u32, merchants: u32, per: u32, seed: u64) -> Vec<Edge> {
    let mut rng = Lcg(seed);
    let mut pairs: BTreeMap<(u32, u32), (u32, u32)> = BTreeMap::new();
    for r in 0..residents {
        for _ in 0..per {
            let m = rng.next(merchants);
            let hug = u32::from(rng.next(10) == 0);
            let x = pairs.entry((r, m)).or_default();
            x.0 += 1;
            x.1 += hug;
        }
    }
    pairs
        .into_iter()
        .map(|((resident, merchant), (redemptions, hugging))| Edge { resident, merchant, redemptions, hugging })
        .collect()
}

fn ring(edges: &mut Vec<Edge>, residents: std::ops::Range<u32>, merchants: &[u32], per: u32) {
    for r in residents {
        for (k, &m) in merchants.iter().enumerate() {
            let n = per / merchants.len() as u32 + u32::from((k as u32) < per % merchants.len() as u32);
            if n > 0 {
                edges.push(Edge { resident: r, merchant: m, redemptions: n, hugging: n });
            }
        }
    }
}

#[test]
fn log2_in_fixed_point_is_exact_on_powers_and_close_between() {
    assert_eq!(log2_q16(1), 0);
    assert_eq!(log2_q16(2), 1 << 16);
    assert_eq!(log2_q16(1024), 10 << 16);
    // log2(10) = 3.3219…
    let ten = log2_q16(10);
    assert!((ten as i64 - 217_706).abs() < 8, "{ten}");
}

#[test]
fn an_honest_city_has_no_ring() {
    let edges = honest(3_000, 300, 6, 7);
    assert_eq!(rings(&edges, &Settings::default()), vec![]);
}

#[test]
fn a_ring_of_five_residents_and_one_shop_is_found_amid_honest_trade() {
    let mut edges = honest(3_000, 300, 6, 11);
    ring(&mut edges, 3_000..3_005, &[17], 6);
    let found = rings(&edges, &Settings::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].merchants, vec![17]);
    assert_eq!(found[0].residents, (3_000..3_005).collect::<Vec<_>>());
}

#[test]
fn a_large_ring_over_seven_shops_is_found_whole_and_its_residents_shop_honestly_too() {
    let mut edges = honest(3_000, 300, 6, 13);
    let shops = [3, 40, 77, 120, 150, 200, 260];
    ring(&mut edges, 3_000..3_200, &shops, 7);
    // Each ring member also redeems once at an ordinary shop.
    for r in 3_000..3_200 {
        edges.push(Edge { resident: r, merchant: (r * 7) % 300, redemptions: 1, hugging: 0 });
    }
    let found = rings(&edges, &Settings::default());
    let merchants: std::collections::BTreeSet<u32> = found.iter().flat_map(|r| r.merchants.clone()).collect();
    let residents: usize = found.iter().map(|r| r.residents.len()).sum();
    assert_eq!(merchants, shops.into_iter().collect());
    assert!(residents >= 190, "{residents}");
}

#[test]
fn loyal_customers_of_one_shop_who_do_not_hug_the_threshold_are_no_ring() {
    let mut edges = honest(2_000, 200, 6, 17);
    for r in 2_000..2_030 {
        edges.push(Edge { resident: r, merchant: 5, redemptions: 6, hugging: 1 });
    }
    assert_eq!(rings(&edges, &Settings::default()), vec![]);
}

#[test]
fn every_member_of_a_ring_is_named_even_those_the_peel_left_out() {
    let mut edges = honest(1_500, 100, 3, 5);
    let mut rng = Lcg(99);
    let mut members = Vec::new();
    for r in 1_500..1_530u32 {
        let mut per: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for _ in 0..5 {
            let m = if rng.next(100) < 85 { [10, 20, 30][rng.next(3) as usize] } else { rng.next(100) };
            let x = per.entry(m).or_default();
            x.0 += 1;
            x.1 += u32::from([10, 20, 30].contains(&m) && rng.next(10) < 9);
        }
        let inside: u32 = per.iter().filter(|(m, _)| [10, 20, 30].contains(*m)).map(|(_, x)| x.0).sum();
        if inside >= 4 {
            members.push(r);
        }
        edges.extend(per.into_iter().map(|(m, (n, h))| Edge { resident: r, merchant: m, redemptions: n, hugging: h }));
    }
    let found = rings(&edges, &Settings::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].merchants, vec![10, 20, 30]);
    for r in members {
        assert!(found[0].residents.contains(&r), "{r} is missing");
    }
}

#[test]
fn a_ring_whose_members_also_shop_honestly_and_pay_over_the_threshold_at_times_is_still_found() {
    let mut edges = honest(2_000, 150, 4, 23);
    let mut rng = Lcg(5);
    for r in 2_000..2_040u32 {
        let mut per: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for _ in 0..6 {
            let m = if rng.next(100) < 60 { [40, 80][rng.next(2) as usize] } else { rng.next(150) };
            let x = per.entry(m).or_default();
            x.0 += 1;
            x.1 += u32::from([40, 80].contains(&m) && rng.next(100) < 60);
        }
        edges.extend(per.into_iter().map(|(m, (n, h))| Edge { resident: r, merchant: m, redemptions: n, hugging: h }));
    }
    let found = rings(&edges, &Settings::default());
    let merchants: Vec<u32> = found.iter().flat_map(|r| r.merchants.clone()).collect();
    let named: usize = found.iter().map(|r| r.residents.iter().filter(|&&x| x >= 2_000).count()).sum();
    let honest_named: usize = found.iter().map(|r| r.residents.iter().filter(|&&x| x < 2_000).count()).sum();
    assert_eq!(merchants, vec![40, 80], "{found:?}");
    assert!(named >= 20, "{named} of 40 members named");
    assert!(honest_named <= 2, "{honest_named} honest residents named");
}

#[test]
fn honest_regulars_who_now_and_then_pay_just_over_the_threshold_are_no_ring() {
    // Half of each resident's visits at one favourite shop, one order in
    // eight just over the threshold: many pairs hug twice by chance.
    let mut rng = Lcg(41);
    let mut pairs: BTreeMap<(u32, u32), (u32, u32)> = BTreeMap::new();
    for r in 0..6_000u32 {
        let favourite = rng.next(300);
        for _ in 0..8 {
            let m = if rng.next(2) == 0 { favourite } else { rng.next(300) };
            let x = pairs.entry((r, m)).or_default();
            x.0 += 1;
            x.1 += u32::from(rng.next(8) == 0);
        }
    }
    let twice = pairs.values().filter(|x| x.1 >= 2).count();
    assert!(twice > 50, "the chance pairs this test is about: {twice}");
    let edges: Vec<Edge> = pairs
        .into_iter()
        .map(|((resident, merchant), (redemptions, hugging))| Edge { resident, merchant, redemptions, hugging })
        .collect();
    assert_eq!(rings(&edges, &Settings::default()), vec![]);
}

#[test]
fn a_small_shop_with_a_few_orders_just_over_the_threshold_by_chance_is_not_suspicious_a_rings_shop_is() {
    let s = Settings::default();
    let city = (100_000, 8_500);
    assert!(!suspicious_shop(22, 6, city, &s), "1.9 expected, 6 seen: three deviations");
    assert!(!suspicious_shop(5, 3, city, &s), "too few");
    assert!(suspicious_shop(14, 7, city, &s), "a ring's third day");
    assert!(suspicious_shop(400, 90, city, &s), "a large shop with a ring among its customers");
    assert!(!suspicious_shop(400, 45, city, &s));
    // A small town where the ring is most of the trade.
    assert!(suspicious_shop(8, 8, (14, 8), &s));
}
