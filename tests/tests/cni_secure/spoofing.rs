//! The spoofing matrix of the Secure VNET tests, from a CNI container: each attack frame is
//! dropped when the network list has `ioc-secure`, and arrives through the same list without
//! it (so its absence is the filter's doing). Honest frames, crafted the same way, pass both.
//!
//! Each list gets its own sandbox host: the bridge plugin's `cnisec0` (10.23.42.1), the
//! attacker (10.23.42.2, fd00:23::2, from host-local), the victim whose addresses it claims
//! (.3, ::3), and an observer peer plugged into the bridge by hand (.100, ::100) that sees
//! what crosses it.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ioc_tests::netns::{in_netns, ip_in, parse_links, wait_for_line, Background};
use ioc_tests::probes::{
    arrivals, attacks_from, honest_from, marker, node, side_by_side, table, words, Node,
};
use serde_json::{json, Value};

use crate::harness::{Container, Runtime};
use crate::require_cni;

/// The frame tool of this crate.
const FRAME: &str = env!("CARGO_BIN_EXE_ioc-frame");
const BRIDGE: &str = "cnisec0";

/// A node from a CNI result: the container's MAC and its two addresses.
fn node_of(result: &Value) -> Node {
    let mac = result["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i.get("sandbox").is_some())
        .and_then(|i| i["mac"].as_str())
        .expect("the container's MAC");
    let address = |v6: bool| {
        result["ips"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|ip| ip["address"].as_str())
            .map(|a| a.split('/').next().unwrap().to_string())
            .find(|a| a.contains(':') == v6)
            .expect("an address")
    };
    Node {
        mac: mac.parse().unwrap(),
        ip4: address(false).parse().unwrap(),
        ip6: address(true).parse().unwrap(),
    }
}

/// `ioc-frame listen` on a namespace's eth0 until a line contains `until`.
fn listen(ns: &str, until: &str, out: &PathBuf) -> Background {
    let mut command = in_netns(ns, FRAME);
    command
        .args(["listen", "eth0", "ms=15000"])
        .arg(format!("until={until}"))
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::piped());
    let mut process = Background::spawn(command);
    let stderr = process.take_stderr().unwrap();
    if let Err(lines) = wait_for_line(stderr, "listening on", Duration::from_secs(10)) {
        panic!("ioc-frame listen in {ns} did not start: {lines:?}");
    }
    process
}

fn send(ns: &str, frame: &[String]) {
    let out = in_netns(ns, FRAME)
        .args(["send", "eth0"])
        .args(frame)
        .output()
        .unwrap();
    assert!(out.status.success(), "ioc-frame send {frame:?}: {out:?}");
}

/// One list's run: the attacker's frames as the observer received them.
struct Run {
    attacks: Vec<(&'static str, bool)>,
    honest: Vec<(&'static str, bool)>,
}

fn run(secure: bool) -> Run {
    let mut rt = Runtime::new();
    let more = if secure {
        vec![rt.secure(json!({}))]
    } else {
        Vec::new()
    };
    let list = rt.list("lan", "1.0.0", BRIDGE, &more);
    let (attacker, victim) = (Container::new("attacker"), Container::new("victim"));
    let added = rt.ok(&list, "add", &[attacker.arg(), victim.arg()], false);
    let (a, v) = (node_of(&added[0].result), node_of(&added[1].result));
    assert_eq!((a.ip4.octets()[3], v.ip4.octets()[3]), (2, 3));
    let observer_ns = rt.host.add_peer(BRIDGE, "10.23.42.100/24");
    ip_in(
        &observer_ns,
        ["addr", "add", "fd00:23::100/64", "dev", "eth0", "nodad"],
    );
    let json = ip_in(&observer_ns, ["-j", "link", "show", "eth0"]);
    let o = node(&parse_links(&json).pop().unwrap().mac, 100);

    let attacks = attacks_from(&a, &v, &o);
    let honest = honest_from(&a, &o);
    // The ARP reply probe answers a real request of the observer's.
    send(
        &observer_ns,
        &words(format!(
            "arp op=request sender-ip={} target-ip={}",
            o.ip4, v.ip4
        )),
    );
    let tag = if secure { "end-secure" } else { "end-plain" };
    let out = rt.host.dir().join("capture.txt");
    let mut capture = listen(&observer_ns, &format!("tag={tag}"), &out);
    for probe in honest.iter().chain(&attacks) {
        send(&attacker.ns, &probe.frame);
    }
    send(&attacker.ns, &marker(&a, &o, tag));
    capture.wait();
    let mut text = String::new();
    File::open(&out).unwrap().read_to_string(&mut text).unwrap();
    let seen: Vec<String> = text.lines().map(String::from).collect();
    assert!(
        seen.iter().any(|l| l.contains(&format!("tag={tag}"))),
        "the end marker never arrived ({}): {text}",
        if secure { "secure" } else { "plain" }
    );
    let result = Run {
        attacks: arrivals(&attacks, &seen),
        honest: arrivals(&honest, &seen),
    };
    rt.ok(&list, "del", &[attacker.arg(), victim.arg()], false);
    assert!(rt.tables().is_empty());
    result
}

#[test]
fn a_container_behind_ioc_secure_cannot_spoof_but_one_without_can() {
    require_cni!();
    let (secure, plain) = (run(true), run(false));
    let attacks = side_by_side(&[secure.attacks, plain.attacks]);
    let honest = side_by_side(&[secure.honest, plain.honest]);
    let report = table("from a CNI container to a peer on the bridge", &attacks)
        + &table("honest frames, crafted the same way", &honest);
    eprintln!("{report}");
    for &(name, secure, plain) in &attacks {
        assert!(!secure, "{name}: passed ioc-secure\n{report}");
        assert!(
            plain,
            "{name}: did not arrive without ioc-secure, so the test cannot see it\n{report}"
        );
    }
    for &(name, secure, plain) in &honest {
        assert!(secure && plain, "honest {name} was dropped\n{report}");
    }
}
