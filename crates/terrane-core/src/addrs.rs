//! Addresses of modules, resources and their instances, displayed as
//! Terraform writes them (`module.net[0].aws_subnet.a["x"]`).

use std::fmt;
use terrane_config::ResourceMode;
use terrane_value::Value;

/// The key of one instance of a counted or `for_each` object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    /// No `count` or `for_each`.
    None,
    Int(i64),
    Str(String),
}

impl InstanceKey {
    /// The value of `count.index` or `each.key`.
    pub fn value(&self) -> Value {
        match self {
            InstanceKey::None => Value::null_dynamic(),
            InstanceKey::Int(i) => Value::from_i64(*i),
            InstanceKey::Str(s) => Value::string(s.clone()),
        }
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

/// Go-style quoting used in addresses.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// One step of a module instance path: `module.NAME[KEY]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A module instance: empty for the root module.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn child(&self, name: &str, key: InstanceKey) -> ModuleInstance {
        let mut v = self.0.clone();
        v.push(ModuleStep {
            name: name.to_string(),
            key,
        });
        ModuleInstance(v)
    }
    /// The configuration path (names without keys).
    pub fn config_path(&self) -> Vec<String> {
        self.0.iter().map(|s| s.name.clone()).collect()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", s.name, s.key)?;
        }
        Ok(())
    }
}

/// A resource (all its instances) in a module instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    pub module: ModuleInstance,
    pub mode: ResourceMode,
    pub type_name: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn instance(&self, key: InstanceKey) -> ResourceInstanceAddr {
        ResourceInstanceAddr {
            resource: self.clone(),
            key,
        }
    }
    /// `TYPE.NAME` or `data.TYPE.NAME`, without the module.
    pub fn local(&self) -> String {
        match self.mode {
            ResourceMode::Managed => format!("{}.{}", self.type_name, self.name),
            ResourceMode::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        f.write_str(&self.local())
    }
}

/// One instance of a resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceInstanceAddr {
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

impl fmt::Display for ResourceInstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource, self.key)
    }
}

/// One step of an address as written on the command line: a name and
/// an optional `[key]`.
fn address_steps(s: &str) -> Result<Vec<(String, Option<InstanceKey>)>, String> {
    let mut steps = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
        {
            i += 1;
        }
        if i == start {
            return Err(if start == 0 || bytes[start - 1] == b'.' {
                "Dot must be followed by attribute name.".into()
            } else {
                format!("Unexpected {:?} in the address.", &s[start..start + 1])
            });
        }
        let name = s[start..i].to_string();
        let mut key = None;
        if i < bytes.len() && bytes[i] == b'[' {
            let rest = &s[i + 1..];
            let (k, used) = if rest.starts_with('"') {
                // A quoted key ends at the first unescaped quote.
                let mut j = 1;
                let rb = rest.as_bytes();
                while j < rb.len() && rb[j] != b'"' {
                    j += if rb[j] == b'\\' { 2 } else { 1 };
                }
                let lit = rest.get(..j + 1).ok_or("Unterminated index key.")?;
                let k: String =
                    serde_json::from_str(lit).map_err(|_| "Invalid index key.".to_string())?;
                (InstanceKey::Str(k), j + 1)
            } else {
                let j = rest.find(']').ok_or("Missing \"]\" after the index key.")?;
                let n = rest[..j]
                    .parse::<i64>()
                    .map_err(|_| "An index key must be a number or a quoted string.".to_string())?;
                (InstanceKey::Int(n), j)
            };
            if rest.as_bytes().get(used) != Some(&b']') {
                return Err("Missing \"]\" after the index key.".into());
            }
            key = Some(k);
            i += 1 + used + 1;
        }
        steps.push((name, key));
        if i < bytes.len() {
            if bytes[i] != b'.' {
                return Err(format!("Unexpected {:?} in the address.", &s[i..i + 1]));
            }
            i += 1;
            if i == bytes.len() {
                return Err("Dot must be followed by attribute name.".into());
            }
        }
    }
    Ok(steps)
}

/// A parsed `-target` / `-replace` / `taint` address: a module instance,
/// and optionally a resource with an optional instance key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetAddr {
    pub module: ModuleInstance,
    /// (mode, type, name, key): `None` targets the whole module.
    pub resource: Option<(ResourceMode, String, String, Option<InstanceKey>)>,
}

