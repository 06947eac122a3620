//! `providers lock` (hashes for several platforms into the lock file) and
//! `providers mirror DIR` (a mirror directory), on terrane-install's
//! sources and installer.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_install::cliconfig::{InstallationMethod, MethodKind};
use terrane_install::hash::{h1_of_dir, h1_of_zip, zh_of_zip};
use terrane_install::sources::{MultiSource, PackageLocation, Source};
use terrane_install::{
    install, Discovery, HttpClient, InstallEvent, InstallOptions, LockFile, LockedProvider,
    Platform, ProviderAddr, Requirements,
};

use crate::cli::Flags;
use crate::ui::Ui;

fn diags_of(d: Diagnostic) -> Diagnostics {
    let mut ds = Diagnostics::new();
    ds.push(d);
    ds
}

fn platforms(flags: &Flags) -> Result<Vec<Platform>, Diagnostics> {
    let mut out = Vec::new();
    for (n, v) in flags.values() {
        if n != "platform" {
            continue;
        }
        let v = v.clone().unwrap_or_default();
        match Platform::parse(&v) {
            Some(p) => out.push(p),
            None => {
                return Err(diags_of(Diagnostic::error(
                    "Invalid target platform",
                    format!("The string {v:?} given in the -platform option is not a valid target platform: must be two words separated by an underscore."),
                )))
            }
        }
    }
    if out.is_empty() {
        out.push(Platform::current());
    }
    Ok(out)
}

fn config_requirements(ui: &Ui) -> Option<Requirements> {
    let (tree, diags) = terrane_config::load_tree(Path::new("."));
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return None;
    }
    match super::init::requirements(&tree, Path::new("terraform.tfstate")) {
        Ok(r) => Some(r.into_iter().filter(|(a, _)| !a.is_builtin()).collect()),
        Err(d) => {
            ui.diagnostics(d.iter());
            None
        }
    }
}

