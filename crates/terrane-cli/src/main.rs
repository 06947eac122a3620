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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = cli::run(args);
    std::process::exit(code);
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
