//! The deployment files of `deploy/` (issue 21): the systemd units pass `systemd-analyze
//! verify` with the real binary in their `ExecStart`, and the Italian installation guide
//! names only files that exist.

use std::process::Command;

use crate::util::root;

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        // `.ci/run` installs it: in CI its absence is a failure, not a skip.
        assert!(std::env::var_os("CI").is_none(), "systemd-analyze is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in [
        "sportello.service",
        "sportello-backup.service",
        "sportello-backup.timer",
    ] {
        let text = std::fs::read_to_string(root().join("deploy/systemd").join(name)).unwrap();
        // The installed path does not exist here: the binary under test stands in for it.
        let text = text.replace("/usr/local/bin/sportello", env!("CARGO_BIN_EXE_sportello"));
        assert!(!text.contains("SPORTELLO_WHATSAPP_TOKEN="), "a secret in {name}");
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        units.push(path);
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_installation_guide_names_files_that_exist() {
    let guide = std::fs::read_to_string(root().join("docs/it/installazione.md")).unwrap();
    let mut named = 0;
    for word in guide.split(|c: char| c.is_whitespace() || "`()[],".contains(c)) {
        if let Some(path) = word.strip_prefix("deploy/") {
            let path = path.trim_end_matches(['.', ':', ';']);
            assert!(root().join("deploy").join(path).exists(), "deploy/{path}");
            named += 1;
        }
    }
    assert!(named >= 6, "the guide names {named} files of deploy/");
    assert!(root().join("config.example.toml").is_file());
}
