//! Jails whose surroundings changed behind ioc's back: a host interface, config or journal
//! deleted by hand, namespaces that vanished, and mount namespaces that end (an `ip netns exec`
//! shell).

use std::process::{Command, Output};
use std::time::Duration;

use ioc_tests::netns::{seed, seed_host, HostNs};
use ioc_tests::{ioc_bin, require_root};
use serde_json::Value;

use crate::{seed_started, stderr, stdout, IDLE};

#[test]
fn stop_goes_on_when_the_host_interface_was_deleted_by_hand() {
    require_root!();
    let host = seed_started();
    host.ip(["link", "del", "vnet0.1"]);
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    assert!(!host.running("jail-a"));
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.assert_pings("jail-b", &["10.23.42.1"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn a_running_jail_whose_config_was_destroyed_behind_iocs_back_still_stops() {
    require_root!();
    let host = seed_started();
    std::fs::remove_dir_all(host.sandbox().root().join("jails/jail-a")).unwrap();
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

/// `ioc list -l --output-format json`'s row of a jail: running and state.
fn running_and_state(host: &HostNs, jail: &str) -> (Value, Value) {
    let out = host.ok(["list", "-l", "--output-format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).expect("list JSON");
    let row = rows
        .into_iter()
        .find(|r| r["name"] == jail)
        .unwrap_or_else(|| panic!("{jail} is not listed: {out}"));
    (row["running"].clone(), row["state"].clone())
}

/// A jail whose namespaces went away behind ioc's back (here: its pins unmounted by hand, as
/// a reboot of the run dir or a careless admin would) is not shown running but vanished;
/// `exec` says so, and the next start cleans up after it and starts it afresh.
#[test]
fn a_jail_whose_namespaces_vanished_is_shown_so_and_starts_again() {
    require_root!();
    let host = seed_started();
    let ns = host.sandbox().run_dir().join("jails/jail-a/ns");
    for kind in ["net", "uts", "mnt"] {
        let status = Command::new("umount")
            .arg("--lazy")
            .arg(ns.join(kind))
            .status()
            .expect("run umount");
        assert!(status.success(), "umount {kind} pin");
    }
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(false), Value::from("vanished"))
    );
    let err = host.fails(["exec", "jail-a", "--", "true"]);
    assert!(err.contains("its namespaces are gone"), "stderr: {err}");

    assert_eq!(host.ok(["start", "jail-a"]), "jail-a: started (JID 1)\n");
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(true), Value::from("up"))
    );
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// `sh -c SCRIPT` in the sandbox's network namespace and in a mount namespace of its own, as
/// `ip netns exec` makes one; `$IOC` in the script is the ioc binary. Returns the output.
fn in_transient_mount_namespace(host: &HostNs, script: &str) -> Output {
    let mut command = Command::new("nsenter");
    command
        .arg(format!("--net=/run/netns/{}", host.name()))
        .args(["unshare", "--mount", "--propagation", "slave", "sh", "-c"])
        .arg(script)
        .env("IOC", ioc_bin());
    host.sandbox().set_env(&mut command);
    command.output().expect("run sh under unshare")
}

/// From a shell in a mount namespace of its own (an `ip netns exec` shell), jails start, run and
/// stop as usual while that shell lives, with a warning that they end with it. On Linux 6.18
/// the kernel refused to pin the jail's mount namespace there about every other time, which ioc
/// now works around (see `spawn_pinned`); several rounds make a regression show.
#[test]
fn jails_work_from_an_ip_netns_exec_style_shell() {
    require_root!();
    let host = seed_host();
    seed(&host);
    for round in 0..4 {
        let out = in_transient_mount_namespace(
            &host,
            r#"set -e; "$IOC" start jail-a,jail-b; "$IOC" exec jail-a -- hostname; "$IOC" stop jail-a,jail-b"#,
        );
        assert!(out.status.success(), "round {round}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "jail-a: started (JID 1)\njail-b: started (JID 2)\njail-a\njail-b: stopped\njail-a: stopped\n"
        );
        assert!(
            stderr(&out).contains("mount namespace other than PID 1's"),
            "stderr: {}",
            stderr(&out)
        );
        host.assert_clean(IDLE);
    }
}

/// A start from a mount namespace that then ends (`ip netns exec NS ioc start ...`) leaves a
/// jail without its pins: it shows as vanished, not running, and a stop cleans up.
#[test]
fn a_jail_started_from_a_mount_namespace_that_ended_shows_vanished() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let out = in_transient_mount_namespace(&host, r#""$IOC" start jail-a"#);
    assert!(out.status.success(), "start: {}", stderr(&out));
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(false), Value::from("vanished"))
    );
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    host.assert_clean(IDLE);
}

#[test]
fn a_jail_whose_journal_was_deleted_by_hand_is_still_removed() {
    require_root!();
    let host = seed_started();
    std::fs::remove_file(host.sandbox().run_dir().join("jails/jail-a/journal")).unwrap();
    host.ok(["stop", "jail-a"]);
    // Without its journal the host end cannot be found by name any more; removing the jail
    // ends its network stack, which takes the pair with it.
    let gone = ioc_tests::netns::eventually(Duration::from_secs(5), || {
        !host.links().iter().any(|l| l.name == "vnet0.1")
    });
    assert!(gone, "vnet0.1 outlived its jail");
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.stop_and_check_clean("jail-b", IDLE);
}
