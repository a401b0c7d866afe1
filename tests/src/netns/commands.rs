//! Commands in a namespace by name: `nsenter`, `ip -n`, ping and wget from a peer, and the
//! polling they share.

use std::ffi::OsStr;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

/// A command that runs in the network namespace `ns` (a name under `/run/netns`), and in the
/// caller's mount namespace.
pub fn in_netns(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new("nsenter");
    command.arg(format!("--net=/run/netns/{ns}")).arg(program);
    command
}

/// `ip -n NS ARGS...`, which must succeed; returns its stdout.
pub fn ip_in<I, S>(ns: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new("ip");
    command.arg("-n").arg(ns).args(args);
    checked(command)
}

/// `ip -n NS addr add ADDRESS dev LINK`; IPv6 without duplicate address detection, so the
/// test's own addresses are usable at once.
pub fn add_address_in(ns: &str, link: &str, address: &str) {
    let mut args = vec!["addr", "add", address, "dev", link];
    if address.contains(':') {
        args.push("nodad");
    }
    ip_in(ns, args);
}

/// Whether namespace `ns` reaches `address` with ping (IPv4 or IPv6), trying for a few
/// seconds as [`HostNs::pings`] does.
pub fn pings_from(ns: &str, address: &str) -> bool {
    eventually(Duration::from_secs(8), || answers_now(ns, address))
}

/// Whether `ns` gets an answer from `address` right now: one ping, one second. For checking
/// that something is gone, where [`pings_from`] would wait in vain.
pub fn answers_now(ns: &str, address: &str) -> bool {
    in_netns(ns, "ping")
        .args(["-c", "1", "-W", "1", address])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What namespace `peer` gets from `http://address:8080/marker` (busybox wget), waiting up to
/// ten seconds for the server to listen.
pub fn fetch_from(peer: &str, address: &str) -> Option<String> {
    let url = if address.contains(':') {
        format!("http://[{address}]:8080/marker")
    } else {
        format!("http://{address}:8080/marker")
    };
    fetch_url(peer, &url, Duration::from_secs(10))
}

/// What namespace `peer` gets from `url` (busybox wget, three seconds a try), trying again
/// until an answer comes or `wait` has passed (a zero `wait`: one try).
pub fn fetch_url(peer: &str, url: &str, wait: Duration) -> Option<String> {
    let mut body = None;
    eventually(wait, || {
        // coreutils' timeout, not wget's -T, which crashes busybox 1.35's wget.
        let out = in_netns(peer, "timeout")
            .args(["3", "busybox", "wget", "-q", "-O", "-", url])
            .output()
            .expect("run busybox wget in the peer");
        if out.status.success() {
            body = Some(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        body.is_some()
    });
    body
}

/// Polls `done` every 100 ms until it holds or `timeout` has passed; whether it held.
pub fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// `ip netns add NS`, which must succeed.
pub(super) fn add_netns(ns: &str) {
    let mut command = Command::new("ip");
    command.args(["netns", "add", ns]);
    checked(command);
}

/// Runs a command, panicking with its stderr when it cannot start.
pub(super) fn output(mut command: Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// Runs a command that must succeed and returns its stdout.
fn checked(command: Command) -> String {
    let shown = format!("{command:?}");
    let out = output(command);
    assert!(
        out.status.success(),
        "{shown} failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
