//! Linux jails in VNET bridge mode, end to end: the real `ioc` binary in a sandbox "host"
//! network namespace of each test's own, so the tests can run in parallel and never touch the
//! machine's network. Every test needs root and says so when skipped (under `CI=true` it
//! fails instead).
//!
//! The modules by theme: [`network`] (what a jail's network looks like), [`autoconf`] (DHCP
//! and router advertisements), [`lifecycle`] (start, stop, restart, exec as a user drives
//! them), [`hooks`] (the exec_* hooks), [`rollback`] (refused and failed starts), [`signals`]
//! (starts and stops killed or interrupted midway), [`vanished`] (state changed behind
//! ioc's back) and [`quick_stop`] (a single stop's links deleted from detached processes).
#![cfg(target_os = "linux")]

mod autoconf;
mod hooks;
mod lifecycle;
mod network;
mod quick_stop;
mod rollback;
mod signals;
mod vanished;

use std::process::Output;

use ioc_tests::netns::{seed, seed_host, HostNs};

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
