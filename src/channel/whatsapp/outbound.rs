//! Building the JSON bodies for `POST {base}/{phone_number_id}/messages`.
//!
//! Owns Meta's size limits: every request built here is one Meta accepts, whatever the
//! rendered text looks like (too long bodies are split, titles truncated on a char boundary
//! with "…", lists cut to 10 rows). It does no I/O and logs ids and counts only.
//!
//! Limits (Meta, messages/text-messages, interactive-reply-buttons-messages,
//! interactive-list-messages; counted in characters):
//! text body 4096; reply buttons ≤ 3, title ≤ 20 and unique, id ≤ 256, body ≤ 1024;
//! list button ≤ 20, rows ≤ 10 in all sections, row title ≤ 24, description ≤ 72, row id ≤
//! 200, section title ≤ 24, body ≤ 4096; media caption ≤ 1024.

use serde_json::{json, Value};

use super::text::{clip, fit_body, non_empty, split_tail, split_text, truncate, unique_titles, EMPTY_BODY};
use crate::i18n::Rendered;

pub const TEXT_MAX: usize = 4096;
pub const BUTTONS_BODY_MAX: usize = 1024;
pub const LIST_BODY_MAX: usize = 4096;
pub const BUTTONS_MAX: usize = 3;
pub const BUTTON_TITLE_MAX: usize = 20;
pub const BUTTON_ID_MAX: usize = 256;
pub const LIST_ROWS_MAX: usize = 10;
pub const LIST_LABEL_MAX: usize = 20;
pub const ROW_TITLE_MAX: usize = 24;
pub const ROW_DESCRIPTION_MAX: usize = 72;
pub const ROW_ID_MAX: usize = 200;
pub const CAPTION_MAX: usize = 1024;

/// Kinds of media sent by link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
}

impl MediaKind {
    fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
        }
    }
}

/// One outgoing Cloud API message. `to` is the citizen's wa_id (digits, as received in
/// `from`) or an E.164 number; a `+` is added to bare digits so Meta never prepends the
/// business number's country code.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    Text {
        to: String,
        body: String,
    },
    /// Reply buttons as (id, title): at most 3, titles at most 20 characters, ids at most 256.
    Buttons {
        to: String,
        body: String,
        buttons: Vec<(String, String)>,
    },
    /// List: button label ≤ 20 chars, at most 10 rows (id, title), row title ≤ 24
    /// (a longer title is shown whole, up to 72, as the row description).
    List {
        to: String,
        body: String,
        button: String,
        rows: Vec<(String, String)>,
    },
    Media {
        to: String,
        kind: MediaKind,
        link: String,
        caption: Option<String>,
    },
    /// An approved template with positional body parameters.
    Template {
        to: String,
        name: String,
        language: String,
        body_params: Vec<String>,
    },
}

impl Outbound {
    /// The request body. Limits are enforced here too, so a hand-built value is also safe.
    pub fn to_json(&self) -> Value {
        match self {
            Outbound::Text { to, body } => envelope(
                to,
                "text",
                json!({ "preview_url": false, "body": fit_body(body, TEXT_MAX) }),
            ),
            Outbound::Buttons { to, body, buttons } => {
                let titles = unique_titles(
                    buttons.iter().take(BUTTONS_MAX).map(|(_, t)| t.as_str()),
                    BUTTON_TITLE_MAX,
                );
                let buttons: Vec<Value> = buttons
                    .iter()
                    .zip(titles)
                    .map(|((id, _), title)| json!({ "type": "reply", "reply": { "id": clip(id, BUTTON_ID_MAX), "title": title } }))
                    .collect();
                let interactive = json!({
                    "type": "button",
                    "body": { "text": fit_body(body, BUTTONS_BODY_MAX) },
                    "action": { "buttons": buttons },
                });
                envelope(to, "interactive", interactive)
            }
            Outbound::List { to, body, button, rows } => {
                let label = non_empty(truncate(button.trim(), LIST_LABEL_MAX), "Menu");
                let rows = rows.iter().take(LIST_ROWS_MAX);
                let titles = unique_titles(rows.clone().map(|(_, t)| t.as_str()), ROW_TITLE_MAX);
                let rows: Vec<Value> = rows
                    .zip(titles)
                    .map(|((id, full), title)| {
                        let mut row = json!({ "id": clip(id, ROW_ID_MAX), "title": title });
                        if full.trim().chars().count() > ROW_TITLE_MAX {
                            row["description"] = Value::String(truncate(full.trim(), ROW_DESCRIPTION_MAX));
                        }
                        row
                    })
                    .collect();
                let interactive = json!({
                    "type": "list",
                    "body": { "text": fit_body(body, LIST_BODY_MAX) },
                    "action": { "button": label, "sections": [ { "title": truncate(&label, ROW_TITLE_MAX), "rows": rows } ] },
                });
                envelope(to, "interactive", interactive)
            }
            Outbound::Media {
                to,
                kind,
                link,
                caption,
            } => {
                let mut media = json!({ "link": link });
                // Audio takes no caption; an empty caption is left out.
                if let Some(c) = caption
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && *kind != MediaKind::Audio)
                {
                    media["caption"] = Value::String(truncate(c, CAPTION_MAX));
                }
                envelope(to, kind.as_str(), media)
            }
            Outbound::Template {
                to,
                name,
                language,
                body_params,
            } => {
                let mut template = json!({ "name": name, "language": { "code": language } });
                if !body_params.is_empty() {
                    let params: Vec<Value> = body_params
                        .iter()
                        .map(|p| json!({ "type": "text", "text": template_param(p) }))
                        .collect();
                    template["components"] = json!([{ "type": "body", "parameters": params }]);
                }
                envelope(to, "template", template)
            }
        }
    }
}

