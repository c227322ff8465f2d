//! Conformance cases for `MerchantStore`.

use chrono::Duration;
use quan_domain::merchant::{
    CreditCode, LatLng, MerchantStatus, ReviewAction, Scale, SettlementAccount, ValidApplication,
};
use quan_domain::{DistrictCode, Fen, Industry, MerchantId, Region, Role, TillId, UserId, Username};
use uuid::Uuid;

use super::{S, ok, t};
use crate::{Merchant, MerchantReview, Product, StoreError, Till, User};

/// Valid GB 32100 codes: 17 characters and the computed check character.
pub fn credit_code(n: u32) -> CreditCode {
    CreditCode::sample(n)
}

fn mid(n: u128) -> MerchantId {
    MerchantId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0004_0000 + n))
}

pub fn merchant(n: u32, district: &str) -> Merchant {
    Merchant {
        id: mid(u128::from(n)),
        app: ValidApplication {
            legal_name: format!("宜昌测试商户{n}有限公司"),
            credit_code: credit_code(n),
            industry: Industry::Catering,
            scale: Scale::Small,
            address: "西陵区东湖大道1号".into(),
            district: DistrictCode::parse(district).unwrap_or_else(|e| panic!("{e}")),
            location: Some(LatLng { lat: 30.7, lng: 111.29 }),
            contact_name: "张三".into(),
            contact_phone: quan_domain::merchant::ContactPhone::Kept {
                masked: "138****5678".into(),
                hash: quan_domain::KeyedHash::from_bytes([u8::try_from(n % 250).unwrap_or(0); 32]),
                sealed: vec![1, 2, 3],
            },
            settlement_account: SettlementAccount {
                bank_name: "中国银行".into(),
                account_name: "宜昌测试".into(),
                account_number: "6222020200112233".into(),
            },
        },
        status: MerchantStatus::Pending,
        status_reason: String::new(),
        source: "application".into(),
        created_at: t(1),
        updated_at: t(1),
    }
}

pub(crate) fn owner(m: &Merchant, name: &str) -> User {
    User {
        id: UserId::from_uuid(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0005_0000 + m.id.as_uuid().as_u128() % 1000,
        )),
        username: Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
        role: Role::MerchantOwner,
        region: Region::parse(m.app.district.as_str()).unwrap_or_else(|e| panic!("{e}")),
        display_name: name.into(),
        password_hash: "x".into(),
        disabled: false,
        created_at: t(1),
        created_by: None,
        merchant: Some(m.id),
        till: None,
    }
}

pub async fn a_merchant_and_its_owner_are_stored_together_or_not_at_all(s: S) {
    let m = merchant(1, "420502");
    let o = owner(&m, "owner.one");
    ok(s.insert_merchant(&m, Some(&o)).await, "insert");
    assert_eq!(ok(s.merchant_by_id(m.id).await, "read"), m);
    assert_eq!(ok(s.user_by_id(o.id).await, "owner").merchant, Some(m.id));
    assert_eq!(ok(s.users_of_merchant(m.id).await, "its accounts"), vec![o.clone()]);
    assert!(ok(s.users_of_merchant(mid(9)).await, "none").is_empty());
    let dup = s.insert_merchant(&Merchant { id: mid(2), ..m.clone() }, None).await;
    assert!(matches!(dup, Err(StoreError::Conflict { what: "credit_code" })), "{dup:?}");
    let m3 = merchant(3, "420502");
    let clash = s.insert_merchant(&m3, Some(&User { id: UserId::from_uuid(Uuid::from_u128(5)), ..o })).await;
    assert!(matches!(clash, Err(StoreError::Conflict { what: "username" })), "{clash:?}");
    assert!(
        matches!(s.merchant_by_id(m3.id).await, Err(StoreError::NotFound)),
        "the merchant of a refused owner is not stored"
    );
}

pub async fn a_bulk_insert_skips_credit_codes_already_present(s: S) {
    let first: Vec<_> = (0..50).map(|n| merchant(n, "420502")).collect();
    assert_eq!(ok(s.insert_merchants(&first).await, "first"), 50);
    let again: Vec<_> = (25..75).map(|n| Merchant { id: mid(1000 + u128::from(n)), ..merchant(n, "420502") }).collect();
    assert_eq!(ok(s.insert_merchants(&again).await, "again"), 25);
    assert_eq!(ok(s.count_merchants().await, "count"), 75);
}

