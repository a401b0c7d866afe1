//! The configuration CLI end to end: the real `ioc` binary against a temporary root.
//!
//! The modules by theme: [`get_set`], [`validation`], [`files`] (the state on disk),
//! [`usage`] (the command line itself), [`output`] (JSON, `list -o`, suggestions),
//! [`help_examples`], [`completion`] (names from `ioc __complete` in the shell scripts),
//! [`progress`] (one line per jail as it finishes) and [`import`] (iocage's and libioc's files).

mod completion;
mod files;
mod get_set;
mod help_examples;
mod import;
mod output;
mod progress;
mod usage;
mod validation;

use std::collections::BTreeMap;
use std::process::Output;

use ioc_tests::Sandbox;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure with `code` whose stderr contains `part`, and no panic.
fn assert_fails(output: &Output, code: i32, part: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(part), "stderr lacks {part:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `get all` output as a map.
fn get_all(sandbox: &Sandbox, target: &str) -> BTreeMap<String, String> {
    sandbox
        .ok(["get", "all", target])
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=VALUE line");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The seed document's commands.
fn seed(sandbox: &Sandbox) {
    sandbox.ok(["set", "vnet=on", "defaults"]);
    sandbox.ok(["create", "jail-a"]);
    sandbox.ok(["create", "jail-b"]);
    sandbox.ok([
        "set",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
        "defaultrouter=10.23.42.1",
        "jail-a",
    ]);
    sandbox.ok([
        "set",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.3/24",
        "defaultrouter=10.23.42.1",
        "jail-b",
    ]);
}
