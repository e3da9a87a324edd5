//! Unit tests of the matcher against the real FAQ files of the five comuni: paraphrases,
//! typos, French, abstention, out-of-scope and near ties.

use super::*;

fn faq(comune: &str) -> Faq {
    let text = match comune {
        "isola-delle-femmine" => include_str!("../../faq/isola-delle-femmine.toml"),
        "isili" => include_str!("../../faq/isili.toml"),
        "madone" => include_str!("../../faq/madone.toml"),
        "assemini" => include_str!("../../faq/assemini.toml"),
        "brusson" => include_str!("../../faq/brusson.toml"),
        _ => unreachable!("unknown comune in test"),
    };
    Faq::from_toml_str(text).unwrap()
}

/// The id answered, the rule pointed to, or "-" for abstention; choices as "a|b".
fn id(faq: &Faq, q: &str, lang: &str) -> String {
    match faq.ask(q, lang) {
        Answer::Entry { entry, .. } => entry.id.clone(),
        Answer::Choices(c) => c.iter().map(|(e, _)| e.id.as_str()).collect::<Vec<_>>().join("|"),
        Answer::OutOfScope { redirect, .. } => format!("oos:{}", faq.rule_for(redirect).map_or("?", |r| r.id.as_str())),
        Answer::Abstain { .. } => "-".into(),
    }
}

#[test]
fn all_five_files_load_and_are_faithful() {
    for c in ["isola-delle-femmine", "isili", "madone", "assemini", "brusson"] {
        let f = faq(c);
        assert!(f.entries().len() >= 8, "{c}");
        assert!(!f.out_of_scope().is_empty(), "{c}");
    }
    let answer = |c: &str, id: &str| {
        faq(c)
            .entries()
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.answer.clone())
            .unwrap()
    };
    assert!(answer("isola-delle-femmine", "come-iscriversi").contains("ATTIVA ISCRIZIONE"));
    assert!(answer("isola-delle-femmine", "chi-puo-iscriversi").contains("sedici anni"));
    assert!(answer("isili", "orari").contains("martedì e giovedì anche ore 15-18"));
    assert!(answer("isili", "contatti").contains("affarigenerali@comune.isili.it"));
    assert!(answer("assemini", "tempi-risposta").contains("due giorni lavorativi"));
    assert!(answer("madone", "risposte").contains("NON risponde"));
    let brusson = faq("brusson");
    assert!(brusson
        .entries()
        .iter()
        .any(|e| e.lang == "fr" && e.id == "come-cancellarsi"));
    let placeholders: Vec<_> = faq("assemini")
        .entries()
        .iter()
        .filter(|e| e.placeholder)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(placeholders.len(), 5);
    assert!(faq("assemini")
        .entries()
        .iter()
        .filter(|e| e.placeholder)
        .all(|e| e.answer.starts_with("[DA COMPLETARE")));
}

#[test]
fn paraphrases() {
    let f = faq("isola-delle-femmine");
    assert_eq!(
        id(
            &f,
            "Salve, come posso iscrivermi al servizio WhatsApp dell'anagrafe?",
            "it"
        ),
        "come-iscriversi"
    );
    assert_eq!(id(&f, "non voglio ricevere più niente", "it"), "come-cancellarsi");
    let f = faq("assemini");
    assert_eq!(id(&f, "in quanti giorni mi rispondete?", "it"), "tempi-risposta");
    assert_eq!(id(&f, "dove si trova l'URP?", "it"), "contatti-urp");
}

#[test]
fn typos() {
    let f = faq("isola-delle-femmine");
    assert_eq!(id(&f, "ativa iscrizzione", "it"), "come-iscriversi");
    assert_eq!(id(&f, "DISATIVA ISCIRZIONE", "it"), "come-cancellarsi");
    let f = faq("brusson");
    assert_eq!(id(&f, "mi cancelo", "it"), "come-cancellarsi");
}

#[test]
fn french() {
    let f = faq("brusson");
    assert_eq!(
        id(&f, "Bonjour, comment est-ce que je m'inscris ?", "fr"),
        "come-iscriversi"
    );
    assert_eq!(id(&f, "je veux me désinscrire", "fr"), "come-cancellarsi");
    assert!(matches!(f.ask("je veux me désinscrire", "fr"), Answer::Entry { entry, .. } if entry.lang == "fr"));
    // No language given: every language is searched.
    assert_eq!(id(&f, "désinscription", ""), "come-cancellarsi");
}

