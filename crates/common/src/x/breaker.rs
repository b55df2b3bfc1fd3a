//! Circuit breakers for X: one per account and one for X as a whole, kept in key-value so that
//! every instance sees the same state.
//!
//! Closed → open after `threshold` outages within `window` (5 in 60 s) with no success between
//! them (a success forgets the outages before it, so a few lost answers among many good ones
//! at a high publishing rate never open it; X being down does); open → half-open after
//! `cool_down` (30 s), when exactly one caller is let through as a probe; the probe's success
//! closes the circuit, its failure opens it again. A probe that never reports (its instance
//! died) is replaced after `probe_timeout`. Only outages count (5xx, timeouts, network, unknown
//! outcomes): a 4xx or a 429 says nothing about X's health.
//!
//! The state machine is pure ([`State`]); [`Breakers`] stores it with plain writes (last writer
//! wins) and takes the probe slot with an atomic `increment`, never with compare-and-swap
//! (Spin's Redis store gets it wrong). A lost write costs little: a failure lost to a
//! concurrent one opens the circuit one outage later, and a failure written over a concurrent
//! opening reopens it at the next outage; only the probe must be exactly one, and the slot
//! counter makes it so.

use super::error::XError;
use crate::kv::Kv;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub threshold: usize,
    pub window: Duration,
    pub cool_down: Duration,
    pub probe_timeout: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            threshold: 5,
            window: Duration::seconds(60),
            cool_down: Duration::seconds(30),
            probe_timeout: Duration::seconds(30),
        }
    }
}

/// The stored state; instants are Unix milliseconds to keep the JSON small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Closed { failures: Vec<i64> },
    Open { since: i64 },
    HalfOpen { probe_at: i64 },
}

impl Default for State {
    fn default() -> Self {
        State::Closed {
            failures: Vec::new(),
        }
    }
}

/// The answer to "may I call?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allow,
    /// Allowed as the single probe of a half-open circuit.
    Probe,
    Reject {
        until: DateTime<Utc>,
    },
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl State {
    /// Decides admission and the state to store if it changes (open → half-open).
    pub fn admit(&self, p: &BreakerPolicy, now: DateTime<Utc>) -> (Admission, Option<State>) {
        let probe = || {
            (
                Admission::Probe,
                Some(State::HalfOpen { probe_at: ms(now) }),
            )
        };
        match self {
            State::Closed { .. } => (Admission::Allow, None),
            State::Open { since } => {
                let until = instant(*since) + p.cool_down;
                if now >= until {
                    probe()
                } else {
                    (Admission::Reject { until }, None)
                }
            }
            State::HalfOpen { probe_at } => {
                let until = instant(*probe_at) + p.probe_timeout;
                if now >= until {
                    probe()
                } else {
                    (Admission::Reject { until }, None)
                }
            }
        }
    }

    pub fn on_success(&self, _now: DateTime<Utc>) -> State {
        match self {
            // A late success of a call admitted before the circuit opened proves little; only
            // the probe decides.
            State::Open { .. } => self.clone(),
            State::HalfOpen { .. } => State::default(),
            // X answered: the outages before it were not a run.
            State::Closed { .. } => State::default(),
        }
    }

    pub fn on_failure(&self, p: &BreakerPolicy, now: DateTime<Utc>) -> State {
        match self {
            State::Closed { failures } => {
                let horizon = ms(now - p.window);
                let mut recent: Vec<i64> =
                    failures.iter().copied().filter(|t| *t > horizon).collect();
                recent.push(ms(now));
                if recent.len() >= p.threshold {
                    State::Open { since: ms(now) }
                } else {
                    State::Closed { failures: recent }
                }
            }
            State::Open { .. } => self.clone(),
            State::HalfOpen { .. } => State::Open { since: ms(now) },
        }
    }
}

/// The scope of one breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Circuit {
    Global,
    Account(String),
}

impl Circuit {
    fn key(&self) -> String {
        match self {
            Circuit::Global => "breaker:global".to_string(),
            Circuit::Account(a) => format!("breaker:account:{a}"),
        }
    }
}

