//! Helpers shared by the fuzz targets: input splitting and a scratch folder on tmpfs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Separates the files packed into one fuzz input (e.g. an exposure XML and its asset CSV).
pub const SEP: &[u8] = b"\n%%\n";

/// Splits an input at every [`SEP`].
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        parts.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    parts.push(rest);
    parts
}

/// A scratch folder of this process, on tmpfs (`/dev/shm`) when there is one.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        // libFuzzer leaves by `exit`: remove the folders of earlier runs whose process is gone.
        if Path::new("/proc/self").exists()
            && let Ok(entries) = std::fs::read_dir(&base)
        {
            for e in entries.flatten() {
                let name = e.file_name();
                let pid = name.to_str().and_then(|n| n.strip_prefix("renxing-fuzz-"));
                if let Some(pid) = pid
                    && pid.bytes().all(|b| b.is_ascii_digit())
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("renxing-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

/// Writes `bytes` to `name` in the scratch folder and returns the path (`None` when the file
/// system refuses the name, e.g. one longer than 255 bytes taken from the input).
pub fn write(name: &str, bytes: &[u8]) -> Option<PathBuf> {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).ok()?;
    Some(p)
}

/// Whether a file name taken from the input is a plain name inside the scratch folder (no
/// folders, no `..`): the harness must not let an input make the reader open `/dev/zero` or
/// another file of the machine.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}
