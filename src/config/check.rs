//! Checks of the configuration against what it names: the flows of its `[comuni.X]`
//! sections and the secrets their channels need. `serve` runs them before anything listens,
//! so that a typo or a missing secret stops the start with the file and line, instead of a
//! comune quietly not routed or a first webhook failing.

use super::{Config, ConfigError, Secrets};

/// The file a configuration was read from, and its text, to name the line of a mistake.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: String,
    pub text: String,
}

/// The line (1-based) of `key` in `text`: where it is set (`key =`) or opens a table
/// (`[...key]`), else the first line that mentions it outside a comment; 0 when nowhere.
pub(super) fn line_of(text: &str, key: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let code = |l: &str| l.split('#').next().unwrap_or("").trim().to_string();
    let set = lines.iter().position(|l| {
        let c = code(l);
        c.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
            || (c.starts_with('[') && c.trim_end_matches(']').ends_with(key))
    });
    set.or_else(|| lines.iter().position(|l| code(l).contains(key)))
        .map_or(0, |i| i + 1)
}

/// The largest coat of arms served.
pub const MAX_ARMS: u64 = 512 * 1024;

/// Whether `path` is a file the pages can show as a coat of arms.
fn readable_image(path: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err("not a file".into()),
        Ok(m) if m.len() > MAX_ARMS => Err(format!("larger than {} KiB", MAX_ARMS / 1024)),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("cannot be read ({e})")),
    }
}

impl Config {
    /// Refuses a `[comuni.X]` for which there is no flow (naming the closest one), a coat of
    /// arms that is not a readable PNG, JPEG or SVG file, and a comune channel configured
    /// without the secrets it needs to receive and to answer.
    pub fn check_serving(&self, flows: &[&str], secrets: &Secrets) -> Result<(), ConfigError> {
        for (id, c) in &self.comuni {
            if !flows.contains(&id.as_str()) {
                let hint = closest(id, flows).map_or(String::new(), |n| format!(" (did you mean \"{n}\"?)"));
                return Err(self.invalid(
                    &format!("comuni.{id}"),
                    format!("[comuni.{id}]: there is no flow \"{id}\"{hint}"),
                ));
            }
            let suffix = super::env_suffix(id);
            // The channel named at `needle` is `what`; `missing` are the variables unset.
            let refuse = |needle: &str, what: &str, missing: Vec<Option<String>>| {
                let missing: Vec<String> = missing.into_iter().flatten().collect();
                if missing.is_empty() {
                    return Ok(());
                }
                let reason = format!(
                    "comuni.{id} has {what} but {} not set in the environment",
                    sentence(&missing)
                );
                Err(self.invalid(needle, reason))
            };
            if let Some(arms) = &c.arms {
                if let Err(reason) = super::arms_kind(arms).and_then(|_| readable_image(arms)) {
                    return Err(self.invalid("arms", format!("comuni.{id}.arms {}: {reason}", arms.display())));
                }
            }
            if let Some(number) = &c.whatsapp_phone_number_id {
                let missing = vec![
                    secrets
                        .whatsapp_app_secret
                        .is_none()
                        .then(|| "SPORTELLO_WHATSAPP_APP_SECRET".to_string()),
                    secrets
                        .whatsapp_token(id)
                        .is_none()
                        .then(|| format!("SPORTELLO_WHATSAPP_TOKEN (or SPORTELLO_WHATSAPP_TOKEN_{suffix})")),
                ];
                refuse(number, "a WhatsApp number", missing)?;
            }
            if let Some(bot) = &c.telegram_bot {
                let missing = vec![
                    secrets
                        .telegram_token(id)
                        .is_none()
                        .then(|| format!("SPORTELLO_TELEGRAM_TOKEN_{suffix}")),
                    secrets
                        .telegram_secret(id)
                        .is_none()
                        .then(|| format!("SPORTELLO_TELEGRAM_SECRET_{suffix}")),
                ];
                refuse(bot, "a Telegram bot", missing)?;
            }
        }
        Ok(())
    }

    /// A mistake at the line of `key` in the file this configuration was read from.
    fn invalid(&self, key: &str, reason: String) -> ConfigError {
        match &self.origin {
            Some(o) => ConfigError::Invalid {
                file: o.file.clone(),
                line: line_of(&o.text, key),
                reason,
            },
            None => ConfigError::Invalid {
                file: "(built-in configuration)".into(),
                line: 0,
                reason,
            },
        }
    }
}

/// "A is" or "A and B are".
fn sentence(names: &[String]) -> String {
    match names {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(" and ")),
    }
}

