//! What the console's handlers reach: the engine, the configuration, the citizens' lanes,
//! the broadcast worker's wake and the media directory, given by `app.rs` when it mounts
//! the console, never the whole server.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::server::Lanes;
use crate::service::runner::Engine;
use crate::storage::CitizenKey;

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
    /// The simulator's desk: its trial conversations are in the inbox too.
    pub trials: Arc<crate::service::trial::Trials>,
    /// The console's open event streams (`/staff/{comune}/events`).
    pub streams: Arc<crate::web::events::Streams>,
}

impl Console {
    /// The engine whose store holds `key`'s conversation: the simulator's desk for a trial,
    /// else the real one.
    pub fn engine_for(&self, key: &CitizenKey) -> &Engine {
        self.desk_of(key).0
    }

    /// [`Console::engine_for`], and whether `key`'s conversation is a trial.
    pub fn desk_of(&self, key: &CitizenKey) -> (&Engine, bool) {
        if self.trials.holds(key) {
            (&self.trials.engine, true)
        } else {
            (&self.engine, false)
        }
    }
}

/// Runs a console request where it may block when the store waits on the network
/// (PostgreSQL): the handlers call the store directly, so the worker first hands its other
/// tasks to the rest of the runtime (`block_in_place`), and a slow database never stalls
/// webhooks, timers or other citizens. sled answers in microseconds: run in place.
pub async fn off_workers(
    axum::extract::State(console): axum::extract::State<Console>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let handle = tokio::runtime::Handle::current();
    let multi = handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread;
    if !console.engine.store.waits_on_network() || !multi {
        return next.run(request).await;
    }
    tokio::task::block_in_place(move || handle.block_on(next.run(request)))
}
