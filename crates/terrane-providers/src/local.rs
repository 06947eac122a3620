//! `hashicorp/local` 2.x (emulating the 2.5 schemas): resources and data
//! sources `local_file` and `local_sensitive_file`.
//!
//! Every argument forces replacement. `id` is the hex SHA-1 of the content.
//! Read drops the resource (null state) when the file is gone or its
//! content no longer hashes to `id`, so the next plan re-creates it.

use std::path::Path as FsPath;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    PlanResourceChangeRequest, PlanResourceChangeResponse, ProviderSchema, ReadDataSourceRequest,
    ReadResourceRequest, ReadResourceResponse,
};
use terrane_value::{Type, Value};

use crate::common::*;

pub(crate) struct Local;

const HASHES: &[&str] = &[
    "content_base64sha256",
    "content_base64sha512",
    "content_md5",
    "content_sha1",
    "content_sha256",
    "content_sha512",
];

fn sensitive(ty: &str) -> bool {
    ty == "local_sensitive_file"
}

fn resource_schema(sens: bool) -> terrane_plugin::Schema {
    let s = if sens { "s" } else { "" };
    let mut attrs = vec![
        ("content", attr(Type::String, &format!("o{s}"))),
        ("content_base64", attr(Type::String, &format!("o{s}"))),
        ("directory_permission", attr(Type::String, "oc")),
        ("file_permission", attr(Type::String, "oc")),
        ("filename", attr(Type::String, "r")),
        ("id", attr(Type::String, "c")),
        ("source", attr(Type::String, "o")),
    ];
    if !sens {
        attrs.push(("sensitive_content", attr(Type::String, "osd")));
    }
    for h in HASHES {
        attrs.push((h, attr(Type::String, "c")));
    }
    schema(0, attrs)
}

fn data_schema(sens: bool) -> terrane_plugin::Schema {
    let c = if sens { "cs" } else { "c" };
    let mut attrs = vec![
        ("content", attr(Type::String, c)),
        ("content_base64", attr(Type::String, c)),
        ("filename", attr(Type::String, "r")),
        ("id", attr(Type::String, "c")),
    ];
    for h in HASHES {
        attrs.push((h, attr(Type::String, "c")));
    }
    schema(0, attrs)
}

fn content_args(ty: &str) -> &'static [&'static str] {
    if sensitive(ty) {
        &["content", "content_base64", "source"]
    } else {
        &["content", "sensitive_content", "content_base64", "source"]
    }
}

fn default_perm(ty: &str) -> &'static str {
    if sensitive(ty) {
        "0700"
    } else {
        "0777"
    }
}

fn rules(ty: &str) -> PlanRules {
    PlanRules {
        force_new: vec![
            "content",
            "content_base64",
            "directory_permission",
            "file_permission",
            "filename",
            "sensitive_content",
            "source",
        ],
        defaults: vec![
            ("directory_permission", str_val(default_perm(ty))),
            ("file_permission", str_val(default_perm(ty))),
        ],
    }
}

/// Checks a permission string: 3 or 4 octal digits.
fn parse_mode(s: &str) -> Result<u32, String> {
    if s.len() != 3 && s.len() != 4 {
        return Err(format!(
            "bad mode for file - string length should be 3 or 4 digits: {s}"
        ));
    }
    u32::from_str_radix(s, 8).map_err(|_| format!("bad mode for file - must be octal: {s}"))
}

/// Sets every hash attribute and `id` from `bytes`.
fn set_hashes(obj: &mut Obj, bytes: &[u8]) {
    let sha256 = Sha256::digest(bytes);
    let sha512 = Sha512::digest(bytes);
    let sha1 = hex(&Sha1::digest(bytes));
    obj.set("content_md5", str_val(hex(&Md5::digest(bytes))));
    obj.set("content_sha1", str_val(sha1.clone()));
    obj.set("content_sha256", str_val(hex(&sha256)));
    obj.set("content_base64sha256", str_val(STANDARD.encode(sha256)));
    obj.set("content_sha512", str_val(hex(&sha512)));
    obj.set("content_base64sha512", str_val(STANDARD.encode(sha512)));
    obj.set("id", str_val(sha1));
}

fn io_err(summary: &str, path: &str, e: std::io::Error) -> Diagnostics {
    err_diag(summary, format!("{path}: {e}"))
}

/// The bytes a resource's arguments describe.
fn content_bytes(obj: &Obj) -> Result<Vec<u8>, Diagnostics> {
    if let Some(c) = obj.str("content").or_else(|| obj.str("sensitive_content")) {
        return Ok(c.into_bytes());
    }
    if let Some(b) = obj.str("content_base64") {
        return STANDARD.decode(b.as_bytes()).map_err(|e| {
            Diagnostics(vec![attr_err(
                "content_base64",
                "Create local file error",
                format!("An unexpected error occurred while decoding the base64 content: {e}"),
            )])
        });
    }
    if let Some(src) = obj.str("source") {
        return std::fs::read(&src).map_err(|e| io_err("Create local file error", &src, e));
    }
    Ok(Vec::new())
}

