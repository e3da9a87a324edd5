use super::*;
use crate::moderation::normalize::normalize;
use crate::moderation::Rule;

fn italian() -> &'static Offence {
    static IT: std::sync::OnceLock<Offence> = std::sync::OnceLock::new();
    IT.get_or_init(|| Offence::build(include_str!("../../../lexicons/it/offence.toml")).unwrap())
}

fn found(text: &str) -> Option<(Rule, &'static str, &'static str)> {
    let norm = normalize(text);
    italian()
        .find(text, &norm)
        .into_iter()
        .min_by_key(|f| f.rule.precedence())
        .map(|f| (f.rule, f.target.name(), f.predicate.name()))
}

#[test]
fn the_shipped_files_compile() {
    Offence::build(include_str!("../../../lexicons/it/offence.toml")).unwrap();
    Offence::build(include_str!("../../../lexicons/fr/offence.toml")).unwrap();
}

#[test]
fn a_target_and_a_predicate_make_an_offence() {
    assert_eq!(found("odio i rumeni"), Some((Rule::Hate, "origin", "hate")));
    assert_eq!(
        found("gli albanesi sono tutti ladri"),
        Some((Rule::Hate, "origin", "attribute"))
    );
    assert_eq!(
        found("gli zingari sono tutti ladri"),
        Some((Rule::Hate, "origin", "slur"))
    );
    assert_eq!(
        found("i musulmani sono vermi"),
        Some((Rule::Hate, "religion", "dehumanise"))
    );
    assert_eq!(
        found("i gay non valgono niente"),
        Some((Rule::Hate, "orientation", "negated-positive"))
    );
    assert_eq!(
        found("bisognerebbe sparare ai migranti"),
        Some((Rule::Hate, "migrants", "violence"))
    );
    assert_eq!(
        found("li ammazzo tutti quei rom"),
        Some((Rule::Threat, "origin", "violence"))
    );
    assert_eq!(
        found("siete delle bestie"),
        Some((Rule::PersonalAttack, "you", "dehumanise"))
    );
    assert_eq!(found("ti ammazzo"), Some((Rule::Threat, "you", "violence")));
}

#[test]
fn a_pronoun_reaches_back_one_sentence() {
    assert_eq!(
        found("Conosco dei marocchini. Li odio."),
        Some((Rule::Hate, "origin", "hate"))
    );
    assert_eq!(
        found("Conosco dei marocchini. Sono tutti ladri."),
        Some((Rule::Hate, "origin", "attribute"))
    );
    assert_eq!(found("Le tasse? Le odio."), None);
}

#[test]
fn negation_denial_counter_speech_and_things_are_allowed() {
    for ok in [
        "non odio nessuno, nemmeno i rumeni",
        "non ho niente contro i musulmani",
        "i rumeni non sono ladri",
        "chi dice che i rom sono ladri è un razzista",
        "mi hanno chiamato terrone per strada",
        "odio la burocrazia",
        "questo modulo fa schifo",
        "il centro dei migranti fa schifo, è sporco",
        "i migranti del centro sono gentilissimi",
        "il sindaco non è capace di organizzare la raccolta",
        "ho sei figli e sono tutti malati di influenza",
        "la corsia di destra è sporca",
        "non odio i leghisti e nemmeno i comunisti, odio solo le buche in strada",
        "i nigeriani non sono animali, sono persone come noi",
        "gli anziani del quartiere non sanno come andarci",
    ] {
        assert_eq!(found(ok), None, "{ok}");
    }
}

#[test]
fn french_puts_the_group_aside_with_a_comma() {
    let fr = Offence::build(include_str!("../../../lexicons/fr/offence.toml")).unwrap();
    let found = |text: &str| {
        let norm = normalize(text);
        fr.find(text, &norm)
            .into_iter()
            .map(|f| (f.rule, f.target.name()))
            .next()
    };
    assert_eq!(found("les musulmans, c'est un cancer"), Some((Rule::Hate, "religion")));
    assert_eq!(found("je vais l'étrangler"), Some((Rule::Threat, "person")));
    assert_eq!(found("Je ne hais pas les Arabes, je hais l'injustice"), None);
    assert_eq!(found("Pouvez-vous commander des pains bâtards ?"), None);
}

#[test]
fn disguises_are_read_through() {
    assert_eq!(found("odio gli immigrti").map(|f| f.0), Some(Rule::Hate));
    assert_eq!(found("sei un fr*cio").map(|f| f.0), Some(Rule::Hate));
    assert_eq!(found("i r0m sono l4dri").map(|f| f.0), Some(Rule::Hate));
}
