//! Office hours, holidays and working-day deadlines (issue 7).
//!
//! Owns a comune's opening schedule in Europe/Rome: which days are working days, when
//! the office is open, the next opening, and the deadline N working days after a
//! question. Pure: the clock is always passed in, nothing is read from the system, and
//! no citizen-facing word is produced here (the Fluent files render `describe_slots`).
//!
//! - `slot`: the "mon-fri 09:00-13:00" notation.
//! - `holidays`: Easter and the Italian national holidays.
//! - `clock`: `is_open`, `next_open`, `deadline`.

mod clock;
mod holidays;
mod slot;

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

pub use holidays::{easter_sunday, national_holidays};

/// A moment as staff read it, in the console and at the terminal: Europe/Rome, day first
/// (`06/12/2026 20:33`).
pub fn shown(at: jiff::Timestamp) -> String {
    match at.in_tz("Europe/Rome") {
        Ok(zoned) => zoned.strftime("%d/%m/%Y %H:%M").to_string(),
        Err(_) => at.to_string(),
    }
}
use slot::Slot;

/// The time zone every comune lives in.
pub const TIME_ZONE: &str = "Europe/Rome";

/// Why a schedule could not be read. Messages quote the offending text so an
/// administrator can find it in the flow file.
#[derive(Debug, thiserror::Error)]
pub enum HoursError {
    /// A slot is not `DAYS HH:MM-HH:MM`.
    #[error("bad slot {slot:?}: expected \"DAYS HH:MM-HH:MM\", e.g. \"mon-fri 09:00-13:00\"")]
    SlotShape { slot: String },
    /// A day name is not one of mon tue wed thu fri sat sun.
    #[error("unknown day {day:?} in {slot:?} (use mon tue wed thu fri sat sun)")]
    UnknownDay { day: String, slot: String },
    /// A time is not `HH:MM` between 00:00 and 23:59.
    #[error("bad time {time:?} in {slot:?}: expected HH:MM")]
    BadTime { time: String, slot: String },
    /// The slot ends at or before it starts.
    #[error("bad time range {range} in {slot:?}")]
    BadRange { range: String, slot: String },
    /// The patron's day is not a valid `MM-DD`.
    #[error("bad patron day {0:?}: expected MM-DD, e.g. \"09-29\"")]
    BadPatron(String),
    /// A closure is not a valid `YYYY-MM-DD`.
    #[error("bad closure date {0:?}: expected YYYY-MM-DD")]
    BadClosure(String),
    /// The bundled time zone database lacks Europe/Rome (a build problem).
    #[error("time zone {TIME_ZONE} unavailable: {0}")]
    TimeZone(String),
}

/// A comune's opening schedule in Europe/Rome.
#[derive(Debug, Clone)]
pub struct Schedule {
    slots: Vec<Slot>,
    /// Month and day of the patron saint's feast, closed every year.
    patron: Option<(i8, i8)>,
    closures: BTreeSet<Date>,
    tz: TimeZone,
}

impl Schedule {
    /// Reads a schedule. `slots`: e.g. `["mon-fri 09:00-13:00", "tue,thu 15:00-18:00"]`
    /// (Isili) or `["mon-fri 08:30-13:00", "mon,wed 16:00-18:00"]` (Assemini). Day names
    /// mon..sun, ranges with `-` (wrapping allowed), lists with `,`; times `HH:MM`,
    /// start before end. `patron`: the patron saint's day `MM-DD` (`02-29` only closes
    /// in leap years). `closures`: one-off closed days `YYYY-MM-DD`.
    pub fn parse(slots: &[String], patron: Option<&str>, closures: &[String]) -> Result<Schedule, HoursError> {
        let slots = slots.iter().map(|s| Slot::parse(s)).collect::<Result<Vec<_>, _>>()?;
        let patron = patron.map(parse_patron).transpose()?;
        let closures = closures
            .iter()
            .map(|c| c.trim().parse::<Date>().map_err(|_| HoursError::BadClosure(c.clone())))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let tz = TimeZone::get(TIME_ZONE).map_err(|e| HoursError::TimeZone(e.to_string()))?;
        Ok(Schedule {
            slots,
            patron,
            closures,
            tz,
        })
    }

