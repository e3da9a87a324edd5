//! TEMPORARY stub of the hours API (replaced by the `hours` branch).
#![allow(dead_code, unused_variables)]
#[derive(Debug, thiserror::Error)]
pub enum HoursError { #[error("bad slot {0:?}")] Bad(String) }
#[derive(Debug, Clone)]
pub struct Schedule;
impl Schedule {
    pub fn parse(slots: &[String], patron: Option<&str>, closures: &[String]) -> Result<Schedule, HoursError> {
        for s in slots { if s.split_whitespace().count() != 2 { return Err(HoursError::Bad(s.clone())) } }
        Ok(Schedule)
    }
    pub fn is_open(&self, now: jiff::Timestamp) -> bool { true }
    pub fn next_open(&self, now: jiff::Timestamp) -> Option<jiff::Zoned> { None }
    pub fn deadline(&self, from: jiff::Timestamp, working_days: u32) -> jiff::Zoned { from.to_zoned(jiff::tz::TimeZone::UTC) }
}
