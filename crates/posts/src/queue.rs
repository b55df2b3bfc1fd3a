//! The queue: a post with `queue: true` goes out at its account's next free posting slot.
//!
//! Slots are local times in the account's IANA zone (`accounts::slots`), so the instant of a
//! slot depends on daylight-saving rules that components do not carry. PostgreSQL does:
//! [`NEXT_FREE_SLOT_SQL`] turns each local date and slot time into an instant with
//! `(local_date + local_time) AT TIME ZONE tz` and picks the first one after `now` that no post
//! of the account already occupies.
//!
//! Daylight-saving edges, as PostgreSQL resolves them (checked with America/New_York, 2026):
//! - a slot inside the spring-forward gap (Sun 8 March, 02:30) does not exist locally;
//!   PostgreSQL reads it as standard time, so it fires at 03:30 local (07:30 UTC), one hour
//!   later on the wall clock. That is acceptable: the post still goes out that day, once.
//! - a slot inside the fall-back overlap (Sun 1 November, 01:30) exists twice; PostgreSQL picks
//!   standard time, the second 01:30 (06:30 UTC). The slot still fires once.
//!
//! Concurrency: two requests queueing for the same account could both see the same slot free.
//! The caller runs the query in the transaction that inserts the post, after locking the
//! account row (`SELECT ... FROM x_accounts WHERE id = $1 FOR UPDATE`).

use accounts::slots::Slot;
use chrono::{DateTime, Utc};

/// How far ahead the queue looks: eight weeks of local dates, today included. A queue with every
/// slot taken for that long is full (the query returns no row; the caller answers 409).
pub const HORIZON_DAYS: i64 = 56;

/// Parameters: `$1` IANA zone (text), `$2` slots (jsonb, `[{"day":"mon","time":"09:30"}]`),
/// `$3` now (int8, Unix seconds), `$4` the account id (uuid): its pending and published posts
/// take their slots.
/// Returns at most one row: `at` (int8, Unix seconds), never a raw `timestamptz` (Spin 3.x
/// cannot decode one, see ARCHITECTURE.md). Weekdays match by `isodow`, Monday = 1, as
/// `Weekday::iso` does.
pub const NEXT_FREE_SLOT_SQL: &str = "\
WITH params AS (
  SELECT $1::text AS tz, to_timestamp($3::int8) AS now_at
), days AS (
  SELECT d::date AS day
  FROM params,
       generate_series((now_at AT TIME ZONE tz)::date::timestamp,
                       (now_at AT TIME ZONE tz)::date::timestamp + interval '56 days',
                       interval '1 day') AS d
), candidates AS (
  SELECT (days.day + (slot->>'time')::time) AT TIME ZONE params.tz AS at
  FROM params, days, jsonb_array_elements($2::text::jsonb) AS slot
  WHERE extract(isodow FROM days.day)
        = array_position(ARRAY['mon','tue','wed','thu','fri','sat','sun'], slot->>'day')
)
SELECT extract(epoch FROM at)::int8 AS at
FROM candidates, params
WHERE at > params.now_at
  AND NOT EXISTS (SELECT 1 FROM posts p
                  WHERE p.account_id = $4::uuid AND p.thread_position = 0
                    AND p.status IN ('scheduled', 'publishing', 'published')
                    AND p.scheduled_at = candidates.at)
ORDER BY at
LIMIT 1";

/// The query's parameters, ready to bind in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextSlotParams {
    pub timezone: String,
    pub slots_json: String,
    pub now: i64,
    /// Sorted, without duplicates, only instants after `now` (earlier ones cannot collide).
    pub taken: Vec<i64>,
}

/// Builds [`NextSlotParams`]; `taken` are the scheduled times of the account's pending posts.
pub fn params(
    timezone: &str,
    slots: &[Slot],
    now: DateTime<Utc>,
    taken: &[DateTime<Utc>],
) -> NextSlotParams {
    let now = now.timestamp();
    let mut taken: Vec<i64> = taken
        .iter()
        .map(DateTime::timestamp)
        .filter(|t| *t > now)
        .collect();
    taken.sort_unstable();
    taken.dedup();
    NextSlotParams {
        timezone: timezone.to_string(),
        // Slots serialise to exactly the stored shape; this cannot fail.
        slots_json: serde_json::to_string(slots).unwrap_or_else(|_| "[]".into()),
        now,
        taken,
    }
}

/// The query's `at` column as an instant.
pub fn instant(at: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use accounts::slots::Weekday;
    use chrono::TimeZone;

    #[test]
    fn params_carry_slots_in_their_stored_shape_and_only_future_taken_instants() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let later = now + chrono::Duration::hours(2);
        let slots = [Slot {
            day: Weekday::Mon,
            time: 9 * 60 + 30,
        }];
        let p = params(
            "Europe/Paris",
            &slots,
            now,
            &[later, now, now - chrono::Duration::days(1), later],
        );
        assert_eq!(p.slots_json, r#"[{"day":"mon","time":"09:30"}]"#);
        assert_eq!(p.now, now.timestamp());
        assert_eq!(p.taken, vec![later.timestamp()]);
        assert_eq!(p.timezone, "Europe/Paris");
    }

    #[test]
    fn the_query_uses_postgres_for_zones_and_returns_seconds() {
        assert!(NEXT_FREE_SLOT_SQL.contains("AT TIME ZONE params.tz"));
        assert!(NEXT_FREE_SLOT_SQL.contains(&format!("+ interval '{HORIZON_DAYS} days'")));
        assert!(NEXT_FREE_SLOT_SQL.contains("extract(epoch FROM at)::int8 AS at"));
        for n in 1..=4 {
            assert!(NEXT_FREE_SLOT_SQL.contains(&format!("${n}::")), "${n}");
        }
    }

    #[test]
    fn instants_round_trip_through_unix_seconds() {
        let t = Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap();
        assert_eq!(instant(t.timestamp()), Some(t));
    }
}
