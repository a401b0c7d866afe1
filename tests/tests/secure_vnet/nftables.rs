//! The nftables rules: an administrator's tables are never touched, a stop removes exactly
//! its jail's table, a start touches no other jail's table and replaces a leftover of its own
//! port, and swapping the firewall backend applies to later starts only.

use std::time::Duration;

use ioc_tests::netns::{wait_for_line, HostNs};
use ioc_tests::require_root;
use serde_json::Value;

use crate::{create_jail, host_state, ioc_tables, nft, port_table, secure_host};

/// Tables an administrator keeps in the same kernel: hooks ioc also uses (a netdev one on the
/// bridge among them), a set, and a table with ioc's name in another family.
const ADMIN_RULES: &str = "
table inet admin {
    chain c { type filter hook input priority 0; policy accept; counter; }
}
table bridge admin2 {
    set macs { type ether_addr; elements = { 02:00:00:00:00:01 }; }
    chain pre { type filter hook prerouting priority -10; policy accept; ether saddr @macs counter; }
    chain transit { type filter hook forward priority 0; policy accept; ether type vlan counter drop; }
}
table ip ioc {
    chain x { counter; }
}
table netdev admin3 {
    chain inbound { type filter hook ingress device \"bridge0\" priority -10; policy accept; counter; }
}
";

/// The administrator's tables, with rule handles and without counters (which traffic moves):
/// equal listings mean no rule was added, removed or rewritten.
fn admin_tables(host: &HostNs) -> String {
    [
        ["inet", "admin"],
        ["bridge", "admin2"],
        ["ip", "ioc"],
        ["netdev", "admin3"],
    ]
    .iter()
    .map(|[family, table]| nft(host, &["-a", "-s", "list", "table", family, table], None))
    .collect()
}

#[test]
fn admin_tables_survive_start_and_stop_and_stop_removes_exactly_the_jails_rules() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("otherjail", 6)]);
    nft(&host, &["-f", "-"], Some(ADMIN_RULES));
    let before = admin_tables(&host);
    assert!(before.contains("ether saddr @macs"), "{before}");

    host.ok(["start", "myjail,otherjail"]);
    host.assert_pings("myjail", &["10.23.42.1", "10.23.42.6"]);
    assert_eq!(
        admin_tables(&host),
        before,
        "start changed the admin's tables"
    );
    assert_eq!(ioc_tables(&host), ["ioc-vnet0.1", "ioc-vnet0.2"]);
    for port in ["vnet0.1", "vnet0.2"] {
        let table = port_table(&host, port);
        assert!(table.contains("chain from {"), "{table}");
        assert!(
            table.contains(&format!("hook egress device \"{port}\"")),
            "{table}"
        );
    }

    // Stopping one jail removes its table, and nothing of the other's.
    let other = port_table(&host, "vnet0.2");
    host.ok(["stop", "myjail"]);
    assert_eq!(ioc_tables(&host), ["ioc-vnet0.2"]);
    assert_eq!(port_table(&host, "vnet0.2"), other);
    host.assert_pings("otherjail", &["10.23.42.1"]);

    host.ok(["stop", "otherjail"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    assert_eq!(
        admin_tables(&host),
        before,
        "stop changed the admin's tables"
    );
    host.assert_clean(&["lo", "bridge0"]);
}

/// `ioc plugins list --output-format json`: the active firewall backends.
fn active_firewalls(host: &HostNs) -> Vec<String> {
    let out = host.ok(["plugins", "list", "--output-format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).expect("plugins list JSON");
    rows.iter()
        .filter(|r| r["active"] == Value::Bool(true))
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn swapping_the_firewall_applies_to_later_starts_and_the_installer_removes_its_rules() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("secure2", 6)]);
    create_jail(&host, "plainjail", "vnet0:bridge0", 4);
    assert_eq!(active_firewalls(&host), ["nftables"]);
    host.ok(["start", "myjail"]);
    assert_eq!(ioc_tables(&host), ["ioc-vnet0.1"]);

    for backend in ["pf", "ipfw"] {
        host.ok(["set", &format!("firewall={backend}"), "defaults"]);
        assert_eq!(active_firewalls(&host), [backend]);
        // A new Secure VNET start fails before anything changes: these backends are FreeBSD's.
        let before = host_state(&host);
        let err = host.fails(["start", "secure2"]);
        assert!(
            err.contains(&format!("backend '{backend}' does not support linux")),
            "{err}"
        );
        assert_eq!(
            host_state(&host),
            before,
            "the refused start changed the host"
        );
    }
    // Plain VNET needs no firewall, so it does not care.
    host.ok(["start", "plainjail"]);
    host.assert_pings("plainjail", &["10.23.42.1"]);
    host.ok(["stop", "plainjail"]);

    // myjail's filter goes with it, removed by nftables, which installed it, although the
    // setting now names ipfw.
    host.ok(["stop", "myjail"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    host.assert_clean(&["lo", "bridge0"]);

    host.ok(["set", "firewall=nftables", "defaults"]);
    assert_eq!(active_firewalls(&host), ["nftables"]);
    host.ok(["start", "secure2"]);
    host.assert_pings("secure2", &["10.23.42.1"]);
    assert_eq!(ioc_tables(&host), ["ioc-vnet0.1"]);
    host.ok(["stop", "secure2"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    host.assert_clean(&["lo", "bridge0"]);
}

#[test]
fn a_start_touches_no_other_jails_table_and_replaces_a_leftover_of_its_port() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("otherjail", 6), ("third", 7)]);
    host.ok(["start", "myjail"]);
    let first = port_table(&host, "vnet0.1");
    host.ok(["start", "otherjail"]);
    assert_eq!(
        port_table(&host, "vnet0.1"),
        first,
        "a later start rewrote another jail's table"
    );

    // A table a crashed start left for the next port, with a lease that is no longer valid
    // and no rule: the start replaces it whole, and the old lease is gone with it.
    nft(
        &host,
        &["-f", "-"],
        Some(
            "table netdev ioc-vnet0.3 {
                set lease4 { type ipv4_addr; flags timeout; elements = { 10.23.42.99 timeout 1h } }
                chain from { type filter hook ingress device \"vnet0.3\" priority 0; policy accept; }
            }\n",
        ),
    );
    host.ok(["start", "third"]);
    let table = port_table(&host, "vnet0.3");
    assert!(!table.contains("10.23.42.99"), "{table}");
    assert!(table.contains("policy drop"), "{table}");
    host.assert_pings("third", &["10.23.42.1"]);
    host.exec_ok(
        "third",
        &["ip", "addr", "add", "10.23.42.99/24", "dev", "vnet0"],
    );
    let spoofed = host.exec(
        "third",
        &[
            "ping",
            "-c",
            "1",
            "-W",
            "1",
            "-I",
            "10.23.42.99",
            "10.23.42.1",
        ],
    );
    assert!(
        !spoofed.status.success(),
        "the stale lease let a source pass"
    );

    host.ok(["stop", "myjail,otherjail,third"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    host.assert_clean(&["lo", "bridge0"]);
}

/// A start that fails at any step, or is killed (SIGKILL) at any step and then stopped, leaves
/// no table of ioc behind, and neither does a stop.
#[test]
fn no_table_is_left_after_a_failed_or_killed_start() {
    require_root!();
    let host = secure_host(&[("myjail", 2)]);
    let failed = host.fail_at_every_step("myjail", &["lo", "bridge0"], |step| {
        assert_eq!(ioc_tables(&host), Vec::<String>::new(), "failed at {step}");
    });
    assert!(failed >= 8, "only {failed} steps failed");
    host.ok(["stop", "myjail"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());

    for step in 1.. {
        let n = step.to_string();
        let mut ioc = host.spawn_ioc(&["start", "myjail"], &[("IOC_FAULT_HANG_STEP", &n)]);
        let pipe = ioc.take_stderr().expect("stderr is piped");
        let hung = wait_for_line(
            pipe,
            &format!("hanging before step {n}"),
            Duration::from_secs(30),
        );
        if hung.is_err() {
            // Past the last step: the start went through.
            while !ioc.exited() {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(host.running("myjail"), "start at step {n} failed: {hung:?}");
            break;
        }
        ioc.kill9();
        host.ok(["stop", "myjail"]);
        assert_eq!(ioc_tables(&host), Vec::<String>::new(), "killed at {step}");
    }
    host.ok(["stop", "myjail"]);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    host.assert_clean(&["lo", "bridge0"]);
}

/// A stop killed right after it forked the detached deletion of its port (issue 15) leaves the
/// port's table journaled, and the next stop removes it.
#[test]
fn a_stop_killed_after_its_detached_link_deletion_leaves_the_table_to_the_next_stop() {
    require_root!();
    let host = secure_host(&[("myjail", 2)]);
    host.ok(["start", "myjail"]);
    let held = host.hold_jail_netns("myjail");
    let out = host.ioc_env(["stop", "myjail"], &[("IOC_FAULT_KILL_AFTER_DETACH", "1")]);
    assert_eq!(out.status.code(), None, "killed by a signal: {out:?}");
    assert_eq!(ioc_tables(&host), ["ioc-vnet0.1"]);
    drop(held);
    assert_eq!(host.ok(["stop", "myjail"]), "myjail: not running\n");
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    host.assert_clean(&["lo", "bridge0"]);
}
