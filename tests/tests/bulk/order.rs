//! The order of `--rc`: lower priority first on start and last on stop, `depends` first.

use ioc_tests::require_root;
use serde_json::Value;

use crate::{bulk_host, create, names, IDLE};

#[test]
fn priority_order_and_depends_across_priorities() {
    require_root!();
    let host = bulk_host();
    create(&host, "late", 1, false, &["boot=on", "priority=90"]);
    create(
        &host,
        "web",
        2,
        false,
        &["boot=on", "priority=10", "depends=db"],
    );
    // db is not boot=on and has the lowest priority, but web needs it: it comes first.
    create(&host, "db", 3, false, &["priority=99"]);
    create(&host, "cache", 4, true, &["boot=yes", "priority=20"]);
    create(&host, "idle", 5, false, &[]);

    let out = host.ok(["start", "--rc"]);
    assert_eq!(names(&out), ["db", "web", "cache", "late"], "{out}");
    assert!(out.lines().all(|l| l.contains(": started (JID ")), "{out}");
    assert!(!host.running("idle"));

    // Again: every boot jail is already running.
    let out = host.ok(["start", "--rc", "--output-format", "json"]);
    let outcomes: Value = serde_json::from_str(&out).expect("json");
    let jails: Vec<&str> = outcomes
        .as_array()
        .expect("array")
        .iter()
        .map(|o| {
            assert_eq!(o["outcome"], "already running", "{o}");
            assert!(o["jid"].is_u64(), "{o}");
            o["jail"].as_str().expect("jail")
        })
        .collect();
    assert_eq!(jails, ["db", "web", "cache", "late"]);

    // idle runs too, started by hand: --rc stops every running jail, in reverse order.
    host.ok(["start", "idle"]);
    let out = host.ok(["stop", "--rc"]);
    assert_eq!(names(&out), ["idle", "late", "cache", "web", "db"], "{out}");
    host.assert_clean(IDLE);

    // Nothing to stop, nothing to start: not an error.
    assert_eq!(host.ok(["stop", "--rc"]), "");
    host.ok(["set", "boot=off", "late,web,cache"]);
    assert_eq!(host.ok(["start", "--rc"]), "");
}

#[test]
fn boot_and_priority_are_checked_like_every_property() {
    require_root!();
    let host = bulk_host();
    create(&host, "j", 1, false, &[]);
    assert_eq!(host.ok(["get", "boot", "j"]).trim(), "off");
    assert_eq!(host.ok(["get", "priority", "j"]).trim(), "99");
    let err = host.fails(["set", "priority=100", "j"]);
    assert!(
        err.contains("priority") && err.contains("expected a whole number from 0 to 99"),
        "{err}"
    );
    let err = host.fails(["set", "boot=maybe", "j"]);
    assert!(
        err.contains("boot") && err.contains("expected on or off"),
        "{err}"
    );
    // --rc takes no filter: a usage error (exit code 2).
    let out = host.ioc(["start", "--rc", "j"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used"));
}
