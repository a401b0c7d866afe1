//! Run-time plugin loading end to end (issue 3): the real `ioc` binary loading the workspace's
//! cdylibs, the test fixtures and the example third-party plugin.
//!
//! Tests that start jails or need ioc's root-only trust check run as root in sandbox network
//! namespaces ([`HostNs`]); without root they say so and skip. The others run as anyone.
//!
//! The modules by theme: [`loading`] (what is loaded, and when), [`trust`] (what is refused
//! or disabled) and [`runtime`] (plugins driving jails).
// The sandbox harness is Linux-only (namespaces); the FreeBSD build skips these tests.
#![cfg(target_os = "linux")]

mod loading;
mod runtime;
mod trust;

use std::path::Path;
use std::process::{Command, Output};

use ioc_sdk::Platform;
use ioc_tests::netns::HostNs;
use ioc_tests::Sandbox;
use serde_json::Value;

/// The version every plugin crate of the workspace has (the workspace's version).
const WORKSPACE_VERSION: &str = env!("CARGO_PKG_VERSION");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns stdout.
fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Asserts a clean failure: exit code 1 (not a signal or an abort) and no panic of ioc's own.
/// Returns stderr.
fn fails(out: &Output, what: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} should exit with 1; stdout: {} stderr: {err}",
        text(&out.stdout)
    );
    assert!(!err.contains("thread 'main' panicked"), "{what}: {err}");
    err
}

/// Asserts that an error is one line (no layout dump, no backtrace) and returns it.
fn one_line(err: &str) -> &str {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    lines[0]
}

/// `ioc` on the sandbox's state with `plugins` as the only `IOC_PLUGIN_PATH`, so a developer's
/// own setting cannot change what the tests see.
fn ioc(sandbox: &Sandbox, plugins: &Path) -> Command {
    let mut command = sandbox.command();
    command.env("IOC_PLUGIN_PATH", plugins);
    command
}

fn run<const N: usize>(mut command: Command, args: [&str; N]) -> Output {
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ioc: {e}"))
}

/// `ioc ARGS...` inside a sandbox namespace with `plugins` as `IOC_PLUGIN_PATH`.
fn in_ns<const N: usize>(host: &HostNs, plugins: &Path, args: [&str; N]) -> Output {
    let path = plugins.to_str().expect("a UTF-8 temporary path");
    host.ioc_env(args, &[("IOC_PLUGIN_PATH", path)])
}

/// The `ioc plugins list --output-format json` row of `name`.
fn plugin_row(rows: &[Value], name: &str) -> Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {rows:?}"))
        .clone()
}

fn list_json(command: Command) -> Vec<Value> {
    let out = ok(
        run(command, ["plugins", "list", "--output-format", "json"]),
        "plugins list",
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("plugins list JSON ({e}): {out}"))
}

/// What a shipped plugin is: a network mode or a firewall backend.
fn kind_of(name: &str) -> &'static str {
    if ["shared-ip", "vnet", "secure-vnet", "nat", "cni"].contains(&name) {
        "network"
    } else {
        "firewall"
    }
}

/// The backend the `firewall` setting selects when nobody set it.
fn default_firewall() -> &'static str {
    match Platform::current() {
        Platform::FreeBsd => "ipfw",
        Platform::Linux => "nftables",
    }
}
