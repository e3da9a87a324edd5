//! Normalisation and tolerant matching of what citizens type.
//!
//! Pure text functions, no I/O and no state: splitting a message into normalized words
//! ([`normalize`]), edit distance ([`distance`]), keyword phrases ([`keyword`]), dates as
//! Italians and French write them ([`date`]) and Isili's one-shot registration line
//! ([`registration`]). Every function here takes citizen text, any Unicode of any size,
//! and must never panic on it. [`intent`] turns a message into what it asks for.

pub mod date;
pub mod distance;
pub mod intent;
pub mod keyword;
pub mod normalize;
pub mod registration;
mod window;

pub use date::{age_on, find_date, parse_date, DateError, FoundDate};
pub use distance::{bounded_distance, osa_distance, within};
pub use intent::{understand, Confidence, Intent, Polarity, Sense, Understanding};
pub use keyword::{Found, KeywordSet, Match, Position};
pub use normalize::{normalize, tokens, Token};
pub use registration::{check_person_name, check_place, parse_one_shot, NameError, OneShot};

#[cfg(test)]
mod props;
