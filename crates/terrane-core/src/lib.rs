//! terrane's engine: turns configuration plus state into a plan, and a plan
//! into changes made through providers.

pub mod addrs;
pub mod plan;
