//! Running `ioc` in the sandbox host, and asking it (or a jail) what it sees.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::commands::{eventually, output};
use super::{parse_links, Background, HostNs, Link};
use crate::ioc_bin;

impl HostNs {
    /// `ioc` inside this namespace, with this sandbox's root and runtime dir.
    pub fn ioc_command(&self) -> Command {
        let mut command = self.command(ioc_bin());
        self.sandbox.set_env(&mut command);
        command
    }

    /// Runs `ioc ARGS...` here with extra environment (test switches such as
    /// `IOC_FAULT_FAIL_STEP`).
    pub fn ioc_env<I, S>(&self, args: I, env: &[(&str, &str)]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.ioc_command();
        command.args(args).envs(env.iter().copied());
        output(command)
    }

    /// Runs `ioc ARGS...` here.
    pub fn ioc<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.ioc_env(args, &[])
    }

    /// Runs `ioc ARGS...`, asserts success and returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.ioc(&args);
        assert!(
            out.status.success(),
            "ioc {:?} failed ({:?}): {}",
            shown(&args),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `ioc ARGS...`, asserts it fails with exit code 1 and no panic; returns stderr.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.ioc(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(1),
            "ioc {:?} should fail with 1; stdout: {} stderr: {err}",
            shown(&args),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// Starts `ioc ARGS...` in the background with extra environment and stderr piped.
    pub fn spawn_ioc(&self, args: &[&str], env: &[(&str, &str)]) -> Background {
        let mut command = self.ioc_command();
        command
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Background::spawn(command)
    }

    /// `ioc exec JAIL -- ARGV...`.
    pub fn exec(&self, jail: &str, argv: &[&str]) -> Output {
        let mut args = vec!["exec", jail, "--"];
        args.extend_from_slice(argv);
        self.ioc(args)
    }

    /// `ioc exec JAIL -- ARGV...`, which must succeed; returns stdout.
    pub fn exec_ok(&self, jail: &str, argv: &[&str]) -> String {
        let mut args = vec!["exec", jail, "--"];
        args.extend_from_slice(argv);
        self.ok(args)
    }

    /// An open descriptor of a running jail's network namespace: it keeps the namespace (and
    /// the veth pairs whose peer is inside) alive after ioc removed the jail, until it is
    /// dropped, so that only ioc's own deletion removes their host ends. (A process in the
    /// namespace would not do: ioc ends every process it finds there.)
    pub fn hold_jail_netns(&self, jail: &str) -> std::fs::File {
        let pin = self.sandbox.run_dir().join(format!("jails/{jail}/ns/net"));
        std::fs::File::open(&pin).unwrap_or_else(|e| panic!("open {}: {e}", pin.display()))
    }

    /// The links inside a running jail.
    pub fn jail_links(&self, jail: &str) -> Vec<Link> {
        parse_links(&self.exec_ok(jail, &["ip", "-j", "link"]))
    }

    /// One link inside a running jail, which must exist.
    pub fn jail_link(&self, jail: &str, name: &str) -> Link {
        parse_links(&self.exec_ok(jail, &["ip", "-j", "link", "show", "dev", name]))
            .pop()
            .unwrap_or_else(|| panic!("no link {name} in jail {jail}"))
    }

    /// Whether `jail` reaches `address` with ping, trying for a few seconds (IPv6 addresses
    /// may still be in duplicate address detection right after a start).
    pub fn pings(&self, jail: &str, address: &str) -> bool {
        eventually(Duration::from_secs(8), || {
            self.exec(jail, &["ping", "-c", "1", "-W", "1", address])
                .status
                .success()
        })
    }

    /// Asserts that `jail` reaches every address.
    pub fn assert_pings(&self, jail: &str, addresses: &[&str]) {
        for address in addresses {
            assert!(self.pings(jail, address), "{jail} cannot ping {address}");
        }
    }

    /// `ioc list --output-format json` by jail name.
    pub fn list(&self) -> Vec<Value> {
        let out = self.ok(["list", "--output-format", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("list JSON ({e}): {out}"))
    }

    /// A jail's row of `ioc list`.
    pub fn jail_row(&self, jail: &str) -> Value {
        self.list()
            .into_iter()
            .find(|row| row["name"] == jail)
            .unwrap_or_else(|| panic!("{jail} is not listed"))
    }

    /// Whether `ioc list` shows the jail running.
    pub fn running(&self, jail: &str) -> bool {
        self.jail_row(jail)["running"] == Value::Bool(true)
    }
}

fn shown<S: AsRef<OsStr>>(args: &[S]) -> Vec<String> {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect()
}
