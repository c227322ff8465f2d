//! One simulated grab through the real engine on a fresh SQLite store, in
//! simulated time. Every account fetches its proof-of-work challenge a
//! minute before the opening and solves it at its kind's speed; each press
//! goes through `Engine::claim_keyed` with its device and address. Inside
//! the window presses are sent one by one at their instant and wait for the
//! draw, made when the simulation's clock passes the window's end; after
//! it, presses go in slices of `SLICE_MS`. A refusal that asks for more
//! work, or a rate limit, sends the account back after the time it needs.
//! With `http`, each challenge and press is a request to the real server
//! instead (`wire`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use quan_domain::{BatchId, FixedClock, Role};
use quan_engine::claims::PowSolution;
use quan_engine::{Actor, Engine};

use super::actors::{Actors, opening, solve_seconds};
use super::population::{Account, Attempt};
use super::wire::{Fetched, Wire};

/// Presses after the window that count as simultaneous.
const SLICE_MS: i64 = 10;
/// How long before the opening every account fetches its challenge.
const LEAD_MS: i64 = 60_000;
/// Presses an account makes at most (its schedule and the retries).
const TRIES_MAX: u32 = 20;

/// What one attempt was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub attempt: Attempt,
    /// `claimed`, or the refusal's code.
    pub code: String,
}

/// What the grab did to each account besides its answers.
#[derive(Debug, Default)]
pub struct Outcome {
    pub answers: Vec<Answer>,
    /// Accounts asked for more work than the base (at fetch or at a claim).
    pub harder: Vec<bool>,
}

/// The grab's settings.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub seed: u64,
    pub stock: u32,
    pub window_s: u32,
    pub pow: bool,
    /// The batch asks for a real-name check; which accounts passed one.
    pub real_name: Option<&'a [bool]>,
    /// Through the real server (`wire`).
    pub http: bool,
}

/// Runs the grab: every attempt through the engine, answered.
pub async fn grab(s: Setup<'_>, accounts: &[Account], attempts: &[Attempt]) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(FixedClock::new(opening() - Duration::days(10)));
    let (engine, pool) = super::actors::engine(s.seed, dir.path(), clock.clone()).await?;
    let official = crate::setup::staff(&engine, "sim.official", Role::Official).await?;
    let w = crate::setup::Window { admission_window_s: s.window_s, ..crate::setup::Window::december() };
    let (_, batch) =
        crate::setup::open_grab_with(&engine, &official, s.stock, &w, s.pow, s.real_name.is_some()).await?;
    let actors = Arc::new(Actors::new(&pool, accounts).await?);
    if let Some(checked) = s.real_name {
        super::actors::checked_identities(&pool, checked).await?;
    }
    let wire = if s.http { Some(Arc::new(Wire::start(&engine, &pool, accounts.len()).await?)) } else { None };
    let mut run = Run {
        wire,
        engine,
        clock,
        batch,
        actors,
        queue: BinaryHeap::new(),
        seq: 0,
        solved: vec![None; accounts.len()],
        tries: vec![0; accounts.len()],
        out: Outcome { answers: Vec::new(), harder: vec![false; accounts.len()] },
    };
    let mut delay = vec![0i64; accounts.len()];
    if s.pow {
        for (i, d) in delay.iter_mut().enumerate() {
            run.clock.set(opening() - Duration::milliseconds(LEAD_MS));
            let need = run.fetch(i).await;
            *d = (need - LEAD_MS).max(0);
        }
    }
    for a in attempts {
        run.push(a.at_ms + delay[a.account], a.account);
    }
    let window_ms = i64::from(s.window_s) * 1000;
    if s.window_s > 0 {
        run.window(window_ms).await?;
    }
    run.slices().await?;
    let out = std::mem::take(&mut run.out);
    if let Some(w) = run.wire.take().and_then(|w| Arc::try_unwrap(w).ok()) {
        w.stop().await;
    }
    run.engine.flush_risk_signals().await?;
    // The background writer's turn, if it took the rows first.
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    drop(run);
    pool.close().await;
    Ok(out)
}

struct Run {
    wire: Option<Arc<Wire>>,
    engine: Engine,
    clock: Arc<FixedClock>,
    batch: BatchId,
    actors: Arc<Actors>,
    queue: BinaryHeap<Reverse<(i64, u64, usize)>>,
    seq: u64,
    solved: Vec<Option<PowSolution>>,
    tries: Vec<u32>,
    out: Outcome,
}

impl Run {
    fn push(&mut self, at_ms: i64, account: usize) {
        self.seq += 1;
        self.queue.push(Reverse((at_ms, self.seq, account)));
    }

    fn now_ms(&self) -> i64 {
        (quan_domain::Clock::now(self.clock.as_ref()) - opening()).num_milliseconds()
    }

