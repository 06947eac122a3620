//! terrane-state: Terraform's state, format version 4.
//!
//! * [`StateFile`] / [`State`]: the model, with every field of format 4.
//!   Attributes, output values and types and sensitive paths stay JSON
//!   ([`RawJson`], exact source text); the engine converts them with
//!   `terrane-value`.
//! * [`read`]: parse a state file (format 4; 2 and 3 upgraded), with
//!   Terraform 1.0.3's error wording.
//! * [`serialize`]: write it byte-for-byte as Terraform 1.0.3 does.
//! * [`LocalState`]: the local backend's state manager: locking compatible
//!   with Terraform (`.terraform.tfstate.lock.info` plus an OS lock on the
//!   state file), atomic writes, backups, serial and lineage rules.
//! * [`backend`]: the [`StateMgr`] and [`Backend`] traits the commands
//!   use, and [`RemoteState`] over any [`RemoteClient`] (s3, pg, http).
//! * [`Journal`]: an append-only log of instance changes beside the state,
//!   for crash-safe applies without rewriting the whole state per change.
//! * [`addr`]: addresses as the `state` commands take them and the edits
//!   they make (list, remove, move modules, resources and instances).

//! # Verified against Terraform 1.0.3
//!
//! `tests/fixtures/record.sh` regenerates the recorded data with the real
//! Terraform (null provider 2.1.2, offline):
//!
//! * `apply/`: states written by `terraform apply` and `terraform taint`
//!   (count, for_each with awkward keys, nested modules with count and
//!   for_each, outputs of every type, sensitive outputs and attributes,
//!   provider aliases, data sources, dependencies, create_before_destroy,
//!   tainted instances): read then written back byte-identical;
//! * `pull/`: hand-written states (ordering, every instance field, legacy
//!   `attributes_flat`, formats 2 and 3, a newer `terraform_version`) and
//!   Terraform's re-serialization of them (`terraform state pull`);
//! * `errors/`: invalid states and Terraform's messages for them.
//!
//! The local manager's serial/backup rules follow `TF_LOG=trace` output of
//! Terraform's `statemgr.Filesystem`; the lock file and OS lock were
//! observed on a Terraform holding its lock, and `tests/local.rs` checks
//! locking both ways against a live Terraform 1.0.3 when it is on PATH.
//!
//! Terraform 1.0.3 does not refuse states written by newer Terraform
//! versions (it reads a `terraform_version` of `2.0.0`); refusing is
//! available as [`ReadOptions::refuse_newer`].

#![warn(missing_docs)]

pub mod addr;
pub mod backend;
mod base64;
mod ctytype;
pub mod journal;
pub mod json;
pub mod local;
pub mod lock;
mod model;
mod read;
mod write;

pub use addr::{AddrError, MoveError, StateAddr};
pub use backend::{
    Backend, BackendConfig, BackendError, BackendType, ConfigAttr, ConfigType, RemoteClient,
    RemoteState, RetryPolicy, StateMgr,
};
pub use journal::{
    apply_change, apply_changes, Change, FoldOutcome, Journal, JournalError, ResourceAddr,
};
pub use json::RawJson;
pub use local::{
    atomic_write, content_equal, workspace_state_path, Backup, LocalState, LocalStateOptions,
    StateWriteError,
};
pub use lock::{lock_info_path, LockError, LockInfo, LOCK_ADVICE};
pub use model::{
    is_valid_deposed_key, new_deposed_key, new_lineage, EachMode, IndexKey, Instance, Mode,
    OutputValue, Resource, State, StateFile, Status,
};
pub use read::{read, Diagnostic, ReadError, ReadOptions};
pub use write::serialize;

/// The Terraform version terrane is compatible with and writes into
/// `terraform_version` by default.
pub const COMPATIBLE_TERRAFORM_VERSION: &str = "1.0.3";
