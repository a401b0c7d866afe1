//! Progress of commands over many jails: each jail's line comes as soon as it is known, not all
//! at the end. A slow jail waits for a gate file the test creates only after it has read the
//! fast jail's line, so the order is proven without any timing assumption.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ioc_tests::netns::HostNs;
use ioc_tests::require_root;

/// A running `ioc` whose slow jail waits for `gate`: on drop the gate opens and the process is
/// waited for, so a failing test never leaves it hanging.
struct Gated {
    child: Child,
    gate: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Gated {
    /// The next stdout line; a generous limit only so a broken build fails instead of hanging.
    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .expect("a line from ioc")
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.gate, "");
        let _ = self.child.wait();
    }
}

fn spawn(host: &HostNs, args: &[&str], gate: PathBuf) -> Gated {
    let mut child = host
        .ioc_command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ioc runs");
    let stdout = child.stdout.take().expect("piped");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Gated { child, gate, lines }
}

#[test]
fn a_bulk_start_prints_each_jail_as_it_finishes() {
    require_root!();
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.78.0.1/16"));
    host.ok(["set", "vnet=on", "interfaces=vnet0:bridge0", "defaults"]);
    host.ok(["create", "a-fast", "ip4_addr=vnet0|10.78.0.2/16"]);
    host.ok(["create", "b-slow", "ip4_addr=vnet0|10.78.0.3/16"]);
    // One at a time, then both in one concurrent wave.
    for jobs in ["1", "2"] {
        let gate = host.dir().join(format!("gate-{jobs}"));
        let hook = format!(
            "exec_poststart=while [ ! -e {} ]; do sleep 0.05; done",
            gate.display()
        );
        host.ok(["set", &hook, "b-slow"]);
        let mut ioc = spawn(&host, &["start", "--jobs", jobs, "a-fast,b-slow"], gate);
        let first = ioc.next_line();
        assert!(first.starts_with("a-fast: started (JID "), "{first}");
        // b-slow cannot have finished: its hook waits for the gate, still closed.
        assert!(matches!(ioc.child.try_wait(), Ok(None)), "ioc ended early");
        std::fs::write(&ioc.gate, "").expect("open the gate");
        let second = ioc.next_line();
        assert!(second.starts_with("b-slow: started (JID "), "{second}");
        assert!(ioc.child.wait().expect("wait").success());
        drop(ioc);

        let out = host.ok(["stop", "a-fast,b-slow"]);
        assert_eq!(out, "b-slow: stopped\na-fast: stopped\n", "{out}");
        host.assert_clean(&["lo", "bridge0"]);
    }
}
