//! The nftables rules: an administrator's tables are never touched, a stop removes exactly
//! its jail's rules, the skeleton is built once (and rebuilt when damaged), and swapping the
//! firewall backend applies to later starts only.

use ioc_tests::netns::HostNs;
use ioc_tests::require_root;
use serde_json::Value;

use crate::{create_jail, host_state, ioc_table, nft, secure_host};

/// Tables an administrator keeps in the same kernel: hooks ioc also uses, a set, and a table
/// with ioc's name in another family.
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
";

/// The administrator's tables, with rule handles and without counters (which traffic moves):
/// equal listings mean no rule was added, removed or rewritten.
fn admin_tables(host: &HostNs) -> String {
    [["inet", "admin"], ["bridge", "admin2"], ["ip", "ioc"]]
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
    let table = ioc_table(&host);
    for port in ["vnet0.1", "vnet0.2"] {
        assert!(table.contains(&format!("chain from-{port} {{")), "{table}");
        assert!(
            table.contains(&format!("\"{port}\" : goto to-{port}")),
            "{table}"
        );
    }

    // Stopping one jail removes its chains and map elements, and nothing of the other's.
    host.ok(["stop", "myjail"]);
    let table = ioc_table(&host);
    assert!(
        !table.contains("vnet0.1"),
        "myjail's rules are left:\n{table}"
    );
    assert!(table.contains("chain from-vnet0.2 {"), "{table}");
    assert!(table.contains("\"vnet0.2\" : goto from-vnet0.2"), "{table}");
    host.assert_pings("otherjail", &["10.23.42.1"]);

    host.ok(["stop", "otherjail"]);
    let table = ioc_table(&host);
    for gone in ["vnet0.", "chain from-", "chain to-", "elements"] {
        assert!(!table.contains(gone), "{gone} is left:\n{table}");
    }
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
    assert!(ioc_table(&host).contains("chain from-vnet0.1 {"));

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
    assert!(
        !ioc_table(&host).contains("vnet0.1"),
        "{}",
        ioc_table(&host)
    );
    host.assert_clean(&["lo", "bridge0"]);

    host.ok(["set", "firewall=nftables", "defaults"]);
    assert_eq!(active_firewalls(&host), ["nftables"]);
    host.ok(["start", "secure2"]);
    host.assert_pings("secure2", &["10.23.42.1"]);
    assert!(ioc_table(&host).contains("chain from-vnet0.1 {"));
    host.ok(["stop", "secure2"]);
    assert!(!ioc_table(&host).contains("vnet0.1"));
    host.assert_clean(&["lo", "bridge0"]);
}

/// The two base chains of ioc's table, with rule handles: equal listings mean the dispatch
/// rules were neither replaced nor added to.
fn base_chains(host: &HostNs) -> String {
    ["prerouting", "postrouting"]
        .iter()
        .map(|chain| nft(host, &["-a", "list", "chain", "bridge", "ioc", chain], None))
        .collect()
}

#[test]
fn later_starts_leave_the_skeleton_alone_and_a_damaged_one_is_rebuilt() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("otherjail", 6), ("third", 7)]);
    host.ok(["start", "myjail"]);
    let skeleton = base_chains(&host);
    host.ok(["start", "otherjail"]);
    assert_eq!(
        base_chains(&host),
        skeleton,
        "a later start rewrote the dispatch rules"
    );

    // Someone deletes a base chain: the next start puts it back, with one dispatch rule, and
    // the running jails are filtered again.
    nft(
        &host,
        &["-f", "-"],
        Some("flush chain bridge ioc prerouting\ndelete chain bridge ioc prerouting\n"),
    );
    host.ok(["start", "third"]);
    let table = ioc_table(&host);
    assert_eq!(
        table.matches("iifname vmap @from_port").count(),
        1,
        "{table}"
    );
    assert_eq!(table.matches("oifname vmap @to_port").count(), 1, "{table}");
    host.assert_pings("third", &["10.23.42.1"]);
    host.exec_ok(
        "myjail",
        &["ip", "addr", "add", "10.23.42.99/24", "dev", "vnet0"],
    );
    let spoofed = host.exec(
        "myjail",
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
    assert!(!spoofed.status.success(), "a changed source passed again");

    host.ok(["stop", "myjail,otherjail,third"]);
    host.assert_clean(&["lo", "bridge0"]);
}
