//! The CNI runtime with Debian's real plugins (`containernetworking-plugins`, in
//! /usr/lib/cni), driven through the Linux host's ops: each test runs in a network namespace
//! of its own (the "host"), with a jail namespace pinned where ioc pins a jail's, and IPAM
//! state in a test-owned `dataDir`, so nothing of the real host is touched.
//!
//! Needs root and the plugins; skips with the reason otherwise, and fails under `CI=true`.
//! Debian's plugins speak CNI up to 1.0.0, so the lists here are 1.0.0 (GC is covered by the
//! script plugins of `cni_engine.rs`).

#![cfg(target_os = "linux")]

#[path = "../../tests/src/live_netns.rs"]
mod live_netns;
#[path = "../../tests/src/skip.rs"]
mod skip;

mod cni_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use cni_support::Sandbox;
use ioc_core::cni::journaled;
use ioc_core::cni::{load, CniRun};
use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::journal::Journal;
use ioc_core::lifecycle::{Faults, Session};
use ioc_core::runtime::RunDir;
use ioc_core::step::{JailParams, Undo};
use ioc_sdk::{CniAttachment, HostOp, HostReply, Jail, Network, NetworkSpec, Platform};
use live_netns::{in_private_netns, sh};

const PLUGINS: &str = "/usr/lib/cni";
const JAIL: &str = "cnijail";

/// Plugins that hang are killed after this (the real ones finish in milliseconds).
const TIMEOUT_SECONDS: &str = "2";

fn skip() -> bool {
    let reason = live_netns::skip_reason("network namespaces", &["ip", "unshare", "nsenter"])
        .or_else(|| {
            (!Path::new(PLUGINS).join("bridge").exists()).then(|| {
                format!("{PLUGINS}/bridge is missing (install containernetworking-plugins)")
            })
        });
    skip::skip_unless_ci(reason)
}

fn set_timeout() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var(ioc_core::cni::TIMEOUT_VAR, TIMEOUT_SECONDS));
}

/// A run dir with the jail's network namespace pinned where ioc pins it.
struct JailNs {
    run: PathBuf,
    pin: PathBuf,
}

impl JailNs {
    fn new(sb: &Sandbox) -> JailNs {
        let run = sb.path().join("run");
        let ns = run.join("jails").join(JAIL).join("ns");
        fs::create_dir_all(&ns).unwrap();
        let pin = ns.join("net");
        fs::write(&pin, "").unwrap();
        sh(
            &["unshare", &format!("--net={}", pin.display()), "true"],
            None,
        );
        JailNs { run, pin }
    }

    fn host(&self) -> LinuxHost {
        LinuxHost::new(&RunDir::new(&self.run))
    }

