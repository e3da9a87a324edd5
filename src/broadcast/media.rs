//! Media files given with a broadcast (`--media FILE`): kept under `<data>/media/` by the
//! SHA-256 of their bytes and served by the server at `<public_url>/media/<name>`, since
//! WhatsApp and Telegram fetch media by link. Images (JPEG, PNG: WhatsApp takes up to 5 MB)
//! and short videos (MP4, 3GP: up to 16 MB). Names are checked before any file is read,
//! so the route serves nothing but these files.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BroadcastError, Media};

/// The folder in the data directory.
pub const DIR: &str = "media";
const IMAGE_MAX: u64 = 5 * 1024 * 1024;
const VIDEO_MAX: u64 = 16 * 1024 * 1024;

/// (kind, content type) of a file name by its extension.
pub fn kind_of(name: &str) -> Option<(&'static str, &'static str)> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some(("image", "image/jpeg")),
        "png" => Some(("image", "image/png")),
        "mp4" => Some(("video", "video/mp4")),
        "3gp" => Some(("video", "video/3gpp")),
        _ => None,
    }
}

/// Whether `name` is one this module writes: 64 hex digits, a dot, a known extension.
pub fn valid_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, ext)) => {
            hash.len() == 64
                && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                && ["jpg", "jpeg", "png", "mp4", "3gp"].contains(&ext)
        }
        None => false,
    }
}

/// Copies `file` into `<data>/media/` and returns the media with its public link.
pub fn keep(data: &Path, file: &Path, public_url: &str) -> Result<Media, BroadcastError> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| BroadcastError::Media(format!("{shown}: {e}")))?;
    keep_bytes(&data.join(DIR), &file.to_string_lossy(), &bytes, public_url)
}

/// Keeps an uploaded or read file (`name` gives its type by extension, and is shown in
/// errors) in the media folder `dir` and returns the media with its public link. The bytes
/// must start as their type does: a renamed document is refused.
pub fn keep_bytes(dir: &Path, name: &str, bytes: &[u8], public_url: &str) -> Result<Media, BroadcastError> {
    let (kind, content_type) = kind_of(name)
        .ok_or_else(|| BroadcastError::Media(format!("{name}: an image (.jpg, .png) or a short video (.mp4, .3gp)")))?;
    let max = if kind == "image" { IMAGE_MAX } else { VIDEO_MAX };
    if bytes.len() as u64 > max {
        return Err(BroadcastError::Media(format!(
            "{name}: {} bytes; WhatsApp takes at most {max} for an {kind}",
            bytes.len()
        )));
    }
    if !looks_like(content_type, bytes) {
        return Err(BroadcastError::Media(format!(
            "{name}: the file is not a {content_type}"
        )));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let hash: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    let file = format!("{hash}.{ext}");
    let dir: PathBuf = dir.to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| BroadcastError::Media(format!("{}: {e}", dir.display())))?;
    std::fs::write(dir.join(&file), bytes).map_err(|e| BroadcastError::Media(format!("{}: {e}", dir.display())))?;
    Ok(Media {
        kind: kind.into(),
        link: format!("{}/media/{file}", public_url.trim_end_matches('/')),
    })
}

/// Whether `bytes` begin with the signature of `content_type`.
fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        // ISO base media: a box size, then "ftyp".
        "video/mp4" | "video/3gpp" => bytes.get(4..8) == Some(b"ftyp".as_slice()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_named_by_its_hash_and_linked_under_the_public_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Neve.JPG");
        std::fs::write(&file, b"\xFF\xD8\xFF\xE0 a jpeg's start").unwrap();
        let m = keep(&dir.path().join("data"), &file, "https://sportello.example.it/").unwrap();
        assert_eq!(m.kind, "image");
        let name = m.link.strip_prefix("https://sportello.example.it/media/").unwrap();
        assert!(valid_name(name), "{name}");
        assert!(dir.path().join("data/media").join(name).is_file());
        assert!(!valid_name("../db.jpg") && !valid_name("a.jpg") && !valid_name(&format!("{}.pdf", "a".repeat(64))));
        assert!(keep(dir.path(), &dir.path().join("x.pdf"), "https://x").is_err());
        // A document renamed to .png is refused by its first bytes.
        assert!(keep_bytes(dir.path(), "x.png", b"%PDF-1.7", "https://x").is_err());
        assert!(keep_bytes(dir.path(), "x.png", b"\x89PNG\r\n\x1a\nrest", "https://x").is_ok());
        let mp4 = [&[0, 0, 0, 0x18][..], b"ftypmp42"].concat();
        assert_eq!(
            keep_bytes(dir.path(), "clip.MP4", &mp4, "https://x").unwrap().kind,
            "video"
        );
    }
}
