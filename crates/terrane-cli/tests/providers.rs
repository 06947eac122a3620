//! `providers lock` and `providers mirror` against Terraform 1.0.3 and the
//! real plugins of the peer's filesystem mirror; the network mirror is a
//! static file server on 127.0.0.1 started by the test. Without the peer
//! the tests skip outside CI and fail under `CI=true`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn peer_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(
        std::env::var("TERRANE_PEER_DIR").unwrap_or_else(|_| "/tmp/terrane-peer".into()),
    );
    if dir.join("bin/terraform").is_file()
        && dir
            .join("mirror/registry.terraform.io/hashicorp/null")
            .is_dir()
    {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("Terraform peer missing at {}", dir.display());
    }
    eprintln!(
        "skipping: Terraform peer not installed at {} (run ../shared/peer/setup.sh)",
        dir.display()
    );
    None
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("terrane-providers-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("scratch");
    d
}

fn run(tool: &Path, dir: &Path, cli_config: &Path, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TERRANE_SCHEMA_CACHE_DIR", "off")
        .env_remove("TF_IN_AUTOMATION")
        .env_remove("TF_LOG")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .expect("run")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Output lines in order, except that the per-provider lines of a
/// platform (whose order Terraform randomises) are sorted.
fn normalized(o: &Output) -> String {
    let mut out = Vec::new();
    let mut group: Vec<String> = Vec::new();
    let text = show(o);
    for line in text.lines() {
        if line.starts_with("- ") {
            group.push(line.to_string());
            continue;
        }
        group.sort();
        out.append(&mut group);
        out.push(line.to_string());
    }
    group.sort();
    out.append(&mut group);
    out.join("\n")
}

const MAIN_TF: &str = r#"terraform {
  required_providers {
    null = { source = "hashicorp/null", version = "2.1.2" }
    aws  = { source = "hashicorp/aws", version = "~> 3.0" }
  }
}
"#;

#[test]
fn providers_lock_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let root = scratch("lock");
    let rc = peer.join("terraformrc");
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let mirror = format!("-fs-mirror={}", peer.join("mirror").display());
    let cases: &[&[&str]] = &[
        &[
            "providers",
            "lock",
            "-no-color",
            &mirror,
            "-platform=linux_amd64",
        ],
        // Again, on the lock file just written.
        &["providers", "lock", "-no-color", &mirror],
        &["providers", "lock", "-no-color", &mirror, "hashicorp/aws"],
        &[
            "providers",
            "lock",
            "-no-color",
            &mirror,
            "-platform=linux_amd64",
            "-platform=darwin_amd64",
        ],
        &[
            "providers",
            "lock",
            "-no-color",
            "-fs-mirror=/x",
            "-net-mirror=http://a",
        ],
        &["providers", "lock", "-no-color", &mirror, "-platform=bogus"],
    ];
    let tf = root.join("tf");
    let tn = root.join("tn");
    for d in [&tf, &tn] {
        fs::create_dir_all(d).expect("mkdir");
        fs::write(d.join("main.tf"), MAIN_TF).expect("write");
    }
    for args in cases {
        let a = run(&terraform, &tf, &rc, args);
        let b = run(&terrane, &tn, &rc, args);
        assert_eq!(normalized(&a), normalized(&b), "{args:?}");
        assert_eq!(
            fs::read_to_string(tf.join(".terraform.lock.hcl")).ok(),
            fs::read_to_string(tn.join(".terraform.lock.hcl")).ok(),
            "lock files differ after {args:?}"
        );
    }
    assert!(tn.join(".terraform.lock.hcl").is_file());
    let _ = fs::remove_dir_all(&root);
}

/// A static file server for `dir` on 127.0.0.1, answering GET requests
/// until the test process ends.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(s) => s,
                    Err(_) => return,
                });
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = dir.join(path.trim_start_matches('/'));
                let mut stream = stream;
                let reply = match fs::read(&file).ok().filter(|_| !path.contains("..")) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend(body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            });
        }
    });
    format!("http://{addr}/")
}

#[test]
fn providers_mirror_writes_a_mirror_terraform_and_terrane_install_from() {
    let Some(peer) = peer_dir() else { return };
    let root = scratch("mirror");
    let rc = peer.join("terraformrc");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let terraform = peer.join("bin/terraform");
    let main_tf = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"~> 2.1\" }\n  }\n}\n";
    let work = root.join("work");
    fs::create_dir_all(&work).expect("mkdir");
    fs::write(work.join("main.tf"), main_tf).expect("write");
    let out = root.join("out");
    let o = run(
        &terrane,
        &work,
        &rc,
        &[
            "providers",
            "mirror",
            "-no-color",
            out.to_str().expect("path"),
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "- Mirroring hashicorp/null...\n  - Selected v2.1.2 to meet constraints ~> 2.1\n  - Downloading package for linux_amd64...\n"
    );
    let pdir = out.join("registry.terraform.io/hashicorp/null");
    assert!(pdir
        .join("terraform-provider-null_2.1.2_linux_amd64.zip")
        .is_file());
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(pdir.join("index.json")).expect("index"))
            .expect("index JSON");
    assert_eq!(index, serde_json::json!({"versions": {"2.1.2": {}}}));
    let version: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(pdir.join("2.1.2.json")).expect("2.1.2.json"))
            .expect("version JSON");
    // The same h1 as the unpacked package the peer's mirror holds.
    assert_eq!(
        version,
        serde_json::json!({"archives": {"linux_amd64": {
            "url": "terraform-provider-null_2.1.2_linux_amd64.zip",
            "hashes": ["h1:CFnENdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE="]
        }}})
    );

    // Terraform installs from it as a filesystem mirror (packed layout).
    let fs_rc = root.join("fs.tfrc");
    fs::write(
        &fs_rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            out.display()
        ),
    )
    .expect("write rc");
    let tf = root.join("tf");
    fs::create_dir_all(&tf).expect("mkdir");
    fs::write(tf.join("main.tf"), main_tf).expect("write");
    let o = run(&terraform, &tf, &fs_rc, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    let lock = fs::read_to_string(tf.join(".terraform.lock.hcl")).expect("lock");
    assert!(
        lock.contains("h1:CFnENdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE="),
        "{lock}"
    );

    // terrane installs from it as a network mirror, and locks from it.
    let url = serve(out.clone());
    let net_rc = root.join("net.tfrc");
    fs::write(
        &net_rc,
        format!("provider_installation {{\n  network_mirror {{\n    url = \"{url}\"\n  }}\n}}\n"),
    )
    .expect("write rc");
    let tn = root.join("tn");
    fs::create_dir_all(&tn).expect("mkdir");
    fs::write(tn.join("main.tf"), main_tf).expect("write");
    let o = run(&terrane, &tn, &net_rc, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    let lock = fs::read_to_string(tn.join(".terraform.lock.hcl")).expect("lock");
    assert!(
        lock.contains("h1:CFnENdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE="),
        "{lock}"
    );
    let _ = fs::remove_file(tn.join(".terraform.lock.hcl"));
    let o = run(
        &terrane,
        &tn,
        &net_rc,
        &[
            "providers",
            "lock",
            "-no-color",
            &format!("-net-mirror={url}"),
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("- Obtained hashicorp/null checksums for linux_amd64"),
        "{}",
        show(&o)
    );
    let lock = fs::read_to_string(tn.join(".terraform.lock.hcl")).expect("lock");
    assert!(
        lock.contains("h1:CFnENdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE="),
        "{lock}"
    );
    let _ = fs::remove_dir_all(&root);
}