pub async fn merchants_are_listed_by_region_and_status(s: S) {
    for (n, d) in [(1, "420502"), (2, "420503"), (3, "330109")] {
        ok(s.insert_merchant(&merchant(n, d), None).await, "insert");
    }
    let r = Region::parse("4205").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok(s.list_merchants(&r, None, None, 10, &crate::MerchantQuery::default()).await, "list").len(), 2);
    assert_eq!(
        ok(
            s.list_merchants(&r, Some(MerchantStatus::Approved), None, 10, &crate::MerchantQuery::default()).await,
            "approved"
        )
        .len(),
        0
    );
    let page = ok(
        s.list_merchants(&r, Some(MerchantStatus::Pending), None, 1, &crate::MerchantQuery::default()).await,
        "page",
    );
    let rest = ok(
        s.list_merchants(
            &r,
            Some(MerchantStatus::Pending),
            page.last().map(|m| m.id),
            10,
            &crate::MerchantQuery::default(),
        )
        .await,
        "rest",
    );
    assert_eq!((page.len(), rest.len()), (1, 1));
    // By district, industry and scale, in the query.
    let mut hotel = merchant(4, "420503");
    hotel.app.industry = quan_domain::Industry::ALL[1];
    hotel.app.scale = quan_domain::merchant::Scale::Large;
    ok(s.insert_merchant(&hotel, None).await, "insert hotel");
    let q = |district, industry, scale| crate::MerchantQuery { search: None, district, industry, scale };
    let ids = |v: Vec<crate::Merchant>| v.iter().map(|m| m.id).collect::<Vec<_>>();
    let in_503 = ok(s.list_merchants(&r, None, None, 10, &q(Some("420503"), None, None)).await, "district");
    assert_eq!(ids(in_503), vec![merchant(2, "420503").id, hotel.id]);
    let large = ok(s.list_merchants(&r, None, None, 10, &q(None, None, Some(hotel.app.scale))).await, "scale");
    assert_eq!(ids(large), vec![hotel.id]);
    let of_kind = ok(s.list_merchants(&r, None, None, 10, &q(None, Some(hotel.app.industry), None)).await, "industry");
    assert_eq!(ids(of_kind), vec![hotel.id]);
    assert!(ok(s.list_merchants(&r, None, None, 10, &q(Some("330109"), None, None)).await, "outside").is_empty());
}

pub async fn a_review_applies_to_the_status_it_was_decided_on_and_is_kept(s: S) {
    let m = merchant(1, "420502");
    ok(s.insert_merchant(&m, None).await, "insert");
    let review = |n: u128, action, from, to, reason: &str| MerchantReview {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0006_0000 + n),
        merchant_id: m.id,
        action,
        from,
        to,
        reason: reason.into(),
        actor: UserId::from_uuid(Uuid::from_u128(9)),
        at: t(n as i64 * 10),
    };
    ok(
        s.review_merchant(&review(1, ReviewAction::Approve, MerchantStatus::Pending, MerchantStatus::Approved, ""))
            .await,
        "approve",
    );
    let stale = s
        .review_merchant(&review(2, ReviewAction::Reject, MerchantStatus::Pending, MerchantStatus::Rejected, "x"))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { what: "merchant_changed" })), "{stale:?}");
    ok(
        s.review_merchant(&review(
            3,
            ReviewAction::Suspend,
            MerchantStatus::Approved,
            MerchantStatus::Suspended,
            "套现",
        ))
        .await,
        "suspend",
    );
    let back = ok(s.merchant_by_id(m.id).await, "read");
    assert_eq!((back.status, back.status_reason.as_str(), back.updated_at), (MerchantStatus::Suspended, "套现", t(30)));
    let history = ok(s.merchant_reviews(m.id).await, "history");
    assert_eq!(
        history.iter().map(|r| r.action).collect::<Vec<_>>(),
        vec![ReviewAction::Approve, ReviewAction::Suspend]
    );
}

