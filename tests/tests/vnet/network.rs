//! The network a VNET jail gets: MACs, MTU, IPv4 and IPv6 addresses in their written order,
//! default routers, several interfaces on several bridges, host-side names, and resolv.conf.

use ioc_tests::netns::{seed, seed_host, HostNs};
use ioc_tests::require_root;

use crate::{assert_has_route, jail_addresses, jail_routes, IDLE};

#[test]
fn macs_follow_the_reference_vectors_unless_pinned() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "set",
        "vnet0_mac=02:00:00:aa:00:10,02-00-00-aa-00-11",
        "jail-b",
    ]);
    host.ok(["start", "jail-a,jail-b"]);

    let expected = [
        (
            "jail-a",
            "vnet0.1",
            "02:ff:60:e7:93:9d",
            "02:ff:60:e7:93:9e",
        ),
        (
            "jail-b",
            "vnet0.2",
            "02:00:00:aa:00:10",
            "02:00:00:aa:00:11",
        ),
    ];
    for (jail, host_end, host_mac, jail_mac) in expected {
        assert_eq!(host.link(host_end).mac, host_mac, "{jail} host end");
        assert_eq!(
            host.jail_link(jail, "vnet0").mac,
            jail_mac,
            "{jail} jail end"
        );
    }
    host.stop_and_check_clean("jail-a,jail-b", IDLE);

    // Without the pin jail-b gets the reference pair again.
    host.ok(["set", "vnet0_mac", "jail-b"]);
    host.ok(["start", "jail-b"]);
    assert_eq!(host.link("vnet0.1").mac, "02:ff:60:24:c4:b0");
    assert_eq!(host.jail_link("jail-b", "vnet0").mac, "02:ff:60:24:c4:b1");
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn mtu_is_taken_from_the_bridge() {
    require_root!();
    let host = seed_host();
    host.ip(["link", "set", "bridge0", "mtu", "1400"]);
    seed(&host);
    host.ok(["start", "jail-a"]);
    assert_eq!(host.link("vnet0.1").mtu, 1400, "host end");
    assert_eq!(host.jail_link("jail-a", "vnet0").mtu, 1400, "jail end");
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn ipv6_addresses_and_default_routers() {
    require_root!();
    let host = seed_host();
    host.add_address("bridge0", "fd00:23::1/64");
    seed(&host);
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::2/64",
        "defaultrouter6=fd00:23::1",
        "jail-a",
    ]);
    // A link-local gateway only means something on a named link.
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::3/64",
        "defaultrouter6=fe80::1@vnet0",
        "jail-b",
    ]);
    host.ok(["start", "jail-a,jail-b"]);

    assert!(jail_addresses(&host, "jail-a", "-6", "vnet0").contains(&"fd00:23::2/64".into()));
    assert!(jail_addresses(&host, "jail-b", "-6", "vnet0").contains(&"fd00:23::3/64".into()));
    assert_has_route(
        &jail_routes(&host, "jail-a", "-6"),
        "default via fd00:23::1 dev vnet0",
    );
    let routes_b = jail_routes(&host, "jail-b", "-6");
    assert_has_route(&routes_b, "fe80::1 dev vnet0");
    assert_has_route(&routes_b, "default via fe80::1 dev vnet0");
    // IPv4 is unaffected.
    assert_has_route(
        &jail_routes(&host, "jail-b", "-4"),
        "default via 10.23.42.1 dev vnet0",
    );

    host.assert_pings("jail-a", &["fd00:23::1", "fd00:23::3"]);
    host.assert_pings("jail-b", &["fd00:23::2"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// A NIC with no IPv6 settings has IPv6 off, as on FreeBSD (`ipv6_activate_all_interfaces=NO`):
/// no link-local address, so nothing of it (DAD, MLD, router solicitations) floods the bridge.
/// A NIC with `ip6_addr` has its link-local address and its own, as before.
#[test]
fn ipv6_is_off_on_a_nic_without_ipv6_settings() {
    require_root!();
    let host = seed_host();
    host.add_address("bridge0", "fd00:23::1/64");
    seed(&host);
    host.ok(["set", "ip6_addr=vnet0|fd00:23::3/64", "jail-b"]);
    host.ok(["start", "jail-a,jail-b"]);

    assert_eq!(
        jail_addresses(&host, "jail-a", "-6", "vnet0"),
        Vec::<String>::new(),
        "jail-a has no IPv6 settings"
    );
    assert_eq!(jail_addresses(&host, "jail-a", "-6", "lo"), ["::1/128"]);
    let b = jail_addresses(&host, "jail-b", "-6", "vnet0");
    assert!(b.contains(&"fd00:23::3/64".to_string()), "{b:?}");
    assert!(b.iter().any(|a| a.starts_with("fe80::")), "{b:?}");
    host.assert_pings("jail-a", &["10.23.42.1"]);
    host.assert_pings("jail-b", &["fd00:23::1"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// A service that `exec_start` starts can bind the jail's IPv6 address at once: a jail's
/// addresses are optimistic (RFC 4429), usable while duplicate address detection still runs,
/// where a plain tentative address refuses `bind` for about a second.
#[test]
fn exec_start_binds_the_jails_ipv6_address_at_once() {
    require_root!();
    let host = seed_host();
    host.add_address("bridge0", "fd00:23::1/64");
    seed(&host);
    let www = host.dir().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("marker"), "served at once").unwrap();
    // busybox httpd binds, then goes to the background: its exit code says whether the bind
    // worked, and a failing exec_start fails the start.
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::2/64",
        &format!(
            "exec_start=busybox httpd -p [fd00:23::2]:8080 -h {}",
            www.display()
        ),
        "jail-a",
    ]);
    host.ok(["start", "jail-a"]);
    assert_eq!(
        ioc_tests::netns::fetch_from(host.name(), "fd00:23::2").as_deref(),
        Some("served at once")
    );
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn addresses_keep_their_written_order() {
    require_root!();
    let host = seed_host();
    seed(&host);
    // Not sorted on purpose: the first address written must be the primary one.
    host.ok([
        "set",
        "ip4_addr=vnet0|10.23.42.5/24,vnet0|10.23.42.4/24",
        "jail-a",
    ]);
    host.ok(["start", "jail-a"]);
    assert_eq!(
        jail_addresses(&host, "jail-a", "-4", "vnet0"),
        ["10.23.42.5/24", "10.23.42.4/24"]
    );
    host.assert_pings("jail-a", &["10.23.42.1"]);
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn two_interfaces_on_two_bridges() {
    require_root!();
    let host = seed_host();
    host.add_bridge("bridge1", Some("10.23.43.1/24"));
    host.ok([
        "create",
        "jail-a",
        "vnet=on",
        "interfaces=vnet0:bridge0 vnet1:bridge1",
        "ip4_addr=vnet0|10.23.42.2/24,vnet1|10.23.43.2/24",
        "defaultrouter=10.23.42.1",
    ]);
    host.ok(["start", "jail-a"]);

    assert_eq!(host.link("vnet0.1").master.as_deref(), Some("bridge0"));
    assert_eq!(host.link("vnet1.1").master.as_deref(), Some("bridge1"));
    let names: Vec<String> = host
        .jail_links("jail-a")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["lo", "vnet0", "vnet1"]);
    assert_eq!(
        jail_addresses(&host, "jail-a", "-4", "vnet1"),
        ["10.23.43.2/24"]
    );
    assert_ne!(
        host.jail_link("jail-a", "vnet0").mac,
        host.jail_link("jail-a", "vnet1").mac
    );
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.43.1"]);
    host.stop_and_check_clean("jail-a", &["lo", "bridge0", "bridge1"]);
}

/// The names of the links attached to a bridge of the sandbox.
fn bridge_ports(host: &HostNs, bridge: &str) -> Vec<String> {
    host.links()
        .into_iter()
        .filter(|l| l.master.as_deref() == Some(bridge))
        .map(|l| l.name)
        .collect()
}

#[test]
fn host_interface_names_fit_in_15_characters_and_stay_unique() {
    require_root!();
    let host = seed_host();
    // The longest NIC name Linux allows: "<nic>.<jid>" would not fit.
    let nic = "abcdefghijklmno";
    for (jail, address) in [("jail-a", "10.23.42.2/24"), ("jail-b", "10.23.42.3/24")] {
        host.ok([
            "create",
            jail,
            "vnet=on",
            &format!("interfaces={nic}:bridge0"),
            &format!("ip4_addr={nic}|{address}"),
        ]);
    }
    host.ok(["start", "jail-a,jail-b"]);
    let ports = bridge_ports(&host, "bridge0");
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert_ne!(ports[0], ports[1]);
    assert!(ports.iter().all(|p| p.len() <= 15), "{ports:?}");
    assert_eq!(host.jail_link("jail-a", nic).name, nic);
    host.assert_pings("jail-a", &["10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);

    // Deterministic: the same jails get the same names again (started concurrently, their
    // ports may join the bridge in either order).
    host.ok(["start", "jail-a,jail-b"]);
    let mut again = bridge_ports(&host, "bridge0");
    let mut ports = ports;
    again.sort();
    ports.sort();
    assert_eq!(again, ports);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

#[test]
fn resolver_gives_the_jail_its_own_resolv_conf() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "set",
        "resolver=nameserver 10.23.42.1;search example.test",
        "jail-a",
    ]);
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    host.ok(["start", "jail-a,jail-b"]);
    let lines: Vec<String> = host
        .exec_ok("jail-a", &["cat", "/etc/resolv.conf"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines, ["nameserver 10.23.42.1", "search example.test"]);
    // The default is a copy of the host's file.
    assert_eq!(
        host.exec_ok("jail-b", &["cat", "/etc/resolv.conf"]),
        host_resolv
    );
    assert_eq!(
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        host_resolv
    );
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}
