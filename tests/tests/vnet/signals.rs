//! A start or stop killed (SIGKILL) or interrupted (SIGINT) at every step: the next command
//! finishes the job, or the start rolls itself back.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ioc_tests::netns::{seed, seed_host, wait_for_line, Background, HostNs};
use ioc_tests::require_root;

use crate::IDLE;

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
