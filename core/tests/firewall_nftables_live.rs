//! The nftables backend against the real kernel, in a private network namespace.
//!
//! Needs root and nftables; skips with the reason otherwise, and fails under `CI=true`. The
//! namespace belongs to one test thread (`unshare(CLONE_NEWNET)`), so nothing here can touch
//! the host's network, and the kernel removes the namespace when the thread ends, whether the
//! test passed or panicked.

#![cfg(target_os = "linux")]

mod firewall_support;
// The workspace's one rule for tests that cannot run here, shared as source (see the file).
#[path = "../../tests/src/live_netns.rs"]
mod live_netns;
#[path = "../../tests/src/skip.rs"]
mod skip;

use std::process::Command;

use firewall_support::{load, myjail, myjail_params, myjail_policy};
use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::plugins::LoadedPlugin;
use ioc_core::runtime::RunDir;
use ioc_sdk::{Hook, HostOp, HostReply, NftFamily, Platform};
use live_netns::{in_private_netns, sh};

/// Why this machine cannot run these tests, or `None`.
fn skip_reason() -> Option<String> {
    live_netns::skip_reason(
        "nftables rules in a private network namespace",
        &["ip", "nft"],
    )
}

/// The nftables plugin and a run dir for its host, or `None` (having said why) when this
/// machine cannot run these tests.
fn nftables_plugin() -> Option<(LoadedPlugin, tempfile::TempDir)> {
    if skip::skip_unless_ci(skip_reason()) {
        return None;
    }
    Some((load("ioc_plugin_nftables"), tempfile::tempdir().unwrap()))
}

/// Tables an admin might have; ioc must leave them exactly as they are.
const ADMIN_RULES: &str = "
table inet admin {
    set trusted { type ipv4_addr; elements = { 192.0.2.1, 192.0.2.7 } }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr @trusted counter accept
        tcp dport 22 accept
    }
}
table bridge filter {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ether type vlan counter drop
    }
}
";

fn admin_tables() -> String {
    sh(&["nft", "list", "table", "inet", "admin"], None)
        + &sh(&["nft", "list", "table", "bridge", "filter"], None)
}

/// The tables of ioc in the calling thread's namespace (`netdev ioc-*`), by name.
fn ioc_tables() -> Vec<String> {
    sh(&["nft", "list", "tables"], None)
        .lines()
        .filter_map(|l| l.strip_prefix("table netdev ioc-"))
        .map(|port| format!("ioc-{port}"))
        .collect()
}

/// One port's table, as `nft` lists it.
fn port_table(port: &str) -> String {
    sh(
        &["nft", "list", "table", "netdev", &format!("ioc-{port}")],
        None,
    )
}

/// The typed nftables queries ask the kernel for that one table or chain: present, missing
/// chain and missing table, in the calling thread's namespace only.
#[test]
fn existence_queries_see_exactly_the_tables_and_chains_that_exist() {
    if skip::skip_unless_ci(skip_reason()) {
        return;
    }
    let run = tempfile::tempdir().unwrap();
    in_private_netns(|| {
        let mut host = LinuxHost::new(&RunDir::new(run.path()));
        let params = myjail_params();
        let mut ask = |op: HostOp| match host.perform(&params, &op) {
            Ok(HostReply::Flag(exists)) => exists,
            other => panic!("{op:?}: {other:?}"),
        };
        let table = |family| HostOp::NftTableExists {
            family,
            table: "ioc".into(),
        };
        let chain = |family, chain: &str| HostOp::NftChainExists {
            family,
            table: "ioc".into(),
            chain: chain.into(),
        };
        assert!(!ask(table(NftFamily::Bridge)));
        assert!(!ask(chain(NftFamily::Bridge, "prerouting")));
        sh(
            &["nft", "-f", "-"],
            Some(
                "add table bridge ioc\n\
                 add chain bridge ioc prerouting { type filter hook prerouting priority 0; }\n",
            ),
        );
        assert!(ask(table(NftFamily::Bridge)));
        assert!(ask(chain(NftFamily::Bridge, "prerouting")));
        assert!(!ask(chain(NftFamily::Bridge, "forward")));
        assert!(!ask(table(NftFamily::Inet)), "other family");
        assert!(!ask(chain(NftFamily::Inet, "prerouting")), "other family");
        // Whether nftables can be used at all: yes here, whatever exists.
        assert!(matches!(
            host.perform(&params, &HostOp::NftReady),
            Ok(HostReply::Done)
        ));
    });
    // The namespace is gone with its thread, and the host's was never asked.
}