    /// Runs `argv` in the jail's namespace.
    fn sh(&self, argv: &[&str]) -> String {
        let mut full = vec![
            "nsenter".to_string(),
            format!("--net={}", self.pin.display()),
        ];
        full.extend(argv.iter().map(|s| s.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        sh(&full, None)
    }

    fn links(&self) -> String {
        self.sh(&["ip", "-br", "link"])
    }
}

impl Drop for JailNs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg(&self.pin)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn params() -> JailParams {
    let mut p = JailParams::unknown(JAIL);
    p.resolv_conf = Some(String::new());
    p
}

fn attachment(sb: &Sandbox, network: &str) -> CniAttachment {
    let mut att = sb.attachment(network, &[PLUGINS]);
    att.container_id = format!("ioc-{JAIL}").into();
    att
}

/// `ADD` through the host op; the run the journal would hold, with its result.
fn add(host: &mut LinuxHost, att: &CniAttachment) -> Result<CniRun, String> {
    let list = load(att).map_err(|e| e.to_string())?;
    let params = params();
    let netns = host.cni_netns(&params, false);
    let reply = host
        .perform(
            &params,
            &HostOp::CniAdd {
                attachment: att.clone(),
            },
        )
        .map_err(|e| e.message.to_string())?;
    let HostReply::Text(result) = reply else {
        panic!("cni-add answered {reply:?}");
    };
    let mut run = CniRun::new(att, &list, &netns);
    run.result = Some(serde_json::from_str(&result).unwrap());
    Ok(run)
}

fn leases(data_dir: &Path, network: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(data_dir.join(network))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "lock" && !n.starts_with("last_reserved_ip"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn bridge_list(sb: &Sandbox, name: &str, extra: &str) -> PathBuf {
    let data = sb.path().join("ipam");
    sb.list(
        name,
        &format!(
            r#"{{"cniVersion": "1.0.0", "name": "{name}", "plugins": [
                {{"type": "bridge", "bridge": "cnibr0", "isGateway": true, "ipMasq": false,
                  "ipam": {{"type": "host-local", "subnet": "10.77.0.0/24",
                            "routes": [{{"dst": "0.0.0.0/0"}}], "dataDir": "{}"}}}}{extra}]}}"#,
            data.display()
        ),
    );
    data
}

#[test]
fn bridge_with_host_local_attaches_and_releases_its_lease_on_del() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        let data = bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let att = attachment(&sb, "jails");
        let run = add(&mut host, &att).unwrap();
        let result = run.result.clone().unwrap();
        assert_eq!(result["ips"][0]["address"], "10.77.0.2/24");
        assert_eq!(result["ips"][0]["gateway"], "10.77.0.1");
        assert!(ns.links().contains("eth0"), "{}", ns.links());
        let addresses = ns.sh(&["ip", "-br", "addr", "show", "eth0"]);
        assert!(addresses.contains("10.77.0.2/24"), "{addresses}");
        assert!(sh(&["ip", "-br", "link"], None).contains("cnibr0"));
        assert_eq!(leases(&data, "jails"), ["10.77.0.2"]);
        // The jail reaches its gateway on the bridge.
        ns.sh(&["ping", "-c1", "-W2", "10.77.0.1"]);

        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!ns.links().contains("eth0"), "{}", ns.links());
        assert!(
            leases(&data, "jails").is_empty(),
            "{:?}",
            leases(&data, "jails")
        );
        // No veth of the jail is left on the bridge.
        let left = sh(&["ip", "-br", "link", "show", "master", "cnibr0"], None);
        assert!(left.trim().is_empty(), "{left}");
    });
}

#[test]
fn del_after_the_namespace_is_gone_still_releases_the_lease() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        let data = bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "jails")).unwrap();
        assert_eq!(leases(&data, "jails"), ["10.77.0.2"]);
        // The jail's namespace goes first (its pin unmounted, as removing the jail does).
        sh(&["umount", &ns.pin.display().to_string()], None);
        assert_eq!(host.cni_netns(&params(), true), "");
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(leases(&data, "jails").is_empty());
    });
}

#[test]
fn ptp_and_tuning_chain() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        let data = sb.path().join("ipam");
        sb.list(
            "p2p",
            &format!(
                r#"{{"cniVersion": "1.0.0", "name": "p2p", "plugins": [
                {{"type": "ptp", "ipMasq": false, "mtu": 1400,
                  "ipam": {{"type": "host-local", "subnet": "10.78.0.0/24", "dataDir": "{}"}}}},
                {{"type": "tuning", "sysctl": {{"net.core.somaxconn": "777"}}}}]}}"#,
                data.display()
            ),
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "p2p")).unwrap();
        let result = run.result.clone().unwrap();
        // The host end is in the result (tuning passes ptp's result on).
        let host_end = result["interfaces"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(ns.sh(&["ip", "link", "show", "eth0"]).contains("mtu 1400"));
        assert_eq!(ns.sh(&["sysctl", "-n", "net.core.somaxconn"]).trim(), "777");
        ns.sh(&[
            "ping",
            "-c1",
            "-W2",
            result["ips"][0]["gateway"].as_str().unwrap(),
        ]);
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(leases(&data, "p2p").is_empty());
    });
}

#[test]
fn bandwidth_gets_its_runtime_config_and_shapes_the_host_end() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        let data = sb.path().join("ipam");
        sb.list(
            "shaped",
            &format!(
                r#"{{"cniVersion": "1.0.0", "name": "shaped", "plugins": [
                {{"type": "ptp", "ipMasq": false,
                  "ipam": {{"type": "host-local", "subnet": "10.80.0.0/24", "dataDir": "{}"}}}},
                {{"type": "bandwidth", "capabilities": {{"bandwidth": true}}}}]}}"#,
                data.display()
            ),
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let mut att = attachment(&sb, "shaped");
        // Traffic toward the jail: shaped on the host end (egress needs the ifb module).
        att.runtime_config =
            r#"{"bandwidth": {"ingressRate": 8000000, "ingressBurst": 100000}}"#.into();
        let run = add(&mut host, &att).unwrap();
        let host_end = run.result.as_ref().unwrap()["interfaces"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let qdisc = sh(&["tc", "qdisc", "show", "dev", &host_end], None);
        assert!(
            qdisc.contains("tbf") && qdisc.contains("rate 8Mbit"),
            "{qdisc}"
        );
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(leases(&data, "shaped").is_empty());
    });
}