#[test]
fn abstains_rather_than_guessing() {
    let f = faq("assemini");
    for q in [
        "",
        "   ",
        "???",
        "quanto costa una pizza margherita",
        "chi ha vinto lo scudetto",
        "asdfghjkl",
    ] {
        assert_eq!(id(&f, q, "it"), "-", "{q:?}");
    }
}

#[test]
fn out_of_scope_points_elsewhere() {
    let f = faq("assemini");
    assert_eq!(
        id(&f, "vorrei segnalare una buca nella strada", "it"),
        "oos:segnalazioni"
    );
    assert_eq!(id(&f, "richiesta accesso agli atti", "it"), "oos:accesso-atti");
    match f.ask("richiesta accesso agli atti", "it") {
        Answer::OutOfScope { redirect, .. } => assert!(redirect.contains("protocollo@pec.comune.assemini.ca.it")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn near_ties_offer_choices() {
    let f = Faq::from_csv_str("id,question,answer\norari-urp,orari ufficio urp,A\norari-anagrafe,orari ufficio anagrafe,B\nx,costo del servizio,C\n").unwrap();
    match f.ask("orari dell'ufficio", "it") {
        Answer::Choices(c) => assert_eq!(
            c.iter().map(|(e, _)| e.id.as_str()).collect::<Vec<_>>(),
            ["orari-urp", "orari-anagrafe"]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_forms_answer_like_toml() {
    let comma = "id,question,answer\norari,quando siete aperti,\"Lun-ven, 9-13\"\norari,orario di apertura,\ncosto,è gratuito?,Sì\n";
    let semi = comma
        .replace(",\"Lun-ven, 9-13\"", ";\"Lun-ven, 9-13\"")
        .replace("id,question,answer", "id;question;answer")
        .replace("orari,quando siete aperti", "orari;quando siete aperti")
        .replace("orari,orario di apertura,", "orari;orario di apertura;")
        .replace("costo,è gratuito?,Sì", "costo;è gratuito?;Sì");
    for text in [comma.to_string(), semi] {
        let f = Faq::from_csv_str(&text).unwrap();
        assert_eq!(f.entries().len(), 2);
        assert_eq!(id(&f, "qual è l'orario di apertura?", "it"), "orari");
        assert_eq!(f.entries()[0].answer, "Lun-ven, 9-13");
    }
}

/// A small FAQ whose rules say which requests and reports they answer.
fn with_handling_rules() -> Faq {
    Faq::from_toml_str(
        r#"
[[entry]]
id = "come-iscriversi"
lang = "it"
questions = ["come mi iscrivo al servizio", "voglio iscrivermi"]
answer = "Invii ISCRIVIMI."

[[entry]]
id = "certificati"
lang = "it"
questions = ["come si ottiene un certificato anagrafico", "certificato di residenza online"]
answer = "Dal portale."

[[out_of_scope]]
id = "uffici"
lang = "it"
handles = ["request"]
triggers = ["parlare con un ufficio"]
redirect = "Scriva agli uffici."

[[out_of_scope]]
id = "guasti"
lang = "it"
handles = ["report"]
triggers = ["segnalazione guasto"]
redirect = "Usi il modulo delle segnalazioni."

[[out_of_scope]]
id = "accesso-atti"
lang = "it"
triggers = ["accesso agli atti", "copia di un atto"]
redirect = "Scriva al protocollo."
"#,
    )
    .unwrap()
}

// Sentences written for this test (none of their words is in a trigger).
#[test]
fn requests_and_reports_no_entry_explains_go_to_the_rule_that_handles_them() {
    let f = with_handling_rules();
    assert_eq!(
        id(&f, "vorrei fissare un appuntamento con l'assessore", "it"),
        "oos:uffici"
    );
    assert_eq!(id(&f, "il lampione sotto casa è spento da giorni", "it"), "oos:guasti");
    assert_eq!(
        id(&f, "mi serve la copia di un atto del comune", "it"),
        "oos:accesso-atti",
        "a rule named by the words wins"
    );
    // An entry that explains the question keeps it.
    assert_eq!(
        id(&f, "mi serve il certificato di residenza online", "it"),
        "certificati"
    );
    assert_eq!(id(&f, "voglio iscrivermi al servizio", "it"), "come-iscriversi");
    // Information about an office's object is not a request.
    assert_eq!(id(&f, "chi è l'assessore alla cultura", "it"), "-");
    // The explanation says what was read.
    assert_eq!(f.explain("c'è una buca enorme", "it").2, Some(Intent::Report));
}
