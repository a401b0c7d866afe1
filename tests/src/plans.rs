//! Test support for dry runs: reading `--dry-run` output, running `ioc` as an unprivileged
//! user (a dry run must need no root), and rendering what a real run journaled the way a dry
//! run renders its plan, so the two can be compared line by line.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use ioc_core::journal::Journal;
use ioc_core::render::RenderContext;
use ioc_core::step::Step;
use ioc_sdk::Platform;

use crate::ioc_bin;
use crate::plugins::{build_dir, plugin_file_name, SHIPPED};

/// The user unprivileged runs use: `nobody`.
pub const NOBODY: u32 = 65534;

/// The seed document's VNET commands as argument lists, for whichever way a test runs `ioc`:
/// VNET on by default, jail-a and jail-b on `bridge0`.
pub fn seed_vnet_commands() -> Vec<Vec<String>> {
    let mut commands = vec![
        vec!["set", "vnet=on", "defaults"],
        vec!["create", "jail-a"],
        vec!["create", "jail-b"],
    ];
    let set = |jail, address| {
        vec![
            "set",
            "vnet=on",
            "interfaces=vnet0:bridge0",
            address,
            "defaultrouter=10.23.42.1",
            jail,
        ]
    };
    commands.push(set("jail-a", "ip4_addr=vnet0|10.23.42.2/24"));
    commands.push(set("jail-b", "ip4_addr=vnet0|10.23.42.3/24"));
    commands
        .into_iter()
        .map(|c| c.into_iter().map(str::to_string).collect())
        .collect()
}

/// The seed document's shared-IP commands: `non-vnet-jail` with an alias on `em0`.
pub fn seed_shared_ip_commands() -> Vec<Vec<String>> {
    [
        vec!["create", "non-vnet-jail"],
        vec![
            "set",
            "vnet=off",
            "ip4_addr=em0|10.1.1.10/24",
            "non-vnet-jail",
        ],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_string).collect())
    .collect()
}

/// The command lines of a text plan (`# jail (JID n, platform)` headers dropped).
pub fn plan_commands(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("# "))
        .map(str::to_string)
        .collect()
}

/// The `# jail (JID n, platform)` headers of a text plan.
pub fn plan_headers(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("# "))
        .map(str::to_string)
        .collect()
}

/// Which part of a journal to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The steps of the start (before the `started` record).
    Start,
    /// The steps of the stop (after the `stopping` record).
    Stop,
}

/// Renders the steps a real run journaled (`text` is the journal's content) with a fresh
/// [`RenderContext`], exactly as `ioc start|stop --dry-run` renders a plan's steps; returns
/// one shell line per command.
pub fn render_journal(text: &str, run_dir: &Path, platform: Platform, part: Part) -> Vec<String> {
    let file = tempfile::NamedTempFile::new().expect("cannot create a temporary file");
    fs::write(file.path(), text).expect("cannot write the journal copy");
    let journal = Journal::read(file.path())
        .expect("cannot read the journal copy")
        .expect("the journal copy exists");
    let params = journal
        .snapshot()
        .expect("the journal has no begin record")
        .params
        .clone();
    let steps: Vec<&Step> = match part {
        Part::Start => journal.start_steps().collect(),
        Part::Stop => journal.stop_steps().collect(),
    };
    let mut ctx = RenderContext::new(platform, run_dir);
    steps
        .into_iter()
        .flat_map(|step| ctx.render(&params, step))
        .map(|command| command.shell_line())
        .collect()
}

/// `ioc` as user `nobody` (uid and gid 65534, no supplementary groups), through `setpriv`.
///
/// The build directory is used in place when `nobody` can read it; otherwise (a target dir
/// under a private home, say) `ioc` and the shipped plugins are copied to a temporary
/// directory first, since ioc loads plugins from its own directory.
pub struct Unprivileged {
    bin: PathBuf,
    _copy: Option<tempfile::TempDir>,
}

impl Default for Unprivileged {
    fn default() -> Self {
        Self::new()
    }
}

impl Unprivileged {
    pub fn new() -> Unprivileged {
        let plugins: Vec<PathBuf> = SHIPPED
            .iter()
            .map(|name| build_dir().join(plugin_file_name(name)))
            .collect();
        let in_place = Unprivileged {
            bin: ioc_bin(),
            _copy: None,
        };
        if in_place.can_read(&plugins) {
            return in_place;
        }
        let copy = tempfile::tempdir().expect("cannot create a directory for the copy");
        fs::set_permissions(copy.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod the copy's directory");
        for file in plugins.iter().chain(std::iter::once(&ioc_bin())) {
            let target = copy.path().join(file.file_name().expect("a file name"));
            fs::copy(file, &target)
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", file.display()));
            fs::set_permissions(&target, fs::Permissions::from_mode(0o755))
                .expect("chmod the copy");
        }
        Unprivileged {
            bin: copy.path().join("ioc"),
            _copy: Some(copy),
        }
    }

    /// Whether `nobody` can run `ioc` and read `files`.
    fn can_read(&self, files: &[PathBuf]) -> bool {
        let mut check = self.wrap(Command::new("setpriv"));
        check
            .args([
                "/bin/sh",
                "-c",
                "test -x \"$0\" && for f; do test -r \"$f\" || exit 1; done",
            ])
            .arg(&self.bin)
            .args(files);
        check.output().is_ok_and(|o| o.status.success())
    }

    /// Adds setpriv's arguments to a `setpriv` command.
    fn wrap(&self, mut setpriv: Command) -> Command {
        setpriv.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
        ]);
        setpriv
    }

    /// `ioc` as `nobody`, ready for environment and arguments.
    pub fn command(&self) -> Command {
        let mut command = self.wrap(Command::new("setpriv"));
        command.arg(&self.bin).env_remove("IOC_LOG");
        command
    }

    /// `ioc` as `nobody` inside the network namespace `ns` (a name under `/run/netns`).
    pub fn command_in_netns(&self, ns: &str) -> Command {
        let mut command = Command::new("nsenter");
        command.arg(format!("--net=/run/netns/{ns}")).arg("setpriv");
        let mut command = self.wrap(command);
        command.arg(&self.bin).env_remove("IOC_LOG");
        command
    }
}

/// Hands a directory tree to `nobody` (`chown -R 65534:65534`), so an unprivileged ioc can
/// read and (where it wants) write its state there; `path`'s parents must be traversable.
pub fn give_to_nobody(path: &Path) {
    let out = Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}")])
        .arg(path)
        .output()
        .expect("cannot run chown");
    assert!(
        out.status.success(),
        "chown -R {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
