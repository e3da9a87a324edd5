//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};

use sportello::flow::{self, Flows};
use sportello::i18n::Locales;
use sportello::service::runner::Engine;
use sportello::storage::Store;

/// The repository root (tests run with it as the current directory, but be explicit).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's locales and flows over the given store.
pub fn engine(store: Arc<dyn Store>) -> Engine {
    let locales = Locales::load_dir(&root().join("locales")).expect("locales load");
    let flows = flow::load_dir(&root().join("flows"), &locales).expect("flows load");
    let mut engine = Engine::new(flows, locales, store);
    engine.faqs = sportello::faq::load_all(Some(&root().join("faq"))).expect("faq load");
    engine
}

/// Runs the real binary with `args`, feeding `stdin`, from `dir`.
pub fn sportello(dir: &Path, args: &[&str], stdin: &str) -> Output {
    sportello_with_env(dir, args, &[], stdin)
}

/// [`sportello`] with `env` on top of the test's environment: each variable set to its
/// value, or removed where the value is `None`.
pub fn sportello_with_env(dir: &Path, args: &[&str], env: &[(&str, Option<&str>)], stdin: &str) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_sportello"));
    command.args(args).current_dir(dir).env("SPORTELLO_LOG", "warn");
    for &(name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sportello");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().expect("wait sportello")
}

/// The repository's flows and locales, loaded once for the whole test binary.
pub fn world() -> &'static (Flows, Locales) {
    static W: OnceLock<(Flows, Locales)> = OnceLock::new();
    W.get_or_init(|| {
        let locales = Locales::load_dir(&root().join("locales")).unwrap();
        let flows = flow::load_dir(&root().join("flows"), &locales).unwrap();
        (flows, locales)
    })
}

/// The status a server answers to a POST that declares a `Content-Length` of `length` bytes
/// but sends none of them. An over-limit body is refused on its header alone: checking it this
/// way avoids a race where the server answers 413 and closes while a client still uploads
/// megabytes, and the client sees a broken pipe instead of the status.
pub async fn status_for_declared_length(base: &str, path: &str, headers: &[(&str, &str)], length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// A free loopback address and port for a `sportello serve` started by a test.
pub fn free_bind() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}
