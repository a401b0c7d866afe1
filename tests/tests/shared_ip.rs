//! Shared-IP jails (`vnet=off`, issue 6), end to end: the real `ioc` in a sandbox "host"
//! network namespace of each test's own, where a veth end plays the host's `em0` and a peer
//! namespace at its other end plays another machine on that segment. Every test needs root
//! and says so when skipped.
//!
//! What matters in this mode is what happens to the host's own interface: the jail's
//! addresses are aliases on it while the jail runs, and stop removes exactly the aliases ioc
//! added, nothing the host (or another jail) holds.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ioc_tests::netns::{answers_now, eventually, fetch_from, pings_from, Background, HostNs};
use ioc_tests::require_root;

/// The sandbox links with no jail running: a shared-IP jail adds none.
const IDLE: &[&str] = &["lo", "em0"];

/// The host's own address on `em0` and the peer's, both families.
const EM0_V4: &str = "10.1.1.1/24";
const EM0_V6: &str = "fd00:10::1/64";
const PEER_V4: &str = "10.1.1.2/24";
const PEER_V6: &str = "fd00:10::2/64";

/// The seed's jail.
const JAIL: &str = "non-vnet-jail";

/// A sandbox host whose `em0` has 10.1.1.1/24 and fd00:10::1/64, with a peer host at the
/// other end (10.1.1.2, fd00:10::2). Returns the host and the peer's namespace.
fn em0_host() -> (HostNs, String) {
    let mut host = HostNs::new();
    let peer = host.add_uplink("em0", &[EM0_V4, EM0_V6], &[PEER_V4, PEER_V6]);
    (host, peer)
}

/// The seed document's shared-IP commands, verbatim.
fn seed(host: &HostNs) {
    host.ok(["create", JAIL]);
    host.ok(["set", "vnet=off", "ip4_addr=em0|10.1.1.10/24", JAIL]);
}

/// Creates a shared-IP jail with the given properties.
fn create(host: &HostNs, jail: &str, properties: &[&str]) {
    let mut args = vec!["create", jail, "vnet=off"];
    args.extend_from_slice(properties);
    host.ok(args);
}

/// What a failed start must leave as it was: every address of the host's links, and its
/// routes of both families.
#[derive(Debug, PartialEq, Eq)]
struct HostNetwork {
    addresses: Vec<(String, Vec<String>)>,
    routes: Vec<String>,
}

