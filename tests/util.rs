//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};

use sportello::dialogue::runner::Engine;
use sportello::flow::{self, Flows};
use sportello::i18n::Locales;
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
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(args)
        .current_dir(dir)
        .env("SPORTELLO_LOG", "warn")
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
