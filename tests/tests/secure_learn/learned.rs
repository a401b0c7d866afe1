//! DHCP leases and SLAAC addresses under the filter, and what a start leaves behind.

use std::time::{Duration, Instant};

use ioc_tests::netns::{eventually, wait_for_line, HostNs};
use ioc_tests::require_root;

use crate::{assert_nothing_left, create_jail, dhcp_server, ioc_tables, learners, nft, sandbox};

/// The jail's IPv4 or IPv6 addresses on vnet0 (`-4`/`-6`), as `ADDRESS/PREFIX`.
fn jail_addresses(host: &HostNs, jail: &str, family: &str) -> Vec<String> {
    let out = host.exec(jail, &["ip", "-o", family, "addr", "show", "dev", "vnet0"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .skip_while(|w| !w.starts_with("inet"))
                .nth(1)
        })
        .map(str::to_string)
        .collect()
}

/// Waits up to 20 s for an address of the jail that `pick` accepts.
fn wait_address(host: &HostNs, jail: &str, family: &str, pick: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let addresses = jail_addresses(host, jail, family);
        if let Some(a) = addresses.iter().find(|a| pick(a)) {
            return a.split('/').next().unwrap_or_default().to_string();
        }
        assert!(Instant::now() < deadline, "no such address: {addresses:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether the jail reaches `target` with pings from `source`.
fn pings_from(host: &HostNs, jail: &str, source: &str, target: &str) -> bool {
    let out = host.exec(jail, &["ping", "-c", "2", "-W", "1", "-I", source, target]);
    out.status.success()
}

/// A learning jail's start runs with its learner and table, and its stop removes both:
/// nothing is left.
#[test]
fn a_learning_start_and_its_stop_or_failure_leave_nothing() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 60) else {
        return;
    };
    create_jail(&host, "myjail", "vnet0|dhcp", "vnet0|accept_rtadv", &[]);
    host.ok(["start", "myjail"]);
    assert_eq!(learners(&host).len(), 1, "one learner for the port");
    assert_eq!(ioc_tables(&host).len(), 1, "one table for the port");
    host.stop_and_check_clean("myjail", crate::IDLE);
    assert_nothing_left(&host);
}

/// A start killed (SIGKILL) at every step, then stopped: whatever step the learner was
/// started in, the stop ends it (found by its pid and start time), and nothing is left.
#[test]
fn sigkill_of_a_learning_start_then_stop_leaves_no_learner() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 60) else {
        return;
    };
    create_jail(&host, "myjail", "vnet0|dhcp", "vnet0|accept_rtadv", &[]);
    let mut killed_with_learner = 0;
    for step in 1..60 {
        let n = step.to_string();
        let mut ioc = host.spawn_ioc(&["start", "myjail"], &[("IOC_FAULT_HANG_STEP", &n)]);
        let pipe = ioc.take_stderr().expect("stderr is piped");
        let hung = wait_for_line(
            pipe,
            &format!("hanging before step {n}"),
            Duration::from_secs(30),
        );
        if hung.is_err() {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !ioc.exited() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(ioc.exited(), "ioc neither hung nor ended at step {n}");
            if host.running("myjail") {
                host.ok(["stop", "myjail"]);
            }
            assert_nothing_left(&host);
            assert!(
                killed_with_learner > 0,
                "never killed with a learner running"
            );
            eprintln!(
                "start ended at step {n}; killed {killed_with_learner} time(s) with a learner"
            );
            return;
        }
        if !learners(&host).is_empty() {
            killed_with_learner += 1;
        }
        ioc.kill9();
        host.ok(["stop", "myjail"]);
        assert_nothing_left(&host);
    }
    panic!("the start never ended");
}

/// The secure DHCP jail gets its lease from the LAN's server and talks from it; from any
/// other address it cannot (the control: the same ping from the lease passes). The lease is
/// in the port's `lease4` set with its lifetime, and gone after the stop.
#[test]
fn a_secure_dhcp_jail_talks_from_its_lease_only() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 120) else {
        return;
    };
    let lease = start_dhcp_jail(&host);
    assert!(
        pings_from(&host, "myjail", &lease, "10.23.42.254"),
        "the lease talks"
    );
    let tables = ioc_tables(&host);
    let table = tables[0].split_whitespace().last().unwrap().to_string();
    let set = nft(&host, &["list", "set", "netdev", &table, "lease4"], None).unwrap();
    assert!(set.contains(&lease), "{set}");
    assert!(set.contains("timeout 2m"), "{set}");
    // Another address of the same subnet: blocked exactly as a static jail's would be.
    host.exec_ok(
        "myjail",
        &["ip", "addr", "add", "10.23.42.120/24", "dev", "vnet0"],
    );
    assert!(
        !pings_from(&host, "myjail", "10.23.42.120", "10.23.42.254"),
        "spoofed source passed"
    );
    assert!(
        pings_from(&host, "myjail", &lease, "10.23.42.254"),
        "control"
    );
    host.stop_and_check_clean("myjail", crate::IDLE);
    assert_nothing_left(&host);
}

