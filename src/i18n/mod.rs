//! Fluent loading and rendering: every text a citizen sees comes from `locales/<lang>/*.ftl`.
//!
//! One concurrent bundle per language, shared across threads. Isolation marks are turned
//! off: they would show as invisible characters in WhatsApp and Telegram text. Each reply is
//! rendered with the flow's context (comune name, keywords, contacts) as implicit arguments,
//! so messages can say `{ $unsubscribe }` without the engine passing it every time.

use std::collections::BTreeMap;
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

use crate::flow::{Action, Flow};
use crate::message::{Arg, Reply};

/// A Fluent file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    #[error("{file}:{line}: {reason}")]
    Parse { file: String, line: usize, reason: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// A rendered reply, as channels send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// The Fluent id it came from (stable; tests and channels key on it).
    pub key: String,
    pub text: String,
    pub buttons: Vec<RenderedButton>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedButton {
    pub id: String,
    pub title: String,
}

#[cfg(test)]
impl Rendered {
    /// A rendered reply for adapters' tests: `buttons` as (id, title).
    pub(crate) fn sample(text: &str, buttons: &[(&str, &str)]) -> Rendered {
        Rendered {
            key: "test-key".into(),
            text: text.into(),
            buttons: buttons
                .iter()
                .map(|(id, title)| RenderedButton {
                    id: (*id).into(),
                    title: (*title).into(),
                })
                .collect(),
        }
    }
}

/// All languages' bundles.
pub struct Locales {
    bundles: BTreeMap<String, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Locales {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locales")
            .field("languages", &self.bundles.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Locales {
    /// Builds bundles from (language, file name, source) triples.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, String, String)>,
    ) -> Result<Locales, Vec<LocaleError>> {
        let mut bundles: BTreeMap<String, FluentBundle<FluentResource>> = BTreeMap::new();
        let mut errors = Vec::new();
        for (lang, file, src) in sources {
            let bundle = bundles.entry(lang.to_string()).or_insert_with(|| {
                let id = lang.parse().unwrap_or_default();
                let mut b = FluentBundle::new_concurrent(vec![id]);
                b.set_use_isolating(false);
                b
            });
            // Kept to turn the parser's byte offsets and duplicate ids into line numbers.
            let text = src.clone();
            let line_at = |byte: usize| text[..byte.min(text.len())].matches('\n').count() + 1;
            let res = match FluentResource::try_new(src) {
                Ok(r) => r,
                Err((_, errs)) => {
                    for e in errs {
                        // The start of the entry that failed (the parser's own position may
                        // be past its end, on the next line).
                        let at = e.slice.as_ref().map_or(e.pos.start, |s| s.start);
                        errors.push(LocaleError::Parse {
                            file: format!("locales/{lang}/{file}"),
                            line: line_at(at),
                            reason: e.kind.to_string(),
                        });
                    }
                    continue;
                }
            };
            if let Err(errs) = bundle.add_resource(res) {
                for e in errs {
                    // A message defined twice (here or in another file of the language):
                    // the line of its definition in this file.
                    let line = match &e {
                        fluent_bundle::FluentError::Overriding { id, .. } => text
                            .lines()
                            .position(|l| l.starts_with(&format!("{id} =")) || l.starts_with(&format!("{id}=")))
                            .map_or(0, |i| i + 1),
                        _ => 0,
                    };
                    errors.push(LocaleError::Parse {
                        file: format!("locales/{lang}/{file}"),
                        line,
                        reason: e.to_string(),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(Locales { bundles })
        } else {
            Err(errors)
        }
    }

    /// Loads `dir/<lang>/*.ftl`.
    pub fn load_dir(dir: &Path) -> Result<Locales, Vec<LocaleError>> {
        let io = |p: &Path, e| vec![LocaleError::Io(p.display().to_string(), e)];
        let mut sources = Vec::new();
        let mut langs: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(|e| e.ok())
            .collect();
        langs.sort_by_key(|e| e.file_name());
        let mut names = Vec::new();
        for lang in langs.iter().filter(|e| e.path().is_dir()) {
            let mut files: Vec<_> = std::fs::read_dir(lang.path())
                .map_err(|e| io(&lang.path(), e))?
                .filter_map(|e| e.ok())
                .collect();
            files.sort_by_key(|e| e.file_name());
            for f in files
                .iter()
                .filter(|f| f.path().extension().is_some_and(|x| x == "ftl"))
            {
                let src = std::fs::read_to_string(f.path()).map_err(|e| io(&f.path(), e))?;
                names.push(lang.file_name().to_string_lossy().into_owned());
                sources.push((f.file_name().to_string_lossy().into_owned(), src));
            }
        }
        Locales::from_sources(
            names
                .iter()
                .map(String::as_str)
                .zip(sources)
                .map(|(l, (f, s))| (l, f, s)),
        )
    }

    /// The locales compiled into the binary.
    pub fn embedded() -> Result<Locales, Vec<LocaleError>> {
        Locales::from_sources(
            crate::embedded::LOCALES
                .iter()
                .map(|(l, f, s)| (*l, f.to_string(), s.to_string())),
        )
    }

    pub fn has_language(&self, lang: &str) -> bool {
        self.bundles.contains_key(lang)
    }

    pub fn has_message(&self, lang: &str, id: &str) -> bool {
        self.bundles.get(lang).is_some_and(|b| b.has_message(id))
    }

    /// Formats one message; `None` if it does not exist in that language.
    pub fn format(&self, lang: &str, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundles.get(lang)?;
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            // Ids only: arguments may hold personal data.
            tracing::warn!(lang, id, errors = errors.len(), "fluent formatting errors");
        }
        Some(text.into_owned())
    }

    /// Renders a reply for a citizen of `flow` speaking `lang`.
    pub fn render(&self, flow: &Flow, lang: &str, reply: &Reply) -> Rendered {
        let lang = if self.has_message(lang, &reply.key) {
            lang
        } else {
            flow.default_language()
        };
        let mut args = FluentArgs::new();
        let comune = self.format(lang, &flow.name, None).unwrap_or_default();
        args.set("comune", comune);
        for (action, name) in [
            (Action::Subscribe, "subscribe"),
            (Action::Unsubscribe, "unsubscribe"),
            (Action::Privacy, "privacy"),
            (Action::MyData, "mydata"),
            (Action::Operator, "operator"),
        ] {
            if let Some(p) = flow.phrase(action, lang) {
                args.set(name, p.to_string());
            }
        }
        for (k, v) in &flow.contacts {
            args.set(k.clone(), v.clone());
        }
        args.set("version", flow.privacy.version.clone());
        if let Some(age) = flow.min_age {
            args.set("min_age", age as i64);
        }
        if let Some(days) = flow.answer_within_working_days {
            args.set("days", days as i64);
        }
        for (k, id) in &reply.msg_args {
            let text = self.format(lang, id, Some(&args)).unwrap_or_else(|| id.clone());
            args.set(k.clone(), text);
        }
        for (k, v) in &reply.args {
            match v {
                Arg::Num(n) => args.set(k.clone(), FluentValue::from(*n)),
                Arg::Str(s) => args.set(k.clone(), s.clone()),
            }
        }
        let text = self.format(lang, &reply.key, Some(&args)).unwrap_or_else(|| {
            tracing::error!(lang, id = %reply.key, "missing Fluent message");
            reply.key.clone()
        });
        let buttons = reply
            .buttons
            .iter()
            .map(|b| RenderedButton {
                id: b.id.clone(),
                title: match &b.title {
                    Some(t) => t.clone(),
                    None => self
                        .format(lang, &b.label, Some(&args))
                        .unwrap_or_else(|| b.label.clone()),
                },
            })
            .collect();
        Rendered {
            key: reply.key.clone(),
            text,
            buttons,
        }
    }
}

impl crate::flow::Catalog for Locales {
    fn has_language(&self, lang: &str) -> bool {
        Locales::has_language(self, lang)
    }

    fn has_message(&self, lang: &str, id: &str) -> bool {
        Locales::has_message(self, lang, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(sources: &[(&str, &str)]) -> Vec<String> {
        let sources = sources
            .iter()
            .map(|(file, src)| ("it", file.to_string(), src.to_string()));
        match Locales::from_sources(sources) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_broken_or_repeated_message_names_its_line() {
        let broken = errors(&[("core.ftl", "a = uno\nb = due\nc = { $x\nd = quattro\n")]);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(broken[0].starts_with("locales/it/core.ftl:3: "), "{broken:?}");
        let twice = errors(&[("core.ftl", "a = uno\n"), ("web.ftl", "# note\nb = due\na = ancora\n")]);
        assert_eq!(twice.len(), 1, "{twice:?}");
        assert!(twice[0].starts_with("locales/it/web.ftl:3: "), "{twice:?}");
    }
}