pub async fn tills_are_unique_per_merchant(s: S) {
    let (a, b) = (merchant(1, "420502"), merchant(2, "420502"));
    ok(s.insert_merchant(&a, None).await, "a");
    ok(s.insert_merchant(&b, None).await, "b");
    let till = |n: u128, m: MerchantId, code: &str| Till {
        id: TillId::from_uuid(Uuid::from_u128(700 + n)),
        merchant_id: m,
        code: code.into(),
        name: "收银台".into(),
        created_at: t(2),
    };
    ok(s.insert_till(&till(1, a.id, "T01")).await, "a T01");
    ok(s.insert_till(&till(2, b.id, "T01")).await, "b T01");
    let dup = s.insert_till(&till(3, a.id, "T01")).await;
    assert!(matches!(dup, Err(StoreError::Conflict { what: "till_code" })), "{dup:?}");
    assert_eq!(ok(s.tills(a.id).await, "tills"), vec![till(1, a.id, "T01")]);
    assert_eq!(ok(s.till_by_id(TillId::from_uuid(Uuid::from_u128(702))).await, "by id").merchant_id, b.id);
}

pub async fn a_catalogue_keeps_every_price_an_item_had(s: S) {
    let m = merchant(1, "420502");
    ok(s.insert_merchant(&m, None).await, "m");
    let actor = UserId::from_uuid(Uuid::from_u128(9));
    let p = Product {
        id: Uuid::from_u128(800),
        merchant_id: m.id,
        sku: "KFR-35GW".into(),
        brand: "格力".into(),
        model: "云佳".into(),
        category: "air_conditioner".into(),
        energy_class: "1".into(),
        list_price: Fen::new(329_900),
        updated_at: t(1),
    };
    ok(s.upsert_product(&p, actor).await, "new");
    ok(s.upsert_product(&Product { brand: "GREE".into(), updated_at: t(2), ..p.clone() }, actor).await, "same price");
    let raised = Product {
        id: Uuid::from_u128(801),
        brand: "GREE".into(),
        list_price: Fen::new(359_900),
        updated_at: t(1) + Duration::days(1),
        ..p.clone()
    };
    let stored = ok(s.upsert_product(&raised, actor).await, "raised");
    assert_eq!(stored.id, p.id, "an upsert keeps the item's id");
    let prices: Vec<_> = ok(s.price_history(m.id, "KFR-35GW").await, "history").iter().map(|c| c.price).collect();
    assert_eq!(prices, vec![Fen::new(329_900), Fen::new(359_900)]);
    let items = ok(s.products(m.id).await, "items");
    assert_eq!((items.len(), items[0].brand.as_str(), items[0].list_price), (1, "GREE", Fen::new(359_900)));
}

pub async fn reimporting_a_district_keeps_the_old_boundary_in_history(s: S) {
    use crate::DistrictBoundary;
    use quan_domain::geo::Crs;
    let d = |v: &str, at_ms: i64| DistrictBoundary {
        code: DistrictCode::parse("420502").unwrap_or_else(|e| panic!("{e}")),
        name: "西陵区".into(),
        crs: Crs::Gcj02,
        geometry_json: v.into(),
        version: 0,
        imported_at: t(at_ms),
        source: "test.geojson".into(),
    };
    assert_eq!(ok(s.import_districts(&[d("{\"v\":1}", 1)], t(1)).await, "first"), (1, 0));
    assert_eq!(ok(s.import_districts(&[d("{\"v\":2}", 2)], t(2)).await, "second"), (0, 1));
    let now = ok(s.districts().await, "districts");
    assert_eq!((now.len(), now[0].version, now[0].geometry_json.as_str()), (1, 2, "{\"v\":2}"));
    let code = DistrictCode::parse("420502").unwrap_or_else(|e| panic!("{e}"));
    let old = ok(s.district_history(&code).await, "history");
    assert_eq!((old.len(), old[0].version, old[0].geometry_json.as_str()), (1, 1, "{\"v\":1}"));
}

