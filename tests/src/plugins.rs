//! Test support for plugin loading: where the built plugin libraries are, private plugin
//! directories to install copies into, the example third-party plugin, and a way to see which
//! libraries a run of `ioc` really opened.
//!
//! The workspace's cdylibs are not dependencies of the test crate (Cargo cannot depend on a
//! cdylib), so the test command builds them first (`cargo build --workspace`); they sit next to
//! the `ioc` binary in `<target>/<profile>/`. The fixtures there are named
//! `libioc_fixture_*.so` so that ioc, which searches its own directory, never picks them up; a
//! test copies one into a [`PluginDir`] under the conventional `libioc_plugin_<name>.so`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::ioc_bin;

/// The plugins that ship with ioc, enabled by default.
pub const SHIPPED: [&str; 8] = [
    "shared-ip",
    "vnet",
    "secure-vnet",
    "nat",
    "nftables",
    "ipfw",
    "pf",
    "cni",
];

/// `<target>/<profile>`: where `cargo build --workspace` put `ioc` and the cdylibs.
pub fn build_dir() -> PathBuf {
    let bin = ioc_bin();
    bin.parent()
        .expect("the ioc binary has a directory")
        .to_path_buf()
}

/// `<target>`, the Cargo target directory of this build.
pub fn target_dir() -> PathBuf {
    let build = build_dir();
    build.parent().unwrap_or(&build).to_path_buf()
}

/// The file a plugin named `name` must have: `libioc_plugin_<name>.so`, `-` as `_`.
pub fn plugin_file_name(name: &str) -> String {
    format!(
        "libioc_plugin_{}{}",
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// A library the workspace build produced, e.g. `libioc_fixture_panicking.so`.
pub fn built_library(file_name: &str) -> PathBuf {
    let path = build_dir().join(file_name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace` before the tests",
        path.display()
    );
    path
}

/// A fixture library of `tests/fixtures/<crate>`, by its library name (`panicking`, `old_sdk`).
pub fn fixture(lib: &str) -> PathBuf {
    built_library(&format!(
        "libioc_fixture_{lib}{}",
        std::env::consts::DLL_SUFFIX
    ))
}

/// A directory for `IOC_PLUGIN_PATH`, removed on drop. Mode 0755 and owned by the user running
/// the tests (root in CI), so ioc's trust check accepts it until a test weakens it on purpose.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl Default for PluginDir {
    fn default() -> Self {
        Self::new()
    }
}

impl PluginDir {
    pub fn new() -> PluginDir {
        let dir = tempfile::tempdir().expect("cannot create a plugin directory");
        set_mode(dir.path(), 0o755);
        PluginDir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies `library` in as plugin `name` (mode 0644) and returns the installed file.
    pub fn install(&self, library: &Path, name: &str) -> PathBuf {
        let target = self.path().join(plugin_file_name(name));
        fs::copy(library, &target).unwrap_or_else(|e| {
            panic!(
                "cannot copy {} to {}: {e}",
                library.display(),
                target.display()
            )
        });
        set_mode(&target, 0o644);
        target
    }
}

/// `chmod MODE PATH`, which must work.
pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Where the example plugin is built: its own target directory under ours, as the README's
/// test command builds it (`--target-dir target/plugin-example`).
pub fn example_target_dir() -> PathBuf {
    target_dir().join("plugin-example")
}

/// The example third-party plugin, `examples/plugin-example`, built like a third party
/// would build it: on its own with cargo, outside ioc's workspace. The README's test command
/// builds it before the tests, which makes this a no-op; run alone, a test builds it here
/// (once per test process).
pub fn example_plugin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let manifest =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugin-example/Cargo.toml");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = Command::new(cargo)
                .arg("build")
                .arg("--manifest-path")
                .arg(&manifest)
                .arg("--target-dir")
                .arg(example_target_dir())
                .output()
                .expect("cannot run cargo to build the example plugin");
            assert!(
                out.status.success(),
                "building examples/plugin-example failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let lib = example_target_dir()
                .join("debug")
                .join(plugin_file_name("example"));
            assert!(lib.is_file(), "cargo built no {}", lib.display());
            lib
        })
        .clone()
}

/// The plugin libraries (`libioc_plugin_*`) a run of `ioc` opened with dlopen, from the
/// dynamic loader's own trace (`LD_DEBUG=files`). The trace goes to files of its own
/// (`LD_DEBUG_OUTPUT`), so the command's stderr stays what ioc printed.
pub fn run_tracing_dlopen(mut command: Command) -> (Output, Vec<PathBuf>) {
    let trace = tempfile::tempdir().expect("cannot create a trace directory");
    let out = command
        .env("LD_DEBUG", "files")
        .env("LD_DEBUG_OUTPUT", trace.path().join("ld"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut opened = Vec::new();
    for entry in fs::read_dir(trace.path())
        .expect("trace directory")
        .flatten()
    {
        let text = fs::read_to_string(entry.path()).unwrap_or_default();
        opened.extend(dlopened(&text));
    }
    opened.sort();
    opened.dedup();
    (out, opened)
}

/// Plugin libraries in a loader trace: `file=/dir/libioc_plugin_x.so [0];  dynamically
/// loaded by ...`.
fn dlopened(trace: &str) -> Vec<PathBuf> {
    trace
        .lines()
        .filter(|l| l.contains("dynamically loaded by"))
        .filter_map(|l| l.split("file=").nth(1)?.split_whitespace().next())
        .map(PathBuf::from)
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libioc_plugin_"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_trace_lines_name_the_library() {
        let trace = "  41:\tfile=libc.so.6 [0];  needed by /x/ioc [0]\n\
                     \x20 41:\tfile=/x/libioc_plugin_vnet.so [0];  dynamically loaded by /x/ioc [0]\n\
                     \x20 41:\tfile=/x/libfoo.so [0];  dynamically loaded by /x/ioc [0]\n";
        assert_eq!(
            dlopened(trace),
            vec![PathBuf::from("/x/libioc_plugin_vnet.so")]
        );
    }
}
