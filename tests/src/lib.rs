//! Test support: find the built `ioc` binary and run it against a throw-away state root.
//!
//! The binary is not a dependency of this crate (Cargo cannot depend on another package's
//! binary), so the test command builds the workspace first: `cargo build --workspace`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod frame;
// Network namespaces are Linux's; the rest of the support builds on FreeBSD too.
#[cfg(target_os = "linux")]
pub mod netns;
pub mod plans;
pub mod plugins;
pub mod probes;
#[cfg(target_os = "linux")]
pub mod roots;
pub mod skip;
pub mod state;

/// Returns from the calling test unless it runs as root, which creating namespaces, links and
/// mounts needs: outside CI it skips, saying why; under `CI=true` it fails (see [`skip`]).
#[macro_export]
macro_rules! require_root {
    () => {
        if $crate::skip::skip_unless_ci($crate::skip::missing_root(
            "network namespaces, interfaces and mounts",
        )) {
            return;
        }
    };
}

/// The `ioc` binary next to the running test: `<target>/<profile>/ioc`, the test executable
/// being `<target>/<profile>/deps/<test>`. Falls back to `$CARGO_TARGET_DIR/debug/ioc`.
pub fn ioc_bin() -> PathBuf {
    let beside_tests = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("ioc")));
    let from_env = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| PathBuf::from(dir).join("debug").join("ioc"));
    beside_tests
        .into_iter()
        .chain(from_env)
        .find(|p| p.is_file())
        .expect("the ioc binary is not built: run `cargo build --workspace` first")
}

/// A temporary config root and runtime dir, removed on drop, and a way to run `ioc` on them.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("cannot create a temporary directory"),
        }
    }

    /// The config root (`IOC_ROOT`).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The runtime dir (`IOC_RUN_DIR`), so no test looks at the host's `/run/ioc`.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// A jail's `config.ron`.
    pub fn config_file(&self, jail: &str) -> PathBuf {
        self.root().join("jails").join(jail).join("config.ron")
    }

    /// `ioc` with the sandbox's environment, ready for more arguments.
    pub fn command(&self) -> Command {
        let mut command = Command::new(ioc_bin());
        self.set_env(&mut command);
        command
    }

    /// Points a command that runs `ioc` (perhaps behind a wrapper such as `nsenter`) at the
    /// sandbox's root and runtime dir.
    pub fn set_env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command
            .env("IOC_ROOT", self.root())
            .env("IOC_RUN_DIR", self.run_dir())
            .env_remove("IOC_LOG")
    }

    /// Runs `ioc ARGS...` to completion.
    pub fn ioc<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command()
            .args(args)
            .output()
            .expect("cannot run the ioc binary")
    }

    /// Runs `ioc ARGS...`, asserts success and returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let output = self.ioc(&args);
        assert!(
            output.status.success(),
            "ioc {shown:?} failed ({:?}): {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("ioc printed non-UTF-8")
    }

    /// Pretends a jail runs with `jid`, the way the runtime dir records it: its `jid`, a
    /// journal that says the start completed, the JID claim, and on Linux its UTS pin, which
    /// must be a mount point for ioc to count the jail as still there. As root the pin is
    /// bind-mounted onto itself (the only change on the system; drop removes it) and the jail
    /// looks running; without root it looks vanished. Returns whether it looks running.
    pub fn mark_running(&self, jail: &str, jid: u32) -> bool {
        let dir = self.run_dir().join("jails").join(jail);
        std::fs::create_dir_all(&dir).expect("cannot create the runtime dir");
        std::fs::write(dir.join("jid"), format!("{jid}\n")).expect("cannot write the jid");
        std::fs::write(dir.join("journal"), "\"started\"\n").expect("cannot write the journal");
        let claims = self.run_dir().join("jids");
        std::fs::create_dir_all(&claims).expect("cannot create the JID claims");
        std::fs::write(claims.join(jid.to_string()), jail).expect("cannot claim the JID");
        pin_fake_jail(&dir.join("ns"))
    }
}

/// Makes `ns/uts` a mount point (a bind mount of the file onto itself), as root on Linux.
#[cfg(target_os = "linux")]
fn pin_fake_jail(ns: &Path) -> bool {
    use nix::mount::{mount, MsFlags};
    std::fs::create_dir_all(ns).expect("cannot create the pin dir");
    let pin = ns.join("uts");
    std::fs::write(&pin, b"").expect("cannot create the pin");
    nix::unistd::geteuid().is_root()
        && mount(
            Some(&pin),
            &pin,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn pin_fake_jail(_ns: &Path) -> bool {
    true
}

/// Whatever is still mounted in the sandbox (a fake pin, or what a failed test left) is
/// detached, so the directory can go and nothing outlives the test.
impl Drop for Sandbox {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        for mount in netns::mounts_under(self.dir.path()) {
            let _ = nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// Reads a file, or `None` when it does not exist.
pub fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}
