//! Linux jails in VNET bridge mode, end to end: the real `ioc` binary in a sandbox "host"
//! network namespace of each test's own, so the tests can run in parallel and never touch the
//! machine's network. Every test needs root and says so when skipped.
#![cfg(target_os = "linux")]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ioc_tests::netns::{seed, seed_host, wait_for_line, Background, HostNs};
use ioc_tests::{ioc_bin, require_root};
use serde_json::Value;

/// The sandbox links of the seed's host with no jail running.
const IDLE: &[&str] = &["lo", "bridge0"];

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The seed's host and jails, started with the seed's own command.
fn seed_started() -> HostNs {
    let host = seed_host();
    seed(&host);
    let out = host.ok(["start", "jail-a,jail-b"]);
    assert_eq!(
        out, "jail-a: started (JID 1)\njail-b: started (JID 2)\n",
        "start output"
    );
    host
}

/// `ip -o addr` of a link inside a jail, as the addresses in listed order.
fn jail_addresses(host: &HostNs, jail: &str, family: &str, link: &str) -> Vec<String> {
    host.exec_ok(jail, &["ip", "-o", family, "addr", "show", "dev", link])
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next().map(str::to_string)
        })
        .collect()
}

/// A jail's routes of one family (`-4` or `-6`), one per line.
fn jail_routes(host: &HostNs, jail: &str, family: &str) -> Vec<String> {
    host.exec_ok(jail, &["ip", family, "route"])
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

fn assert_has_route(routes: &[String], prefix: &str) {
    assert!(
        routes.iter().any(|r| r.starts_with(prefix)),
        "no route starting with {prefix:?} in {routes:#?}"
    );
}

#[test]
fn seed_scenario_runs_and_leaves_a_clean_host() {
    require_root!();
    let host = seed_started();

    host.assert_pings("jail-a", &["10.23.42.3", "10.23.42.1"]);
    host.assert_pings("jail-b", &["10.23.42.2", "10.23.42.1"]);
    for jail in ["jail-a", "jail-b"] {
        assert_eq!(host.exec_ok(jail, &["hostname"]).trim(), jail);
    }

    let list = host.list();
    let rows: Vec<(Value, Value, Value)> = list
        .iter()
        .map(|r| (r["name"].clone(), r["running"].clone(), r["jid"].clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("jail-a".into(), true.into(), 1.into()),
            ("jail-b".into(), true.into(), 2.into()),
        ]
    );

    // Each jail has its own stack: loopback up, its pair end renamed to vnet0, the default
    // route through the bridge's address.
    for jail in ["jail-a", "jail-b"] {
        let names: Vec<String> = host.jail_links(jail).into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["lo", "vnet0"], "links in {jail}");
        assert_has_route(
            &jail_routes(&host, jail, "-4"),
            "default via 10.23.42.1 dev vnet0",
        );
    }
    for host_end in ["vnet0.1", "vnet0.2"] {
        assert_eq!(
            host.link(host_end).master.as_deref(),
            Some("bridge0"),
            "{host_end} is not on bridge0"
        );
    }

    host.stop_and_check_clean("jail-a,jail-b", IDLE);
    let after = host.list();
    assert!(after
        .iter()
        .all(|r| r["running"] == false && r["jid"].is_null()));
}

