//! Attacks: what a secure jail may send (no lie about its addresses) and receive (only what
//! is addressed to it), each frame checked against a plain VNET jail that lets it through.

use ioc_tests::probes::{
    addressed_to, arrivals, attacks_from, honest_from, marker, not_addressed_to, side_by_side,
    table, words, FAKE_MAC, ROGUE_PREFIX,
};
use ioc_tests::require_root;

use crate::lan::{Lan, Place};
use crate::IDLE;

#[test]
fn a_secure_jail_cannot_spoof_but_a_plain_one_can() {
    require_root!();
    attack_matrix(Lan::new());
}

/// The same matrix from a Secure VNET jail with a root and a process table of its own.
#[test]
fn a_secure_jail_with_its_own_root_cannot_spoof_either() {
    require_root!();
    if let Some(lan) = Lan::rooted() {
        attack_matrix(lan);
    }
}

/// Every attack of the probe tables from `myjail` (Secure VNET) and `plainjail` (the control
/// that shows each attack works), toward the observer; then what the attacks did to the LAN.
fn attack_matrix(mut lan: Lan) {
    lan.start();
    let observer = lan.observer_place();
    let (o, v) = (lan.observer.clone(), lan.victim.clone());

    let mut rows = Vec::new();
    let mut honest_rows = Vec::new();
    let mut state = Vec::new();
    for (jail, a) in [
        ("myjail", lan.secure.clone()),
        ("plainjail", lan.plain.clone()),
    ] {
        let attacks = attacks_from(&a, &v, &o);
        let honest = honest_from(&a, &o);
        let frames: Vec<Vec<String>> = honest
            .iter()
            .chain(&attacks)
            .map(|p| p.frame.clone())
            .collect();
        // The observer asks for the victim's MAC, so the attacker's ARP reply answers a real
        // request (the filter must drop it all the same).
        lan.send(
            &observer,
            &words(format!(
                "arp op=request sender-ip={} target-ip={}",
                o.ip4, v.ip4
            )),
        );
        let seen = lan.deliver(
            &Place::Jail(jail),
            &observer,
            &frames,
            &marker(&a, &o, &format!("end-from-{jail}")),
        );
        rows.push(arrivals(&attacks, &seen));
        honest_rows.push(arrivals(&honest, &seen));
        // What the attacks did to the observer's view of the LAN.
        state.push((
            lan.observer_neighbour(v.ip4),
            lan.observer_neighbour(v.ip6),
            lan.observer_took_prefix(ROGUE_PREFIX),
            lan.learned_macs().contains(FAKE_MAC),
            seen,
        ));
    }
    let (attacks, honest) = (side_by_side(&rows), side_by_side(&honest_rows));
    let report = table("from the jail to a peer on bridge0", &attacks)
        + &table("honest frames, crafted the same way", &honest);
    eprintln!("{report}");
    let received = |i: usize| state[i].4.join("\n");
    for &(name, secure, plain) in &attacks {
        assert!(
            !secure,
            "{name}: passed the Secure VNET filter\n{report}\nreceived:\n{}",
            received(0)
        );
        assert!(
            plain,
            "{name}: did not arrive from the plain jail, so the test cannot see it\n{report}\nreceived:\n{}",
            received(1)
        );
    }
    for &(name, secure, plain) in &honest {
        assert!(secure && plain, "honest {name} was dropped\n{report}");
    }

    // The secure jail's attempts changed nothing the observer believes...
    let (v4, v6, rogue, fake, _) = &state[0];
    let vm = Some(v.mac.to_string());
    assert_eq!(
        (v4, v6),
        (&vm, &vm),
        "secure attacks poisoned the observer's neighbour table"
    );
    assert_eq!(
        lan.observer_neighbour(lan.secure.ip4),
        Some(lan.secure.mac.to_string())
    );
    assert!(!rogue, "the observer took the secure jail's rogue prefix");
    assert!(!fake, "bridge0 learned the secure jail's fake MAC");
    // ... while the plain jail's took over the victim's addresses and pushed a prefix.
    let (v4, v6, rogue, fake, _) = &state[1];
    let am = Some(lan.plain.mac.to_string());
    assert_eq!(
        (v4, v6),
        (&am, &am),
        "the plain jail's spoofing did not poison the observer"
    );
    assert!(
        rogue,
        "the observer ignored the plain jail's router advertisement"
    );
    assert!(fake, "bridge0 did not learn the plain jail's fake MAC");

    lan.host.ok(["stop", "myjail,plainjail,victim"]);
    lan.host.assert_clean(IDLE);
}

#[test]
fn a_secure_jail_receives_only_what_is_addressed_to_it() {
    require_root!();
    let mut lan = Lan::new();
    lan.start();
    let observer = lan.observer_place();
    let o = lan.observer.clone();

    let mut rows: Vec<Vec<(&'static str, bool)>> = Vec::new();
    let mut wanted: Vec<Vec<(&'static str, bool)>> = Vec::new();
    let mut received = Vec::new();
    for (jail, t) in [
        ("myjail", lan.secure.clone()),
        ("plainjail", lan.plain.clone()),
    ] {
        let foreign = not_addressed_to(&t, &o);
        let own = addressed_to(&t, &o);
        let frames: Vec<Vec<String>> = foreign
            .iter()
            .chain(&own)
            .map(|p| p.frame.clone())
            .collect();
        let seen = lan.deliver(
            &observer,
            &Place::Jail(jail),
            &frames,
            &marker(&o, &t, &format!("end-to-{jail}")),
        );
        rows.push(arrivals(&foreign, &seen));
        wanted.push(arrivals(&own, &seen));
        received.push(seen.join("\n"));
    }
    let (foreign, own) = (side_by_side(&rows), side_by_side(&wanted));
    let report =
        table("from a peer on bridge0 to the jail", &foreign) + &table("frames for the jail", &own);
    eprintln!("{report}");
    for &(name, secure, plain) in &foreign {
        assert!(
            !secure,
            "{name}: reached the secure jail\n{report}\n{}",
            received[0]
        );
        assert!(
            plain,
            "{name}: did not reach the plain jail either\n{report}\n{}",
            received[1]
        );
    }
    for &(name, secure, plain) in &own {
        assert!(
            secure && plain,
            "{name} was dropped\n{report}\n{}",
            received[0]
        );
    }
    lan.host.ok(["stop", "myjail,plainjail,victim"]);
    lan.host.assert_clean(IDLE);
}
