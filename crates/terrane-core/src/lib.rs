//! terrane's engine: turns configuration plus state into a plan, and a plan
//! into changes made through providers.
//!
//! * [`graph`]: dependency order of one module's objects.
//! * [`decode`]: resource bodies decoded against provider schemas.
//! * [`walk`]: the walker shared by plan and apply.
//! * [`engine`]: the entry points (`plan`, `apply`).

pub mod addrs;
pub mod decode;
pub mod engine;
pub mod genconfig;
pub mod graph;
pub mod graph_dot;
pub mod import;
pub mod interrupt;
pub mod moved;
pub mod objchange;
pub mod plan;
pub mod planfile;
mod pool;
pub mod provider_functions;
pub mod removed;
pub mod render;
pub mod state;
pub mod targets;
pub mod walk;
