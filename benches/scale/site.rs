//! The region the scale bench serves: [`COMUNI`] comuni cloned from the five real flows
//! (20 each: `brusson-00` … `madone-19`), their configuration, and a sealed sled store of
//! N citizens grown in place (a run for 300,000 after one for 100,000 adds 200,000).
//!
//! One comune in ten of the citizens lives in the largest, `brusson-00` (bilingual, three
//! topic lists): its broadcast and its export are the big ones. Comuni that keep leavers
//! (Madone's clones) hold one leaver in twenty, gone 400 days ago: the retention sweep's
//! work. Every subscriber has a consent in the ledger, and each comune its monthly counters.

use std::path::{Path, PathBuf};

use sportello::dialogue::{Citizen, Consent, State as Dialogue};
use sportello::storage::{CitizenKey, LedgerEntry, LedgerKind, Store};

/// How many comuni.
pub const COMUNI: usize = 100;
/// The real flows the comuni are cloned from, and each one's first-message keyword (what
/// ordinary traffic writes).
pub const TEMPLATES: [(&str, &str); 5] = [
    ("brusson", "MI ISCRIVO"),
    ("assemini", "ISCRIVIMI"),
    ("isili", "REGISTRAZIONE"),
    ("isola-delle-femmine", "ATTIVA ISCRIZIONE"),
    ("madone", "ATTIVA ISCRIZIONE"),
];
/// The largest comune (a tenth of the citizens).
pub const BIG: &str = "brusson-00";

/// The id of comune `i`.
pub fn comune(i: usize) -> String {
    format!("{}-{:02}", TEMPLATES[i % TEMPLATES.len()].0, i / TEMPLATES.len())
}

/// The template comune `i` is cloned from.
pub fn template(i: usize) -> &'static str {
    TEMPLATES[i % TEMPLATES.len()].0
}

/// How many of `n` citizens live in comune `i`: a tenth in [`BIG`] (comune 0), the rest
/// evenly in the others.
pub fn share(n: usize, i: usize) -> usize {
    let big = n / 10;
    if i == 0 {
        return big;
    }
    let rest = n - big;
    let others = COMUNI - 1;
    rest / others + usize::from(i - 1 < rest % others)
}

/// The number of citizen `j` of comune `i` (unique across the region).
pub fn number(i: usize, j: usize) -> String {
    format!("39{:03}{:07}", i, j)
}

/// Where everything lives.
pub struct Site {
    /// PostgreSQL instead of sled (`SCALE_DATABASE_URL`).
    pub database: Option<String>,
    pub root: PathBuf,
    pub data: PathBuf,
    pub flows: PathBuf,
    pub config: PathBuf,
}

impl Site {
    /// Writes the flows and the configuration under `root` (kept if already there).
    pub fn prepare(root: &Path, graph: &str, per_second: u32, memory: Option<&str>, database: Option<String>) -> Site {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let flows = root.join("flows");
        std::fs::create_dir_all(&flows).unwrap();
        let mut config = format!(
            "storage = \"{}\"\n{}\n[whatsapp]\ngraph_url = \"{graph}/v23.0\"\n\n[broadcast]\nwhatsapp_per_second = {per_second}\n\n",
            if database.is_some() { "postgres" } else { "sled" },
            memory.map(|m| format!("memory = \"{m}\"\n")).unwrap_or_default(),
        );
        for i in 0..COMUNI {
            let id = comune(i);
            let source = std::fs::read_to_string(repo.join("flows").join(format!("{}.toml", template(i)))).unwrap();
            let cloned = source.replacen(&format!("id = \"{}\"", template(i)), &format!("id = \"{id}\""), 1);
            assert_ne!(cloned, source, "the id line of {}", template(i));
            std::fs::write(flows.join(format!("{id}.toml")), cloned).unwrap();
            config.push_str(&format!(
                "[comuni.{id}]\nwhatsapp_phone_number_id = \"pn-{id}\"\nbroadcast_templates = {{ it = \"avviso\", fr = \"avis\" }}\n\n"
            ));
        }
        let config_path = root.join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        Site {
            database,
            root: root.to_path_buf(),
            data: root.join("data"),
            flows,
            config: config_path,
        }
    }

