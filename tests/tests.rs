//! sportello's integration tests, compiled as one binary (ripgrep's layout).
//! Each module drives the real binary or the real library API; helpers live in `util`.

mod crash;
mod faq;
mod hours;
mod moderation;
