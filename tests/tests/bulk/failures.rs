//! A jail failing, or ioc killed, in the middle of a bulk start: the others are untouched.

use std::time::Duration;

use ioc_tests::netns::wait_for_line;
use ioc_tests::require_root;
use serde_json::Value;

use crate::{bulk_host, create, names, IDLE};

/// Jails a, b (Secure VNET) and c with boot=on: of priorities 1, 2 and 3 (one after the
/// other), or all of priority 5 (`same`: one wave, started concurrently).
fn three_boot_jails(same: bool) -> ioc_tests::netns::HostNs {
    let host = bulk_host();
    for (n, name) in ["a", "b", "c"].iter().enumerate() {
        let priority = format!("priority={}", if same { 5 } else { n + 1 });
        create(
            &host,
            name,
            n as u16 + 1,
            *name == "b",
            &["boot=on", &priority],
        );
    }
    host
}

#[test]
fn a_failing_jail_in_the_middle_is_rolled_back_and_the_others_start() {
    require_root!();
    failing_jail_in_the_middle(false);
}

#[test]
fn a_failing_jail_in_a_concurrent_wave_is_rolled_back_and_the_others_start() {
    require_root!();
    failing_jail_in_the_middle(true);
}

fn failing_jail_in_the_middle(same: bool) {
    let host = three_boot_jails(same);
    let faults = [("IOC_FAULT_JAIL", "b"), ("IOC_FAULT_FAIL_STEP", "3")];
    let out = host.ioc_env(["start", "--rc", "--jobs", "3"], &faults);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(names(&stdout), ["a", "c"], "{stdout}");
    assert!(
        stderr.contains("injected failure before step 3"),
        "{stderr}"
    );
    assert!(stderr.contains('b'), "{stderr}");
    assert!(!stderr.contains("rollback failed"), "{stderr}");
    assert!(host.running("a") && !host.running("b") && host.running("c"));
    host.ok(["stop", "--rc"]);
    host.assert_clean(IDLE);

    // The same in JSON: one object per jail, the failure included.
    let out = host.ioc_env(
        ["start", "--rc", "--jobs", "3", "--output-format", "json"],
        &faults,
    );
    assert_eq!(out.status.code(), Some(1));
    let outcomes: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows: Vec<(String, String)> = outcomes
        .as_array()
        .expect("array")
        .iter()
        .map(|o| (o["jail"].to_string(), o["outcome"].to_string()))
        .collect();
    let expect = [("a", "started"), ("b", "failed"), ("c", "started")]
        .map(|(j, o)| (format!("\"{j}\""), format!("\"{o}\"")));
    assert_eq!(rows, expect);
    assert!(outcomes[1]["error"]
        .as_str()
        .unwrap()
        .contains("injected failure"));
    host.ok(["stop", "--rc"]);
    host.assert_clean(IDLE);
}

#[test]
fn sigkill_during_a_bulk_start_is_cleaned_up_by_the_next_command() {
    require_root!();
    killed_in_the_middle(false);
}

#[test]
fn sigkill_during_a_concurrent_bulk_start_is_cleaned_up_by_the_next_command() {
    require_root!();
    killed_in_the_middle(true);
}

/// Kills `ioc start --rc` while b's start hangs; in a concurrent wave a and c may be anywhere
/// in their starts then. The next `ioc stop --rc` leaves nothing.
fn killed_in_the_middle(same: bool) {
    let host = three_boot_jails(same);
    for step in ["2", "4"] {
        let mut ioc = host.spawn_ioc(
            &["start", "--rc", "--jobs", "3"],
            &[("IOC_FAULT_JAIL", "b"), ("IOC_FAULT_HANG_JOURNALED", step)],
        );
        let pipe = ioc.take_stderr().expect("stderr is piped");
        let needle = format!("hanging after journaling step {step}");
        wait_for_line(pipe, &needle, Duration::from_secs(60)).expect("ioc hangs");
        if same {
            // Give a and c time to get anywhere in their starts, or to finish them.
            std::thread::sleep(Duration::from_millis(20));
        }
        ioc.kill9();
        assert!(same || host.running("a"), "a started before b");
        assert!(!host.running("b"));
        // The next bulk stop cleans b's half-done start with the others.
        let out = host.ok(["stop", "--rc"]);
        assert!(names(&out).contains(&"b".to_string()), "{out}");
        host.assert_clean(IDLE);
    }
    // And the next bulk start then starts them all.
    let out = host.ok(["start", "--rc"]);
    assert_eq!(names(&out), ["a", "b", "c"], "{out}");
    host.ok(["stop", "--rc"]);
    host.assert_clean(IDLE);
}