    /// Adds a one-off closed day (e.g. an extraordinary closure decided by the Giunta).
    pub fn add_closure(&mut self, day: Date) {
        self.closures.insert(day);
    }

    /// Opens a day after all (an operator removed a closure of the flow file).
    pub fn remove_closure(&mut self, day: Date) {
        self.closures.remove(&day);
    }

    /// The one-off closures, in date order.
    pub fn closures(&self) -> impl Iterator<Item = Date> + '_ {
        self.closures.iter().copied()
    }

    /// Is this civil date a working day: Monday to Friday, not a national holiday, not
    /// the patron's day, not a closure? Independent of the slots: a weekday with no
    /// opening hours is still a working day for deadlines.
    pub fn is_working_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_closed_day(day)
    }

    /// The slots in their compact notation, in the order given, for citizen-facing text:
    /// `[("mon-fri", "09:00-13:00"), ("tue,thu", "15:00-18:00")]`. The Fluent files turn
    /// day codes into words.
    pub fn describe_slots(&self) -> Vec<(String, String)> {
        self.slots
            .iter()
            .map(|s| (s.describe_days(), s.describe_times()))
            .collect()
    }

    /// The time zone of the schedule (Europe/Rome).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// A holiday, the patron's day or a closure: the office stays shut whatever the slots
    /// say, weekends included.
    fn is_closed_day(&self, day: Date) -> bool {
        self.closures.contains(&day)
            || self.patron == Some((day.month(), day.day()))
            || national_holidays(day.year()).contains(&day)
    }
}

fn parse_patron(text: &str) -> Result<(i8, i8), HoursError> {
    let bad = || HoursError::BadPatron(text.to_string());
    let (m, d) = text.trim().split_once('-').ok_or_else(bad)?;
    if m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let m: i8 = m.parse().map_err(|_| bad())?;
    let d: i8 = d.parse().map_err(|_| bad())?;
    // Validate against a leap year so that 02-29 is accepted.
    Date::new(2024, m, d).map_err(|_| bad())?;
    Ok((m, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn working_days() {
        // A patron on 20 January, which falls on a Wednesday in 2027.
        let mut s = Schedule::parse(
            &strings(&["mon-fri 09:00-13:00"]),
            Some("01-20"),
            &strings(&["2026-12-24"]),
        )
        .unwrap();
        assert!(s.is_working_day(date(2026, 11, 23))); // Monday
        assert!(!s.is_working_day(date(2026, 11, 21))); // Saturday
        assert!(!s.is_working_day(date(2026, 11, 22))); // Sunday
        assert!(!s.is_working_day(date(2026, 4, 6))); // Easter Monday
        assert!(!s.is_working_day(date(2027, 1, 20))); // patron, a Wednesday
        assert!(!s.is_working_day(date(2026, 12, 24))); // closure
        assert!(s.is_working_day(date(2026, 12, 23)));
        s.add_closure(date(2026, 12, 23));
        assert!(!s.is_working_day(date(2026, 12, 23)));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            Schedule::parse(&[], Some("13-01"), &[]),
            Err(HoursError::BadPatron(_))
        ));
        assert!(matches!(
            Schedule::parse(&[], Some("2-29"), &[]),
            Err(HoursError::BadPatron(_))
        ));
        assert!(Schedule::parse(&[], Some("02-29"), &[]).is_ok());
        assert!(matches!(
            Schedule::parse(&[], None, &strings(&["2026-02-30"])),
            Err(HoursError::BadClosure(_))
        ));
        let e = Schedule::parse(&strings(&["mon-fri 13:00-09:00"]), None, &[]).unwrap_err();
        assert_eq!(e.to_string(), "bad time range 13:00-09:00 in \"mon-fri 13:00-09:00\"");
    }

    #[test]
    fn describes_slots() {
        let s = Schedule::parse(&strings(&["mon-fri 08:30-13:00", "mon,wed 16:00-18:00"]), None, &[]).unwrap();
        assert_eq!(
            s.describe_slots(),
            vec![
                ("mon-fri".into(), "08:30-13:00".into()),
                ("mon,wed".into(), "16:00-18:00".into())
            ]
        );
    }
}