#[test]
fn macs_follow_the_reference_vectors_unless_pinned() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "set",
        "vnet0_mac=02:00:00:aa:00:10,02-00-00-aa-00-11",
        "jail-b",
    ]);
    host.ok(["start", "jail-a,jail-b"]);

    let expected = [
        (
            "jail-a",
            "vnet0.1",
            "02:ff:60:e7:93:9d",
            "02:ff:60:e7:93:9e",
        ),
        (
            "jail-b",
            "vnet0.2",
            "02:00:00:aa:00:10",
            "02:00:00:aa:00:11",
        ),
    ];
    for (jail, host_end, host_mac, jail_mac) in expected {
        assert_eq!(host.link(host_end).mac, host_mac, "{jail} host end");
        assert_eq!(
            host.jail_link(jail, "vnet0").mac,
            jail_mac,
            "{jail} jail end"
        );
    }
    host.stop_and_check_clean("jail-a,jail-b", IDLE);

    // Without the pin jail-b gets the reference pair again.
    host.ok(["set", "vnet0_mac", "jail-b"]);
    host.ok(["start", "jail-b"]);
    assert_eq!(host.link("vnet0.1").mac, "02:ff:60:24:c4:b0");
    assert_eq!(host.jail_link("jail-b", "vnet0").mac, "02:ff:60:24:c4:b1");
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn mtu_is_taken_from_the_bridge() {
    require_root!();
    let host = seed_host();
    host.ip(["link", "set", "bridge0", "mtu", "1400"]);
    seed(&host);
    host.ok(["start", "jail-a"]);
    assert_eq!(host.link("vnet0.1").mtu, 1400, "host end");
    assert_eq!(host.jail_link("jail-a", "vnet0").mtu, 1400, "jail end");
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn ipv6_addresses_and_default_routers() {
    require_root!();
    let host = seed_host();
    host.add_address("bridge0", "fd00:23::1/64");
    seed(&host);
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::2/64",
        "defaultrouter6=fd00:23::1",
        "jail-a",
    ]);
    // A link-local gateway only means something on a named link.
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::3/64",
        "defaultrouter6=fe80::1@vnet0",
        "jail-b",
    ]);
    host.ok(["start", "jail-a,jail-b"]);

    assert!(jail_addresses(&host, "jail-a", "-6", "vnet0").contains(&"fd00:23::2/64".into()));
    assert!(jail_addresses(&host, "jail-b", "-6", "vnet0").contains(&"fd00:23::3/64".into()));
    assert_has_route(
        &jail_routes(&host, "jail-a", "-6"),
        "default via fd00:23::1 dev vnet0",
    );
    let routes_b = jail_routes(&host, "jail-b", "-6");
    assert_has_route(&routes_b, "fe80::1 dev vnet0");
    assert_has_route(&routes_b, "default via fe80::1 dev vnet0");
    // IPv4 is unaffected.
    assert_has_route(
        &jail_routes(&host, "jail-b", "-4"),
        "default via 10.23.42.1 dev vnet0",
    );

    host.assert_pings("jail-a", &["fd00:23::1", "fd00:23::3"]);
    host.assert_pings("jail-b", &["fd00:23::2"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// A service that `exec_start` starts can bind the jail's IPv6 address at once: a jail's
/// addresses are optimistic (RFC 4429), usable while duplicate address detection still runs,
/// where a plain tentative address refuses `bind` for about a second.
#[test]
fn exec_start_binds_the_jails_ipv6_address_at_once() {
    require_root!();
    let host = seed_host();
    host.add_address("bridge0", "fd00:23::1/64");
    seed(&host);
    let www = host.dir().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("marker"), "served at once").unwrap();
    // busybox httpd binds, then goes to the background: its exit code says whether the bind
    // worked, and a failing exec_start fails the start.
    host.ok([
        "set",
        "ip6_addr=vnet0|fd00:23::2/64",
        &format!(
            "exec_start=busybox httpd -p [fd00:23::2]:8080 -h {}",
            www.display()
        ),
        "jail-a",
    ]);
    host.ok(["start", "jail-a"]);
    assert_eq!(
        ioc_tests::netns::fetch_from(host.name(), "fd00:23::2").as_deref(),
        Some("served at once")
    );
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn addresses_keep_their_written_order() {
    require_root!();
    let host = seed_host();
    seed(&host);
    // Not sorted on purpose: the first address written must be the primary one.
    host.ok([
        "set",
        "ip4_addr=vnet0|10.23.42.5/24,vnet0|10.23.42.4/24",
        "jail-a",
    ]);
    host.ok(["start", "jail-a"]);
    assert_eq!(
        jail_addresses(&host, "jail-a", "-4", "vnet0"),
        ["10.23.42.5/24", "10.23.42.4/24"]
    );
    host.assert_pings("jail-a", &["10.23.42.1"]);
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn two_interfaces_on_two_bridges() {
    require_root!();
    let host = seed_host();
    host.add_bridge("bridge1", Some("10.23.43.1/24"));
    host.ok([
        "create",
        "jail-a",
        "vnet=on",
        "interfaces=vnet0:bridge0 vnet1:bridge1",
        "ip4_addr=vnet0|10.23.42.2/24,vnet1|10.23.43.2/24",
        "defaultrouter=10.23.42.1",
    ]);
    host.ok(["start", "jail-a"]);

    assert_eq!(host.link("vnet0.1").master.as_deref(), Some("bridge0"));
    assert_eq!(host.link("vnet1.1").master.as_deref(), Some("bridge1"));
    let names: Vec<String> = host
        .jail_links("jail-a")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["lo", "vnet0", "vnet1"]);
    assert_eq!(
        jail_addresses(&host, "jail-a", "-4", "vnet1"),
        ["10.23.43.2/24"]
    );
    assert_ne!(
        host.jail_link("jail-a", "vnet0").mac,
        host.jail_link("jail-a", "vnet1").mac
    );
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.43.1"]);
    host.stop_and_check_clean("jail-a", &["lo", "bridge0", "bridge1"]);
}

/// The names of the links attached to a bridge of the sandbox.
fn bridge_ports(host: &HostNs, bridge: &str) -> Vec<String> {
    host.links()
        .into_iter()
        .filter(|l| l.master.as_deref() == Some(bridge))
        .map(|l| l.name)
        .collect()
}

#[test]
fn host_interface_names_fit_in_15_characters_and_stay_unique() {
    require_root!();
    let host = seed_host();
    // The longest NIC name Linux allows: "<nic>.<jid>" would not fit.
    let nic = "abcdefghijklmno";
    for (jail, address) in [("jail-a", "10.23.42.2/24"), ("jail-b", "10.23.42.3/24")] {
        host.ok([
            "create",
            jail,
            "vnet=on",
            &format!("interfaces={nic}:bridge0"),
            &format!("ip4_addr={nic}|{address}"),
        ]);
    }
    host.ok(["start", "jail-a,jail-b"]);
    let ports = bridge_ports(&host, "bridge0");
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert_ne!(ports[0], ports[1]);
    assert!(ports.iter().all(|p| p.len() <= 15), "{ports:?}");
    assert_eq!(host.jail_link("jail-a", nic).name, nic);
    host.assert_pings("jail-a", &["10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);

    // Deterministic: the same jails get the same names again.
    host.ok(["start", "jail-a,jail-b"]);
    let again = bridge_ports(&host, "bridge0");
    assert_eq!(again, ports);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

#[test]
fn missing_bridge_fails_before_any_change() {
    require_root!();
    let host = HostNs::new();
    seed(&host);
    let err = host.fails(["start", "jail-a,jail-b"]);
    assert!(
        err.contains("VNET bridge bridge0 does not exist"),
        "stderr: {err}"
    );
    host.assert_clean(&["lo"]);
    assert!(!host.running("jail-a") && !host.running("jail-b"));
}

#[test]
fn address_of_a_running_jail_is_refused_before_any_change() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "create",
        "jail-c",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
    ]);
    host.ok(["start", "jail-a"]);

    let err = host.fails(["start", "jail-c"]);
    assert!(
        err.contains("address 10.23.42.2 is already used by running jail 'jail-a'"),
        "stderr: {err}"
    );
    assert_eq!(host.runtime_jails(), ["jail-a"]);
    host.assert_links(&["lo", "bridge0", "vnet0.1"]);
    assert!(!host.running("jail-c"));

    // Two jails starting together with one address: neither starts.
    host.stop_and_check_clean("jail-a", IDLE);
    let err = host.fails(["start", "jail-a,jail-c"]);
    assert!(err.contains("which is starting too"), "stderr: {err}");
    host.assert_clean(IDLE);
}

#[test]
fn a_nic_named_twice_is_refused_before_any_change() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let twice = "interfaces=vnet0:bridge0,vnet0:bridge0";
    let err = host.fails(["set", twice, "jail-a"]);
    assert!(err.contains("appears twice"), "stderr: {err}");

    // A config edited by hand gets the same answer from start, before anything is made.
    let config = host.sandbox().config_file("jail-a");
    let text = std::fs::read_to_string(&config).expect("config.ron");
    let doubled = text.replace("\"vnet0:bridge0\"", "\"vnet0:bridge0,vnet0:bridge0\"");
    assert_ne!(
        text, doubled,
        "config.ron holds no interfaces entry: {text}"
    );
    std::fs::write(&config, doubled).expect("write config.ron");
    let err = host.fails(["start", "jail-a"]);
    assert!(err.contains("appears twice"), "stderr: {err}");
    host.assert_clean(IDLE);
}

#[test]
fn failure_at_every_start_step_rolls_back_completely() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let failed = host.fail_at_every_step("jail-a,jail-b", IDLE, |_| {});
    // jail, pair, bridge, move, rename, address, loopback, route: at least eight changes.
    assert!(failed >= 8, "only {failed} steps failed");
    host.assert_pings("jail-a", &["10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

#[test]
fn failure_at_every_step_of_a_rich_start_rolls_back_completely() {
    require_root!();
    let host = seed_host();
    host.add_bridge("bridge1", Some("10.23.43.1/24"));
    host.add_address("bridge1", "fd00:43::1/64");
    let idle = ["lo", "bridge0", "bridge1"];
    // Every hook, two NICs, both families, a gateway with @nic: the most steps a VNET start
    // takes, each of which must be undone when a later one fails.
    let daemon = host.sandbox().run_dir().join("daemon");
    host.ok([
        "create".to_string(),
        "jail-a".to_string(),
        "vnet=on".to_string(),
        "interfaces=vnet0:bridge0 vnet1:bridge1".to_string(),
        "ip4_addr=vnet0|10.23.42.2/24,vnet1|10.23.43.2/24,vnet1|10.23.43.3/24".to_string(),
        "ip6_addr=vnet1|fd00:43::2/64".to_string(),
        "defaultrouter=10.23.42.1@vnet0".to_string(),
        "defaultrouter6=fd00:43::1".to_string(),
        "exec_prestart=true".to_string(),
        "exec_created=true".to_string(),
        format!(
            "exec_start=sh -c 'while :; do sleep 1; done' {} </dev/null >/dev/null 2>&1 &",
            daemon.display()
        ),
        "exec_poststart=true".to_string(),
    ]);
    let failed = host.fail_at_every_step("jail-a", &idle, |_| {});
    assert!(failed >= 16, "only {failed} steps failed");
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.43.1", "fd00:43::1"]);
    host.stop_and_check_clean("jail-a", &idle);
}

/// Where a start is killed: before a change is journaled, or after it is journaled but before
/// it is made (the journal then promises something that does not exist).
#[derive(Clone, Copy)]
enum CrashPoint {
    BeforeStep,
    AfterJournal,
}

impl CrashPoint {
    fn switch(self) -> &'static str {
        match self {
            CrashPoint::BeforeStep => "IOC_FAULT_HANG_STEP",
            CrashPoint::AfterJournal => "IOC_FAULT_HANG_JOURNALED",
        }
    }

    fn message(self, step: &str) -> String {
        match self {
            CrashPoint::BeforeStep => format!("hanging before step {step}"),
            CrashPoint::AfterJournal => format!("hanging after journaling step {step}"),
        }
    }
}

/// Starts jail-a with the crash point's switch at `step` and kills it with SIGKILL once it
/// hangs. Returns false when the start went through instead (the step is past the last one).
fn start_killed_at(host: &HostNs, step: usize, point: CrashPoint) -> bool {
    let n = step.to_string();
    let mut ioc = host.spawn_ioc(&["start", "jail-a"], &[(point.switch(), &n)]);
    let pipe = ioc.take_stderr().expect("stderr is piped");
    let needle = point.message(&n);
    match wait_for_line(pipe, &needle, Duration::from_secs(30)) {
        Ok(()) => {
            ioc.kill9();
            true
        }
        Err(lines) => {
            // No hang: it must have finished, successfully.
            for _ in 0..100 {
                if ioc.exited() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(ioc.exited(), "ioc neither hung nor ended: {lines:?}");
            assert!(
                host.running("jail-a"),
                "start at step {n} failed: {lines:?}"
            );
            false
        }
    }
}

/// Kills a start at every step at `point`, then stops the jail: nothing may be left.
fn kill_at_every_step_then_stop(point: CrashPoint) {
    let host = seed_host();
    seed(&host);
    let mut step = 1;
    while start_killed_at(&host, step, point) {
        assert!(!host.running("jail-a"), "killed at {step}, yet running");
        let out = host.ok(["stop", "jail-a"]);
        assert_eq!(out, "jail-a: not running\n", "killed at step {step}");
        host.assert_clean(IDLE);
        step += 1;
    }
    assert!(step > 8, "ioc hung at only {} steps", step - 1);
    host.stop_and_check_clean("jail-a", IDLE);
}

#[test]
fn sigkill_mid_start_then_stop_leaves_a_clean_host() {
    require_root!();
    kill_at_every_step_then_stop(CrashPoint::BeforeStep);
}

#[test]
fn sigkill_between_journal_and_change_then_stop_leaves_a_clean_host() {
    require_root!();
    kill_at_every_step_then_stop(CrashPoint::AfterJournal);
}

#[test]
fn sigkill_mid_start_then_start_cleans_up_and_starts() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let mut step = 1;
    while start_killed_at(&host, step, CrashPoint::BeforeStep) {
        let out = host.ok(["start", "jail-a"]);
        assert_eq!(out, "jail-a: started (JID 1)\n", "killed at step {step}");
        host.assert_pings("jail-a", &["10.23.42.1"]);
        host.stop_and_check_clean("jail-a", IDLE);
        step += 1;
    }
    assert!(step > 8, "ioc hung at only {} steps", step - 1);
    host.stop_and_check_clean("jail-a", IDLE);
}

/// Starts jail-a hanging at `step` (after journaling it, when `journaled`), interrupts it with
/// SIGINT there and returns its exit code and stderr; `None` when the start went through
/// instead (the step is past the last one).
fn start_interrupted_at(host: &HostNs, step: usize, journaled: bool) -> Option<(i32, String)> {
    let n = step.to_string();
    let point = if journaled {
        CrashPoint::AfterJournal
    } else {
        CrashPoint::BeforeStep
    };
    let log = host
        .dir()
        .join(format!("interrupted-{step}-{journaled}.log"));
    let mut command = host.ioc_command();
    command
        .args(["start", "jail-a"])
        .env(point.switch(), &n)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    let mut ioc = Background::spawn(command);
    let needle = point.message(&n);
    let hung = ioc_tests::netns::eventually(Duration::from_secs(30), || {
        ioc.exited() || std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&needle))
    });
    assert!(hung, "ioc neither hung nor ended at step {n}");
    if ioc.exited() {
        assert!(host.running("jail-a"), "start at step {n} failed");
        return None;
    }
    let pid = nix::unistd::Pid::from_raw(ioc.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("send SIGINT");
    let status = ioc.wait();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    Some((status.code().unwrap_or(-1), stderr))
}

/// Ctrl-C during a start rolls it back, at every step and also between journaling a change and
/// making it: ioc fails naming the signal, and leaves nothing behind, no journal either.
#[test]
fn sigint_mid_start_rolls_the_start_back() {
    require_root!();
    let host = seed_host();
    seed(&host);
    for journaled in [false, true] {
        let mut step = 1;
        while let Some((code, stderr)) = start_interrupted_at(&host, step, journaled) {
            assert_eq!(code, 1, "exit code at step {step}: {stderr}");
            assert!(
                stderr.contains("interrupted by SIGINT"),
                "step {step}: {stderr}"
            );
            host.assert_clean(IDLE);
            step += 1;
        }
        assert!(step > 3, "only {step} steps");
        host.stop_and_check_clean("jail-a", IDLE);
    }
}

#[test]
fn concurrent_starts_get_distinct_jids() {
    require_root!();
    let host = seed_host();
    let jails: Vec<String> = (1..=4).map(|i| format!("jail-{i}")).collect();
    for (i, jail) in jails.iter().enumerate() {
        host.ok([
            "create",
            jail,
            "vnet=on",
            "interfaces=vnet0:bridge0",
            &format!("ip4_addr=vnet0|10.23.42.{}/24", 10 + i),
        ]);
    }
    let mut starts: Vec<Background> = jails
        .iter()
        .map(|jail| host.spawn_ioc(&["start", jail], &[]))
        .collect();
    for start in &mut starts {
        let mut err = String::new();
        if let Some(mut pipe) = start.take_stderr() {
            let _ = pipe.read_to_string(&mut err);
        }
        let status = start.wait();
        assert!(
            status.success(),
            "a concurrent start failed ({status}): {err}"
        );
    }
    let mut jids: Vec<u64> = jails
        .iter()
        .map(|j| {
            host.jail_row(j)["jid"]
                .as_u64()
                .expect("a running jail has a JID")
        })
        .collect();
    jids.sort();
    assert_eq!(jids, [1, 2, 3, 4]);
    host.assert_pings("jail-1", &["10.23.42.13"]);
    host.stop_and_check_clean(&jails.join(","), IDLE);
}

#[test]
fn stop_goes_on_when_the_host_interface_was_deleted_by_hand() {
    require_root!();
    let host = seed_started();
    host.ip(["link", "del", "vnet0.1"]);
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    assert!(!host.running("jail-a"));
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.assert_pings("jail-b", &["10.23.42.1"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn a_running_jail_whose_config_was_destroyed_behind_iocs_back_still_stops() {
    require_root!();
    let host = seed_started();
    std::fs::remove_dir_all(host.sandbox().root().join("jails/jail-a")).unwrap();
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

/// `ioc list -l --output-format json`'s row of a jail: running and state.
fn running_and_state(host: &HostNs, jail: &str) -> (Value, Value) {
    let out = host.ok(["list", "-l", "--output-format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).expect("list JSON");
    let row = rows
        .into_iter()
        .find(|r| r["name"] == jail)
        .unwrap_or_else(|| panic!("{jail} is not listed: {out}"));
    (row["running"].clone(), row["state"].clone())
}

/// A jail whose namespaces went away behind ioc's back (here: its pins unmounted by hand, as
/// a reboot of the run dir or a careless admin would) is not shown running but vanished;
/// `exec` says so, and the next start cleans up after it and starts it afresh.
#[test]
fn a_jail_whose_namespaces_vanished_is_shown_so_and_starts_again() {
    require_root!();
    let host = seed_started();
    let ns = host.sandbox().run_dir().join("jails/jail-a/ns");
    for kind in ["net", "uts", "mnt"] {
        let status = Command::new("umount")
            .arg("--lazy")
            .arg(ns.join(kind))
            .status()
            .expect("run umount");
        assert!(status.success(), "umount {kind} pin");
    }
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(false), Value::from("vanished"))
    );
    let err = host.fails(["exec", "jail-a", "--", "true"]);
    assert!(err.contains("its namespaces are gone"), "stderr: {err}");

    assert_eq!(host.ok(["start", "jail-a"]), "jail-a: started (JID 1)\n");
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(true), Value::from("up"))
    );
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// `sh -c SCRIPT` in the sandbox's network namespace and in a mount namespace of its own, as
/// `ip netns exec` makes one; `$IOC` in the script is the ioc binary. Returns the output.
fn in_transient_mount_namespace(host: &HostNs, script: &str) -> Output {
    let mut command = Command::new("nsenter");
    command
        .arg(format!("--net=/run/netns/{}", host.name()))
        .args(["unshare", "--mount", "--propagation", "slave", "sh", "-c"])
        .arg(script)
        .env("IOC", ioc_bin());
    host.sandbox().set_env(&mut command);
    command.output().expect("run sh under unshare")
}

/// From a shell in a mount namespace of its own (an `ip netns exec` shell), jails start, run and
/// stop as usual while that shell lives, with a warning that they end with it. On Linux 6.18
/// the kernel refused to pin the jail's mount namespace there about every other time, which ioc
/// now works around (see `spawn_pinned`); several rounds make a regression show.
#[test]
fn jails_work_from_an_ip_netns_exec_style_shell() {
    require_root!();
    let host = seed_host();
    seed(&host);
    for round in 0..4 {
        let out = in_transient_mount_namespace(
            &host,
            r#"set -e; "$IOC" start jail-a,jail-b; "$IOC" exec jail-a -- hostname; "$IOC" stop jail-a,jail-b"#,
        );
        assert!(out.status.success(), "round {round}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "jail-a: started (JID 1)\njail-b: started (JID 2)\njail-a\njail-b: stopped\njail-a: stopped\n"
        );
        assert!(
            stderr(&out).contains("mount namespace other than PID 1's"),
            "stderr: {}",
            stderr(&out)
        );
        host.assert_clean(IDLE);
    }
}

/// A start from a mount namespace that then ends (`ip netns exec NS ioc start ...`) leaves a
/// jail without its pins: it shows as vanished, not running, and a stop cleans up.
#[test]
fn a_jail_started_from_a_mount_namespace_that_ended_shows_vanished() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let out = in_transient_mount_namespace(&host, r#""$IOC" start jail-a"#);
    assert!(out.status.success(), "start: {}", stderr(&out));
    assert_eq!(
        running_and_state(&host, "jail-a"),
        (Value::Bool(false), Value::from("vanished"))
    );
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
    host.assert_clean(IDLE);
}

#[test]
fn a_jail_whose_journal_was_deleted_by_hand_is_still_removed() {
    require_root!();
    let host = seed_started();
    std::fs::remove_file(host.sandbox().run_dir().join("jails/jail-a/journal")).unwrap();
    host.ok(["stop", "jail-a"]);
    // Without its journal the host end cannot be found by name any more; removing the jail
    // ends its network stack, which takes the pair with it.
    let gone = ioc_tests::netns::eventually(Duration::from_secs(5), || {
        !host.links().iter().any(|l| l.name == "vnet0.1")
    });
    assert!(gone, "vnet0.1 outlived its jail");
    assert_eq!(host.runtime_jails(), ["jail-b"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn starting_and_stopping_twice_is_fine() {
    require_root!();
    let host = seed_started();
    let out = host.ok(["start", "jail-a,jail-b"]);
    assert_eq!(
        out,
        "jail-a: already running (JID 1)\njail-b: already running (JID 2)\n"
    );
    host.assert_links(&["lo", "bridge0", "vnet0.1", "vnet0.2"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
    let out = host.ok(["stop", "jail-a,jail-b"]);
    assert_eq!(out, "jail-b: not running\njail-a: not running\n");
    host.assert_clean(IDLE);
}

#[test]
fn exec_passes_the_exit_code_through() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["start", "jail-a"]);
    for code in [0, 1, 7, 42] {
        let script = format!("exit {code}");
        let out = host.exec("jail-a", &["sh", "-c", &script]);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    }
    let out = host.exec("jail-b", &["true"]);
    assert_ne!(out.status.code(), Some(0), "exec in a stopped jail");
    host.stop_and_check_clean("jail-a", IDLE);
}

/// Reads a file a hook wrote, trimmed.
fn hook_output(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the hook wrote no {}: {e}", path.display()))
        .trim()
        .to_string()
}

#[test]
fn failing_exec_prestart_fails_the_start_and_changes_nothing() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "exec_prestart=echo no >&2; exit 3", "jail-a"]);
    let err = host.fails(["start", "jail-a"]);
    assert!(err.contains("exec_prestart"), "stderr: {err}");
    assert!(!host.running("jail-a"));
    host.assert_clean(IDLE);
}

#[test]
fn failing_exec_poststart_rolls_back_the_network() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "exec_poststart=false", "jail-a"]);
    let err = host.fails(["start", "jail-a"]);
    assert!(err.contains("exec_poststart"), "stderr: {err}");
    assert!(!host.running("jail-a"));
    host.assert_clean(IDLE);
}

#[test]
fn a_failed_start_ends_what_exec_start_left_running() {
    require_root!();
    let host = seed_host();
    seed(&host);
    // A daemon in the jail whose command line carries the run dir, so the clean-host check
    // (no process mentioning it) sees it if the rollback misses it.
    let marker = host.sandbox().run_dir().join("daemon");
    host.ok([
        "set",
        &format!(
            "exec_start=sh -c 'while :; do sleep 1; done' {} </dev/null >/dev/null 2>&1 &",
            marker.display()
        ),
        "exec_poststart=false",
        "jail-a",
    ]);
    let err = host.fails(["start", "jail-a"]);
    assert!(err.contains("exec_poststart"), "stderr: {err}");
    host.assert_clean(IDLE);
}

#[test]
fn failing_exec_prestop_keeps_the_jail_unless_forced() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "exec_prestop=false", "jail-a"]);
    host.ok(["start", "jail-a"]);
    let err = host.fails(["stop", "jail-a"]);
    assert!(err.contains("exec_prestop"), "stderr: {err}");
    assert!(host.running("jail-a"));
    host.assert_pings("jail-a", &["10.23.42.1"]);
    // Forced, the stop goes on, still reports the hook, and leaves nothing behind.
    let err = host.fails(["stop", "-f", "jail-a"]);
    assert!(
        err.contains("stopped, but: exec_prestop failed"),
        "stderr: {err}"
    );
    assert!(!host.running("jail-a"));
    host.assert_clean(IDLE);
}

