//! The Debian package (issue 17) and the systemd unit it ships (issue 15).
//!
//! The package test runs `dist/deb/build` on the binaries the test command built already
//! (`--no-build`, the same profile as this test, `--fast` compression), so it costs seconds, not
//! a release build. It checks the package's file list, owners and modes with `dpkg-deb -c`, its
//! control data and maintainer scripts, then extracts it (`dpkg -x`) into a throw-away root and
//! has the extracted `ioc` list the extracted plugins: as root, which makes ioc's plugin trust
//! check (root-owned, not writable by group or others) part of the test.
//!
//! Needs root, cargo-deb (`cargo install cargo-deb --locked`) and dpkg; the unit test needs
//! `systemd-analyze` (Debian package `systemd`). Outside CI a missing one skips the test.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ioc_tests::plugins::{build_dir, plugin_file_name, target_dir, SHIPPED};
use ioc_tests::skip::{missing_root, skip_unless_ci};
use ioc_tests::Sandbox;
use serde_json::Value;

/// Where the package puts the binary, and so what the unit's `Exec*=` lines must name.
const IOC: &str = "/usr/sbin/ioc";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `command`, asserts success and returns stdout.
fn ok(command: &mut Command) -> String {
    let out: Output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({:?}): {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `Some("needs PROGRAM (...)")` unless `program args` runs and succeeds.
fn missing_tool(program: &str, args: &[&str], install: &str) -> Option<String> {
    let runs = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    (!runs).then(|| format!("needs `{program} {}` ({install})", args.join(" ")))
}

/// The profile the test binaries (and so `ioc` and the plugins) were built with.
fn profile() -> String {
    match build_dir().file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".into(),
        Some(other) => other.into(),
    }
}

/// `dpkg-deb -c`: each path (`./usr/sbin/ioc`, directories end in `/`) with its mode string
/// (`-rwxr-xr-x`) and owner (`root/root` or `0/0`).
fn contents(deb: &Path) -> BTreeMap<String, (String, String)> {
    let listing = ok(Command::new("dpkg-deb").arg("-c").arg(deb));
    listing
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(
                fields.len() == 6,
                "a symlink or odd name in the package: {line}"
            );
            (fields[5].into(), (fields[0].into(), fields[1].into()))
        })
        .collect()
}

/// Every regular file the package must hold, with its mode: nothing more, nothing less.
fn expected_files() -> BTreeMap<String, &'static str> {
    let mut files: BTreeMap<String, &str> = [
        ("./usr/sbin/ioc", "-rwxr-xr-x"),
        ("./usr/lib/cni/ioc-secure", "-rwxr-xr-x"),
        ("./usr/lib/systemd/system/ioc.service", "-rw-r--r--"),
        ("./usr/share/bash-completion/completions/ioc", "-rw-r--r--"),
        ("./usr/share/zsh/vendor-completions/_ioc", "-rw-r--r--"),
        (
            "./usr/share/fish/vendor_completions.d/ioc.fish",
            "-rw-r--r--",
        ),
        ("./usr/share/doc/ioc/README.md", "-rw-r--r--"),
        ("./usr/share/doc/ioc/copyright", "-rw-r--r--"),
    ]
    .into_iter()
    .map(|(path, mode)| (path.to_string(), mode))
    .collect();
    for name in SHIPPED {
        let file = format!("./usr/lib/ioc/plugins/{}", plugin_file_name(name));
        files.insert(file, "-rw-r--r--");
    }
    // Every page `ioc man` writes, gzipped, in its section's directory.
    let pages = tempfile::tempdir().unwrap();
    ok(Command::new(build_dir().join("ioc"))
        .arg("man")
        .arg(pages.path()));
    for page in fs::read_dir(pages.path()).unwrap() {
        let name = page.unwrap().file_name().into_string().unwrap();
        let section = name.rsplit('.').next().unwrap();
        files.insert(
            format!("./usr/share/man/man{section}/{name}.gz"),
            "-rw-r--r--",
        );
    }
    files
}

/// Builds the package into `out` and returns its path.
fn build_package(out: &Path) -> PathBuf {
    let stdout = ok(Command::new(workspace().join("dist/deb/build"))
        .args(["--profile", &profile(), "--no-build", "--output"])
        .arg(out)
        .args(["--", "--fast"])
        .env("CARGO_TARGET_DIR", target_dir()));
    let deb = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    assert!(
        deb.starts_with(out) && deb.is_file(),
        "no package: {stdout}"
    );
    deb
}

fn check_file_list(deb: &Path) {
    let listed = contents(deb);
    for (path, (mode, owner)) in &listed {
        assert!(
            owner == "root/root" || owner == "0/0",
            "{path} is owned by {owner}"
        );
        if path.ends_with('/') {
            assert_eq!(mode, "drwxr-xr-x", "{path}");
        } else {
            // No setuid/setgid bit, nothing group- or world-writable.
            assert!(
                !mode.contains(['s', 'S']) && &mode[5..6] != "w" && &mode[8..9] != "w",
                "{path} has mode {mode}"
            );
        }
    }
    let files: BTreeMap<&str, &str> = listed
        .iter()
        .filter(|(path, _)| !path.ends_with('/'))
        .map(|(path, (mode, _))| (path.as_str(), mode.as_str()))
        .collect();
    let expected = expected_files();
    let expected: BTreeMap<&str, &str> = expected.iter().map(|(p, m)| (p.as_str(), *m)).collect();
    assert_eq!(files, expected, "the package's files and modes");
}

