//! Office hours through the public API, with the real schedules of Isili and Assemini:
//! lunch-break edges, daylight-saving weekends, holidays, the patron's day, closures and
//! working-day deadlines. Instants are written as Europe/Rome civil times.

use jiff::civil::date;
use jiff::{Timestamp, Zoned};
use proptest::prelude::*;
use sportello::hours::{national_holidays, Schedule};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn isili() -> Schedule {
    Schedule::parse(&strings(&["mon-fri 09:00-13:00", "tue,thu 15:00-18:00"]), None, &[]).unwrap()
}

fn assemini() -> Schedule {
    Schedule::parse(&strings(&["mon-fri 08:30-13:00", "mon,wed 16:00-18:00"]), None, &[]).unwrap()
}

/// A Europe/Rome civil time, e.g. "2026-11-24T12:59".
fn at(local: &str) -> Timestamp {
    format!("{local}[Europe/Rome]").parse::<Zoned>().unwrap().timestamp()
}

fn next(s: &Schedule, local: &str) -> String {
    s.next_open(at(local)).unwrap().strftime("%a %F %H:%M %:z").to_string()
}

fn due(s: &Schedule, local: &str, n: u32) -> String {
    s.deadline(at(local), n).strftime("%a %F %H:%M %:z").to_string()
}

#[test]
fn lunch_break_edges_isili() {
    let s = isili();
    // Tuesday 24 November 2026: open at 12:59, closed at 13:01, reopens at 15:00.
    assert!(s.is_open(at("2026-11-24T12:59")));
    assert!(!s.is_open(at("2026-11-24T13:01")));
    assert_eq!(next(&s, "2026-11-24T13:01"), "Tue 2026-11-24 15:00 +01:00");
    // Monday: no afternoon slot, next opening Tuesday 09:00.
    assert!(s.is_open(at("2026-11-23T12:59")));
    assert_eq!(next(&s, "2026-11-23T13:01"), "Tue 2026-11-24 09:00 +01:00");
    // Open now: next_open is now.
    assert_eq!(next(&s, "2026-11-24T10:15"), "Tue 2026-11-24 10:15 +01:00");
}

#[test]
fn lunch_break_edges_assemini() {
    let s = assemini();
    assert_eq!(next(&s, "2026-11-23T13:01"), "Mon 2026-11-23 16:00 +01:00");
    assert_eq!(next(&s, "2026-11-24T13:01"), "Wed 2026-11-25 08:30 +01:00");
    assert_eq!(next(&s, "2026-11-27T18:30"), "Mon 2026-11-30 08:30 +01:00");
}

#[test]
fn dst_spring_forward_last_sunday_of_march() {
    // 29 March 2026: clocks go from 02:00 CET to 03:00 CEST.
    let s = assemini();
    assert_eq!(next(&s, "2026-03-27T14:00"), "Mon 2026-03-30 08:30 +02:00");
    assert!(s.is_open(at("2026-03-27T08:30")));
    assert!(s.is_open(at("2026-03-30T08:30")));
    assert!(!s.is_open(at("2026-03-30T08:29")));
    // Friday 08:30 CET is 07:30 UTC, Monday 08:30 CEST is 06:30 UTC.
    assert_eq!(at("2026-03-27T08:30").to_string(), "2026-03-27T07:30:00Z");
    assert_eq!(
        s.next_open(at("2026-03-28T12:00")).unwrap().timestamp().to_string(),
        "2026-03-30T06:30:00Z"
    );
}

#[test]
fn dst_fall_back_last_sunday_of_october() {
    // 25 October 2026: clocks go from 03:00 CEST back to 02:00 CET.
    let s = assemini();
    assert_eq!(next(&s, "2026-10-23T14:00"), "Mon 2026-10-26 08:30 +01:00");
    assert!(s.is_open(at("2026-10-23T08:30")));
    assert!(s.is_open(at("2026-10-26T08:30")));
    assert_eq!(
        s.next_open(at("2026-10-24T12:00")).unwrap().timestamp().to_string(),
        "2026-10-26T07:30:00Z"
    );
    // A deadline across the change keeps local wall time.
    assert_eq!(due(&s, "2026-10-23T19:00", 2), "Tue 2026-10-27 13:00 +01:00");
}