/// The name among `names` closest to `name`, if one is near enough to be a typo.
fn closest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    names
        .iter()
        .filter_map(|n| Some((crate::text::distance::bounded_distance(name, n, limit)?, *n)))
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        Config::load(f.path())
    }

    fn secrets(vars: &[(&str, &str)]) -> Secrets {
        Secrets::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const FLOWS: [&str; 5] = ["assemini", "brusson", "isili", "madone", "isola-delle-femmine"];

    #[test]
    fn a_misspelt_comune_names_its_line_and_the_closest_flow() {
        let c = load("# the comuni\n\n[comuni.asemini]\nwhatsapp_phone_number_id = \"1\"\n").unwrap();
        let e = c.check_serving(&FLOWS, &secrets(&[])).unwrap_err().to_string();
        assert!(
            e.ends_with(":3: [comuni.asemini]: there is no flow \"asemini\" (did you mean \"assemini\"?)"),
            "{e}"
        );
        let far = load("[comuni.roma]\n").unwrap();
        let e = far.check_serving(&FLOWS, &secrets(&[])).unwrap_err().to_string();
        assert!(e.ends_with(":1: [comuni.roma]: there is no flow \"roma\""), "{e}");
    }

    #[test]
    fn a_coat_of_arms_must_be_a_readable_image_file() {
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("stemma.svg");
        std::fs::write(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        let big = dir.path().join("big.png");
        std::fs::write(&big, vec![0u8; MAX_ARMS as usize + 1]).unwrap();
        let with = |path: &std::path::Path| load(&format!("[comuni.isili]\narms = \"{}\"\n", path.display())).unwrap();
        assert!(with(&svg).check_serving(&FLOWS, &secrets(&[])).is_ok());
        for (path, reason) in [
            (dir.path().join("nowhere.svg"), "cannot be read"),
            (big, "larger than 512 KiB"),
            (dir.path().join("stemma.gif"), "not a .png, .jpg or .svg file"),
        ] {
            let e = with(&path)
                .check_serving(&FLOWS, &secrets(&[]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(":2: comuni.isili.arms") && e.contains(reason), "{e}");
        }
    }

    #[test]
    fn a_channel_without_its_secrets_is_refused_and_with_them_accepted() {
        let c = load("[comuni.brusson]\nwhatsapp_phone_number_id = \"100\"\ntelegram_bot = \"BrussonBot\"\n").unwrap();
        let e = c.check_serving(&FLOWS, &secrets(&[])).unwrap_err().to_string();
        assert!(e.contains(":2: comuni.brusson has a WhatsApp number but SPORTELLO_WHATSAPP_APP_SECRET and SPORTELLO_WHATSAPP_TOKEN (or SPORTELLO_WHATSAPP_TOKEN_BRUSSON) are not set"), "{e}");
        let wa = [
            ("SPORTELLO_WHATSAPP_APP_SECRET", "s"),
            ("SPORTELLO_WHATSAPP_TOKEN_BRUSSON", "t"),
        ];
        let e = c.check_serving(&FLOWS, &secrets(&wa)).unwrap_err().to_string();
        assert!(e.contains(":3: comuni.brusson has a Telegram bot but SPORTELLO_TELEGRAM_TOKEN_BRUSSON and SPORTELLO_TELEGRAM_SECRET_BRUSSON are not set"), "{e}");
        let all = [
            wa[0],
            wa[1],
            ("SPORTELLO_TELEGRAM_TOKEN_BRUSSON", "b"),
            ("SPORTELLO_TELEGRAM_SECRET_BRUSSON", "x"),
        ];
        assert!(c.check_serving(&FLOWS, &secrets(&all)).is_ok());
        // The shared token serves every comune.
        let shared = [
            ("SPORTELLO_WHATSAPP_APP_SECRET", "s"),
            ("SPORTELLO_WHATSAPP_TOKEN", "t"),
        ];
        let wa_only = load("[comuni.isola-delle-femmine]\nwhatsapp_phone_number_id = \"7\"\n").unwrap();
        assert!(wa_only.check_serving(&FLOWS, &secrets(&shared)).is_ok());
    }

    #[test]
    fn a_key_is_found_where_it_is_set_not_where_a_comment_names_it() {
        let text = "# bind is where the server listens\n[server]\n# bind = \"old\"\nbind = \"nowhere\"\n";
        assert_eq!(line_of(text, "bind"), 4);
        assert_eq!(line_of("[comuni.madone]\n", "comuni.madone"), 1);
        assert_eq!(line_of("x = 1\n", "missing"), 0);
        let e = load(text).unwrap_err().to_string();
        assert!(e.contains(":4: server.bind \"nowhere\""), "{e}");
    }

    #[test]
    fn a_public_url_is_https_except_on_this_machine() {
        let e = load("[server]\npublic_url = \"http://sportello.comune.it\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":2: server.public_url \"http://sportello.comune.it\" is not https://"),
            "{e}"
        );
        for ok in [
            "https://sportello.comune.it",
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:8080",
        ] {
            assert!(load(&format!("[server]\npublic_url = \"{ok}\"\n")).is_ok(), "{ok}");
        }
        assert!(load("[server]\npublic_url = \"http://localhost.evil.example\"\n").is_err());
    }

    #[test]
    fn closest_names_are_typos_only() {
        assert_eq!(closest("asemini", &FLOWS), Some("assemini"));
        assert_eq!(closest("isola-delle-femine", &FLOWS), Some("isola-delle-femmine"));
        assert_eq!(closest("milano", &FLOWS), None);
    }
}
