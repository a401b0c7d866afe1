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

/// A stop of many jails reads the host's processes once for several jails (issue 15): a jail
/// whose daemon was started by `exec_start`, or by its own `exec_stop` during the stop, next
/// to jails with none, still has every process ended when `ioc stop` returns, and the host
/// ends of all the pairs are gone by then.
#[test]
fn a_bulk_stop_ends_every_jails_processes_and_leaves_no_interface() {
    require_root!();
    let host = bulk_host();
    // A daemon whose command line carries the run dir, so the clean-host check sees it.
    let daemon = |tag: &str| {
        format!(
            "sh -c 'while :; do sleep 1; done' {} </dev/null >/dev/null 2>&1 &",
            host.sandbox().run_dir().join(tag).display()
        )
    };
    let all: Vec<String> = (0..12).map(|n| format!("p{n:02}")).collect();
    for (n, name) in all.iter().enumerate() {
        let hook = match n % 3 {
            0 => format!("exec_start={}", daemon(name)),
            1 => format!("exec_stop={}", daemon(name)),
            _ => "exec_start=true".to_string(),
        };
        create(&host, name, n as u16, n % 2 == 1, &[&hook]);
    }
    host.ok(["start", &all.join(",")]);
    let out = host.ok(["stop", &all.join(",")]);
    assert!(out.lines().all(|l| l.ends_with(": stopped")), "{out}");
    // No host end of a pair, no process, no mount, no state.
    assert_eq!(host.links().len(), IDLE.len(), "{:?}", host.links());
    host.assert_clean(IDLE);
}
