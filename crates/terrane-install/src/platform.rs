//! Target platforms (`linux_amd64`): the `OS_ARCH` directory names of
//! provider packages.

use std::fmt;

/// An operating system and CPU architecture in Go's naming.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub arch: String,
}

impl Platform {
    pub fn new(os: &str, arch: &str) -> Platform {
        Platform {
            os: os.to_string(),
            arch: arch.to_string(),
        }
    }

    /// The platform terrane runs on, named as Go names it.
    pub fn current() -> Platform {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            other => other,
        };
        Platform::new(os, arch)
    }

    /// Parses `OS_ARCH`.
    pub fn parse(text: &str) -> Option<Platform> {
        let (os, arch) = text.split_once('_')?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok(os) && ok(arch) {
            Some(Platform::new(os, arch))
        } else {
            None
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.os, self.arch)
    }
}
