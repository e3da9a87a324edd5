//! Flow validation: every broken flow is refused at start with file, line and reason, and
//! `sportello flows check` exits non-zero. Fixtures are the real flows with one change each.

use std::path::Path;

use sportello::flow::{self, parse_flow};
use sportello::i18n::Locales;

use crate::util::{root, sportello};

fn locales() -> Locales {
    Locales::load_dir(&root().join("locales")).unwrap()
}

fn real(comune: &str) -> String {
    std::fs::read_to_string(root().join("flows").join(format!("{comune}.toml"))).unwrap()
}

/// Parses `src` as `flows/<comune>.toml` and returns the error lines.
fn errors(comune: &str, src: &str) -> Vec<String> {
    match parse_flow(&format!("flows/{comune}.toml"), src, &locales()) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

fn line_of(src: &str, needle: &str) -> usize {
    src.lines().position(|l| l.contains(needle)).expect("needle in fixture") + 1
}

#[test]
fn the_five_flows_are_valid() {
    let flows = flow::load_dir(&root().join("flows"), &locales()).expect("valid flows");
    let ids: Vec<&str> = flows.ids().collect();
    assert_eq!(ids, ["assemini", "brusson", "isili", "isola-delle-femmine", "madone"]);
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let src = real("madone").replace("[subscription]\n", "[subscription]\nminimum_age = 16\n");
    let errs = errors("madone", &src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let want = format!("flows/madone.toml:{}:", line_of(&src, "minimum_age"));
    assert!(errs[0].starts_with(&want), "{} does not start with {want}", errs[0]);
    assert!(errs[0].contains("minimum_age"), "{}", errs[0]);
}

#[test]
fn a_bad_time_range_is_refused_with_its_line() {
    let src = real("isili").replace("\"tue,thu 15:00-18:00\"", "\"tue,thu 18:00-15:00\"");
    let errs = errors("isili", &src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let want = format!("flows/isili.toml:{}:", line_of(&src, "18:00-15:00"));
    assert!(errs[0].starts_with(&want), "{} does not start with {want}", errs[0]);
}

#[test]
fn a_keyword_claimed_by_two_actions_is_refused() {
    let src = real("assemini").replace(
        "unsubscribe = { it = [\"CANCELLAMI\"] }",
        "unsubscribe = { it = [\"CANCELLAMI\", \"Iscrivimi!\"] }",
    );
    let errs = errors("assemini", &src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("Iscrivimi"), "{}", errs[0]);
    let want = format!("flows/assemini.toml:{}:", line_of(&src, "Iscrivimi!"));
    assert!(errs[0].starts_with(&want), "{} does not start with {want}", errs[0]);
}

#[test]
fn a_keyword_one_typo_away_from_another_action_is_refused() {
    let src = real("isola-delle-femmine").replace(
        "privacy = { it = [\"PRIVACY\"",
        "privacy = { it = [\"ATTIVA ISCRIZONE\", \"PRIVACY\"",
    );
    let errs = errors("isola-delle-femmine", &src);
    assert!(
        !errs.is_empty(),
        "a near-duplicate of the subscribe keyword was accepted"
    );
}

#[test]
fn a_fluent_id_missing_in_an_offered_language_is_refused() {
    // Brusson offers French: a message only in Italian is a mistake.
    let src = real("brusson").replace(
        "subscribed = \"brusson-subscribed\"",
        "subscribed = \"isili-registered\"",
    );
    let errs = errors("brusson", &src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("isili-registered") && errs[0].contains("locales/fr/"),
        "{}",
        errs[0]
    );
    let want = format!("flows/brusson.toml:{}:", line_of(&src, "\"isili-registered\""));
    assert!(errs[0].starts_with(&want), "{} does not start with {want}", errs[0]);
}

#[test]
fn an_id_that_does_not_match_the_file_name_is_refused() {
    let errs = errors("madone2", &real("madone"));
    assert!(errs.iter().any(|e| e.contains("must match the file name")), "{errs:?}");
}

#[test]
fn flows_check_exits_non_zero_and_prints_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    for c in ["isili", "madone"] {
        std::fs::write(flows.join(format!("{c}.toml")), real(c)).unwrap();
    }
    let out = sportello(&root(), &["flows", "check", "--flows", flows.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(
        flows.join("madone.toml"),
        real("madone").replace("mode = \"one-way\"", "mode = \"two-way\""),
    )
    .unwrap();
    std::fs::write(flows.join("isili.toml"), real("isili") + "\ncolour = \"blue\"\n").unwrap();
    let out = sportello(&root(), &["flows", "check", "--flows", flows.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("isili.toml:") && err.contains("colour"), "{err}");
    assert!(err.contains("madone.toml:") && err.contains("two-way"), "{err}");
    let _ = Path::new(".");
}
