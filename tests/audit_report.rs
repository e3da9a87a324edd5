//! Issue 22, pages a comune puts its name on, through the real server and binary: the audit
//! log in the administrator's language (Italian by default, French for a French account),
//! filtered by a list of actions, its CSV with the action's name; the annual report as
//! accessible SVG charts with one table per section, on the console and from
//! `sportello report --format html`.

use jiff::Timestamp;
use serde_json::Value;
use sportello::staff::accounts;
use sportello::storage::{Role, SledStore, Store};

use crate::harness::console::{get, login, seed_accounts, ADMIN, PASSWORD};
use crate::harness::server::Harness;
use crate::util::{root, sportello};

const FRENCH_ADMIN: &str = "admin@brusson.example";

/// Counters of a comune for 2026: a busy March, a masked April, nothing else.
fn seed_counters(store: &dyn Store, comune: &str) {
    for (month, metric, n) in [
        ("2026-03", "signup", 40),
        ("2026-03", "withdrawal", 10),
        ("2026-04", "signup", 3),
        ("2026-03", "sent", 120),
        ("2026-03", "question", 9),
    ] {
        store.bump(comune, month, metric, n).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_speaks_the_administrators_language_and_filters_by_action() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let store = h.store.as_ref();
    let mut fr = accounts::create(store, FRENCH_ADMIN, Role::Admin, vec![], PASSWORD, Timestamp::now()).unwrap();
    fr.language = "fr".into();
    store.put_account(&fr).unwrap();
    sportello::staff::audit(
        store,
        ADMIN,
        "isili",
        "broadcast-console",
        "broadcast 18 created from the console",
    )
    .unwrap();
    sportello::staff::audit(store, "system", "isili", "made-up-code", "kept as stored").unwrap();
    let it = login(&h, ADMIN, PASSWORD).await;
    let fr = login(&h, FRENCH_ADMIN, PASSWORD).await;

    let (status, _, page) = get(&h, "/staff/audit", &it).await;
    assert_eq!(status, 200);
    // The filter is a list of actions by name; the entries name their action and say the
    // detail in words, the stored detail under it; an unknown code shows as itself.
    assert!(
        page.contains("<select id=\"f-action\" name=\"action\"><option value=\"\">Tutte</option>"),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"staff-add\">Account creato</option>"),
        "{page}"
    );
    assert!(page.contains("<td>Accesso</td><td>Accesso con la propria password.<br><small>Dettaglio registrato: <span lang=\"en\">logged in</span></small></td>"), "{page}");
    assert!(
        page.contains("<td>Diffusione creata dalla console</td><td>Diffusione n. 18.<br>"),
        "{page}"
    );
    assert!(
        page.contains("<td>made-up-code</td><td><span lang=\"en\">kept as stored</span></td>"),
        "{page}"
    );
    assert!(!page.contains("<td>login</td>"), "{page}");
    // Day first, as gg/mm/aaaa HH:MM.
    let shown = page.split("<time datetime=").nth(1).unwrap();
    let shown = &shown[shown.find('>').unwrap() + 1..shown.find("</time>").unwrap()];
    assert!(
        shown.len() == 16 && shown.as_bytes()[2] == b'/' && shown.as_bytes()[5] == b'/' && shown.as_bytes()[13] == b':',
        "{shown}"
    );

    let (_, _, page) = get(&h, "/staff/audit", &fr).await;
    assert!(page.contains("<option value=\"\">Toutes</option>"), "{page}");
    assert!(
        page.contains("<td>Connexion</td><td>Connexion avec son mot de passe."),
        "{page}"
    );
    assert!(
        page.contains("<td>Diffusion créée depuis la console</td><td>Diffusion n° 18.<br>"),
        "{page}"
    );
    assert!(!page.contains("<td>Accesso</td>"), "{page}");

    // The list filters by code: only that action, and it stays selected.
    let (_, _, only) = get(&h, "/staff/audit?action=broadcast-console", &fr).await;
    assert!(
        only.contains("<option value=\"broadcast-console\" selected>Diffusion créée depuis la console</option>"),
        "{only}"
    );
    assert!(
        only.contains("Diffusion n° 18.") && !only.contains("<td>Connexion</td>"),
        "{only}"
    );
    // A code the list lacks stays selectable as itself.
    let (_, _, odd) = get(&h, "/staff/audit?action=made-up-code", &it).await;
    assert!(
        odd.contains("<option value=\"made-up-code\" selected>made-up-code</option>"),
        "{odd}"
    );

    // CSV: the action's name in the reader's language after its code.
    let (status, _, csv) = get(&h, "/staff/audit.csv?action=broadcast-console", &fr).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].contains("\"Action\",\"Libellé de l'action\",\"Détail\""),
        "{csv}"
    );
    assert!(
        lines[1].contains(
            "\"broadcast-console\",\"Diffusion créée depuis la console\",\"broadcast 18 created from the console\""
        ),
        "{csv}"
    );
    let (_, _, csv) = get(&h, "/staff/audit.csv?action=login", &it).await;
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .contains("\"login\",\"Accesso\",\"logged in\""),
        "{csv}"
    );

    // JSON: the same fields as before, and the label.
    let (_, _, json) = get(&h, "/staff/api/audit?action=broadcast-console", &fr).await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let e = &v["entries"][0];
    assert_eq!(
        (e["action"].as_str(), e["detail"].as_str()),
        (Some("broadcast-console"), Some("broadcast 18 created from the console"))
    );
    assert_eq!(e["action_label"], "Diffusion créée depuis la console");
    assert!(e["id"].is_u64() && e["at"].is_string() && e["actor"] == ADMIN && e["comune"] == "isili");
    h.stop().await;
}

