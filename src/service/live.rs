//! What the engine answers with right now: the flows and FAQs loaded from the data files
//! with the operators' console changes (FAQ edits, closures) overlaid. Built on first use
//! and rebuilt for one comune after every edit, then swapped in whole, so a step never sees
//! half an edit and the files are never rewritten.
//!
//! Owns the overlay rules (pure functions, tested below). Must not render or decide what a
//! citizen is told: `step` receives the current flow and FAQ like any other value.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::Date;

use super::runner::Engine;
use crate::faq::{Entry, Faq, FaqError};
use crate::flow::Flow;
use crate::hours::Schedule;
use crate::storage::{ClosureEdit, FaqEdit, StoreError};

/// Every comune's current flow and FAQ.
#[derive(Default)]
pub struct Live {
    flows: BTreeMap<String, Arc<Flow>>,
    faqs: BTreeMap<String, Arc<Faq>>,
}

/// The file's entries with the edits applied in order: an edit replaces the entry of the
/// same id and language in place, adds it at the end when new, or removes it (`None`).
pub fn overlay_entries(base: &[Entry], edits: &[FaqEdit]) -> Vec<Entry> {
    let mut entries = base.to_vec();
    for edit in edits {
        let at = entries.iter().position(|e| e.id == edit.id && e.lang == edit.lang);
        match (&edit.entry, at) {
            (Some(new), Some(i)) => entries[i] = new.clone(),
            (Some(new), None) => entries.push(new.clone()),
            (None, Some(i)) => {
                entries.remove(i);
            }
            (None, None) => {}
        }
    }
    entries
}

/// The FAQ with the edits applied; `None` when there is neither a file nor an edit.
pub fn overlay_faq(base: Option<&Faq>, edits: &[FaqEdit]) -> Result<Option<Faq>, FaqError> {
    if edits.is_empty() {
        return Ok(base.cloned());
    }
    let entries = overlay_entries(base.map(Faq::entries).unwrap_or_default(), edits);
    match base {
        Some(faq) => faq.with_entries(entries).map(Some),
        None => Faq::from_entries(entries).map(Some),
    }
}

/// The schedule with the closure decisions applied (added days shut, removed days open).
pub fn overlay_closures(schedule: &Schedule, edits: &[ClosureEdit]) -> Schedule {
    let mut s = schedule.clone();
    for edit in edits {
        let Ok(day) = edit.date.parse::<Date>() else { continue };
        if edit.removed {
            s.remove_closure(day);
        } else {
            s.add_closure(day);
        }
    }
    s
}

impl Engine {
    /// The current data, built from the files and the store on first use.
    pub fn live(&self) -> Result<Arc<Live>, StoreError> {
        if let Some(live) = self.live.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(live.clone());
        }
        let mut guard = self.live.write().unwrap_or_else(|p| p.into_inner());
        // Another request may have built it while this one waited for the lock.
        if let Some(live) = guard.as_ref() {
            return Ok(live.clone());
        }
        let mut live = Live::default();
        for id in self.flows.ids() {
            let (flow, faq) = self.current(id)?;
            live.flows.insert(id.to_string(), flow);
            if let Some(faq) = faq {
                live.faqs.insert(id.to_string(), faq);
            }
        }
        let live = Arc::new(live);
        *guard = Some(live.clone());
        Ok(live)
    }

    /// Rebuilds one comune after an edit and swaps it in: the next step uses it.
    pub fn refresh(&self, comune: &str) -> Result<(), StoreError> {
        self.live()?;
        // Read and swap under the write lock, so that of two edits at once the later swap
        // holds both (reading outside it, a slow first edit could swap out the second).
        // Steps wait only for two small store reads.
        let mut guard = self.live.write().unwrap_or_else(|p| p.into_inner());
        let (flow, faq) = self.current(comune)?;
        let (mut flows, mut faqs) = match guard.as_ref() {
            Some(old) => (old.flows.clone(), old.faqs.clone()),
            None => Default::default(),
        };
        flows.insert(comune.to_string(), flow);
        match faq {
            Some(faq) => faqs.insert(comune.to_string(), faq),
            None => faqs.remove(comune),
        };
        *guard = Some(Arc::new(Live { flows, faqs }));
        Ok(())
    }

    /// One comune's flow and FAQ from its files and its stored edits. Edits that no longer
    /// fit the file (say, an id an updated file now uses for an out-of-scope rule) are
    /// ignored with a warning rather than silencing the comune's bot.
    fn current(&self, comune: &str) -> Result<(Arc<Flow>, Option<Arc<Faq>>), StoreError> {
        let base = self.flows.get(comune).ok_or(StoreError::BadKey("unknown comune"))?;
        let mut flow = base.clone();
        if let Some(hours) = &base.hours {
            flow.hours = Some(overlay_closures(hours, &self.store.closures(comune)?));
        }
        let file = self.faqs.get(comune);
        let faq = overlay_faq(file, &self.store.faq_edits(comune)?).unwrap_or_else(|e| {
            tracing::warn!(comune, error = %e, "stored FAQ edits do not fit the file; answering from the file");
            file.cloned()
        });
        Ok((Arc::new(flow), faq.map(Arc::new)))
    }
}

impl Live {
    /// A comune's flow with its closures.
    pub fn flow(&self, comune: &str) -> Option<&Arc<Flow>> {
        self.flows.get(comune)
    }

    /// A comune's FAQ with its edits.
    pub fn faq(&self, comune: &str) -> Option<&Arc<Faq>> {
        self.faqs.get(comune)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(id: &str, entry: Option<Entry>) -> FaqEdit {
        FaqEdit {
            id: id.into(),
            lang: "it".into(),
            entry,
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn edits_replace_in_place_add_at_the_end_and_delete() {
        let base = [
            Entry::sample("a", "1"),
            Entry::sample("b", "2"),
            Entry::sample("c", "3"),
        ];
        let out = overlay_entries(
            &base,
            &[
                edit("b", Some(Entry::sample("b", "due"))),
                edit("d", Some(Entry::sample("d", "4"))),
                edit("a", None),
                edit("zz", None),
            ],
        );
        let got: Vec<_> = out.iter().map(|e| (e.id.as_str(), e.answer.as_str())).collect();
        assert_eq!(got, [("b", "due"), ("c", "3"), ("d", "4")]);
    }

    #[test]
    fn a_comune_without_a_file_gets_an_faq_from_its_edits() {
        assert!(overlay_faq(None, &[]).unwrap().is_none());
        let faq = overlay_faq(None, &[edit("orari", Some(Entry::sample("orari", "9-13")))])
            .unwrap()
            .unwrap();
        assert_eq!(faq.entries().len(), 1);
        // An edit that breaks the rules is refused, not half applied.
        assert!(overlay_faq(None, &[edit("orari", Some(Entry::sample("Orari!", "x")))]).is_err());
    }

    #[test]
    fn closures_are_added_and_removed() {
        let s = Schedule::parse(&["mon-fri 09:00-13:00".into()], None, &["2026-12-24".into()]).unwrap();
        let c = |date: &str, removed| ClosureEdit {
            date: date.into(),
            note: String::new(),
            removed,
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        let s = overlay_closures(&s, &[c("2026-12-24", true), c("2026-12-23", false), c("bad", false)]);
        let days: Vec<String> = s.closures().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-12-23"]);
    }
}
