//! Loading Terraform modules: `.tf` and `.tf.json` files, override files,
//! every top-level block kind decoded into [`model::Module`], local child
//! modules into a [`model::ModuleTree`], and the static checks of
//! `validate` that need no provider schema ([`validate`]).

mod blocks;
mod decode;
pub mod json;
pub mod loader;
pub mod manifest;
pub mod model;
mod overrides;
pub mod typeexpr;
pub mod validate;

pub use decode::literal_string;
pub use loader::{load_module, load_source, load_tree};
pub use model::*;