#[test]
fn failing_exec_poststop_is_reported_after_a_complete_stop() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "exec_poststop=exit 4", "jail-a"]);
    host.ok(["start", "jail-a"]);
    let err = host.fails(["stop", "jail-a"]);
    assert!(
        err.contains("stopped, but: exec_poststop failed"),
        "stderr: {err}"
    );
    assert!(!host.running("jail-a"));
    host.assert_clean(IDLE);
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: not running\n");
}

#[test]
fn hooks_see_the_jid_and_exec_start_runs_inside_the_jail() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let dir = host.dir();
    let (jid_file, name_file, stop_file) = (
        dir.join("poststart.jid"),
        dir.join("start.hostname"),
        dir.join("stop.hostname"),
    );
    host.ok([
        "set",
        &format!("exec_poststart=echo \"$IOC_JID\" > {}", jid_file.display()),
        &format!("exec_start=hostname > {}", name_file.display()),
        &format!("exec_stop=hostname > {}", stop_file.display()),
        "jail-b",
    ]);
    host.ok(["start", "jail-a,jail-b"]);
    assert_eq!(hook_output(&jid_file), "2");
    assert_eq!(hook_output(&name_file), "jail-b");
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
    assert_eq!(hook_output(&stop_file), "jail-b");
}

#[test]
fn depends_starts_the_dependency_first_and_stops_it_last() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "depends=jail-b", "jail-a"]);
    let out = host.ok(["start", "jail-a"]);
    assert_eq!(out, "jail-b: started (JID 1)\njail-a: started (JID 2)\n");
    host.assert_pings("jail-a", &["10.23.42.3"]);
    // The dependent stops first, whatever order the filter names them in.
    let out = host.ok(["stop", "jail-b,jail-a"]);
    assert_eq!(out, "jail-a: stopped\njail-b: stopped\n");
    host.assert_clean(IDLE);
}

