//! The backends `terraform { backend "TYPE" { ... } }` can name, and the
//! configuration `init` records for them in `.terraform/terraform.tfstate`.
//!
//! Each backend type is a [`BackendType`]: its schema (the arguments `init`
//! decodes the block and `-backend-config` against) and a constructor. A
//! backend crate adds one line to [`backend_types`].

pub mod http;
pub mod local;

use terrane_state::BackendType;

/// Every backend type terrane knows, by name.
pub fn backend_types() -> &'static [BackendType] {
    static TYPES: &[BackendType] = &[
        local::BACKEND_TYPE,
        http::BACKEND_TYPE,
        terrane_backend_s3::BACKEND_TYPE,
        terrane_backend_pg::BACKEND,
        // One line per further backend crate, e.g. `terrane_backend_s3::BACKEND_TYPE`.
    ];
    TYPES
}

/// The backend type called `name`.
pub fn backend_type(name: &str) -> Option<&'static BackendType> {
    backend_types().iter().find(|t| t.name == name)
}
