//! The state model: every field of Terraform's state format version 4.
//!
//! Attribute values, output values and types, and sensitive paths are kept
//! as [`RawJson`] (exact source text, exact numbers); the engine converts
//! them with `terrane-value` against provider schemas.

use std::collections::BTreeMap;
use std::fmt;

use crate::json::{quote, RawJson};

/// A state file: the snapshot metadata plus the [`State`] itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile {
    /// The Terraform version that wrote the file (on writing, the version
    /// terrane reports compatibility with).
    pub terraform_version: String,
    /// Incremented on every persisted change.
    pub serial: u64,
    /// A UUID identifying the state's history; fixed for its lifetime.
    pub lineage: String,
    /// The content.
    pub state: State,
}

/// The content of a state snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Root module outputs, by name (written sorted by name).
    pub outputs: BTreeMap<String, OutputValue>,
    /// Resources (written sorted by module, mode, type, name).
    pub resources: Vec<Resource>,
    /// `check_results`, from newer Terraform versions; Terraform 1.0.3
    /// neither reads nor writes it: it is kept as read and written only when
    /// present.
    pub check_results: Option<RawJson>,
}

impl StateFile {
    /// A snapshot of `state` with a fresh lineage and serial 0 (the first
    /// persisted write makes it 1).
    pub fn new(state: State) -> StateFile {
        StateFile {
            terraform_version: crate::COMPATIBLE_TERRAFORM_VERSION.to_string(),
            serial: 0,
            lineage: new_lineage(),
            state,
        }
    }
}

impl State {
    /// The resource with this module address (`""` for root), mode, type
    /// and name.
    pub fn resource(&self, module: &str, mode: Mode, type_: &str, name: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.module == module && r.mode == mode && r.type_ == type_ && r.name == name)
    }

    /// Whether there are no resources and no outputs.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }
}

/// A root module output value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputValue {
    /// The value as cty JSON.
    pub value: RawJson,
    /// Its type as cty type JSON, e.g. `"string"` or `["list","number"]`.
    pub ty: RawJson,
    /// Whether the output is sensitive.
    pub sensitive: bool,
}

/// Managed (`resource`) or data (`data`) resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// `data` blocks. Sorted first, as Terraform does ('D' < 'M').
    Data,
    /// `resource` blocks.
    Managed,
}

impl Mode {
    /// The name used in the state file.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Data => "data",
            Mode::Managed => "managed",
        }
    }
}

/// The legacy `each` field (written by Terraform 0.12; read, never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EachMode {
    /// `"list"` (count).
    List,
    /// `"map"` (for_each).
    Map,
}

/// One resource and all of its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Module instance address, e.g. `module.a["x"].module.b`; empty for the
    /// root module.
    pub module: String,
    /// Managed or data.
    pub mode: Mode,
    /// Resource type, e.g. `null_resource`.
    pub type_: String,
    /// Resource name.
    pub name: String,
    /// Legacy `each`; ignored on writing, as Terraform 1.0.3 does.
    pub each: Option<EachMode>,
    /// Provider configuration address, e.g.
    /// `provider["registry.terraform.io/hashicorp/null"].x`; kept verbatim.
    pub provider: String,
    /// Current and deposed objects of every instance.
    pub instances: Vec<Instance>,
}

impl Resource {
    /// The resource address as Terraform prints it in messages
    /// (`module.m.data.t.n`).
    pub fn address(&self) -> String {
        let mut s = String::new();
        if !self.module.is_empty() {
            s.push_str(&self.module);
            s.push('.');
        }
        if self.mode == Mode::Data {
            s.push_str("data.");
        }
        s.push_str(&self.type_);
        s.push('.');
        s.push_str(&self.name);
        s
    }

    /// The current object (`deposed: None`) or a deposed object of the
    /// instance with `key`.
    pub fn object(&self, key: Option<&IndexKey>, deposed: Option<&str>) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.index_key.as_ref() == key && i.deposed.as_deref() == deposed)
    }

    /// The address of one instance (`t.n[0]`, `t.n["k"]`).
    pub fn instance_address(&self, key: Option<&IndexKey>) -> String {
        let mut s = self.address();
        if let Some(k) = key {
            s.push_str(&format!("[{k}]"));
        }
        s
    }
}

/// An instance key: `count` index or `for_each` key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    /// `count.index`.
    Int(i64),
    /// `each.key`.
    String(String),
}

impl IndexKey {
    /// Terraform's instance ordering: integers (numerically) before strings
    /// (byte-wise).
    pub fn sort_cmp(&self, other: &IndexKey) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (self, other) {
            (IndexKey::Int(a), IndexKey::Int(b)) => a.cmp(b),
            (IndexKey::Int(_), IndexKey::String(_)) => Less,
            (IndexKey::String(_), IndexKey::Int(_)) => Greater,
            (IndexKey::String(a), IndexKey::String(b)) => a.cmp(b),
        }
    }
}

impl fmt::Display for IndexKey {
    /// As in addresses: `0` or `"key"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexKey::Int(i) => write!(f, "{i}"),
            IndexKey::String(s) => f.write_str(&quote(s)),
        }
    }
}

/// Instance object status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Normal (no `status` field).
    #[default]
    Ready,
    /// `"tainted"`: to be replaced on the next apply.
    Tainted,
}

/// One object of a resource instance: the current object (`deposed` is
/// `None`) or a deposed one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instance {
    /// `count`/`for_each` key; `None` for a single instance.
    pub index_key: Option<IndexKey>,
    /// Ready or tainted.
    pub status: Status,
    /// Deposed key (8 lowercase hex digits) for deposed objects.
    pub deposed: Option<String>,
    /// The provider's schema version of `attributes`.
    pub schema_version: u64,
    /// Attributes as JSON (exact source text).
    pub attributes: Option<RawJson>,
    /// Legacy flatmap attributes (from states upgraded from format 3);
    /// kept and written back as read (sorted by key), never produced.
    pub attributes_flat: Option<BTreeMap<String, String>>,
    /// Sensitive attribute paths as cty path JSON; `None` is written `[]`.
    pub sensitive_attributes: Option<RawJson>,
    /// Provider private data (decoded; written as base64).
    pub private: Option<Vec<u8>>,
    /// Addresses of resources this object depends on, kept in order.
    pub dependencies: Vec<String>,
    /// Whether the object was created with `create_before_destroy`.
    pub create_before_destroy: bool,
}

/// Generates a new lineage (a random UUID in the usual 8-4-4-4-12 form).
pub fn new_lineage() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// Whether `key` is a well-formed deposed key (8 lowercase hex digits).
pub fn is_valid_deposed_key(key: &str) -> bool {
    key.len() == 8 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Generates a new random deposed key.
pub fn new_deposed_key() -> String {
    let id = uuid::Uuid::new_v4();
    let b = id.as_bytes();
    format!("{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3])
}
