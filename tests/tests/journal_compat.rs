//! Journals written by an older ioc are still undone completely by this one.
//!
//! Each test starts a jail for real (so its host pieces exist), then puts in place of its
//! journal the journal that ioc wrote before journals had a format header (format 1) for the
//! very same jail in the very same sandbox, and checks that `ioc stop` reading that old journal
//! removes every piece: links, firewall rules, host aliases, and a plugin's registered undo.
#![cfg(target_os = "linux")]

use std::path::Path;

use ioc_tests::netns::{in_netns, HostNs};
use ioc_tests::require_root;

const V1_SECURE_VNET: &str = include_str!("../../core/src/journal/fixtures/v1-secure-vnet.jsonl");
const V1_SHARED_IP: &str = include_str!("../../core/src/journal/fixtures/v1-shared-ip.jsonl");

/// Replaces `jail`'s journal by `old`, with `@DIR@` standing for the sandbox's directory.
fn put_old_journal(host: &HostNs, jail: &str, old: &str) {
    let path = host
        .sandbox()
        .run_dir()
        .join("jails")
        .join(jail)
        .join("journal");
    let current = std::fs::read_to_string(&path).expect("the running jail's journal");
    assert!(current.starts_with("{\"ioc_journal\":2}\n"), "{current}");
    let old = old.replace("@DIR@", &host.dir().display().to_string());
    std::fs::write(&path, old).expect("write the old journal");
}

fn ruleset(host: &HostNs) -> String {
    let out = in_netns(host.name(), "nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_format_1_secure_vnet_journal_is_undone_completely() {
    require_root!();
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host.add_address("bridge0", "fd00:23::1/64");
    host.ok([
        "create",
        "myjail",
        "vnet=on",
        "interfaces=vnet0::bridge0,vnet1::bridge0",
        "ip4_addr=vnet0|10.23.42.2/24,vnet1|10.23.42.12/24",
        "ip6_addr=vnet0|fd00:23::2/64",
        "defaultrouter=10.23.42.1",
        "defaultrouter6=fd00:23::1",
    ]);
    host.ok(["start", "myjail"]);
    assert!(ruleset(&host).contains("vnet0.1"));
    // The plugin undo of the old journal removes this file.
    let marker = host.dir().join("marker");
    std::fs::write(&marker, "").unwrap();
    put_old_journal(&host, "myjail", V1_SECURE_VNET);

    host.stop_and_check_clean("myjail", &["lo", "bridge0"]);
    let rules = ruleset(&host);
    assert!(
        !rules.contains("vnet0.1") && !rules.contains("vnet1.1"),
        "{rules}"
    );
    assert!(
        !Path::new(&marker).exists(),
        "the plugin's undo did not run"
    );
}

#[test]
fn a_format_1_shared_ip_journal_is_undone_completely() {
    require_root!();
    let mut host = HostNs::new();
    host.add_uplink(
        "em0",
        &["10.1.1.1/24", "fd00:10::1/64"],
        &["10.1.1.2/24", "fd00:10::2/64"],
    );
    host.ok([
        "create",
        "sharedjail",
        "vnet=off",
        "ip4_addr=em0|10.1.1.10/24",
        "ip6_addr=em0|fd00:10::10/64",
        "exec_poststop=true",
    ]);
    host.ok(["start", "sharedjail"]);
    let before = host.addresses("em0");
    assert!(before.iter().any(|a| a == "10.1.1.10/24"), "{before:?}");
    put_old_journal(&host, "sharedjail", V1_SHARED_IP);

    host.stop_and_check_clean("sharedjail", &["lo", "em0"]);
    let after = host.addresses("em0");
    assert!(
        !after
            .iter()
            .any(|a| a.starts_with("10.1.1.10/") || a.starts_with("fd00:10::10/")),
        "{after:?}"
    );
}

/// A journal damaged in the middle, or written by a newer ioc, stops `ioc stop` with an error
/// naming the file (and the line), before anything is undone; the intact journal then stops
/// the jail as usual.
#[test]
fn a_damaged_or_newer_journal_is_refused_and_nothing_is_undone() {
    require_root!();
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host.ok([
        "create",
        "jail-a",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
    ]);
    host.ok(["start", "jail-a"]);
    let path = host.sandbox().run_dir().join("jails/jail-a/journal");
    let intact = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = intact.lines().collect();
    assert!(lines.len() > 4, "{intact}");
    lines[3] = "{\"step\":{\"step\":{\"op\":{\"create_pa";
    let damaged = lines.join("\n") + "\n";
    let newer = intact.replacen("{\"ioc_journal\":2}", "{\"ioc_journal\":99}", 1);
    for (text, expected) in [(damaged, "line 4"), (newer, "newer ioc")] {
        std::fs::write(&path, text).unwrap();
        let err = host.fails(["stop", "jail-a"]);
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(
            host.links().iter().any(|l| l.name == "vnet0.1"),
            "undone anyway"
        );
    }
    std::fs::write(&path, intact).unwrap();
    host.stop_and_check_clean("jail-a", &["lo", "bridge0"]);
}
