//! 200 jails, half plain and half Secure VNET, started and stopped in one command each.

use ioc_tests::require_root;

use crate::{bulk_host, create, names, IDLE};

/// The nftables tables of ioc in the sandbox.
fn ioc_tables(host: &ioc_tests::netns::HostNs) -> Vec<String> {
    let out = host
        .command("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(" ioc"))
        .map(str::to_string)
        .collect()
}

#[test]
fn two_hundred_jails_start_and_stop_in_one_command_with_nothing_left() {
    require_root!();
    let host = bulk_host();
    host.ok(["set", "boot=on", "defaults"]);
    let all: Vec<String> = (0..200).map(|n| format!("j{n:03}")).collect();
    for (n, name) in all.iter().enumerate() {
        create(&host, name, n as u16, n % 2 == 1, &[]);
    }
    let out = host.ok(["start", "--rc"]);
    assert_eq!(names(&out), all, "{out}");
    assert_eq!(host.runtime_jails().len(), 200);
    assert_eq!(host.links().len(), IDLE.len() + 200);

    let out = host.ok(["stop", "--rc"]);
    let mut stopped = names(&out);
    stopped.reverse();
    assert_eq!(stopped, all, "{out}");
    assert!(out.lines().all(|l| l.ends_with(": stopped")), "{out}");
    // Nothing left the moment ioc stop returns: links, mounts, state, processes, rules.
    host.assert_clean(IDLE);
    assert_eq!(ioc_tables(&host), Vec::<String>::new());
    let netns = host
        .command("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip");
    let listed = String::from_utf8_lossy(&netns.stdout);
    assert!(!listed.contains("j0"), "namespaces left: {listed}");
}
