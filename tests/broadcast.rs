//! Broadcasts end to end (issue #5): the real server and worker against a fake Graph API
//! and a fake Telegram Bot API on loopback that record what they receive, when, and for
//! whom; and the real binary killed with SIGKILL in the middle of a broadcast.

use sportello::storage::CitizenStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use sportello::broadcast::plan::{self, Request};
use sportello::broadcast::{BroadcastError, BroadcastState, DeliveryState};
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::dialogue::{Citizen, State as CitizenState};
use sportello::server::Server;
use sportello::storage::{CitizenKey, SledStore, Store};

use crate::harness::broadcast::{fake_providers, seed, subscriber, Shared};
use crate::util;

fn texts() -> BTreeMap<String, String> {
    [
        ("it".to_string(), "Strada chiusa per neve".to_string()),
        ("fr".to_string(), "Route fermée pour neige".to_string()),
    ]
    .into()
}

fn request(category: &str, texts: BTreeMap<String, String>) -> Request {
    Request {
        comune: "brusson".into(),
        category: Some(category.into()),
        texts,
        media: None,
        send_at: None,
        created_by: "test".into(),
    }
}

/// A server in this process over sled, with the fakes, Brusson configured.
struct Running {
    server: Server,
    base: String,
    store: Arc<dyn Store>,
    config: Config,
    fake: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(per_second: u32, seed_with: impl FnOnce(&dyn Store)) -> Running {
        Running::start_with(per_second, sportello::config::Memory::default(), seed_with).await
    }

    /// As [`Running::start`], given `memory`.
    async fn start_with(
        per_second: u32,
        memory: sportello::config::Memory,
        seed_with: impl FnOnce(&dyn Store),
    ) -> Running {
        let (addr, fake) = fake_providers().await;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("data")).unwrap());
        seed_with(store.as_ref());
        let mut config = Config {
            graph_url: format!("http://{addr}/v23.0"),
            telegram_url: format!("http://{addr}"),
            ..Config::default()
        };
        config.memory = memory;
        config.broadcast.whatsapp_per_second = per_second;
        config.broadcast.telegram_per_second = per_second;
        // A restricted number pauses for 0 minutes here: the pause is observable (audit,
        // the entry queued again, not failed) without waiting an hour.
        config.broadcast.pause_minutes = 0;
        config.comuni.insert(
            "brusson".into(),
            ComuneChannels {
                whatsapp_phone_number_id: Some("pn-brusson".into()),
                broadcast_templates: [
                    ("it".to_string(), "avviso_brusson".to_string()),
                    ("fr".to_string(), "avis_brusson".to_string()),
                ]
                .into(),
                ..Default::default()
            },
        );
        let secrets = Secrets::from_vars([
            ("SPORTELLO_WHATSAPP_APP_SECRET".to_string(), "app-secret".to_string()),
            ("SPORTELLO_WHATSAPP_TOKEN".to_string(), "t".to_string()),
            ("SPORTELLO_TELEGRAM_TOKEN_BRUSSON".to_string(), "tok".to_string()),
        ]);
        let options = sportello::server::Options {
            first_backoff: Duration::from_millis(20),
            media_dir: Some(dir.path().join("data/media")),
            ..Default::default()
        };
        let server = Server::with_options(util::engine(store.clone()), config.clone(), secrets, options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(sportello::app::run(server.clone(), listener, async move {
            let _ = rx.await;
        }));
        Running {
            server,
            base,
            store,
            config,
            fake,
            stop: Some(tx),
            done: Some(done),
            _dir: dir,
        }
    }

    fn create(&self, req: &Request) -> Result<u64, BroadcastError> {
        let (flows, locales) = util::world();
        let (id, _, _) = plan::create(flows, locales, &self.config, self.store.as_ref(), req, Timestamp::now())?;
        self.server.broadcast_wake.notify_one();
        Ok(id)
    }

    /// Waits until broadcast `id` is done (fails after `limit`).
    async fn done(&self, id: u64, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.store.broadcast(id).unwrap().unwrap().state == BroadcastState::Done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("broadcast {id} not done after {limit:?}");
    }

    fn figures(&self, id: u64) -> sportello::broadcast::Figures {
        sportello::broadcast::figures(self.store.as_ref(), id, "brusson").unwrap()
    }

    fn got(&self) -> Vec<(Instant, String, Value)> {
        self.fake.lock().unwrap().got.clone()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap().unwrap();
    }
}