/// Breaker states in key-value.
pub struct Breakers {
    kv: Kv,
    policy: BreakerPolicy,
    /// Probe slots this client took, as (circuit key, slot key): deleted once the probe's
    /// outcome is recorded, when no caller can still be deciding on the state that offered it.
    slots: RefCell<Vec<(String, String)>>,
}

impl Breakers {
    pub fn new(kv: Kv, policy: BreakerPolicy) -> Self {
        Breakers {
            kv,
            policy,
            slots: RefCell::new(Vec::new()),
        }
    }

    pub fn open() -> Result<Self, crate::AppError> {
        Ok(Self::new(
            Kv::open(super::KV_NAMESPACE)?,
            BreakerPolicy::default(),
        ))
    }

    /// The current state (closed when unknown or unreadable).
    pub fn state(&self, circuit: &Circuit) -> State {
        parse(self.kv.get_raw(&circuit.key()).ok().flatten().as_deref())
    }

    /// `Err(CircuitOpen)` when the circuit rejects the call. The common case is one read.
    /// When the state offers a probe, the callers that saw it race for the probe slot of that
    /// state (an atomic increment: the first gets 1), so exactly one instance probes. A store
    /// failure admits the call: the breaker is advisory.
    pub fn admit(&self, circuit: &Circuit, now: DateTime<Utc>) -> Result<Admission, XError> {
        let state = self.state(circuit);
        let (admission, next) = state.admit(&self.policy, now);
        let Some(next) = next else {
            return reject_or(admission);
        };
        let slot = probe_slot(circuit, &state);
        match self.kv.increment(&slot, 1) {
            Ok(1) => {}
            // Another caller took this probe.
            Ok(_) => {
                return Err(XError::CircuitOpen {
                    until: now + self.policy.probe_timeout,
                })
            }
            // No atomics in this store: probing without the slot beats never probing.
            Err(_) => {}
        }
        let written = serde_json::to_vec(&next)
            .map_err(crate::AppError::internal)
            .and_then(|bytes| self.kv.set_raw(&circuit.key(), &bytes));
        if written.is_ok() {
            self.slots.borrow_mut().push((circuit.key(), slot));
        }
        reject_or(admission)
    }

    /// Records the outcome of an admitted call; `outage` per [`XError::is_outage`].
    pub fn record(&self, circuit: &Circuit, outage: bool, now: DateTime<Utc>) {
        let state = self.state(circuit);
        // Only failures, a probe's success and the first success after outages change
        // anything: no write on the hot path.
        let changes = match &state {
            State::HalfOpen { .. } => true,
            State::Closed { failures } => outage || !failures.is_empty(),
            State::Open { .. } => outage,
        };
        if changes {
            let next = if outage {
                state.on_failure(&self.policy, now)
            } else {
                state.on_success(now)
            };
            if next != state {
                if let Ok(bytes) = serde_json::to_vec(&next) {
                    let _ = self.kv.set_raw(&circuit.key(), &bytes);
                }
            }
        }
        let key = circuit.key();
        self.slots.borrow_mut().retain(|(circuit_key, slot)| {
            if *circuit_key != key {
                return true;
            }
            let _ = self.kv.delete(slot);
            false
        });
    }
}

/// The probe slot of a state that offers a probe: named after the instant that state began, so
/// every caller deciding on the same state races for the same slot, and a later state (a
/// failed probe's reopening, a lost probe's replacement) has a fresh one.
fn probe_slot(circuit: &Circuit, state: &State) -> String {
    let stamp = match state {
        State::Open { since } => format!("o{since}"),
        State::HalfOpen { probe_at } => format!("h{probe_at}"),
        State::Closed { .. } => "c".to_string(),
    };
    format!("{}:probe:{stamp}", circuit.key())
}

fn reject_or(admission: Admission) -> Result<Admission, XError> {
    match admission {
        Admission::Reject { until } => Err(XError::CircuitOpen { until }),
        other => Ok(other),
    }
}

