//! What the live nftables tests of core and of the nftables plugin share: why this machine
//! cannot run them, a network namespace of their own, and running a program that must succeed.
//!
//! Shared as source with `#[path]` next to `skip.rs` (which it uses as `crate::skip`), for the
//! same reason: those crates cannot depend on `ioc-tests`, which depends on them.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Why these tests cannot run here (not root, or one of `tools` missing), or `None`. `what`
/// says what root is needed for.
pub fn skip_reason(what: &str, tools: &[&str]) -> Option<String> {
    if let Some(why) = crate::skip::missing_root(what) {
        return Some(why);
    }
    tools
        .iter()
        .find(|tool| Command::new(tool).arg("-V").output().is_err())
        .map(|tool| {
            let package = match *tool {
                "ip" => "iproute2",
                "nft" => "nftables",
                other => other,
            };
            format!("`{tool}` is not installed ({package})")
        })
}

/// Runs `body` on a thread that has a network namespace of its own. Programs it starts inherit
/// the thread's namespace; the namespace dies with the thread.
pub fn in_private_netns<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("unshare a network namespace");
            body()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Runs `argv` with `stdin`, which must succeed; returns what it printed.
pub fn sh(argv: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{argv:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdin.unwrap_or_default()
    );
    String::from_utf8(out.stdout).unwrap()
}
