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

#[cfg(test)]
mod tests {
    use super::*;

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
