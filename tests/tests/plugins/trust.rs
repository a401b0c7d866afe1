//! Plugin files ioc refuses to load (unsafe owner or mode) and plugins an administrator
//! disabled: never loaded, with the command that enables them.

use std::path::{Path, PathBuf};

use ioc_tests::netns::{seed_host, HostNs};
use ioc_tests::plans::seed_vnet_commands;
use ioc_tests::plugins::{
    build_dir, fixture, plugin_file_name, run_tracing_dlopen, set_mode, PluginDir,
};
use ioc_tests::require_root;
use ioc_tests::state::Tree;
use serde_json::Value;

use crate::{fails, in_ns, list_json, ok, one_line, plugin_row};

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
