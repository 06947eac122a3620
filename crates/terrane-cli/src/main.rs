//! The `terrane` binary: Terraform's global options and commands.

mod backend;
mod cli;
mod commands;
mod jsonview;
mod notify;
mod planfmt;
mod progress;
mod provider_factory;
mod ui;

pub use cli::GlobalOptions;

fn main() {
    limit_malloc_arenas();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(dir) = inventory_symlink_dir() {
        // Run as an Ansible inventory script (see docs/terrane-hcl.md).
        args.splice(0..0, [format!("-chdir={dir}"), "inventory".to_string()]);
    }
    let code = cli::run(args);
    std::process::exit(code);
}

/// When invoked through a link whose name contains `inventory` (such as
/// `terrane-inventory` in a stack's directory, given to `ansible-inventory
/// -i`), the directory holding the link: terrane then acts as
/// `terrane -chdir=DIR inventory`.
fn inventory_symlink_dir() -> Option<String> {
    let argv0 = std::env::args_os().next()?;
    let path = std::path::Path::new(&argv0);
    let name = path.file_name()?.to_string_lossy();
    if name == "terrane" || !name.contains("inventory") {
        return None;
    }
    let dir = path.parent().map(|p| p.to_string_lossy().into_owned());
    Some(
        dir.filter(|d| !d.is_empty())
            .unwrap_or_else(|| ".".to_string()),
    )
}

/// glibc gives threads that allocate concurrently their own heap arenas (up
/// to eight per core), and memory freed into one arena is not reused for
/// another: after a walk over thousands of instances the worker threads'
/// partly used arenas added about 10 MB to the peak RSS at N=10,000
/// (bench/engine.sh). Two arenas cost no measurable time with the pool's
/// allocation pattern.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    use std::os::raw::c_int;
    extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    // glibc's M_ARENA_MAX.
    const M_ARENA_MAX: c_int = -8;
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists. A failure just leaves the default.
    unsafe {
        mallopt(M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
