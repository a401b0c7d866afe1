//! Run-time plugin loading end to end (issue 3): the real `ioc` binary loading the workspace's
//! cdylibs, the test fixtures and the example third-party plugin.
//!
//! Tests that start jails or need ioc's root-only trust check run as root in sandbox network
//! namespaces ([`HostNs`]); without root they say so and skip. The others run as anyone.
// The sandbox harness is Linux-only (namespaces); the FreeBSD build skips these tests.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ioc_sdk::{Platform, SDK_VERSION};
use ioc_tests::netns::{seed_host, HostNs};
use ioc_tests::plans::seed_vnet_commands;
use ioc_tests::plugins::{
    build_dir, example_plugin, fixture, plugin_file_name, run_tracing_dlopen, set_mode, PluginDir,
    SHIPPED,
};
use ioc_tests::state::Tree;
use ioc_tests::{require_root, Sandbox};
use serde_json::Value;

/// The version every plugin crate of the workspace has (the workspace's version).
const WORKSPACE_VERSION: &str = env!("CARGO_PKG_VERSION");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns stdout.
fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Asserts a clean failure: exit code 1 (not a signal or an abort) and no panic of ioc's own.
/// Returns stderr.
fn fails(out: &Output, what: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} should exit with 1; stdout: {} stderr: {err}",
        text(&out.stdout)
    );
    assert!(!err.contains("thread 'main' panicked"), "{what}: {err}");
    err
}

/// Asserts that an error is one line (no layout dump, no backtrace) and returns it.
fn one_line(err: &str) -> &str {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    lines[0]
}

/// `ioc` on the sandbox's state with `plugins` as the only `IOC_PLUGIN_PATH`, so a developer's
/// own setting cannot change what the tests see.
fn ioc(sandbox: &Sandbox, plugins: &Path) -> Command {
    let mut command = sandbox.command();
    command.env("IOC_PLUGIN_PATH", plugins);
    command
}

fn run<const N: usize>(mut command: Command, args: [&str; N]) -> Output {
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ioc: {e}"))
}

/// `ioc ARGS...` inside a sandbox namespace with `plugins` as `IOC_PLUGIN_PATH`.
fn in_ns<const N: usize>(host: &HostNs, plugins: &Path, args: [&str; N]) -> Output {
    let path = plugins.to_str().expect("a UTF-8 temporary path");
    host.ioc_env(args, &[("IOC_PLUGIN_PATH", path)])
}

/// The `ioc plugins list --output-format json` row of `name`.
fn plugin_row(rows: &[Value], name: &str) -> Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {rows:?}"))
        .clone()
}

fn list_json(command: Command) -> Vec<Value> {
    let out = ok(
        run(command, ["plugins", "list", "--output-format", "json"]),
        "plugins list",
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("plugins list JSON ({e}): {out}"))
}

/// What a shipped plugin is: a network mode or a firewall backend.
fn kind_of(name: &str) -> &'static str {
    if ["shared-ip", "vnet", "secure-vnet"].contains(&name) {
        "network"
    } else {
        "firewall"
    }
}

/// The backend the `firewall` setting selects when nobody set it.
fn default_firewall() -> &'static str {
    match Platform::current() {
        Platform::FreeBsd => "ipfw",
        Platform::Linux => "nftables",
    }
}