fn check_control(deb: &Path, scratch: &Path) {
    let fields = ok(Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .args(["Package", "Depends", "Section"]));
    assert!(fields.contains("Package: ioc\n"), "{fields}");
    assert!(fields.contains("Section: admin\n"), "{fields}");
    let depends = fields
        .lines()
        .find_map(|l| l.strip_prefix("Depends: "))
        .unwrap_or_else(|| panic!("no Depends: {fields}"));
    let depends: Vec<&str> = depends.split(", ").collect();
    for needed in ["nftables", "iproute2"] {
        assert!(
            depends.iter().any(|d| d.split(' ').next() == Some(needed)),
            "{needed} is not a dependency: {depends:?}"
        );
    }

    let control = scratch.join("control");
    ok(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&control));
    // Nothing under /etc: no conffiles to list, none listed.
    assert!(!control.join("conffiles").exists(), "unexpected conffiles");
    let script = |name: &str| fs::read_to_string(control.join(name)).unwrap_or_default();
    // Enabled and started on install; never stopped or restarted on upgrade (stopping the unit
    // stops every jail), only on removal.
    let postinst = script("postinst");
    assert!(
        postinst.contains("deb-systemd-helper enable ioc.service"),
        "{postinst}"
    );
    assert!(
        postinst.contains("deb-systemd-invoke start ioc.service") && !postinst.contains("restart"),
        "{postinst}"
    );
    let prerm = script("prerm");
    assert!(
        prerm.contains("deb-systemd-invoke stop ioc.service")
            && prerm.contains("[ \"$1\" = remove ]")
            && !prerm.contains("upgrade"),
        "{prerm}"
    );
}

/// The extracted tree: its `ioc` finds every plugin in `usr/lib/ioc/plugins`, and loads them
/// as root (the trust check passes with the package's owners and modes).
fn check_installed_tree(deb: &Path, scratch: &Path) {
    let root = scratch.join("root");
    ok(Command::new("dpkg").arg("-x").arg(deb).arg(&root));
    let sandbox = Sandbox::new();
    let mut list = Command::new(root.join("usr/sbin/ioc"));
    sandbox.set_env(&mut list).env_remove("IOC_PLUGIN_PATH");
    let out = ok(list.args(["plugins", "list", "--output-format", "json"]));
    let rows: Vec<Value> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("plugins list JSON ({e}): {out}"));
    for name in SHIPPED {
        let row = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not found: {out}"));
        let file = root
            .join("usr/lib/ioc/plugins")
            .join(plugin_file_name(name));
        assert_eq!(row["file"], file.to_str().unwrap(), "{row}");
        assert_eq!(row["status"], "ok", "{row}");
    }
    assert_eq!(rows.len(), SHIPPED.len(), "{out}");

    let unit = root.join("usr/lib/systemd/system/ioc.service");
    let packaged = fs::read_to_string(&unit).unwrap();
    let source = fs::read_to_string(workspace().join("dist/systemd/ioc.service")).unwrap();
    assert_eq!(
        packaged, source,
        "the packaged unit is dist/systemd/ioc.service"
    );
    for program in exec_programs(&packaged) {
        assert!(
            root.join(program.trim_start_matches('/')).is_file(),
            "the unit runs {program}, which the package does not have"
        );
    }
}

/// The programs the unit's `Exec*=` lines run.
fn exec_programs(unit: &str) -> Vec<&str> {
    unit.lines()
        .filter(|l| l.starts_with("Exec"))
        .filter_map(|l| l.split_once('=')?.1.split_whitespace().next())
        .collect()
}

#[test]
fn debian_package_holds_ioc_its_plugins_and_docs_owned_by_root() {
    let missing = missing_root("the extracted package must be root-owned for ioc's trust check")
        .or_else(|| missing_tool("cargo", &["deb", "--version"], "cargo install cargo-deb"))
        .or_else(|| missing_tool("dpkg-deb", &["--version"], "Debian package dpkg"));
    if skip_unless_ci(missing) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let deb = build_package(&scratch.path().join("out"));
    check_file_list(&deb);
    check_control(&deb, scratch.path());
    check_installed_tree(&deb, scratch.path());
}

/// `systemd-analyze verify` on dist/systemd/ioc.service. verify insists that the programs
/// exist, so a copy runs the built `ioc` instead of the package's `/usr/sbin/ioc` (the package
/// test checks that the package has that path); it also looks up the `man:` pages of
/// `Documentation=` with `man`, here among the pages the built `ioc man` writes. Anything
/// verify prints fails the test, warnings such as an unknown key included.
#[test]
fn systemd_unit_verifies() {
    let missing = missing_tool("systemd-analyze", &["--version"], "Debian package systemd")
        .or_else(|| missing_tool("man", &["--version"], "Debian package man-db"));
    if skip_unless_ci(missing) {
        return;
    }
    let unit = fs::read_to_string(workspace().join("dist/systemd/ioc.service")).unwrap();
    let programs = exec_programs(&unit);
    assert!(!programs.is_empty(), "the unit runs nothing");
    assert!(programs.iter().all(|p| *p == IOC), "{programs:?}");

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ioc.service");
    let built = build_dir().join("ioc");
    fs::write(&copy, unit.replace(IOC, built.to_str().unwrap())).unwrap();
    // The unit names section 8 pages only.
    let man = dir.path().join("man");
    ok(Command::new(&built).arg("man").arg(man.join("man8")));
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .env("MANPATH", &man)
        .output()
        .expect("cannot run systemd-analyze");
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify ({:?}): {said}",
        out.status.code()
    );
}