fn write_file(obj: &Obj, bytes: &[u8]) -> Result<(), Diagnostics> {
    let filename = obj.str("filename").unwrap_or_default();
    let perm = |n: &str| {
        parse_mode(&obj.str(n).unwrap_or_else(|| "0777".into()))
            .map_err(|m| Diagnostics(vec![attr_err(n, "Invalid file permission", m)]))
    };
    let (fmode, dmode) = (perm("file_permission")?, perm("directory_permission")?);
    let path = FsPath::new(&filename);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(dmode);
            }
            b.create(dir)
                .map_err(|e| io_err("Create local file error", &dir.display().to_string(), e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (dmode, fmode);
    std::fs::write(path, bytes).map_err(|e| io_err("Create local file error", &filename, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(fmode))
            .map_err(|e| io_err("Create local file error", &filename, e))?;
    }
    Ok(())
}

impl Imp for Local {
    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resource_schemas
            .insert("local_file".into(), resource_schema(false));
        s.resource_schemas
            .insert("local_sensitive_file".into(), resource_schema(true));
        s.data_source_schemas
            .insert("local_file".into(), data_schema(false));
        s.data_source_schemas
            .insert("local_sensitive_file".into(), data_schema(true));
        s
    }

    fn validate_resource(&self, ty: &str, c: &Obj) -> Diagnostics {
        let mut d = Diagnostics::new();
        let args = content_args(ty);
        let set = args.iter().filter(|a| !c.is_null(a)).count();
        if set != 1 {
            d.push(attr_err(
                args[0],
                "Invalid Attribute Combination",
                format!(
                    "Exactly one of these attributes must be configured: [{}]",
                    args.join(",")
                ),
            ));
        }
        for p in ["file_permission", "directory_permission"] {
            if let Some(s) = c.str(p) {
                if let Err(m) = parse_mode(&s) {
                    d.push(attr_err(p, "Invalid Attribute Value", m));
                }
            }
        }
        d
    }

    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let (planned, replace) = plan_generic(ctx.block, &rules(&req.type_name), req);
        match planned {
            None => plan_response(Value::null(ctx.ty.clone()), replace),
            Some((p, _)) => plan_response(p.to_value(), replace),
        }
    }

    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
        if req.planned_state.is_null() {
            let prior = Obj::from_value(ctx.block, &req.prior_state);
            if let Some(f) = prior.str("filename") {
                if let Err(e) = std::fs::remove_file(&f) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        return apply_response(
                            req.prior_state.clone(),
                            io_err("Delete local file error", &f, e),
                        );
                    }
                }
            }
            return apply_response(Value::null(ctx.ty.clone()), Diagnostics::new());
        }
        let mut obj = Obj::from_value(ctx.block, &req.planned_state);
        let result = content_bytes(&obj).and_then(|bytes| {
            write_file(&obj, &bytes)?;
            Ok(bytes)
        });
        match result {
            Ok(bytes) => {
                set_hashes(&mut obj, &bytes);
                apply_response(obj.to_value(), Diagnostics::new())
            }
            Err(d) => apply_response(Value::null(ctx.ty.clone()), d),
        }
    }

    fn read(&self, ctx: &Ctx, req: &ReadResourceRequest) -> ReadResourceResponse {
        let obj = Obj::from_value(ctx.block, &req.current_state);
        let gone = ReadResourceResponse {
            new_state: Value::null(ctx.ty.clone()),
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        };
        let Some(filename) = obj.str("filename") else {
            return gone;
        };
        match std::fs::read(&filename) {
            Ok(bytes) => {
                let id = hex(&Sha1::digest(&bytes));
                if obj.str("id").as_deref() != Some(id.as_str()) {
                    return gone;
                }
                ReadResourceResponse {
                    new_state: req.current_state.clone(),
                    private: req.private.clone(),
                    diagnostics: Diagnostics::new(),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => gone,
            Err(e) => ReadResourceResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: io_err("Read local file error", &filename, e),
            },
        }
    }

    fn read_data(&self, ctx: &Ctx, req: &ReadDataSourceRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::from_value(ctx.block, &req.config);
        let filename = obj.str("filename").unwrap_or_default();
        let bytes = std::fs::read(&filename)
            .map_err(|e| io_err("Read local file data source error", &filename, e))?;
        obj.set(
            "content",
            str_val(String::from_utf8_lossy(&bytes).into_owned()),
        );
        obj.set("content_base64", str_val(STANDARD.encode(&bytes)));
        set_hashes(&mut obj, &bytes);
        Ok(obj)
    }
}