fn host_network(host: &HostNs) -> HostNetwork {
    let addresses = host
        .links()
        .into_iter()
        .map(|l| {
            let listed = host.addresses(&l.name);
            (l.name, listed)
        })
        .collect();
    // The main tables: where a default router would go. An address's own local routes follow
    // the addresses, which are compared already.
    let routes = ["-4", "-6"]
        .iter()
        .flat_map(|family| {
            host.ip([family, "route"])
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    HostNetwork { addresses, routes }
}

/// The addresses of `em0`, as a set: the kernel lists IPv4 before IPv6 whatever the order of
/// adding, so only membership is compared.
fn em0(host: &HostNs) -> BTreeSet<String> {
    host.addresses("em0").into_iter().collect()
}

/// `set` plus `more`.
fn with(set: &BTreeSet<String>, more: &[&str]) -> BTreeSet<String> {
    set.iter()
        .cloned()
        .chain(more.iter().map(|a| a.to_string()))
        .collect()
}

/// A file server inside a running jail (`ioc exec JAIL -- busybox httpd`), bound to
/// `address:8080` only, serving one file whose content is `marker`. Ended by the jail's stop
/// at the latest.
fn serve(host: &HostNs, jail: &str, address: &str, marker: &str) -> Background {
    let busybox = std::process::Command::new("busybox").arg("true").output();
    assert!(
        busybox.is_ok_and(|o| o.status.success()),
        "busybox is needed for the server and its client (.ci/run installs it)"
    );
    let dir = host.dir().join(format!("www-{jail}"));
    fs::create_dir_all(&dir).expect("create the served directory");
    fs::write(dir.join("marker"), marker).expect("write the served file");
    let bind = if address.contains(':') {
        format!("[{address}]:8080")
    } else {
        format!("{address}:8080")
    };
    let mut command = host.ioc_command();
    command
        .args([
            "exec", jail, "--", "busybox", "httpd", "-f", "-p", &bind, "-h",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Background::spawn(command)
}

/// The inode of a namespace file: the namespace's identity.
fn ns_inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .ino()
}

/// The identity of a running jail's namespace of `kind` (`net`, `uts`), as `ioc exec` sees it.
fn jail_ns_inode(host: &HostNs, jail: &str, kind: &str) -> u64 {
    let link = format!("/proc/self/ns/{kind}");
    host.exec_ok(jail, &["stat", "-L", "-c", "%i", &link])
        .trim()
        .parse()
        .expect("stat printed an inode number")
}

fn assert_has(addresses: &BTreeSet<String>, cidr: &str) {
    assert!(
        addresses.contains(cidr),
        "{cidr} missing from {addresses:?}"
    );
}

#[test]
fn seed_example_serves_on_its_alias_and_stop_removes_only_that() {
    require_root!();
    let (host, peer) = em0_host();
    seed(&host);
    let before = em0(&host);
    let own_hostname = fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");

    let out = host.ok(["start", JAIL]);
    assert_eq!(out, "non-vnet-jail: started (JID 1)\n");
    assert!(host.running(JAIL));
    assert_eq!(host.jail_row(JAIL)["jid"], 1);

    // The alias is on the host's em0, and the jail added no link of its own.
    assert_has(&em0(&host), "10.1.1.10/24");
    host.assert_links(IDLE);
    assert!(
        pings_from(&peer, "10.1.1.10"),
        "the peer cannot ping 10.1.1.10"
    );

    // The jail has its own hostname, but the host's network stack: the same network
    // namespace, so it sees every host interface, as a FreeBSD jail without VNET does.
    assert_eq!(host.exec_ok(JAIL, &["hostname"]).trim(), JAIL);
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname"),
        own_hostname,
        "the host's hostname changed"
    );
    let sandbox_net = ns_inode(&Path::new("/run/netns").join(host.name()));
    assert_eq!(jail_ns_inode(&host, JAIL, "net"), sandbox_net);
    assert_ne!(
        jail_ns_inode(&host, JAIL, "uts"),
        ns_inode(Path::new("/proc/self/ns/uts"))
    );
    let seen: Vec<String> = host.jail_links(JAIL).into_iter().map(|l| l.name).collect();
    let host_links: Vec<String> = host.links().into_iter().map(|l| l.name).collect();
    assert_eq!(seen, host_links, "links seen from the jail");

    // A server inside the jail binds the jail's address and answers the peer; the jail
    // reaches the peer too.
    let mut server = serve(&host, JAIL, "10.1.1.10", "hello from non-vnet-jail");
    assert_eq!(
        fetch_from(&peer, "10.1.1.10").as_deref(),
        Some("hello from non-vnet-jail")
    );
    host.assert_pings(JAIL, &["10.1.1.2"]);

    // An address the host gains while the jail runs is the host's, not the jail's.
    host.add_address("em0", "10.1.1.20/24");
    host.stop_and_check_clean(JAIL, IDLE);
    assert_eq!(
        em0(&host),
        with(&before, &["10.1.1.20/24"]),
        "em0 after the stop"
    );
    assert!(
        eventually(Duration::from_secs(5), || server.exited()),
        "the jail's server outlived the stop"
    );
    assert!(!answers_now(&peer, "10.1.1.10"), "10.1.1.10 still answers");
    assert!(pings_from(&peer, "10.1.1.20"));
}

#[test]
fn a_host_address_the_jail_uses_survives_its_stop() {
    require_root!();
    let (host, peer) = em0_host();
    host.add_address("em0", "10.1.1.10/24");
    seed(&host);
    let before = em0(&host);

    host.ok(["start", JAIL]);
    assert_eq!(em0(&host), before, "nothing to add");
    let mut server = serve(&host, JAIL, "10.1.1.10", "on the host's own address");
    assert_eq!(
        fetch_from(&peer, "10.1.1.10").as_deref(),
        Some("on the host's own address")
    );
    // Nothing of the host's is in the jail's journal, so a stop has nothing to remove.
    let plan = host.ok(["stop", "--dry-run", JAIL]);
    assert!(!plan.contains("addr del"), "the stop would remove: {plan}");

    host.stop_and_check_clean(JAIL, IDLE);
    assert!(eventually(Duration::from_secs(5), || server.exited()));
    assert_eq!(em0(&host), before, "em0 after the stop");
    assert!(pings_from(&peer, "10.1.1.10"), "the host lost 10.1.1.10");

    // And again: the second start finds the address just as the first did.
    host.ok(["start", JAIL]);
    host.stop_and_check_clean(JAIL, IDLE);
    assert_eq!(em0(&host), before, "em0 after a second stop");
}

#[test]
fn two_jails_share_one_interface() {
    require_root!();
    let (host, peer) = em0_host();
    create(&host, "web-1", &["ip4_addr=em0|10.1.1.10/24"]);
    create(&host, "web-2", &["ip4_addr=em0|10.1.1.11/24"]);
    let before = em0(&host);

    assert_eq!(
        host.ok(["start", "web-1,web-2"]),
        "web-1: started (JID 1)\nweb-2: started (JID 2)\n"
    );
    let running = em0(&host);
    assert_has(&running, "10.1.1.10/24");
    assert_has(&running, "10.1.1.11/24");
    let _servers = [
        serve(&host, "web-1", "10.1.1.10", "web-1"),
        serve(&host, "web-2", "10.1.1.11", "web-2"),
    ];
    assert_eq!(fetch_from(&peer, "10.1.1.10").as_deref(), Some("web-1"));
    assert_eq!(fetch_from(&peer, "10.1.1.11").as_deref(), Some("web-2"));

    // Stopping one takes its own address only.
    assert_eq!(host.ok(["stop", "web-1"]), "web-1: stopped\n");
    assert_eq!(
        em0(&host),
        with(&before, &["10.1.1.11/24"]),
        "em0 with web-2 alone"
    );
    assert!(host.running("web-2"));
    assert_eq!(host.runtime_jails(), ["web-2"]);
    assert!(!answers_now(&peer, "10.1.1.10"), "web-1's address answers");
    assert_eq!(fetch_from(&peer, "10.1.1.11").as_deref(), Some("web-2"));

    host.stop_and_check_clean("web-2", IDLE);
    assert_eq!(em0(&host), before);
}

/// Linux deletes the secondary addresses of a subnet together with its primary, unless the
/// interface promotes secondaries. When a jail's alias is the first address of its subnet on
/// the interface, its removal must take nothing else with it: not another jail's alias, not an
/// address the host added later.
#[test]
fn an_alias_first_in_its_subnet_takes_no_other_address_with_it() {
    require_root!();
    let (host, peer) = em0_host();
    ioc_tests::netns::add_address_in(&peer, "eth0", "10.1.2.2/24");
    // The kernel's default, whatever the machine's sysctl.conf says.
    let promote = "net.ipv4.conf.em0.promote_secondaries";
    let sysctl = |args: &[&str]| {
        let out = host
            .command("sysctl")
            .args(args)
            .output()
            .expect("run sysctl");
        assert!(out.status.success(), "sysctl {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    sysctl(&["-w", &format!("{promote}=0")]);
    create(&host, "jail-a", &["ip4_addr=em0|10.1.2.10/24"]);
    create(&host, "jail-b", &["ip4_addr=em0|10.1.2.11/24"]);
    let before = em0(&host);

    host.ok(["start", "jail-a,jail-b"]);
    host.add_address("em0", "10.1.2.20/24");
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    assert_eq!(
        em0(&host),
        with(&before, &["10.1.2.11/24", "10.1.2.20/24"]),
        "em0 after jail-a's stop"
    );
    assert_eq!(sysctl(&["-n", promote]), "0", "the host's setting changed");
    assert!(pings_from(&peer, "10.1.2.11"), "jail-b's address is gone");

    host.stop_and_check_clean("jail-b", IDLE);
    assert_eq!(
        em0(&host),
        with(&before, &["10.1.2.20/24"]),
        "em0 after jail-b's stop"
    );
}

#[test]
fn ipv6_alias_is_usable_when_the_start_returns() {
    require_root!();
    let (host, peer) = em0_host();
    create(
        &host,
        "jail-6",
        &["ip4_addr=em0|10.1.1.10/24", "ip6_addr=em0|fd00:10::10/64"],
    );
    let before = em0(&host);

    host.ok(["start", "jail-6"]);
    assert_has(&em0(&host), "fd00:10::10/64");
    // The start waited out duplicate address detection, so the address serves at once.
    assert!(
        host.usable_now("em0", "fd00:10::10"),
        "fd00:10::10 is still tentative after the start: {:?}",
        host.addresses("em0")
    );
    assert!(
        pings_from(&peer, "fd00:10::10"),
        "the peer cannot ping fd00:10::10"
    );
    let _server = serve(&host, "jail-6", "fd00:10::10", "over IPv6");
    assert_eq!(
        fetch_from(&peer, "fd00:10::10").as_deref(),
        Some("over IPv6")
    );
    host.assert_pings("jail-6", &["fd00:10::2", "10.1.1.2"]);

    host.stop_and_check_clean("jail-6", IDLE);
    assert_eq!(em0(&host), before, "em0 after the stop");
    assert!(!answers_now(&peer, "fd00:10::10"), "fd00:10::10 answers");
}

/// Starts `jail`, which must fail with a message containing every one of `expected`, and
/// leave the host's network exactly as it was and no runtime state of `jail`.
fn assert_refused(host: &HostNs, jail: &str, expected: &[&str]) {
    let before = host_network(host);
    let runtime = host.runtime_jails();
    let err = host.fails(["start", jail]);
    for part in expected {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    assert!(!host.running(jail));
    assert_eq!(host_network(host), before, "the failed start of {jail}");
    assert_eq!(host.runtime_jails(), runtime, "runtime state of {jail}");
}

/// An IPv6 address that another node on the link already holds is found by duplicate address
/// detection during the start, which then fails and takes back everything it added.
#[test]
fn an_ipv6_address_held_elsewhere_on_the_network_fails_the_start() {
    require_root!();
    let (host, peer) = em0_host();
    ioc_tests::netns::add_address_in(&peer, "eth0", "fd00:10::10/64");
    create(
        &host,
        "jail-6",
        &["ip4_addr=em0|10.1.1.10/24", "ip6_addr=em0|fd00:10::10/64"],
    );
    assert_refused(
        &host,
        "jail-6",
        &[
            "jail-6",
            "fd00:10::10 on em0 is already in use on the network",
        ],
    );
}

#[test]
fn a_missing_host_interface_fails_before_any_change() {
    require_root!();
    let (host, _peer) = em0_host();
    // The valid entry comes first: it must not be added either.
    create(
        &host,
        "jail-4",
        &["ip4_addr=em0|10.1.1.10/24,em1|10.1.1.11/24"],
    );
    create(
        &host,
        "jail-6",
        &["ip4_addr=em0|10.1.1.12/24", "ip6_addr=em1|fd00:10::10/64"],
    );
    assert_refused(
        &host,
        "jail-4",
        &[
            "jail-4",
            "property 'ip4_addr'",
            "host interface em1 does not exist",
        ],
    );
    assert_refused(
        &host,
        "jail-6",
        &[
            "jail-6",
            "property 'ip6_addr'",
            "host interface em1 does not exist",
        ],
    );
    host.assert_clean(IDLE);
}

#[test]
fn an_address_of_a_running_jail_fails_before_any_change() {
    require_root!();
    let (host, _peer) = em0_host();
    create(&host, "jail-a", &["ip4_addr=em0|10.1.1.10/24"]);
    create(
        &host,
        "jail-b",
        &["ip4_addr=em0|10.1.1.11/24,em0|10.1.1.10/24"],
    );
    create(&host, "jail-c", &["ip6_addr=em0|fd00:10::10/64"]);
    create(&host, "jail-d", &["ip6_addr=em0|fd00:10::10/64"]);
    host.ok(["start", "jail-a,jail-c"]);

    assert_refused(
        &host,
        "jail-b",
        &[
            "property 'ip4_addr'",
            "address 10.1.1.10 is already used by running jail 'jail-a'",
        ],
    );
    assert_refused(
        &host,
        "jail-d",
        &[
            "property 'ip6_addr'",
            "address fd00:10::10 is already used by running jail 'jail-c'",
        ],
    );
    let mut running = host.runtime_jails();
    running.sort();
    assert_eq!(running, ["jail-a", "jail-c"]);
    host.stop_and_check_clean("jail-a,jail-c", IDLE);
}

#[test]
fn dhcp_and_accept_rtadv_are_refused_before_any_change() {
    require_root!();
    let (host, _peer) = em0_host();
    create(&host, "jail-d", &["ip4_addr=em0|dhcp"]);
    // With a static address beside it, which must not be added either.
    create(
        &host,
        "jail-r",
        &["ip4_addr=em0|10.1.1.10/24", "ip6_addr=em0|accept_rtadv"],
    );
    assert_refused(
        &host,
        "jail-d",
        &[
            "property 'ip4_addr'",
            "em0|dhcp is not possible with vnet=off",
        ],
    );
    assert_refused(
        &host,
        "jail-r",
        &[
            "property 'ip6_addr'",
            "em0|accept_rtadv is not possible with vnet=off",
        ],
    );
    host.assert_clean(IDLE);
}

#[test]
fn failure_at_every_start_step_leaves_no_alias() {
    require_root!();
    let (host, peer) = em0_host();
    // The host already holds 10.1.1.12: every rollback must leave it.
    host.add_address("em0", "10.1.1.12/24");
    let hook_output = host.dir().join("exec_start.hostname");
    create(
        &host,
        JAIL,
        &[
            "ip4_addr=em0|10.1.1.10/24,em0|10.1.1.11/24,em0|10.1.1.12/24",
            "ip6_addr=em0|fd00:10::10/64",
            "exec_prestart=true",
            "exec_created=true",
            &format!("exec_start=hostname > {}", hook_output.display()),
            "exec_poststart=true",
        ],
    );
    let idle = host_network(&host);
    let failed = host.fail_at_every_step(JAIL, IDLE, |step| {
        assert_eq!(host_network(&host), idle, "after a failure at step {step}");
    });
    // Four hooks, the jail and its three aliases; the host's own address is no change.
    assert!(failed >= 8, "only {failed} steps failed");

    assert!(host.usable_now("em0", "fd00:10::10"));
    for address in ["10.1.1.10", "10.1.1.11", "10.1.1.12", "fd00:10::10"] {
        assert!(pings_from(&peer, address), "the peer cannot ping {address}");
    }
    let ran_in = fs::read_to_string(&hook_output).expect("exec_start ran");
    assert_eq!(ran_in.trim(), JAIL, "exec_start runs in the jail");
    host.stop_and_check_clean(JAIL, IDLE);
    assert_eq!(host_network(&host), idle);
}

#[test]
fn defaultrouter_is_not_applied_to_a_shared_ip_jail() {
    require_root!();
    let (host, _peer) = em0_host();
    create(
        &host,
        JAIL,
        &[
            "ip4_addr=em0|10.1.1.10/24",
            "defaultrouter=10.1.1.2",
            "defaultrouter6=fd00:10::2",
        ],
    );
    let routes = host_network(&host).routes;

    host.ok(["start", JAIL]);
    assert_eq!(
        host_network(&host).routes,
        routes,
        "routes of the running jail"
    );
    assert!(
        !host
            .exec_ok(JAIL, &["ip", "route"])
            .lines()
            .any(|l| l.starts_with("default")),
        "the jail (the host's stack) got a default route"
    );
    host.stop_and_check_clean(JAIL, IDLE);
    assert_eq!(host_network(&host).routes, routes, "routes after the stop");
}

/// A run dir that is a mount of its own (an admin's tmpfs on `/run/ioc`): the first start
/// works (the base mount namespace must not hide the run dir's contents from the jail), and
/// the last stop unmounts only what ioc mounted, leaving the admin's tmpfs in place.
#[test]
fn a_run_dir_on_its_own_tmpfs_works_and_stays_mounted() {
    require_root!();
    let host = HostNs::new();
    let run = host.sandbox().run_dir();
    fs::create_dir_all(&run).expect("create the run dir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "ioc-test-run"])
        .arg(&run)
        .status()
        .expect("run mount");
    assert!(mounted.success());
    let admin_mount = || {
        let table = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
        let point = format!(" {} ", run.display());
        table
            .lines()
            .filter(|l| l.contains(&point) && l.contains(" - tmpfs ioc-test-run "))
            .count()
    };
    host.ok(["create", "a", "vnet=off"]);
    host.ok(["start", "a"]);
    host.ok(["exec", "a", "--", "true"]);
    host.ok(["stop", "a"]);
    assert_eq!(
        admin_mount(),
        1,
        "the admin's tmpfs must stay mounted, once"
    );
    host.ok(["start", "a"]);
    host.ok(["stop", "a"]);
    assert_eq!(admin_mount(), 1);
}
