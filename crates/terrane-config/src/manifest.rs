//! The modules manifest `init` writes (`.terraform/modules/modules.json`),
//! mapping each installed module call path to its directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Installed module directories by call path key (`a.b` for
/// `module.a.module.b`). Missing or unreadable manifests give an empty map.
pub fn read_modules_manifest(root: &Path) -> BTreeMap<String, PathBuf> {
    let data_dir = std::env::var_os("TF_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".terraform"));
    let path = root.join(data_dir).join("modules").join("modules.json");
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return out;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return out;
    };
    if let Some(mods) = json.get("Modules").and_then(|m| m.as_array()) {
        for m in mods {
            let (Some(key), Some(dir)) = (
                m.get("Key").and_then(|k| k.as_str()),
                m.get("Dir").and_then(|d| d.as_str()),
            ) else {
                continue;
            };
            if !key.is_empty() {
                out.insert(key.to_string(), root.join(dir));
            }
        }
    }
    out
}
