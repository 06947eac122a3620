//! The decoded form of a Terraform module: one struct per kind of top-level
//! block. Expressions stay as syntax ([`Expr`]) to be evaluated later;
//! everything keeps its source range for diagnostics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use terrane_hcl::ast::{Block, Body, Expr, Ident, TraversalStep};
use terrane_hcl::{SourceFile, SourceRange, Span};

/// Where something was declared: file plus byte range.
#[derive(Clone, Debug)]
pub struct DeclRange {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl DeclRange {
    pub fn new(file: &Arc<SourceFile>, span: Span) -> Self {
        DeclRange {
            file: file.clone(),
            span,
        }
    }
    pub fn source_range(&self) -> SourceRange {
        SourceRange {
            file: self.file.clone(),
            span: self.span,
        }
    }
    /// `main.tf:3,1-15` as Terraform writes earlier declarations.
    pub fn short(&self) -> String {
        let s = self.file.pos(self.span.start);
        let e = self.file.pos(self.span.end);
        if s.line == e.line {
            format!("{}:{},{}-{}", self.file.name, s.line, s.column, e.column)
        } else {
            format!(
                "{}:{},{}-{},{}",
                self.file.name, s.line, s.column, e.line, e.column
            )
        }
    }
}

/// An expression together with the file it came from.
#[derive(Clone, Debug)]
pub struct SrcExpr {
    pub file: Arc<SourceFile>,
    pub expr: Expr,
}

impl SrcExpr {
    pub fn range(&self) -> DeclRange {
        DeclRange::new(&self.file, self.expr.span)
    }
}

/// A block body together with its file (resource and provider bodies are
/// decoded against a provider schema later).
#[derive(Clone, Debug)]
pub struct SrcBody {
    pub file: Arc<SourceFile>,
    pub body: Body,
}

/// A static reference written as an expression, such as `aws_instance.web`
/// in `depends_on` or `ignore_changes`.
#[derive(Clone, Debug)]
pub struct Traversal {
    pub root: Ident,
    pub steps: Vec<TraversalStep>,
    pub range: DeclRange,
}

#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The directory the module was loaded from.
    pub dir: PathBuf,
    /// Every file that was loaded, in load order.
    pub files: Vec<Arc<SourceFile>>,
    pub terraform: TerraformSettings,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    /// Keyed by `TYPE.NAME`.
    pub managed_resources: BTreeMap<String, Resource>,
    /// Keyed by `data.TYPE.NAME`.
    pub data_resources: BTreeMap<String, Resource>,
    pub moved: Vec<Moved>,
    pub imports: Vec<Import>,
    pub removed: Vec<Removed>,
    pub checks: BTreeMap<String, Check>,
}

#[derive(Clone, Debug, Default)]
pub struct TerraformSettings {
    pub required_versions: Vec<SrcExpr>,
    pub required_providers: BTreeMap<String, RequiredProvider>,
    pub backend: Option<Backend>,
    pub cloud: Option<SrcBody>,
    pub experiments: Vec<Traversal>,
    pub provider_meta: BTreeMap<String, SrcBody>,
}

#[derive(Clone, Debug)]
pub struct RequiredProvider {
    pub name: String,
    pub source: Option<String>,
    pub version: Option<String>,
    pub configuration_aliases: Vec<Traversal>,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub kind: String,
    pub config: SrcBody,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub version: Option<SrcExpr>,
    pub config: SrcBody,
    /// Bodies from override files, applied over `config` in order.
    pub config_overrides: Vec<SrcBody>,
    pub range: DeclRange,
}

impl ProviderConfig {
    /// `aws` or `aws.west`.
    pub fn addr(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{}", self.name, a),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckRule {
    pub condition: SrcExpr,
    pub error_message: Option<SrcExpr>,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    /// The `type` constraint as written; see [`crate::typeexpr`].
    pub type_expr: Option<SrcExpr>,
    pub default: Option<SrcExpr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub ephemeral: bool,
    pub validations: Vec<CheckRule>,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub expr: SrcExpr,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub value: Option<SrcExpr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Traversal>,
    pub preconditions: Vec<CheckRule>,
    pub range: DeclRange,
}

/// Where a module's source lives.
#[derive(Clone, Debug, PartialEq)]
pub enum ModuleSource {
    /// `./x` or `../x`, resolved against the calling module's directory.
    Local(String),
    /// `namespace/name/system` (optionally with a registry host).
    Registry(String),
    /// Any other address (git, http, s3...), fetched by `init`.
    Remote(String),
}

impl ModuleSource {
    pub fn parse(s: &str) -> ModuleSource {
        if s.starts_with("./") || s.starts_with("../") || s == "." || s == ".." {
            return ModuleSource::Local(s.to_string());
        }
        let parts: Vec<&str> = s.split('/').collect();
        let looks_registry = (parts.len() == 3 || parts.len() == 4)
            && !s.contains("::")
            && !s.contains('?')
            && !s.contains("//")
            && !s.starts_with("git@")
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            })
            && (parts.len() == 3 || parts[0].contains('.'));
        if looks_registry
            && !parts[0].starts_with("github.com")
            && !parts[0].starts_with("bitbucket.org")
        {
            ModuleSource::Registry(s.to_string())
        } else {
            ModuleSource::Remote(s.to_string())
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            ModuleSource::Local(s) | ModuleSource::Registry(s) | ModuleSource::Remote(s) => s,
        }
    }
}

