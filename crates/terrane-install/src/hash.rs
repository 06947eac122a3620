//! Package hashes as recorded in the lock file.
//!
//! * `h1:` hashes the package contents, so an unpacked directory and the
//!   zip it came from hash the same: list every file (zip entries, or files
//!   under the directory with `/`-separated relative paths), sort the names,
//!   form one line per file `HEX_SHA256_OF_CONTENTS  NAME\n`, and take the
//!   standard base64 of the SHA-256 of those lines.
//! * `zh:` is the lowercase hex SHA-256 of the zip archive itself, as
//!   registries publish in their `SHA256SUMS` files; it can only be checked
//!   against a zip.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One `SCHEME:VALUE` hash string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageHash(String);

/// The hash schemes Terraform knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashScheme {
    /// `h1:`, the contents hash.
    H1,
    /// `zh:`, the archive hash (legacy, from registries).
    Zh,
    /// Any other prefix: kept in the lock file, never matched.
    Other,
}

impl PackageHash {
    /// Wraps a hash string as written in a lock file. Returns `None` when it
    /// has no `SCHEME:` prefix.
    pub fn parse(text: &str) -> Option<PackageHash> {
        let (scheme, value) = text.split_once(':')?;
        if scheme.is_empty() || value.is_empty() {
            return None;
        }
        Some(PackageHash(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn scheme(&self) -> HashScheme {
        if self.0.starts_with("h1:") {
            HashScheme::H1
        } else if self.0.starts_with("zh:") {
            HashScheme::Zh
        } else {
            HashScheme::Other
        }
    }

    /// The `zh:` hash for a SHA-256 digest given as hex (from `SHA256SUMS`
    /// or a registry's `shasum`).
    pub fn zh_from_hex(hex: &str) -> PackageHash {
        PackageHash(format!("zh:{}", hex.to_ascii_lowercase()))
    }
}

impl fmt::Display for PackageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a package could not be hashed.
#[derive(Debug)]
pub struct HashError(pub String);

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_reader(mut reader: impl Read) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_file_hex(path: &Path) -> Result<String, HashError> {
    let file = std::fs::File::open(path)
        .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
    let digest = sha256_reader(file)
        .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
    Ok(hex(&digest))
}

/// The summary over `(name, contents digest)` pairs.
fn h1_of_entries(mut entries: Vec<(String, [u8; 32])>) -> Result<PackageHash, HashError> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = Sha256::new();
    for (name, digest) in &entries {
        if name.contains('\n') {
            return Err(HashError(format!(
                "file name {name:?} contains a newline and cannot be hashed"
            )));
        }
        summary.update(format!("{}  {}\n", hex(digest), name).as_bytes());
    }
    Ok(PackageHash(format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(summary.finalize())
    )))
}

/// The `h1:` hash of a zip archive's contents.
pub fn h1_of_zip(path: &Path) -> Result<PackageHash, HashError> {
    let file = std::fs::File::open(path)
        .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        HashError(format!(
            "{} is not a valid zip archive: {e}",
            path.display()
        ))
    })?;
    let mut entries = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
        let name = entry
            .name()
            .map_err(|e| HashError(format!("bad entry name in {}: {e}", path.display())))?
            .into_owned();
        let digest = sha256_reader(entry)
            .map_err(|e| HashError(format!("cannot read {name} in {}: {e}", path.display())))?;
        entries.push((name, digest));
    }
    h1_of_entries(entries)
}

/// The `h1:` hash of an unpacked package directory (symlinks followed,
/// including a symlink that is the directory itself).
pub fn h1_of_dir(dir: &Path) -> Result<PackageHash, HashError> {
    let root = std::fs::canonicalize(dir)
        .map_err(|e| HashError(format!("cannot read {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    collect_files(&root, &root, &mut files)?;
    let mut entries = Vec::with_capacity(files.len());
    for (name, path) in files {
        let file = std::fs::File::open(&path)
            .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
        let digest = sha256_reader(file)
            .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
        entries.push((name, digest));
    }
    h1_of_entries(entries)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), HashError> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| HashError(format!("cannot read {}: {e}", dir.display())))?;
    for entry in read {
        let entry = entry.map_err(|e| HashError(format!("cannot read {}: {e}", dir.display())))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| HashError(format!("cannot read {}: {e}", path.display())))?;
        // Like a directory walk that does not descend into symlinked
        // directories: only real directories are entered.
        if kind.is_dir() {
            collect_files(root, &path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push((name, path));
    }
    Ok(())
}

/// The `zh:` hash of a zip archive.
pub fn zh_of_zip(path: &Path) -> Result<PackageHash, HashError> {
    Ok(PackageHash::zh_from_hex(&sha256_file_hex(path)?))
}

/// Whether a package (a zip file or an unpacked directory) matches `hash`.
/// `zh:` only matches zips; unknown schemes never match.
pub fn package_matches(package: &Path, hash: &PackageHash) -> Result<bool, HashError> {
    let is_dir = package.is_dir();
    match hash.scheme() {
        HashScheme::H1 => {
            let got = if is_dir {
                h1_of_dir(package)?
            } else {
                h1_of_zip(package)?
            };
            Ok(&got == hash)
        }
        HashScheme::Zh if !is_dir => Ok(&zh_of_zip(package)? == hash),
        _ => Ok(false),
    }
}
