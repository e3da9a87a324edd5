//! Embeds `flows/*.toml`, `faq/*.toml` and `locales/<lang>/*.ftl` into the binary, so `sportello` runs on
//! its built-in comuni from any folder. A comune added under `flows/` is picked up at the
//! next build; at run time a `./flows` folder (or `--flows`) takes precedence.

use std::fmt::Write;
use std::path::Path;

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let root = Path::new(&root);
    println!("cargo:rerun-if-changed=flows");
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=faq");
    let mut out =
        String::from("/// Flow files compiled in: (file name, contents).\npub static FLOWS: &[(&str, &str)] = &[\n");
    for f in files(&root.join("flows"), ".toml") {
        writeln!(
            out,
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/flows/{f}\"))),"
        )
        .unwrap();
    }
    out.push_str("];\n/// FAQ files compiled in: (file name, contents).\npub static FAQS: &[(&str, &str)] = &[\n");
    for f in files(&root.join("faq"), ".toml") {
        writeln!(
            out,
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/faq/{f}\"))),"
        )
        .unwrap();
    }
    out.push_str("];\n/// Fluent files compiled in: (language, file name, contents).\npub static LOCALES: &[(&str, &str, &str)] = &[\n");
    let mut langs: Vec<String> = std::fs::read_dir(root.join("locales"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    langs.sort();
    for lang in langs {
        for f in files(&root.join("locales").join(&lang), ".ftl") {
            writeln!(
                out,
                "    ({lang:?}, {f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/locales/{lang}/{f}\"))),"
            )
            .unwrap();
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
