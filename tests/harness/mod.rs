//! Helpers shared by several test modules: servers, fake providers, clients, seeds. Test
//! modules import from here and from `crate::util`, never from one another.

pub mod bare;
pub mod broadcast;
pub mod console;
pub mod leavers;
pub mod postgres;
pub mod scan;
pub mod server;
pub mod staffops;
pub mod standby;
