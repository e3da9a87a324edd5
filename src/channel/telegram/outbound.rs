//! Rendered replies → Bot API `sendMessage` request bodies.
//!
//! Owns the body shape, the 4096-character split and the inline keyboard. It must not
//! send anything (that is [`super::client`]) nor set `parse_mode`: our text and the
//! citizens' words it may quote are plain text, never Markdown or HTML.

use serde_json::{json, Value};

use crate::i18n::Rendered;

/// Longest `text` of one message. Telegram says "1-4096 characters"; we count UTF-16 code
/// units, which is never fewer than characters, so a chunk is within the limit whichever
/// way Telegram counts (emoji outside the BMP are two units).
pub const MAX_TEXT_UNITS: usize = 4096;

/// `callback_data` is "1-64 bytes": bytes, not characters.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// sendMessage bodies for one rendered reply, in sending order.
///
/// * `chat_id` is sent as a JSON number when it is one (Telegram chat ids are integers),
///   as a string otherwise (`@channelusername`).
/// * Text over [`MAX_TEXT_UNITS`] is split into several messages, cutting at the last
///   line break that fits, else the last space, else (one very long word) at a character
///   boundary. The separator at a cut is dropped; chunks that would be blank are skipped.
/// * Buttons become `reply_markup.inline_keyboard`, one button a row, `callback_data` =
///   the button id, on the last message only. A button whose id is empty or longer than
///   [`MAX_CALLBACK_DATA_BYTES`] bytes is left out (with a warning naming the reply key):
///   shortening it would send back an id the engine never issued, or another button's.
///   The citizen can still type the answer.
/// * A reply whose text is blank yields no body at all: Telegram refuses empty text.
pub fn send_message_bodies(chat_id: &str, rendered: &Rendered) -> Vec<Value> {
    let chunks = split_text(&rendered.text, MAX_TEXT_UNITS);
    if chunks.is_empty() {
        tracing::warn!(key = %rendered.key, "telegram: reply with blank text not sent");
        return Vec::new();
    }
    let chat = match chat_id.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(chat_id),
    };
    let keyboard = inline_keyboard(rendered);
    let last = chunks.len() - 1;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut body = json!({ "chat_id": chat.clone(), "text": text });
            if let (true, Some(rows)) = (i == last, &keyboard) {
                body["reply_markup"] = json!({ "inline_keyboard": rows });
            }
            body
        })
        .collect()
}