/// A fresh build lists its six plugins, every one loaded (in one process, each library on its
/// own: a cached root module would make every file report the first plugin's name and be
/// refused), with kind, versions, file, enabled and the active firewall.
#[test]
fn a_fresh_build_lists_the_six_shipped_plugins_all_loaded_in_one_process() {
    let sandbox = Sandbox::new();
    let nothing = PluginDir::new();
    let mut command = ioc(&sandbox, nothing.path());
    command.args(["plugins", "list", "--output-format", "json"]);
    let (out, opened) = run_tracing_dlopen(command);
    let rows: Vec<Value> = serde_json::from_str(&ok(out, "plugins list")).expect("JSON");

    let mut names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    names.sort();
    let mut shipped = SHIPPED.to_vec();
    shipped.sort();
    assert_eq!(names, shipped, "exactly the shipped plugins");
    let files: Vec<PathBuf> = SHIPPED
        .iter()
        .map(|n| build_dir().join(plugin_file_name(n)))
        .collect();
    for (name, file) in SHIPPED.iter().zip(&files) {
        let row = plugin_row(&rows, name);
        assert_eq!(row["status"], "ok", "{row}");
        assert_eq!(row["kind"], kind_of(name), "{row}");
        assert_eq!(row["version"], WORKSPACE_VERSION, "{row}");
        assert_eq!(row["sdk_version"], SDK_VERSION, "{row}");
        assert_eq!(row["file"], file.to_str().expect("UTF-8 path"), "{row}");
        assert_eq!(row["enabled"], true, "{row}");
        assert_eq!(row["active"], *name == default_firewall(), "{row}");
    }
    let mut opened = opened;
    let mut expected = files.clone();
    opened.sort();
    expected.sort();
    assert_eq!(opened, expected, "one process opened all six libraries");

    // The table: a header and one line per plugin, the active firewall marked.
    let table = ok(
        run(ioc(&sandbox, nothing.path()), ["plugins", "list"]),
        "list",
    );
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NAME",
            "KIND",
            "VERSION",
            "SDK_VERSION",
            "FILE",
            "ENABLED",
            "ACTIVE",
            "STATUS"
        ]
    );
    assert_eq!(lines.len(), 1 + SHIPPED.len(), "{table}");
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let name = cells[0];
        let file = build_dir().join(plugin_file_name(name));
        let active = if name == default_firewall() {
            "yes"
        } else {
            "-"
        };
        let expected = [
            kind_of(name),
            WORKSPACE_VERSION,
            SDK_VERSION,
            file.to_str().expect("UTF-8 path"),
            "yes",
            active,
            "ok",
        ];
        assert_eq!(cells[1..], expected, "{line}");
    }

    // The active backend follows the host-wide `firewall` setting.
    ok(
        run(
            ioc(&sandbox, nothing.path()),
            ["set", "firewall=pf", "defaults"],
        ),
        "set",
    );
    let rows = list_json(ioc(&sandbox, nothing.path()));
    for name in SHIPPED {
        assert_eq!(plugin_row(&rows, name)["active"], name == "pf", "{name}");
    }
}

/// A library built against another SDK is refused with one line naming the file and both
/// versions, by `check` (exit 1), by `list` (the row, the others unharmed) and by a start.
#[test]
fn a_plugin_built_against_another_sdk_is_refused_in_one_line() {
    let sandbox = Sandbox::new();
    let plugins = PluginDir::new();
    let file = plugins.install(&fixture("old_sdk"), "oldsdk");
    let shown = file.display().to_string();
    let names_everything = |line: &str| {
        assert!(
            line.contains(&shown) && line.contains("0.0.1") && line.contains(SDK_VERSION),
            "the line must name {shown}, 0.0.1 and {SDK_VERSION}: {line}"
        );
    };

    let out = run(
        ioc(&sandbox, plugins.path()),
        ["plugins", "check", shown.as_str()],
    );
    let err = fails(&out, "plugins check");
    names_everything(one_line(&err));
    assert_eq!(text(&out.stdout), "", "nothing on stdout");

    ok(
        run(
            ioc(&sandbox, plugins.path()),
            ["plugins", "enable", "oldsdk"],
        ),
        "enable",
    );
    let rows = list_json(ioc(&sandbox, plugins.path()));
    let row = plugin_row(&rows, "oldsdk");
    let status = row["status"].as_str().expect("a status");
    assert!(status.starts_with("refused: "), "{row}");
    names_everything(one_line(status));
    assert_eq!(row["enabled"], true);
    assert_eq!(row["kind"], Value::Null);
    for name in SHIPPED {
        assert_eq!(plugin_row(&rows, name)["status"], "ok", "{name}");
    }
    let table = ok(
        run(ioc(&sandbox, plugins.path()), ["plugins", "list"]),
        "list",
    );
    assert_eq!(table.lines().count(), 1 + SHIPPED.len() + 1, "{table}");
    names_everything(
        table
            .lines()
            .find(|l| l.starts_with("oldsdk"))
            .expect("an oldsdk row"),
    );

    // A jail that needs it fails before anything else, with the same line.
    ok(
        run(
            ioc(&sandbox, plugins.path()),
            ["create", "old", "vnet=on", "network_plugin=oldsdk"],
        ),
        "create",
    );
    let out = run(ioc(&sandbox, plugins.path()), ["start", "--dry-run", "old"]);
    names_everything(one_line(&fails(&out, "start --dry-run")));
}

