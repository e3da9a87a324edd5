//! Throughput of the moderation policy on one core: ~20,000 realistic messages (mostly
//! ordinary questions and complaints, some violations and some personal data), checked
//! in Italian and French. `cargo bench --bench moderation` prints messages per second.

use std::hint::black_box;
use std::time::Instant;

use sportello::moderation::{Lang, Policy, Settings};

/// Message templates; `{n}` is replaced to vary the text.
const IT: &[&str] = &[
    "Buongiorno, come si richiede la carta d'identità elettronica? Grazie {n}",
    "È una vergogna, sono {n} settimane che non passano a ritirare l'umido!",
    "Quali sono gli orari dell'ufficio anagrafe il mercoledì pomeriggio?",
    "Abito in via Roma {n}, quando passa la raccolta della plastica?",
    "Servizio pessimo, siete degli incompetenti in quell'ufficio",
    "Il lampione davanti al civico {n} di via Cagliari è spento da una settimana",
    "Vorrei sapere come iscrivere mio figlio alla mensa scolastica per l'anno {n}",
    "mi hanno chiamato 'terrone' per strada, è inaccettabile",
    "che m.e.r.d.a di servizio, ancora niente",
    "Il numero del mio vicino è 347 123{n}, chiamatelo voi",
    "sei un idiota, non hai capito niente",
    "ti ammazzo se ti rivedo",
    "Il mio codice fiscale è RSSMRA80A01H501U, serve altro?",
    "Quando riapre il centro di raccolta? Devo portare {n} sacchi di sfalci",
];
const FR: &[&str] = &[
    "Bonjour, comment renouveler ma carte d'identité ? Merci {n}",
    "Les poubelles n'ont pas été ramassées depuis {n} jours, c'est une honte !",
    "J'habite au {n} rue des Lilas, quand passe le camion des encombrants ?",
    "Putain, encore une coupure d'eau",
    "Le numéro de ma voisine c'est le 06 98 76 54 32",
    "Je vais te tuer",
    "Quels sont les horaires de la mairie le samedi matin ?",
];

fn main() {
    let policy = Policy::builtin();
    let settings = Settings::default();
    let mut messages: Vec<(String, Lang)> = Vec::with_capacity(20_000);
    for i in 0..20_000usize {
        let (templates, lang) = if i % 4 == 3 { (FR, Lang::Fr) } else { (IT, Lang::It) };
        let t = templates[i % templates.len()];
        messages.push((t.replace("{n}", &(i % 97 + 2).to_string()), lang));
    }
    let bytes: usize = messages.iter().map(|m| m.0.len()).sum();

    // Warm up (page in the automata, fill the regex caches).
    for (text, lang) in messages.iter().take(2_000) {
        black_box(policy.check(text, *lang, &settings));
    }

    let rounds = 5;
    let mut best = f64::MAX;
    let mut withheld = 0;
    for _ in 0..rounds {
        withheld = 0;
        let start = Instant::now();
        for (text, lang) in &messages {
            let out = policy.check(black_box(text), *lang, &settings);
            withheld += usize::from(out.rule.is_some());
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let n = messages.len() as f64;
    println!(
        "moderation: {} messages ({:.0} bytes avg), {} flagged; best of {rounds}: {:.1} ms, {:.0} messages/s, {:.1} MB/s",
        messages.len(),
        bytes as f64 / n,
        withheld,
        best * 1e3,
        n / best,
        bytes as f64 / best / 1e6
    );
}
