//! What `ioc-secure` refuses, each a CNI error object with the specification's code that
//! installs nothing, and the framing every runtime relies on: VERSION, STATUS, and prevResult
//! passed through unchanged in the request's version.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{json, Value};

use crate::harness::{plugin_bin, Container, Runtime};
use crate::require_cni;

/// Runs the plugin in the sandbox with only `env` and `stdin`, as a runtime does.
fn invoke(rt: &Runtime, env: &[(&str, &str)], stdin: &Value) -> Output {
    let mut command = rt.host.command(plugin_bin());
    command
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run ioc-secure");
    // A plugin that refuses its environment exits before reading stdin: a closed pipe is its
    // answer, not a test failure.
    let written = child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.to_string().as_bytes());
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write the config: {e}"
        );
    }
    child.wait_with_output().unwrap()
}

fn env<'a>(command: &'a str, netns: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", "direct1"),
        ("CNI_NETNS", netns),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/usr/lib/cni"),
    ]
}

/// The error object a failed invocation printed.
fn error_of(out: &Output) -> Value {
    assert!(!out.status.success(), "succeeded: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn config(rt: &Runtime, version: &str, extra: Value) -> Value {
    let mut c = json!({"cniVersion": version, "name": "direct", "type": "ioc-secure",
                       "stateDir": rt.state});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

#[test]
fn bad_requests_are_cni_errors_that_install_nothing() {
    require_cni!();
    let rt = Runtime::new();
    let c = Container::new("direct1");
    let netns = c.netns_path();
    // A host-side veth on no bridge, and one on a bridge.
    rt.host
        .ip(["link", "add", "vx0", "type", "veth", "peer", "name", "vx1"]);
    rt.host.add_bridge("br0", None);
    rt.host
        .ip(["link", "add", "vp0", "type", "veth", "peer", "name", "vp1"]);
    rt.host.ip(["link", "set", "vp0", "master", "br0", "up"]);
    let prev = |port: &str| {
        json!({"cniVersion": "1.0.0",
               "interfaces": [{"name": "br0", "mac": "02:00:00:00:01:00"},
                              {"name": port, "mac": "02:00:00:00:01:01"},
                              {"name": "eth0", "mac": "02:00:00:00:01:02", "sandbox": netns}],
               "ips": [{"interface": 2, "address": "10.9.0.2/24", "gateway": "10.9.0.1"}],
               "dns": {}})
    };
    let cases = [
        (env("ADD", &netns), config(&rt, "1.0.0", json!({})), 7, "prevResult: missing"),
        (
            env("ADD", &netns),
            config(&rt, "1.0.0", json!({"prevResult": prev("vx0")})),
            7,
            "no host-side interface that is a bridge port (found: br0 (a bridge), vx0 (not a bridge port))",
        ),
        (
            env("ADD", &netns),
            config(&rt, "1.0.0", json!({"prevResult": prev("vp0"), "dhcpServer": "yes"})),
            7,
            "dhcpServer: \"yes\"",
        ),
        (
            env("ADD", &netns),
            config(&rt, "1.0.0", json!({"prevResult": prev("vp0"), "allowedAddresses": ["10.9.0.0/24"]})),
            7,
            "allowedAddresses",
        ),
        (
            env("ADD", &netns),
            config(&rt, "0.3.1", json!({"prevResult": prev("vp0")})),
            1,
            "speaks CNI 0.4.0, 1.0.0, 1.1.0",
        ),
        (
            vec![("CNI_COMMAND", "ATTACH")],
            config(&rt, "1.0.0", json!({})),
            4,
            "CNI_COMMAND",
        ),
        (
            env("CHECK", &netns),
            config(&rt, "1.0.0", json!({"prevResult": prev("vp0")})),
            101,
            "no filter is recorded",
        ),
    ];
    for (env, stdin, code, text) in cases {
        let e = error_of(&invoke(&rt, &env, &stdin));
        assert_eq!(e["code"], code, "{stdin}: {e}");
        assert!(e["msg"].as_str().unwrap().contains(text), "{stdin}: {e}");
        assert!(
            rt.tables().is_empty(),
            "{stdin} installed {:?}",
            rt.tables()
        );
        assert!(
            rt.records("direct").is_empty(),
            "{stdin}: {:?}",
            rt.records("direct")
        );
    }

    // Through libcni: ptp returns a host-side veth that is no bridge port.
    let list = rt.write_list(
        "ptpnet",
        json!({"cniVersion": "1.0.0", "name": "ptpnet", "plugins": [
            {"type": "ptp", "ipam": {"type": "host-local", "dataDir": rt.ipam, "subnet": "10.77.0.0/24"}},
            rt.secure(json!({}))]}),
    );
    let failed = rt.fails(&list, "add", &c.arg());
    assert_eq!(failed.code, 7, "{failed:?}");
    assert!(failed.msg.contains("bridge port"), "{failed:?}");
    assert!(rt.tables().is_empty());
    rt.ok(&list, "del", &[c.arg()], false);
}

#[test]
fn prev_result_passes_through_in_the_request_version_and_version_status_answer() {
    require_cni!();
    let rt = Runtime::new();
    let c = Container::new("direct1");
    let netns = c.netns_path();
    rt.host.add_bridge("br0", None);
    rt.host
        .ip(["link", "add", "vp0", "type", "veth", "peer", "name", "vp1"]);
    rt.host.ip(["link", "set", "vp0", "master", "br0", "up"]);
    for version in ["0.4.0", "1.0.0", "1.1.0"] {
        let mut prev = json!({"cniVersion": version,
            "interfaces": [{"name": "br0", "mac": "02:00:00:00:01:00"},
                           {"name": "vp0", "mac": "02:00:00:00:01:01"},
                           {"name": "eth0", "mac": "02:00:00:00:01:02", "sandbox": netns}],
            "ips": [{"interface": 2, "address": "10.9.0.2/24", "gateway": "10.9.0.1"},
                    {"interface": 2, "address": "fd00:9::2/64"}],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dns": {"nameservers": ["10.9.0.1"]}});
        if version == "0.4.0" {
            prev["ips"][0]["version"] = json!("4");
            prev["ips"][1]["version"] = json!("6");
        }
        let stdin = config(&rt, version, json!({"prevResult": prev}));
        let out = invoke(&rt, &env("ADD", &netns), &stdin);
        assert!(out.status.success(), "{version}: {out:?}");
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed, prev, "{version}");
        assert_eq!(rt.tables(), ["ioc-vp0"]);
        let out = invoke(&rt, &env("CHECK", &netns), &stdin);
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{version}: {out:?}"
        );
        let out = invoke(&rt, &env("DEL", &netns), &config(&rt, version, json!({})));
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{version}: {out:?}"
        );
        assert!(rt.tables().is_empty());
    }

    let out = invoke(
        &rt,
        &[("CNI_COMMAND", "VERSION")],
        &json!({"cniVersion": "0.4.0"}),
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        info,
        json!({"cniVersion": "0.4.0", "supportedVersions": ["0.4.0", "1.0.0", "1.1.0"]})
    );
    let status = [("CNI_COMMAND", "STATUS"), ("CNI_PATH", "/usr/lib/cni")];
    let out = invoke(&rt, &status, &config(&rt, "1.1.0", json!({})));
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
}
