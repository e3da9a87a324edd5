//! The runtime that citizens' lanes run on: steps, staff actions in a lane and reply sends.
//!
//! It is not the runtime that answers HTTP. A step reads and writes the store with blocking
//! calls and spends most of a message's CPU (planning, rendering, committing, sending);
//! on the same workers as the handlers, a burst of steps kept webhooks waiting for their
//! 200 behind them. On threads of their own, the operating system shares the cores
//! between answering and working, so webhooks are acknowledged (journalled and durable)
//! while the backlog is worked off. How far intake may run ahead of the steps is bounded
//! by [`super::pipeline`]'s backlog permits.

use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};

/// Worker threads for lanes on PostgreSQL: a store call blocks its worker for a round
/// trip, so more of them wait at once than there are cores (as `serve`'s own runtime).
pub const POSTGRES_STEP_WORKERS: usize = 8;

/// A multi-thread runtime owned by the server; shut down without waiting when the last
/// handle goes (a graceful stop drains the lanes first).
pub struct Steps {
    runtime: Option<Runtime>,
    handle: Handle,
    workers: usize,
}

impl Steps {
    /// Starts `workers` threads named `sportello-step`.
    ///
    /// # Panics
    /// When the operating system refuses the threads (as `std::thread::spawn` does).
    pub fn new(workers: usize) -> Arc<Steps> {
        let workers = workers.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("sportello-step")
            .enable_all()
            .build()
            .expect("starting the step runtime");
        let handle = runtime.handle().clone();
        Arc::new(Steps {
            runtime: Some(runtime),
            handle,
            workers,
        })
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// How many worker threads run lanes.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime's task; the last
        // `Server` handle may well be dropped in one.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
