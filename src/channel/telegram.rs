//! Telegram Bot API wire format (being built).