fn parse(bytes: Option<&[u8]>) -> State {
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn five_outages_within_a_minute_open_the_circuit() {
        let p = BreakerPolicy::default();
        let mut s = State::default();
        for i in 0..4 {
            s = s.on_failure(&p, t(i * 10));
            assert!(
                matches!(s, State::Closed { .. }),
                "after {} failures",
                i + 1
            );
            assert_eq!(s.admit(&p, t(i * 10)).0, Admission::Allow);
        }
        s = s.on_failure(&p, t(45));
        assert_eq!(s, State::Open { since: ms(t(45)) });
        assert_eq!(s.admit(&p, t(50)).0, Admission::Reject { until: t(75) });
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let p = BreakerPolicy::default();
        let mut s = State::default();
        for secs in [0, 20, 40, 59] {
            s = s.on_failure(&p, t(secs));
        }
        // At t=61 the failure of t=0 has left the 60 s window: four remain with this one.
        s = s.on_failure(&p, t(61));
        assert_eq!(
            s,
            State::Closed {
                failures: vec![ms(t(20)), ms(t(40)), ms(t(59)), ms(t(61))]
            }
        );
        s = s.on_failure(&p, t(62));
        assert!(matches!(s, State::Open { .. }));
    }

    #[test]
    fn a_success_between_outages_starts_the_count_again() {
        let p = BreakerPolicy::default();
        let mut s = State::default();
        for round in 0..5 {
            for i in 0..4 {
                s = s.on_failure(&p, t(round * 10 + i));
            }
            s = s.on_success(t(round * 10 + 5));
            assert_eq!(s, State::default(), "round {round}");
        }
        for i in 0..5 {
            s = s.on_failure(&p, t(60 + i));
        }
        assert!(matches!(s, State::Open { .. }), "five in a row open it");
    }

    #[test]
    fn after_the_cool_down_one_probe_decides() {
        let p = BreakerPolicy::default();
        let open = State::Open { since: ms(t(0)) };
        assert_eq!(open.admit(&p, t(29)).0, Admission::Reject { until: t(30) });
        let (admission, next) = open.admit(&p, t(30));
        assert_eq!(admission, Admission::Probe);
        let half = next.unwrap();
        assert_eq!(
            half,
            State::HalfOpen {
                probe_at: ms(t(30))
            }
        );
        // While the probe is out, everyone else waits.
        assert_eq!(half.admit(&p, t(31)).0, Admission::Reject { until: t(60) });
        // The probe succeeds: closed, with a clean slate.
        assert_eq!(half.on_success(t(32)), State::default());
        // The probe fails: open again, for a fresh cool-down.
        let reopened = half.on_failure(&p, t(32));
        assert_eq!(reopened, State::Open { since: ms(t(32)) });
        assert_eq!(
            reopened.admit(&p, t(61)).0,
            Admission::Reject { until: t(62) }
        );
    }

    #[test]
    fn a_lost_probe_is_replaced_after_its_timeout() {
        let p = BreakerPolicy::default();
        let half = State::HalfOpen {
            probe_at: ms(t(30)),
        };
        let (admission, next) = half.admit(&p, t(60));
        assert_eq!(admission, Admission::Probe);
        assert_eq!(
            next,
            Some(State::HalfOpen {
                probe_at: ms(t(60))
            })
        );
    }

    #[test]
    fn late_results_do_not_close_an_open_circuit() {
        let p = BreakerPolicy::default();
        let open = State::Open { since: ms(t(0)) };
        assert_eq!(open.on_success(t(1)), open);
        assert_eq!(open.on_failure(&p, t(1)), open);
    }

    #[test]
    fn each_state_offering_a_probe_has_its_own_slot() {
        let account = Circuit::Account("a1".into());
        let open = probe_slot(&account, &State::Open { since: 5 });
        let half = probe_slot(&account, &State::HalfOpen { probe_at: 5 });
        assert_eq!(open, "breaker:account:a1:probe:o5");
        assert_ne!(open, half);
        assert_ne!(
            open,
            probe_slot(&Circuit::Global, &State::Open { since: 5 })
        );
        assert_ne!(open, probe_slot(&account, &State::Open { since: 6 }));
    }

    #[test]
    fn the_state_is_small_json() {
        let s = State::Open { since: 5 };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"state":"open","since":5}"#
        );
        assert_eq!(parse(Some(b"garbage")), State::default());
        assert_eq!(parse(None), State::default());
    }
}
