//! The configuration CLI end to end: the real `ioc` binary against a temporary root.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Output, Stdio};

use ioc_tests::{read, Sandbox};
use serde_json::{json, Value};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure with `code` whose stderr contains `part`, and no panic.
fn assert_fails(output: &Output, code: i32, part: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(part), "stderr lacks {part:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `get all` output as a map.
fn get_all(sandbox: &Sandbox, target: &str) -> BTreeMap<String, String> {
    sandbox
        .ok(["get", "all", target])
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=VALUE line");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The seed document's commands.
fn seed(sandbox: &Sandbox) {
    sandbox.ok(["set", "vnet=on", "defaults"]);
    sandbox.ok(["create", "jail-a"]);
    sandbox.ok(["create", "jail-b"]);
    sandbox.ok([
        "set",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
        "defaultrouter=10.23.42.1",
        "jail-a",
    ]);
    sandbox.ok([
        "set",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.3/24",
        "defaultrouter=10.23.42.1",
        "jail-b",
    ]);
}

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

/// Each malformed value fails with exit 1, names the jail and the property, and leaves the
/// config file byte for byte as it was.
#[test]
fn malformed_values_change_nothing() {
    let s = Sandbox::new();
    seed(&s);
    let battery: &[(&str, &str)] = &[
        ("vnet=maybe", "expected on or off"),
        ("vnet=", "expected on or off"),
        ("interfaces=vnet0", "Invalid NIC pair (should be <nic>:<bridge>)"),
        ("interfaces=vnet0:bridge0,vnet0:bridge1", "appears twice"),
        ("interfaces=averyveryverylongnic0:bridge0", "invalid interface name"),
        ("interfaces=vnet0:bri:dge0", "invalid interface name"),
        (
            "ip4_addr=10.23.42.2/24",
            "Invalid value for property 'ip4_addr' of jail jail-a: expected \"<nic>|<address>\" but got \"10.23.42.2/24\"",
        ),
        ("ip4_addr=vnet0|10.23.42.256/24", "Invalid IPv4 address: 10.23.42.256"),
        ("ip4_addr=vnet0|10.23.42.2/33", "Invalid IPv4 prefix length \"33\""),
        ("ip4_addr=vnet0|10.23.42.2/24,", "expected \"<nic>|<address>\" but got \"\""),
        ("ip4_addr=vnet0|accept_rtadv", "Invalid IPv4 address: accept_rtadv"),
        ("ip6_addr=vnet0|2001:db8::zz", "Invalid IPv6 address: 2001:db8::zz"),
        ("ip6_addr=2001:db8::1", "expected \"<nic>|<address>\" but got \"2001:db8::1\""),
        ("ip6_addr=vnet0|dhcp", "Invalid IPv6 address: dhcp"),
        ("defaultrouter=10.23.42.1/24", "without a prefix length"),
        ("defaultrouter=gateway", "Invalid IPv4 address: gateway"),
        ("defaultrouter=10.23.42.1@", "invalid interface name"),
        ("defaultrouter6=10.23.42.1", "Invalid IPv6 address: 10.23.42.1"),
        ("mac_prefix=02ff6", "expected 6 hex digits"),
        ("mac_prefix=02:ff:60", "expected 6 hex digits"),
        ("mac_prefix=0xff60", "expected 6 hex digits"),
        ("mac_prefix=03ff60", "multicast"),
        ("vnet0_mac=02ff60e7939d", "expected \"<host mac>,<jail mac>\""),
        ("vnet0_mac=02ff60e7939d,zz", "invalid mac address: \"zz\""),
        ("vnet1_mac=02:00:00:00:00:01,02:00:00:00:00:02", "needs the NIC 'vnet1'"),
        ("ip4=old", "expected new, inherit or disable"),
        ("ip6=2", "expected new, inherit or disable"),
        ("ip4_saddrsel=2", "expected 0 or 1"),
        ("ip6_saddrsel=on", "expected 0 or 1"),
        ("allow_raw_sockets=yes", "expected 0 or 1"),
        ("resolver=bogus", "resolv.conf lines"),
        ("resolver=nameserver 10.0.0.300", "Invalid IP address: 10.0.0.300"),
        ("depends=bad/name", "expected a jail filter"),
        ("depends=nokey=1", "expected a jail filter"),
        ("network_plugin=Bad!", "expected auto or a plugin name"),
        ("firewall=pf", "host-wide"),
        ("bogus=1", "The config property 'bogus' of jail 'jail-a' is unknown"),
        ("VNET=on", "The config property 'VNET' of jail 'jail-a' is unknown"),
        ("user.=x", "is not a valid user property"),
    ];
    let config = s.config_file("jail-a");
    let before = read(&config).unwrap();
    let defaults_before = read(&s.root().join("defaults.ron")).unwrap();
    for (assignment, part) in battery {
        let output = s.ioc(["set", "user.touched=yes", assignment, "jail-a"]);
        assert_fails(&output, 1, part);
        let err = stderr(&output);
        assert!(
            err.contains("jail-a") || err.contains("jail jail-a"),
            "{assignment}: {err}"
        );
        let key = assignment.split('=').next().unwrap();
        assert!(err.contains(&format!("'{key}'")), "{assignment}: {err}");
        assert_eq!(
            read(&config).unwrap(),
            before,
            "{assignment} changed the file"
        );

        let created = s.ioc(["create", "fresh", assignment]);
        assert_fails(&created, 1, &part.replace("jail-a", "fresh"));
        assert!(
            read(&s.config_file("fresh")).is_none(),
            "{assignment} created a jail"
        );
    }
    assert_eq!(
        read(&s.root().join("defaults.ron")).unwrap(),
        defaults_before
    );
    let output = s.ioc([
        "set",
        "vnet0_mac=02:00:00:00:00:01,02:00:00:00:00:02",
        "defaults",
    ]);
    assert_fails(&output, 1, "can only be set on a jail");
    assert_eq!(
        read(&s.root().join("defaults.ron")).unwrap(),
        defaults_before
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let s = Sandbox::new();
    s.ok(["create", "a"]);
    let output = s.ioc(["set", "vnet=maybe", "ip4=old", "nope=1", "a"]);
    assert_fails(&output, 1, "'vnet'");
    let err = stderr(&output);
    assert!(err.contains("'ip4'") && err.contains("'nope'"), "{err}");
}

#[test]
fn unknown_properties_and_bad_names() {
    let s = Sandbox::new();
    s.ok(["create", "a"]);
    assert_fails(
        &s.ioc(["get", "nope", "a"]),
        1,
        "The config property 'nope' of jail 'a' is unknown",
    );
    assert_fails(
        &s.ioc(["get", "nope", "defaults"]),
        1,
        "The config property 'nope' of jail 'defaults' is unknown",
    );
    assert_fails(
        &s.ioc(["create", "b", "nope=1"]),
        1,
        "The config property 'nope' of jail 'b' is unknown",
    );
    let long = "x".repeat(32);
    for bad in [
        "defaults",
        ".hidden",
        "a/b",
        "a b",
        "ä",
        long.as_str(),
        "a:b",
        "",
    ] {
        assert_fails(
            &s.ioc(["create", bad]),
            1,
            &format!("Invalid jail name '{bad}'"),
        );
        assert_fails(
            &s.ioc(["rename", "a", bad]),
            1,
            &format!("Invalid jail name '{bad}'"),
        );
    }
    s.ok(["create", &"x".repeat(31)]);
    // A leading '-' is an option to the command line, so clap refuses it as a usage error.
    assert_eq!(s.ioc(["create", "-x"]).status.code(), Some(2));
    assert_eq!(
        s.ok(["list", "--output-format", "csv", "name=a"]),
        "jid,name,running,ip4_addr\n-,a,no,none\n"
    );
}

#[test]
fn no_matching_jail() {
    let s = Sandbox::new();
    for args in [
        vec!["list", "nope"],
        vec!["get", "vnet", "nope"],
        vec!["set", "vnet=on", "nope"],
        vec!["destroy", "nope"],
        vec!["list", "vnet=on"],
    ] {
        assert_fails(&s.ioc(&args), 1, "No jails matched your input");
    }
    s.ok(["create", "a"]);
    s.ok(["create", "b"]);
    assert_fails(&s.ioc(["list", "a", "b"]), 1, "No jails matched your input");
    assert_fails(&s.ioc(["get", "vnet", "a,b"]), 1, "exactly one");
    assert_fails(&s.ioc(["list", "bogus=1"]), 1, "Invalid filter \"bogus=1\"");
    assert_fails(&s.ioc(["destroy", ""]), 1, "Invalid filter");
    assert_eq!(s.ok(["list"]).lines().count(), 3);
    assert_eq!(s.ok(["list", "a,b"]).lines().count(), 3);
    assert_eq!(s.ok(["list", "+"]).lines().count(), 3);
}

#[test]
fn set_applies_to_every_selected_jail_or_to_none() {
    let s = Sandbox::new();
    s.ok(["create", "web-1", "interfaces=vnet0:bridge0"]);
    s.ok(["create", "web-2"]);
    s.ok(["create", "db"]);
    s.ok(["set", "user.role=web", "web-*"]);
    assert_eq!(s.ok(["get", "user.role", "web-2"]), "web\n");
    assert_fails(&s.ioc(["get", "user.role", "db"]), 1, "is not set");

    let before: Vec<_> = ["web-1", "web-2"]
        .iter()
        .map(|j| read(&s.config_file(j)))
        .collect();
    let output = s.ioc([
        "set",
        "vnet0_mac=02:00:00:00:00:01,02:00:00:00:00:02",
        "web-*",
    ]);
    assert_fails(&output, 1, "'vnet0_mac' of jail 'web-2'");
    let after: Vec<_> = ["web-1", "web-2"]
        .iter()
        .map(|j| read(&s.config_file(j)))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn concurrent_sets_lose_no_update() {
    let s = Sandbox::new();
    s.ok(["create", "jail-a"]);
    let spawn = |args: Vec<String>| -> Child {
        s.command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let writers: Vec<Child> = (0..16)
        .map(|n| {
            spawn(vec![
                "set".into(),
                format!("user.k{n}=v{n}"),
                "jail-a".into(),
            ])
        })
        .collect();
    // Readers racing the writers must always see a complete file.
    let readers: Vec<Child> = (0..8)
        .map(|_| spawn(vec!["get".into(), "all".into(), "jail-a".into()]))
        .collect();
    for child in writers.into_iter().chain(readers) {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let all = get_all(&s, "jail-a");
    for n in 0..16 {
        assert_eq!(
            all.get(&format!("user.k{n}")).map(String::as_str),
            Some(format!("v{n}").as_str())
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(s.root().join("jails/jail-a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["config.ron"]);
}

#[test]
fn rename_and_destroy() {
    let s = Sandbox::new();
    s.ok(["create", "a", "interfaces=vnet0:bridge0"]);
    s.ok(["create", "b"]);
    s.ok(["rename", "a", "c"]);
    assert_eq!(
        s.ok(["list", "--output-format", "csv"]),
        "jid,name,running,ip4_addr\n-,b,no,none\n-,c,no,none\n"
    );
    // Generated MACs follow the name.
    assert_eq!(s.ok(["get", "interfaces", "c"]), "vnet0:bridge0\n");
    assert_fails(&s.ioc(["rename", "c", "b"]), 1, "Jail 'b' already exists");
    assert_fails(&s.ioc(["rename", "zz", "y"]), 1, "Jail 'zz' does not exist");
    assert_fails(&s.ioc(["create", "b"]), 1, "Jail 'b' already exists");

    s.mark_running("c", 3);
    assert_fails(
        &s.ioc(["rename", "c", "d"]),
        1,
        "Jail 'c' is running (JID 3)",
    );
    assert_fails(&s.ioc(["destroy", "c"]), 1, "Jail 'c' is running (JID 3)");
    assert_fails(&s.ioc(["destroy", "*"]), 1, "Jail 'c' is running");
    assert!(s.config_file("c").exists() && s.config_file("b").exists());
    // -f stops the jail first. Stopping needs root; without it nothing is destroyed.
    let forced = s.ioc(["destroy", "-f", "c"]);
    if nix::unistd::geteuid().is_root() {
        assert!(
            forced.status.success(),
            "{}",
            String::from_utf8_lossy(&forced.stderr)
        );
        assert!(!s.config_file("c").exists());
        assert!(!s.run_dir().join("jails/c").exists());
    } else {
        assert_fails(&forced, 1, "needs root");
        std::fs::remove_dir_all(s.run_dir()).unwrap();
        s.ok(["destroy", "c"]);
    }
    s.ok(["destroy", "-f", "b"]);
    assert_eq!(s.ok(["list"]), "JID  NAME  RUNNING  IP4_ADDR\n");
    let leftovers: Vec<_> = std::fs::read_dir(s.root().join("jails")).unwrap().collect();
    assert!(leftovers.is_empty());
}

#[test]
fn corrupted_files_are_clear_errors() {
    let s = Sandbox::new();
    s.ok(["create", "a"]);
    s.ok(["create", "b"]);
    let config = s.config_file("a");
    for garbage in [
        "",
        "(properties: {\"vnet\": \"sometimes\"})",
        "((((",
        "\u{feff}\0\0",
        "(properties: {\"firewall\": \"pf\"})",
    ] {
        std::fs::write(&config, garbage).unwrap();
        let output = s.ioc(["get", "all", "a"]);
        assert_fails(&output, 1, &config.display().to_string());
        assert_fails(&s.ioc(["list"]), 1, "Cannot use");
        // Plain names keep working for the other jails, and a damaged jail can be destroyed.
        s.ok(["get", "vnet", "b"]);
    }
    std::fs::write(s.root().join("defaults.ron"), "nonsense").unwrap();
    assert_fails(&s.ioc(["get", "vnet", "b"]), 1, "defaults.ron");
    std::fs::remove_file(s.root().join("defaults.ron")).unwrap();
    s.ok(["destroy", "a"]);
}

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    for args in [
        vec!["set", "vnet=on"],
        vec!["create", "a", "vnet"],
        vec!["set", "=on", "a"],
        vec!["set", "vnet=on", "vnet=off", "a"],
        vec!["list", "--output-format", "xml"],
        vec!["bogus"],
        vec!["get", "vnet"],
        vec!["help", "bogus"],
        vec!["-q", "-v", "list"],
    ] {
        let output = s.ioc(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
}

#[test]
fn broken_pipe_is_not_a_panic() {
    let s = Sandbox::new();
    for n in 0..50 {
        s.ok(["create", &format!("jail-{n}")]);
    }
    let mut child = s
        .command()
        .args(["list", "-l"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn help_properties() {
    let s = Sandbox::new();
    let table = s.ok(["help", "properties"]);
    for name in [
        "vnet",
        "interfaces",
        "ip4_addr",
        "firewall",
        "network_plugin",
        "<nic>_mac",
        "user.*",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing: {table}"
        );
    }
    assert!(s.ok(["help", "set"]).contains("TARGET"));
    assert!(s.ok(["help"]).contains("create"));
}

/// The README's property table is exactly what `ioc help properties --markdown` prints.
#[test]
fn readme_property_table_is_generated() {
    let s = Sandbox::new();
    let generated = s.ok(["help", "properties", "--markdown"]);
    let readme_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = "<!-- properties:start -->\n";
    let end = "<!-- properties:end -->";
    let from = readme.find(start).expect("README lacks the start marker") + start.len();
    let to = readme.find(end).expect("README lacks the end marker");
    assert_eq!(
        &readme[from..to],
        generated,
        "README.md is out of date: replace the table with `ioc help properties --markdown`"
    );
}
