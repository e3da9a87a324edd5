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

fn french() -> &'static Offence {
    static FR: std::sync::OnceLock<Offence> = std::sync::OnceLock::new();
    FR.get_or_init(|| Offence::build(include_str!("../../../lexicons/fr/offence.toml")).unwrap())
}

fn found_fr(text: &str) -> Option<(Rule, &'static str, &'static str)> {
    let norm = normalize(text);
    french()
        .find(text, &norm)
        .into_iter()
        .min_by_key(|f| f.rule.precedence())
        .map(|f| (f.rule, f.target.name(), f.predicate.name()))
}

#[test]
fn words_run_together_or_spelled_in_syllables_are_read() {
    assert_eq!(
        found_fr("lesjuifssontdesrats"),
        Some((Rule::Hate, "origin", "dehumanise"))
    );
    assert_eq!(found_fr("tousdesvoleurslesroumains").map(|f| f.0), Some(Rule::Hate));
    assert_eq!(
        found_fr("Les mu sul mans sont une plaie").map(|f| f.1),
        Some("religion")
    );
    assert_eq!(
        found_fr("les mi grants sont des pa rasites").map(|f| f.1),
        Some("migrants")
    );
    // An ordinary long word is not cut into an insult and leftovers.
    assert_eq!(found_fr("Combien coûte une concession au cimetière ?"), None);
}

#[test]
fn ne_que_asserts_and_a_denied_opinion_denies() {
    assert_eq!(
        found_fr("les vieux ne sont que des parasites").map(|f| f.0),
        Some(Rule::Hate)
    );
    assert_eq!(found_fr("je ne pense pas que les vieux soient des parasites"), None);
    assert_eq!(
        found_fr("Les Chinois, rien que leur odeur m'écœure").map(|f| f.0),
        Some(Rule::Hate)
    );
}

#[test]
fn a_rhetorical_question_denies_the_quality_it_asks_about() {
    assert_eq!(
        found_fr("Les Noirs, ils savent lire au moins ?"),
        Some((Rule::Hate, "origin", "negated-positive"))
    );
    assert_eq!(
        found_fr("Un Albanais honnête ? Ça n'existe pas.").map(|f| f.2),
        Some("negated-positive")
    );
    // A plain question about the same group asks.
    assert_eq!(
        found_fr("Les réfugiés ont-ils le droit de travailler à la mairie ?"),
        None
    );
    assert_eq!(
        found_fr("Les personnes âgées savent-elles utiliser l'application ?"),
        None
    );
}

#[test]
fn an_insult_made_a_noun_for_someone_attacks_them() {
    assert_eq!(
        found_fr("Ce Philippe Favre à l'accueil, quel imbécile"),
        Some((Rule::PersonalAttack, "person", "insult"))
    );
    // "un blaireau" is also an animal.
    assert_eq!(found_fr("Un blaireau a traversé la route près du hameau"), None);
}

#[test]
fn violence_is_a_threat_only_from_the_writer() {
    assert_eq!(
        found_fr("Je vais étrangler ce Jean-Marc Vuillermoz de mes mains").map(|f| f.0),
        Some(Rule::Threat)
    );
    assert_ne!(
        found_fr("les policiers ne sont que des brutes payées pour frapper").map(|f| f.0),
        Some(Rule::Threat)
    );
    // A wish for violence against a group is hate, not the writer's threat.
    assert_eq!(
        found_fr("J'espère qu'un camion écrasera tous ces Albanais").map(|f| f.0),
        Some(Rule::Hate)
    );
}

#[test]
fn a_predicate_that_carries_its_negation_is_not_negated_again() {
    assert_eq!(
        found_fr("Les chrétiens n'ont pas leur place dans l'administration"),
        Some((Rule::Hate, "religion", "exclusion"))
    );
    assert_eq!(
        found_fr("La haine contre les militants de gauche n'a pas sa place à la mairie"),
        None
    );
}
