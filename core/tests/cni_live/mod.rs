//! What the CNI tests with Debian's real plugins share: a jail namespace pinned where ioc pins
//! a jail's, the Linux host, `ADD` through its op, the IPAM leases a test-owned `dataDir`
//! holds, and a bridge list. Used with `live_netns` and `skip` at the test crate's root.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use ioc_core::cni::{load, CniRun};
use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::runtime::RunDir;
use ioc_core::step::JailParams;
use ioc_sdk::{CniAttachment, HostOp, HostReply};

use crate::cni_support::Sandbox;
use crate::live_netns::{self, in_private_netns, sh};

pub const PLUGINS: &str = "/usr/lib/cni";
pub const JAIL: &str = "cnijail";

/// Plugins that hang are killed after this (the real ones finish in milliseconds).
pub const TIMEOUT_SECONDS: &str = "2";

pub fn skip() -> bool {
    let reason = live_netns::skip_reason("network namespaces", &["ip", "unshare", "nsenter"])
        .or_else(|| {
            (!Path::new(PLUGINS).join("bridge").exists()).then(|| {
                format!("{PLUGINS}/bridge is missing (install containernetworking-plugins)")
            })
        });
    crate::skip::skip_unless_ci(reason)
}

pub fn set_timeout() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var(ioc_core::cni::TIMEOUT_VAR, TIMEOUT_SECONDS));
}

/// A run dir with the jail's network namespace pinned where ioc pins it.
pub struct JailNs {
    pub run: PathBuf,
    pub pin: PathBuf,
}

impl JailNs {
    pub fn new(sb: &Sandbox) -> JailNs {
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

    pub fn host(&self) -> LinuxHost {
        LinuxHost::new(&RunDir::new(&self.run))
    }

    /// Runs `argv` in the jail's namespace.
    pub fn sh(&self, argv: &[&str]) -> String {
        let mut full = vec![
            "nsenter".to_string(),
            format!("--net={}", self.pin.display()),
        ];
        full.extend(argv.iter().map(|s| s.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        sh(&full, None)
    }

    pub fn links(&self) -> String {
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

pub fn params() -> JailParams {
    let mut p = JailParams::unknown(JAIL);
    p.resolv_conf = Some(String::new());
    p
}

pub fn attachment(sb: &Sandbox, network: &str) -> CniAttachment {
    let mut att = sb.attachment(network, &[PLUGINS]);
    att.container_id = format!("ioc-{JAIL}").into();
    att
}

/// `ADD` through the host op; the run the journal would hold, with its result.
pub fn add(host: &mut LinuxHost, att: &CniAttachment) -> Result<CniRun, String> {
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

pub fn leases(data_dir: &Path, network: &str) -> Vec<String> {
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

pub fn bridge_list(sb: &Sandbox, name: &str, extra: &str) -> PathBuf {
    ipam_list(
        sb,
        name,
        r#""type": "bridge", "bridge": "cnibr0", "isGateway": true, "ipMasq": false"#,
        r#""subnet": "10.77.0.0/24", "routes": [{"dst": "0.0.0.0/0"}]"#,
        extra,
    )
}

/// A 1.0.0 list `name` in the sandbox: a main plugin (`main`, its fields before `ipam`) with
/// host-local IPAM (`ipam`, its fields besides the type and the sandbox's `dataDir`), then
/// `extra` (more plugins, each after a comma). Returns the IPAM data dir.
pub fn ipam_list(sb: &Sandbox, name: &str, main: &str, ipam: &str, extra: &str) -> PathBuf {
    let data = sb.path().join("ipam");
    sb.list(
        name,
        &format!(
            r#"{{"cniVersion": "1.0.0", "name": "{name}", "plugins": [
                {{{main},
                  "ipam": {{"type": "host-local", {ipam}, "dataDir": "{}"}}}}{extra}]}}"#,
            data.display()
        ),
    );
    data
}

/// Runs `body` with a fresh sandbox in a network namespace of its own, with the short plugin
/// timeout; unless the test cannot run here (it says why, and fails under `CI=true`).
pub fn live(body: impl FnOnce(Sandbox) + Send) {
    if skip() {
        return;
    }
    set_timeout();
    in_private_netns(|| body(Sandbox::new()));
}

/// A script plugin in the sandbox that hangs on `ADD` (after writing its pid, which is its
/// process group, to `hang.started`).
pub fn hanging_plugin(sb: &Sandbox) {
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