/// The figures both renderings must show: charts that are images with a title and a
/// description, masked counts drawn masked, and each section in its own table, months as
/// rows.
fn assert_report_html(html: &str) {
    assert!(html.matches("<svg ").count() >= 3, "{html}");
    assert_eq!(
        html.matches("<svg ").count(),
        html.matches("role=\"img\"").count(),
        "{html}"
    );
    assert_eq!(
        html.matches("<svg ").count(),
        html.matches("<desc id=").count(),
        "{html}"
    );
    assert!(
        html.contains("Nuove iscrizioni e cancellazioni per mese</title>"),
        "{html}"
    );
    assert!(!html.contains("style=\"") && !html.contains("<script"), "{html}");
    // April's 3 signups: "<5" in the table, hatched in the chart, never "3".
    assert!(html.contains("<title>apr, Nuove iscrizioni: &lt;5</title>"), "{html}");
    assert!(!html.contains("Nuove iscrizioni: 3<"), "{html}");
    assert!(html.contains("<title>mar, Nuove iscrizioni: 40</title>"), "{html}");
    // One table a section, months as rows with their columns side by side.
    assert!(
        html.contains("<tr><th scope=\"row\">marzo</th><td>40</td><td>10</td><td>30</td></tr><tr><th scope=\"row\">aprile</th><td>&lt;5</td><td>0</td><td>33</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<h2>Iscritti</h2><table><caption>Iscritti</caption>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><th scope=\"row\">marzo</th><td>120</td><td>9</td></tr>"),
        "{html}"
    );
    assert_eq!(html.matches("<th scope=\"row\">marzo</th>").count(), 3, "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_report_draws_accessible_charts_beside_its_tables() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    seed_counters(h.store.as_ref(), "isili");
    let admin = login(&h, ADMIN, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/isili/report?year=2026", &admin).await;
    assert_eq!(status, 200, "{page}");
    assert_report_html(&page);
    h.stop().await;
}

#[test]
fn the_command_line_html_report_has_charts_tables_and_a_print_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&data).unwrap();
        seed_counters(&store, "madone");
        store.flush().unwrap();
    }
    let args = [
        "report", "--comune", "madone", "--year", "2026", "--format", "html", "--data",
    ];
    let out = sportello(&root(), &[&args[..], &[data.to_str().unwrap()]].concat(), "");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.starts_with("<!doctype html>\n<html lang=\"it\">"), "{html}");
    assert!(html.contains("<style>") && html.contains("@media print{"), "{html}");
    assert_report_html(&html);
}