/// One way a plugin file can be unsafe, and what ioc says about it.
struct Unsafe {
    what: &'static str,
    weaken: fn(&PluginDir, &Path),
    reason: &'static str,
}

const UNSAFE: [Unsafe; 3] = [
    Unsafe {
        what: "a world-writable file",
        weaken: |_, file| set_mode(file, 0o666),
        reason: "is writable by others (mode 666)",
    },
    Unsafe {
        what: "a group-writable directory",
        weaken: |dir, _| set_mode(dir.path(), 0o775),
        reason: "writable by group (mode 775)",
    },
    Unsafe {
        what: "a file owned by another user",
        weaken: |_, file| {
            nix::unistd::chown(file, Some(nix::unistd::Uid::from_raw(65534)), None)
                .expect("chown the plugin")
        },
        reason: "is owned by uid 65534, not root",
    },
];

/// As root, a plugin someone else could have written is refused with a clear message and
/// never opened: not by `check`, not by a start, which fails before any change. The library
/// is the panicking fixture, so a load that slipped through would show.
#[test]
fn unsafe_plugin_files_are_refused_and_never_loaded() {
    require_root!();
    let host = HostNs::new();
    host.ok(["create", "risky", "vnet=on", "network_plugin=panicking"]);
    for case in UNSAFE {
        let plugins = PluginDir::new();
        let file = plugins.install(&fixture("panicking"), "panicking");
        (case.weaken)(&plugins, &file);
        let shown = file.display().to_string();
        let is_clear = |line: &str| {
            assert!(
                line.contains(&format!("refusing plugin {shown}")) && line.contains(case.reason),
                "{}: unclear refusal: {line}",
                case.what
            );
        };

        let mut check = host.ioc_command();
        check
            .env("IOC_PLUGIN_PATH", plugins.path())
            .args(["plugins", "check", shown.as_str()]);
        let (out, opened) = run_tracing_dlopen(check);
        is_clear(one_line(&fails(&out, "plugins check")));
        assert_eq!(opened, Vec::<PathBuf>::new(), "{}: opened", case.what);

        ok(
            in_ns(&host, plugins.path(), ["plugins", "enable", "panicking"]),
            "enable",
        );
        let config = Tree::of(&host.sandbox().root());
        let mut start = host.ioc_command();
        start
            .env("IOC_PLUGIN_PATH", plugins.path())
            .args(["start", "risky"]);
        let (out, opened) = run_tracing_dlopen(start);
        let err = fails(&out, "start");
        is_clear(&err);
        assert!(
            !err.contains("panicked"),
            "{}: it was loaded: {err}",
            case.what
        );
        assert_eq!(opened, Vec::<PathBuf>::new(), "{}: opened", case.what);
        config.assert_unchanged(&host.sandbox().root(), "the config");
        host.assert_clean(&["lo"]);
    }
}

/// A plugin that panics in `setup` fails the start with an error naming the panic, ioc exits
/// with 1 rather than aborting, and the rollback leaves nothing behind.
#[test]
fn a_panicking_plugin_fails_the_start_cleanly_and_is_rolled_back() {
    require_root!();
    let host = HostNs::new();
    let plugins = PluginDir::new();
    plugins.install(&fixture("panicking"), "panicking");
    ok(
        in_ns(&host, plugins.path(), ["plugins", "enable", "panicking"]),
        "enable",
    );
    host.ok(["create", "pj", "vnet=on", "network_plugin=panicking"]);

    let out = in_ns(&host, plugins.path(), ["start", "pj"]);
    let err = fails(&out, "start");
    assert!(
        err.contains("plugin panicked in setup")
            && err.contains("deliberate panic while setting up pj"),
        "the error must say the plugin panicked in setup, and why: {err}"
    );
    assert!(!host.running("pj"));
    host.assert_clean(&["lo"]);
}