fn text_of(body: &Value) -> String {
    body["text"]["body"]
        .as_str()
        .or_else(|| body["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_subscribers_of_the_category_get_it_in_their_language() {
    let now = Timestamp::now();
    let running = Running::start(500, |s| {
        let put =
            |channel: &str, id: &str, c: Citizen| s.put_citizen(&CitizenKey::new("brusson", channel, id), &c).unwrap();
        put("whatsapp", "391", subscriber("it", &["eventi"], now));
        put("whatsapp", "392", subscriber("fr", &["eventi", "info"], now));
        put("telegram", "93", subscriber("fr", &["eventi"], now));
        // Not subscribed to eventi; unsubscribed; blocked; the web simulator; another comune.
        put("whatsapp", "394", subscriber("it", &["info"], now));
        let mut gone = subscriber("it", &["eventi"], now);
        gone.state = CitizenState::Unsubscribed;
        put("whatsapp", "395", gone);
        let mut blocked = subscriber("it", &["eventi"], now);
        blocked.state = CitizenState::Blocked { reason: "x".into() };
        put("whatsapp", "396", blocked);
        put("web", "web-7", subscriber("it", &["eventi"], now));
        s.put_citizen(
            &CitizenKey::new("madone", "whatsapp", "398"),
            &subscriber("it", &[], now),
        )
        .unwrap();
    })
    .await;
    let id = running.create(&request("eventi", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let mut got: Vec<(String, String)> = running
        .got()
        .iter()
        .map(|(_, to, b)| (to.clone(), text_of(b)))
        .collect();
    got.sort();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].0, "391");
    assert!(
        got[0].1.contains("Strada chiusa per neve") && got[0].1.contains("Eventi e attività"),
        "{}",
        got[0].1
    );
    assert_eq!(got[1].0, "392");
    assert!(
        got[1].1.contains("Route fermée pour neige") && got[1].1.contains("Événements"),
        "{}",
        got[1].1
    );
    assert_eq!(got[2].0, "93", "the Telegram subscriber, by chat id");
    assert!(got[2].1.contains("Route fermée"));
    let f = running.figures(id);
    assert_eq!((f.recipients, f.sent, f.failed, f.queued), (3, 3, 0, 0), "{f:?}");
    // The annual report counts it under its category (1 shows as "<5": no small counts).
    let engine = crate::util::engine(running.store.clone());
    let year = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
        .year() as i32;
    let report = sportello::staff::report::build(&engine, "brusson", year, "it")
        .unwrap()
        .unwrap();
    let row = |label: &str| {
        report
            .rows
            .iter()
            .find(|r| r.section.starts_with("Messaggi diffusi") && r.label.contains(label))
            .map(|r| r.value.clone())
    };
    assert_eq!(row("Eventi").as_deref(), Some("<5"), "{:?}", report.rows);
    assert_eq!(row("Emergenze").as_deref(), Some("0"), "{:?}", report.rows);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn french_subscribers_without_a_french_text_are_refused_and_nothing_is_queued() {
    let running = Running::start(500, |s| {
        seed(s, 0, 4, &["info"]);
    })
    .await;
    let only_italian: BTreeMap<String, String> = [("it".to_string(), "Solo italiano".to_string())].into();
    let e = running.create(&request("info", only_italian)).unwrap_err();
    assert!(
        matches!(&e, BroadcastError::MissingText { language, count: 2 } if language == "fr"),
        "{e}"
    );
    assert!(e.to_string().contains("--text-fr"), "{e}");
    assert!(running.store.broadcasts(None).unwrap().is_empty());
    let e = running.create(&request("cronaca", texts())).unwrap_err();
    assert!(matches!(e, BroadcastError::UnknownCategory { .. }), "{e}");
    let mut no_category = request("info", texts());
    no_category.category = None;
    assert!(matches!(
        running.create(&no_category).unwrap_err(),
        BroadcastError::CategoryNeeded { .. }
    ));
    // A category nobody follows: refused when sent now (the CLI and the API too, not only
    // the console), accepted when scheduled (its audience is counted again when it starts).
    let e = running.create(&request("emergenze", texts())).unwrap_err();
    assert!(
        matches!(&e, BroadcastError::NoRecipients { category: Some(c), .. } if c == "emergenze"),
        "{e}"
    );
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    assert!(running.store.broadcasts(None).unwrap().is_empty());
    let mut later = request("emergenze", texts());
    later.send_at = Some(Timestamp::now() + SignedDuration::from_hours(2));
    running.create(&later).unwrap();
    assert_eq!(running.store.broadcasts(None).unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(running.got().is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_24_hour_window_chooses_free_form_or_the_template() {
    let now = Timestamp::now();
    let running = Running::start(500, |s| {
        let put = |id: &str, c: Citizen| s.put_citizen(&CitizenKey::new("brusson", "whatsapp", id), &c).unwrap();
        put("391", subscriber("it", &["info"], now - SignedDuration::from_hours(23)));
        put("392", subscriber("it", &["info"], now - SignedDuration::from_hours(25)));
        put("393", subscriber("fr", &["info"], now - SignedDuration::from_hours(72)));
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let by: BTreeMap<String, Value> = running.got().into_iter().map(|(_, to, b)| (to, b)).collect();
    assert_eq!(by["391"]["type"], "text");
    assert_eq!(by["392"]["type"], "template");
    assert_eq!(by["392"]["template"]["name"], "avviso_brusson");
    assert_eq!(by["392"]["template"]["language"]["code"], "it");
    assert_eq!(
        by["392"]["template"]["components"][0]["parameters"][0]["text"],
        "Strada chiusa per neve"
    );
    assert_eq!(by["393"]["template"]["name"], "avis_brusson");
    assert_eq!(running.figures(id).templates, 2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_are_not_retried_transient_ones_are() {
    let running = Running::start(500, |s| {
        seed(s, 0, 6, &["info"]);
    })
    .await;
    {
        let mut f = running.fake.lock().unwrap();
        f.errors.insert("393330000000".into(), [131026].into()); // not on WhatsApp
        f.errors.insert("393330000001".into(), [130429, 131000].into()); // throttle, then transient
        f.errors.insert("393330000002".into(), [132001].into()); // template missing: never retried
    }
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(30)).await;
    let got = running.got();
    let refused = running.fake.lock().unwrap().refused.clone();
    let count = |to: &str| got.iter().filter(|(_, t, _)| t == to).count();
    assert_eq!(count("393330000000"), 0);
    assert_eq!(
        refused.iter().filter(|(t, _)| t == "393330000000").count(),
        1,
        "131026 tried once"
    );
    assert_eq!(count("393330000001"), 1, "delivered after two transient errors");
    assert_eq!(refused.iter().filter(|(t, _)| t == "393330000001").count(), 2);
    assert_eq!(refused.iter().filter(|(t, _)| t == "393330000002").count(), 1);
    let f = running.figures(id);
    assert_eq!((f.sent, f.failed), (4, 2), "{f:?}");
    let key = CitizenKey::new("brusson", "whatsapp", "393330000000");
    assert!(matches!(
        running.store.delivery(id, &key).unwrap().unwrap().state,
        DeliveryState::Failed { code: 131026, .. }
    ));
    // As for replies, the citizen's record says why.
    let record = running.store.citizen(&key).unwrap().unwrap();
    assert_eq!(record.delivery_error.map(|e| e.code), Some(131026));
    // Resend to failed: queued again, sent again to whoever the provider now accepts.
    assert_eq!(
        plan::resend_failed(running.store.as_ref(), id, "test", Timestamp::now()).unwrap(),
        2
    );
    running.server.broadcast_wake.notify_one();
    running.done(id, Duration::from_secs(30)).await;
    assert_eq!(running.figures(id).sent, 6);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_account_pauses_the_number_instead_of_failing_the_message() {
    let running = Running::start(500, |s| {
        seed(s, 0, 3, &["info"]);
    })
    .await;
    running
        .fake
        .lock()
        .unwrap()
        .errors
        .insert("393330000001".into(), [131031].into());
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(30)).await;
    let f = running.figures(id);
    assert_eq!((f.sent, f.failed), (3, 0), "{f:?}");
    let paused = running.store.audit(Some("brusson")).unwrap();
    let paused: Vec<_> = paused.iter().filter(|(_, e)| e.action == "broadcast-paused").collect();
    assert_eq!(paused.len(), 1);
    assert!(paused[0].1.detail.contains("131031") && !paused[0].1.detail.contains("393330000001"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_statuses_reach_the_figures() {
    let running = Running::start(500, |s| {
        seed(s, 0, 3, &["info"]);
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    // The fake numbered its wamids 1..=3 in arrival order; statuses come as signed webhooks.
    let status = |n: usize, status: &str, errors: Value| {
        json!({"id": format!("wamid.b.{n}"), "status": status, "timestamp": Timestamp::now().as_second().to_string(),
               "recipient_id": "39333", "errors": errors})
    };
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": "39", "phone_number_id": "pn-brusson"},
    "statuses": [
        status(1, "delivered", json!([])),
        status(2, "read", json!([])),
        status(1, "read", json!([])),
        status(1, "delivered", json!([])),
        status(3, "failed", json!([{"code": 131049, "title": "ecosystem"}])),
    ]}}]}]});
    let raw = serde_json::to_vec(&body).unwrap();
    let code = reqwest::Client::new()
        .post(format!("{}/webhook/whatsapp", running.base))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sportello::channel::whatsapp::sign(b"app-secret", &raw),
        )
        .body(raw)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let f = running.figures(id);
    assert_eq!((f.sent, f.delivered, f.read, f.failed), (2, 2, 2, 1), "{f:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_overtakes_a_running_broadcast() {
    let running = Running::start(100, |s| {
        seed(s, 0, 400, &["info"]);
        seed(s, 1000, 50, &["emergenze"]);
    })
    .await;
    let info = running.create(&request("info", texts())).unwrap();
    let started = Instant::now();
    while running.got().len() < 20 {
        assert!(started.elapsed() < Duration::from_secs(30), "info never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let alert = running.create(&request("emergenze", texts())).unwrap();
    running.done(alert, Duration::from_secs(60)).await;
    running.done(info, Duration::from_secs(60)).await;
    let order: Vec<bool> = running
        .got()
        .iter()
        .map(|(_, _, b)| text_of(b).contains("Emergenze") || text_of(b).contains("Urgences"))
        .collect();
    assert_eq!(order.iter().filter(|e| **e).count(), 50);
    let last_alert = order.iter().rposition(|e| *e).unwrap();
    // 20 before the alert was created, at most a batch (64) and the sends in flight (16)
    // while it was: the alert is through long before the 400 are.
    assert!(
        last_alert < 300,
        "the last alert message was number {last_alert} of 450"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_is_not_faster_than_the_configured_pace() {
    let running = Running::start(100, |s| {
        seed(s, 0, 250, &["info"]);
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(60)).await;
    let times: Vec<Instant> = running.got().iter().map(|(t, _, _)| *t).collect();
    assert_eq!(times.len(), 250);
    // 250 messages at 100/s take at least 2.49 s, less the pacer's slack (20 ms).
    let span = *times.last().unwrap() - times[0];
    assert!(span >= Duration::from_millis(2400), "250 messages in {span:?}");
    // In any one-second window: 100, plus the slack and loopback jitter. A stall of the
    // machine (tests run side by side on two cores) holds back the requests paced during
    // it, which then arrive together: 100 per second of stall more. Up to 125 (a 250 ms
    // stall) passes; an unpaced lane sends all 250 within a second, and one at twice the
    // pace 200.
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(in_window <= 125, "{in_window} messages within one second");
    }
    running.stop().await;
}

/// Issue 26: every sending number has its own lane, and a region's alert starts a hundred;
/// the requests in flight across all of them stay within the `memory` setting's share (16
/// for 128 MiB), not 32 per lane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_across_every_lane_stay_within_the_memory_setting() {
    let memory = sportello::config::Memory::parse("128MiB").unwrap();
    assert_eq!(memory.broadcast_in_flight(), 16);
    let now = Timestamp::now();
    let running = Running::start_with(10_000, memory, |s| {
        seed(s, 0, 60, &["info"]);
        for i in 0..60 {
            s.put_citizen(
                &CitizenKey::new("brusson", "telegram", &format!("{}", 700_000 + i)),
                &subscriber("it", &["info"], now),
            )
            .unwrap();
        }
    })
    .await;
    running.fake.lock().unwrap().hold = true;
    running.create(&request("info", texts())).unwrap();
    // Held requests are never answered: their number grows to the limit and stays there.
    let (mut last, mut since) = (0, Instant::now());
    let started = Instant::now();
    while since.elapsed() < Duration::from_millis(1500) && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let held = running.fake.lock().unwrap().held;
        if held != last {
            (last, since) = (held, Instant::now());
        }
    }
    // Each lane alone holds up to 32, two 64: 16 is the process-wide cap. Which lane's
    // requests fill it is the scheduler's (the first one can take every permit while the
    // requests are held), so the lanes are not counted apart.
    assert!(!running.got().is_empty());
    assert_eq!(last, 16, "requests in flight at once");
}

/// An answer that cannot be read may hide a message the provider accepted: that entry is
/// not sent again (at most once) but counted interrupted, for "resend to failed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_is_unreadable_is_not_sent_again() {
    let running = Running::start(500, |s| {
        seed(s, 0, 3, &["info"]);
    })
    .await;
    running.fake.lock().unwrap().garble.insert("393330000001".into());
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let got = running.got();
    let count = |to: &str| got.iter().filter(|(_, t, _)| t == to).count();
    assert_eq!(count("393330000001"), 1, "in doubt: sent once, not retried");
    assert_eq!((count("393330000000"), count("393330000002")), (1, 1));
    let f = running.figures(id);
    assert_eq!((f.sent, f.failed, f.interrupted), (2, 1, 1), "{f:?}");
    let key = CitizenKey::new("brusson", "whatsapp", "393330000001");
    assert_eq!(
        running.store.delivery(id, &key).unwrap().unwrap().state,
        DeliveryState::Interrupted
    );
    // The operator may still choose to send it again.
    running.fake.lock().unwrap().garble.clear();
    assert_eq!(
        plan::resend_failed(running.store.as_ref(), id, "test", Timestamp::now()).unwrap(),
        1
    );
    running.server.broadcast_wake.notify_one();
    running.done(id, Duration::from_secs(20)).await;
    assert_eq!(running.figures(id).sent, 3);
    assert_eq!(running.got().len(), 4);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_file_is_served_and_sent_by_link_with_the_text_as_caption() {
    let running = Running::start(500, |s| {
        seed(s, 0, 2, &["info"]);
    })
    .await;
    let file = running._dir.path().join("neve.jpg");
    std::fs::write(&file, b"\xff\xd8\xff not a real jpeg").unwrap();
    // Kept in the data directory the server serves media from.
    let media = sportello::broadcast::media::keep(&running._dir.path().join("data"), &file, &running.base).unwrap();
    let mut req = request("info", texts());
    req.media = Some(media.clone());
    let id = running.create(&req).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let got = running.got();
    assert_eq!(got.len(), 2, "{got:?}");
    for (_, _, body) in &got {
        assert_eq!(body["type"], "image");
        assert_eq!(body["image"]["link"], media.link.as_str());
        assert!(
            body["image"]["caption"].as_str().unwrap().contains("neige")
                || body["image"]["caption"].as_str().unwrap().contains("neve")
        );
    }
    let http = reqwest::Client::new();
    let r = http.get(&media.link).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(&r.bytes().await.unwrap()[..], b"\xff\xd8\xff not a real jpeg");
    for bad in ["/media/..%2Fdb", "/media/db", &format!("/media/{}.pdf", "a".repeat(64))] {
        let r = http.get(format!("{}{bad}", running.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
    running.stop().await;
}

/// The command line without a server: refusals are clear and exit 1; a broadcast to a comune
/// with one list is stored for the next `serve`, its media file kept in the data directory.
#[test]
fn the_command_line_queues_into_the_store_when_no_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&data).unwrap();
        seed(&store, 0, 3, &["info"]);
        let now = Timestamp::now();
        for n in ["391", "392"] {
            store
                .put_citizen(&CitizenKey::new("madone", "whatsapp", n), &subscriber("it", &[], now))
                .unwrap();
        }
        store.flush().unwrap();
    }
    let it = dir.path().join("it.txt");
    std::fs::write(&it, "Avviso").unwrap();
    let photo = dir.path().join("foto.png");
    std::fs::write(&photo, b"\x89PNG\r\n\x1a\n and the rest").unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        let d = data.display().to_string();
        all.extend(["--data", &d]);
        let out = util::sportello(&util::root(), &all, "");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let it_s = it.display().to_string();
    let (code, _, err) = run(&[
        "broadcast",
        "send",
        "--comune",
        "brusson",
        "--category",
        "info",
        "--text-it",
        &it_s,
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("read fr") && err.contains("--text-fr"), "{err}");
    let photo_s = photo.display().to_string();
    // In 2030 their window will be closed, and madone has no template: refused.
    let (code, _, err) = run(&[
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        &it_s,
        "--at",
        "2030-01-01 08:00",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no template for it"), "{err}");
    let (code, out, err) = run(&[
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        &it_s,
        "--media",
        &photo_s,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["audience"]["total"], 2);
    let id = v["id"].as_u64().unwrap().to_string();
    let (code, out, _) = run(&["broadcast", "status", &id]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["state"].as_str(), v["media"].as_str()),
        (Some("scheduled"), Some("image"))
    );
    assert_eq!(std::fs::read_dir(data.join("media")).unwrap().count(), 1);
    let (code, out, _) = run(&["broadcast", "list", "--comune", "madone"]);
    assert_eq!((code, out.lines().count()), (Some(0), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_citizens_without_a_number_by_recipient_and_the_others_at_their_number() {
    let now = Timestamp::now() - SignedDuration::from_mins(30);
    let running = Running::start(500, |s| {
        // A username without a shared number, one keyed by BSUID whose number is known, and
        // one from before the rollout.
        s.put_citizen(
            &CitizenKey::new("brusson", "whatsapp", "IT.1502576394655843"),
            &subscriber("it", &["info"], now),
        )
        .unwrap();
        let mut known = subscriber("fr", &["info"], now);
        known.whatsapp.phone = Some("393471110001".into());
        s.put_citizen(&CitizenKey::new("brusson", "whatsapp", "IT.2718281828459045"), &known)
            .unwrap();
        s.put_citizen(
            &CitizenKey::new("brusson", "whatsapp", "393330000077"),
            &subscriber("it", &["info"], now),
        )
        .unwrap();
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let mut how: Vec<(String, &str)> = running
        .got()
        .iter()
        .map(|(_, to, body)| {
            let field = if body.get("recipient").is_some() {
                "recipient"
            } else {
                "to"
            };
            (to.clone(), field)
        })
        .collect();
    how.sort();
    assert_eq!(
        how,
        [
            ("393330000077".to_string(), "to"),
            ("393471110001".to_string(), "to"),
            ("IT.1502576394655843".to_string(), "recipient"),
        ]
    );
    assert_eq!(running.figures(id).sent, 3);
    running.stop().await;
}
