//! Decoding of each top-level block kind into the module model.

use crate::decode::{literal_string, Decoder, Schema};
use crate::model::*;
use terrane_hcl::ast::{Block, Body, ExprKind, Structure};

/// The block types a module's top level may contain, with their labels.
pub(crate) const FILE_BLOCKS: &[(&str, &[&str])] = &[
    ("terraform", &[]),
    ("provider", &["name"]),
    ("variable", &["name"]),
    ("locals", &[]),
    ("output", &["name"]),
    ("module", &["name"]),
    ("resource", &["type", "name"]),
    ("data", &["type", "name"]),
    ("moved", &[]),
    ("import", &[]),
    ("removed", &[]),
    ("check", &["name"]),
];

/// Variable names that mean something else inside a `module` block.
const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "count",
    "depends_on",
    "for_each",
    "lifecycle",
    "providers",
    "source",
    "version",
    "locals",
];

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Something declared in a module, with where.
pub(crate) trait Declared {
    fn decl_range(&self) -> &DeclRange;
}

macro_rules! declared {
    ($($t:ty),*) => {$(impl Declared for $t {
        fn decl_range(&self) -> &DeclRange {
            &self.range
        }
    })*};
}
declared!(Variable, Output, ModuleCall, Check);

impl<'f> Decoder<'f> {
    /// Adds `item` under `name` unless the name is taken; then reports the
    /// duplicate at the item's declaration with the summary and detail `describe` gives
    /// from the name and the earlier declaration's position.
    fn insert_unique<T: Declared>(
        &mut self,
        map: &mut std::collections::BTreeMap<String, T>,
        name: String,
        item: T,
        describe: impl FnOnce(&str, &str) -> (String, String),
    ) {
        if let Some(prev) = map.get(&name) {
            let (summary, detail) = describe(&name, &prev.decl_range().short());
            self.err(&summary, detail, item.decl_range().span);
            return;
        }
        map.insert(name, item);
    }

    /// Decodes all top-level items of one file into `m`. The body is
    /// consumed: resource and provider bodies move into the model rather
    /// than being copied, which halves the memory of a large configuration.
    pub fn file(&mut self, body: Body, m: &mut Module) {
        let valid: std::collections::HashSet<u32> = {
            let content = self.content(
                &body,
                &Schema {
                    attrs: &[],
                    required: &[],
                    blocks: FILE_BLOCKS,
                    any_attrs: false,
                },
                body.span,
            );
            content.blocks.iter().map(|b| b.span.start).collect()
        };
        for item in body.items {
            let Structure::Block(b) = item else { continue };
            if !valid.contains(&b.span.start) {
                continue;
            }
            match b.ident.as_str() {
                "terraform" => self.terraform(&b, m),
                "provider" => self.provider(b, m),
                "variable" => self.variable(&b, m),
                "locals" => self.locals(&b, m),
                "output" => self.output(&b, m),
                "module" => self.module_call(&b, m),
                "resource" => {
                    if let Some(r) = self.resource(b, ResourceMode::Managed) {
                        self.add_resource(r, m)
                    }
                }
                "data" => {
                    if let Some(r) = self.resource(b, ResourceMode::Data) {
                        self.add_resource(r, m)
                    }
                }
                "moved" => self.moved(&b, m),
                "import" => self.import(&b, m),
                "removed" => self.removed(&b, m),
                "check" => self.check(&b, m),
                _ => {}
            }
        }
    }

    fn name_label(&mut self, b: &Block, what: &str) -> Option<String> {
        let label = b.labels.first()?;
        if !valid_identifier(&label.value) {
            self.err(
                &format!("Invalid {what} name"),
                "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.".to_string(),
                label.span,
            );
            return None;
        }
        Some(label.value.to_string())
    }