#[test]
fn national_holidays_close_the_office() {
    let s = isili();
    // Easter Monday 2026 is 6 April, 2027 is 29 March.
    assert!(national_holidays(2026).contains(&date(2026, 4, 6)));
    assert!(national_holidays(2027).contains(&date(2027, 3, 29)));
    assert!(!s.is_open(at("2026-04-06T10:00")));
    assert_eq!(next(&s, "2026-04-03T14:00"), "Tue 2026-04-07 09:00 +02:00");
    assert!(!s.is_working_day(date(2027, 3, 29)));
    // 8 December 2026 (Tuesday) and 4 October 2027 (Monday, San Francesco from 2026).
    assert_eq!(next(&s, "2026-12-07T13:30"), "Wed 2026-12-09 09:00 +01:00");
    assert_eq!(next(&s, "2027-10-01T13:30"), "Tue 2027-10-05 09:00 +02:00");
}

#[test]
fn patron_day_and_closures() {
    // Patron on 30 November (a Monday in 2026), a closure on Tuesday 1 December.
    let mut s = Schedule::parse(
        &strings(&["mon-fri 08:30-13:00", "mon,wed 16:00-18:00"]),
        Some("11-30"),
        &strings(&["2026-12-01"]),
    )
    .unwrap();
    assert!(!s.is_open(at("2026-11-30T09:00")));
    assert!(!s.is_working_day(date(2026, 11, 30)));
    assert!(!s.is_working_day(date(2027, 11, 30)));
    assert_eq!(next(&s, "2026-11-27T18:30"), "Wed 2026-12-02 08:30 +01:00");
    s.add_closure(date(2026, 12, 2));
    assert_eq!(next(&s, "2026-11-27T18:30"), "Thu 2026-12-03 08:30 +01:00");
    assert_eq!(due(&s, "2026-11-27T19:00", 2), "Fri 2026-12-04 13:00 +01:00");
}

#[test]
fn friday_evening_deadline_is_tuesday() {
    // Assemini answers within two working days; the day of the question never counts.
    let s = assemini();
    assert_eq!(due(&s, "2026-11-27T19:00", 2), "Tue 2026-12-01 13:00 +01:00");
    // Saturday and Sunday: counting starts on Monday, so Tuesday as well.
    assert_eq!(due(&s, "2026-11-28T10:00", 2), "Tue 2026-12-01 13:00 +01:00");
    assert_eq!(due(&s, "2026-11-29T23:59", 2), "Tue 2026-12-01 13:00 +01:00");
    // Monday morning: Wednesday, at the end of Wednesday's afternoon slot.
    assert_eq!(due(&s, "2026-11-23T09:00", 2), "Wed 2026-11-25 18:00 +01:00");
    // Isili's Tuesday closes at 18:00.
    assert_eq!(due(&isili(), "2026-11-27T19:00", 2), "Tue 2026-12-01 18:00 +01:00");
    // Across 8 December (Tuesday): Friday 4 → Monday 7, Wednesday 9.
    assert_eq!(due(&s, "2026-12-04T17:00", 2), "Wed 2026-12-09 18:00 +01:00");
    // Christmas week: Thursday 24 → Monday 28 (25, 26, 27 are off), Tuesday 29.
    assert_eq!(due(&s, "2026-12-24T11:00", 2), "Tue 2026-12-29 13:00 +01:00");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// next_open is never in the past, is open, and nothing before it (on the minute) is.
    #[test]
    fn next_open_is_open_and_not_early(secs in 1_700_000_000i64..1_900_000_000i64) {
        let s = assemini();
        let now = Timestamp::from_second(secs).unwrap();
        let z = s.next_open(now).unwrap();
        prop_assert!(z.timestamp() >= now);
        prop_assert!(s.is_open(z.timestamp()));
        if z.timestamp() > now {
            let just_before = z.timestamp() - jiff::SignedDuration::from_secs(60);
            prop_assert!(just_before < now || !s.is_open(just_before));
        }
    }

    /// A deadline is on a working day, strictly after the day of the question.
    #[test]
    fn deadline_on_a_later_working_day(secs in 1_700_000_000i64..1_900_000_000i64, n in 1u32..15) {
        let s = isili();
        let from = Timestamp::from_second(secs).unwrap();
        let d = s.deadline(from, n);
        prop_assert!(s.is_working_day(d.date()));
        prop_assert!(d.date() > from.to_zoned(s.time_zone().clone()).date());
    }
}
