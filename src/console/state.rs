//! What the console's handlers reach: the engine, the configuration, the citizens' lanes,
//! the broadcast worker's wake and the media directory, given by `app.rs` when it mounts
//! the console, never the whole server.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::server::Lanes;
use crate::service::runner::Engine;

/// The console's state (cheap to clone: handles).
#[derive(Clone)]
pub struct Console {
    pub engine: Arc<Engine>,
    pub config: Arc<Config>,
    /// Staff actions run in the citizen's lane; the replies they queue go to the sender.
    pub lanes: Lanes,
    /// Wakes the broadcast worker (a broadcast was created or queued again).
    pub broadcast_wake: Arc<Notify>,
    /// Where broadcast media files are kept; `None`: uploads are refused.
    pub media_dir: Option<PathBuf>,
}
