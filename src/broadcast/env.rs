//! What the broadcast worker needs from the server: the way out it shares with replies,
//! the flows, the locales and the configuration, the citizens' lanes (for a refusal) and
//! the other processes sending from the same store.

use std::sync::Arc;

use crate::config::Config;
use crate::delivery::Outlet;
use crate::flow::Flows;
use crate::i18n::Locales;
use crate::service::coordination::Coordination;
use crate::storage::{CitizenKey, Store};

/// What the worker needs from the server.
pub trait Env: Send + Sync + 'static {
    /// The way out, shared with replies (providers, the store, the group commit).
    fn outlet(&self) -> &Arc<Outlet>;
    fn store(&self) -> &Arc<dyn Store> {
        &self.outlet().store
    }
    fn flows(&self) -> &Flows;
    fn locales(&self) -> &Locales;
    fn config(&self) -> &Config;
    /// A message refused for good: the citizen's record says why (as for replies), written
    /// where the citizen's steps are ordered.
    fn record_refused(&self, key: &CitizenKey, code: i64, title: &str);
    /// The other processes sending from the same store, if any (`server::shared`): then
    /// starting broadcasts and each sending number are taken under their locks.
    fn coordination(&self) -> &dyn Coordination;
    /// A broadcast of `comune` moved (someone was sent it, it finished): pages showing its
    /// progress refresh.
    fn progressed(&self, _comune: &str) {}
}
