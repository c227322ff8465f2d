//! Two nodes on one database: what a node remembers of residents' tokens,
//! and how a logout on one reaches the other.

use std::sync::Arc;

use chrono::{DateTime, Duration};
use quan_domain::{FixedClock, PhoneNumber};
use quan_engine::auth::AuthRejection;
use quan_engine::{Engine, EngineConfig, EngineParts, MemorySmsSender, PasswordParams, PiiKey, SeededRandom};
use quan_store::Store;
use quan_store_sqlite::{SqliteOptions, SqliteStore};

struct Nodes {
    a: Engine,
    b: Engine,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
}

/// Cheap password hashing; everything else as configured by default.
fn config() -> EngineConfig {
    EngineConfig { password: PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 }, ..EngineConfig::default() }
}

/// A node on `store`, with its own random source.
fn node(store: Arc<dyn Store>, clock: Arc<FixedClock>, seed: u64, config: EngineConfig) -> Engine {
    Engine::new(EngineParts {
        store,
        clock,
        random: Arc::new(SeededRandom::new(seed)),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes([7; 32]),
        config,
    })
}

async fn two_nodes() -> Nodes {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("q.db"), SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}")),
    );
    let clock = Arc::new(FixedClock::new(DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()));
    let (a, b) = (node(store.clone(), clock.clone(), 1, config()), node(store, clock.clone(), 2, config()));
    Nodes { a, b, clock, _dir: dir }
}

async fn enrol(e: &Engine, first: u32, n: u32) -> Vec<String> {
    let phones: Vec<PhoneNumber> = (first..first + n)
        .map(|i| PhoneNumber::parse(&format!("1380000{i:04}")).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    e.enrol_residents(&phones).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn valid(e: &Engine, token: &str) -> bool {
    match e.authenticate(Some(token)).await {
        Ok(_) => true,
        Err(AuthRejection::InvalidToken) => false,
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_following_node_answers_from_memory_and_forgets_a_logout_elsewhere_at_its_next_round() {
    let n = two_nodes().await;
    let tokens = enrol(&n.a, 0, 3).await;
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.loaded, f.ended, f.remembered), (3, 0, 3), "every live session loaded on the first round");
    assert_eq!(n.b.remembered_sessions(), 3);

    // Logged out on node a: at once there, on b from memory until its next round.
    let actor = n.a.authenticate(Some(&tokens[0])).await.unwrap_or_else(|e| panic!("{e}"));
    n.a.logout(&actor).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!valid(&n.a, &tokens[0]).await, "at once on the node that logged out");
    assert!(valid(&n.b, &tokens[0]).await, "node b answers from memory until its next round");
    n.clock.advance(Duration::seconds(1));
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.ended, f.remembered), (1, 2), "the end is read and the token forgotten");
    assert!(!valid(&n.b, &tokens[0]).await, "gone on node b after its round");
    assert!(valid(&n.b, &tokens[1]).await && valid(&n.b, &tokens[2]).await, "the others still answer");

    // A session opened elsewhere after a round is loaded by the next one.
    n.clock.advance(Duration::seconds(2));
    n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    let later = enrol(&n.a, 10, 1).await;
    n.clock.advance(Duration::seconds(1));
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.loaded, f.remembered), (1, 3), "the new one alone is loaded");
    assert!(valid(&n.b, &later[0]).await);

    // Rounds keep the memory trusted far beyond the 5 s window.
    for _ in 0..10 {
        n.clock.advance(Duration::seconds(1));
        n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(valid(&n.b, &tokens[1]).await);
}

#[tokio::test]
async fn without_a_round_for_longer_than_the_window_a_node_reads_tokens_again() {
    let n = two_nodes().await;
    let tokens = enrol(&n.a, 0, 2).await;
    n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    let actor = n.a.authenticate(Some(&tokens[0])).await.unwrap_or_else(|e| panic!("{e}"));
    n.a.logout(&actor).await.unwrap_or_else(|e| panic!("{e}"));
    // Node b's rounds stop (its database reads fail, say): it trusts its
    // memory for `resident_session_cache_s` (5 s) after the last round.
    n.clock.advance(Duration::seconds(4));
    assert!(valid(&n.b, &tokens[0]).await, "inside the window: still from memory");
    n.clock.advance(Duration::seconds(1));
    assert!(!valid(&n.b, &tokens[0]).await, "past the window the token is read again, and its session is gone");
    assert!(valid(&n.b, &tokens[1]).await, "a live token is read and answered");
}

