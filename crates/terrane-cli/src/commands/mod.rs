//! One module per command.

pub mod console;
pub mod fmt;
pub mod output;
pub mod run;
pub mod validate;
pub mod version;