/// SLAAC: the jail may use the EUI-64 address of its MAC in the advertised prefix; another
/// address in the prefix (a privacy address, say) is blocked.
#[test]
fn slaac_passes_the_eui64_address_only() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 60) else {
        return;
    };
    create_jail(
        &host,
        "myjail",
        "vnet0|10.23.42.2/24",
        "vnet0|accept_rtadv",
        &[],
    );
    host.ok(["start", "myjail"]);
    let prefix: std::net::Ipv6Addr = "fd00:23::".parse().unwrap();
    host.advertise_prefix("bridge0", prefix);
    let eui64 = wait_address(&host, "myjail", "-6", |a| {
        a.starts_with("fd00:23:") && a.contains("ff:fe")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pings_from(&host, "myjail", &eui64, "fd00:23::1") {
        assert!(
            Instant::now() < deadline,
            "the EUI-64 address {eui64} never talked"
        );
    }
    // `ioc get` shows the learned address in front of the configured `accept_rtadv`.
    let learned = format!("vnet0|{eui64}/64,vnet0|accept_rtadv");
    let shown = || host.ok(["get", "ip6_addr", "myjail"]).trim().to_string();
    assert!(
        eventually(Duration::from_secs(5), || shown() == learned),
        "ioc get ip6_addr shows {}, not {learned}",
        shown()
    );
    host.exec_ok(
        "myjail",
        &[
            "ip",
            "addr",
            "add",
            "fd00:23::dead/64",
            "dev",
            "vnet0",
            "nodad",
        ],
    );
    assert!(
        !pings_from(&host, "myjail", "fd00:23::dead", "fd00:23::1"),
        "other address passed"
    );
    assert!(pings_from(&host, "myjail", &eui64, "fd00:23::1"), "control");
    host.stop_and_check_clean("myjail", crate::IDLE);
    assert_nothing_left(&host);
}

/// A lease the jail stops renewing leaves the port's set when it expires, and with it the
/// jail's right to use the address.
#[test]
fn an_expired_lease_is_blocked_again() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 10) else {
        return;
    };
    let lease = start_dhcp_jail(&host);
    assert!(
        pings_from(&host, "myjail", &lease, "10.23.42.254"),
        "the lease talks"
    );
    // No more renewals: the client goes, the address stays configured in the jail.
    host.exec("myjail", &["pkill", "-9", "dhclient"]);
    let table = ioc_tables(&host)[0]
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while nft(&host, &["list", "set", "netdev", &table, "lease4"], None)
        .unwrap()
        .contains(&lease)
    {
        assert!(Instant::now() < deadline, "the lease never expired");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        !pings_from(&host, "myjail", &lease, "10.23.42.254"),
        "expired lease passed"
    );
    host.stop_and_check_clean("myjail", crate::IDLE);
    assert_nothing_left(&host);
}

/// A DHCP server in a Secure VNET jail cannot hand a lease to another jail: its replies are
/// dropped at its own port (and the other jail's learner never sees them). The control: with
/// `dhcp_server=on` the same server does hand out its lease.
#[test]
fn a_rogue_dhcp_server_in_a_secure_jail_leases_nothing() {
    require_root!();
    let mut host = sandbox();
    // The LAN's own server leases 10.23.42.100-110 and is the one the victim must use.
    let Some(_server) = dhcp_server(&mut host, 120) else {
        return;
    };
    let config = host.dir().join("rogue.conf");
    std::fs::write(
        &config,
        format!(
            "start 10.23.42.200\nend 10.23.42.210\ninterface vnet0\nlease_file {}\npidfile {}\n\
             option subnet 255.255.255.0\noption lease 120\n",
            host.dir().join("rogue.leases").display(),
            host.dir().join("rogue.pid").display()
        ),
    )
    .unwrap();
    std::fs::write(host.dir().join("rogue.leases"), b"").unwrap();
    for (rogue, server) in [("rogue", "off"), ("trusted", "on")] {
        let n = if server == "on" { "3" } else { "2" };
        create_jail(
            &host,
            rogue,
            &format!("vnet0|10.23.42.{n}/24"),
            "none",
            &[&format!("dhcp_server={server}")],
        );
        host.ok(["start", rogue]);
        // busybox udhcpd without -f puts itself in the background.
        host.exec_ok(rogue, &["busybox", "udhcpd", &config.display().to_string()]);
        create_jail(&host, "victim", "vnet0|dhcp", "none", &[]);
        host.ok(["start", "victim"]);
        let lease = wait_address(&host, "victim", "-4", |a| a.starts_with("10.23.42."));
        let from_rogue = lease.starts_with("10.23.42.2");
        if server == "off" {
            assert!(!from_rogue, "the rogue server leased {lease}");
        }
        host.ok(["stop", "victim"]);
        host.ok(["destroy", "victim"]);
        host.ok(["stop", rogue]);
        // The control needs the trusted server to win at least once over the LAN's: not
        // asserted (two servers race), only reported.
        if server == "on" {
            eprintln!("with dhcp_server=on the victim leased {lease}");
        }
    }
    assert_nothing_left(&host);
}