#[test]
fn macvlan_on_a_sandbox_uplink() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        // The uplink: one end of a pair (no dummy module needed).
        sh(
            &[
                "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
            ],
            None,
        );
        sh(&["ip", "link", "set", "uplink0", "up"], None);
        sh(&["ip", "link", "set", "uplink1", "up"], None);
        let data = sb.path().join("ipam");
        sb.list(
            "mv",
            &format!(
                r#"{{"cniVersion": "1.0.0", "name": "mv", "plugins": [
                {{"type": "macvlan", "master": "uplink0", "mode": "bridge",
                  "ipam": {{"type": "host-local", "subnet": "10.79.0.0/24", "dataDir": "{}"}}}}]}}"#,
                data.display()
            ),
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "mv")).unwrap();
        let link = ns.sh(&["ip", "-d", "link", "show", "eth0"]);
        assert!(link.contains("macvlan mode bridge"), "{link}");
        assert!(ns
            .sh(&["ip", "-br", "addr", "show", "eth0"])
            .contains("10.79.0.2/24"));
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!ns.links().contains("eth0"));
        assert!(leases(&data, "mv").is_empty());
    });
}

#[test]
fn a_failing_second_plugin_leaves_nothing() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        // tuning refuses a sysctl that does not exist.
        let data = bridge_list(
            &sb,
            "broken",
            r#", {"type": "tuning", "sysctl": {"net.ipv4.no_such_knob": "1"}}"#,
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let err = add(&mut host, &attachment(&sb, "broken")).unwrap_err();
        assert!(
            err.starts_with("CNI plugin tuning (network broken): CNI error"),
            "{err}"
        );
        assert!(!ns.links().contains("eth0"), "{}", ns.links());
        assert!(leases(&data, "broken").is_empty());
        let left = sh(&["ip", "-br", "link", "show", "master", "cnibr0"], None);
        assert!(left.trim().is_empty(), "{left}");
    });
}

/// A script plugin in the sandbox that hangs on `ADD` (after writing its pid, which is its
/// process group, to `hang.started`).
fn hanging_plugin(sb: &Sandbox) {
    sb.plugin(
        "hang",
        &["0.4.0", "1.0.0"],
        &format!(
            r#"if [ "$CNI_COMMAND" = ADD ]; then echo $$ > {}/hang.started; sleep 600; fi
exit 0"#,
            sb.path().display()
        ),
    );
}

#[test]
fn a_hanging_plugin_is_killed_and_the_chain_rolled_back() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        hanging_plugin(&sb);
        let data = bridge_list(&sb, "hangs", r#", {"type": "hang"}"#);
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let started = Instant::now();
        let err = add(&mut host, &attachment(&sb, "hangs")).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.contains("hang (network hangs): ADD: did not finish within 2.0 s"),
            "{err}"
        );
        assert!(!ns.links().contains("eth0"));
        assert!(leases(&data, "hangs").is_empty());
    });
}

fn jail() -> Jail {
    Jail::new(
        JAIL,
        1,
        Platform::Linux,
        Network::from(NetworkSpec::default()),
        "none",
        Vec::<(String, String)>::new(),
    )
}

/// The child of [`sigkill_during_the_chain_is_recovered_by_del_from_the_journal`]: starts
/// the chain under a journal, and is killed while its last plugin hangs.
#[test]
#[ignore = "run by sigkill_during_the_chain_is_recovered_by_del_from_the_journal"]
fn sigkill_child() {
    let Ok(dir) = std::env::var("IOC_CNI_SIGKILL_CHILD") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let run = dir.join("run");
    let journal = Journal::create(&run.join("journal")).unwrap();
    let mut s = Session::new(jail(), params(), journal, Faults::none());
    let mut host = LinuxHost::new(&RunDir::new(&run));
    let att: CniAttachment =
        serde_json::from_str(&fs::read_to_string(dir.join("attachment.json")).unwrap()).unwrap();
    let op = HostOp::CniAdd {
        attachment: att.clone(),
    };
    let _ = journaled::add(&mut host, &mut s, &op, &att);
    panic!("the chain was meant to hang");
}