#[test]
fn nftables_backend_filters_one_port_and_leaves_everything_else_alone() {
    let Some((plugin, run)) = nftables_plugin() else {
        return;
    };
    in_private_netns(|| {
        sh(&["ip", "link", "add", "bridge0", "type", "bridge"], None);
        for port in ["vnet0.5", "vnet0.6"] {
            let peer = format!("{port}p");
            sh(
                &[
                    "ip", "link", "add", port, "type", "veth", "peer", "name", &peer,
                ],
                None,
            );
        }
        sh(&["nft", "-f", "-"], Some(ADMIN_RULES));
        let admin_before = admin_tables();

        let jail = myjail(Platform::Linux, "nftables");
        let mut host = LinuxHost::new(&RunDir::new(run.path()));
        let ops = std::cell::RefCell::new(Vec::<String>::new());
        let mut call = |hook: Hook| {
            firewall_support::call(&plugin, hook, &jail, |op: &HostOp| {
                ops.borrow_mut().push(op.name().to_string());
                perform(&mut host, op)
            })
        };

        call(Hook::FirewallReady).expect("nftables is ready");
        let dual = myjail_policy("vnet0.5", &["10.23.42.2", "2001:db8::2"]);
        call(Hook::FirewallInstall(dual.clone())).expect("install vnet0.5");
        let other = myjail_policy("vnet0.6", &["10.23.42.3"]);
        call(Hook::FirewallInstall(other.clone())).expect("install vnet0.6");
        // Readiness asks one question; each install registers the table's deletion, commits
        // the table (created exclusively: nothing asks whether a leftover is there), then
        // joins the bridge.
        assert_eq!(
            *ops.borrow(),
            [
                "nft-ready",
                "register-undo",
                "nft-commit",
                "add-bridge-members",
                "register-undo",
                "nft-commit",
                "add-bridge-members"
            ]
        );

        assert_eq!(ioc_tables(), ["ioc-vnet0.5", "ioc-vnet0.6"]);
        let table = port_table("vnet0.5");
        for needle in [
            "chain from {",
            "type filter hook ingress device \"vnet0.5\" priority filter; policy drop;",
            "chain to {",
            "type filter hook egress device \"vnet0.5\" priority filter; policy drop;",
            "ip6 saddr != @allowed6 ip6 saddr != :: drop",
            "elements = { 10.23.42.2 }",
            "elements = { 2001:db8::2,",
        ] {
            assert!(table.contains(needle), "{needle} missing from\n{table}");
        }
        assert!(port_table("vnet0.6").contains("elements = { 10.23.42.3 }"));
        for port in ["vnet0.5", "vnet0.6"] {
            let link = sh(&["ip", "-o", "link", "show", port], None);
            assert!(link.contains("master bridge0"), "{link}");
        }

        // Installing again (a restart after a crash) replaces the port's table, never piles
        // rules up.
        call(Hook::FirewallInstall(dual.clone())).expect("install vnet0.5 again");
        assert_eq!(port_table("vnet0.5"), table);

        call(Hook::FirewallRemove(dual.clone())).expect("remove vnet0.5");
        assert_eq!(ioc_tables(), ["ioc-vnet0.6"]);
        call(Hook::FirewallRemove(dual.clone())).expect("remove vnet0.5 twice");
        call(Hook::FirewallRemove(other.clone())).expect("remove vnet0.6");
        assert_eq!(ioc_tables(), Vec::<String>::new());

        assert_eq!(
            admin_tables(),
            admin_before,
            "ioc changed the admin's tables"
        );
    });
}

#[test]
fn nftables_removal_succeeds_when_install_never_ran() {
    let Some((plugin, run)) = nftables_plugin() else {
        return;
    };
    in_private_netns(|| {
        let policy = myjail_policy("vnet0.5", &["10.23.42.2"]);
        on_linux(&plugin, run.path(), Hook::FirewallRemove(policy))
            .expect("removing what was never installed is not an error");
        assert_eq!(ioc_tables(), Vec::<String>::new());
    });
}

/// Named network namespaces made for one test, deleted again when it ends, also on panic.
struct Namespaces(Vec<String>);

impl Namespaces {
    fn new(roles: &[&str]) -> Namespaces {
        let ns = Namespaces(
            roles
                .iter()
                .map(|r| format!("ioc-fwt-{}-{r}", std::process::id()))
                .collect(),
        );
        for name in &ns.0 {
            sh(&["ip", "netns", "add", name], None);
        }
        ns
    }