#[tokio::test]
async fn a_node_with_no_memory_window_neither_loads_nor_remembers() {
    let n = two_nodes().await;
    let e = node(n.a.store().clone(), n.clock.clone(), 3, EngineConfig { resident_session_cache_s: 0, ..config() });
    let tokens = enrol(&e, 0, 2).await;
    let f = e.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.loaded, 0);
    assert!(valid(&e, &tokens[0]).await);
    assert_eq!(e.remembered_sessions(), 0);
}

#[tokio::test]
async fn an_identity_recorded_on_one_node_is_known_to_a_following_node_at_its_next_round() {
    let n = two_nodes().await;
    let tokens = enrol(&n.a, 0, 2).await;
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.identities, 0);
    let on_a = n.a.authenticate(Some(&tokens[0])).await.unwrap_or_else(|e| panic!("{e}"));
    let quan_engine::Actor::Resident { resident, .. } = &on_a else { panic!("a resident") };
    let body = "42050219900101123";
    let number = format!("{body}{}", quan_domain::id_number::check_char(body.as_bytes()).unwrap_or('?'));
    let recorded = n.a.verify_identity(&on_a, &number).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n.a.identity_of(resident.id).await.ok().flatten(), Some(recorded.clone()), "node a: at once");
    assert_eq!(n.b.identity_of(resident.id).await.ok().flatten(), None, "node b: from memory, until its next round");
    n.clock.advance(Duration::seconds(1));
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.identities, 1);
    assert_eq!(n.b.identity_of(resident.id).await.ok().flatten(), Some(recorded.clone()), "node b after its round");
    // A node whose rounds stopped reads the database once its window is past.
    n.clock.advance(Duration::seconds(10));
    assert_eq!(n.b.identity_of(resident.id).await.ok().flatten(), Some(recorded), "past the window: read again");
}

#[tokio::test]
async fn a_node_keeps_at_most_its_cap_of_tokens_newest_first_and_reads_the_rest() {
    let n = two_nodes().await;
    let first = enrol(&n.a, 0, 1).await;
    n.clock.advance(Duration::seconds(1));
    let newer = enrol(&n.a, 1, 2).await;
    let small = node(n.a.store().clone(), n.clock.clone(), 4, EngineConfig { residents_remembered_max: 2, ..config() });
    let f = small.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.loaded, f.remembered), (2, 2), "the two newest");
    assert!(valid(&small, &newer[0]).await && valid(&small, &newer[1]).await);
    assert!(valid(&small, &first[0]).await, "the oldest is read from the database");
    assert_eq!(small.remembered_sessions(), 2, "and not kept: the memory is full");
}

/// A resident's phone entry as lists hold it (the keyed hash of the phone).
async fn phone_entry(e: &Engine, token: &str) -> [(quan_store::MemberKind, quan_domain::KeyedHash); 1] {
    let actor = e.authenticate(Some(token)).await.unwrap_or_else(|e| panic!("{e}"));
    let quan_engine::Actor::Resident { resident, .. } = actor else { panic!("a resident") };
    [(quan_store::MemberKind::Phone, resident.phone_hash)]
}

/// An official of city 4205, logged in on `e`.
async fn official(e: &Engine) -> quan_engine::Actor {
    use quan_domain::{Region, Role, Username};
    let official = quan_engine::users::NewAccount {
        username: Username::parse("lists").unwrap_or_else(|e| panic!("{e}")),
        role: Role::Official,
        region: Region::parse("4205").unwrap_or_else(|e| panic!("{e}")),
        display_name: "lists".into(),
        password: Some("a long password!".into()),
    };
    e.create_user_unchecked(official, None).await.unwrap_or_else(|e| panic!("{e}"));
    e.login("lists", "a long password!", "test").await.unwrap_or_else(|e| panic!("{e}")).actor
}

