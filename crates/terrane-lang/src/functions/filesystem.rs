//! Filesystem functions. Paths are handled with Go's `path/filepath`
//! rules on Unix (lexical cleaning, `~` expansion); relative paths are
//! resolved against [`FunctionContext::base_dir`].

use std::path::Path;

use base64::Engine;
use terrane_value::{Type, Value};

use super::encoding::b64;
use super::{
    arg_err, call_err, str_arg, t_bool, t_string, FnResult, FunctionContext, FunctionError, Param,
    Spec,
};

pub(crate) fn spec(name: &str) -> Option<Spec> {
    let s = |n: &'static str| Param::new(n, Type::String);
    Some(match name {
        "abspath" => Spec::new(vec![s("path")], t_string, abspath),
        "dirname" => Spec::new(vec![s("path")], t_string, |a, _, _| {
            Ok(Value::string(dir(str_arg(a, 0))))
        }),
        "basename" => Spec::new(vec![s("path")], t_string, |a, _, _| {
            Ok(Value::string(base(str_arg(a, 0))))
        }),
        "pathexpand" => Spec::new(vec![s("path")], t_string, |a, _, _| {
            expand_home(str_arg(a, 0))
                .map(Value::string)
                .map_err(FunctionError::call)
        }),
        "file" => Spec::new(vec![s("path")], t_string, file),
        "filebase64" => Spec::new(vec![s("path")], t_string, |a, _, ctx| {
            let data = read_file(ctx, str_arg(a, 0))?;
            Ok(Value::string(b64().encode(data)))
        }),
        "fileexists" => Spec::new(vec![s("path")], t_bool, fileexists),
        "fileset" => Spec::new(
            vec![s("path"), s("pattern")],
            || Type::set(Type::String),
            fileset,
        ),
        _ => return None,
    })
}

/// Go's `filepath.Clean` for Unix paths.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let body = parts.join("/");
    if rooted {
        format!("/{body}")
    } else if body.is_empty() {
        ".".into()
    } else {
        body
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        return clean(b);
    }
    if b.is_empty() {
        return clean(a);
    }
    clean(&format!("{a}/{b}"))
}

/// Go's `filepath.Base`.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// Go's `filepath.Dir`.
fn dir(p: &str) -> String {
    let d = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(d)
}

fn home_dir() -> Option<String> {
    std::env::var("HOME").ok().filter(|h| !h.is_empty())
}

/// `~` expansion as the `go-homedir` package does.
fn expand_home(p: &str) -> Result<String, String> {
    if !p.starts_with('~') {
        return Ok(p.to_string());
    }
    if p.len() > 1 && !p[1..].starts_with('/') && !p[1..].starts_with('\\') {
        return Err("cannot expand user-specific home dir".into());
    }
    let home = home_dir().ok_or_else(|| "HOME environment variable is empty".to_string())?;
    Ok(join(&home, &p[1..]))
}

fn base_dir(ctx: &FunctionContext) -> String {
    ctx.base_dir.to_string_lossy().into_owned()
}

/// The path a file function reads: `~` expanded, joined to the base
/// directory when relative, cleaned.
fn resolve(ctx: &FunctionContext, p: &str) -> Result<String, FunctionError> {
    let p = expand_home(p).map_err(|e| FunctionError::call(format!("failed to expand ~: {e}")))?;
    if p.starts_with('/') {
        Ok(clean(&p))
    } else {
        Ok(join(&base_dir(ctx), &p))
    }
}

/// Reads a file for `file`/`filebase64`, with Terraform's errors (which
/// name the path as given).
pub(crate) fn read_file(ctx: &FunctionContext, p: &str) -> Result<Vec<u8>, FunctionError> {
    let path = resolve(ctx, p)?;
    match std::fs::read(&path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => arg_err(
            0,
            format!("no file exists at {p}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"),
        ),
        Err(_) => arg_err(0, format!("failed to read {p}")),
    }
}

/// Reads a file for the file hashing functions, whose errors are Go's
/// operating-system errors (`open PATH: no such file or directory`).
pub(crate) fn read_file_raw(ctx: &FunctionContext, p: &str) -> Result<Vec<u8>, FunctionError> {
    let path = resolve(ctx, p)?;
    if std::path::Path::new(&path).is_dir() {
        return call_err(format!("read {path}: is a directory"));
    }
    std::fs::read(&path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        FunctionError::call(format!("open {path}: {why}"))
    })
}

fn file(a: &[Value], _: &Type, ctx: &FunctionContext) -> FnResult {
    let p = str_arg(a, 0);
    let data = read_file(ctx, p)?;
    match String::from_utf8(data) {
        Ok(s) => Ok(Value::string(s)),
        Err(_) => call_err(format!("contents of {p} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")),
    }
}

fn abspath(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let p = str_arg(a, 0);
    if p.starts_with('/') {
        return Ok(Value::string(clean(p)));
    }
    let cwd = std::env::current_dir().map_err(|e| FunctionError::call(e.to_string()))?;
    Ok(Value::string(join(&cwd.to_string_lossy(), p)))
}

