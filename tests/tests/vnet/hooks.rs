//! The exec_* hooks: a failing hook fails (or, for prestop, refuses) the step and rolls back;
//! hooks see the JID and exec_start runs inside the jail.

use std::path::Path;

use ioc_tests::netns::{seed, seed_host};
use ioc_tests::require_root;

use crate::IDLE;

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

/// A VNET jail's `/sys` shows its own links, not the host's: in `exec_start`, the first thing
/// that runs in it (its helper mounts that sysfs while the start builds the network, and the
/// start waits for it before running anything in the jail), and through `ioc exec` after.
#[test]
fn the_jails_sys_shows_its_own_links_from_exec_start_on() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let seen = host.dir().join("start.links");
    host.ok([
        "set",
        &format!("exec_start=ls /sys/class/net > {}", seen.display()),
        "jail-a",
    ]);
    host.ok(["start", "jail-a"]);
    let own = |listing: &str| {
        let mut links: Vec<&str> = listing.split_whitespace().collect();
        links.sort_unstable();
        links.join(" ")
    };
    assert_eq!(own(&hook_output(&seen)), "lo vnet0");
    assert_eq!(
        own(&host.exec_ok("jail-a", &["ls", "/sys/class/net"])),
        "lo vnet0"
    );
    host.stop_and_check_clean("jail-a", IDLE);
}
