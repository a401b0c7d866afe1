//! Which plugins ioc loads and when: a fresh build's six, none for `ioc list`, and a plugin
//! built against another sdk refused in one line.

use std::path::PathBuf;

use ioc_sdk::SDK_VERSION;
use ioc_tests::plugins::{
    build_dir, fixture, plugin_file_name, run_tracing_dlopen, PluginDir, SHIPPED,
};
use ioc_tests::Sandbox;
use serde_json::Value;

use crate::{
    default_firewall, fails, ioc, kind_of, list_json, ok, one_line, plugin_row, run, text,
    WORKSPACE_VERSION,
};

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
