//! Posting slots: a weekday and a local time in the account's IANA zone ("Mon 09:30").
//! Stored as `[{"day":"mon","time":"09:30"}]`, sorted and without duplicates. The instant of a
//! slot is computed by PostgreSQL (`(date + time) AT TIME ZONE zone`), which knows every zone's
//! daylight-saving rules, so components carry no time-zone database.

use common::error::AppError;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const MAX_SLOTS: usize = 168;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// ISO day number, Monday = 1 (PostgreSQL's `extract(isodow ...)`).
    pub fn iso(self) -> u32 {
        self as u32 + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub day: Weekday,
    /// Minutes after local midnight.
    #[serde(with = "hhmm")]
    pub time: u16,
}

/// Input as clients send it: `{"day": "mon", "time": "09:30"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    pub day: String,
    pub time: String,
}

/// Parses, sorts and de-duplicates slots; each bad entry is reported with its index.
pub fn parse(inputs: &[SlotInput]) -> Result<Vec<Slot>, AppError> {
    if inputs.len() > MAX_SLOTS {
        return Err(AppError::validation(format!(
            "at most {MAX_SLOTS} posting slots"
        )));
    }
    let mut errors = Vec::new();
    let mut slots = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let day = serde_json::from_value::<Weekday>(json!(input.day.trim().to_ascii_lowercase()));
        let time = hhmm::parse(input.time.trim());
        match (day, time) {
            (Ok(day), Some(time)) => slots.push(Slot { day, time }),
            (day, time) => errors.push(json!({
                "index": i,
                "day": day.is_err().then_some("expected mon..sun"),
                "time": time.is_none().then_some("expected HH:MM, 00:00 to 23:59"),
            })),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation("invalid posting slots")
            .with_details(json!({ "postingSlots": errors })));
    }
    slots.sort();
    slots.dedup();
    Ok(slots)
}

mod hhmm {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(s: &str) -> Option<u16> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    }

    pub fn serialize<S: Serializer>(minutes: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", minutes / 60, minutes % 60))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid time {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(day: &str, time: &str) -> SlotInput {
        SlotInput {
            day: day.into(),
            time: time.into(),
        }
    }

    #[test]
    fn slots_are_parsed_sorted_and_deduplicated() {
        let slots = parse(&[
            input("Wed", "17:00"),
            input("mon", "09:30"),
            input("wed", "17:00"),
        ])
        .unwrap();
        assert_eq!(
            slots,
            vec![
                Slot {
                    day: Weekday::Mon,
                    time: 570
                },
                Slot {
                    day: Weekday::Wed,
                    time: 1020
                }
            ]
        );
        assert_eq!(
            serde_json::to_value(&slots).unwrap(),
            json!([{"day":"mon","time":"09:30"},{"day":"wed","time":"17:00"}])
        );
    }

    #[test]
    fn bad_slots_are_reported_by_index() {
        let cases = [
            ("funday", "09:00"),
            ("mon", "24:00"),
            ("mon", "9:00"),
            ("mon", "09:60"),
            ("mon", ""),
        ];
        for (day, time) in cases {
            let err = parse(&[input("tue", "08:00"), input(day, time)]).unwrap_err();
            assert_eq!(err.status(), 422, "{day} {time}");
            assert_eq!(
                err.details.as_ref().unwrap()["postingSlots"][0]["index"],
                1,
                "{day} {time}"
            );
        }
    }

    #[test]
    fn too_many_slots_are_refused() {
        let many: Vec<SlotInput> = (0..=MAX_SLOTS)
            .map(|i| input("mon", &format!("{:02}:{:02}", i / 60 % 24, i % 60)))
            .collect();
        assert!(parse(&many).is_err());
    }

    #[test]
    fn iso_weekdays_match_postgres() {
        assert_eq!(Weekday::Mon.iso(), 1);
        assert_eq!(Weekday::Sun.iso(), 7);
    }
}
