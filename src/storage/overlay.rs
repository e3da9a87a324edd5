//! What operators change in the console on top of the data files: FAQ entries edited,
//! added or deleted, and one-off closures added or removed. The files stay as the comune
//! shipped them; the engine overlays these records on them at start and after every edit
//! (`service::runner::Engine::refresh`). No personal data: comune content only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::faq::Entry;

/// One FAQ entry as an operator left it, keyed by comune, entry id and language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqEdit {
    pub id: String,
    pub lang: String,
    /// The entry as edited or added; `None`: deleted (hides the file's entry too).
    pub entry: Option<Entry>,
    pub at: Timestamp,
}

/// One closure decision, keyed by comune and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureEdit {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Why the office is shut (staff-facing, e.g. "Delibera di Giunta n. 12").
    #[serde(default)]
    pub note: String,
    /// True: the day is open after all (removes a closure of the flow file too).
    #[serde(default)]
    pub removed: bool,
    pub at: Timestamp,
}
