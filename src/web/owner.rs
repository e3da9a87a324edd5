//! Whose page it is, for the shared frame ([`html::Owner`]): a comune's name, region, coat
//! of arms and contacts (as links: `tel:`, `mailto:`, the web site, WhatsApp's click-to-chat),
//! with the small print every footer carries (privacy notice, accessibility statement).

use super::html::Owner;
use crate::config::Config;
use crate::i18n::Locales;
use crate::service::runner::Engine;

/// The comune `id`'s pages in `lang`; `None` when no flow has that id.
pub fn comune(engine: &Engine, config: &Config, id: &str, lang: &str) -> Option<Owner> {
    let flow = engine.flows.get(id)?;
    let l = &engine.locales;
    let text = |fluent_id: &str| {
        l.format(lang, fluent_id, None)
            .or_else(|| l.format(flow.default_language(), fluent_id, None))
    };
    let t = |key: &str| l.format(lang, key, None).unwrap_or_default();
    let contacts = flow
        .contacts
        .iter()
        .map(|(key, value)| {
            let label = l
                .format(lang, &format!("page-contact-{key}"), None)
                .unwrap_or_else(|| key.clone());
            (label, value.clone(), link(key, value))
        })
        .collect();
    let arms = config
        .comuni
        .get(id)
        .and_then(|c| c.arms.as_ref())
        .map(|_| format!("/c/{id}/stemma"));
    Some(Owner {
        name: text(&flow.name).unwrap_or_else(|| id.to_string()),
        tagline: t("page-tagline"),
        region: flow.region.as_deref().and_then(text),
        arms,
        home: format!("/c/{id}?lang={lang}"),
        contacts,
        notes: vec![
            (t("page-subscribe-privacy"), format!("/c/{id}?lang={lang}#privacy")),
            (t("page-accessibility"), format!("/c/{id}/accessibilita?lang={lang}")),
        ],
    })
}

/// The service's own pages (the list of comuni, the simulator) in `lang`.
pub fn service(locales: &Locales, lang: &str) -> Owner {
    let brand = locales.format(lang, "page-brand", None).unwrap_or_default();
    let mut owner = Owner::service(locales, lang, &brand);
    owner.tagline = locales.format(lang, "page-brand-tagline", None).unwrap_or_default();
    owner
}

/// Where a contact leads: an address to write to, a number to call or to message on
/// WhatsApp, a web site. The office's address is text only.
pub fn link(key: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if value.contains('@') && !value.contains(' ') {
        return Some(format!("mailto:{value}"));
    }
    if key == "website" || value.starts_with("www.") || value.starts_with("https://") {
        let bare = value.trim_start_matches("https://").trim_start_matches("http://");
        return Some(format!("https://{bare}"));
    }
    let number = international(value)?;
    if key == "whatsapp" {
        Some(format!("https://wa.me/{}", number.trim_start_matches('+')))
    } else if key.contains("phone") {
        Some(format!("tel:{number}"))
    } else {
        None
    }
}

/// The first number in `value` in international form (`+39…`): what comes before a second
/// number (" - ") or an extension ("int."), digits only; `None` when too short to call.
fn international(value: &str) -> Option<String> {
    let first = value.split(" - ").next()?.split(" int").next()?.split('/').next()?;
    let digits: String = first.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 || first.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    Some(if first.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else {
        format!("+39{digits}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_become_links_a_phone_can_follow() {
        assert_eq!(
            link("email", "urp@comune.assemini.ca.it").as_deref(),
            Some("mailto:urp@comune.assemini.ca.it")
        );
        assert_eq!(
            link("pec", "comunemadone@pec.it").as_deref(),
            Some("mailto:comunemadone@pec.it")
        );
        assert_eq!(
            link("website", "www.comune.brusson.ao.it").as_deref(),
            Some("https://www.comune.brusson.ao.it")
        );
        assert_eq!(
            link("phone", "0125 300132 - 300683").as_deref(),
            Some("tel:+390125300132")
        );
        assert_eq!(link("phone", "035 991174 int. 4").as_deref(), Some("tel:+39035991174"));
        assert_eq!(link("privacy_phone", "070 949252").as_deref(), Some("tel:+39070949252"));
        assert_eq!(link("phone", "800 195678").as_deref(), Some("tel:+39800195678"));
        assert_eq!(
            link("whatsapp", "+39 339 2057848").as_deref(),
            Some("https://wa.me/393392057848")
        );
        assert_eq!(
            link("whatsapp", "338 7203109").as_deref(),
            Some("https://wa.me/393387203109")
        );
        assert_eq!(link("office", "Piazza Municipio n. 1 - 11022 Brusson"), None);
        assert_eq!(link("office", "via G. Falcone n. 80"), None);
        assert_eq!(link("phone", "123"), None);
    }
}