#[tokio::test]
async fn a_list_is_loaded_at_its_first_use_and_a_member_added_on_another_node_counts_from_the_next_round() {
    use quan_store::MemberKind;
    let n = two_nodes().await;
    let tokens = enrol(&n.a, 0, 3).await;
    let staff = official(&n.a).await;
    let import = |name: &'static str, phone: &'static str| {
        let (a, staff) = (n.a.clone(), staff.clone());
        async move {
            a.import_list(&staff, name, MemberKind::Phone, &[(1, phone.to_owned())])
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    import("elderly", "13800000000").await;
    n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    let names = vec!["elderly".to_owned(), "later".to_owned()];
    let (m0, m1, m2) =
        (phone_entry(&n.b, &tokens[0]).await, phone_entry(&n.b, &tokens[1]).await, phone_entry(&n.b, &tokens[2]).await);
    // Asks, then waits for the loads the question started in the background
    // (so that none lands later, with rows read before a later import).
    let on = |e: &Engine, m: [(MemberKind, quan_domain::KeyedHash); 1]| {
        let (e, names) = (e.clone(), names.clone());
        async move {
            let found = e.lists_with_member(&names, &m).await.unwrap_or_else(|e| panic!("{e}"));
            for _ in 0..5_000 {
                if e.lists_loading() == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            assert_eq!(e.lists_loading(), 0, "background loads finish");
            found
        }
    };
    assert_eq!(on(&n.b, m0).await, vec!["elderly".to_owned()], "read from the database at its first use");
    // That use started a load in the background; here it is awaited.
    assert_eq!(n.b.load_list("elderly").await.unwrap_or_else(|e| panic!("{e}")), Some(1));
    assert_eq!(on(&n.b, m0).await, vec!["elderly".to_owned()], "from the copy");
    assert!(on(&n.b, m1).await.is_empty());

    // Resident 1 added on node a (which does not follow: it reads the database).
    import("elderly", "13800000001").await;
    assert_eq!(on(&n.a, m1).await, vec!["elderly".to_owned()], "node a: at once");
    assert!(on(&n.b, m1).await.is_empty(), "node b: from its copy, until its next round");
    n.clock.advance(Duration::seconds(1));
    let f = n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.list_members, 1, "the new member read (the older one again, in the overlap, counts once)");
    assert_eq!(on(&n.b, m1).await, vec!["elderly".to_owned()], "node b after its round");

    // A list not imported when first asked about is looked up again later.
    assert!(on(&n.b, m2).await.is_empty());
    assert_eq!(n.b.load_list("later").await.unwrap_or_else(|e| panic!("{e}")), None, "not imported yet");
    import("later", "13800000002").await;
    assert_eq!(on(&n.b, m2).await, vec!["later".to_owned()]);
    assert_eq!(n.b.load_list("later").await.unwrap_or_else(|e| panic!("{e}")), Some(1));

    // A node keeping at most one member per list reads the longer list from the database.
    let small = node(n.a.store().clone(), n.clock.clone(), 5, EngineConfig { residents_remembered_max: 1, ..config() });
    small.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(small.load_list("elderly").await.unwrap_or_else(|e| panic!("{e}")), None, "too long to keep");
    assert_eq!(on(&small, m1).await, vec!["elderly".to_owned()]);
    // Past the window without a round, node b reads the database again.
    import("elderly", "13800000002").await;
    n.clock.advance(Duration::seconds(10));
    assert_eq!(on(&n.b, m2).await, vec!["elderly".to_owned(), "later".to_owned()]);
}

#[tokio::test]
async fn a_starting_node_loads_the_lists_its_open_batches_are_restricted_to() {
    let n = two_nodes().await;
    let staff = official(&n.a).await;
    let phones = [(1, "13800000000".to_owned()), (2, "13800000001".to_owned())];
    n.a.import_list(&staff, "elderly", quan_store::MemberKind::Phone, &phones).await.unwrap_or_else(|e| panic!("{e}"));
    let file: quan_engine::campaigns::CampaignFile = serde_json::from_value(serde_json::json!({
        "campaign": {"name": "lists", "region": "4205", "budget_fen": 100_000, "funding_source": "test",
                     "starts_on": "2026-10-01", "ends_on": "2026-10-31"},
        "batches": [{"name": "elderly only", "opening_at": "2026-10-05T10:00:00+08:00", "closing_at": "2026-10-05T22:00:00+08:00",
            "limits": {"per_batch": 1}, "eligibility": {"lists": ["elderly", "not-imported"]},
            "kinds": [{"stock": 10, "kind": {"code": "k", "name": "立减", "discount": {"type": "instant", "off_fen": 1000},
                                             "validity": {"type": "days_after_claim", "days": 3}}}]}]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    n.a.create_campaign(&staff, file).await.unwrap_or_else(|e| panic!("{e}"));
    let loaded = n.b.load_lists_of_open_batches().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, (0, 0), "a node that does not follow keeps no copies");
    n.b.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    let loaded = n.b.load_lists_of_open_batches().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, (1, 2), "the imported list and its two members; the other is read per claim");
}
