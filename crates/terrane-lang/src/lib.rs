//! terrane-lang