impl TargetAddr {
    /// Parses `module.a[0].aws_instance.b["k"]`, `data.x.y`, `module.m`.
    pub fn parse(s: &str) -> Result<TargetAddr, String> {
        let steps = address_steps(s)?;
        let mut module = Vec::new();
        let mut i = 0;
        while i < steps.len() && steps[i].0 == "module" && steps[i].1.is_none() {
            let Some((name, key)) = steps.get(i + 1) else {
                return Err("Prefix \"module.\" must be followed by a module name.".into());
            };
            module.push(ModuleStep {
                name: name.clone(),
                key: key.clone().unwrap_or(InstanceKey::None),
            });
            i += 2;
        }
        let rest = &steps[i..];
        if rest.is_empty() {
            return Ok(TargetAddr {
                module: ModuleInstance(module),
                resource: None,
            });
        }
        let (mode, rest) = if rest[0].0 == "data" && rest[0].1.is_none() {
            (ResourceMode::Data, &rest[1..])
        } else {
            (ResourceMode::Managed, rest)
        };
        match rest {
            [(ty, None), (name, key)] => Ok(TargetAddr {
                module: ModuleInstance(module),
                resource: Some((mode, ty.clone(), name.clone(), key.clone())),
            }),
            [_] | [] => Err("Resource specification must include a resource type and name.".into()),
            _ => Err("Unexpected extra operators after address.".into()),
        }
    }

    /// The instance this address names exactly, if it names one resource
    /// instance (a missing key means the no-key instance).
    pub fn instance(&self) -> Option<ResourceInstanceAddr> {
        let (mode, ty, name, key) = self.resource.as_ref()?;
        Some(
            ResourceAddr {
                module: self.module.clone(),
                mode: *mode,
                type_name: ty.clone(),
                name: name.clone(),
            }
            .instance(key.clone().unwrap_or(InstanceKey::None)),
        )
    }

    /// Whether this address covers the resource instance `addr` (a module
    /// covers everything in it and its children; a resource without a
    /// key covers all its instances).
    pub fn contains(&self, addr: &ResourceInstanceAddr) -> bool {
        let m = &addr.resource.module.0;
        if m.len() < self.module.0.len() {
            return false;
        }
        // A module step written without a key covers every instance of the
        // module call only when the address stops at the module.
        for (want, have) in self.module.0.iter().zip(m) {
            if want.name != have.name {
                return false;
            }
            if want.key != have.key && !(want.key == InstanceKey::None && self.resource.is_none()) {
                return false;
            }
        }
        let Some((mode, ty, name, key)) = &self.resource else {
            return true;
        };
        m.len() == self.module.0.len()
            && addr.resource.mode == *mode
            && addr.resource.type_name == *ty
            && addr.resource.name == *name
            && key.as_ref().is_none_or(|k| *k == addr.key)
    }

    /// Whether this address covers some instance of the resource `r`.
    pub fn touches(&self, r: &ResourceAddr) -> bool {
        let probe_key = match &self.resource {
            Some((_, _, _, Some(k))) => k.clone(),
            _ => InstanceKey::None,
        };
        self.contains(&r.instance(probe_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_addresses() {
        let t = TargetAddr::parse("module.net[0].aws_subnet.a[\"x y\"]").expect("parses");
        let r = ResourceAddr {
            module: ModuleInstance::root().child("net", InstanceKey::Int(0)),
            mode: ResourceMode::Managed,
            type_name: "aws_subnet".into(),
            name: "a".into(),
        };
        assert!(t.contains(&r.instance(InstanceKey::Str("x y".into()))));
        assert!(!t.contains(&r.instance(InstanceKey::Str("z".into()))));
        assert_eq!(
            t.instance().map(|a| a.to_string()).as_deref(),
            Some("module.net[0].aws_subnet.a[\"x y\"]")
        );
        let m = TargetAddr::parse("module.net").expect("module");
        assert!(m.contains(&r.instance(InstanceKey::Int(3))));
        let all = TargetAddr::parse("module.net[0].aws_subnet.a").expect("resource");
        assert!(all.contains(&r.instance(InstanceKey::Int(3))));
        let d = TargetAddr::parse("data.null_data_source.v").expect("data");
        assert_eq!(d.resource.map(|r| r.0), Some(ResourceMode::Data));
        assert_eq!(
            TargetAddr::parse("null_resource.").unwrap_err(),
            "Dot must be followed by attribute name."
        );
        assert!(TargetAddr::parse("null_resource").is_err());
        assert!(TargetAddr::parse("a.b[1").is_err());
    }

    #[test]
    fn display_like_terraform() {
        let m = ModuleInstance::root()
            .child("net", InstanceKey::Int(0))
            .child("sub", InstanceKey::Str("a b".into()));
        let r = ResourceAddr {
            module: m,
            mode: ResourceMode::Data,
            type_name: "aws_ami".into(),
            name: "x".into(),
        };
        assert_eq!(
            r.instance(InstanceKey::Str("k".into())).to_string(),
            "module.net[0].module.sub[\"a b\"].data.aws_ami.x[\"k\"]"
        );
    }
}
