//! `POST /staff/{comune}/broadcasts/media`: an image or short video uploaded from the
//! composer (multipart, CSRF as every form), kept with the broadcast media
//! (`broadcast::media`) and handed back to the composer as its link. Mounted outside the
//! console's 16 KiB body limit with a limit of its own ([`MAX_UPLOAD`]).

use axum::extract::{Multipart, Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pages::error_page;
use super::session::Staff;
use super::state::Console;
use super::{audit, ConsoleError};

/// WhatsApp's largest media (a 16 MB video) and the form's other fields.
pub const MAX_UPLOAD: usize = 16 * 1024 * 1024 + 64 * 1024;

/// What the upload form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    file: Option<(String, Vec<u8>)>,
}

async fn read(mut multipart: Multipart) -> Result<Upload, String> {
    let mut up = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        match field.name() {
            Some("csrf") => up.csrf = field.text().await.map_err(|e| e.body_text())?,
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                if !name.is_empty() && !bytes.is_empty() {
                    up.file = Some((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    Ok(up)
}

pub async fn upload(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    multipart: Multipart,
) -> Response {
    let lang = staff.lang();
    if s.engine.flows.get(&comune).is_none() {
        return error_page(&s, lang, ConsoleError::NotFound);
    }
    if !staff.account.may(&comune) {
        return error_page(&s, lang, ConsoleError::Forbidden);
    }
    let up = match read(multipart).await {
        Ok(up) => up,
        Err(_) => return (StatusCode::BAD_REQUEST, "malformed upload").into_response(),
    };
    if let Err(e) = staff.check_csrf(&up.csrf) {
        return error_page(&s, lang, e);
    }
    let back = |query: String| {
        (
            StatusCode::SEE_OTHER,
            [(LOCATION, format!("/staff/{comune}/broadcasts/new?{query}"))],
        )
            .into_response()
    };
    let Some((name, bytes)) = up.file else {
        return back("upload=missing".into());
    };
    let Some(dir) = s.media_dir.clone() else {
        return back("upload=unavailable".into());
    };
    let public = s.config.public_url.clone();
    let kept =
        tokio::task::spawn_blocking(move || crate::broadcast::media::keep_bytes(&dir, &name, &bytes, &public)).await;
    match kept {
        Ok(Ok(media)) => {
            let file = media.link.rsplit('/').next().unwrap_or_default().to_string();
            if let Err(e) = audit(
                s.engine.store.as_ref(),
                &staff.account.email,
                &comune,
                "media-upload",
                &file,
            ) {
                return error_page(&s, lang, e.into());
            }
            back(format!("media={}", crate::web::url_encode(&media.link)))
        }
        // The reason names only the file's type and size.
        Ok(Err(_)) => back("upload=refused".into()),
        Err(_) => back("upload=unavailable".into()),
    }
}
