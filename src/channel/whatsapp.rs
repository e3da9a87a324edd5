//! WhatsApp Cloud API wire format (being built).