/// The Linux dry run shows the learner's command line before the port's rules, which name its
/// queue; the learner is hidden from the help.
#[test]
fn the_dry_run_shows_the_learner_and_the_help_hides_it() {
    require_root!();
    let host = sandbox();
    create_jail(&host, "myjail", "vnet0|dhcp", "vnet0|accept_rtadv", &[]);
    let plan = host.ok(["start", "--dry-run", "--platform", "linux", "myjail"]);
    let learner = plan
        .lines()
        .position(|l| l.starts_with("ioc __learn --port vnet0.1 "))
        .unwrap_or_else(|| panic!("no learner in the plan:\n{plan}"));
    let line = plan.lines().nth(learner).unwrap();
    assert!(
        line.contains("--table ioc-vnet0.1 --set4 lease4 --set6 slaac6 --dhcp4 --slaac"),
        "{line}"
    );
    let table = plan
        .lines()
        .position(|l| l.contains("ioc-vnet0.1"))
        .unwrap();
    assert!(
        learner <= table,
        "the learner comes before the rules:\n{plan}"
    );
    let help = host.ok(["--help"]);
    assert!(!help.contains("learn"), "{help}");
}

/// `ioc list` (table and JSON) and `ioc get ip4_addr` of a running secure DHCP jail show the
/// address the learner allows, in front of the `dhcp` it was configured with; after a RELEASE,
/// and after a lease expires unrenewed, only `vnet0|dhcp` again.
#[test]
fn list_and_get_show_the_lease_until_it_is_released_or_expires() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 10) else {
        return;
    };
    let lease = start_dhcp_jail(&host);
    let leased = format!("vnet0|{lease}/24,vnet0|dhcp");
    let shown = |host: &HostNs| host.ok(["get", "ip4_addr", "myjail"]).trim().to_string();
    // The learner records the lease right after the ACK has passed: give it a moment.
    let seen = eventually(Duration::from_secs(5), || shown(&host) == leased);
    assert!(seen, "ioc get shows {}, not {leased}", shown(&host));
    let table = host.ok(["list"]);
    assert!(table.contains(&leased), "{table}");
    assert_eq!(
        host.jail_row("myjail")["ip4_addr"],
        serde_json::json!([format!("vnet0|{lease}/24"), "vnet0|dhcp"])
    );
    // The jail's client gives the lease back: the learner drops it at once.
    let dir = host.sandbox().run_dir().join("jails").join("myjail");
    let pid = dir.join("dhclient.vnet0.pid").display().to_string();
    let leases = dir.join("dhclient.vnet0.leases").display().to_string();
    let client = ["dhclient", "-pf", &pid, "-lf", &leases];
    host.exec_ok("myjail", &[&client[..], &["-r", "vnet0"]].concat());
    let released = eventually(Duration::from_secs(5), || shown(&host) == "vnet0|dhcp");
    assert!(released, "after the release: {}", shown(&host));
    // A new lease, left to expire: it is shown until its end, then no more.
    host.exec_ok("myjail", &[&client[..], &["-1", "vnet0"]].concat());
    let again = eventually(Duration::from_secs(5), || {
        shown(&host).contains("10.23.42.1")
    });
    assert!(again, "the new lease is not shown: {}", shown(&host));
    host.exec("myjail", &["pkill", "-9", "dhclient"]);
    let expired = eventually(Duration::from_secs(30), || shown(&host) == "vnet0|dhcp");
    assert!(expired, "after the expiry: {}", shown(&host));
    assert!(host.ok(["list"]).contains("vnet0|dhcp"));
    host.stop_and_check_clean("myjail", crate::IDLE);
    assert_nothing_left(&host);
    // Stopped: the configured value, whatever was learned.
    assert_eq!(shown(&host), "vnet0|dhcp");
}

/// Creates and starts the secure DHCP jail `myjail` (IPv4 by DHCP only) and waits for its
/// lease from the sandbox's server; the leased address.
fn start_dhcp_jail(host: &HostNs) -> String {
    create_jail(host, "myjail", "vnet0|dhcp", "none", &[]);
    host.ok(["start", "myjail"]);
    wait_address(host, "myjail", "-4", |a| a.starts_with("10.23.42.1"))
}
