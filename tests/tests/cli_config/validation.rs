//! Input `set` refuses: malformed values, unknown properties and names, no matching jail;
//! every problem reported at once and nothing changed.

use ioc_tests::{read, Sandbox};

use crate::{assert_fails, seed, stderr};

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
