//! A git source's `sshkey` argument reaches ssh as an owner-only key file
//! (`-i KEY`), removed after the fetch. The ssh program is a script that
//! records how it was called; it sets `GIT_SSH_COMMAND`, so this test has
//! a process of its own.

use std::fs;
use std::path::PathBuf;
use terrane_install::modules::{install_modules, ModuleInstallOptions};

#[test]
fn sshkey_is_handed_to_ssh_and_removed() {
    let base = std::env::temp_dir().join(format!("terrane-modules-ssh-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(base.join("root")).expect("mkdir");
    let log = base.join("ssh.log");
    let fake_ssh = base.join("fake-ssh");
    // Records its arguments, the key file's mode and content, then fails
    // like an unreachable host.
    fs::write(
        &fake_ssh,
        format!(
            "#!/bin/sh\nlog={}\necho \"args: $*\" >> \"$log\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = -i ]; then stat -c 'mode: %a' \"$2\" >> \"$log\"; echo \"key: $(cat \"$2\")\" >> \"$log\"; fi\n  shift\ndone\necho 'ssh: connect to host example.invalid: refused' >&2\nexit 255\n",
            log.display()
        ),
    )
    .expect("write fake ssh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake_ssh, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::env::set_var("GIT_SSH_COMMAND", &fake_ssh);

    // "secret-key" in base64, URL-encoded padding.
    let root: PathBuf = base.join("root");
    fs::write(
        root.join("main.tf"),
        "module \"m\" {\n  source = \"git::ssh://git@example.invalid/x.git?sshkey=c2VjcmV0LWtleQ%3D%3D\"\n}\n",
    )
    .expect("write config");
    let opts = ModuleInstallOptions {
        data_dir: PathBuf::from(".terraform"),
        ..ModuleInstallOptions::default()
    };
    let result = install_modules(&root, &opts, &mut |_| {});
    let diags = result.expect_err("the fake host refuses");
    let detail = &diags.iter().next().expect("one diagnostic").detail;
    assert!(
        detail.contains("connect to host example.invalid: refused"),
        "{detail}"
    );

    let recorded = fs::read_to_string(&log).expect("ssh was called");
    assert!(recorded.contains("-o IdentitiesOnly=yes"), "{recorded}");
    assert!(recorded.contains("mode: 600"), "{recorded}");
    assert!(recorded.contains("key: secret-key"), "{recorded}");
    let key_path = recorded
        .split_whitespace()
        .skip_while(|w| *w != "-i")
        .nth(1)
        .expect("-i KEY");
    assert!(
        !std::path::Path::new(key_path).exists(),
        "{key_path} left behind"
    );
    let _ = fs::remove_dir_all(&base);
}
