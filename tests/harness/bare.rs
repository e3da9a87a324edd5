//! A bare server: no provider tokens (nothing is ever sent), a short request timeout.

use std::time::Duration;

use sportello::channel::whatsapp::sign;
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::server::{self, Server};
use sportello::storage::Store;

use crate::util;

pub const SECRET: &str = "hostile-app-secret";

/// A server with no provider tokens (nothing is ever sent) and a short request timeout.
pub struct Bare {
    pub base: String,
    pub(crate) store: std::sync::Arc<dyn Store>,
    pub addr: std::net::SocketAddr,
    pub(crate) http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub async fn bare_with(timeout: Duration, listen: server::listen::Listen) -> Bare {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(
        sportello::storage::sealed::migrate::open_sled(&dir.path().join("data"))
            .unwrap()
            .0,
    );
    // Provider URLs on a closed loopback port: nothing can leave this machine.
    let mut config = Config {
        graph_url: "http://127.0.0.1:9/v23.0".into(),
        telegram_url: "http://127.0.0.1:9".into(),
        listen,
        ..Config::default()
    };
    config.comuni.insert(
        "madone".into(),
        ComuneChannels {
            whatsapp_phone_number_id: Some("pn-madone".into()),
            ..Default::default()
        },
    );
    let vars = vec![
        ("SPORTELLO_WHATSAPP_APP_SECRET".to_string(), SECRET.to_string()),
        ("SPORTELLO_TELEGRAM_SECRET_MADONE".to_string(), "tg-secret".to_string()),
    ];
    let options = sportello::server::Options {
        request_timeout: timeout,
        ..Default::default()
    };
    let server = Server::with_options(util::engine(store.clone()), config, Secrets::from_vars(vars), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sportello::app::run(server, listener, std::future::pending()));
    Bare {
        base: format!("http://{addr}"),
        store,
        addr,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Bare {
    pub(crate) async fn post(
        &self,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> u16 {
        let mut req = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().status().as_u16()
    }

    pub async fn metrics(&self) -> String {
        let r = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap();
        r.text().await.unwrap()
    }

    pub async fn post_whatsapp(&self, body: Vec<u8>) -> u16 {
        let sig = sign(SECRET.as_bytes(), &body);
        self.post(
            "/webhook/whatsapp",
            Some("application/json"),
            &[("x-hub-signature-256", &sig)],
            body,
        )
        .await
    }

    pub(crate) async fn method(&self, method: reqwest::Method, path: &str) -> u16 {
        self.http
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn healthy(&self) -> bool {
        self.method(reqwest::Method::GET, "/healthz").await == 200
    }
}