/// Go's `FileMode.String` for the common types.
fn mode_string(md: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    let ft = md.file_type();
    let mut s = String::new();
    if ft.is_dir() {
        s.push('d');
    } else if ft.is_symlink() {
        s.push('L');
    } else {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            s.push('p');
        } else if ft.is_socket() {
            s.push('S');
        } else if ft.is_char_device() {
            s.push_str("Dc");
        } else if ft.is_block_device() {
            s.push('D');
        }
    }
    let mode = md.permissions().mode();
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

fn fileexists(a: &[Value], _: &Type, ctx: &FunctionContext) -> FnResult {
    let path = resolve(ctx, str_arg(a, 0))?;
    match std::fs::metadata(&path) {
        Ok(md) if md.is_file() => Ok(Value::bool(true)),
        Ok(md) => call_err(format!(
            "{path} is not a regular file, but {}",
            super::format::go_quote(&mode_string(&md))
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::bool(false)),
        Err(e) if e.raw_os_error() == Some(20) => Ok(Value::bool(false)),
        Err(_) => call_err(format!("failed to stat {path}")),
    }
}

// ----- fileset: doublestar globbing -----

/// Matches one path component against a glob component (`*`, `?`,
/// `[...]`, `{a,b}`, `\` escapes); `Err` for a malformed pattern.
fn match_component(pat: &[char], name: &[char]) -> Result<bool, ()> {
    if pat.is_empty() {
        return Ok(name.is_empty());
    }
    match pat[0] {
        '*' => {
            for i in 0..=name.len() {
                if match_component(&pat[1..], &name[i..])? {
                    return Ok(true);
                }
            }
            // validate the rest of the pattern even when nothing matched
            Ok(false)
        }
        '?' => {
            if name.is_empty() {
                return Ok(false);
            }
            match_component(&pat[1..], &name[1..])
        }
        '[' => {
            let mut i = 1;
            let negate = pat.get(1) == Some(&'^');
            if negate {
                i += 1;
            }
            let mut matched = false;
            let c = name.first().copied();
            let mut first = true;
            loop {
                let Some(&p) = pat.get(i) else {
                    return Err(());
                };
                if p == ']' && !first {
                    i += 1;
                    break;
                }
                first = false;
                let mut lo = p;
                if lo == '\\' {
                    i += 1;
                    lo = *pat.get(i).ok_or(())?;
                }
                let mut hi = lo;
                if pat.get(i + 1) == Some(&'-') && pat.get(i + 2).is_some_and(|x| *x != ']') {
                    hi = pat[i + 2];
                    if hi == '\\' {
                        hi = *pat.get(i + 3).ok_or(())?;
                        i += 1;
                    }
                    i += 2;
                }
                i += 1;
                if let Some(c) = c {
                    if lo <= c && c <= hi {
                        matched = true;
                    }
                }
            }
            if c.is_none() || matched == negate {
                return Ok(false);
            }
            match_component(&pat[i..], &name[1..])
        }
        '{' => {
            // find the matching close brace and split alternatives
            let mut depth = 0;
            let mut end = None;
            let mut alts = Vec::new();
            let mut start = 1;
            let mut i = 0;
            while i < pat.len() {
                match pat[i] {
                    '\\' => i += 1,
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            alts.push(&pat[start..i]);
                            end = Some(i);
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        alts.push(&pat[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            let end = end.ok_or(())?;
            for alt in alts {
                let mut p: Vec<char> = alt.to_vec();
                p.extend_from_slice(&pat[end + 1..]);
                if match_component(&p, name)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '\\' => {
            let Some(&c) = pat.get(1) else {
                return Err(());
            };
            if name.first() == Some(&c) {
                match_component(&pat[2..], &name[1..])
            } else {
                Ok(false)
            }
        }
        c => {
            if name.first() == Some(&c) {
                match_component(&pat[1..], &name[1..])
            } else {
                Ok(false)
            }
        }
    }
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{', '\\'])
}

const MAX_GLOB_RESULTS: usize = 100_000;

/// Directory depth followed by `**` (symbolic links to directories are
/// followed, as Terraform's globbing does, so loops must end somewhere).
const MAX_GLOB_DEPTH: usize = 64;

fn sorted_entries(dir: &Path) -> Vec<std::fs::DirEntry> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    entries
}

fn glob_walk(
    dir: &Path,
    comps: &[Vec<char>],
    out: &mut Vec<std::path::PathBuf>,
    depth: usize,
) -> Result<(), ()> {
    if out.len() > MAX_GLOB_RESULTS || depth > MAX_GLOB_DEPTH {
        return Ok(());
    }
    let Some((first, rest)) = comps.split_first() else {
        out.push(dir.to_path_buf());
        return Ok(());
    };
    if first.iter().collect::<String>() == "**" {
        if rest.is_empty() {
            // everything below
            for e in sorted_entries(dir) {
                let p = e.path();
                out.push(p.clone());
                if p.is_dir() {
                    glob_walk(&p, comps, out, depth + 1)?;
                }
            }
            return Ok(());
        }
        // zero directories, then one more level
        glob_walk(dir, rest, out, depth)?;
        for e in sorted_entries(dir) {
            let p = e.path();
            if p.is_dir() {
                glob_walk(&p, comps, out, depth + 1)?;
            }
        }
        return Ok(());
    }
    for e in sorted_entries(dir) {
        let name: Vec<char> = e.file_name().to_string_lossy().chars().collect();
        if match_component(first, &name)? {
            if rest.is_empty() {
                out.push(e.path());
            } else if e.path().is_dir() {
                glob_walk(&e.path(), rest, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

fn fileset(a: &[Value], _: &Type, ctx: &FunctionContext) -> FnResult {
    let mut path = str_arg(a, 0).to_string();
    if !path.starts_with('/') {
        path = join(&base_dir(ctx), &path);
    }
    let pattern = join(&path, str_arg(a, 1));
    // split into the literal prefix directory and the glob components
    let rooted = pattern.starts_with('/');
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let lit = comps.iter().take_while(|c| !has_meta(c)).count();
    let mut start = if rooted {
        "/".to_string()
    } else {
        String::new()
    };
    start.push_str(&comps[..lit].join("/"));
    let start = if start.is_empty() {
        ".".to_string()
    } else {
        start
    };
    let mut globs: Vec<Vec<char>> = comps[lit..].iter().map(|c| c.chars().collect()).collect();
    // consecutive `**` components match the same paths as one
    let star2: Vec<char> = "**".chars().collect();
    globs.dedup_by(|a, b| *a == star2 && *b == star2);
    let mut found = Vec::new();
    if globs.is_empty() {
        if Path::new(&start).exists() {
            found.push(std::path::PathBuf::from(&start));
        }
    } else if glob_walk(Path::new(&start), &globs, &mut found, 0).is_err() {
        return call_err(format!(
            "failed to glob pattern ({pattern}): syntax error in pattern"
        ));
    }
    let mut vals = Vec::new();
    for m in found {
        let Ok(md) = std::fs::metadata(&m) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let ms = m.to_string_lossy().into_owned();
        let ms = clean(&ms);
        let rel = relative(&path, &ms);
        vals.push(Value::string(rel));
    }
    Ok(Value::set(Type::String, vals))
}

/// `filepath.Rel(base, target)` for cleaned paths where `target` is
/// usually under `base`.
fn relative(base: &str, target: &str) -> String {
    if base == "." && !target.starts_with('/') {
        return target.to_string();
    }
    let b: Vec<&str> = base
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let t: Vec<&str> = target
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend_from_slice(&t[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{call, FunctionContext};
    use super::*;
    use terrane_value::format_console;

    fn run(name: &str, args: Vec<Value>, ctx: &FunctionContext) -> String {
        match call(name, args, ctx) {
            Ok(v) => format_console(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn paths() {
        assert_eq!(clean("a//b/./../c/"), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base(""), ".");
        assert_eq!(dir("/a/b/c.txt"), "/a/b");
        assert_eq!(dir("c.txt"), ".");
        assert_eq!(dir("/"), "/");
    }

    #[test]
    fn files() {
        let tmp = std::env::temp_dir().join(format!("terrane-fn-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("sub/deep")).unwrap();
        std::fs::write(tmp.join("a.txt"), "hello").unwrap();
        std::fs::write(tmp.join("sub/b.txt"), "x").unwrap();
        std::fs::write(tmp.join("sub/deep/c.tf"), "y").unwrap();
        std::fs::write(tmp.join("bin"), [0xffu8, 0]).unwrap();
        let ctx = FunctionContext {
            base_dir: tmp.clone(),
        };
        let st = Value::string;
        assert_eq!(run("file", vec![st("a.txt")], &ctx), "\"hello\"");
        assert_eq!(run("fileexists", vec![st("a.txt")], &ctx), "true");
        assert_eq!(run("fileexists", vec![st("nope")], &ctx), "false");
        assert_eq!(
            run("filemd5", vec![st("a.txt")], &ctx),
            "\"5d41402abc4b2a76b9719d911017c592\""
        );
        assert_eq!(run("filebase64", vec![st("bin")], &ctx), "\"/wA=\"");
        assert!(run("file", vec![st("bin")], &ctx).contains("are not valid UTF-8"));
        assert_eq!(
            run("fileset", vec![st("."), st("**/*.txt")], &ctx),
            "toset([\n  \"a.txt\",\n  \"sub/b.txt\",\n])"
        );
        assert_eq!(
            run("fileset", vec![st("sub"), st("*")], &ctx),
            "toset([\n  \"b.txt\",\n])"
        );
        assert_eq!(
            run("fileset", vec![st("sub"), st("**/*.{txt,tf}")], &ctx),
            "toset([\n  \"b.txt\",\n  \"deep/c.tf\",\n])"
        );
        let dctx = FunctionContext {
            base_dir: ".".into(),
        };
        assert!(run("file", vec![st("no-such-file.txt")], &dctx)
            .starts_with("ERR argument 0: no file exists at no-such-file.txt; this function"));
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
