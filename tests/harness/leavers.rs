//! The citizens of the erasure tests (issue 24) and what `erasure_disk.rs` and `erasure_pg.rs`
//! both do with them: each comune's leaver, a registered Assemini subscriber who stays, the
//! command lines of a chat and of `citizen erase`, and the checks of what a chat answered and
//! of what `citizen show` found. Each file runs them on its own store (a data directory, a
//! PostgreSQL schema) and scans it its own way; each gives its citizens numbers of its own.

use std::process::Output;

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The citizens
// ---------------------------------------------------------------------------------------------

/// A citizen who subscribes, registers where the flow asks it, writes, asks `I MIEI DATI`
/// and leaves, in one chat.
pub struct Leaver<'a> {
    pub comune: &'a str,
    pub number: &'a str,
    /// The chat's clock (Madone's leaver left long ago).
    pub now: Option<&'a str>,
    pub script: &'a [&'a str],
    /// Replies the chat must have given (the leaving one included).
    pub replies: &'a [&'a str],
    /// What `I MIEI DATI` must have shown before leaving.
    pub held: &'a [&'a str],
    /// Besides the number's forms.
    pub words: &'a [&'a str],
    /// Run `retention run` (now) after leaving: the comune keeps leavers for a period.
    pub retention: bool,
}

