//! A node's memory of the eligibility lists its claims need, so that a
//! batch open only to a list's members (a target group, a district's
//! elderly) decides a claim without reading the database.
//!
//! A list is loaded whole, in the background, the first time this node
//! reads a batch that names it or a claim needs it while the node follows
//! the sessions ([`Engine::follow_sessions`]); until it is loaded, claims
//! read the database as before (they never wait for the load). From then on
//! every round of following reads the members added since the previous
//! round (with the same overlap as the sessions' ends). Members are only
//! ever added, so a copy can only lack the newest ones, for up to a round:
//! such a resident is refused `not_eligible` for about a second, never
//! granted wrongly. A list with more members than `residents_remembered_max`
//! is not kept; it, and every list while the node is not following, is read
//! from the database on every claim as before.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::KeyedHash;
use quan_store::{ListMember, MemberKind, StoreError};

use crate::Engine;

/// How long after a background load began another may begin for the same
/// list (it failed, or the list was not imported yet).
const RELOAD_AFTER_MS: i64 = 10_000;

/// Members read per query when loading or following a list.
const PAGE_LEN: u32 = 10_000;

#[derive(Debug)]
pub(crate) struct ListMemory {
    /// By list name: the copy, or `None` for a list too long to keep.
    lists: Mutex<HashMap<String, Option<Arc<ListCopy>>>>,
    /// When a background load of each list without a copy last began, and
    /// whether it still runs: one at a time, and a list not imported yet is
    /// looked up again only every `RELOAD_AFTER_MS`, not on every claim.
    loading: Mutex<HashMap<String, (DateTime<Utc>, bool)>>,
    /// Members kept at most per list.
    cap: usize,
}

#[derive(Debug)]
struct ListCopy {
    id: uuid::Uuid,
    members: Mutex<HashSet<(MemberKind, KeyedHash)>>,
}

impl ListCopy {
    fn has_any(&self, wanted: &[(MemberKind, KeyedHash)]) -> bool {
        let members = self.members.lock().unwrap_or_else(|p| p.into_inner());
        wanted.iter().any(|m| members.contains(m))
    }

    /// Adds members; `false` (and nothing more added) once the copy is full.
    fn add(&self, found: &[ListMember], cap: usize) -> bool {
        let mut members = self.members.lock().unwrap_or_else(|p| p.into_inner());
        for m in found {
            if members.len() >= cap {
                return false;
            }
            members.insert((m.kind, m.hash));
        }
        true
    }
}

impl ListMemory {
    pub(crate) fn new(cap: usize) -> ListMemory {
        ListMemory { lists: Mutex::new(HashMap::new()), loading: Mutex::new(HashMap::new()), cap }
    }

    fn get(&self, name: &str) -> Option<Option<Arc<ListCopy>>> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    fn set(&self, name: &str, copy: Option<Arc<ListCopy>>) {
        self.lists.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), copy);
    }

    fn kept(&self) -> Vec<(String, Arc<ListCopy>)> {
        let lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists.iter().filter_map(|(n, c)| c.clone().map(|c| (n.clone(), c))).collect()
    }
}

impl Engine {
    /// Which of the named lists have any of these members: from this
    /// node's copies while it follows the sessions, else (and for a list
    /// too long to keep) from the database.
    pub async fn lists_with_member(
        &self,
        names: &[String],
        members: &[(MemberKind, KeyedHash)],
    ) -> Result<Vec<String>, StoreError> {
        if !self.inner.remembered_sessions.following(self.now()) {
            return self.store().lists_with_member(names, members).await;
        }
        let (mut found, mut unkept) = (Vec::new(), Vec::new());
        for name in names {
            match self.list_copy(name) {
                Some(copy) if copy.has_any(members) => found.push(name.clone()),
                Some(_) => {}
                None => unkept.push(name.clone()),
            }
        }
        if !unkept.is_empty() {
            found.extend(self.store().lists_with_member(&unkept, members).await?);
            found.sort_by_key(|n| names.iter().position(|x| x == n));
        }
        Ok(found)
    }

    /// This node's copy of a list; without one, a load starts in the
    /// background and `None` is returned (the claim reads the database).
    fn list_copy(&self, name: &str) -> Option<Arc<ListCopy>> {
        self.inner.lists.get(name).unwrap_or_else(|| {
            self.preload_lists(std::slice::from_ref(&name.to_owned()));
            None
        })
    }

