//! Loading flow files and validating them into [`Flow`]s.
//!
//! Every check that can fail names the file and the line: unknown keys (serde), bad hours,
//! unknown fields or roles, a keyword two actions could both match, a Fluent id missing in
//! a language the flow offers. All errors of a file are collected, not just the first.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::model::{PhrasesByLang, RawFlow};
use super::Catalog;
use super::{Action, Category, ConsentMode, ConsentSpec, Field, Flow, FlowError, Privacy, Registration, ROLES};
use crate::hours::Schedule;
use crate::text::KeywordSet;

/// All the flows of a deployment, by comune id.
#[derive(Debug, Default)]
pub struct Flows {
    by_id: BTreeMap<String, Flow>,
}

impl Flows {
    pub fn get(&self, id: &str) -> Option<&Flow> {
        self.by_id.get(id)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Flow> {
        self.by_id.values()
    }
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
    /// Adds a flow, or replaces the one with the same id (a comune's flow reloaded).
    pub fn replace(&mut self, flow: Flow) {
        self.by_id.insert(flow.id.clone(), flow);
    }
    fn from_sources<'a>(
        sources: impl Iterator<Item = (String, std::borrow::Cow<'a, str>)>,
        locales: &dyn Catalog,
    ) -> Result<Flows, Vec<FlowError>> {
        let mut flows = Flows::default();
        let mut errors = Vec::new();
        for (file, src) in sources {
            match parse_flow(&file, &src, locales) {
                Ok(flow) => {
                    flows.by_id.insert(flow.id.clone(), flow);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(flows)
        } else {
            Err(errors)
        }
    }
}

/// Loads every `*.toml` in `dir`.
pub fn load_dir(dir: &Path, locales: &dyn Catalog) -> Result<Flows, Vec<FlowError>> {
    let io_err = |reason: String| {
        vec![FlowError {
            file: dir.display().to_string(),
            line: 0,
            reason,
        }]
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io_err(format!("cannot read the flows folder: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for p in paths {
        let src = std::fs::read_to_string(&p).map_err(|e| io_err(format!("cannot read {}: {e}", p.display())))?;
        sources.push((p.display().to_string(), std::borrow::Cow::Owned(src)));
    }
    Flows::from_sources(sources.into_iter(), locales)
}

/// The flows compiled into the binary (the repository's `flows/` at build time).
pub fn load_embedded(locales: &dyn Catalog) -> Result<Flows, Vec<FlowError>> {
    let sources = crate::embedded::FLOWS
        .iter()
        .map(|(name, src)| (format!("flows/{name}"), std::borrow::Cow::Borrowed(*src)));
    Flows::from_sources(sources, locales)
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Parses and validates one flow file. `file` is used in error messages and its stem must
/// equal the flow's `id`.
pub fn parse_flow(file: &str, src: &str, locales: &dyn Catalog) -> Result<Flow, Vec<FlowError>> {
    let err = |offset: usize, reason: String| FlowError {
        file: file.to_string(),
        line: line_of(src, offset),
        reason,
    };
    let raw: RawFlow = toml::from_str(src).map_err(|e| {
        vec![err(
            e.span().map(|s| s.start).unwrap_or(0),
            e.message().trim().to_string(),
        )]
    })?;
    let mut errors = Vec::new();
    let at = |s: &Spanned<String>| s.span().start;

    let id = raw.id.get_ref().clone();
    let stem = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if id != stem {
        errors.push(err(
            at(&raw.id),
            format!("id \"{id}\" must match the file name \"{stem}\""),
        ));
    }
    let languages = raw.languages.get_ref().clone();
    if languages.is_empty() {
        errors.push(err(
            raw.languages.span().start,
            "languages must list at least one".into(),
        ));
    }
    for lang in &languages {
        if !locales.has_language(lang) {
            errors.push(err(
                raw.languages.span().start,
                format!("no locale folder for language \"{lang}\""),
            ));
        }
    }

    // Keywords: every phrase of every action in one set, so conflicts are found across actions.
    let mut keywords = KeywordSet::new();
    let mut phrases = BTreeMap::new();
    let mut spans: Vec<(Action, String, usize)> = Vec::new();
    let kw = &raw.keywords;
    let tables: [(Action, &PhrasesByLang); 9] = [
        (Action::Subscribe, &kw.subscribe),
        (Action::Unsubscribe, &kw.unsubscribe),
        (Action::Language, &kw.language),
        (Action::Privacy, &kw.privacy),
        (Action::MyData, &kw.my_data),
        (Action::Operator, &kw.operator),
        (Action::Yes, &kw.yes),
        (Action::No, &kw.no),
        (Action::Greeting, &kw.greeting),
    ];
    // Isili's keyword is followed by the registration data in the same message.
    let one_shot = raw.registration.as_ref().is_some_and(|r| r.one_shot);
    for (action, table) in tables {
        for (lang, list) in table {
            if !languages.contains(lang) {
                let offset = list.first().map(at).unwrap_or(0);
                errors.push(err(
                    offset,
                    format!("keywords in \"{lang}\", which the flow does not offer"),
                ));
            }
            for phrase in list {
                if crate::text::normalize(phrase.get_ref()).is_empty() {
                    errors.push(err(at(phrase), "empty keyword".into()));
                    continue;
                }
                let prefix = action == Action::Subscribe && one_shot;
                keywords.add(action, lang, phrase.get_ref(), prefix);
                phrases
                    .entry((action, lang.clone()))
                    .or_insert_with(|| phrase.get_ref().clone());
                spans.push((action, phrase.get_ref().clone(), at(phrase)));
            }
        }
    }
    if kw.subscribe.is_empty() || kw.unsubscribe.is_empty() {
        errors.push(err(
            0,
            "keywords.subscribe and keywords.unsubscribe are required".into(),
        ));
    }
    // The lexicon of each language offered (yes, no, greetings, paraphrases, negation).
    let mut lexicons = Vec::new();
    for lang in &languages {
        match crate::text::intent::lexicon(lang) {
            Some(l) => lexicons.push(l),
            None => errors.push(err(
                raw.languages.span().start,
                format!("no intent lexicon for language \"{lang}\" (lexicons/{lang}/intents.toml)"),
            )),
        }
    }
    for (a, pa, b, pb) in keywords.conflicts() {
        // Point at the later of the two phrases: the earlier one was fine until it came.
        let offset = spans
            .iter()
            .filter(|(act, p, _)| (*act == b && *p == pb) || (*act == a && *p == pa))
            .map(|s| s.2)
            .max()
            .unwrap_or(0);
        errors.push(err(
            offset,
            format!(
                "keyword \"{pb}\" ({}) can be confused with \"{pa}\" ({})",
                b.as_str(),
                a.as_str()
            ),
        ));
    }

    let registration = raw.registration.as_ref().map(|r| {
        let mut fields = Vec::new();
        for f in r.fields.get_ref() {
            match Field::from_key(f) {
                Some(field) => fields.push(field),
                None => errors.push(err(
                    r.fields.span().start,
                    format!("unknown registration field \"{f}\""),
                )),
            }
        }
        Registration {
            when: r.when,
            fields,
            one_shot: r.one_shot,
            consents: r
                .consents
                .iter()
                .map(|c| ConsentSpec {
                    id: c.id.clone(),
                    ask: c.ask.get_ref().clone(),
                    phrases: c.phrases.clone(),
                    shows_notice: c.shows_notice,
                })
                .collect(),
        }
    });
    if raw.subscription.consent == ConsentMode::Registration
        && registration.as_ref().is_none_or(|r| r.consents.is_empty())
    {
        errors.push(err(
            0,
            "consent = \"registration\" needs [[registration.consents]]".into(),
        ));
    }

    let hours = raw.hours.as_ref().and_then(|h| {
        let slots: Vec<String> = h.slots.iter().map(|s| s.get_ref().clone()).collect();
        let closures: Vec<String> = h.closures.iter().map(|s| s.get_ref().clone()).collect();
        match Schedule::parse(&slots, h.patron.as_ref().map(|p| p.get_ref().as_str()), &closures) {
            Ok(s) => Some(s),
            Err(e) => {
                // Point at the first value the schedule parser names, else at the first slot.
                let text = e.to_string();
                let offset = h
                    .slots
                    .iter()
                    .chain(h.closures.iter())
                    .chain(h.patron.iter())
                    .find(|s| text.contains(s.get_ref().as_str()))
                    .or(h.slots.first())
                    .map(at)
                    .unwrap_or(0);
                errors.push(err(offset, format!("hours: {text}")));
                None
            }
        }
    });

    let mut messages = BTreeMap::new();
    for (role, id) in &raw.messages {
        if !ROLES.contains(&role.as_str()) {
            errors.push(err(
                at(id),
                format!("unknown message role \"{role}\" (known: {})", ROLES.join(", ")),
            ));
        }
        messages.insert(role.clone(), id.get_ref().clone());
    }

    let privacy = Privacy {
        notice: raw.privacy.notice.get_ref().clone(),
        version: raw.privacy.version.clone(),
        on_unsubscribe: raw.privacy.on_unsubscribe,
        retain_days: raw.privacy.retain_days,
    };
    if privacy.on_unsubscribe == super::OnUnsubscribe::Retain && privacy.retain_days.is_none() {
        errors.push(err(
            raw.privacy.notice.span().start,
            "on_unsubscribe = \"retain\" needs retain_days".into(),
        ));
    }

    let moderation = raw.moderation.as_ref().map(|m| {
        let mut grave = Vec::new();
        for name in m.grave.get_ref() {
            match crate::moderation::Rule::from_name(name) {
                Some(rule) => grave.push(rule),
                None => errors.push(err(m.grave.span().start, format!("unknown moderation rule \"{name}\""))),
            }
        }
        if m.strikes_to_block == 0 {
            errors.push(err(
                m.grave.span().start,
                "moderation.strikes_to_block must be at least 1".into(),
            ));
        }
        super::Moderation {
            strikes_to_block: m.strikes_to_block,
            grave,
        }
    });

    let flow = Flow {
        id,
        mode: raw.mode,
        languages,
        name: raw.name.get_ref().clone(),
        region: raw.region.clone(),
        contacts: raw.contacts.clone(),
        keywords,
        phrases,
        consent: raw.subscription.consent,
        min_age: raw.subscription.min_age,
        registration,
        privacy,
        hours,
        answer_within_working_days: raw.desk.as_ref().map(|d| d.answer_within_working_days),
        messages,
        categories: raw
            .categories
            .iter()
            .map(|c| Category {
                id: c.id.clone(),
                label: c.label.get_ref().clone(),
                urgent: c.urgent,
            })
            .collect(),
        moderation,
        lexicons,
    };

    // The locale lint: every id this flow can send exists in every language it offers.
    for lang in flow.languages.iter().filter(|l| locales.has_language(l)) {
        for id in flow.fluent_ids() {
            if !locales.has_message(lang, &id) {
                let offset = src.find(&format!("\"{id}\"")).unwrap_or(0);
                errors.push(err(
                    offset,
                    format!("Fluent message \"{id}\" is missing in locales/{lang}/"),
                ));
            }
        }
    }

    if errors.is_empty() {
        Ok(flow)
    } else {
        Err(errors)
    }
}
