//! The broadcast answers (`ops::execute`'s JSON) as labelled text for a person at a
//! terminal, every word from `locales/<lang>/cli.ftl`, times in Rome's.

use fluent_bundle::FluentArgs;
use serde_json::Value;

use crate::cli::output::{json_time, label_of, text, Sheet};
use crate::i18n::Locales;

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// One broadcast (`status`): its comune, category, state, languages, media, times and
/// figures; the rarer figures (interrupted, skipped, templates) only when not zero.
pub fn render_status(v: &Value, locales: &Locales, lang: &str) -> String {
    let t = |id: &str| text(locales, lang, id, None);
    let none = t("cli-none");
    let time = |key: &str| json_time(&v[key]).unwrap_or_else(|| none.clone());
    let mut title = FluentArgs::new();
    title.set("id", count(v, "id"));
    title.set("comune", v["comune"].as_str().unwrap_or_default().to_string());
    let mut out = text(locales, lang, "cli-broadcast-title", Some(&title));
    out.push('\n');
    let mut sheet = Sheet::default();
    if let Some(category) = v["category"].as_str() {
        sheet.row(t("cli-broadcast-category"), category.to_string());
    }
    if v["urgent"].as_bool() == Some(true) {
        sheet.row(t("cli-broadcast-urgent"), t("cli-yes"));
    }
    let state = v["state"].as_str().unwrap_or_default();
    sheet.row(t("cli-broadcast-state"), label_of(locales, lang, "cli-state", state));
    let languages: Vec<&str> = v["languages"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    sheet.row(t("cli-broadcast-languages"), languages.join(", "));
    if let Some(kind) = v["media"].as_str() {
        sheet.row(t("cli-broadcast-media"), label_of(locales, lang, "cli-media", kind));
    }
    sheet.row(t("cli-broadcast-send-at"), time("send_at"));
    sheet.row(t("cli-broadcast-started-at"), time("started_at"));
    sheet.row(t("cli-broadcast-finished-at"), time("finished_at"));
    let f = &v["figures"];
    for key in ["recipients", "queued", "sent", "delivered", "read", "failed"] {
        sheet.row(t(&format!("cli-broadcast-{key}")), count(f, key).to_string());
    }
    for key in ["interrupted", "skipped", "templates"] {
        if count(f, key) > 0 {
            sheet.row(t(&format!("cli-broadcast-{key}")), count(f, key).to_string());
        }
    }
    out.push_str(&sheet.render(2));
    out
}

/// Every broadcast (`list`), one line each: number, comune and category, state, when, and
/// how many were sent and failed of the recipients.
pub fn render_list(v: &Value, locales: &Locales, lang: &str) -> String {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() {
        return format!("{}\n", text(locales, lang, "cli-broadcast-list-empty", None));
    }
    let mut out = String::new();
    for b in items {
        let category = match b["category"].as_str() {
            Some(c) => {
                let mut args = FluentArgs::new();
                args.set("category", c.to_string());
                text(locales, lang, "cli-broadcast-line-category", Some(&args))
            }
            None => String::new(),
        };
        let f = &b["figures"];
        let mut args = FluentArgs::new();
        args.set("id", count(b, "id"));
        args.set("comune", b["comune"].as_str().unwrap_or_default().to_string());
        args.set("category", category);
        let state = b["state"].as_str().unwrap_or_default();
        args.set("state", label_of(locales, lang, "cli-state", state));
        args.set(
            "at",
            json_time(&b["send_at"]).unwrap_or_else(|| text(locales, lang, "cli-none", None)),
        );
        args.set("sent", count(f, "sent"));
        args.set("total", count(f, "recipients"));
        args.set("failed", count(f, "failed"));
        out.push_str(&text(locales, lang, "cli-broadcast-line", Some(&args)));
        out.push('\n');
    }
    out
}

/// What `send` queued: the number and audience, when it goes, and, when no server holds
/// the data directory (`no_server`), that the next `sportello serve` sends it.
pub fn render_queued(v: &Value, no_server: bool, locales: &Locales, lang: &str) -> String {
    let mut args = FluentArgs::new();
    args.set("id", count(v, "id"));
    args.set("total", count(&v["audience"], "total"));
    let mut out = text(locales, lang, "cli-broadcast-queued-now", Some(&args));
    out.push('\n');
    if let Some(at) = json_time(&v["send_at"]) {
        let mut args = FluentArgs::new();
        args.set("at", at);
        out.push_str(&text(locales, lang, "cli-broadcast-queued-at", Some(&args)));
        out.push('\n');
    }
    if no_server {
        out.push_str(&text(locales, lang, "cli-broadcast-no-server", None));
        out.push('\n');
    }
    out
}

/// What `resend-failed` queued again.
pub fn render_requeued(v: &Value, locales: &Locales, lang: &str) -> String {
    let mut args = FluentArgs::new();
    args.set("id", count(v, "id"));
    args.set("count", count(v, "queued"));
    format!("{}\n", text(locales, lang, "cli-broadcast-requeued", Some(&args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Value {
        serde_json::json!({
            "id": 42, "comune": "brusson", "category": "emergenze", "urgent": true,
            "state": "sending", "languages": ["fr", "it"], "media": "image",
            "send_at": "2026-12-01T07:00:00Z", "started_at": "2026-12-01T07:00:05Z",
            "finished_at": null,
            "figures": {"recipients": 120, "queued": 20, "sent": 95, "delivered": 80, "read": 41,
                        "failed": 5, "interrupted": 2, "skipped": 0, "templates": 0},
        })
    }

    fn no_json(out: &str) {
        assert!(
            !out.contains('{') && !out.contains('"') && !out.contains("cli-"),
            "{out}"
        );
    }

    #[test]
    fn a_status_reads_with_labels_in_italian_and_french() {
        let locales = Locales::embedded().unwrap();
        let it = render_status(&status(), &locales, "it");
        for part in [
            "Diffusione n. 42 (brusson)",
            "emergenze",
            "Urgente",
            "in invio",
            "fr, it",
            "immagine",
            "01/12/2026 08:00",
            "Inizio dell'invio",
            "01/12/2026 08:00",
            "Destinatari",
            "120",
            "Letti",
            "Interrotti",
        ] {
            assert!(it.contains(part), "{part:?} missing from:\n{it}");
        }
        assert!(
            it.lines()
                .any(|l| l.starts_with("  Fine dell'invio") && l.ends_with('—')),
            "{it}"
        );
        assert!(!it.contains("Esclusi"), "zero skipped is not shown:\n{it}");
        let fr = render_status(&status(), &locales, "fr");
        for part in [
            "Diffusion n° 42",
            "en cours d'envoi",
            "Destinataires",
            "Échoués",
            "image",
        ] {
            assert!(fr.contains(part), "{part:?} missing from:\n{fr}");
        }
        no_json(&it);
        no_json(&fr);
    }

    #[test]
    fn a_list_is_a_line_a_broadcast() {
        let locales = Locales::embedded().unwrap();
        let mut other = status();
        other["id"] = 43.into();
        other["category"] = Value::Null;
        other["state"] = "done".into();
        let list = Value::Array(vec![status(), other]);
        let it = render_list(&list, &locales, "it");
        let lines: Vec<&str> = it.lines().collect();
        assert_eq!(lines.len(), 2, "{it}");
        assert!(
            lines[0].contains("n. 42") && lines[0].contains("categoria emergenze"),
            "{it}"
        );
        assert!(lines[0].contains("inviati 95 su 120, non riusciti 5"), "{it}");
        assert!(lines[1].contains("n. 43 · brusson · conclusa"), "{it}");
        let fr = render_list(&list, &locales, "fr");
        assert!(fr.contains("envoyés 95 sur 120, échoués 5"), "{fr}");
        no_json(&it);
        no_json(&fr);
        assert_eq!(
            render_list(&Value::Array(vec![]), &locales, "fr"),
            "Aucune diffusion.\n"
        );
    }

    #[test]
    fn what_was_queued_says_who_will_send_it() {
        let locales = Locales::embedded().unwrap();
        let v = serde_json::json!({"id": 7, "send_at": "2026-12-01T07:00:00Z", "audience": {"total": 1}});
        let held = render_queued(&v, false, &locales, "it");
        assert!(held.contains("Diffusione n. 7 registrata: un destinatario."), "{held}");
        assert!(
            held.contains("01/12/2026 08:00") && !held.contains("sportello serve"),
            "{held}"
        );
        let absent = render_queued(&v, true, &locales, "fr");
        assert!(
            absent.contains("Diffusion n° 7") && absent.contains("sportello serve"),
            "{absent}"
        );
        let again = render_requeued(&serde_json::json!({"id": 7, "queued": 3}), &locales, "it");
        assert_eq!(again, "Diffusione n. 7: 3 invii rimessi in coda.\n");
        no_json(&held);
        no_json(&absent);
    }
}
