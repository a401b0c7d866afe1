//! The NAT properties are checked like every property: a clear error naming the jail, the
//! property and the expected value, and nothing written on bad input.

use ioc_tests::{read, Sandbox};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn defaults_and_canonical_forms() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "nat=on",
        "nat_forwards=tcp(80:8080), UDP(53)",
    ]);
    assert_eq!(s.ok(["get", "nat", "web"]).trim(), "on");
    assert_eq!(s.ok(["get", "nat_prefix", "web"]).trim(), "172.16");
    assert_eq!(s.ok(["get", "nat_interface", "web"]).trim(), "none");
    assert_eq!(s.ok(["get", "nat_backend", "web"]).trim(), "firewall");
    assert_eq!(
        s.ok(["get", "nat_forwards", "web"]).trim(),
        "tcp(80:8080),udp(53)"
    );
    s.ok([
        "set",
        "nat_prefix=10.9.0.0/29",
        "nat_interface=eth0",
        "nat_backend=pf",
        "web",
    ]);
    assert_eq!(s.ok(["get", "nat_prefix", "web"]).trim(), "10.9.0.0/29");
    s.ok(["set", "ip4_addr=vnet0|10.9.0.6", "web"]);
}

#[test]
fn malformed_nat_values_change_nothing() {
    let s = Sandbox::new();
    s.ok(["create", "web", "vnet=on", "nat=on"]);
    let battery: &[(&str, &str)] = &[
        ("nat=maybe", "Invalid value for property 'nat' of jail web: expected on or off"),
        ("nat_prefix=172.16.1.0/16", "Invalid value for property 'nat_prefix' of jail web: expected the leading octets"),
        ("nat_prefix=10.0.0.0/31", "expected the leading octets"),
        ("nat_interface=0bad", "expected none (the interface of the IPv4 default route)"),
        ("nat_forwards=sctp(80)", "Invalid value for property 'nat_forwards' of jail web: expected PROTO(JAILPORT:HOSTPORT)"),
        ("nat_forwards=tcp(8000-8010:9000-9001)", "differ in length"),
        ("nat_forwards=tcp(80:8080),tcp(81:8080)", "overlap"),
        ("nat_backend=Pf", "expected firewall (the host's firewall backend)"),
        ("interfaces=vnet0:bridge0", "expected none with nat=on"),
        ("defaultrouter=10.0.0.1", "expected none with nat=on"),
        ("ip4_addr=vnet0|10.1.0.2", "expected the jail end (second address) of a /30 inside nat_prefix 172.16"),
        ("ip4_addr=vnet0|172.16.0.1", "such as 172.16.0.2 but got 172.16.0.1"),
        ("ip4_addr=vnet0|dhcp", "expected none (an address from nat_prefix)"),
    ];
    let config = s.config_file("web");
    let before = read(&config).unwrap();
    for (assignment, part) in battery {
        let out = s.ioc(["set", assignment, "web"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{assignment}: {err}");
        assert!(
            err.contains(part),
            "{assignment}: stderr lacks {part:?}: {err}"
        );
        assert!(
            err.contains("web"),
            "{assignment}: the jail is not named: {err}"
        );
        assert_eq!(
            read(&config).unwrap(),
            before,
            "{assignment} changed the file"
        );
    }
}
