//! What a test asserts about the sandbox host once ioc is done: its links, mounts, runtime
//! state and processes, also after a start failed at every step.

use std::path::PathBuf;

use super::{processes_mentioning, HostNs};

impl HostNs {
    /// Asserts that the sandbox namespace holds exactly `links`, in any order.
    pub fn assert_links(&self, links: &[&str]) {
        let mut have: Vec<String> = self.links().into_iter().map(|l| l.name).collect();
        let mut want: Vec<String> = links.iter().map(|l| l.to_string()).collect();
        have.sort();
        want.sort();
        assert_eq!(have, want, "links in the sandbox");
    }

    /// Starts `jails` with `IOC_FAULT_FAIL_STEP=N` for N = 1, 2, ... until the start goes
    /// through. Each failed start must name the injected step and no rollback error, leave no
    /// jail running and the host clean with exactly `idle` links; `check(N)` adds the
    /// caller's own checks (an interface's addresses, say). Returns how many steps failed.
    pub fn fail_at_every_step(
        &self,
        jails: &str,
        idle: &[&str],
        mut check: impl FnMut(usize),
    ) -> usize {
        for step in 1..100 {
            let n = step.to_string();
            let out = self.ioc_env(["start", jails], &[("IOC_FAULT_FAIL_STEP", &n)]);
            if out.status.success() {
                return step - 1;
            }
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("injected failure before step {n}")),
                "step {n}: {err}"
            );
            assert!(!err.contains("rollback failed"), "step {n}: {err}");
            for jail in jails.split(',') {
                assert!(!self.running(jail), "{jail} runs after a failure at {n}");
            }
            self.assert_clean(idle);
            check(step);
        }
        panic!("the start of {jails} never succeeded");
    }

    /// Stops `jails` (comma-separated), expecting each to have been running, then checks the
    /// host is clean with only `links` left (see [`HostNs::assert_clean`]).
    pub fn stop_and_check_clean(&self, jails: &str, links: &[&str]) {
        let out = self.ok(["stop", jails]);
        for jail in jails.split(',') {
            assert!(
                out.contains(&format!("{jail}: stopped")),
                "stop output: {out}"
            );
            assert!(!self.running(jail), "{jail} still listed as running");
        }
        self.assert_clean(links);
    }

    /// Asserts that the host is as clean as before any jail ran: exactly `links` in the
    /// sandbox namespace, no mount (namespace pin or private run dir) under the sandbox's
    /// directory, no runtime state (journal, JID, pins) of any jail, and no process left
    /// working for one.
    pub fn assert_clean(&self, links: &[&str]) {
        self.assert_links(links);
        assert_eq!(self.mounts(), Vec::<PathBuf>::new(), "mounts left");
        assert_eq!(
            self.runtime_jails(),
            Vec::<String>::new(),
            "runtime state left"
        );
        assert_eq!(
            processes_mentioning(&self.sandbox.run_dir()),
            Vec::<String>::new(),
            "processes left"
        );
    }
}
