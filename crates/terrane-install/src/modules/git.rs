//! Fetching a module package with the `git` command-line tool, as
//! Terraform does through go-getter: `ref` (branch, tag or commit) and
//! `depth` (and `sshkey`) come from the URL's query, the rest goes to
//! `git clone`, and submodules are initialised.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git fetch that failed; the message reads like Terraform's (the git
/// executable, its exit code and what it printed).
#[derive(Debug)]
pub struct GitError(pub String);

/// The parts of a git module URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitRemote {
    /// The URL handed to `git clone` (query parameters other than `ref`,
    /// `depth` and `sshkey` kept).
    pub clone_url: String,
    pub git_ref: Option<String>,
    pub depth: Option<u32>,
    /// `sshkey`: a base64-encoded private key for SSH remotes.
    pub ssh_key: Option<Vec<u8>>,
}

impl GitRemote {
    pub fn parse(url: &str) -> Result<GitRemote, GitError> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut git_ref = None;
        let mut depth = None;
        let mut ssh_key = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "ref" => git_ref = Some(percent_decode(v)),
                "depth" => {
                    depth = Some(v.parse::<u32>().map_err(|_| {
                        GitError(format!("depth must be a non-negative integer, got {v:?}"))
                    })?)
                }
                "sshkey" => {
                    use base64::Engine;
                    let text = percent_decode(v);
                    // URL encoding may have turned `+` into a space.
                    let text = text.replace(' ', "+");
                    let key = base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text.trim()))
                        .map_err(|e| {
                            GitError(format!("the sshkey argument is not valid base64: {e}"))
                        })?;
                    ssh_key = Some(key);
                }
                _ => kept.push(pair),
            }
        }
        if git_ref.as_deref().is_some_and(|r| r.starts_with('-')) {
            return Err(GitError(
                "the ref argument must name a branch, tag or commit and cannot start with \"-\""
                    .to_string(),
            ));
        }
        let clone_url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(GitRemote {
            clone_url,
            git_ref: git_ref.filter(|r| !r.is_empty()),
            ssh_key,
            depth: depth.filter(|d| *d > 0),
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && s.is_char_boundary(i + 3) {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `git` executable found on PATH (shown in errors as Terraform does).
fn git_executable() -> Result<PathBuf, GitError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .ok_or_else(|| GitError("git must be available and on the PATH".to_string()))
}

/// Clones `url` into `dest` (relative to `cwd`, which must not exist yet)
/// and checks out the requested ref.
pub fn fetch(cwd: &Path, url: &str, dest: &Path) -> Result<(), GitError> {
    let remote = GitRemote::parse(url)?;
    let git = git_executable()?;
    let key_file = match &remote.ssh_key {
        Some(key) => Some(KeyFile::write(key)?),
        None => None,
    };
    let ssh = ssh_command(key_file.as_ref().map(|k| k.0.as_path()));
    let mut clone = vec!["clone".to_string()];
    if let Some(depth) = remote.depth {
        clone.push("--depth".into());
        clone.push(depth.to_string());
        // A shallow clone can only reach a ref by name.
        if let Some(r) = &remote.git_ref {
            clone.push("--branch".into());
            clone.push(r.clone());
        }
    }
    clone.push("--".into());
    clone.push(remote.clone_url.clone());
    clone.push(dest.to_string_lossy().into_owned());
    run(&git, cwd, &clone, ssh.as_deref())?;
    let work = cwd.join(dest);
    if let (Some(r), None) = (&remote.git_ref, remote.depth) {
        run(
            &git,
            &work,
            &["checkout".to_string(), r.clone()],
            ssh.as_deref(),
        )?;
    }
    let submodules = ["submodule", "update", "--init", "--recursive"].map(String::from);
    run(&git, &work, &submodules, ssh.as_deref())?;
    Ok(())
}

/// A private key written for one fetch (owner-only), removed afterwards.
struct KeyFile(PathBuf);

impl KeyFile {
    fn write(key: &[u8]) -> Result<KeyFile, GitError> {
        use std::io::Write;
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("terrane-sshkey-{}-{n}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| {
            GitError(format!(
                "cannot write the sshkey to {}: {e}",
                path.display()
            ))
        })?;
        let file_guard = KeyFile(path);
        file.write_all(key)
            .map_err(|e| GitError(format!("cannot write the sshkey: {e}")))?;
        Ok(file_guard)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `GIT_SSH_COMMAND` for the fetch: the user's own (or plain `ssh` in
/// batch mode, so a prompt fails instead of hanging), plus `-i KEY` when
/// the source carries an `sshkey`. `None` leaves the user's `GIT_SSH`.
fn ssh_command(key: Option<&Path>) -> Option<String> {
    let user = std::env::var("GIT_SSH_COMMAND")
        .ok()
        .filter(|c| !c.is_empty());
    if user.is_none() && key.is_none() && std::env::var_os("GIT_SSH").is_some() {
        return None;
    }
    let mut command = user.unwrap_or_else(|| "ssh -o BatchMode=yes".to_string());
    if let Some(k) = key {
        command.push_str(&format!(" -i '{}' -o IdentitiesOnly=yes", k.display()));
    }
    Some(command)
}

fn run(git: &Path, cwd: &Path, args: &[String], ssh: Option<&str>) -> Result<(), GitError> {
    let mut command = Command::new(git);
    command
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        // Never wait for a password or a host key answer on a terminal:
        // fail instead. Keys from an agent or ~/.ssh still work.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never");
    if let Some(ssh) = ssh {
        command.env("GIT_SSH_COMMAND", ssh);
    }
    let output = command
        .output()
        .map_err(|e| GitError(format!("{} could not be started: {e}", git.display())))?;
    if output.status.success() {
        return Ok(());
    }
    let code = output
        .status
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "a signal".to_string());
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(GitError(format!(
        "{} exited with {code}: {}",
        git.display(),
        text.trim_end()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_arguments() {
        let r = GitRemote::parse("https://h/x.git?ref=v1%2E0&depth=1&other=2").unwrap();
        assert_eq!(r.clone_url, "https://h/x.git?other=2");
        assert_eq!(r.git_ref.as_deref(), Some("v1.0"));
        assert_eq!(r.depth, Some(1));
        let r = GitRemote::parse("file:///tmp/r.git").unwrap();
        assert_eq!(r.clone_url, "file:///tmp/r.git");
        assert_eq!(r.git_ref, None);
        assert!(GitRemote::parse("file:///r.git?depth=x").is_err());
        assert!(GitRemote::parse("file:///r.git?ref=--orphan=x").is_err());
        let r = GitRemote::parse("ssh://git@h/r.git?sshkey=a2V5Cg%3D%3D&ref=v1").unwrap();
        assert_eq!(r.ssh_key.as_deref(), Some(&b"key\n"[..]));
        assert_eq!(r.clone_url, "ssh://git@h/r.git");
        assert!(GitRemote::parse("ssh://git@h/r.git?sshkey=***").is_err());
    }
}