    /// Starts loading, in the background, the named lists this node has no
    /// copy of yet (when it follows the sessions: only then are copies
    /// used), unless a load of the list began less than `RELOAD_AFTER_MS`
    /// ago. A failed load is logged.
    pub(crate) fn preload_lists(&self, names: &[String]) {
        let now = self.now();
        if names.is_empty() || !self.inner.remembered_sessions.following(now) {
            return;
        }
        for name in names {
            if self.inner.lists.get(name).is_some() {
                continue;
            }
            {
                let mut loading = self.inner.lists.loading.lock().unwrap_or_else(|p| p.into_inner());
                if loading
                    .get(name)
                    .is_some_and(|(began, running)| *running || (now - *began).num_milliseconds() < RELOAD_AFTER_MS)
                {
                    continue;
                }
                loading.insert(name.clone(), (now, true));
            }
            let (engine, name) = (self.clone(), name.clone());
            tokio::spawn(async move {
                if let Err(e) = engine.load_list(&name).await {
                    tracing::warn!(list = %name, error = %e, "loading a list into memory failed; claims read it from the database");
                }
                if let Some(entry) = engine.inner.lists.loading.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&name)
                {
                    entry.1 = false;
                }
            });
        }
    }

    /// How many lists are being loaded in the background right now.
    pub fn lists_loading(&self) -> usize {
        self.inner
            .lists
            .loading
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|(_, running)| *running)
            .count()
    }

    /// Loads a list whole into this node's memory (what `preload_lists`
    /// does in the background) and returns how many members it keeps;
    /// `None` for a list too long to keep or not (yet) imported, which
    /// claims read from the database.
    pub async fn load_list(&self, name: &str) -> Result<Option<usize>, StoreError> {
        let memory = &self.inner.lists;
        let list = match self.store().list_by_name(name).await {
            Ok(l) => l,
            // Nobody is on a list not imported yet; it is looked up again
            // next time (it may be imported meanwhile).
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        if usize::try_from(list.members).unwrap_or(usize::MAX) > memory.cap {
            tracing::info!(
                list = name,
                members = list.members,
                cap = memory.cap,
                "list too long to keep in memory: read per claim"
            );
            memory.set(name, None);
            return Ok(None);
        }
        let copy = Arc::new(ListCopy { id: list.id, members: Mutex::new(HashSet::new()) });
        let kept = self.load_members(&copy, DateTime::<Utc>::MIN_UTC).await?;
        let loaded = copy.members.lock().unwrap_or_else(|p| p.into_inner()).len();
        tracing::info!(list = name, members = loaded, kept, "list loaded into memory");
        memory.set(name, kept.then_some(copy));
        Ok(kept.then_some(loaded))
    }

    /// Loads the lists named by the batches of campaigns not closing or
    /// closed whose window has not ended (as `quan serve` does before it
    /// listens, after its first round of following), so that even the
    /// first claims of a grab find them in memory. Returns how many lists
    /// it keeps and their members. Does nothing when the node does not
    /// follow the sessions (copies are not used then).
    pub async fn load_lists_of_open_batches(&self) -> Result<(usize, usize), StoreError> {
        use quan_domain::campaign::CampaignStatus;
        if !self.inner.remembered_sessions.following(self.now()) {
            return Ok((0, 0));
        }
        let now = self.now();
        let mut names = std::collections::BTreeSet::new();
        for c in self.every_campaign().await? {
            if matches!(c.status, CampaignStatus::Closing | CampaignStatus::Closed) {
                continue;
            }
            for b in self.store().list_batches(c.id).await? {
                if b.spec.closing_at > now {
                    names.extend(b.spec.eligibility.lists.iter().cloned());
                }
            }
        }
        let (mut lists, mut members) = (0, 0);
        for name in names {
            if let Some(n) = self.load_list(&name).await? {
                lists += 1;
                members += n;
            }
        }
        Ok((lists, members))
    }

    /// Adds to `copy` the list's members added at or after `since`, page by
    /// page; `false` when the copy outgrew the memory's cap.
    async fn load_members(&self, copy: &ListCopy, since: DateTime<Utc>) -> Result<bool, StoreError> {
        let cap = self.inner.lists.cap;
        let mut after = None;
        loop {
            let page = self.store().list_members_added_since(copy.id, since, after, PAGE_LEN).await?;
            if !copy.add(&page, cap) {
                return Ok(false);
            }
            if page.len() < PAGE_LEN as usize {
                return Ok(true);
            }
            after = page.last().copied();
        }
    }

    /// A round's part (see [`Engine::follow_sessions`]): the members added
    /// to every kept list at or after `since`. Returns how many were read.
    pub(crate) async fn follow_lists(&self, since: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut read = 0;
        for (name, copy) in self.inner.lists.kept() {
            let before = copy.members.lock().unwrap_or_else(|p| p.into_inner()).len();
            if !self.load_members(&copy, since).await? {
                tracing::info!(list = %name, cap = self.inner.lists.cap, "list outgrew the memory: read per claim from now on");
                self.inner.lists.set(&name, None);
                continue;
            }
            read += copy.members.lock().unwrap_or_else(|p| p.into_inner()).len() - before;
        }
        Ok(read)
    }
}