impl<'a> Leaver<'a> {
    /// Assemini: name, surname and birth date at first contact, a question kept as a case,
    /// Iscrivimi and the policy accepted; Cancellami.
    pub fn assemini(number: &'a str) -> Leaver<'a> {
        Leaver {
            comune: "assemini",
            number,
            now: None,
            script: &[
                ASSEMINI_QUESTION,
                "Filiberto",
                "Zanzottera",
                "07/08/1961",
                "Iscrivimi",
                "sì",
                "I MIEI DATI",
                "Cancellami",
            ],
            replies: &[
                "assemini-registered",
                "assemini-question-received",
                "assemini-subscribed",
                "assemini-unsubscribed",
            ],
            held: &["Filiberto", "Zanzottera", "07/08/1961", "Stato: iscritto"],
            words: &["Filiberto", "Zanzottera", "07/08/1961", "1961-08-07", "Zzyzxqu"],
            retention: false,
        }
    }

    /// Brusson: MI ISCRIVO, no registration; a message naming the writer; MI CANCELLO.
    pub fn brusson(number: &'a str) -> Leaver<'a> {
        Leaver {
            comune: "brusson",
            number,
            now: None,
            script: &[
                "MI ISCRIVO",
                "Buongiorno, sono Gioacchina Brambillasca: Zzyzxqu",
                "I MIEI DATI",
                "MI CANCELLO",
            ],
            replies: &["brusson-subscribed", "brusson-other", "brusson-unsubscribed"],
            held: &["Stato: iscritto"],
            words: &["Gioacchina", "Brambillasca", "Zzyzxqu"],
            retention: false,
        }
    }

    /// Isili: the one-shot REGISTRAZIONE line (name, birth place and date, both consents);
    /// CANCELLAZIONE.
    pub fn isili(number: &'a str) -> Leaver<'a> {
        Leaver {
            comune: "isili",
            number,
            now: None,
            script: &[
                "REGISTRAZIONE Ermenegildo Quagliarulo - Villanovaforru 23/11/1958 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
                "Buongiorno, Zzyzxqu",
                "I MIEI DATI",
                "CANCELLAZIONE",
            ],
            replies: &["isili-registered", "isili-other", "isili-unsubscribed"],
            held: &["Ermenegildo Quagliarulo", "Villanovaforru", "23/11/1958"],
            words: &[
                "Ermenegildo",
                "Quagliarulo",
                "Villanovaforru",
                "23/11/1958",
                "1958-11-23",
                "Zzyzxqu",
            ],
            retention: false,
        }
    }

    /// Isola delle Femmine: ATTIVA ISCRIZIONE; DISATTIVA ISCRIZIONE.
    pub fn isola_delle_femmine(number: &'a str) -> Leaver<'a> {
        Leaver {
            comune: "isola-delle-femmine",
            number,
            now: None,
            script: &[
                "ATTIVA ISCRIZIONE",
                "Buongiorno, sono Ottavio Sbrodolini: Zzyzxqu",
                "I MIEI DATI",
                "DISATTIVA ISCRIZIONE",
            ],
            replies: &[
                "isola-delle-femmine-subscribed",
                "isola-delle-femmine-other",
                "isola-delle-femmine-unsubscribed",
            ],
            held: &["Stato: iscritto"],
            words: &["Ottavio", "Sbrodolini", "Zzyzxqu"],
            retention: false,
        }
    }

    /// Madone: ATTIVA ISCRIZIONE; DISATTIVA ISCRIZIONE in March 2024 (`chat --now`), so that
    /// `retention run` (at the real now, well past the calendar year Madone keeps a leaver)
    /// obscures them.
    pub fn madone(number: &'a str) -> Leaver<'a> {
        Leaver {
            comune: "madone",
            number,
            now: Some("2024-03-01T10:00:00Z"),
            script: &[
                "ATTIVA ISCRIZIONE",
                "Buongiorno, sono Anselmo Rampazzini: Zzyzxqu",
                "I MIEI DATI",
                "DISATTIVA ISCRIZIONE",
            ],
            replies: &["madone-subscribed", "madone-other", "madone-unsubscribed"],
            held: &["Stato: iscritto"],
            words: &["Anselmo", "Rampazzini", "Zzyzxqu"],
            retention: true,
        }
    }
}

/// What an Assemini citizen asks at first contact (the question kept as a case).
const ASSEMINI_QUESTION: &str = "Buongiorno, vorrei sapere gli orari della ludoteca Zzyzxqu";

/// A registered Assemini subscriber with a pending question, who stays: the chat of
/// [`Leaver::assemini`] up to `I MIEI DATI`, with names and a birth date of their own.
pub struct Subscriber<'a> {
    pub first: &'a str,
    pub last: &'a str,
    /// The birth date as the citizen writes it (dd/mm/yyyy).
    pub birth: &'a str,
    /// The same date as a store may keep it (yyyy-mm-dd).
    pub birth_iso: &'a str,
}

impl Subscriber<'static> {
    /// The one both files erase with `citizen erase`.
    pub const ERASED_ON_REQUEST: Subscriber<'static> = Subscriber {
        first: "Policarpo",
        last: "Scannagatti",
        birth: "14/02/1949",
        birth_iso: "1949-02-14",
    };
}

impl<'a> Subscriber<'a> {
    /// The chat: the question, the name, surname and birth date the flow then asks,
    /// Iscrivimi, the policy accepted, `I MIEI DATI`.
    pub fn script(&self) -> [&'a str; 7] {
        [
            ASSEMINI_QUESTION,
            self.first,
            self.last,
            self.birth,
            "Iscrivimi",
            "sì",
            "I MIEI DATI",
        ]
    }

    /// Asserts the chat kept the question, subscribed the citizen and that `I MIEI DATI`
    /// showed their name, surname and birth date.
    pub fn assert_chat(&self, replies: &[Value]) {
        assert_chat(
            "assemini",
            replies,
            &["assemini-question-received", "assemini-subscribed"],
            &[self.first, self.last, self.birth],
        );
    }

    /// What no store may hold of them in any form, besides the number's forms.
    pub fn words(&self) -> [&'a str; 5] {
        [self.first, self.last, self.birth, self.birth_iso, "Zzyzxqu"]
    }
}

// ---------------------------------------------------------------------------------------------
// Command lines and what they answer
// ---------------------------------------------------------------------------------------------

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The arguments and the standard input of a chat session of `lines`, optionally at `now`,
/// that answers in JSON.
pub fn chat_command<'a>(
    comune: &'a str,
    number: &'a str,
    now: Option<&'a str>,
    lines: &[&str],
) -> (Vec<&'a str>, String) {
    let mut args = vec!["chat", "--comune", comune, "--from", number, "--json"];
    if let Some(now) = now {
        args.extend(["--now", now]);
    }
    let mut input = lines.join("\n");
    input.push('\n');
    (args, input)
}

/// The replies of a chat session in `comune` that must have succeeded, one JSON object each.
pub fn chat_replies(comune: &str, out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "chat {comune}: {}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The arguments of `citizen erase` of `number` in `comune`, by a DPO on a written request.
pub fn erase_args<'a>(comune: &'a str, number: &'a str) -> [&'a str; 10] {
    [
        "citizen",
        "erase",
        "--comune",
        comune,
        "--from",
        number,
        "--by",
        "dpo@comune.example.it",
        "--reason",
        "richiesta PEC prot. 24",
    ]
}

pub fn reply_keys(replies: &[Value]) -> Vec<&str> {
    replies.iter().filter_map(|r| r["key"].as_str()).collect()
}

/// What `I MIEI DATI` showed (the record as read back from the store).
fn my_data(replies: &[Value]) -> String {
    replies
        .iter()
        .filter(|r| r["key"].as_str().is_some_and(|k| k.starts_with("my-data")))
        .filter_map(|r| r["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts the chat went as the flow says and that `I MIEI DATI` showed every one of `held`.
pub fn assert_chat(comune: &str, replies: &[Value], expected: &[&str], held: &[&str]) {
    let keys = reply_keys(replies);
    for key in expected {
        assert!(keys.contains(key), "{comune}: no {key} among the replies {keys:?}");
    }
    let shown = my_data(replies);
    for item in held {
        assert!(
            shown.contains(item),
            "{comune}: I MIEI DATI does not show {item:?}, so the record was not held: {shown}"
        );
    }
}

/// Asserts `retention run` succeeded and obscured the one leaver, who was past the period.
pub fn assert_obscured_one(sweep: &Output) {
    assert!(sweep.status.success(), "retention run: {}", stderr(sweep));
    assert!(
        stdout(sweep).contains("obscured 1 leavers"),
        "the leaver was past the period: {}",
        stdout(sweep)
    );
}

/// Whether `citizen show` found nothing (exit 1, "no citizen"); a message when it did.
pub fn not_found(out: &Output, who: &str) -> Option<String> {
    if out.status.code() == Some(1) && stderr(out).contains("no citizen") {
        None
    } else {
        Some(format!(
            "citizen show still finds {who}: exit {:?}, stdout {}, stderr {}",
            out.status.code(),
            stdout(out),
            stderr(out)
        ))
    }
}

pub fn assert_none(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