/// `provider = aws.west` or an entry of a module's `providers` map.
#[derive(Clone, Debug)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
    pub range: DeclRange,
}

impl ProviderRef {
    pub fn addr(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{}", self.name, a),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct PassedProvider {
    pub in_child: ProviderRef,
    pub in_parent: ProviderRef,
}

/// One argument of a module block that sets a child module variable.
#[derive(Clone, Debug)]
pub struct ModuleInput {
    pub name_range: DeclRange,
    pub value: SrcExpr,
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: Option<ModuleSource>,
    pub source_range: Option<DeclRange>,
    pub version: Option<String>,
    pub count: Option<SrcExpr>,
    pub for_each: Option<SrcExpr>,
    pub providers: Vec<PassedProvider>,
    pub depends_on: Vec<Traversal>,
    /// Input variable assignments: every other argument.
    pub inputs: BTreeMap<String, ModuleInput>,
    pub range: DeclRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceMode {
    Managed,
    Data,
}

#[derive(Clone, Debug)]
pub enum IgnoreChanges {
    All,
    Paths(Vec<Traversal>),
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: Option<bool>,
    pub prevent_destroy: Option<bool>,
    pub ignore_changes: Option<IgnoreChanges>,
    pub replace_triggered_by: Vec<SrcExpr>,
    pub preconditions: Vec<CheckRule>,
    pub postconditions: Vec<CheckRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionerWhen {
    Create,
    Destroy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    Fail,
    Continue,
}

#[derive(Clone, Debug)]
pub struct Provisioner {
    pub kind: String,
    pub config: SrcBody,
    pub connection: Option<SrcBody>,
    pub when: ProvisionerWhen,
    pub on_failure: OnFailure,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub mode: ResourceMode,
    pub type_name: String,
    pub name: String,
    pub count: Option<SrcExpr>,
    pub for_each: Option<SrcExpr>,
    pub provider: Option<ProviderRef>,
    pub depends_on: Vec<Traversal>,
    pub lifecycle: Lifecycle,
    pub provisioners: Vec<Provisioner>,
    pub connection: Option<SrcBody>,
    /// The whole body; meta-arguments are skipped when it is decoded
    /// against the provider's schema (see [`Resource::META_ARGUMENTS`]).
    pub config: SrcBody,
    /// Bodies from override files, applied over `config` in order: their
    /// arguments replace the base's, and their nested blocks replace all
    /// base blocks of the same type.
    pub config_overrides: Vec<SrcBody>,
    pub range: DeclRange,
    /// The type and name labels (used to point at the resource).
    pub type_range: DeclRange,
}

impl Resource {
    /// Arguments and blocks that belong to Terraform, not to the provider.
    pub const META_ARGUMENTS: &'static [&'static str] = &[
        "count",
        "for_each",
        "provider",
        "depends_on",
        "lifecycle",
        "provisioner",
        "connection",
    ];

    /// `aws_instance.web` or `data.aws_ami.x`.
    pub fn addr(&self) -> String {
        match self.mode {
            ResourceMode::Managed => format!("{}.{}", self.type_name, self.name),
            ResourceMode::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }

    /// The provider's local name implied by the type: `aws` for
    /// `aws_instance`.
    pub fn implied_provider(&self) -> &str {
        self.type_name.split('_').next().unwrap_or(&self.type_name)
    }
}

#[derive(Clone, Debug)]
pub struct Moved {
    pub from: Traversal,
    pub to: Traversal,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Import {
    pub to: SrcExpr,
    pub id: Option<SrcExpr>,
    pub identity: Option<SrcExpr>,
    pub for_each: Option<SrcExpr>,
    pub provider: Option<ProviderRef>,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Removed {
    pub from: Traversal,
    pub destroy: bool,
    pub provisioners: Vec<Provisioner>,
    pub range: DeclRange,
}

#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub data: Option<Resource>,
    pub asserts: Vec<CheckRule>,
    pub range: DeclRange,
}

/// A module and the local modules it calls, loaded recursively.
#[derive(Clone, Debug, Default)]
pub struct ModuleTree {
    pub module: Module,
    /// Module path from the root, e.g. `["network", "subnets"]`.
    pub path: Vec<String>,
    pub children: BTreeMap<String, ModuleTree>,
}

impl ModuleTree {
    /// Visits this module and all descendants, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a ModuleTree)) {
        f(self);
        for c in self.children.values() {
            c.walk(f)
        }
    }
    /// `module.a.module.b` or empty for the root.
    pub fn addr(&self) -> String {
        self.path
            .iter()
            .map(|p| format!("module.{p}"))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// For blocks whose decoding only needs their raw syntax.
#[derive(Clone, Debug)]
pub struct RawBlock {
    pub file: Arc<SourceFile>,
    pub block: Block,
}
