//! From a message to the engine's [`Input`]: a button's id, or the understanding step's
//! reading of the text (`text::intent`) turned into what the engine acts on; and the
//! language a message asks for or is written in. Pure, like the rest of the engine.

use crate::flow::{Action, Flow, Mode};
use crate::message::Body;
use crate::storage::records::Citizen;
use crate::text::{Confidence, Match, Polarity, Position, Understanding};

/// The input as the engine understands it.
pub(super) enum Input<'a> {
    /// Act: the comune's keyword (or a clear paraphrase of a harmless command), or a button.
    Action(Action, Option<Match<Action>>),
    /// Subscribe and unsubscribe both meant: ask which.
    Ambiguous,
    /// Leaving asked in the citizen's own words, or asked about (`asked`): confirm with
    /// buttons.
    Leave {
        asked: bool,
    },
    /// Leaving refused ("non voglio cancellarmi").
    Stay,
    /// Joining in the citizen's own words, or asked about: offer the button.
    Join,
    /// Joining refused ("non voglio iscrivermi"): never consent.
    Refuse,
    /// Thanks or a closing, and nothing else.
    Thanks,
    /// A question about the bot.
    AboutBot,
    Text(&'a str),
    /// A tap on one of the FAQ entries offered for a near tie.
    FaqPick(&'a str),
    NonText,
    Ignore,
}

/// What the message means, from the understanding step (`text::intent`); the engine
/// decides what to do with it below.
pub(super) fn interpret<'a>(flow: &Flow, body: &'a Body) -> (Input<'a>, Option<Understanding>) {
    let text = match body {
        Body::Text { text } => text,
        Body::Button { id } => {
            let input = match id.split_once(':') {
                // "language:fr" buttons switch language; other ids are action names.
                Some(("language", _)) => Input::Action(Action::Language, None),
                Some(("faq", entry)) => Input::FaqPick(entry),
                _ => Action::from_name(id)
                    .map(|a| Input::Action(a, None))
                    .unwrap_or(Input::NonText),
            };
            return (input, None);
        }
        Body::Reaction | Body::Event => return (Input::Ignore, None),
        Body::Media { .. } | Body::Location | Body::Contacts | Body::Unsupported => return (Input::NonText, None),
    };
    let u = flow.understand(text);
    if u.ambiguous.is_some() {
        return (Input::Ambiguous, Some(u));
    }
    let Some(sense) = u.sense.clone() else {
        return (Input::Text(text), Some(u));
    };
    let keyword = sense.confidence == Confidence::Keyword;
    let whole = sense.found.position == Position::Whole;
    let m = Some(sense.found.clone());
    let input = match (sense.intent, sense.polarity) {
        // Only the comune's own keyword, clearly meant, unsubscribes at once; leaving in
        // other words is confirmed first, and a negated leaving never acts.
        (Action::Unsubscribe, Polarity::Negated) => Input::Stay,
        (Action::Unsubscribe, Polarity::Affirmed) if keyword => Input::Action(Action::Unsubscribe, m),
        (Action::Unsubscribe, p) => Input::Leave {
            asked: p == Polarity::Uncertain,
        },
        // Only the keyword is the comune's consent; other words are offered the button.
        (Action::Subscribe, Polarity::Negated) => Input::Refuse,
        (Action::Subscribe, Polarity::Affirmed) if keyword => Input::Action(Action::Subscribe, m),
        // At a desk, "vorrei ricevere informazioni sulla TARI" is a question.
        (Action::Subscribe, _) if !sense.explicit && flow.mode == Mode::Desk => Input::Text(text),
        (Action::Subscribe, _) => Input::Join,
        (_, Polarity::Negated) => Input::Text(text),
        (Action::Operator, _) => Input::Action(Action::Operator, m),
        (Action::AboutBot, _) => Input::AboutBot,
        // "come aggiorno i miei dati?" is a question, not the `I MIEI DATI` command: a
        // keyword counts as the whole message, a paraphrase where it is.
        (Action::Language | Action::Privacy | Action::MyData, _) if whole || !keyword => Input::Action(sense.intent, m),
        (Action::Yes, Polarity::Uncertain) => Input::Text(text),
        (Action::Yes | Action::No, _) => Input::Action(sense.intent, m),
        (Action::Greeting, _) => Input::Action(Action::Greeting, m),
        (Action::Thanks, _) if u.social == Some(Action::Thanks) => Input::Thanks,
        _ => Input::Text(text),
    };
    (input, Some(u))
}

/// The language a matched keyword, paraphrase or tapped button asks for, if any; or the
/// language a first message is written in.
pub(super) fn language_of(
    flow: &Flow,
    body: &Body,
    input: &Input,
    u: Option<&Understanding>,
    citizen: &Citizen,
) -> Option<String> {
    if let (Body::Button { id }, Input::Action(Action::Language, _)) = (body, input) {
        return id
            .split_once(':')
            .map(|(_, l)| l.to_string())
            .filter(|l| flow.offers(l));
    }
    let chosen = match input {
        Input::Action(action, Some(m))
            if flow.offers(&m.lang) && citizen.language.as_deref() != Some(m.lang.as_str()) =>
        {
            let paraphrase = u
                .and_then(|u| u.sense.as_ref())
                .is_some_and(|s| s.confidence == Confidence::Paraphrase);
            match action {
                Action::Language if m.position == Position::Whole || paraphrase => Some(m.lang.clone()),
                // Writing the subscribe or unsubscribe keyword in a language is choosing it.
                Action::Subscribe | Action::Unsubscribe => Some(m.lang.clone()),
                Action::Privacy | Action::MyData | Action::Operator if citizen.language.is_none() => {
                    Some(m.lang.clone())
                }
                _ => None,
            }
        }
        _ => None,
    };
    // Leaving or joining in a language's own words is choosing it, as its keyword is.
    let leaving_or_joining = matches!(input, Input::Leave { .. } | Input::Stay | Input::Join | Input::Refuse);
    let said_in = u
        .and_then(|u| u.sense.as_ref())
        .filter(|s| leaving_or_joining && s.confidence == Confidence::Paraphrase)
        .map(|s| s.found.lang.clone())
        // "stop" is every language's: only words that tell the language choose it.
        .filter(|l| u.and_then(|u| u.lang.as_deref()) == Some(l.as_str()))
        .filter(|l| flow.offers(l) && citizen.language.as_deref() != Some(l.as_str()));
    // A citizen who has not chosen is answered in the language they write in.
    chosen.or(said_in).or_else(|| {
        let lang = u?.lang.clone()?;
        (citizen.language.is_none() && flow.offers(&lang) && lang != flow.default_language()).then_some(lang)
    })
}