/// A plugin's `tracing` events reach ioc's log on stderr at ioc's level: the example plugin's
/// info line shows with `-v` and not without. A dry run runs the plugin's `setup` too, so this
/// needs no root (the real start is in the example plugin's test).
#[test]
fn plugin_log_lines_appear_in_ioc_output() {
    let sandbox = Sandbox::new();
    let plugins = PluginDir::new();
    plugins.install(&example_plugin(), "example");
    for args in [
        vec!["plugins", "enable", "example"],
        vec![
            "create",
            "quiet",
            "vnet=on",
            "network_plugin=example",
            "user.example.greeting=Ahoy",
        ],
    ] {
        let mut command = ioc(&sandbox, plugins.path());
        command.args(args);
        ok(command.output().expect("run ioc"), "setup");
    }
    let line = "Ahoy from the example plugin";

    let out = run(
        ioc(&sandbox, plugins.path()),
        ["-v", "start", "--dry-run", "--platform", "linux", "quiet"],
    );
    let err = text(&out.stderr);
    ok(out, "start --dry-run -v");
    let logged: Vec<&str> = err.lines().filter(|l| l.contains(line)).collect();
    assert_eq!(logged.len(), 1, "one plugin log line on stderr: {err}");
    assert!(
        logged[0].contains("INFO") && logged[0].contains("jail=quiet"),
        "an info event with its fields: {}",
        logged[0]
    );
    assert!(
        !logged[0].contains('\x1b'),
        "no terminal colours when stderr is not a terminal: {:?}",
        logged[0]
    );

    let out = run(
        ioc(&sandbox, plugins.path()),
        ["start", "--dry-run", "--platform", "linux", "quiet"],
    );
    let err = text(&out.stderr);
    ok(out, "start --dry-run");
    assert!(
        !err.contains(line),
        "info is below the default level: {err}"
    );
}

/// A disabled plugin is never loaded, and starting a jail that needs it fails before any
/// change with the command that enables it; enabled again, the jail starts.
#[test]
fn a_disabled_plugin_is_never_loaded_and_names_the_command_that_enables_it() {
    require_root!();
    let host = seed_host();
    for args in seed_vnet_commands() {
        host.ok(args);
    }
    let nothing = PluginDir::new();
    ok(
        in_ns(&host, nothing.path(), ["plugins", "disable", "vnet"]),
        "disable",
    );
    let rows = list_json({
        let mut c = host.ioc_command();
        c.env("IOC_PLUGIN_PATH", nothing.path());
        c
    });
    let vnet = plugin_row(&rows, "vnet");
    assert_eq!(vnet["enabled"], false, "{vnet}");
    assert_eq!(vnet["status"], "disabled", "{vnet}");
    assert_eq!(
        vnet["kind"],
        Value::Null,
        "a disabled plugin is not opened: {vnet}"
    );

    let vnet_file = build_dir().join(plugin_file_name("vnet"));
    let config = Tree::of(&host.sandbox().root());
    let runtime = Tree::of(&host.sandbox().run_dir());
    for args in [
        vec!["start", "jail-a"],
        vec!["start", "--dry-run", "jail-a"],
    ] {
        let mut start = host.ioc_command();
        start.env("IOC_PLUGIN_PATH", nothing.path()).args(&args);
        let (out, opened) = run_tracing_dlopen(start);
        let err = fails(&out, &args.join(" "));
        assert!(
            err.contains("plugin 'vnet' is disabled") && err.contains("`ioc plugins enable vnet`"),
            "{args:?}: {err}"
        );
        assert!(
            !opened.contains(&vnet_file),
            "{args:?} opened vnet: {opened:?}"
        );
    }
    config.assert_unchanged(&host.sandbox().root(), "the config");
    runtime.assert_unchanged(&host.sandbox().run_dir(), "the runtime dir");
    host.assert_clean(&["lo", "bridge0"]);

    ok(
        in_ns(&host, nothing.path(), ["plugins", "enable", "vnet"]),
        "enable",
    );
    ok(in_ns(&host, nothing.path(), ["start", "jail-a"]), "start");
    ok(in_ns(&host, nothing.path(), ["stop", "jail-a"]), "stop");
    host.assert_clean(&["lo", "bridge0"]);
}

