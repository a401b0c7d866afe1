//! Stops and failed starts of a jail with a root leave no mount and no process; its init
//! reaps orphans.

use std::time::Duration;

use ioc_tests::netns::eventually;

use crate::{inits, processes_in_pid_namespace, Rooted};

#[test]
fn stop_leaves_no_mount_and_no_process() {
    let Some(t) = Rooted::new() else { return };
    t.create("web", ":", 2, &[]);
    t.host.ok(["start", "web"]);
    // Background processes of the jail, one ignoring SIGTERM.
    t.sh(
        "web",
        "sleep 600 >/dev/null 2>&1 & trap '' TERM; sleep 600 >/dev/null 2>&1 &",
    );
    let before = processes_in_pid_namespace(&t.host, "web");
    assert!(before.len() >= 3, "init and two sleeps: {before:?}");
    // No mount of the jail's root reaches the host's mount table.
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!host_mounts.contains(t.path()), "{host_mounts}");
    t.host.stop_and_check_clean("web", crate::IDLE);
    for (pid, _) in before {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/ns")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| s.contains(") Z"))
                    .unwrap_or(true),
            "process {pid} of the jail survived the stop"
        );
    }
    assert_eq!(inits(&t.host), Vec::<u32>::new(), "an init survived");
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!host_mounts.contains(t.path()), "{host_mounts}");
}

#[test]
fn the_init_reaps_orphans() {
    let Some(t) = Rooted::new() else { return };
    t.create("web", ":", 2, &[]);
    t.host.ok(["start", "web"]);
    // The shell leaves at once; its child becomes the init's, and exits a moment later.
    t.sh("web", "sleep 0.3 >/dev/null 2>&1 &");
    let orphan = processes_in_pid_namespace(&t.host, "web");
    assert!(orphan.len() >= 2, "the orphan: {orphan:?}");
    assert!(
        eventually(Duration::from_secs(5), || {
            processes_in_pid_namespace(&t.host, "web").len() == 1
        }),
        "a zombie stayed: {:?}",
        processes_in_pid_namespace(&t.host, "web")
    );
    assert_eq!(
        t.sh("web", "cat /proc/[0-9]*/stat | grep -c ') Z' || true"),
        "0\n"
    );
    t.host.stop_and_check_clean("web", crate::IDLE);
}

#[test]
fn a_failed_start_leaves_no_mount_and_no_process() {
    let Some(t) = Rooted::new() else { return };
    t.create("web", ":", 2, &["exec_start=true"]);
    let steps = t.host.fail_at_every_step("web", crate::IDLE, |step| {
        assert_eq!(
            inits(&t.host),
            Vec::<u32>::new(),
            "an init survived step {step}"
        );
    });
    assert!(steps >= 3, "{steps} steps");
    t.host.stop_and_check_clean("web", crate::IDLE);
}

#[test]
fn a_start_killed_midway_is_cleaned_up() {
    let Some(t) = Rooted::new() else { return };
    // The hook holds the start after the jail is made; SIGKILL it there.
    t.create("web", ":", 2, &["exec_start=sleep 30"]);
    let mut start = t.host.spawn_ioc(&["start", "web"], &[]);
    assert!(
        eventually(Duration::from_secs(10), || !inits(&t.host).is_empty()),
        "the jail never came up"
    );
    std::thread::sleep(Duration::from_millis(300));
    start.kill9();
    // The next command cleans the leftovers of the killed start.
    t.host.ok(["stop", "web"]);
    assert!(
        eventually(Duration::from_secs(5), || inits(&t.host).is_empty()),
        "an init survived: {:?}",
        inits(&t.host)
    );
    t.host.assert_clean(crate::IDLE);
}
