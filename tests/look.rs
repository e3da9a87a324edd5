//! The look of Italian public services (issue 22): every page, public or console, wears
//! Bootstrap Italia's header band and footer from the service's own stylesheets, with no
//! inline style or script (the Content-Security-Policy allows neither); `/` lists the
//! comuni; a comune's pages show its name, region and coat of arms, its contacts as links
//! and its accessibility statement; the vendored files are served with their licences.

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE};

use crate::harness::console::{client, login, seed_accounts, ADMIN, PASSWORD};
use crate::harness::server::{Harness, ARMS_SVG};

/// (status, Content-Type, Content-Security-Policy, body) of `path`, with `cookie` if any.
async fn fetch(h: &Harness, path: &str, cookie: Option<&str>) -> (u16, String, String, String) {
    let mut r = client().get(format!("{}{path}", h.base));
    if let Some(c) = cookie {
        r = r.header(COOKIE, c);
    }
    let r = r.send().await.unwrap();
    let header = |name| {
        r.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (kind, csp) = (header(CONTENT_TYPE), header(CONTENT_SECURITY_POLICY));
    (r.status().as_u16(), kind, csp, r.text().await.unwrap())
}

/// What every page must be: the frame, the stylesheets, nothing inline.
fn assert_framed(path: &str, html: &str, csp: &str) {
    for part in [
        "<link rel=\"stylesheet\" href=\"/assets/bootstrap-italia.min.css\">",
        "<link rel=\"stylesheet\" href=\"/assets/sportello.css\">",
        "class=\"it-header-wrapper\"",
        "class=\"it-footer\"",
        "<main id=\"main\"",
        "href=\"#main\"",
        "/accessibilita",
    ] {
        assert!(html.contains(part), "{path} lacks {part}:\n{html}");
    }
    assert!(!html.contains("<style"), "{path} has an inline stylesheet");
    assert!(!html.contains(" style="), "{path} has an inline style attribute");
    for script in html.split("<script").skip(1) {
        assert!(
            script.starts_with(" src=\"/"),
            "{path} has an inline script: <script{}",
            &script[..script.len().min(80)]
        );
    }
    assert!(
        csp.contains("style-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{path}: {csp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_wears_the_public_service_look_with_nothing_inline() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let admin = login(&h, ADMIN, PASSWORD).await;
    let public = [
        "/",
        "/?lang=fr",
        "/c/brusson",
        "/c/brusson?lang=fr",
        "/c/assemini",
        "/try",
        "/try?comune=brusson&lang=fr",
        "/c/isili/accessibilita",
        "/c/brusson/accessibilita?lang=fr",
        "/accessibilita",
        "/staff/login",
    ];
    for path in public {
        let (status, _, csp, html) = fetch(&h, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_framed(path, &html, &csp);
    }
    let console = [
        "/staff",
        "/staff/accounts",
        "/staff/audit",
        "/staff/password",
        "/staff/brusson/subscribers",
        "/staff/assemini/inbox",
        "/staff/assemini/faq",
        "/staff/assemini/closures",
        "/staff/assemini/report",
        "/staff/assemini/privacy",
        "/staff/brusson/broadcasts",
        "/staff/brusson/broadcasts/new",
    ];
    // A conversation and its citizen: the two-pane desk and the citizen's page too.
    let key = sportello::storage::CitizenKey::new("assemini", "whatsapp", "393330071001");
    let now = jiff::Timestamp::now();
    let mut citizen = sportello::dialogue::Citizen::new(now);
    citizen.state = sportello::dialogue::State::Subscribed;
    h.store.put_citizen(&key, &citizen).unwrap();
    sportello::staff::inbox::citizen_wrote(h.store.as_ref(), &key, "pn-assemini", "Orari?", None, now).unwrap();
    let r = sportello::console::desk::reference(&key);
    let desk = [
        format!("/staff/assemini/inbox/{r}"),
        format!("/staff/assemini/inbox/{r}/thread"),
        format!("/staff/assemini/citizens/{r}"),
    ];
    let console = console.iter().map(|p| p.to_string()).chain(desk).collect::<Vec<_>>();
    for path in &console {
        if path.ends_with("/thread") {
            // A fragment for the page's script: no page frame, and nothing inline either.
            let (status, _, _, html) = fetch(&h, path, Some(&admin)).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                !html.contains("<script") && !html.contains("style=") && !html.contains("<style"),
                "{html}"
            );
            continue;
        }
        let (status, _, csp, html) = fetch(&h, path, Some(&admin)).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert_framed(path, &html, &csp);
    }
    let (status, _, csp, html) = fetch(&h, "/c/atlantide", None).await;
    assert_eq!(status, 404);
    assert_framed("/c/atlantide", &html, &csp);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comune_pages_carry_its_name_region_arms_contacts_and_statement() {
    let h = Harness::start().await;
    // `/` lists every comune served, with where to subscribe and to try it.
    let (_, _, _, home) = fetch(&h, "/", None).await;
    for (id, name) in [
        ("assemini", "Comune di Assemini"),
        ("brusson", "Comune di Brusson"),
        ("isili", "Comune di Isili"),
        ("isola-delle-femmine", "Comune di Isola delle Femmine"),
        ("madone", "Comune di Madone"),
    ] {
        assert!(home.contains(name), "{name}");
        assert!(home.contains(&format!("href=\"/c/{id}?lang=it\"")), "{id}");
        assert!(home.contains(&format!("href=\"/try?comune={id}&amp;lang=it\"")), "{id}");
    }
    assert!(home.contains("Regione Autonoma della Sardegna") && home.contains("Regione Lombardia"));

    // Brusson: its region and coat of arms in the band, in French too; contacts as links.
    let (_, _, _, fr) = fetch(&h, "/c/brusson?lang=fr", None).await;
    assert!(
        fr.contains("Région autonome Vallée d'Aoste") || fr.contains("Région autonome Vallée d&#39;Aoste"),
        "{fr}"
    );
    assert!(
        fr.contains("<img class=\"arms\" src=\"/c/brusson/stemma\" alt=\"\">"),
        "{fr}"
    );
    assert!(
        fr.contains("<div class=\"it-brand-title\">Commune de Brusson</div>"),
        "{fr}"
    );
    for link in [
        "href=\"mailto:segreteria@comune.brusson.ao.it\"",
        "href=\"mailto:protocollo@pec.comune.brusson.ao.it\"",
        "href=\"tel:+390125300132\"",
        "href=\"https://www.comune.brusson.ao.it\"",
        "href=\"https://wa.me/393483978832\"",
        "href=\"/c/brusson/accessibilita?lang=fr\"",
        "href=\"/c/brusson?lang=fr#privacy\"",
        "<h2 id=\"privacy\">",
    ] {
        assert!(fr.contains(link), "{link}:\n{fr}");
    }
    let (status, kind, _, arms) = fetch(&h, "/c/brusson/stemma", None).await;
    assert_eq!((status, kind.as_str(), arms.as_str()), (200, "image/svg+xml", ARMS_SVG));
    // Assemini configured no coat of arms: no image, and none served.
    let (_, _, _, assemini) = fetch(&h, "/c/assemini", None).await;
    assert!(!assemini.contains("class=\"arms\""));
    assert!(assemini.contains("href=\"tel:+39800195678\""), "{assemini}");
    assert_eq!(fetch(&h, "/c/assemini/stemma", None).await.0, 404);

    // The accessibility statement names the comune and the way to AgID.
    let (status, _, _, statement) = fetch(&h, "/c/isili/accessibilita", None).await;
    assert_eq!(status, 200);
    for part in [
        "Dichiarazione di accessibilità",
        "Comune di Isili si impegna",
        "href=\"mailto:affarigenerali@comune.isili.it\"",
        "href=\"https://form.agid.gov.it\"",
    ] {
        assert!(statement.contains(part), "{part}:\n{statement}");
    }
    assert_eq!(fetch(&h, "/c/atlantide/accessibilita", None).await.0, 404);

    // The vendored files, with their licences; nothing else under /assets/.
    for (path, kind) in [
        ("/assets/bootstrap-italia.min.css", "text/css; charset=utf-8"),
        ("/assets/sportello.css", "text/css; charset=utf-8"),
        ("/assets/fonts/titillium-web-regular.woff2", "font/woff2"),
        ("/assets/fonts/titillium-web-700.woff2", "font/woff2"),
        ("/assets/licences/bootstrap-italia.txt", "text/plain; charset=utf-8"),
        ("/assets/licences/titillium-web.txt", "text/plain; charset=utf-8"),
    ] {
        let (status, got, _, _) = fetch(&h, path, None).await;
        assert_eq!((status, got.as_str()), (200, kind), "{path}");
    }
    let (_, _, _, licence) = fetch(&h, "/assets/licences/titillium-web.txt", None).await;
    assert!(licence.contains("SIL OPEN FONT LICENSE"), "{licence}");
    let (_, _, _, css) = fetch(&h, "/assets/bootstrap-italia.min.css", None).await;
    assert!(css.contains("Bootstrap Italia") && css.contains("Titillium Web"));
    assert_eq!(fetch(&h, "/assets/../Cargo.toml", None).await.0, 404);
    assert_eq!(fetch(&h, "/assets/nothing.css", None).await.0, 404);
    h.stop().await;
}