#[test]
fn restart_brings_the_jail_back() {
    require_root!();
    let host = seed_started();
    let out = host.ok(["restart", "jail-a"]);
    assert_eq!(out, "jail-a: stopped\njail-a: started (JID 1)\n");
    assert_eq!(host.jail_row("jail-a")["jid"], 1);
    host.assert_pings("jail-a", &["10.23.42.3", "10.23.42.1"]);
    host.assert_links(&["lo", "bridge0", "vnet0.1", "vnet0.2"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// A DHCP client ioc knows how to run in a jail.
fn dhclient_installed() -> bool {
    ["/sbin/dhclient", "/usr/sbin/dhclient"]
        .iter()
        .any(|p| Path::new(p).is_file())
}

/// Busybox's DHCP server in a peer host on `bridge0`, handing out 10.23.42.100-110.
fn dhcp_server(host: &mut HostNs) -> Option<Background> {
    let has_udhcpd = Command::new("busybox")
        .arg("udhcpd")
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("udhcpd"));
    if !has_udhcpd {
        return None;
    }
    let peer = host.add_peer("bridge0", "10.23.42.254/24");
    let dir = host.dir();
    let config = dir.join("udhcpd.conf");
    let leases = dir.join("udhcpd.leases");
    std::fs::write(&leases, b"").expect("lease file");
    std::fs::write(
        &config,
        format!(
            "start 10.23.42.100\nend 10.23.42.110\ninterface eth0\nlease_file {}\n\
             pidfile {}\noption subnet 255.255.255.0\noption router 10.23.42.1\noption dns 10.23.42.53\n",
            leases.display(),
            dir.join("udhcpd.pid").display()
        ),
    )
    .expect("udhcpd.conf");
    let mut command = ioc_tests::netns::in_netns(&peer, "busybox");
    command
        .arg("udhcpd")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Some(Background::spawn(command))
}

#[test]
fn dhcp_gets_a_lease_or_fails_clearly() {
    require_root!();
    let mut host = seed_host();
    host.ok([
        "create",
        "jail-a",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|dhcp",
    ]);
    if !dhclient_installed() {
        let err = host.fails(["start", "jail-a"]);
        assert!(err.contains("no DHCP client is installed"), "stderr: {err}");
        host.assert_clean(IDLE);
        return;
    }
    let Some(_server) = dhcp_server(&mut host) else {
        eprintln!("skipped the lease check: busybox udhcpd is not installed");
        return;
    };
    let links = ["lo", "bridge0", "peer0"];
    let host_resolv = std::fs::read("/etc/resolv.conf").ok();
    host.ok(["start", "jail-a"]);
    let addresses = jail_addresses(&host, "jail-a", "-4", "vnet0");
    assert!(
        addresses
            .iter()
            .any(|a| a.starts_with("10.23.42.1") && a.ends_with("/24")),
        "no lease from 10.23.42.100-110: {addresses:?}"
    );
    // The client wrote the lease's name server into the jail's own resolv.conf (a private
    // copy: the jail shares the host's file system), not into the host's.
    let resolv = host.exec_ok("jail-a", &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 10.23.42.53"), "{resolv}");
    assert_eq!(std::fs::read("/etc/resolv.conf").ok(), host_resolv);
    host.assert_pings("jail-a", &["10.23.42.254"]);
    host.stop_and_check_clean("jail-a", &links);
}

#[test]
fn accept_rtadv_turns_on_router_advertisements() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok(["set", "ip6_addr=vnet0|accept_rtadv", "jail-a"]);
    host.ok(["start", "jail-a,jail-b"]);
    let sysctl = |jail: &str| {
        host.exec_ok(jail, &["sysctl", "net.ipv6.conf.vnet0.accept_ra"])
            .trim()
            .to_string()
    };
    assert_eq!(sysctl("jail-a"), "net.ipv6.conf.vnet0.accept_ra = 1");
    // Without accept_rtadv a jail takes no route from whoever advertises one (as on FreeBSD),
    // although a new Linux network namespace would.
    assert_eq!(sysctl("jail-b"), "net.ipv6.conf.vnet0.accept_ra = 0");

    // A router on bridge0 advertises fd00:99::/64: jail-a configures an address from it and
    // a default route through the router; jail-b ignores it.
    let slaac = |jail: &str| {
        jail_addresses(&host, jail, "-6", "vnet0")
            .into_iter()
            .find(|a| a.starts_with("fd00:99::"))
    };
    let mut address = None;
    for _ in 0..40 {
        host.advertise_prefix("bridge0", "fd00:99::".parse().expect("prefix"));
        address = slaac("jail-a");
        if address.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let address = address.expect("jail-a got no address from the advertised prefix");
    assert!(address.ends_with("/64"), "{address}");
    assert_has_route(&jail_routes(&host, "jail-a", "-6"), "default via fe80::");
    assert_eq!(slaac("jail-b"), None, "jail-b took the advertised prefix");
    assert!(!jail_routes(&host, "jail-b", "-6")
        .iter()
        .any(|r| r.starts_with("default")));
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

#[test]
fn the_main_job_script_runs_the_seed_scenario() {
    require_root!();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.sh");
    // The workspace is already built for the tests: the script reuses that ioc.
    let out = Command::new("bash")
        .arg(&script)
        .env("IOC", ioc_bin())
        .output()
        .expect("run examples/seed.sh");
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "seed.sh failed:\n{text}\n{err}");
    for part in [
        "ioc start jail-a,jail-b",
        "jail-a: started (JID 1)",
        "jail-b: started (JID 2)",
        "ok: jail-a reaches 10.23.42.3",
        "ok: jail-b reaches 10.23.42.1",
        "ok: nothing is left",
    ] {
        assert!(
            text.contains(part),
            "seed.sh output lacks {part:?}:\n{text}"
        );
    }
    let namespaces = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    assert!(
        !stdout(&namespaces).contains("ioc-seed-"),
        "seed.sh left its namespace"
    );
}

#[test]
fn the_harness_cleans_up_after_a_failed_assertion() {
    require_root!();
    // A test body that dies mid-way: two jails running, an ioc hanging mid-start holding
    // jail-c's lock, a server in a peer host.
    let (tx, rx) = std::sync::mpsc::channel();
    let body = std::thread::spawn(move || {
        let mut host = seed_started();
        host.ok([
            "create",
            "jail-c",
            "interfaces=vnet0:bridge0",
            "ip4_addr=vnet0|10.23.42.4/24",
        ]);
        let mut hanging = host.spawn_ioc(&["start", "jail-c"], &[("IOC_FAULT_HANG_STEP", "3")]);
        let pipe = hanging.take_stderr().expect("stderr is piped");
        wait_for_line(pipe, "hanging before step 3", Duration::from_secs(30))
            .expect("ioc hangs at step 3");
        let peer = host.add_peer("bridge0", "10.23.42.254/24");
        let mut sleeper = ioc_tests::netns::in_netns(&peer, "sleep");
        sleeper.arg("600");
        let server = Background::spawn(sleeper);
        let pids = [hanging.pid(), server.pid()];
        tx.send((host.name().to_string(), peer, host.dir(), pids))
            .expect("send");
        panic!("a failed assertion");
    });
    assert!(body.join().is_err(), "the body should have panicked");
    let (name, peer, dir, pids) = rx.recv().expect("the body got far enough");
    let namespaces = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let namespaces = stdout(&namespaces);
    for ns in [&name, &peer] {
        assert!(
            !namespaces
                .lines()
                .any(|l| l.split_whitespace().next() == Some(ns)),
            "{ns} is left"
        );
    }
    assert!(ioc_tests::netns::mounts_under(&dir).is_empty());
    assert!(!dir.exists(), "{} is left", dir.display());
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is left"
        );
    }
}

/// Waits for a file a hook writes, for up to 30 seconds.
fn wait_for_file(path: &Path) -> String {
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text.trim().to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn sigkill_mid_stop_then_stop_finishes_the_job() {
    require_root!();
    let host = seed_host();
    seed(&host);
    // Each hook blocks the first time it runs, so ioc can be killed inside it: exec_stop
    // runs in the jail before anything is removed, exec_poststop on the host after the jail
    // is gone but before its interfaces are destroyed.
    for hook in ["exec_stop", "exec_poststop"] {
        let mark = host.dir().join(format!("{hook}.pid"));
        host.ok([
            "set".to_string(),
            format!(
                "{hook}=[ -e {m} ] || {{ echo $$ > {m}; exec sleep 60; }}",
                m = mark.display()
            ),
            "jail-a".to_string(),
        ]);
        host.ok(["start", "jail-a"]);
        let mut stop = host.spawn_ioc(&["stop", "jail-a"], &[]);
        let hook_pid = wait_for_file(&mark);
        stop.kill9();
        let _ = Command::new("kill").args(["-9", &hook_pid]).status();

        let out = host.ok(["stop", "jail-a"]);
        // Killed before the stop began removing, the jail still ran; after, it did not.
        let expected = if hook == "exec_stop" {
            "jail-a: stopped\n"
        } else {
            "jail-a: not running\n"
        };
        assert_eq!(out, expected, "after a kill in {hook}");
        assert!(!host.running("jail-a"));
        host.assert_clean(IDLE);
        host.ok(["set", hook, "jail-a"]);
    }
}

#[test]
fn resolver_gives_the_jail_its_own_resolv_conf() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "set",
        "resolver=nameserver 10.23.42.1;search example.test",
        "jail-a",
    ]);
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    host.ok(["start", "jail-a,jail-b"]);
    let lines: Vec<String> = host
        .exec_ok("jail-a", &["cat", "/etc/resolv.conf"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines, ["nameserver 10.23.42.1", "search example.test"]);
    // The default is a copy of the host's file.
    assert_eq!(
        host.exec_ok("jail-b", &["cat", "/etc/resolv.conf"]),
        host_resolv
    );
    assert_eq!(
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        host_resolv
    );
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}
