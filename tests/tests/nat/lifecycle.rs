//! NAT jails side by side: hairpin and host-local forwards, the duplicate-forward refusal,
//! two starts at the same moment, and SIGKILL at every step of a start. Needs root.

use std::process::Stdio;
use std::time::Duration;

use ioc_tests::netns::{wait_for_line, HostNs};
use ioc_tests::require_root;

use crate::traffic::{create_nat, forwarding, host_with_uplink, nat_entries, serve, IDLE};

/// `busybox wget` of `http://10.1.1.1:8080/marker` from inside `jail`, or from the host
/// itself when `jail` is `None`; waits up to ten seconds for the server.
fn fetch_via_host(host: &HostNs, jail: Option<&str>) -> Option<String> {
    let url = "http://10.1.1.1:8080/marker";
    let mut body = None;
    ioc_tests::netns::eventually(Duration::from_secs(10), || {
        let out = match jail {
            Some(jail) => host.exec(
                jail,
                &["timeout", "3", "busybox", "wget", "-q", "-O", "-", url],
            ),
            None => host
                .command("timeout")
                .args(["3", "busybox", "wget", "-q", "-O", "-", url])
                .output()
                .expect("run wget"),
        };
        if out.status.success() {
            body = Some(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        body.is_some()
    });
    body
}

#[test]
fn a_forward_is_reachable_from_other_jails_and_from_the_host() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    create_nat(&host, "web", "tcp(80:8080)");
    host.ok(["create", "client", "vnet=on", "nat=on"]);
    host.ok(["start", "web,client"]);
    let mut server = serve(&host, "web", "hairpin");
    assert_eq!(
        fetch_via_host(&host, Some("client")).as_deref(),
        Some("hairpin")
    );
    assert_eq!(fetch_via_host(&host, None).as_deref(), Some("hairpin"));
    host.stop_and_check_clean("web,client", IDLE);
    server.wait();
}

#[test]
fn a_host_port_forwarded_by_a_running_jail_is_refused_naming_it() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    create_nat(&host, "a", "tcp(80:8080)");
    create_nat(&host, "b", "tcp(8000-8010:8075-8085)");
    host.ok(["start", "a"]);
    let err = host.fails(["start", "b"]);
    assert!(err.contains("jail 'b'"), "{err}");
    assert!(err.contains("which jail 'a' forwards already"), "{err}");
    assert!(!host.running("b"));
    // Nothing of b was made, not even its address.
    assert_eq!(host.ok(["get", "ip4_addr", "b"]).trim(), "none");
    host.stop_and_check_clean("a", IDLE);
    host.ok(["start", "b"]);
    host.stop_and_check_clean("b", IDLE);
}

#[test]
fn two_starts_at_the_same_moment_get_different_addresses() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    let jails = ["j0", "j1", "j2", "j3"];
    for jail in jails {
        host.ok(["create", jail, "vnet=on", "nat=on"]);
    }
    let mut starts = spawn_starts(&host, &jails);
    for child in &mut starts {
        assert!(child.wait().expect("wait for ioc").success());
    }
    let mut addresses: Vec<String> = jails
        .iter()
        .map(|jail| host.ok(["get", "ip4_addr", jail]).trim().to_string())
        .collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), jails.len(), "{addresses:?}");
    for jail in jails {
        assert!(host.pings(jail, "10.1.1.2"), "{jail} cannot reach the peer");
    }
    host.stop_and_check_clean("j0,j1,j2,j3", IDLE);
}

/// Two jails forwarding the same host port, started at the same moment by two `ioc`
/// processes: the port's claim (made with the JID, under the run dir's lock) lets exactly one
/// of them through, and the other's error names it.
#[test]
fn two_starts_of_one_forward_at_the_same_moment_let_one_through() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    let jails = ["p0", "p1", "p2"];
    for jail in jails {
        create_nat(&host, jail, "tcp(80:8090)");
    }
    let starts = spawn_starts(&host, &jails);
    let outputs: Vec<_> = starts
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait for ioc"))
        .collect();
    let winners: Vec<&str> = jails
        .iter()
        .zip(&outputs)
        .filter(|(_, out)| out.status.success())
        .map(|(jail, _)| *jail)
        .collect();
    assert_eq!(winners.len(), 1, "{outputs:?}");
    let winner = winners[0];
    for (jail, out) in jails.iter().zip(&outputs) {
        if *jail == winner {
            continue;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("which jail '{winner}' forwards already")),
            "{jail}: {err}"
        );
        assert!(!host.running(jail));
    }
    host.stop_and_check_clean(winner, IDLE);
    let next = jails.iter().find(|j| **j != winner).unwrap();
    host.ok(["start", next]);
    host.stop_and_check_clean(next, IDLE);
}