/// From a rendered reply: no buttons → Text; 1–3 buttons → Buttons; more → List (label from
/// `list_label`).
///
/// Long bodies: a text over 4096 characters becomes several Text messages, split at a
/// paragraph, line or word boundary when there is one. An interactive body over its limit
/// (1024 for buttons, 4096 for a list) is split the same way, and the buttons ride on the
/// *last* part, so they stay under the text they answer; the earlier parts go first as
/// Text. An empty text yields nothing without buttons, and "…" as the body with buttons.
pub fn from_rendered(to: &str, rendered: &Rendered, list_label: &str) -> Vec<Outbound> {
    let text = rendered.text.trim();
    let buttons: Vec<(String, String)> = rendered
        .buttons
        .iter()
        .map(|b| (b.id.clone(), b.title.clone()))
        .collect();
    if buttons.is_empty() {
        return split_text(text, TEXT_MAX)
            .into_iter()
            .map(|body| Outbound::Text {
                to: to.to_string(),
                body,
            })
            .collect();
    }
    let limit = if buttons.len() <= BUTTONS_MAX {
        BUTTONS_BODY_MAX
    } else {
        LIST_BODY_MAX
    };
    let (head, tail) = split_tail(text, limit);
    let mut out: Vec<Outbound> = split_text(head, TEXT_MAX)
        .into_iter()
        .map(|body| Outbound::Text {
            to: to.to_string(),
            body,
        })
        .collect();
    let body = non_empty(tail.to_string(), EMPTY_BODY);
    if buttons.len() <= BUTTONS_MAX {
        out.push(Outbound::Buttons {
            to: to.to_string(),
            body,
            buttons,
        });
    } else {
        if buttons.len() > LIST_ROWS_MAX {
            // Ids only: they are ours, not the citizen's.
            tracing::warn!(key = %rendered.key, rows = buttons.len(), "list cut to 10 rows");
        }
        out.push(Outbound::List {
            to: to.to_string(),
            body,
            button: list_label.to_string(),
            rows: buttons,
        });
    }
    out
}

/// Marks an inbound message (and earlier ones in the chat) as read.
pub fn mark_read_json(message_id: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "status": "read", "message_id": message_id })
}

/// The message to `to`: a number goes in `to`, a business-scoped user id (a citizen whose
/// number Meta does not share) in `recipient` (Meta's "Business-scoped user IDs", "Send
/// message requests").
fn envelope(to: &str, kind: &str, content: Value) -> Value {
    let field = if super::is_bsuid(to.trim()) { "recipient" } else { "to" };
    let mut v = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "type": kind,
    });
    v[field] = Value::String(recipient(to));
    v[kind] = content;
    v
}

/// Bare digits (a wa_id) get a `+`: without it Meta prepends the business number's country
/// code (fact sheet §3).
fn recipient(to: &str) -> String {
    let to = to.trim();
    if !to.is_empty() && to.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{to}")
    } else {
        to.to_string()
    }
}

