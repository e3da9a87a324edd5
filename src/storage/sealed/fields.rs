//! Which strings of each record are personal data: one function per record that applies `f`
//! to each of them, used both to seal (before writing) and to open (after reading), so the
//! two directions cannot disagree. Keys (`CitizenKey`) are mapped by the caller.
//!
//! Not personal, left in clear: states, timestamps, languages, categories, consent kinds and
//! notice versions, a locale's message key and button titles (the comune's own words), the
//! holding operator's e-mail, rule names and spans (offsets), counters.

use crate::channel::InboundMessage;
use crate::message::Body;
use crate::storage::records::{Citizen, State};
use crate::storage::{Conversation, LedgerEntry, ModerationCase, OutboundEntry, Wrote};

/// A function applied to one personal string, in place.
pub type Map<'a> = dyn FnMut(&mut String) + 'a;

fn opt(value: &mut Option<String>, f: &mut Map<'_>) {
    if let Some(v) = value {
        f(v);
    }
}

/// Registration data, drafts and a pending question, the consents' message ids, and the
/// other WhatsApp identities.
pub fn citizen(c: &mut Citizen, f: &mut Map<'_>) {
    c.fields.values_mut().for_each(&mut *f);
    if let State::Registering {
        draft,
        pending_question,
        ..
    } = &mut c.state
    {
        draft.values_mut().for_each(&mut *f);
        opt(pending_question, f);
    }
    for consent in &mut c.consents {
        f(&mut consent.message_id);
    }
    opt(&mut c.whatsapp.phone, f);
    opt(&mut c.whatsapp.bsuid, f);
    opt(&mut c.whatsapp.username, f);
}

/// Who sent it (every identity), the provider's id (WhatsApp's encodes the number) and the
/// text or media id.
pub fn message(m: &mut InboundMessage, f: &mut Map<'_>) {
    f(&mut m.from);
    opt(&mut m.phone, f);
    opt(&mut m.user_id, f);
    opt(&mut m.username, f);
    f(&mut m.id);
    match &mut m.body {
        Body::Text { text } => f(text),
        Body::Media { media } => f(media),
        _ => {}
    }
}

/// A journal entry's message while it waits (a processed entry keeps none).
pub fn inbound(e: &mut crate::storage::InboundEntry, f: &mut Map<'_>) {
    if let Some(m) = &mut e.message {
        message(m, f);
    }
}

/// The recipient and the reply's text (which may quote the citizen's data: I MIEI DATI).
pub fn outbound(e: &mut OutboundEntry, f: &mut Map<'_>) {
    f(&mut e.to);
    f(&mut e.rendered.text);
}

/// The withheld text and the staff's note on it.
pub fn case(c: &mut ModerationCase, f: &mut Map<'_>) {
    f(&mut c.text);
    opt(&mut c.note, f);
}

/// Every line's text and provider id.
pub fn conversation(c: &mut Conversation, f: &mut Map<'_>) {
    for line in &mut c.lines {
        f(&mut line.text);
        opt(&mut line.sent, f);
    }
}

/// The citizen's words and the bot's answers.
pub fn wrote(w: &mut Wrote, f: &mut Map<'_>) {
    f(&mut w.text);
    w.replies.iter_mut().for_each(&mut *f);
}

/// The provider's id of the message that carried the consent.
pub fn ledger(e: &mut LedgerEntry, f: &mut Map<'_>) {
    f(&mut e.message_id);
}
