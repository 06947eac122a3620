//! terrane-config