    /// Fetches a challenge for account `i` now and solves it; returns the
    /// milliseconds its kind needs for that.
    async fn fetch(&mut self, i: usize) -> i64 {
        let ctx = self.actors.context(i, None);
        let fetched = match &self.wire {
            Some(w) => w.challenge(i, self.batch, &ctx).await.ok(),
            None => self.engine.claim_challenge(&self.actors.actor(i), self.batch, &ctx).await.ok().map(|c| Fetched {
                challenge: c.challenge,
                bits: c.bits,
                signals: c.signals.len(),
            }),
        };
        match fetched {
            Some(c) => {
                self.out.harder[i] |= c.signals > 0;
                let nonce = quan_domain::pow::solve(&c.challenge, c.bits);
                self.solved[i] = Some(PowSolution { challenge: c.challenge, nonce });
                (solve_seconds(self.actors.kind(i), c.bits) * 1000.0) as i64
            }
            // Rate-limited or refused: it tries again with its next press.
            None => 1_000,
        }
    }

    /// What an answer makes the account do next.
    async fn after(&mut self, a: Answer) {
        let i = a.attempt.account;
        self.tries[i] += 1;
        let again = self.tries[i] < TRIES_MAX;
        match a.code.as_str() {
            "challenge_too_easy" | "challenge_expired" | "challenge_used" | "challenge_required" if again => {
                self.out.harder[i] |= a.code == "challenge_too_easy";
                let need = self.fetch(i).await;
                self.push(self.now_ms() + need, i);
            }
            "rate_limited" | "busy" if again => {
                self.out.harder[i] |= a.code == "rate_limited" && self.actors.kind(i).is_human();
                self.push(self.now_ms() + 1_000, i);
            }
            _ => {}
        }
        self.out.answers.push(a);
    }

    fn spawn(&self, set: &mut tokio::task::JoinSet<Answer>, attempt: Attempt, done: &Arc<AtomicUsize>) {
        let (engine, actors, batch, done) = (self.engine.clone(), self.actors.clone(), self.batch, done.clone());
        let ctx = self.actors.context(attempt.account, self.solved[attempt.account].clone());
        let wire = self.wire.clone();
        set.spawn(async move {
            let code = match wire {
                Some(w) => w.claim(attempt.account, batch, &ctx).await,
                None => {
                    let actor: Actor = actors.actor(attempt.account);
                    match engine.claim_keyed(&actor, batch, None, None, None, &ctx).await {
                        Ok(_) => "claimed".to_owned(),
                        Err(e) => quan_engine::Rejection::code(&e).to_owned(),
                    }
                }
            };
            done.fetch_add(1, Ordering::SeqCst);
            Answer { attempt, code }
        });
    }

    /// The window: each press at its instant, held for the draw or answered
    /// at once (a refusal before the queue), then the draw.
    async fn window(&mut self, window_ms: i64) -> anyhow::Result<()> {
        let mut set = tokio::task::JoinSet::new();
        let done = Arc::new(AtomicUsize::new(0));
        let mut sent = 0usize;
        while let Some(Reverse((at, _, account))) = self.queue.peek().copied().filter(|e| e.0.0 < window_ms) {
            self.queue.pop();
            self.clock.set(opening() + Duration::milliseconds(at.max(0)));
            self.spawn(&mut set, Attempt { account, at_ms: at }, &done);
            sent += 1;
            let started = std::time::Instant::now();
            while self.engine.admission_waiting(self.batch) + done.load(Ordering::SeqCst) < sent {
                anyhow::ensure!(
                    started.elapsed().as_secs() < 60,
                    "a press in the window was neither held nor answered"
                );
                tokio::task::yield_now().await;
            }
            while let Some(a) = set.try_join_next() {
                self.after(a?).await;
            }
        }
        self.clock.set(opening() + Duration::milliseconds(window_ms));
        self.engine.draw_admission_window(self.batch).await;
        while let Some(a) = set.join_next().await {
            self.after(a?).await;
        }
        Ok(())
    }

    /// First come, first served: each slice's presses together.
    async fn slices(&mut self) -> anyhow::Result<()> {
        let done = Arc::new(AtomicUsize::new(0));
        while let Some(Reverse((first, _, _))) = self.queue.peek().copied() {
            let slice = first.div_euclid(SLICE_MS);
            self.clock.set(opening() + Duration::milliseconds(slice * SLICE_MS));
            let mut set = tokio::task::JoinSet::new();
            while let Some(Reverse((at, _, account))) =
                self.queue.peek().copied().filter(|e| e.0.0.div_euclid(SLICE_MS) == slice)
            {
                self.queue.pop();
                self.spawn(&mut set, Attempt { account, at_ms: at }, &done);
            }
            while let Some(a) = set.join_next().await {
                self.after(a?).await;
            }
        }
        Ok(())
    }
}
