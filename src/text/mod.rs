//! TEMPORARY stub of the text API (replaced by the `text` branch).
#![allow(dead_code, unused_variables)]
use jiff::civil::Date;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token { pub norm: String, pub start: usize, pub end: usize }
pub fn tokens(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() { if start.is_none() { start = Some(i) } }
        else if let Some(st) = start.take() { out.push(Token { norm: s[st..i].to_lowercase(), start: st, end: i }) }
    }
    if let Some(st) = start { out.push(Token { norm: s[st..].to_lowercase(), start: st, end: s.len() }) }
    out
}
pub fn normalize(s: &str) -> String { tokens(s).into_iter().map(|t| t.norm).collect::<Vec<_>>().join(" ") }

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position { Whole, Prefix, Inside }
#[derive(Debug, Clone, PartialEq)]
pub struct Match<A> { pub action: A, pub lang: String, pub phrase: String, pub position: Position, pub edits: usize, pub span: Range<usize> }
#[derive(Debug, Clone, PartialEq)]
pub enum Found<A> { None, One(Match<A>), Ambiguous(Match<A>, Match<A>) }
pub struct KeywordSet<A> { entries: Vec<(A, String, String, String, bool)> }
impl<A: Clone + PartialEq> Default for KeywordSet<A> { fn default() -> Self { Self::new() } }
impl<A: Clone + PartialEq> KeywordSet<A> {
    pub fn new() -> Self { Self { entries: Vec::new() } }
    pub fn add(&mut self, action: A, lang: &str, phrase: &str, prefix: bool) {
        self.entries.push((action, lang.into(), phrase.into(), normalize(phrase).replace(' ', ""), prefix));
    }
    pub fn find(&self, text: &str) -> Found<A> {
        let t = tokens(text);
        let all: String = t.iter().map(|x| x.norm.as_str()).collect();
        for (a, l, p, n, prefix) in &self.entries {
            if &all == n || (*prefix && all.starts_with(n.as_str())) {
                let end = t.iter().scan(String::new(), |acc, x| { acc.push_str(&x.norm); Some((acc.len(), x.end)) }).find(|(len, _)| *len >= n.len()).map(|x| x.1).unwrap_or(text.len());
                return Found::One(Match { action: a.clone(), lang: l.clone(), phrase: p.clone(), position: if &all == n { Position::Whole } else { Position::Prefix }, edits: 0, span: t.first().map(|x| x.start).unwrap_or(0)..end });
            }
        }
        Found::None
    }
    pub fn conflicts(&self) -> Vec<(A, String, A, String)> {
        let mut v = Vec::new();
        for (i, a) in self.entries.iter().enumerate() { for b in &self.entries[i + 1..] { if a.0 != b.0 && a.3 == b.3 { v.push((a.0.clone(), a.2.clone(), b.0.clone(), b.2.clone())) } } }
        v
    }
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError { #[error("no such day")] Impossible, #[error("unreadable date")] Unreadable }
pub struct FoundDate { pub span: Range<usize>, pub date: Result<Date, DateError> }
pub fn find_date(text: &str, today: Date) -> Option<FoundDate> { None }
pub fn parse_date(text: &str, today: Date) -> Result<Date, DateError> {
    let p: Vec<&str> = text.trim().split('/').collect();
    if p.len() != 3 { return Err(DateError::Unreadable) }
    let (d, m, y) = (p[0].parse().map_err(|_| DateError::Unreadable)?, p[1].parse().map_err(|_| DateError::Unreadable)?, p[2].parse().map_err(|_| DateError::Unreadable)?);
    Date::new(y, m, d).map_err(|_| DateError::Impossible)
}
pub fn age_on(birth: Date, today: Date) -> i16 { let mut a = today.year() - birth.year(); if (today.month(), today.day()) < (birth.month(), birth.day()) { a -= 1 } a }
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneShot { pub full_name: Option<String>, pub birth_place: Option<String>, pub birth_date: Option<Result<Date, DateError>>, pub consents: Vec<String> }
pub fn parse_one_shot(rest: &str, consents: &[(String, Vec<String>)], today: Date) -> OneShot { OneShot::default() }
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError { #[error("empty")] Empty, #[error("digits")] Numeric, #[error("too long")] TooLong, #[error("not a name")] Invalid }
pub fn check_person_name(s: &str) -> Result<String, NameError> { let s = s.trim(); if s.is_empty() { Err(NameError::Empty) } else if s.chars().any(|c| c.is_ascii_digit()) { Err(NameError::Numeric) } else { Ok(s.to_string()) } }
pub fn check_place(s: &str) -> Result<String, NameError> { check_person_name(s) }
