//! Today's networking, unchanged on a jail with its own root: the network namespace is still
//! what the modes plug into.

use ioc_tests::netns::pings_from;

use crate::Rooted;

#[test]
fn the_seed_works_with_roots() {
    let Some(mut t) = Rooted::new() else { return };
    let peer = t.host.add_peer("bridge0", "10.23.42.9/24");
    t.create("jail-a", ":", 2, &[]);
    t.create("jail-b", ":", 3, &[]);
    t.host.ok(["start", "jail-a,jail-b"]);
    for jail in ["jail-a", "jail-b"] {
        t.host.assert_pings(jail, &["10.23.42.1", "10.23.42.9"]);
    }
    t.host.assert_pings("jail-a", &["10.23.42.3"]);
    assert!(pings_from(&peer, "10.23.42.2"));
    t.host
        .stop_and_check_clean("jail-a,jail-b", &["lo", "bridge0", "peer0"]);
}

#[test]
fn a_secure_jail_with_a_root_cannot_spoof_its_source() {
    let Some(mut t) = Rooted::new() else { return };
    let peer = t.host.add_peer("bridge0", "10.23.42.9/24");
    t.create("myjail", "::", 2, &[]);
    t.create("plain", ":", 4, &[]);
    t.host.ok(["start", "myjail,plain"]);
    // The control: a plain VNET jail with a root sends from another address of its own.
    t.sh("plain", "ip addr add 10.23.42.98/24 dev vnet0");
    assert!(t
        .host
        .exec(
            "plain",
            &[
                "ping",
                "-c",
                "1",
                "-W",
                "2",
                "-I",
                "10.23.42.98",
                "10.23.42.9"
            ]
        )
        .status
        .success());
    t.host.assert_pings("myjail", &["10.23.42.9"]);
    // Another address on its own interface: the filter drops what it sends from there.
    t.sh("myjail", "ip addr add 10.23.42.99/24 dev vnet0");
    let spoofed = t.host.exec(
        "myjail",
        &[
            "ping",
            "-c",
            "2",
            "-W",
            "1",
            "-I",
            "10.23.42.99",
            "10.23.42.9",
        ],
    );
    assert!(!spoofed.status.success(), "a spoofed source got through");
    assert!(!pings_from(&peer, "10.23.42.99"));
    t.host.assert_pings("myjail", &["10.23.42.9"]);
    t.host
        .stop_and_check_clean("myjail,plain", &["lo", "bridge0", "peer0"]);
}