/// `ioc list` opens no plugin library: with an enabled plugin that would be refused and a file
/// that is no library at all on the search path, it succeeds silently, and the loader's trace
/// shows no plugin opened, while `ioc plugins list` in the same setting opens them.
#[test]
fn ioc_list_loads_no_plugin() {
    let sandbox = Sandbox::new();
    let plugins = PluginDir::new();
    plugins.install(&fixture("old_sdk"), "oldsdk");
    let junk = plugins.path().join(plugin_file_name("junk"));
    std::fs::write(&junk, b"not a shared library").expect("write junk");
    for args in [
        vec!["plugins", "enable", "oldsdk"],
        vec!["plugins", "enable", "junk"],
        vec!["create", "a", "vnet=on", "network_plugin=oldsdk"],
        vec!["create", "b", "network_plugin=junk"],
    ] {
        let mut command = ioc(&sandbox, plugins.path());
        command.args(args);
        ok(command.output().expect("run ioc"), "setup");
    }

    for args in [
        vec!["list"],
        vec!["list", "-l"],
        vec!["list", "--output-format", "json"],
    ] {
        let mut list = ioc(&sandbox, plugins.path());
        list.args(&args);
        let (out, opened) = run_tracing_dlopen(list);
        assert_eq!(text(&out.stderr), "", "{args:?} is silent");
        let shown = ok(out, "list");
        assert!(shown.contains('a') && shown.contains('b'), "{shown}");
        assert_eq!(opened, Vec::<PathBuf>::new(), "{args:?} opened plugins");
    }

    // The control: the trace does see plugins being opened.
    let mut list = ioc(&sandbox, plugins.path());
    list.args(["plugins", "list"]);
    let (_, opened) = run_tracing_dlopen(list);
    assert!(
        opened.contains(&build_dir().join(plugin_file_name("vnet"))),
        "the loader trace works: {opened:?}"
    );
}

/// The example third-party plugin, built on its own with cargo and loaded from its own
/// directory: disabled until enabled, then it drives a real jail (own network stack, loopback
/// only), logs through ioc, and the jail stops cleanly.
#[test]
fn the_example_third_party_plugin_drives_a_jail() {
    require_root!();
    let plugins = PluginDir::new();
    let file = plugins.install(&example_plugin(), "example");
    let host = HostNs::new();
    let shown = file.display().to_string();

    let checked = ok(
        in_ns(&host, plugins.path(), ["plugins", "check", &shown]),
        "check",
    );
    assert!(
        checked.contains("example") && checked.contains("network") && checked.contains("0.3.0"),
        "{checked}"
    );
    host.ok([
        "create",
        "ex",
        "vnet=on",
        "network_plugin=example",
        "user.example.greeting=Howdy",
    ]);
    let err = fails(&in_ns(&host, plugins.path(), ["start", "ex"]), "start");
    assert!(
        err.contains("plugin 'example' is disabled") && err.contains("ioc plugins enable example"),
        "third-party plugins start disabled: {err}"
    );

    ok(
        in_ns(&host, plugins.path(), ["plugins", "enable", "example"]),
        "enable",
    );
    let rows = list_json({
        let mut c = host.ioc_command();
        c.env("IOC_PLUGIN_PATH", plugins.path());
        c
    });
    let row = plugin_row(&rows, "example");
    assert_eq!(
        (
            &row["kind"],
            &row["version"],
            &row["status"],
            &row["enabled"]
        ),
        (
            &Value::from("network"),
            &Value::from("0.3.0"),
            &Value::from("ok"),
            &Value::from(true)
        ),
        "{row}"
    );
    assert_eq!(row["file"], shown.as_str());

    let out = in_ns(&host, plugins.path(), ["-v", "start", "ex"]);
    let err = text(&out.stderr);
    ok(out, "start");
    assert!(err.contains("Howdy from the example plugin"), "{err}");
    assert!(host.running("ex"));
    let links = host.exec_ok("ex", &["ip", "-o", "link"]);
    let links: Vec<&str> = links.lines().collect();
    assert_eq!(links.len(), 1, "only loopback in the jail: {links:?}");
    assert!(
        links[0].contains(": lo: <LOOPBACK,UP"),
        "lo is up: {}",
        links[0]
    );
    let host_links: Vec<String> = host.links().into_iter().map(|l| l.name).collect();
    assert_eq!(host_links, ["lo"], "the mode made nothing on the host");

    ok(in_ns(&host, plugins.path(), ["stop", "ex"]), "stop");
    host.assert_clean(&["lo"]);
}
