//! One module per command.

pub mod console;
pub mod drift;
pub mod fmt;
pub mod force_unlock;
pub mod get;
pub mod graph;
pub mod import;
pub mod init;
pub mod inventory;
pub mod output;
pub mod providers;
pub mod providers_lock;
pub mod run;
pub mod saved_plan;
pub mod show;
pub mod stacks;
pub mod state;
pub mod state_show;
pub mod statefile;
pub mod taint;
pub mod validate;
pub mod version;
pub mod workspace;
