//! Addresses learned at run time: a DHCP lease, and IPv6 router advertisements.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ioc_tests::netns::{seed, seed_host, Background, HostNs};
use ioc_tests::require_root;

use crate::{assert_has_route, jail_addresses, jail_routes, IDLE};

/// A DHCP client ioc knows how to run in a jail.
fn dhclient_installed() -> bool {
    ["/sbin/dhclient", "/usr/sbin/dhclient"]
        .iter()
        .any(|p| Path::new(p).is_file())
}

/// Busybox's DHCP server in a peer host on `bridge0`, handing out 10.23.42.100-110.
fn dhcp_server(host: &mut HostNs) -> Option<Background> {
    let has_udhcpd = Command::new("busybox")
        .arg("udhcpd")
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("udhcpd"));
    if !has_udhcpd {
        return None;
    }
    let peer = host.add_peer("bridge0", "10.23.42.254/24");
    let dir = host.dir();
    let config = dir.join("udhcpd.conf");
    let leases = dir.join("udhcpd.leases");
    std::fs::write(&leases, b"").expect("lease file");
    std::fs::write(
        &config,
        format!(
            "start 10.23.42.100\nend 10.23.42.110\ninterface eth0\nlease_file {}\n\
             pidfile {}\noption subnet 255.255.255.0\noption router 10.23.42.1\noption dns 10.23.42.53\n",
            leases.display(),
            dir.join("udhcpd.pid").display()
        ),
    )
    .expect("udhcpd.conf");
    let mut command = ioc_tests::netns::in_netns(&peer, "busybox");
    command
        .arg("udhcpd")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Some(Background::spawn(command))
}

#[test]
fn dhcp_gets_a_lease_or_fails_clearly() {
    require_root!();
    let mut host = seed_host();
    host.ok([
        "create",
        "jail-a",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|dhcp",
    ]);
    if !dhclient_installed() {
        let err = host.fails(["start", "jail-a"]);
        assert!(err.contains("no DHCP client is installed"), "stderr: {err}");
        host.assert_clean(IDLE);
        return;
    }
    let Some(_server) = dhcp_server(&mut host) else {
        eprintln!("skipped the lease check: busybox udhcpd is not installed");
        return;
    };
    let links = ["lo", "bridge0", "peer0"];
    let host_resolv = std::fs::read("/etc/resolv.conf").ok();
    host.ok(["start", "jail-a"]);
    let addresses = jail_addresses(&host, "jail-a", "-4", "vnet0");
    assert!(
        addresses
            .iter()
            .any(|a| a.starts_with("10.23.42.1") && a.ends_with("/24")),
        "no lease from 10.23.42.100-110: {addresses:?}"
    );
    // The client wrote the lease's name server into the jail's own resolv.conf (a private
    // copy: the jail shares the host's file system), not into the host's.
    let resolv = host.exec_ok("jail-a", &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 10.23.42.53"), "{resolv}");
    assert_eq!(std::fs::read("/etc/resolv.conf").ok(), host_resolv);
    host.assert_pings("jail-a", &["10.23.42.254"]);
    host.stop_and_check_clean("jail-a", &links);
}

#[test]
fn accept_rtadv_turns_on_router_advertisements() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "ip6_addr=vnet0|accept_rtadv", "jail-a"]);
    host.ok(["start", "jail-a,jail-b"]);
    let sysctl = |jail: &str| {
        host.exec_ok(jail, &["sysctl", "net.ipv6.conf.vnet0.accept_ra"])
            .trim()
            .to_string()
    };
    assert_eq!(sysctl("jail-a"), "net.ipv6.conf.vnet0.accept_ra = 1");
    // Without accept_rtadv a jail takes no route from whoever advertises one (as on FreeBSD),
    // although a new Linux network namespace would.
    assert_eq!(sysctl("jail-b"), "net.ipv6.conf.vnet0.accept_ra = 0");

    // A router on bridge0 advertises fd00:99::/64: jail-a configures an address from it and
    // a default route through the router; jail-b ignores it.
    let slaac = |jail: &str| {
        jail_addresses(&host, jail, "-6", "vnet0")
            .into_iter()
            .find(|a| a.starts_with("fd00:99::"))
    };
    let mut address = None;
    for _ in 0..40 {
        host.advertise_prefix("bridge0", "fd00:99::".parse().expect("prefix"));
        address = slaac("jail-a");
        if address.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let address = address.expect("jail-a got no address from the advertised prefix");
    assert!(address.ends_with("/64"), "{address}");
    assert_has_route(&jail_routes(&host, "jail-a", "-6"), "default via fe80::");
    assert_eq!(slaac("jail-b"), None, "jail-b took the advertised prefix");
    assert!(!jail_routes(&host, "jail-b", "-6")
        .iter()
        .any(|r| r.starts_with("default")));
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}
