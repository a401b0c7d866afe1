//! The CNI properties are checked like every property: a clear error naming the jail, the
//! property and the expected value, and nothing written on bad input.

use ioc_tests::{read, Sandbox};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn defaults_and_canonical_forms() {
    let s = Sandbox::new();
    s.ok(["create", "web", "vnet=on"]);
    assert_eq!(s.ok(["get", "cni_network", "web"]).trim(), "none");
    assert_eq!(
        s.ok(["get", "cni_conf_dir", "web"]).trim(),
        "/etc/cni/net.d"
    );
    assert_eq!(
        s.ok(["get", "cni_path", "web"]).trim(),
        "/opt/cni/bin:/usr/lib/cni"
    );
    assert_eq!(s.ok(["get", "cni_ifname", "web"]).trim(), "eth0");
    assert_eq!(s.ok(["get", "cni_secure", "web"]).trim(), "off");
    assert_eq!(s.ok(["get", "cni_bandwidth", "web"]).trim(), "none");
    s.ok([
        "set",
        "network_plugin=cni",
        "cni_network=mynet",
        "cni_conf_dir=/srv/cni/conf",
        "cni_path=/srv/cni/bin: /usr/lib/cni",
        "cni_ifname=net0",
        "cni_secure=yes",
        "cni_bandwidth=out=1000000,in=10M/256K",
        "ip4_addr=net0|10.22.0.9/16",
        "web",
    ]);
    assert_eq!(
        s.ok(["get", "cni_path", "web"]).trim(),
        "/srv/cni/bin:/usr/lib/cni"
    );
    assert_eq!(s.ok(["get", "cni_secure", "web"]).trim(), "on");
    assert_eq!(
        s.ok(["get", "cni_bandwidth", "web"]).trim(),
        "in=10M/256k,out=1M"
    );
    // The CNI interface has MACs like any NIC: generated, shown, and pinnable.
    let generated = s.ok(["get", "net0_mac", "web"]);
    assert_eq!(generated.trim().len(), 2 * 17 + 1, "{generated}");
    s.ok(["set", "net0_mac=02aabbccdd00,02aabbccdd01", "web"]);
    assert_eq!(
        s.ok(["get", "net0_mac", "web"]).trim(),
        "02:aa:bb:cc:dd:00,02:aa:bb:cc:dd:01"
    );
}

#[test]
fn network_plugin_cni_needs_a_network_list() {
    let s = Sandbox::new();
    let out = s.ioc(["create", "web", "vnet=on", "network_plugin=cni"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cni_network"), "{err}");
    assert!(err.contains("web"), "{err}");
    assert!(
        err.contains("expected the name of a CNI network list"),
        "{err}"
    );
    assert!(
        !s.config_file("web").exists(),
        "a refused create left a file"
    );
}

#[test]
fn malformed_cni_values_change_nothing() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "network_plugin=cni",
        "cni_network=mynet",
    ]);
    let battery: &[(&str, &str)] = &[
        ("cni_network=-bad", "Invalid value for property 'cni_network' of jail web: expected none or a CNI network name"),
        ("cni_network=none", "property 'cni_network'"),
        ("cni_conf_dir=relative/dir", "Invalid value for property 'cni_conf_dir' of jail web: expected an absolute directory"),
        ("cni_path=/usr/lib/cni:bin", "Invalid value for property 'cni_path' of jail web: expected absolute directories separated by ':'"),
        ("cni_ifname=0eth", "Invalid value for property 'cni_ifname' of jail web: expected an interface name"),
        ("cni_secure=maybe", "Invalid value for property 'cni_secure' of jail web: expected on or off"),
        ("cni_bandwidth=in=fast", "Invalid value for property 'cni_bandwidth' of jail web: expected none or in=RATE"),
        ("cni_bandwidth=up=1M", "expected none or in=RATE"),
        ("vnet=off", "expected on with network_plugin=cni"),
        ("interfaces=vnet0:bridge0", "expected none with network_plugin=cni"),
        ("nat=on", "expected off with network_plugin=cni"),
        ("defaultrouter=10.0.0.1", "routes come from the CNI result"),
        ("ip4_addr=eth0|dhcp", "expected none (the IPAM plugin's address) or static addresses on cni_ifname written eth0|ADDRESS/PREFIX"),
        ("ip4_addr=vnet0|10.0.0.2/24", "static addresses on cni_ifname"),
        ("vnet0_mac=02aabbccdd00,02aabbccdd01", "needs the NIC 'vnet0'"),
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
