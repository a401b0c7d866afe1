//! The lifecycle as a user drives it: the seed scenario, the main job's script, repeated and
//! concurrent starts, restart, dependencies, exec, and the harness's own cleanup.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ioc_tests::netns::{seed, seed_host, wait_for_line, Background};
use ioc_tests::{ioc_bin, require_root};
use serde_json::Value;

use crate::{assert_has_route, jail_routes, seed_started, stderr, stdout, IDLE};

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
