//! The schedule against a clock: is the office open, when does it next open, and when is
//! a working-day deadline. Every instant comes in as an argument; nothing here reads the
//! system clock. All civil arithmetic happens in Europe/Rome, so an 08:30 slot is 08:30
//! local on both sides of a daylight-saving change.

use jiff::civil::{Date, Time};
use jiff::{Timestamp, Zoned};

use super::Schedule;

/// How far ahead `next_open` looks before giving up (closures can, in theory, cover
/// every slot for a long time; two years is beyond any real closure).
const SEARCH_DAYS: u32 = 2 * 366;

/// Larger deadlines are clamped to this many working days (about 40 years), so that an
/// absurd argument costs milliseconds rather than minutes.
pub const MAX_WORKING_DAYS: u32 = 10_000;

/// Closing time assumed on a working day with no slot (e.g. a schedule without slots).
const DEFAULT_CLOSE: Time = Time::constant(18, 0, 0, 0);

impl Schedule {
    /// Is the office open at `now`? Slots are half-open: a 09:00-13:00 slot is open at
    /// 12:59:59 and closed at 13:00. Holidays, the patron's day and closures shut the
    /// office even if a slot covers them.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let local = now.to_zoned(self.tz.clone());
        let (day, time) = (local.date(), local.time());
        !self.is_closed_day(day)
            && self
                .slots
                .iter()
                .any(|s| s.on(day.weekday()) && s.start <= time && time < s.end)
    }

    /// The next moment the office opens at or after `now` (`now` itself if open), in
    /// Europe/Rome. `None` if the schedule has no slots, or if closures keep it shut for
    /// the next two years.
    pub fn next_open(&self, now: Timestamp) -> Option<Zoned> {
        if self.slots.is_empty() {
            return None;
        }
        if self.is_open(now) {
            return Some(now.to_zoned(self.tz.clone()));
        }
        let mut day = now.to_zoned(self.tz.clone()).date();
        for _ in 0..SEARCH_DAYS {
            if !self.is_closed_day(day) {
                let first = self
                    .slots
                    .iter()
                    .filter(|s| s.on(day.weekday()))
                    // A start inside a spring-forward gap resolves to the later wall time.
                    .filter_map(|s| self.tz.to_zoned(day.to_datetime(s.start)).ok())
                    .filter(|z| z.timestamp() >= now)
                    .min_by_key(|z| z.timestamp());
                if first.is_some() {
                    return first;
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The deadline `working_days` working days after `from`.
    ///
    /// Counting rule (as for legal terms, *dies a quo non computatur*): the day of `from`
    /// never counts, whatever the hour; the deadline falls on the N-th working day
    /// strictly after it. So with N = 2 a question on Friday evening, on Saturday or on
    /// Sunday is due on Tuesday; one on Monday morning is due on Wednesday.
    ///
    /// Time of day: the end of the office's last slot on that day (Isili's Tuesday:
    /// 18:00, its Monday: 13:00), or 18:00 local when no slot falls on that weekday, so a
    /// deadline is always the close of a business day.
    ///
    /// N = 0 means "by the close of the current working day": the day of `from` if it is
    /// a working day whose close is not yet past, otherwise the next working day.
    /// N above [`MAX_WORKING_DAYS`] is clamped. Near the end of the calendar (year 9999)
    /// the result saturates rather than panicking.
    pub fn deadline(&self, from: Timestamp, working_days: u32) -> Zoned {
        let from_local = from.to_zoned(self.tz.clone());
        let mut day = from_local.date();
        if working_days == 0 {
            if !self.is_working_day(day) || self.close_of(day).is_none_or(|c| c.timestamp() < from) {
                day = self.next_working_day(day);
            }
        } else {
            for _ in 0..working_days.min(MAX_WORKING_DAYS) {
                day = self.next_working_day(day);
            }
        }
        self.close_of(day).unwrap_or(from_local)
    }

    /// The first working day strictly after `day` (or the last representable date).
    fn next_working_day(&self, mut day: Date) -> Date {
        while let Ok(next) = day.tomorrow() {
            day = next;
            if self.is_working_day(day) {
                break;
            }
        }
        day
    }

    /// The end of the last slot on `day`, or 18:00 if no slot falls on its weekday.
    fn close_of(&self, day: Date) -> Option<Zoned> {
        let close = self
            .slots
            .iter()
            .filter(|s| s.on(day.weekday()))
            .map(|s| s.end)
            .max()
            .unwrap_or(DEFAULT_CLOSE);
        self.tz.to_zoned(day.to_datetime(close)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isili() -> Schedule {
        Schedule::parse(&["mon-fri 09:00-13:00".into(), "tue,thu 15:00-18:00".into()], None, &[]).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        format!("{s}[Europe/Rome]").parse::<Zoned>().unwrap().timestamp()
    }

    #[test]
    fn half_open_slots() {
        let s = isili();
        assert!(s.is_open(at("2026-11-24T09:00")));
        assert!(s.is_open(at("2026-11-24T12:59:59")));
        assert!(!s.is_open(at("2026-11-24T13:00")));
        assert!(!s.is_open(at("2026-11-24T08:59:59")));
    }

    #[test]
    fn no_slots_never_opens_and_closes_at_18() {
        let s = Schedule::parse(&[], None, &[]).unwrap();
        assert!(!s.is_open(at("2026-11-24T10:00")));
        assert_eq!(s.next_open(at("2026-11-24T10:00")), None);
        assert_eq!(
            s.deadline(at("2026-11-24T10:00"), 1).to_string(),
            "2026-11-25T18:00:00+01:00[Europe/Rome]"
        );
    }

    #[test]
    fn zero_working_days() {
        let s = isili();
        // Monday before closing: today at 13:00.
        assert_eq!(
            s.deadline(at("2026-11-23T10:00"), 0).to_string(),
            "2026-11-23T13:00:00+01:00[Europe/Rome]"
        );
        // Monday after closing, and Saturday: the next working day's close.
        assert_eq!(
            s.deadline(at("2026-11-23T14:00"), 0).to_string(),
            "2026-11-24T18:00:00+01:00[Europe/Rome]"
        );
        assert_eq!(
            s.deadline(at("2026-11-28T10:00"), 0).to_string(),
            "2026-11-30T13:00:00+01:00[Europe/Rome]"
        );
    }

    #[test]
    fn closures_for_years_give_none_not_a_hang() {
        let mut s = Schedule::parse(&["sat 09:00-10:00".into()], None, &[]).unwrap();
        let mut d = jiff::civil::date(2026, 11, 23);
        for _ in 0..800 {
            s.add_closure(d);
            d = d.tomorrow().unwrap();
        }
        assert_eq!(s.next_open(at("2026-11-23T10:00")), None);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let s = isili();
        let _ = s.deadline(Timestamp::MAX, u32::MAX);
        let _ = s.deadline(Timestamp::MIN, u32::MAX);
        let _ = s.next_open(Timestamp::MAX);
        let _ = s.is_open(Timestamp::MIN);
        let far = s.deadline(at("2026-11-23T10:00"), u32::MAX);
        assert!(far.year() > 2060);
    }
}
