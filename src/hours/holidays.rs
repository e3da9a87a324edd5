//! Italian national public holidays and the date of Easter. Pure calendar arithmetic:
//! no time zones, no schedule, no comune-specific days (the patron's day lives in
//! `Schedule`).

use jiff::civil::Date;

/// Earliest year whose national holidays include 4 October (see `national_holidays`).
const SAN_FRANCESCO_FROM: i16 = 2026;

/// Easter Sunday of `year` in the Gregorian calendar (anonymous Gregorian algorithm,
/// a.k.a. Meeus/Jones/Butcher). Years outside jiff's range (-9999..=9999) are clamped
/// to it; the algorithm is proleptic before 1583.
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year.clamp(-9999, 9999));
    // Euclidean division keeps the arithmetic right for negative (proleptic) years.
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // month is 3 or 4 and day 1..=31 by construction; the fallback is never taken.
    Date::new(y as i16, month as i8, day as i8).unwrap_or(Date::MIN)
}

/// Italian national public holidays of `year`, sorted: 1 and 6 January, Easter Monday,
/// 25 April, 1 May, 2 June, 15 August, 4 October (from 2026), 1 November, 8 and 25 and
/// 26 December. Easter Sunday is not listed: it is a Sunday, never a working day.
/// Years outside jiff's range give an empty list.
pub fn national_holidays(year: i16) -> Vec<Date> {
    let fixed: &[(i8, i8)] = &[
        (1, 1),
        (1, 6),
        (4, 25),
        (5, 1),
        (6, 2),
        (8, 15),
        (11, 1),
        (12, 8),
        (12, 25),
        (12, 26),
    ];
    let mut days: Vec<Date> = fixed.iter().filter_map(|&(m, d)| Date::new(year, m, d).ok()).collect();
    if days.is_empty() {
        return days;
    }
    // 4 October (San Francesco d'Assisi and Santa Caterina da Siena, patrons of Italy)
    // is a national holiday again from 2026: legge 10 ottobre 2025, n. 151, amending
    // legge 27 maggio 1949, n. 260.
    if year >= SAN_FRANCESCO_FROM {
        days.extend(Date::new(year, 10, 4).ok());
    }
    if let Ok(monday) = easter_sunday(year).tomorrow() {
        days.push(monday);
    }
    days.sort();
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn easter_known_years() {
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2025), date(2025, 4, 20));
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2027), date(2027, 3, 28));
        assert_eq!(easter_sunday(2038), date(2038, 4, 25));
        assert_eq!(easter_sunday(2285), date(2285, 3, 22));
    }

    #[test]
    fn easter_monday_is_listed() {
        assert!(national_holidays(2026).contains(&date(2026, 4, 6)));
        assert!(national_holidays(2027).contains(&date(2027, 3, 29)));
    }

    #[test]
    fn san_francesco_from_2026() {
        assert!(!national_holidays(2025).contains(&date(2025, 10, 4)));
        assert!(national_holidays(2026).contains(&date(2026, 10, 4)));
        assert_eq!(national_holidays(2025).len(), 11);
        assert_eq!(national_holidays(2026).len(), 12);
    }

    #[test]
    fn never_panics_on_extreme_years() {
        for y in [i16::MIN, -10000, -9999, 0, 1, 9999, 10000, i16::MAX] {
            let _ = easter_sunday(y);
            let days = national_holidays(y);
            assert!(days.windows(2).all(|w| w[0] < w[1]));
        }
        assert!(national_holidays(i16::MAX).is_empty());
    }
}
