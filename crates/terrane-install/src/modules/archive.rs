//! The `http`/`https` getter: a URL whose path ends in an archive
//! extension (`.zip`, `.tar.gz`, `.tgz`, or an `archive=` query argument)
//! is downloaded and unpacked; any other URL is asked (with
//! `terraform-get=1`) for the real address, in the `X-Terraform-Get`
//! header or a `<meta name="terraform-get">` tag.

use super::source::{parse_remote_source, Getter};
use crate::http::{resolve_url, HttpClient};
use std::path::Path;

/// How many `X-Terraform-Get` hops we follow before giving up.
const MAX_REDIRECT_HOPS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    TarGz,
}

/// The archive format a URL names, if any.
pub fn archive_kind(url: &str) -> Option<ArchiveKind> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    };
    let forced = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("archive="));
    let name = forced.unwrap_or(path).to_ascii_lowercase();
    if name.ends_with("zip") {
        Some(ArchiveKind::Zip)
    } else if name.ends_with("tar.gz") || name.ends_with("tgz") {
        Some(ArchiveKind::TarGz)
    } else {
        None
    }
}

/// Fetches `url` into `package_dir` (relative to `root`, not existing yet).
pub fn fetch_http(
    client: &HttpClient,
    root: &Path,
    url: &str,
    package_dir: &str,
    hops: usize,
) -> Result<(), String> {
    let dest = root.join(package_dir);
    if let Some(kind) = archive_kind(url) {
        let download_url = strip_archive_argument(url);
        std::fs::create_dir_all(&dest).map_err(|e| format!("cannot create {package_dir}: {e}"))?;
        let temp = dest.join(".terrane-download");
        let result = client
            .download_to(&download_url, &temp)
            .map_err(|d| d.detail)
            .and_then(|_| unpack(kind, &temp, &dest));
        let _ = std::fs::remove_file(&temp);
        return result;
    }
    if hops >= MAX_REDIRECT_HOPS {
        return Err(format!(
            "more than {MAX_REDIRECT_HOPS} X-Terraform-Get redirections"
        ));
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    let ask = format!("{url}{separator}terraform-get=1");
    let response = client.get(&ask).map_err(|d| d.detail)?;
    if !response.is_success() {
        return Err(format!("bad response code: {}", response.status));
    }
    let location = match response.header("X-Terraform-Get") {
        Some(l) => l.to_string(),
        None => meta_terraform_get(&String::from_utf8_lossy(&response.body))
            .ok_or_else(|| "no source URL was returned".to_string())?,
    };
    let location =
        if location.starts_with('/') || location.starts_with("./") || location.starts_with("../") {
            resolve_url(&response.url, &location)
        } else {
            location
        };
    let next = parse_remote_source(&location)
        .map_err(|_| format!("the server named an unusable source {location:?}"))?;
    if next.subdir.is_some() {
        return Err(format!(
            "the server named {location:?}, and a subdirectory in a redirected http source is not supported"
        ));
    }
    match next.getter {
        Getter::Http => fetch_http(client, root, &next.url, package_dir, hops + 1),
        Getter::Git => super::git::fetch(root, &next.url, Path::new(package_dir))
            .map_err(|e| format!("error downloading '{}': {}", next.url, e.0)),
        Getter::File => Err(format!(
            "the server named the local path {location:?}, which an http source may not use"
        )),
    }
}

fn strip_archive_argument(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("archive="))
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The content of `<meta name="terraform-get" content="...">`.
fn meta_terraform_get(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<meta") {
        let start = from + i;
        let end = lower[start..].find('>').map(|e| start + e)?;
        let tag = &html[start..end];
        let tag_lower = &lower[start..end];
        if tag_lower.contains("name=\"terraform-get\"") {
            let c = tag_lower.find("content=\"")? + "content=\"".len();
            let close = tag[c..].find('"')?;
            return Some(tag[c..c + close].replace("&amp;", "&"));
        }
        from = end;
    }
    None
}

/// Unpacks an archive into `dest`; entries that would land outside it are
/// refused.
pub fn unpack(kind: ArchiveKind, archive: &Path, dest: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive).map_err(|e| format!("cannot open download: {e}"))?;
    match kind {
        ArchiveKind::TarGz => {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            for entry in tar
                .entries()
                .map_err(|e| format!("the tar.gz archive is unreadable: {e}"))?
            {
                let mut entry =
                    entry.map_err(|e| format!("the tar.gz archive is unreadable: {e}"))?;
                let unpacked = entry
                    .unpack_in(dest)
                    .map_err(|e| format!("cannot unpack the tar.gz archive: {e}"))?;
                if !unpacked {
                    return Err("the tar.gz archive has an entry outside its directory".into());
                }
            }
            Ok(())
        }
        ArchiveKind::Zip => {
            let mut zip = zip::ZipArchive::new(file)
                .map_err(|e| format!("the zip archive is unreadable: {e}"))?;
            for i in 0..zip.len() {
                let mut entry = zip
                    .by_index(i)
                    .map_err(|e| format!("the zip archive is unreadable: {e}"))?;
                let Some(rel) = entry.enclosed_name() else {
                    return Err("the zip archive has an entry outside its directory".into());
                };
                let out = dest.join(rel);
                if entry.is_dir() {
                    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                    continue;
                }
                if let Some(parent) = out.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                let mut f = std::fs::File::create(&out).map_err(|e| e.to_string())?;
                std::io::copy(&mut entry, &mut f).map_err(|e| e.to_string())?;
                #[cfg(unix)]
                if let Some(mode) = entry.unix_mode() {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        &out,
                        std::fs::Permissions::from_mode(mode & 0o777),
                    );
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names() {
        assert_eq!(
            archive_kind("https://h/m-1.0.tar.gz"),
            Some(ArchiveKind::TarGz)
        );
        assert_eq!(
            archive_kind("https://h/m.tgz?x=1"),
            Some(ArchiveKind::TarGz)
        );
        assert_eq!(archive_kind("https://h/m.zip"), Some(ArchiveKind::Zip));
        assert_eq!(
            archive_kind("https://h/get?archive=zip"),
            Some(ArchiveKind::Zip)
        );
        assert_eq!(archive_kind("https://h/module"), None);
        assert_eq!(
            strip_archive_argument("https://h/get?archive=zip&a=1"),
            "https://h/get?a=1"
        );
    }

    #[test]
    fn meta_tag() {
        let html = r#"<html><head><meta charset="utf-8"><meta name="terraform-get" content="git::https://h/x.git?ref=v1&amp;depth=1"></head></html>"#;
        assert_eq!(
            meta_terraform_get(html).as_deref(),
            Some("git::https://h/x.git?ref=v1&depth=1")
        );
        assert_eq!(meta_terraform_get("<html></html>"), None);
    }
}
