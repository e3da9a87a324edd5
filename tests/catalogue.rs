//! The catalogue conventions (issue 22): `publiccode.yml` has every key the standard makes
//! mandatory, with values it allows. A small reader of the file's block structure (keys by
//! indentation), enough for this file: the crate has no YAML parser and needs none.

use std::collections::BTreeMap;

use crate::util::root;

/// Every `a.b.c` key path of the file with its scalar value ("" for a mapping or a list),
/// and list items as `a.b[]` (one entry per item's first line).
fn paths(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut in_block: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(block) = in_block {
            if trimmed.is_empty() || indent > block {
                continue;
            }
            in_block = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let prefix: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        let (item, rest) = match trimmed.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if item {
            out.entry(format!("{}[]", prefix.join(".")))
                .or_default()
                .push(rest.to_string());
        }
        if let Some((key, value)) = rest
            .split_once(':')
            .filter(|(k, _)| !k.contains(' ') || k.starts_with('"'))
        {
            let value = value.trim().trim_matches('"').to_string();
            let mut path = prefix.clone();
            if item {
                path.push("[]");
            }
            path.push(key.trim());
            if value == ">" || value == ">-" || value == "|" {
                in_block = Some(indent);
                let body: String = text
                    .lines()
                    .skip_while(|l| *l != line)
                    .skip(1)
                    .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ");
                out.entry(path.join(".")).or_default().push(body.trim().to_string());
            } else {
                out.entry(path.join(".")).or_default().push(value);
            }
            let depth = if item { indent + 2 } else { indent };
            if item {
                stack.push((indent, "[]".into()));
            }
            stack.push((depth, key.trim().to_string()));
        }
    }
    out
}

#[test]
fn publiccode_yml_has_the_mandatory_keys_with_allowed_values() {
    let text = std::fs::read_to_string(root().join("publiccode.yml")).unwrap();
    let p = paths(&text);
    let one = |key: &str| -> String {
        let values = p
            .get(key)
            .unwrap_or_else(|| panic!("publiccode.yml lacks {key}: {p:#?}"));
        values[0].clone()
    };
    for key in [
        "publiccodeYmlVersion",
        "name",
        "url",
        "developmentStatus",
        "softwareType",
        "legal.license",
        "maintenance.type",
        "localisation.localisationReady",
    ] {
        assert!(!one(key).is_empty(), "{key} is empty");
    }
    assert_eq!(one("publiccodeYmlVersion"), "0.5");
    assert!(one("url").starts_with("https://"));
    assert_eq!(one("legal.license"), "EUPL-1.2", "the licence of Cargo.toml");
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"EUPL-1.2\""));
    assert!(cargo.contains(&format!("version = \"{}\"", one("softwareVersion"))));
    assert!(["concept", "development", "beta", "stable", "obsolete"].contains(&one("developmentStatus").as_str()));
    assert!([
        "standalone/mobile",
        "standalone/iot",
        "standalone/desktop",
        "standalone/web",
        "standalone/backend",
        "standalone/other",
        "addon",
        "library",
        "configurationFiles"
    ]
    .contains(&one("softwareType").as_str()));
    assert!(["internal", "contract", "community", "none"].contains(&one("maintenance.type").as_str()));
    assert!(
        !p["maintenance.contacts[]"].is_empty(),
        "community maintenance names its contacts"
    );
    for list in ["platforms[]", "categories[]", "localisation.availableLanguages[]"] {
        assert!(p.get(list).is_some_and(|v| !v.is_empty()), "{list} is empty");
    }
    assert_eq!(p["localisation.availableLanguages[]"], ["it", "fr"]);
    for lang in ["it", "en"] {
        let short = one(&format!("description.{lang}.shortDescription"));
        let long = one(&format!("description.{lang}.longDescription"));
        assert!(!short.is_empty() && short.chars().count() <= 150, "{lang}: {short}");
        assert!(
            (150..=10_000).contains(&long.chars().count()),
            "{lang}: {} chars",
            long.len()
        );
        assert!(
            p[&format!("description.{lang}.features[]")].len() >= 3,
            "{lang} features"
        );
    }
    let proprietary = &p["dependsOn.proprietary[]"];
    assert!(proprietary.iter().any(|d| d.contains("WhatsApp")), "{proprietary:?}");
    assert!(proprietary.iter().any(|d| d.contains("Telegram")), "{proprietary:?}");
}