    /// How many citizens the store holds for the bench (0 when new).
    pub fn populated(&self) -> usize {
        std::fs::read_to_string(self.root.join("populated"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Grows the store from [`Site::populated`] to `n` citizens (sealed, as the server
    /// writes them); returns how many were added.
    pub fn grow(&self, n: usize) -> usize {
        let from = self.populated();
        if from >= n {
            return 0;
        }
        let store: Box<dyn Store> = match &self.database {
            None => Box::new(
                sportello::storage::sealed::migrate::open_sled(&self.data)
                    .expect("open the store")
                    .0,
            ),
            Some(url) => {
                let mut options = sportello::storage::PgOptions::new(url);
                options.connections = THREADS;
                let pg = sportello::storage::PgStore::open(&options).expect("open the PostgreSQL database");
                Box::new(
                    sportello::storage::sealed::postgres::open_postgres(pg, &self.data)
                        .expect("seal the PostgreSQL database")
                        .0,
                )
            }
        };
        let added = std::sync::atomic::AtomicUsize::new(0);
        // Comuni side by side: on PostgreSQL each write is a round trip.
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (store, added) = (store.as_ref(), &added);
                scope.spawn(move || {
                    for i in (t..COMUNI).step_by(THREADS) {
                        added.fetch_add(fill(store, i, from, n), std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        let added = added.into_inner();
        store.flush().expect("flush");
        std::fs::write(self.root.join("populated"), n.to_string()).unwrap();
        added
    }
}

/// Threads that grow the store.
const THREADS: usize = 4;

/// Adds comune `i`'s citizens from `share(from, i)` to `share(n, i)` (and its counters on
/// the first growth); returns how many.
fn fill(store: &dyn Store, i: usize, from: usize, n: usize) -> usize {
    let now = jiff::Timestamp::now();
    let day = jiff::SignedDuration::from_hours(24);
    let mut added = 0;
    {
        let id = comune(i);
        let retains = template(i) == "madone";
        let bilingual = template(i) == "brusson";
        for j in share(from, i)..share(n, i) {
            let leaver = retains && j % 20 == 19;
            let joined = now - day * (30 + (j % 700) as i32);
            let mut c = Citizen::new(joined);
            c.language = Some(if bilingual && j % 2 == 1 { "fr" } else { "it" }.into());
            if bilingual {
                c.categories = ["info", "eventi", "emergenze"].map(String::from).into();
            }
            c.subscribed_at = Some(joined);
            c.consents.push(Consent {
                kind: "privacy".into(),
                notice_version: "1".into(),
                at: joined,
                message_id: format!("wamid.scale.{i}.{j}"),
                how: "keyword".into(),
            });
            c.state = Dialogue::Subscribed;
            if leaver {
                c.state = Dialogue::Unsubscribed;
                c.unsubscribed_at = Some(now - day * 400);
            }
            let key = CitizenKey::new(&id, "whatsapp", &number(i, j));
            store.put_citizen(&key, &c).expect("put a citizen");
            store
                .append_ledger(&LedgerEntry {
                    comune: id.clone(),
                    channel: "whatsapp".into(),
                    citizen: Some(number(i, j)),
                    kind: LedgerKind::Consent,
                    consent: "privacy".into(),
                    notice_version: "1".into(),
                    notice_sha256: "0".repeat(64),
                    at: joined,
                    message_id: format!("wamid.scale.{i}.{j}"),
                    how: "keyword".into(),
                    pseudonym: None,
                })
                .expect("append a consent");
            added += 1;
        }
        // A year and a half of monthly counters, as the steps would have left them.
        if from == 0 {
            for m in 0..18 {
                let month = (now - day * (30 * m)).strftime("%Y-%m").to_string();
                for (metric, by) in [
                    ("signup", 40),
                    ("withdrawal", 3),
                    ("sent", 900),
                    ("delivered", 850),
                    ("read", 600),
                    ("question", 12),
                ] {
                    store.bump(&id, &month, metric, by).expect("bump");
                }
            }
        }
    }
    added
}