#[test]
fn sigkill_at_every_start_step_leaves_nothing_after_the_next_command() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    create_nat(&host, "web", "tcp(80:8080)");
    let mut step = 1;
    loop {
        let n = step.to_string();
        let mut ioc = host.spawn_ioc(&["start", "web"], &[("IOC_FAULT_HANG_JOURNALED", &n)]);
        let pipe = ioc.take_stderr().expect("stderr is piped");
        let needle = format!("hanging after journaling step {n}");
        if wait_for_line(pipe, &needle, Duration::from_secs(30)).is_err() {
            ioc.wait();
            assert!(host.running("web"), "the start at step {n} failed");
            break;
        }
        ioc.kill9();
        let out = host.ok(["stop", "web"]);
        assert_eq!(out, "web: not running\n", "killed at step {step}");
        host.assert_clean(IDLE);
        assert_eq!(nat_entries(&host), "", "step {step}");
        assert_eq!(forwarding(&host, "em0"), "0", "step {step}");
        step += 1;
    }
    assert!(step > 8, "ioc hung at only {} steps", step - 1);
    host.stop_and_check_clean("web", IDLE);
    assert_eq!(nat_entries(&host), "");
    assert_eq!(forwarding(&host, "em0"), "0");
}

/// A start killed half-way keeps its forwards claimed (its runtime state is incomplete, as
/// for a jail being started): another jail forwarding the same port is refused naming it. The
/// next command on the killed jail cleans up, claims included, and the port is free again.
#[test]
fn a_killed_start_holds_its_forwards_until_cleaned_up() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    for jail in ["web", "api"] {
        create_nat(&host, jail, "tcp(80:8095)");
    }
    let mut ioc = host.spawn_ioc(&["start", "web"], &[("IOC_FAULT_HANG_JOURNALED", "2")]);
    let pipe = ioc.take_stderr().expect("stderr is piped");
    wait_for_line(
        pipe,
        "hanging after journaling step 2",
        Duration::from_secs(30),
    )
    .expect("the start hangs at step 2");
    ioc.kill9();
    let err = host.fails(["start", "api"]);
    assert!(err.contains("which jail 'web' forwards already"), "{err}");
    assert_eq!(host.ok(["stop", "web"]), "web: not running\n");
    host.assert_clean(IDLE);
    host.ok(["start", "api"]);
    host.stop_and_check_clean("api", IDLE);
}

/// What the peer gets from `http://10.1.1.1:PORT/marker`: waiting up to ten seconds for an
/// answer when `expect` is true, one try of three seconds when it is false.
fn fetch_port(peer: &str, port: u16, expect: bool) -> Option<String> {
    let wait = Duration::from_secs(if expect { 10 } else { 0 });
    ioc_tests::netns::fetch_url(peer, &format!("http://10.1.1.1:{port}/marker"), wait)
}

/// Each NAT jail's entries are its own: stopping one leaves the other's forward working and
/// its elements in the shared table; a jail without forwards only gets its masquerade pair.
#[test]
fn stopping_one_nat_jail_leaves_the_others_forward_and_entries() {
    require_root!();
    let (host, peer) = host_with_uplink();
    create_nat(&host, "web", "tcp(80:8080)");
    create_nat(&host, "api", "tcp(80:8081)");
    host.ok(["create", "client", "vnet=on", "nat=on"]);
    host.ok(["start", "web,api,client"]);
    let client = host.ok(["get", "ip4_addr", "client"]);
    let client = client
        .trim()
        .trim_start_matches("vnet0|")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let entries = nat_entries(&host);
    assert_eq!(
        entries.matches(&format!("{client} . ")).count(),
        1,
        "{client}: {entries}"
    );
    let mut web = serve(&host, "web", "web");
    let mut api = serve(&host, "api", "api");
    assert_eq!(fetch_port(&peer, 8080, true).as_deref(), Some("web"));
    assert_eq!(fetch_port(&peer, 8081, true).as_deref(), Some("api"));
    host.ok(["stop", "web"]);
    web.wait();
    assert_eq!(fetch_port(&peer, 8081, true).as_deref(), Some("api"));
    assert_eq!(
        fetch_port(&peer, 8080, false),
        None,
        "web's forward outlived its stop"
    );
    let left = nat_entries(&host);
    assert!(!left.contains("8080"), "{left}");
    assert!(left.contains("8081"), "{left}");
    host.stop_and_check_clean("api,client", IDLE);
    api.wait();
    assert_eq!(nat_entries(&host), "");
}

/// One `ioc start` process per jail, all running at once (stderr kept for the refusals).
fn spawn_starts(host: &HostNs, jails: &[&str]) -> Vec<std::process::Child> {
    jails
        .iter()
        .map(|jail| {
            let mut command = host.ioc_command();
            command
                .args(["start", jail])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            command.spawn().expect("spawn ioc start")
        })
        .collect()
}