    fn name(&self, i: usize) -> &str {
        &self.0[i]
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// `ip netns exec NS ARGS...`, returning whether it succeeded.
fn ok_in(ns: &str, argv: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether `argv` succeeds in `ns` within a few seconds, retrying. For traffic that must pass:
/// the first try can fall in a neighbour-resolution window left by an earlier dropped packet
/// (an INCOMPLETE ARP entry only re-probes once a second), which is not what the test checks.
fn passes_in(ns: &str, argv: &[&str]) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    loop {
        if ok_in(ns, argv) {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn in_ns(ns: &str, argv: &[&str]) {
    let mut full = vec!["ip", "netns", "exec", ns];
    full.extend_from_slice(argv);
    sh(&full, None);
}

/// Runs one hook of the nftables plugin for `myjail` on the real Linux host of the calling
/// thread's network namespace.
fn on_linux(plugin: &LoadedPlugin, run_dir: &std::path::Path, hook: Hook) -> Result<(), String> {
    let mut linux = LinuxHost::new(&RunDir::new(run_dir));
    firewall_support::call(
        plugin,
        hook,
        &myjail(Platform::Linux, "nftables"),
        |op: &HostOp| perform(&mut linux, op),
    )
}

/// Carries out a plugin's request as the lifecycle would: an undo it registers is the
/// journal's to keep (there is none here), everything else is the host's.
fn perform(host: &mut LinuxHost, op: &HostOp) -> Result<HostReply, ioc_sdk::HostError> {
    match op {
        HostOp::RegisterUndo { .. } => Ok(HostReply::Done),
        _ => host.perform(&myjail_params(), op),
    }
}

/// Runs `body` on a thread that has entered the named network namespace.
fn entered<T: Send>(ns: &str, body: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let fd = std::fs::File::open(&path).expect("open the namespace");
            nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the namespace");
            body()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The jail's own IPv4 and IPv6 traffic passes both ways (after IPv6 duplicate address
/// detection, which the filter must let through); a changed source address or MAC does not.
/// A smoke test of the rules; the full spoofing matrix drives a real jail.
#[test]
fn nftables_filter_passes_own_traffic_and_drops_spoofed_sources() {
    let Some((plugin, run)) = nftables_plugin() else {
        return;
    };
    let ns = Namespaces::new(&["host", "jail"]);
    let (host, jail) = (ns.name(0).to_string(), ns.name(1).to_string());
    in_ns(&host, &["ip", "link", "add", "bridge0", "type", "bridge"]);
    in_ns(
        &host,
        &["ip", "addr", "add", "10.23.42.1/24", "dev", "bridge0"],
    );
    in_ns(
        &host,
        &[
            "ip",
            "addr",
            "add",
            "2001:db8::1/64",
            "dev",
            "bridge0",
            "nodad",
        ],
    );
    in_ns(&host, &["ip", "link", "set", "bridge0", "up"]);
    in_ns(
        &host,
        &[
            "ip",
            "link",
            "add",
            "vnet0.5",
            "type",
            "veth",
            "peer",
            "name",
            "vnet0",
            "address",
            "02:ff:60:cb:49:49",
            "netns",
            &jail,
        ],
    );
    in_ns(&host, &["ip", "link", "set", "vnet0.5", "up"]);
    in_ns(
        &jail,
        &["ip", "addr", "add", "10.23.42.2/24", "dev", "vnet0"],
    );
    in_ns(
        &jail,
        &["ip", "addr", "add", "2001:db8::2/64", "dev", "vnet0"],
    );
    in_ns(&jail, &["ip", "link", "set", "vnet0", "up"]);

    let policy = myjail_policy("vnet0.5", &["10.23.42.2", "2001:db8::2"]);
    entered(&host, || {
        on_linux(&plugin, run.path(), Hook::FirewallInstall(policy.clone()))
    })
    .expect("install");

    // Duplicate address detection (NS from ::) must get through for the address to be usable.
    let settled = (0..40).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let out = Command::new("ip")
            .args([
                "netns", "exec", &jail, "ip", "-6", "addr", "show", "dev", "vnet0",
            ])
            .output()
            .unwrap();
        !String::from_utf8_lossy(&out.stdout).contains("tentative")
    });
    assert!(settled, "IPv6 addresses stayed tentative");
    let ping = ["ping", "-c", "1", "-W", "1"];
    for target in ["10.23.42.1", "2001:db8::1"] {
        let argv = [&ping[..], &[target]].concat();
        assert!(passes_in(&jail, &argv), "jail -> {target} must pass");
    }
    for target in ["10.23.42.2", "2001:db8::2"] {
        let argv = [&ping[..], &[target]].concat();
        assert!(passes_in(&host, &argv), "host -> {target} must pass");
    }

    in_ns(
        &jail,
        &["ip", "addr", "add", "10.23.42.9/24", "dev", "vnet0"],
    );
    let argv = [&ping[..], &["-I", "10.23.42.9", "10.23.42.1"]].concat();
    assert!(
        !ok_in(&jail, &argv),
        "a changed IPv4 source must be dropped"
    );
    in_ns(
        &jail,
        &[
            "ip",
            "addr",
            "add",
            "2001:db8::9/64",
            "dev",
            "vnet0",
            "nodad",
        ],
    );
    let argv = [&ping[..], &["-I", "2001:db8::9", "2001:db8::1"]].concat();
    assert!(
        !ok_in(&jail, &argv),
        "a changed IPv6 source must be dropped"
    );
    in_ns(
        &jail,
        &["ip", "link", "set", "vnet0", "address", "02:ff:60:00:00:01"],
    );
    in_ns(&host, &["ip", "neigh", "flush", "dev", "bridge0"]);
    let argv = [&ping[..], &["10.23.42.1"]].concat();
    assert!(!ok_in(&jail, &argv), "a changed MAC must be dropped");

    // Control: without the filter the same spoofed traffic passes, so the drops above were
    // the filter's doing.
    entered(&host, || {
        on_linux(&plugin, run.path(), Hook::FirewallRemove(policy.clone()))
    })
    .expect("remove");
    in_ns(&jail, &["ip", "neigh", "flush", "dev", "vnet0"]);
    let argv = [&ping[..], &["-I", "10.23.42.9", "10.23.42.1"]].concat();
    assert!(
        passes_in(&jail, &argv),
        "unfiltered, the spoofed ping must pass"
    );
}