pub async fn identities_and_list_members_are_found_by_keyed_hash_only(s: S) {
    use crate::{Identity, MemberKind, Resident};
    use quan_domain::{KeyedHash, ResidentId};
    let r = ok(
        s.upsert_resident(&Resident {
            id: ResidentId::from_uuid(Uuid::from_u128(31)),
            phone_hash: KeyedHash::from_bytes([3; 32]),
            phone_masked: "x".into(),
            created_at: t(0),
        })
        .await,
        "resident",
    );
    assert_eq!(ok(s.identity(r.id).await, "none yet"), None);
    let id = Identity {
        resident_id: r.id,
        id_hash: KeyedHash::from_bytes([4; 32]),
        id_masked: "4****************X".into(),
        household_region: "420502".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
        verified_at: t(5),
        real_name_checked_at: None,
    };
    ok(s.set_identity(&id).await, "set");
    assert_eq!(ok(s.identity(r.id).await, "read"), Some(id));
    let region = Region::parse("4205").unwrap_or_else(|e| panic!("{e}"));
    let actor = UserId::from_uuid(Uuid::from_u128(9));
    let l = ok(s.upsert_list("low-income-2027", &region, actor, t(1)).await, "list");
    let members =
        [(MemberKind::IdNumber, KeyedHash::from_bytes([4; 32])), (MemberKind::Phone, KeyedHash::from_bytes([5; 32]))];
    assert_eq!(ok(s.add_list_members(l.id, &members, t(2)).await, "add"), 2);
    assert_eq!(ok(s.add_list_members(l.id, &members, t(3)).await, "again"), 0, "members are not duplicated");
    assert_eq!(ok(s.list_by_name("low-income-2027").await, "by name").members, 2);
    let names = vec!["low-income-2027".to_owned(), "other".to_owned()];
    let mine = [(MemberKind::IdNumber, KeyedHash::from_bytes([4; 32]))];
    assert_eq!(ok(s.lists_with_member(&names, &mine).await, "mine"), vec!["low-income-2027".to_owned()]);
    let phone_as_id = [(MemberKind::IdNumber, KeyedHash::from_bytes([5; 32]))];
    assert!(ok(s.lists_with_member(&names, &phone_as_id).await, "kind matters").is_empty());
    let other_region = Region::parse("3301").unwrap_or_else(|e| panic!("{e}"));
    let clash = s.upsert_list("low-income-2027", &other_region, actor, t(4)).await;
    assert!(matches!(clash, Err(StoreError::Conflict { what: "list_region" })), "{clash:?}");
}

pub async fn identities_are_read_in_the_order_recorded_page_by_page_and_a_replaced_one_moves_last(s: S) {
    use crate::{Identity, Resident};
    use quan_domain::{KeyedHash, ResidentId};
    let mut ids = Vec::new();
    // Recorded at 10, 10, 20, 30 (two at the same instant, split by resident id).
    for (n, at) in [(41u8, 10), (42, 10), (43, 20), (44, 30)] {
        let r = ok(
            s.upsert_resident(&Resident {
                id: ResidentId::from_uuid(Uuid::from_u128(u128::from(n))),
                phone_hash: KeyedHash::from_bytes([n; 32]),
                phone_masked: "x".into(),
                created_at: t(0),
            })
            .await,
            "resident",
        );
        let id = Identity {
            resident_id: r.id,
            id_hash: KeyedHash::from_bytes([n + 100; 32]),
            id_masked: "4****************X".into(),
            household_region: "420502".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
            verified_at: t(at),
            real_name_checked_at: None,
        };
        ok(s.set_identity(&id).await, "set");
        ids.push(id);
    }
    let first = ok(s.identities_verified_since(t(0), None, 3).await, "page 1");
    assert_eq!(first, ids[..3].to_vec(), "oldest first, the tie by resident id");
    let last = &first[2];
    let rest = ok(s.identities_verified_since(t(0), Some((last.verified_at, last.resident_id)), 3).await, "page 2");
    assert_eq!(rest, ids[3..].to_vec());
    assert_eq!(ok(s.identities_verified_since(t(20), None, 10).await, "since 20"), ids[2..].to_vec());
    // Verified again (another ID number): read again, last.
    let again = Identity { id_hash: KeyedHash::from_bytes([200; 32]), verified_at: t(40), ..ids[0].clone() };
    ok(s.set_identity(&again).await, "replace");
    assert_eq!(ok(s.identities_verified_since(t(25), None, 10).await, "since 25"), vec![ids[3].clone(), again.clone()]);
    // Recorded once: a second number does not replace the first.
    let other = Identity { id_hash: KeyedHash::from_bytes([201; 32]), verified_at: t(50), ..again.clone() };
    assert_eq!(ok(s.record_identity_once(&other).await, "once"), again, "the recorded one stays");
    // An operator's change: replaced and kept, with its reason, together.
    let change = crate::IdentityChange {
        resident_id: again.resident_id,
        changed_at: t(60),
        changed_by: UserId::from_uuid(Uuid::from_u128(77)),
        old_masked: again.id_masked.clone(),
        new_masked: "4****************1".into(),
        old_region: "420502".into(),
        new_region: "420503".into(),
        reason: "户籍迁移".into(),
    };
    let changed = Identity { household_region: "420503".into(), verified_at: t(60), ..other };
    ok(s.replace_identity(&changed, &change).await, "replace");
    assert_eq!(ok(s.identity(again.resident_id).await, "read"), Some(changed.clone()));
    assert_eq!(ok(s.identity_changes(again.resident_id).await, "changes"), vec![change.clone()]);
    let twice = s.replace_identity(&changed, &change).await;
    assert!(matches!(twice, Err(StoreError::Conflict { .. })), "one change per instant: {twice:?}");
}

