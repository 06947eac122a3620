//! On-disk cache of provider schemas, keyed by the SHA-256 of the plugin
//! binary.
//!
//! Terraform asks every plugin for its full schema on every run; the AWS
//! provider's is megabytes and takes the plugin a second or more to build.
//! A schema is a pure function of the binary, so terrane keeps the
//! `GetProviderSchema` answer (the protocol message, protobuf-encoded)
//! per binary digest and serves later runs from it.
//!
//! Layout under the cache directory:
//!
//! * `schemas/<sha256 of the binary>.<FORMAT>.pb`: a header (magic line,
//!   the binary's digest, the payload's digest and length) and the
//!   encoded message. A file whose header or payload digest does not check
//!   out is ignored (and rewritten by the caller).
//! * `binaries/<sha256 of the binary's path>`: a memo of the binary's
//!   digest with its file identity (size, mtime, ctime, inode, device), so
//!   a 200 MB binary is hashed once, not on every run. Any change to the
//!   file changes its ctime, so a memo never vouches for another binary.
//!
//! Every file is written to a temporary name in the same directory and
//! renamed into place, so readers see a whole entry or none.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use prost::Message;

use crate::proto::GetProviderSchemaResponse;

/// Bumped whenever [`GetProviderSchemaResponse`] gains fields, so entries
/// written by an older terrane (which would lack them) are not used.
const FORMAT: &str = "v1";
const MAGIC: &str = "terrane-schema-cache v1";

/// The schema cache directory and its operations.
#[derive(Clone, Debug)]
pub struct SchemaCache {
    dir: PathBuf,
}

/// What [`SchemaCache::load`] found.
#[derive(Debug)]
pub enum CacheLookup {
    /// A valid entry.
    Hit(Box<GetProviderSchemaResponse>),
    /// No entry for this binary.
    Miss,
    /// An entry that failed its checks (truncated, altered, another
    /// binary's); it should be rewritten.
    Corrupt(String),
}

impl SchemaCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> SchemaCache {
        SchemaCache { dir: dir.into() }
    }

    /// The cache terrane uses: `TERRANE_SCHEMA_CACHE_DIR` if set (`off`
    /// disables caching), else `$XDG_CACHE_HOME/terrane/provider-schemas`,
    /// else `$HOME/.cache/terrane/provider-schemas`; `None` when disabled
    /// or no location is known.
    pub fn from_env() -> Option<SchemaCache> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("TERRANE_SCHEMA_CACHE_DIR") {
            if dir == "off" {
                return None;
            }
            return Some(SchemaCache::new(dir));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(SchemaCache::new(
            base.join("terrane").join("provider-schemas"),
        ))
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the entry for a binary digest.
    pub fn entry_path(&self, digest: &str) -> PathBuf {
        self.dir
            .join("schemas")
            .join(format!("{digest}.{FORMAT}.pb"))
    }

    /// The SHA-256 (lowercase hex) of a plugin binary, from the memo when
    /// the file is unchanged since it was hashed, else hashed now (and the
    /// memo rewritten; a failure to write it is not an error).
    pub fn file_sha256(&self, binary: &Path) -> io::Result<String> {
        let path = fs::canonicalize(binary)?;
        let identity = file_identity(&path)?;
        let memo = self
            .dir
            .join("binaries")
            .join(sha256_hex(path.to_string_lossy().as_bytes()));
        if let Ok(text) = fs::read_to_string(&memo) {
            if let Some(d) = parse_memo(&text, &path, &identity) {
                return Ok(d);
            }
        }
        let digest = hash_file(&path)?;
        // The file must not have changed while it was being read.
        if file_identity(&path)? == identity {
            let body = format!("{}\n{identity}\n{digest}\n", path.to_string_lossy());
            let _ = write_atomic(&memo, body.as_bytes());
        }
        Ok(digest)
    }

    /// The `h1:` hash of an unpacked provider package (what the lock file
    /// records): SHA-256 over the lines `HEXDIGEST  PATH\n` of its files in
    /// path order, base64. File digests come from the memo, so checking an
    /// unchanged 200 MB package against the lock file reads nothing.
    pub fn package_h1(&self, dir: &Path) -> io::Result<String> {
        let root = fs::canonicalize(dir)?;
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d)? {
                let e = e?;
                let p = e.path();
                // Like a directory walk that does not enter symlinked
                // directories.
                if e.file_type()?.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = p.strip_prefix(&root).unwrap_or(&p);
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((name, p));
            }
        }
        files.sort();
        let mut summary = String::new();
        for (name, p) in files {
            summary.push_str(&format!("{}  {name}\n", self.file_sha256(&p)?));
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, summary.as_bytes());
        use base64::Engine;
        Ok(format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
        ))
    }

    /// The cached schema of the binary with `digest`.
    pub fn load(&self, digest: &str) -> CacheLookup {
        let path = self.entry_path(digest);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return CacheLookup::Miss,
            Err(e) => return CacheLookup::Corrupt(format!("cannot read {}: {e}", path.display())),
        };
        match decode_entry(&bytes, digest) {
            Ok(r) => CacheLookup::Hit(Box::new(r)),
            Err(why) => CacheLookup::Corrupt(format!("{}: {why}", path.display())),
        }
    }

    /// Stores the schema of the binary with `digest` (atomically).
    pub fn store(&self, digest: &str, schema: &GetProviderSchemaResponse) -> io::Result<()> {
        let payload = schema.encode_to_vec();
        let mut out = format!(
            "{MAGIC}\n{digest}\n{}\n{}\n",
            sha256_hex(&payload),
            payload.len()
        )
        .into_bytes();
        out.extend_from_slice(&payload);
        write_atomic(&self.entry_path(digest), &out)
    }
}