/// One row per button; `None` when no button is usable.
fn inline_keyboard(rendered: &Rendered) -> Option<Vec<Value>> {
    let mut rows = Vec::new();
    for (index, b) in rendered.buttons.iter().enumerate() {
        if b.id.is_empty() || b.id.len() > MAX_CALLBACK_DATA_BYTES {
            tracing::warn!(
                key = %rendered.key,
                index,
                bytes = b.id.len(),
                "telegram: button id does not fit callback_data (1-64 bytes); button left out"
            );
            continue;
        }
        // A blank label would make Telegram refuse the whole message.
        let text = if b.title.trim().is_empty() { &b.id } else { &b.title };
        rows.push(json!([{ "text": text, "callback_data": b.id }]));
    }
    (!rows.is_empty()).then_some(rows)
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Splits `text` into non-blank chunks of at most `max` UTF-16 units (see
/// [`send_message_bodies`] for where it cuts).
fn split_text(text: &str, max: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = text;
    loop {
        if rest.trim().is_empty() {
            return chunks;
        }
        if utf16_len(rest) <= max {
            chunks.push(rest.trim_end());
            return chunks;
        }
        // The longest prefix (on a char boundary) within `max` units.
        let mut units = 0;
        let mut fit = 0;
        for (i, c) in rest.char_indices() {
            units += c.len_utf16();
            if units > max {
                break;
            }
            fit = i + c.len_utf8();
        }
        let window = &rest[..fit];
        let cut = [window.rfind('\n'), window.rfind(' ')]
            .into_iter()
            .flatten()
            .find(|&at| !window[..at].trim().is_empty());
        match cut {
            // The separator is one byte ('\n' or ' '): skip it.
            Some(at) => {
                chunks.push(window[..at].trim_end());
                rest = &rest[at + 1..];
            }
            None => {
                chunks.push(window);
                rest = &rest[fit..];
            }
        }
        // A continuation never starts with the blank lines that separated it.
        rest = rest.trim_start_matches(['\n', '\r']);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str, buttons: &[(&str, &str)]) -> Rendered {
        Rendered::sample(text, buttons)
    }

    #[test]
    fn plain_text_without_buttons() {
        let bodies = send_message_bodies("100000001", &rendered("L'anagrafe apre alle 9:00 *oggi*.", &[]));
        assert_eq!(
            bodies,
            vec![json!({"chat_id": 100000001, "text": "L'anagrafe apre alle 9:00 *oggi*."})]
        );
        assert!(bodies[0].get("parse_mode").is_none());
    }

    #[test]
    fn non_numeric_chat_id_stays_a_string() {
        let bodies = send_message_bodies("@avvisi_comune", &rendered("Ciao", &[]));
        assert_eq!(bodies[0]["chat_id"], json!("@avvisi_comune"));
        let bodies = send_message_bodies("-1001000000001", &rendered("Ciao", &[]));
        assert_eq!(bodies[0]["chat_id"], json!(-1001000000001_i64));
    }

    #[test]
    fn buttons_one_a_row() {
        let r = rendered(
            "Vuoi ricevere gli avvisi?",
            &[("subscribe-yes", "Sì"), ("subscribe-no", "No")],
        );
        let bodies = send_message_bodies("42", &r);
        assert_eq!(
            bodies,
            vec![json!({
                "chat_id": 42,
                "text": "Vuoi ricevere gli avvisi?",
                "reply_markup": {"inline_keyboard": [
                    [{"text": "Sì", "callback_data": "subscribe-yes"}],
                    [{"text": "No", "callback_data": "subscribe-no"}]
                ]}
            })]
        );
    }

    #[test]
    fn callback_data_over_64_bytes_is_left_out() {
        // 32 "è" are 32 characters but 64 bytes: fits. 33 are 66 bytes: does not.
        let fits = "è".repeat(32);
        let too_long = "è".repeat(33);
        let r = rendered("Scegli", &[(&fits, "A"), (&too_long, "B"), ("", "C")]);
        let rows = send_message_bodies("42", &r)[0]["reply_markup"]["inline_keyboard"].clone();
        assert_eq!(rows, json!([[{"text": "A", "callback_data": fits}]]));
        // No usable button: no reply_markup at all.
        let r = rendered("Scegli", &[(&too_long, "B")]);
        assert!(send_message_bodies("42", &r)[0].get("reply_markup").is_none());
    }

    #[test]
    fn blank_label_falls_back_to_the_id() {
        let r = rendered("Scegli", &[("menu", " ")]);
        let body = &send_message_bodies("42", &r)[0];
        assert_eq!(body["reply_markup"]["inline_keyboard"][0][0]["text"], json!("menu"));
    }

    #[test]
    fn blank_text_sends_nothing() {
        assert!(send_message_bodies("42", &rendered("  \n", &[("a", "A")])).is_empty());
    }

    #[test]
    fn long_text_splits_on_lines_with_buttons_on_the_last() {
        let line = format!("{}\n", "Orari dell'ufficio tributi: lunedì e giovedì. ".repeat(10));
        let text = line.repeat(20); // ~9,400 characters
        let r = rendered(&text, &[("ok", "Va bene")]);
        let bodies = send_message_bodies("42", &r);
        assert_eq!(bodies.len(), 3);
        let mut rejoined = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            let t = b["text"].as_str().unwrap();
            assert!(utf16_len(t) <= MAX_TEXT_UNITS);
            assert!(t.ends_with("giovedì."), "cut on a line boundary");
            assert_eq!(b.get("reply_markup").is_some(), i == bodies.len() - 1);
            rejoined.push(t.to_string());
        }
        let original: Vec<&str> = text.lines().map(str::trim_end).collect();
        let split: Vec<&str> = rejoined.iter().flat_map(|c| c.lines().map(str::trim_end)).collect();
        assert!(split == original, "nothing lost or duplicated");
    }

    #[test]
    fn long_line_splits_on_spaces_then_anywhere() {
        let words = "parola ".repeat(1000); // 7,000 characters, no newline
        let chunks = split_text(&words, MAX_TEXT_UNITS);
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| c.ends_with("parola")));
        assert_eq!(chunks.join(" ").split(' ').count(), 1000);

        let word = "é".repeat(5000);
        let chunks = split_text(&word, MAX_TEXT_UNITS);
        assert_eq!(
            chunks.iter().map(|c| c.chars().count()).collect::<Vec<_>>(),
            vec![4096, 904]
        );
    }

    #[test]
    fn split_counts_utf16_units() {
        // Each emoji is two UTF-16 units: 2,100 of them need two messages.
        let emoji = "📣".repeat(2100);
        let chunks = split_text(&emoji, MAX_TEXT_UNITS);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].chars().count(), 2048);
    }

    #[test]
    fn exactly_the_limit_is_one_message() {
        let text = "a".repeat(MAX_TEXT_UNITS);
        assert_eq!(split_text(&text, MAX_TEXT_UNITS), vec![text.as_str()]);
    }
}
