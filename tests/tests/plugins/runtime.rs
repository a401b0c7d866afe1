//! Plugins at work in a jail's lifecycle: a panicking plugin rolled back cleanly, plugin log
//! lines in ioc's output, and the example third-party plugin driving a jail.

use ioc_tests::netns::HostNs;
use ioc_tests::plugins::{example_plugin, fixture, PluginDir};
use ioc_tests::{require_root, Sandbox};
use serde_json::Value;

use crate::{fails, in_ns, ioc, list_json, ok, plugin_row, run, text};

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
