//! A WhatsApp conversation that waits for the replies to stop coming (the console tests'
//! way of talking to the bot, where the number of replies is not known in advance).

use std::time::Duration;

use crate::harness::server::{wa_text, Harness};

/// Sends one WhatsApp text and returns the texts sent back once the replies stop coming.
pub(crate) async fn say(h: &Harness, comune: &str, from: &str, seq: &mut i64, text: &str) -> Vec<String> {
    let before = h.sent().len();
    *seq += 1;
    let id = format!("wamid.staffops.{from}.{seq}");
    assert_eq!(
        h.post_signed(&wa_text(comune, from, &id, 1_800_000_000 + *seq, text))
            .await,
        200
    );
    h.wait_sent(before + 1).await;
    let mut seen = h.sent().len();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = h.sent().len();
        if now == seen {
            break;
        }
        seen = now;
    }
    h.sent()[before..]
        .iter()
        .filter(|(_, b)| b["to"].as_str().map(|t| t.trim_start_matches('+')) == Some(from))
        .map(|(_, b)| {
            b["text"]["body"]
                .as_str()
                .or(b["interactive"]["body"]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}