/// `providers lock [-platform=OS_ARCH]... [-fs-mirror=DIR | -net-mirror=URL] [PROVIDER...]`.
pub fn lock(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(
        args,
        &["platform", "fs-mirror", "net-mirror", "no-color"],
        &["platform", "fs-mirror", "net-mirror"],
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match lock_inner(&flags, ui) {
        Ok(code) => code,
        Err(d) => {
            super::init::print_diagnostics(ui, &d);
            1
        }
    }
}

fn lock_inner(flags: &Flags, ui: &Ui) -> Result<i32, Diagnostics> {
    let platforms = platforms(flags)?;
    let kind = match (flags.value("fs-mirror"), flags.value("net-mirror")) {
        (Some(_), Some(_)) => {
            return Err(diags_of(Diagnostic::error(
                "Invalid installation method options",
                "The -fs-mirror and -net-mirror command line options are mutually-exclusive.",
            )))
        }
        (Some(dir), None) => MethodKind::FilesystemMirror {
            path: PathBuf::from(dir),
        },
        (None, Some(url)) => MethodKind::NetworkMirror {
            url: if url.ends_with('/') {
                url.to_string()
            } else {
                format!("{url}/")
            },
        },
        // Like Terraform, without a mirror option the origin registries
        // are asked, whatever the CLI configuration says.
        (None, None) => MethodKind::Direct,
    };
    let Some(mut reqs) = config_requirements(ui) else {
        return Ok(1);
    };
    if !flags.positional.is_empty() {
        let mut chosen = Requirements::new();
        for p in &flags.positional {
            let addr = ProviderAddr::parse(p)
                .map_err(|e| diags_of(Diagnostic::error("Invalid provider address", e)))?;
            match reqs.remove(&addr) {
                Some(c) => {
                    chosen.insert(addr, c);
                }
                None => {
                    return Err(diags_of(Diagnostic::error(
                        "Invalid provider argument",
                        format!(
                            "The provider {} is not required by the current configuration.",
                            addr.for_display()
                        ),
                    )))
                }
            }
        }
        reqs = chosen;
    }
    let source = MultiSource::new(
        &[InstallationMethod::new(kind)],
        Arc::new(Discovery::new(HttpClient::new())),
    );
    let dir = Path::new(".");
    let (previous, d) = LockFile::load(dir);
    if d.has_errors() {
        return Err(d);
    }
    // The previous selections without their hashes: each platform's
    // package is hashed afresh (and the lock file's hashes may cover
    // other platforms only).
    let mut selections = LockFile::new();
    for p in previous.providers.values() {
        let mut bare = p.clone();
        bare.hashes.clear();
        selections.set(bare);
    }
    let scratch =
        std::env::temp_dir().join(format!("terrane-providers-lock-{}", std::process::id()));
    let mut new_lock = LockFile::new();
    let mut out = std::io::stdout().lock();
    let mut result = Ok(());
    for platform in &platforms {
        let mut options = InstallOptions::new(&scratch.join(platform.to_string()));
        options.platform = platform.clone();
        let mut on_event = |e: InstallEvent| {
            let line = match &e {
                InstallEvent::Installing { addr, version } => format!(
                    "- Fetching {} {version} for {platform}...\n",
                    addr.for_display()
                ),
                InstallEvent::Installed { addr, auth, .. } => format!(
                    "- Obtained {} checksums for {platform} ({auth})\n",
                    addr.for_display()
                ),
                _ => return,
            };
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        };
        match install(&reqs, &selections, &source, &options, &mut on_event) {
            Ok(outcome) => {
                for (addr, entry) in outcome.lock.providers {
                    match new_lock.providers.get_mut(&addr) {
                        Some(e) => e.add_hashes(entry.hashes),
                        None => {
                            // Later platforms keep the version chosen first.
                            selections.set(LockedProvider {
                                hashes: Vec::new(),
                                ..entry.clone()
                            });
                            new_lock.set(entry);
                        }
                    }
                }
            }
            Err(d) => {
                let detail: Vec<String> = d.iter().map(|x| failure_line(&x.detail)).collect();
                result = Err(diags_of(Diagnostic::error(
                    "Could not retrieve providers for locking",
                    format!(
                        "Terraform failed to fetch the requested providers for {platform} in order to calculate their checksums: some providers could not be installed:\n{}.",
                        detail.join("\n")
                    ),
                )));
                break;
            }
        }
    }
    drop(out);
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    // Hashes already recorded for the same version stay (they may cover
    // platforms not requested now); providers not locked now keep their
    // entries.
    let mut merged = previous.clone();
    for (addr, mut entry) in new_lock.providers {
        if let Some(old) = previous.provider(&addr) {
            if old.version == entry.version {
                entry.add_hashes(old.hashes.clone());
            }
        }
        merged.set(entry);
    }
    merged.save(dir).map_err(diags_of)?;
    let color = ui.color;
    let text = "\n\x1b[1m\x1b[32mSuccess!\x1b[0m \x1b[1mTerraform has updated the lock file.\x1b[0m\x1b[0m\n\n\
                Review the changes in .terraform.lock.hcl and then commit to your\n\
                version control system to retain the new checksums.\n\n";
    let text = if color {
        text.to_string()
    } else {
        strip_escapes(text)
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}

/// One provider's failure as Terraform lists it: `- ADDRESS: reason`. The
/// installer's detail reads "Error while installing NAME vVERSION: reason".
fn failure_line(detail: &str) -> String {
    if let Some(rest) = detail.strip_prefix("Error while installing ") {
        if let Some((what, reason)) = rest.split_once(": ") {
            let name = what.split(' ').next().unwrap_or(what);
            if let Ok(addr) = ProviderAddr::parse(name) {
                return format!("- {addr}: {reason}");
            }
        }
    }
    format!("- {detail}")
}

fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        rest = after.find('m').map(|j| &after[j + 1..]).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// `providers mirror [-platform=OS_ARCH]... DIR`: the packed layout
/// (`HOST/NS/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`) with the
/// network mirror protocol's JSON indexes (`index.json`, `VERSION.json`).
/// Packages come from the installation methods `init` uses (the CLI
/// configuration), so mirrors can be built from mirrors.
pub fn mirror(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(args, &["platform", "no-color"], &["platform"]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let Some(target) = flags.positional.first().map(PathBuf::from) else {
        ui.diagnostics([&Diagnostic::error(
            "No output directory specified",
            "The providers mirror command requires an output directory as a command-line argument.",
        )]);
        return 1;
    };
    match mirror_inner(&flags, &target, ui) {
        Ok(()) => 0,
        Err(d) => {
            ui.diagnostics(d.iter());
            1
        }
    }
}

fn mirror_inner(flags: &Flags, target: &Path, ui: &Ui) -> Result<(), Diagnostics> {
    let platforms = platforms(flags)?;
    let Some(reqs) = config_requirements(ui) else {
        return Err(Diagnostics::new());
    };
    let setup = super::init::install_setup(Path::new("."), &[])?;
    let (locked, d) = LockFile::load(Path::new("."));
    if d.has_errors() {
        return Err(d);
    }
    let mut diags = Diagnostics::new();
    let mut out = std::io::stdout().lock();
    for (addr, constraints) in &reqs {
        let _ = writeln!(out, "- Mirroring {}...", addr.for_display());
        let version = match locked.provider(addr) {
            Some(l) => l.version.clone(),
            None => {
                let mut warnings = Vec::new();
                let available = match setup.source.available_versions(addr, &mut warnings) {
                    Ok(a) => a,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
                match constraints.newest(&available) {
                    Some(v) => v,
                    None => {
                        diags.push(Diagnostic::error(
                            "Provider not available",
                            format!(
                                "No available releases of {} match the given constraints {}.",
                                addr.for_display(),
                                constraints.canonical()
                            ),
                        ));
                        continue;
                    }
                }
            }
        };
        if constraints.is_empty() {
            let _ = writeln!(out, "  - Selected v{version} with no constraints");
        } else {
            let _ = writeln!(
                out,
                "  - Selected v{version} to meet constraints {}",
                constraints.canonical()
            );
        }
        let provider_dir = target
            .join(&addr.hostname)
            .join(&addr.namespace)
            .join(&addr.type_name);
        let mut archives = serde_json::Map::new();
        for platform in &platforms {
            let _ = writeln!(out, "  - Downloading package for {platform}...");
            let _ = out.flush();
            match mirror_package(&setup.source, addr, &version, platform, &provider_dir) {
                Ok((file, hashes)) => {
                    archives.insert(
                        platform.to_string(),
                        serde_json::json!({ "url": file, "hashes": hashes }),
                    );
                }
                Err(d) => diags.push(d),
            }
        }
        if archives.is_empty() {
            continue;
        }
        // VERSION.json (merged with what an earlier run wrote) and index.json.
        let version_file = provider_dir.join(format!("{version}.json"));
        let mut doc: serde_json::Value = std::fs::read_to_string(&version_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| serde_json::json!({ "archives": {} }));
        if let Some(a) = doc["archives"].as_object_mut() {
            a.extend(archives);
        }
        let index_file = provider_dir.join("index.json");
        let mut index: serde_json::Value = std::fs::read_to_string(&index_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| serde_json::json!({ "versions": {} }));
        if let Some(v) = index["versions"].as_object_mut() {
            v.insert(version.to_string(), serde_json::json!({}));
        }
        for (path, value) in [(&version_file, &doc), (&index_file, &index)] {
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            if let Err(e) = std::fs::write(path, text) {
                diags.push(Diagnostic::error(
                    "Failed to update indexes",
                    format!("Could not write {}: {e}.", path.display()),
                ));
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// Copies (or downloads) one package into `provider_dir` as a zip archive
/// and returns its file name and hashes (`h1:`, and `zh:` for archives the
/// source served as such). An unpacked source directory is zipped.
fn mirror_package(
    source: &MultiSource,
    addr: &ProviderAddr,
    version: &terrane_install::Version,
    platform: &Platform,
    provider_dir: &Path,
) -> Result<(String, Vec<String>), Diagnostic> {
    let meta = source.package_meta(addr, version, platform)?;
    let file = format!(
        "terraform-provider-{}_{version}_{platform}.zip",
        addr.type_name
    );
    let dest = provider_dir.join(&file);
    let fail = |what: String| {
        Diagnostic::error(
            "Cannot download provider",
            format!(
                "Failed to mirror {} v{version} for {platform}: {what}.",
                addr.for_display()
            ),
        )
    };
    std::fs::create_dir_all(provider_dir).map_err(|e| fail(e.to_string()))?;
    let tmp = provider_dir.join(format!(".{file}.{}.tmp", std::process::id()));
    let mut hashes = Vec::new();
    let copied = match &meta.location {
        PackageLocation::LocalZip(p) => std::fs::copy(p, &tmp)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        PackageLocation::Http(url) => HttpClient::new()
            .download_to(url, &tmp)
            .map(|_| ())
            .map_err(|d| d.detail),
        PackageLocation::LocalDir(dir) => {
            hashes.push(h1_of_dir(dir).map_err(|e| fail(e.0))?.to_string());
            zip_dir(dir, &tmp).map_err(|e| e.to_string())
        }
    };
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    if hashes.is_empty() {
        hashes.push(h1_of_zip(&tmp).map_err(|e| fail(e.0))?.to_string());
        hashes.push(zh_of_zip(&tmp).map_err(|e| fail(e.0))?.to_string());
    }
    std::fs::rename(&tmp, &dest).map_err(|e| fail(e.to_string()))?;
    Ok((file, hashes))
}

/// Zips the files of a package directory (executable bits kept).
fn zip_dir(dir: &Path, dest: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let root = std::fs::canonicalize(dir)?;
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&root).unwrap_or(&p);
                files.insert(rel.to_string_lossy().replace('\\', "/"), p);
            }
        }
    }
    let mut w = zip::ZipWriter::new(std::fs::File::create(dest)?);
    for (name, path) in files {
        let mode = std::fs::metadata(&path)?.permissions().mode();
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            // Fast: mirroring a 200 MB provider should take seconds.
            .compression_level(Some(1))
            .unix_permissions(mode);
        w.start_file(name, opts).map_err(std::io::Error::other)?;
        std::io::copy(&mut std::fs::File::open(&path)?, &mut w)?;
    }
    w.finish().map_err(std::io::Error::other)?;
    Ok(())
}