fn decode_entry(bytes: &[u8], digest: &str) -> Result<GetProviderSchemaResponse, String> {
    let mut rest = bytes;
    let mut line = || -> Result<&str, String> {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("truncated header")?;
        let l = std::str::from_utf8(&rest[..end]).map_err(|_| "header is not text")?;
        rest = &rest[end + 1..];
        Ok(l)
    };
    if line()? != MAGIC {
        return Err("not a schema cache entry of this format".into());
    }
    if line()? != digest {
        return Err("entry belongs to another binary".into());
    }
    let payload_digest = line()?.to_string();
    let len: usize = line()?.parse().map_err(|_| "bad length")?;
    if rest.len() != len {
        return Err(format!(
            "payload is {} bytes, header says {len}",
            rest.len()
        ));
    }
    if sha256_hex(rest) != payload_digest {
        return Err("payload checksum mismatch".into());
    }
    GetProviderSchemaResponse::decode(rest).map_err(|e| format!("payload does not decode: {e}"))
}

/// What identifies one version of a file on disk.
fn file_identity(path: &Path) -> io::Result<String> {
    let md = fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(format!(
            "{} {}.{} {}.{} {} {}",
            md.size(),
            md.mtime(),
            md.mtime_nsec(),
            md.ctime(),
            md.ctime_nsec(),
            md.ino(),
            md.dev()
        ))
    }
    #[cfg(not(unix))]
    {
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(format!("{} {mtime}", md.len()))
    }
}

fn parse_memo(text: &str, path: &Path, identity: &str) -> Option<String> {
    let mut lines = text.lines();
    if lines.next()? != path.to_string_lossy() || lines.next()? != identity {
        return None;
    }
    let digest = lines.next()?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then(|| digest.into())
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex(ctx.finish().as_ref()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Temporary file in the same directory, write, fsync, rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent directory"))?;
    fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "terrane-schema-cache-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn sample() -> GetProviderSchemaResponse {
        let mut r = GetProviderSchemaResponse::default();
        r.resource_schemas.insert(
            "null_resource".into(),
            proto::Schema {
                version: 3,
                block: Some(proto::Block::default()),
            },
        );
        r
    }

    #[test]
    fn round_trip_and_corruption() {
        let dir = temp_dir("rt");
        let cache = SchemaCache::new(dir.join("cache"));
        let digest = "ab".repeat(32);
        assert!(matches!(cache.load(&digest), CacheLookup::Miss));
        cache.store(&digest, &sample()).expect("store");
        match cache.load(&digest) {
            CacheLookup::Hit(r) => assert_eq!(*r, sample()),
            other => panic!("expected a hit, got {other:?}"),
        }
        // Another binary's digest never reads this entry, even if the file
        // were renamed to its name.
        let other = "cd".repeat(32);
        fs::copy(cache.entry_path(&digest), cache.entry_path(&other)).expect("copy");
        assert!(matches!(cache.load(&other), CacheLookup::Corrupt(_)));
        // A flipped payload byte or a truncation is detected.
        let path = cache.entry_path(&digest);
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        fs::write(&path, &bytes).expect("write");
        assert!(matches!(cache.load(&digest), CacheLookup::Corrupt(_)));
        fs::write(&path, &bytes[..10]).expect("write");
        assert!(matches!(cache.load(&digest), CacheLookup::Corrupt(_)));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn binary_digest_memo_follows_the_file() {
        let dir = temp_dir("memo");
        let cache = SchemaCache::new(dir.join("cache"));
        let bin = dir.join("plugin");
        fs::write(&bin, b"one").expect("write");
        let d1 = cache.file_sha256(&bin).expect("digest");
        assert_eq!(d1, sha256_hex(b"one"));
        assert_eq!(cache.file_sha256(&bin).expect("digest"), d1);
        // Same size, rewritten in place: ctime changes, so it is re-hashed.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&bin, b"two").expect("write");
        assert_eq!(cache.file_sha256(&bin).expect("digest"), sha256_hex(b"two"));
        let _ = fs::remove_dir_all(&dir);
    }
}