pub async fn a_lists_members_are_read_in_the_order_added_page_by_page(s: S) {
    use crate::{ListMember, MemberKind};
    use quan_domain::KeyedHash;
    let region = Region::parse("4205").unwrap_or_else(|e| panic!("{e}"));
    let actor = UserId::from_uuid(Uuid::from_u128(9));
    let l = ok(s.upsert_list("elderly-2027", &region, actor, t(1)).await, "list");
    let other = ok(s.upsert_list("other-2027", &region, actor, t(1)).await, "other list");
    let m = |kind, n: u8, at| ListMember { kind, hash: KeyedHash::from_bytes([n; 32]), added_at: t(at) };
    // Added at 10 (an ID number and two phones at once), 20, and on another list.
    let at10 = [m(MemberKind::IdNumber, 7, 10), m(MemberKind::Phone, 6, 10), m(MemberKind::Phone, 9, 10)];
    let pairs = |ms: &[ListMember]| ms.iter().map(|x| (x.kind, x.hash)).collect::<Vec<_>>();
    ok(s.add_list_members(l.id, &pairs(&at10), t(10)).await, "add at 10");
    let at20 = [m(MemberKind::Phone, 1, 20)];
    ok(s.add_list_members(l.id, &pairs(&at20), t(20)).await, "add at 20");
    ok(s.add_list_members(other.id, &pairs(&[m(MemberKind::Phone, 2, 15)]), t(15)).await, "other");
    // In the order added, ties by kind ("id" before "phone") and hash.
    let all = [at10[0], at10[1], at10[2], at20[0]];
    let first = ok(s.list_members_added_since(l.id, t(0), None, 2).await, "page 1");
    assert_eq!(first, all[..2].to_vec());
    let rest = ok(s.list_members_added_since(l.id, t(0), first.last().copied(), 10).await, "page 2");
    assert_eq!(rest, all[2..].to_vec(), "the other list's member is not read");
    assert_eq!(ok(s.list_members_added_since(l.id, t(11), None, 10).await, "since 11"), all[3..].to_vec());
    // Adding a member again changes nothing, also not when it was added.
    ok(s.add_list_members(l.id, &pairs(&at10[..1]), t(30)).await, "again");
    assert!(ok(s.list_members_added_since(l.id, t(21), None, 10).await, "since 21").is_empty());
}

pub async fn merchants_sharing_an_account_phone_or_address_are_found_with_what_they_share(s: S) {
    let distinct = |n: u32| {
        let mut m = merchant(n, "420502");
        m.app.address = format!("西陵区东湖大道{n}号");
        m.app.settlement_account.account_number = format!("62220202001122{n:02}");
        m
    };
    let a = distinct(1);
    let mut same_account = distinct(2);
    same_account.app.settlement_account.account_number = a.app.settlement_account.account_number.clone();
    let mut same_address = distinct(3);
    same_address.app.address = format!("  {}  ", a.app.address);
    let mut same_phone = distinct(4);
    same_phone.app.contact_phone = a.app.contact_phone.clone();
    let other = distinct(5);
    for m in [&a, &same_account, &same_address, &same_phone, &other] {
        ok(s.insert_merchant(m, None).await, "insert");
    }
    let alike = ok(s.merchants_alike(a.id).await, "alike");
    let got: Vec<_> = alike.iter().map(|(m, why)| (m.id, *why)).collect();
    assert_eq!(
        got,
        vec![
            (same_account.id, [true, false, false]),
            (same_address.id, [false, false, true]),
            (same_phone.id, [false, true, false])
        ]
    );
    assert!(ok(s.merchants_alike(other.id).await, "none").is_empty());
}
