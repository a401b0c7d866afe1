//! Jail roots for tests (issue 16): a static busybox root built by `examples/busybox-root.sh`,
//! and what a root needs to run one of the host's dynamically linked test tools.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

/// The host's multiarch library directory, where glibc's loader and libraries live.
const LIBDIR: &str = "/usr/lib/x86_64-linux-gnu";

/// A statically linked busybox of the host, or why there is none.
pub fn static_busybox() -> Result<&'static str, String> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|b| is_static(Path::new(b)))
        .ok_or_else(|| "needs a static busybox (apt-get install busybox-static)".to_string())
}

/// Whether `path` is a statically linked executable (ldd refuses it).
fn is_static(path: &Path) -> bool {
    path.is_file()
        && Command::new("ldd")
            .arg(path)
            .output()
            .map(|o| {
                !o.status.success() || String::from_utf8_lossy(&o.stdout).contains("not a dynamic")
            })
            .unwrap_or(false)
}

/// Runs `examples/busybox-root.sh DIR`.
pub fn build_busybox_root(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/busybox-root.sh");
    let out = Command::new("bash").arg(script).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "busybox-root.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where [`tool_mounts`] puts a tool's directory inside a root: not under `/tmp`, which ioc
/// mounts a fresh tmpfs on.
pub const TOOL_DIR: &str = "/opt/ioc-tools";

/// Prepares `root` to run the host program `tool` (dynamically linked against glibc) as
/// [`TOOL_DIR`]`/NAME`, and returns the `mounts` value that bind-mounts the host's libraries
/// and the tool's directory, read-only, and the tool's path inside the root. The loader is
/// found through `lib64` and `lib` links inside the root, as on a merged-/usr Debian.
pub fn tool_mounts(root: &Path, tool: &Path) -> (String, String) {
    let tool_dir = tool.parent().expect("the tool's directory");
    for dir in [LIBDIR, TOOL_DIR] {
        fs::create_dir_all(root.join(dir.trim_start_matches('/'))).unwrap();
    }
    fs::create_dir_all(root.join("lib")).unwrap();
    for (link, target) in [
        ("lib64", "usr/lib/x86_64-linux-gnu"),
        ("lib/x86_64-linux-gnu", "../usr/lib/x86_64-linux-gnu"),
    ] {
        let at = root.join(link);
        if fs::symlink_metadata(&at).is_err() {
            symlink(target, at).unwrap();
        }
    }
    let name = tool.file_name().expect("the tool's name").to_string_lossy();
    (
        format!("{LIBDIR}:{LIBDIR}:ro,{}:{TOOL_DIR}:ro", tool_dir.display()),
        format!("{TOOL_DIR}/{name}"),
    )
}
