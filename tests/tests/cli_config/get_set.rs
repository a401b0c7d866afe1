//! `get`, `set` and `list` on valid input: the seed scenario, the config file's RON, and
//! round trips from get back to set.

use std::os::unix::fs::PermissionsExt;

use ioc_tests::{read, Sandbox};
use serde_json::{json, Value};

use crate::{assert_fails, get_all, seed};

#[test]
fn seed_scenario_get_and_list() {
    let s = Sandbox::new();
    seed(&s);
    assert_eq!(s.ok(["get", "vnet", "defaults"]), "on\n");
    assert_eq!(s.ok(["get", "vnet", "jail-a"]), "on\n");
    assert_eq!(s.ok(["get", "interfaces", "jail-a"]), "vnet0:bridge0\n");
    assert_eq!(s.ok(["get", "ip4_addr", "jail-a"]), "vnet0|10.23.42.2/24\n");
    assert_eq!(s.ok(["get", "defaultrouter", "jail-a"]), "10.23.42.1\n");
    assert_eq!(
        s.ok(["get", "vnet0_mac", "jail-a"]),
        "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e\n"
    );
    assert_eq!(
        s.ok(["get", "vnet0_mac", "jail-b"]),
        "02:ff:60:24:c4:b0,02:ff:60:24:c4:b1\n"
    );
    let all = get_all(&s, "jail-a");
    assert_eq!(all["ip4"], "new");
    assert_eq!(all["mac_prefix"], "02ff60");
    assert_eq!(all["network_plugin"], "auto");
    assert_eq!(all["firewall"], "nftables");
    let keys: Vec<&String> = all.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    let table = s.ok(["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["JID", "NAME", "RUNNING", "IP4_ADDR"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["-", "jail-a", "no", "vnet0|10.23.42.2/24"]
    );
    assert_eq!(lines.len(), 3);

    let json: Value =
        serde_json::from_str(&s.ok(["list", "-l", "--output-format", "json"])).unwrap();
    assert_eq!(
        json[0],
        json!({
            "jid": null,
            "name": "jail-a",
            "running": false,
            "ip4_addr": ["vnet0|10.23.42.2/24"],
            "vnet": true,
            "interfaces": ["vnet0:bridge0"],
            "ip6_addr": [],
            "defaultrouter": "10.23.42.1",
            "defaultrouter6": null,
            "network_plugin": "auto",
            "state": "down",
        })
    );
    assert_eq!(json.as_array().unwrap().len(), 2);

    let looks_running = s.mark_running("jail-b", 7);
    let json: Value =
        serde_json::from_str(&s.ok(["list", "--output-format", "json", "jail-b"])).unwrap();
    assert_eq!(json[0]["jid"], json!(7));
    assert_eq!(json[0]["running"], json!(looks_running));

    let csv = s.ok(["list", "--output-format", "csv", "vnet=yes", "jail-*"]);
    let running = if looks_running { "yes" } else { "no" };
    assert_eq!(
        csv,
        format!("jid,name,running,ip4_addr\n-,jail-a,no,vnet0|10.23.42.2/24\n7,jail-b,{running},vnet0|10.23.42.3/24\n")
    );
}

#[test]
fn the_config_file_holds_only_user_set_keys_in_readable_ron() {
    let s = Sandbox::new();
    seed(&s);
    let text = String::from_utf8(read(&s.config_file("jail-a")).unwrap()).unwrap();
    for line in [
        "\"defaultrouter\": \"10.23.42.1\",",
        "\"interfaces\": \"vnet0:bridge0\",",
        "\"ip4_addr\": \"vnet0|10.23.42.2/24\",",
        "\"vnet\": \"on\",",
    ] {
        assert!(text.contains(line), "{text}");
    }
    assert!(!text.contains("mac_prefix"), "{text}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&s.root()), 0o700);
    assert_eq!(mode(&s.root().join("jails")), 0o700);
    assert_eq!(mode(&s.root().join("jails/jail-a")), 0o700);
    assert_eq!(mode(&s.config_file("jail-a")), 0o600);
    assert_eq!(mode(&s.root().join("defaults.ron")), 0o600);
}

#[test]
fn get_output_is_set_input() {
    let s = Sandbox::new();
    seed(&s);
    s.ok([
        "set",
        "ip6_addr=vnet0|2001:DB8::2/64,vnet0|accept_rtadv",
        "resolver=10.0.0.53; search example.org",
        "depends=jail-b",
        "exec_start=/bin/sh /etc/rc",
        "user.note=a, b = c",
        "jail-a",
    ]);
    let original = get_all(&s, "jail-a");
    let mut args = vec!["create".to_string(), "copy".to_string()];
    // firewall is host-wide; everything else is copied as printed.
    args.extend(
        original
            .iter()
            .filter(|(k, _)| k.as_str() != "firewall")
            .map(|(k, v)| format!("{k}={v}")),
    );
    s.ok(&args);
    assert_eq!(get_all(&s, "copy"), original);
    assert_eq!(
        original["ip6_addr"],
        "vnet0|2001:db8::2/64,vnet0|accept_rtadv"
    );
    assert_eq!(
        original["resolver"],
        "nameserver 10.0.0.53;search example.org"
    );
}

#[test]
fn bare_keys_reset_to_the_default() {
    let s = Sandbox::new();
    s.ok(["set", "ip4=inherit", "defaults"]);
    s.ok(["create", "a", "ip4=disable", "user.x=1"]);
    assert_eq!(s.ok(["get", "ip4", "a"]), "disable\n");
    s.ok(["set", "ip4", "user.x", "a"]);
    assert_eq!(s.ok(["get", "ip4", "a"]), "inherit\n");
    assert_fails(
        &s.ioc(["get", "user.x", "a"]),
        1,
        "The config property 'user.x' of jail 'a' is not set",
    );
    s.ok(["set", "ip4", "defaults"]);
    assert_eq!(s.ok(["get", "ip4", "a"]), "new\n");
}