    fn terraform(&mut self, b: &Block, m: &mut Module) {
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &["required_version", "experiments", "language"],
                required: &[],
                blocks: &[
                    ("required_providers", &[]),
                    ("backend", &["type"]),
                    ("cloud", &[]),
                    ("provider_meta", &["provider"]),
                ],
                any_attrs: false,
            },
            b.def_span(),
        );
        if let Some(a) = c.attr("required_version") {
            m.terraform.required_versions.push(self.src(&a.expr));
        }
        if let Some(a) = c.attr("experiments") {
            m.terraform.experiments = self.traversal_list(a);
        }
        for rp in c.blocks_of("required_providers") {
            for item in &rp.body.items {
                match item {
                    Structure::Attribute(a) => {
                        if let Some(p) = self.required_provider(a) {
                            m.terraform.required_providers.insert(p.name.clone(), p);
                        }
                    }
                    Structure::Block(inner) => self.err(
                        "Unsupported block type",
                        format!(
                            "Blocks of type {:?} are not expected here.",
                            inner.ident.as_str()
                        ),
                        inner.ident.span,
                    ),
                }
            }
        }
        for be in c.blocks_of("backend") {
            let kind = be.labels[0].value.to_string();
            if let Some(prev) = &m.terraform.backend {
                self.err(
                    "Duplicate backend configuration",
                    format!(
                        "A module may have only one backend configuration. The backend was previously configured at {}.",
                        prev.range.short()
                    ),
                    be.def_span(),
                );
                continue;
            }
            m.terraform.backend = Some(Backend {
                kind,
                config: SrcBody {
                    file: self.file.clone(),
                    body: be.body.clone(),
                },
                range: self.range(be.def_span()),
            });
        }
        for cl in c.blocks_of("cloud") {
            m.terraform.cloud = Some(SrcBody {
                file: self.file.clone(),
                body: cl.body.clone(),
            });
        }
        for pm in c.blocks_of("provider_meta") {
            m.terraform.provider_meta.insert(
                pm.labels[0].value.to_string(),
                SrcBody {
                    file: self.file.clone(),
                    body: pm.body.clone(),
                },
            );
        }
    }

    fn required_provider(&mut self, a: &terrane_hcl::ast::Attribute) -> Option<RequiredProvider> {
        let name = a.name.as_str().to_string();
        let range = self.range(a.span);
        // Legacy form: `aws = "~> 3.0"` (a version constraint only).
        if let Some(v) = literal_string(&a.expr) {
            return Some(RequiredProvider {
                name,
                source: None,
                version: Some(v),
                configuration_aliases: Vec::new(),
                range,
            });
        }
        let ExprKind::Object(items) = &a.expr.kind else {
            self.err(
                "Invalid required_providers object",
                "required_providers entries must be strings or objects.".to_string(),
                a.expr.span,
            );
            return None;
        };
        let mut p = RequiredProvider {
            name,
            source: None,
            version: None,
            configuration_aliases: Vec::new(),
            range,
        };
        for item in items {
            let key = item
                .bare_key()
                .map(str::to_string)
                .or_else(|| literal_string(&item.key));
            match key.as_deref() {
                Some("source") => match literal_string(&item.value) {
                    Some(s) => p.source = Some(s),
                    None => self.err(
                        "Invalid source",
                        "Source must be specified as a string.".to_string(),
                        item.value.span,
                    ),
                },
                Some("version") => match literal_string(&item.value) {
                    Some(s) => p.version = Some(s),
                    None => self.err(
                        "Invalid version constraint",
                        "Version must be specified as a string.".to_string(),
                        item.value.span,
                    ),
                },
                Some("configuration_aliases") => {
                    if let ExprKind::Tuple(list) = &item.value.kind {
                        for e in list {
                            if let Some(t) = self.traversal(e) {
                                p.configuration_aliases.push(t)
                            }
                        }
                    } else {
                        self.err(
                            "Invalid configuration_aliases value",
                            "Configuration aliases can only contain references to local provider configuration names in the format of provider.alias".to_string(),
                            item.value.span,
                        )
                    }
                }
                _ => self.err(
                    "Invalid required_providers object",
                    "required_providers objects can only contain \"version\", \"source\" and \"configuration_aliases\" attributes. To configure a provider, use a \"provider\" block.".to_string(),
                    item.key.span,
                ),
            }
        }
        Some(p)
    }

    fn provider(&mut self, mut b: Block, m: &mut Module) {
        let name = b.labels[0].value.to_string();
        let mut alias = None;
        let mut version = None;
        for a in b.body.attributes() {
            match a.name.as_str() {
                "alias" => match &a.expr.kind {
                    ExprKind::Traversal { root, steps } if steps.is_empty() => {
                        alias = Some(root.name.to_string())
                    }
                    _ => {
                        if let Some(s) = literal_string(&a.expr) {
                            alias = Some(s)
                        } else {
                            self.err(
                                "Invalid provider configuration alias",
                                "An alias must be a valid name.".to_string(),
                                a.expr.span,
                            )
                        }
                    }
                },
                "version" => {
                    self.warn(
                        "Version constraints inside provider configuration blocks are deprecated",
                        "Terraform 0.13 and earlier allowed provider version constraints inside the provider configuration block, but that is now deprecated and will be removed in a future version of Terraform. To silence this warning, move the provider version constraint into the required_providers block.".to_string(),
                        a.expr.span,
                    );
                    version = Some(self.src(&a.expr))
                }
                _ => {}
            }
        }
        let range = self.range(b.def_span());
        let def_span = b.def_span();
        let p = ProviderConfig {
            name,
            alias,
            version,
            config: SrcBody {
                file: self.file.clone(),
                body: std::mem::take(&mut b.body),
            },
            config_overrides: Vec::new(),
            range,
        };
        let key = p.addr();
        if let Some(prev) = m.providers.get(&key) {
            let detail = match &p.alias {
                Some(_) => format!(
                    "A provider configuration for {:?} with alias {:?} was already given at {}. Each configuration for the same provider must have a distinct alias.",
                    p.name,
                    p.alias.clone().unwrap_or_default(),
                    prev.range.short()
                ),
                None => format!(
                    "A default (non-aliased) provider configuration for {:?} was already given at {}. If multiple configurations are required, set the \"alias\" argument for alternative configurations.",
                    p.name,
                    prev.range.short()
                ),
            };
            self.err("Duplicate provider configuration", detail, def_span);
            return;
        }
        m.providers.insert(key, p);
    }

    fn variable(&mut self, b: &Block, m: &mut Module) {
        let Some(name) = self.name_label(b, "variable") else {
            return;
        };
        if RESERVED_VARIABLE_NAMES.contains(&name.as_str()) {
            self.err(
                "Invalid variable name",
                format!("The variable name {name:?} is reserved due to its special meaning inside module blocks."),
                b.labels[0].span,
            );
        }
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &[
                    "description",
                    "default",
                    "type",
                    "sensitive",
                    "nullable",
                    "ephemeral",
                ],
                required: &[],
                blocks: &[("validation", &[])],
                any_attrs: false,
            },
            b.def_span(),
        );
        let mut v = Variable {
            name: name.clone(),
            type_expr: c.attr("type").map(|a| self.src(&a.expr)),
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            ephemeral: false,
            validations: Vec::new(),
            range: self.range(b.def_span()),
        };
        if self.json {
            // In JSON the constraint is an expression written as a string.
            if let Some(t) = &mut v.type_expr {
                if let Some(s) = literal_string(&t.expr) {
                    let span = t.expr.span;
                    let inner = terrane_hcl::SourceFile::new(
                        self.file.name.clone(),
                        format!("{}{}", " ".repeat(span.start as usize), s),
                    );
                    if let (Some(mut e), _) = terrane_hcl::parse_expression(&inner) {
                        e.span = span;
                        t.expr = e;
                    }
                }
            }
        }
        if let Some(t) = &v.type_expr {
            let mut d = crate::typeexpr::check_type_expr(&t.expr, &t.file);
            self.diags.0.append(&mut d.0);
        }
        if let Some(a) = c.attr("default") {
            if crate::decode::references_anything(&a.expr) {
                self.err(
                    "Variables not allowed",
                    "Variables may not be used here.".to_string(),
                    first_reference_span(&a.expr),
                );
            }
            v.default = Some(self.src(&a.expr));
        }
        if let Some(a) = c.attr("description") {
            v.description = self.string(a);
        }
        if let Some(a) = c.attr("sensitive") {
            v.sensitive = self.bool(a).unwrap_or(false);
        }
        if let Some(a) = c.attr("nullable") {
            v.nullable = self.bool(a).unwrap_or(true);
        }
        if let Some(a) = c.attr("ephemeral") {
            v.ephemeral = self.bool(a).unwrap_or(false);
        }
        for vb in c.blocks_of("validation") {
            if let Some(r) = self.check_rule(vb) {
                v.validations.push(r)
            }
        }
        self.insert_unique(&mut m.variables, name, v, |name, prev| {
            (
                "Duplicate variable declaration".into(),
                format!("A variable named {name:?} was already declared at {prev}. Variable names must be unique within a module."),
            )
        });
    }

    fn locals(&mut self, b: &Block, m: &mut Module) {
        for item in &b.body.items {
            match item {
                Structure::Attribute(a) => {
                    let name = a.name.as_str().to_string();
                    if let Some(prev) = m.locals.get(&name) {
                        self.err(
                            "Duplicate local value definition",
                            format!(
                                "A local value named {name:?} was already defined at {}. Local value names must be unique within a module.",
                                prev.range.short()
                            ),
                            a.span,
                        );
                        continue;
                    }
                    let local = Local {
                        name: name.clone(),
                        expr: self.src(&a.expr),
                        range: self.range(a.span),
                    };
                    m.locals.insert(name, local);
                }
                Structure::Block(inner) => self.err(
                    "Unsupported block type",
                    format!(
                        "Blocks of type {:?} are not expected here.",
                        inner.ident.as_str()
                    ),
                    inner.ident.span,
                ),
            }
        }
    }

    fn output(&mut self, b: &Block, m: &mut Module) {
        let Some(name) = self.name_label(b, "output") else {
            return;
        };
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &["description", "sensitive", "depends_on", "ephemeral"],
                required: &["value"],
                blocks: &[("precondition", &[])],
                any_attrs: false,
            },
            b.def_span(),
        );
        let mut o = Output {
            name: name.clone(),
            value: c.attr("value").map(|a| self.src(&a.expr)),
            description: None,
            sensitive: false,
            depends_on: Vec::new(),
            preconditions: Vec::new(),
            range: self.range(b.def_span()),
        };
        if let Some(a) = c.attr("description") {
            o.description = self.string(a);
        }
        if let Some(a) = c.attr("sensitive") {
            o.sensitive = self.bool(a).unwrap_or(false);
        }
        if let Some(a) = c.attr("depends_on") {
            o.depends_on = self.traversal_list(a);
        }
        for p in c.blocks_of("precondition") {
            if let Some(r) = self.check_rule(p) {
                o.preconditions.push(r)
            }
        }
        self.insert_unique(&mut m.outputs, name, o, |name, prev| {
            (
                "Duplicate output definition".into(),
                format!("An output named {name:?} was already defined at {prev}. Output names must be unique within a module."),
            )
        });
    }

    fn module_call(&mut self, b: &Block, m: &mut Module) {
        let Some(name) = self.name_label(b, "module") else {
            return;
        };
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &[],
                required: &["source"],
                blocks: &[],
                any_attrs: true,
            },
            b.def_span(),
        );
        let mut call = ModuleCall {
            name: name.clone(),
            source: None,
            source_range: None,
            version: None,
            count: None,
            for_each: None,
            providers: Vec::new(),
            depends_on: Vec::new(),
            inputs: Default::default(),
            range: self.range(b.def_span()),
        };
        for a in &c.attrs {
            match a.name.as_str() {
                "source" => match literal_string(&a.expr) {
                    Some(s) => {
                        call.source = Some(ModuleSource::parse(&s));
                        call.source_range = Some(self.range(a.expr.span));
                    }
                    None => self.err(
                        "Variables not allowed",
                        "Variables may not be used here.".to_string(),
                        a.expr.span,
                    ),
                },
                "version" => call.version = self.string(a),
                "count" => call.count = Some(self.src(&a.expr)),
                "for_each" => call.for_each = Some(self.src(&a.expr)),
                "depends_on" => call.depends_on = self.traversal_list(a),
                "providers" => self.passed_providers(a, &mut call),
                "lifecycle" | "provider" => self.err(
                    "Reserved argument name in module block",
                    format!(
                        "The name {:?} is reserved for use in a future version of Terraform.",
                        a.name.as_str()
                    ),
                    a.name.span,
                ),
                other => {
                    let input = ModuleInput {
                        name_range: self.range(a.name.span),
                        value: self.src(&a.expr),
                    };
                    call.inputs.insert(other.to_string(), input);
                }
            }
        }
        // Nested blocks in a module call are not an error at load time; they
        // are checked against the child's variables like arguments.
        if call.count.is_some() && call.for_each.is_some() {
            if let Some(fe) = c.attr("for_each") {
                self.err(
                    "Invalid combination of \"count\" and \"for_each\"",
                    "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of module instances to be created.".to_string(),
                    fe.name.span,
                );
            }
        }
        self.insert_unique(&mut m.module_calls, name, call, |name, prev| {
            (
                "Duplicate module call".into(),
                format!("A module call named {name:?} was already defined at {prev}. Module calls must have unique names within a module."),
            )
        });
    }

    fn passed_providers(&mut self, a: &terrane_hcl::ast::Attribute, call: &mut ModuleCall) {
        let ExprKind::Object(items) = &a.expr.kind else {
            self.err(
                "Invalid providers argument",
                "The providers argument must be a map from provider addresses in the child module to provider addresses in the calling module.".to_string(),
                a.expr.span,
            );
            return;
        };
        for item in items {
            let (Some(child), Some(parent)) =
                (self.provider_ref(&item.key), self.provider_ref(&item.value))
            else {
                continue;
            };
            call.providers.push(PassedProvider {
                in_child: child,
                in_parent: parent,
            });
        }
    }

    pub(crate) fn resource(&mut self, mut b: Block, mode: ResourceMode) -> Option<Resource> {
        let type_name = b.labels[0].value.to_string();
        if !valid_identifier(&type_name) {
            self.err(
                "Invalid resource type name",
                "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.".to_string(),
                b.labels[0].span,
            );
            return None;
        }
        let name = b.labels[1].value.to_string();
        if !valid_identifier(&name) {
            self.err(
                "Invalid resource name",
                "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.".to_string(),
                b.labels[1].span,
            );
            return None;
        }
        let mut r = Resource {
            mode,
            type_name,
            name,
            count: None,
            for_each: None,
            provider: None,
            depends_on: Vec::new(),
            lifecycle: Lifecycle::default(),
            provisioners: Vec::new(),
            connection: None,
            config: SrcBody {
                file: self.file.clone(),
                body: Body::default(),
            },
            config_overrides: Vec::new(),
            range: self.range(b.def_span()),
            type_range: self.range(b.labels[0].span.to(b.labels[1].span)),
        };
        let mut count_span = None;
        for item in &b.body.items {
            match item {
                Structure::Attribute(a) => match a.name.as_str() {
                    "count" => {
                        count_span = Some(a.name.span);
                        r.count = Some(self.src(&a.expr))
                    }
                    "for_each" => {
                        if count_span.is_some() || b.body.attribute("count").is_some() {
                            self.err(
                                "Invalid combination of \"count\" and \"for_each\"",
                                "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.".to_string(),
                                a.name.span,
                            );
                        }
                        r.for_each = Some(self.src(&a.expr))
                    }
                    "provider" => r.provider = self.provider_ref(&a.expr),
                    "depends_on" => r.depends_on = self.traversal_list(a),
                    _ => {}
                },
                Structure::Block(blk) => match blk.ident.as_str() {
                    "lifecycle" => self.lifecycle(blk, &mut r),
                    "provisioner" if mode == ResourceMode::Managed => {
                        if let Some(p) = self.provisioner(blk) {
                            r.provisioners.push(p)
                        }
                    }
                    "connection" if mode == ResourceMode::Managed => {
                        r.connection = Some(SrcBody {
                            file: self.file.clone(),
                            body: blk.body.clone(),
                        })
                    }
                    "provisioner" | "connection" => self.err(
                        "Unsupported block type",
                        format!(
                            "Blocks of type {:?} are not expected here.",
                            blk.ident.as_str()
                        ),
                        blk.ident.span,
                    ),
                    "dynamic" => {
                        self.check_labels(blk, &["type"]);
                        self.dynamic_block(blk)
                    }
                    _ => {}
                },
            }
        }
        r.config.body = std::mem::take(&mut b.body);
        Some(r)
    }

    /// Checks the shape of a `dynamic "x" { for_each, iterator, labels,
    /// content {} }` block (recursively for nested dynamic blocks).
    fn dynamic_block(&mut self, blk: &Block) {
        let c = self.content(
            &blk.body,
            &Schema {
                attrs: &["iterator", "labels"],
                required: &["for_each"],
                blocks: &[("content", &[])],
                any_attrs: false,
            },
            blk.def_span(),
        );
        let contents: Vec<_> = c.blocks_of("content").collect();
        match contents.as_slice() {
            [] => self.err(
                "Missing dynamic content block",
                "A dynamic block must have a nested block of type \"content\" to describe the body of each generated block.".to_string(),
                blk.def_span(),
            ),
            [one] => {
                for inner in one.body.blocks() {
                    if inner.ident.as_str() == "dynamic" {
                        self.check_labels(inner, &["type"]);
                        self.dynamic_block(inner)
                    }
                }
            }
            [_, second, ..] => self.err(
                "Duplicate content block",
                "Only one nested content block is allowed for each dynamic block.".to_string(),
                second.def_span(),
            ),
        }
        if let Some(it) = c.attr("iterator") {
            if !matches!(&it.expr.kind, ExprKind::Traversal { steps, .. } if steps.is_empty()) {
                self.err(
                    "Invalid dynamic iterator name",
                    "Dynamic iterator must be a single variable name.".to_string(),
                    it.expr.span,
                )
            }
        }
    }

    fn lifecycle(&mut self, blk: &Block, r: &mut Resource) {
        let managed = r.mode == ResourceMode::Managed;
        let attrs: &[&str] = if managed {
            &[
                "create_before_destroy",
                "prevent_destroy",
                "ignore_changes",
                "replace_triggered_by",
            ]
        } else {
            &[]
        };
        let c = self.content(
            &blk.body,
            &Schema {
                attrs,
                required: &[],
                blocks: &[("precondition", &[]), ("postcondition", &[])],
                any_attrs: false,
            },
            blk.def_span(),
        );
        for a in &c.attrs {
            match a.name.as_str() {
                "create_before_destroy" => r.lifecycle.create_before_destroy = self.bool(a),
                "prevent_destroy" => r.lifecycle.prevent_destroy = self.bool(a),
                "replace_triggered_by" => match &a.expr.kind {
                    ExprKind::Tuple(items) => {
                        r.lifecycle.replace_triggered_by =
                            items.iter().map(|e| self.src(e)).collect()
                    }
                    _ => self.err(
                        "Invalid replace_triggered_by expression",
                        "A list of resource references is required.".to_string(),
                        a.expr.span,
                    ),
                },
                "ignore_changes" => {
                    let lit = literal_string(&a.expr);
                    let all = match &a.expr.kind {
                        ExprKind::Traversal { root, steps } => {
                            root.as_str() == "all" && steps.is_empty()
                        }
                        _ => {
                            lit.as_deref() == Some("*")
                                || (self.json && lit.as_deref() == Some("all"))
                        }
                    };
                    if all {
                        if lit.as_deref() == Some("*") {
                            self.err(
                                "Invalid ignore_changes wildcard",
                                "The [\"*\"] form of ignore_changes wildcard is was deprecated and is now invalid. Use \"ignore_changes = all\" to ignore changes to all attributes.".to_string(),
                                a.expr.span,
                            );
                        }
                        r.lifecycle.ignore_changes = Some(IgnoreChanges::All);
                    } else {
                        r.lifecycle.ignore_changes =
                            Some(IgnoreChanges::Paths(self.traversal_list(a)));
                    }
                }
                _ => {}
            }
        }
        for p in c.blocks_of("precondition") {
            if let Some(rule) = self.check_rule(p) {
                r.lifecycle.preconditions.push(rule)
            }
        }
        for p in c.blocks_of("postcondition") {
            if let Some(rule) = self.check_rule(p) {
                r.lifecycle.postconditions.push(rule)
            }
        }
    }

    fn provisioner(&mut self, blk: &Block) -> Option<Provisioner> {
        let kind = blk.labels.first()?.value.to_string();
        let mut p = Provisioner {
            kind,
            config: SrcBody {
                file: self.file.clone(),
                body: blk.body.clone(),
            },
            connection: None,
            when: ProvisionerWhen::Create,
            on_failure: OnFailure::Fail,
            range: self.range(blk.def_span()),
        };
        for a in blk.body.attributes() {
            let keyword = match &a.expr.kind {
                ExprKind::Traversal { root, steps } if steps.is_empty() => {
                    Some(root.as_str().to_string())
                }
                _ => literal_string(&a.expr),
            };
            match a.name.as_str() {
                "when" => match keyword.as_deref() {
                    Some("create") => p.when = ProvisionerWhen::Create,
                    Some("destroy") => p.when = ProvisionerWhen::Destroy,
                    _ => self.err(
                        "Invalid \"when\" keyword",
                        "The \"when\" argument requires one of the following keywords: create or destroy.".to_string(),
                        a.expr.span,
                    ),
                },
                "on_failure" => match keyword.as_deref() {
                    Some("fail") => p.on_failure = OnFailure::Fail,
                    Some("continue") => p.on_failure = OnFailure::Continue,
                    _ => self.err(
                        "Invalid \"on_failure\" keyword",
                        "The \"on_failure\" argument requires one of the following keywords: continue or fail.".to_string(),
                        a.expr.span,
                    ),
                },
                _ => {}
            }
        }
        for inner in blk.body.blocks() {
            if inner.ident.as_str() == "connection" {
                p.connection = Some(SrcBody {
                    file: self.file.clone(),
                    body: inner.body.clone(),
                })
            }
        }
        Some(p)
    }

    fn add_resource(&mut self, mut r: Resource, m: &mut Module) {
        if let Some(hook) = self.on_resource.as_mut() {
            hook(&mut r);
        }
        let key = r.addr();
        let map = match r.mode {
            ResourceMode::Managed => &mut m.managed_resources,
            ResourceMode::Data => &mut m.data_resources,
        };
        if let Some(prev) = map.get(&key) {
            let (summary, detail) = match r.mode {
                ResourceMode::Managed => (
                    format!("Duplicate resource {:?} configuration", r.type_name),
                    format!(
                        "A {} resource named {:?} was already declared at {}. Resource names must be unique per type in each module.",
                        r.type_name, r.name, prev.range.short()
                    ),
                ),
                ResourceMode::Data => (
                    format!("Duplicate data {:?} configuration", r.type_name),
                    format!(
                        "A {} data resource named {:?} was already declared at {}. Resource names must be unique per type in each module.",
                        r.type_name, r.name, prev.range.short()
                    ),
                ),
            };
            self.err(&summary, detail, r.range.span);
            return;
        }
        map.insert(key, r);
    }

    fn moved(&mut self, b: &Block, m: &mut Module) {
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &[],
                required: &["from", "to"],
                blocks: &[],
                any_attrs: false,
            },
            b.def_span(),
        );
        let (Some(f), Some(t)) = (c.attr("from"), c.attr("to")) else {
            return;
        };
        let (Some(from), Some(to)) = (self.traversal(&f.expr), self.traversal(&t.expr)) else {
            return;
        };
        m.moved.push(Moved {
            from,
            to,
            range: self.range(b.def_span()),
        });
    }

    fn import(&mut self, b: &Block, m: &mut Module) {
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &["id", "identity", "for_each", "provider"],
                required: &["to"],
                blocks: &[],
                any_attrs: false,
            },
            b.def_span(),
        );
        let Some(to) = c.attr("to") else { return };
        if c.attr("id").is_none() && c.attr("identity").is_none() {
            self.err(
                "Missing required argument",
                "The argument \"id\" is required, but no definition was found.".to_string(),
                b.def_span(),
            );
        }
        let provider = c.attr("provider").and_then(|a| self.provider_ref(&a.expr));
        m.imports.push(Import {
            to: self.src(&to.expr),
            id: c.attr("id").map(|a| self.src(&a.expr)),
            identity: c.attr("identity").map(|a| self.src(&a.expr)),
            for_each: c.attr("for_each").map(|a| self.src(&a.expr)),
            provider,
            range: self.range(b.def_span()),
        });
    }

    fn removed(&mut self, b: &Block, m: &mut Module) {
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &[],
                required: &["from"],
                blocks: &[
                    ("lifecycle", &[]),
                    ("provisioner", &["type"]),
                    ("connection", &[]),
                ],
                any_attrs: false,
            },
            b.def_span(),
        );
        let Some(f) = c.attr("from") else { return };
        let Some(from) = self.traversal(&f.expr) else {
            return;
        };
        let mut destroy = true;
        for l in c.blocks_of("lifecycle") {
            let lc = self.content(
                &l.body,
                &Schema {
                    attrs: &["destroy"],
                    required: &[],
                    blocks: &[],
                    any_attrs: false,
                },
                l.def_span(),
            );
            if let Some(d) = lc.attr("destroy") {
                destroy = self.bool(d).unwrap_or(true);
            }
        }
        let provisioners = c
            .blocks_of("provisioner")
            .filter_map(|p| self.provisioner(p))
            .collect();
        m.removed.push(Removed {
            from,
            destroy,
            provisioners,
            range: self.range(b.def_span()),
        });
    }

    fn check(&mut self, b: &Block, m: &mut Module) {
        let Some(name) = self.name_label(b, "check") else {
            return;
        };
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &[],
                required: &[],
                blocks: &[("data", &["type", "name"]), ("assert", &[])],
                any_attrs: false,
            },
            b.def_span(),
        );
        let mut data = None;
        for d in c.blocks_of("data") {
            if data.is_some() {
                self.err(
                    "Multiple data resource blocks",
                    "This check block already has a data resource defined.".to_string(),
                    d.def_span(),
                );
                continue;
            }
            data = self.resource(d.clone(), ResourceMode::Data);
        }
        let asserts: Vec<CheckRule> = c
            .blocks_of("assert")
            .filter_map(|a| self.check_rule(a))
            .collect();
        if asserts.is_empty() {
            self.err(
                "Zero assert blocks",
                "Check blocks must have at least one assert block.".to_string(),
                b.def_span(),
            );
        }
        let check = Check {
            name: name.clone(),
            data,
            asserts,
            range: self.range(b.def_span()),
        };
        self.insert_unique(&mut m.checks, name, check, |name, prev| {
            (
                "Duplicate check block".into(),
                format!("A check block named {name:?} was already defined at {prev}. Check blocks must have unique names within a module."),
            )
        });
    }
}

fn first_reference_span(e: &terrane_hcl::ast::Expr) -> terrane_hcl::Span {
    let mut span = None;
    e.walk_traversals(&mut |root, _| {
        if span.is_none() {
            span = Some(root.span)
        }
    });
    span.unwrap_or(e.span)
}
