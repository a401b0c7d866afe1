//! Two sandbox "hosts", each running ioc jails on a bridge network list, the bridges joined by
//! a VXLAN link over an underlay the test builds as an administrator would; jails on
//! different hosts reach each other. Each host's host-local range is its own slice of the
//! shared subnet, so no address is leased twice. Needs root.

use serde_json::json;

use crate::net::{cannot_run, CniHost};

/// Joins `host`'s bridge `cnivx` to the other host through VXLAN 42 over `ul0`.
fn prepare(cni: &CniHost, underlay: &str, remote: &str) {
    let host = &cni.host;
    host.add_address("ul0", underlay);
    host.ip(["link", "set", "ul0", "up"]);
    host.add_bridge("cnivx", None);
    host.ip([
        "link", "add", "vx42", "type", "vxlan", "id", "42", "remote", remote, "dstport", "4789",
        "dev", "ul0",
    ]);
    host.ip(["link", "set", "vx42", "master", "cnivx", "up"]);
}

fn write_list(cni: &CniHost, range: (&str, &str)) {
    cni.write_list(
        "overlay",
        vec![json!({
            "type": "bridge",
            "bridge": "cnivx",
            "isGateway": false,
            "mtu": 1450,
            "ipam": cni.host_local("10.60.0.0/24", Some(range)),
        })],
    );
}

#[test]
fn jails_on_two_hosts_reach_each_other_over_vxlan() {
    if cannot_run() {
        return;
    }
    let a = CniHost::new();
    let b = CniHost::new();
    a.host.ip([
        "link",
        "add",
        "ul0",
        "type",
        "veth",
        "peer",
        "name",
        "ul0",
        "netns",
        b.host.name(),
    ]);
    prepare(&a, "192.168.50.1/24", "192.168.50.2");
    prepare(&b, "192.168.50.2/24", "192.168.50.1");
    write_list(&a, ("10.60.0.10", "10.60.0.99"));
    write_list(&b, ("10.60.0.100", "10.60.0.199"));
    a.create("web-a", "overlay", &[]);
    b.create("web-b", "overlay", &[]);
    a.host.ok(["start", "web-a"]);
    b.host.ok(["start", "web-b"]);
    assert_eq!(a.ip4("web-a"), "eth0|10.60.0.10/24");
    assert_eq!(b.ip4("web-b"), "eth0|10.60.0.100/24");
    a.host.assert_pings("web-a", &["10.60.0.100"]);
    b.host.assert_pings("web-b", &["10.60.0.10"]);
    a.host
        .stop_and_check_clean("web-a", &["lo", "ul0", "cnivx", "vx42"]);
    b.host
        .stop_and_check_clean("web-b", &["lo", "ul0", "cnivx", "vx42"]);
    assert_eq!(a.leases("overlay"), Vec::<String>::new());
}
