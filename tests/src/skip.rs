//! What a test does when this machine cannot run it (no root, a tool missing): outside CI it
//! skips, saying why on stderr; under `CI=true` it fails with the reason, so a CI runner
//! without root cannot turn every end-to-end test into a silent pass.
//!
//! One rule for the whole workspace, in this one file: `ioc-tests` has it as
//! `ioc_tests::skip`, and core's integration tests compile the same file with `#[path]`
//! (core cannot depend on `ioc-tests`, which depends on core).

use std::io::Write as _;

/// `Some("needs root (WHAT)")` unless this process runs as root; `what` says what for.
pub fn missing_root(what: &str) -> Option<String> {
    (!nix::unistd::geteuid().is_root()).then(|| format!("needs root ({what})"))
}

/// Whether the calling test must return at once because it cannot run here, for `reason`
/// (`None`: it can run). Prints `skipped TEST: REASON` outside CI, also where the harness
/// captures output; panics with the reason when the `CI` environment variable is `true`.
pub fn skip_unless_ci(reason: Option<String>) -> bool {
    let Some(reason) = reason else {
        return false;
    };
    let test = std::thread::current().name().unwrap_or("test").to_string();
    if std::env::var_os("CI").is_some_and(|ci| ci == "true") {
        panic!("{test} cannot run under CI=true: {reason}");
    }
    // Straight to stderr rather than eprintln!, which the test harness captures (and hides)
    // for a test that passes: a skip must be seen.
    let _ = writeln!(std::io::stderr(), "skipped {test}: {reason}");
    true
}
