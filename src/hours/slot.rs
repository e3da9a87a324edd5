//! One opening slot ("mon-fri 09:00-13:00"): parsing and rendering back to the same
//! compact notation. Owns the day-name and time syntax; knows nothing about holidays,
//! time zones or the clock.

use jiff::civil::{Time, Weekday};

use super::HoursError;

/// Day names in Monday-zero order, as written in flow files.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One weekly opening window: the office is open on `days` from `start` (inclusive) to
/// `end` (exclusive), in local civil time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Monday-zero: `days[0]` is Monday.
    pub(crate) days: [bool; 7],
    pub(crate) start: Time,
    pub(crate) end: Time,
}

impl Slot {
    /// Parses `"DAYS HH:MM-HH:MM"`; days are names, `a-b` ranges (wrapping allowed:
    /// `fri-mon`) and `,` lists. Case and extra spaces are ignored.
    pub(crate) fn parse(slot: &str) -> Result<Slot, HoursError> {
        let shape = || HoursError::SlotShape { slot: slot.to_string() };
        let mut parts = slot.split_whitespace();
        let (Some(days), Some(range), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(shape());
        };
        let days = parse_days(&days.to_ascii_lowercase(), slot)?;
        let (start, end) = range.split_once('-').ok_or_else(shape)?;
        let start = parse_time(start, slot)?;
        let end = parse_time(end, slot)?;
        if start >= end {
            return Err(HoursError::BadRange {
                range: range.to_string(),
                slot: slot.to_string(),
            });
        }
        Ok(Slot { days, start, end })
    }

    /// Whether the slot applies on this weekday.
    pub(crate) fn on(&self, weekday: Weekday) -> bool {
        // to_monday_zero_offset is always 0..=6.
        self.days[weekday.to_monday_zero_offset() as usize]
    }

    /// The days in compact notation: runs of three or more days as a range
    /// (`mon-fri`), shorter runs as a list (`tue,thu`, `sat,sun`).
    pub(crate) fn describe_days(&self) -> String {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < 7 {
            if !self.days[i] {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < 7 && self.days[i + 1] {
                i += 1;
            }
            if i - first >= 2 {
                parts.push(format!("{}-{}", DAY_NAMES[first], DAY_NAMES[i]));
            } else {
                parts.extend((first..=i).map(|d| DAY_NAMES[d].to_string()));
            }
            i += 1;
        }
        parts.join(",")
    }

    /// The window as `HH:MM-HH:MM`.
    pub(crate) fn describe_times(&self) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

fn day_index(name: &str, slot: &str) -> Result<usize, HoursError> {
    DAY_NAMES
        .iter()
        .position(|d| *d == name)
        .ok_or_else(|| HoursError::UnknownDay {
            day: name.to_string(),
            slot: slot.to_string(),
        })
}

fn parse_days(spec: &str, slot: &str) -> Result<[bool; 7], HoursError> {
    let mut days = [false; 7];
    for item in spec.split(',') {
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a, slot)?, day_index(b, slot)?);
                // Walk forward from a to b, wrapping past Sunday (fri-mon).
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day_index(item, slot)?] = true,
        }
    }
    Ok(days)
}

/// `H:MM` or `HH:MM`, 00:00 to 23:59.
fn parse_time(text: &str, slot: &str) -> Result<Time, HoursError> {
    let bad = || HoursError::BadTime {
        time: text.to_string(),
        slot: slot.to_string(),
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_lists() {
        let s = Slot::parse("mon-fri 09:00-13:00").unwrap();
        assert_eq!(s.days, [true, true, true, true, true, false, false]);
        assert_eq!(s.describe_days(), "mon-fri");
        assert_eq!(s.describe_times(), "09:00-13:00");
        let s = Slot::parse("  TUE,Thu   15:00-18:00 ").unwrap();
        assert_eq!(s.describe_days(), "tue,thu");
        let s = Slot::parse("fri-mon 8:30-12:00").unwrap();
        assert_eq!(s.describe_days(), "mon,fri-sun");
        assert_eq!(s.describe_times(), "08:30-12:00");
    }

    #[test]
    fn rejects_with_readable_reasons() {
        let e = Slot::parse("mon-fri 13:00-09:00").unwrap_err();
        assert_eq!(e.to_string(), "bad time range 13:00-09:00 in \"mon-fri 13:00-09:00\"");
        let e = Slot::parse("lun-ven 09:00-13:00").unwrap_err();
        assert!(e.to_string().contains("unknown day \"lun\""), "{e}");
        for bad in [
            "mon 9-13",
            "mon 09:60-10:00",
            "mon 24:00-25:00",
            "",
            "mon",
            "mon 09:00",
            "mon 09:00-10:00 x",
            "mon 09:00-09:00",
            "mon,,tue 09:00-10:00",
        ] {
            assert!(Slot::parse(bad).is_err(), "{bad:?} should fail");
        }
    }
}