/// Template parameters may not hold newlines, tabs or more than 4 consecutive spaces.
fn template_param(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut spaces = 0;
    for c in p.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        spaces = if c == ' ' { spaces + 1 } else { 0 };
        if spaces <= 4 {
            out.push(c);
        }
    }
    non_empty(out.trim().to_string(), EMPTY_BODY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str, buttons: &[(&str, &str)]) -> Rendered {
        Rendered::sample(text, buttons)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn text_shape() {
        let m = Outbound::Text {
            to: "393330000001".into(),
            body: "Sì, è già così".into(),
        };
        assert_eq!(
            m.to_json(),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+393330000001","type":"text",
                   "text":{"preview_url":false,"body":"Sì, è già così"}})
        );
        // Already E.164 stays as is.
        let m = Outbound::Text {
            to: "+393330000001".into(),
            body: "x".into(),
        };
        assert_eq!(m.to_json()["to"], "+393330000001");
        // A citizen known only by their business-scoped user id: `recipient`, never `to`.
        let m = Outbound::Text {
            to: "IT.1502576394655843".into(),
            body: "x".into(),
        };
        let v = m.to_json();
        assert_eq!(v["recipient"], "IT.1502576394655843");
        assert!(v.get("to").is_none(), "{v}");
        assert!(!super::super::is_bsuid("393330000001") && !super::super::is_bsuid("+393330000001"));
        assert!(super::super::is_bsuid("US.ENT.11815799212886844830"));
    }

    #[test]
    fn buttons_shape_and_title_truncation() {
        let m = Outbound::Buttons {
            to: "393330000001".into(),
            body: "Vuoi iscriverti agli avvisi del Comune?".into(),
            buttons: pairs(&[
                ("consent-yes", "Sì, accetto"),
                ("consent-no", "No, grazie e arrivederci"),
            ]),
        };
        assert_eq!(
            m.to_json(),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+393330000001","type":"interactive",
                   "interactive":{"type":"button","body":{"text":"Vuoi iscriverti agli avvisi del Comune?"},
                     "action":{"buttons":[
                       {"type":"reply","reply":{"id":"consent-yes","title":"Sì, accetto"}},
                       {"type":"reply","reply":{"id":"consent-no","title":"No, grazie e arrive…"}}]}}})
        );
    }

    #[test]
    fn too_many_buttons_long_ids_and_empty_body_are_cut_to_fit() {
        // More than 3 buttons, long ids: cut to what Meta accepts.
        let long_id = "x".repeat(300);
        let m = Outbound::Buttons {
            to: "1".into(),
            body: "".into(),
            buttons: pairs(&[(&long_id, "a"), ("b", "b"), ("c", "c"), ("d", "d")]),
        };
        let j = m.to_json();
        let b = j["interactive"]["action"]["buttons"].as_array().unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b[0]["reply"]["id"].as_str().unwrap().len(), 256);
        assert_eq!(j["interactive"]["body"]["text"], "…");
    }

    #[test]
    fn list_shape_and_limits() {
        let m = Outbound::List {
            to: "393330000001".into(),
            body: "Di cosa hai bisogno?".into(),
            button: "Scegli un argomento".into(),
            rows: pairs(&[
                ("topic-tributi", "Tributi"),
                ("topic-anagrafe", "Anagrafe, carta d'identità elettronica"),
            ]),
        };
        assert_eq!(
            m.to_json(),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+393330000001","type":"interactive",
                   "interactive":{"type":"list","body":{"text":"Di cosa hai bisogno?"},
                     "action":{"button":"Scegli un argomento","sections":[{"title":"Scegli un argomento","rows":[
                       {"id":"topic-tributi","title":"Tributi"},
                       {"id":"topic-anagrafe","title":"Anagrafe, carta d'ident…",
                        "description":"Anagrafe, carta d'identità elettronica"}]}]}}})
        );
        let rows: Vec<(String, String)> = (0..12).map(|i| (format!("r{i}"), format!("Riga {i}"))).collect();
        let m = Outbound::List {
            to: "1".into(),
            body: "b".into(),
            button: "Un'etichetta troppo lunga".into(),
            rows,
        };
        let j = m.to_json();
        assert_eq!(
            j["interactive"]["action"]["sections"][0]["rows"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
        assert_eq!(
            j["interactive"]["action"]["button"].as_str().unwrap().chars().count(),
            20
        );
        let m = Outbound::List {
            to: "1".into(),
            body: "b".into(),
            button: " ".into(),
            rows: pairs(&[("a", "a")]),
        };
        assert_eq!(m.to_json()["interactive"]["action"]["button"], "Menu");
    }

    #[test]
    fn media_template_and_mark_read_shapes() {
        let m = Outbound::Media {
            to: "393330000001".into(),
            kind: MediaKind::Document,
            link: "https://comune.example/avviso.pdf".into(),
            caption: Some("Avviso".into()),
        };
        assert_eq!(
            m.to_json(),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+393330000001","type":"document",
                   "document":{"link":"https://comune.example/avviso.pdf","caption":"Avviso"}})
        );
        let a = Outbound::Media {
            to: "1".into(),
            kind: MediaKind::Audio,
            link: "https://x/a.ogg".into(),
            caption: Some("no".into()),
        };
        assert_eq!(a.to_json()["audio"], json!({"link":"https://x/a.ogg"}));
        let t = Outbound::Template {
            to: "393330000001".into(),
            name: "avviso_scadenza".into(),
            language: "it".into(),
            body_params: vec!["TARI".into(), "16 giugno\n2025\t  (rata      unica)".into()],
        };
        assert_eq!(
            t.to_json(),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"+393330000001","type":"template",
                   "template":{"name":"avviso_scadenza","language":{"code":"it"},"components":[{"type":"body","parameters":[
                     {"type":"text","text":"TARI"},{"type":"text","text":"16 giugno 2025   (rata    unica)"}]}]}})
        );
        let t = Outbound::Template {
            to: "1".into(),
            name: "hello".into(),
            language: "it".into(),
            body_params: vec![],
        };
        assert!(t.to_json()["template"].get("components").is_none());
        assert_eq!(
            mark_read_json("wamid.X"),
            json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"})
        );
    }

    #[test]
    fn from_rendered_picks_the_kind() {
        assert_eq!(
            from_rendered("1", &rendered("ciao", &[]), "Menu"),
            vec![Outbound::Text {
                to: "1".into(),
                body: "ciao".into()
            }]
        );
        assert!(from_rendered("1", &rendered("  ", &[]), "Menu").is_empty());
        let b = from_rendered("1", &rendered("Ok?", &[("y", "Sì"), ("n", "No")]), "Menu");
        assert_eq!(
            b,
            vec![Outbound::Buttons {
                to: "1".into(),
                body: "Ok?".into(),
                buttons: pairs(&[("y", "Sì"), ("n", "No")])
            }]
        );
        let four = [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")];
        match from_rendered("1", &rendered("Scegli", &four), "Argomenti").as_slice() {
            [Outbound::List { button, rows, .. }] => assert_eq!((button.as_str(), rows.len()), ("Argomenti", 4)),
            other => panic!("{other:?}"),
        }
        let b = from_rendered("1", &rendered("", &[("y", "Sì")]), "Menu");
        assert!(matches!(&b[..], [Outbound::Buttons { body, .. }] if body == "…"));
    }

    #[test]
    fn long_text_is_split_at_breaks_within_limits() {
        let para = "Il Comune informa che gli uffici resteranno chiusi. ".repeat(30); // 1,560 chars: two fit in 4096, three do not
        let text = format!("{para}\n\n{para}\n\n{para}");
        let out = from_rendered("1", &rendered(&text, &[]), "Menu");
        assert_eq!(out.len(), 2);
        for m in &out {
            let Outbound::Text { body, .. } = m else { panic!() };
            assert!(body.chars().count() <= TEXT_MAX && !body.is_empty());
        }
        // Nothing lost but whitespace at the cuts.
        let joined: String = out
            .iter()
            .map(|m| {
                if let Outbound::Text { body, .. } = m {
                    body.replace(char::is_whitespace, "")
                } else {
                    String::new()
                }
            })
            .collect();
        assert_eq!(joined, text.replace(char::is_whitespace, ""));
    }

    #[test]
    fn long_interactive_body_puts_buttons_under_the_last_part() {
        let text = format!("{}\n\nConfermi l'iscrizione?", "Informativa privacy. ".repeat(100)); // ~2,100 chars; the cut drops " \n\n"
        let out = from_rendered("1", &rendered(&text, &[("y", "Sì"), ("n", "No")]), "Menu");
        match out.as_slice() {
            [Outbound::Text { body: head, .. }, Outbound::Buttons { body: tail, .. }] => {
                assert_eq!(tail, "Confermi l'iscrizione?");
                assert!(head.starts_with("Informativa privacy."));
                assert_eq!(head.chars().count() + tail.chars().count() + 3, text.chars().count());
            }
            other => panic!("{other:?}"),
        }
        // A list body up to 4096 stays whole.
        let five = [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")];
        let out = from_rendered("1", &rendered(&"x ".repeat(1500), &five), "Menu");
        assert!(matches!(out.as_slice(), [Outbound::List { .. }]));
        for m in from_rendered("1", &rendered(&"parola ".repeat(3000), &five), "Menu") {
            let j = m.to_json();
            let body = j["text"]["body"]
                .as_str()
                .or(j["interactive"]["body"]["text"].as_str())
                .unwrap();
            assert!(body.chars().count() <= 4096);
        }
    }
}