#[test]
fn sigkill_during_the_chain_is_recovered_by_del_from_the_journal() {
    if skip() {
        return;
    }
    in_private_netns(|| {
        let sb = Sandbox::new();
        hanging_plugin(&sb);
        let data = bridge_list(&sb, "killed", r#", {"type": "hang"}"#);
        let ns = JailNs::new(&sb);
        let att = attachment(&sb, "killed");
        fs::write(
            sb.path().join("attachment.json"),
            serde_json::to_string(&att).unwrap(),
        )
        .unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "sigkill_child", "--nocapture"])
            .env("IOC_CNI_SIGKILL_CHILD", sb.path())
            .env(ioc_core::cni::TIMEOUT_VAR, "60")
            .spawn()
            .unwrap();
        let marker = sb.path().join("hang.started");
        let deadline = Instant::now() + Duration::from_secs(20);
        while fs::read_to_string(&marker).map_or(true, |pid| !pid.ends_with('\n')) {
            assert!(
                Instant::now() < deadline,
                "the hanging plugin never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // bridge ran: its lease and the jail's interface are there.
        assert_eq!(leases(&data, "killed"), ["10.77.0.2"]);
        assert!(ns.links().contains("eth0"));

        // The next command reads the journal: one pending CNI undo, without a result.
        let journal = Journal::open(&ns.run.join("journal")).unwrap().unwrap();
        let pending = journal.pending_undos();
        let [(_, Undo::CniDel(run))] = pending.as_slice() else {
            panic!("expected one CNI undo, found {pending:?}");
        };
        assert_eq!(run.result, None);
        assert_eq!(run.netns, ns.pin.display().to_string());
        // The list on disk changes; the DEL still runs what ADD ran.
        fs::remove_file(sb.conf().join("killed.conflist")).unwrap();
        let mut host = ns.host();
        journaled::del(&mut host, &params(), run).unwrap();
        assert!(!ns.links().contains("eth0"));
        assert!(leases(&data, "killed").is_empty());
        // The plugin the killed ioc left hanging (its own process group) is the test's to end.
        let group: i32 = fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(group),
            nix::sys::signal::Signal::SIGKILL,
        );
    });
}

/// What the engine adds on top of the plugins themselves: `n` attachments to a bridge with
/// host-local through the host op (VERSION cached after the first), against the same plugin
/// runs done bare (same environment and stdin, one `Command` each). Prints both; run with
/// `cargo test -p ioc-core --test cni_plugins -- --ignored --nocapture engine_overhead`.
#[test]
#[ignore = "a measurement, not a check"]
fn engine_overhead() {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| {
        let sb = Sandbox::new();
        bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let n = 50;
        let mut runs = Vec::new();
        let t = Instant::now();
        for i in 0..n {
            let mut att = attachment(&sb, "jails");
            att.container_id = format!("ioc-a{i}").into();
            att.ifname = format!("eth{i}").into();
            runs.push(add(&mut host, &att).unwrap());
        }
        let engine_add = t.elapsed();
        let t = Instant::now();
        for run in &runs {
            journaled::del(&mut host, &params(), run).unwrap();
        }
        let engine_del = t.elapsed();
        // Bare: the same ADD calls, straight to the plugin.
        let list = load(&attachment(&sb, "jails")).unwrap();
        let stdin = list.plugin_stdin(0, None, &Default::default()).to_string();
        let t = Instant::now();
        for i in 0..n {
            let mut child = Command::new(Path::new(PLUGINS).join("bridge"))
                .env_clear()
                .envs([
                    ("CNI_COMMAND", "ADD"),
                    ("CNI_CONTAINERID", &format!("ioc-b{i}")),
                    ("CNI_NETNS", &ns.pin.display().to_string()),
                    ("CNI_IFNAME", &format!("eth{i}")),
                    ("CNI_PATH", PLUGINS),
                    ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            assert!(child.wait_with_output().unwrap().status.success());
        }
        let bare_add = t.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
        println!(
            "n={n}: engine ADD {:.2} ms/jail, bare ADD {:.2} ms/jail, engine DEL {:.2} ms/jail",
            per(engine_add),
            per(bare_add),
            per(engine_del)
        );
    });
}
