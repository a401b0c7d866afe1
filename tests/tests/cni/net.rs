//! What the CNI end-to-end tests share: a sandbox host with a CNI directory of the test's own
//! (network lists under `cni/net.d`, host-local's leases under `cni/ipam`; never /etc/cni or
//! /var/lib/cni), network lists built from Debian's plugins in /usr/lib/cni, and CNI jails.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ioc_tests::netns::HostNs;
use ioc_tests::skip::skip_unless_ci;
use serde_json::{json, Value};

/// Where Debian's containernetworking-plugins package puts the plugins.
pub const PLUGINS: &str = "/usr/lib/cni";

/// The version the lists are written in: the newest Debian's plugins (1.1.x) speak.
pub const VERSION: &str = "1.0.0";

/// True when the test must return: no root, or no CNI plugins (fails under CI=true).
pub fn cannot_run() -> bool {
    let reason =
        ioc_tests::skip::missing_root("network namespaces and CNI plugins").or_else(|| {
            (!PathBuf::from(PLUGINS).join("bridge").is_file()).then(|| {
                format!("needs the CNI plugins in {PLUGINS} (Debian: containernetworking-plugins)")
            })
        });
    skip_unless_ci(reason)
}

/// A sandbox host with its own CNI configuration and IPAM directories.
pub struct CniHost {
    pub host: HostNs,
}

impl CniHost {
    pub fn new() -> CniHost {
        let host = HostNs::new();
        let cni = CniHost { host };
        fs::create_dir_all(cni.conf_dir()).expect("create the CNI conf dir");
        fs::create_dir_all(cni.ipam_dir()).expect("create the IPAM dir");
        cni
    }

    /// The test's `cni_conf_dir`.
    pub fn conf_dir(&self) -> PathBuf {
        self.host.dir().join("cni").join("net.d")
    }

    /// host-local's `dataDir`: one directory per network, one file per leased address.
    pub fn ipam_dir(&self) -> PathBuf {
        self.host.dir().join("cni").join("ipam")
    }

    /// The addresses host-local holds for `network` (its lease files).
    pub fn leases(&self, network: &str) -> Vec<String> {
        let mut leases: Vec<String> = fs::read_dir(self.ipam_dir().join(network))
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
                    .collect()
            })
            .unwrap_or_default();
        leases.sort();
        leases
    }

    /// host-local IPAM on `subnet` (routes: the default route through the gateway), leases
    /// in the test's directory.
    pub fn host_local(&self, subnet: &str, range: Option<(&str, &str)>) -> Value {
        let mut range_set = json!({ "subnet": subnet });
        if let Some((start, end)) = range {
            range_set["rangeStart"] = json!(start);
            range_set["rangeEnd"] = json!(end);
        }
        json!({
            "type": "host-local",
            "ranges": [[range_set]],
            "routes": [{ "dst": "0.0.0.0/0" }],
            "dataDir": self.ipam_dir(),
        })
    }

    /// Writes network list `name` with `plugins` to `<conf_dir>/<name>.conflist`.
    pub fn write_list(&self, name: &str, plugins: Vec<Value>) {
        let list = json!({ "cniVersion": VERSION, "name": name, "plugins": plugins });
        let text = serde_json::to_string_pretty(&list).expect("JSON");
        fs::write(self.conf_dir().join(format!("{name}.conflist")), text)
            .expect("write the network list");
    }

    /// A `bridge` plugin on `bridge` (gateway on it, no masquerade) with host-local on
    /// `subnet` and a DNS section; it takes static addresses (runtimeConfig `ips`), which it
    /// passes on to host-local.
    pub fn bridge(&self, bridge: &str, subnet: &str, range: Option<(&str, &str)>) -> Value {
        json!({
            "type": "bridge",
            "bridge": bridge,
            "isGateway": true,
            "ipMasq": false,
            "capabilities": { "ips": true },
            "ipam": self.host_local(subnet, range),
            "dns": { "nameservers": ["10.22.0.53"], "search": ["cni.test"] },
        })
    }

    /// Creates a CNI jail on `network` with extra `KEY=VALUE` properties.
    pub fn create(&self, jail: &str, network: &str, extra: &[&str]) {
        let conf = format!("cni_conf_dir={}", self.conf_dir().display());
        let network = format!("cni_network={network}");
        let path = format!("cni_path={PLUGINS}");
        let mut args = vec![
            "create",
            jail,
            "vnet=on",
            "network_plugin=cni",
            &network,
            &conf,
            &path,
        ];
        args.extend_from_slice(extra);
        self.host.ok(args);
    }

    /// The jail's address as `ioc get ip4_addr` shows it.
    pub fn ip4(&self, jail: &str) -> String {
        self.host.ok(["get", "ip4_addr", jail]).trim().to_string()
    }
}

/// How long `body` takes.
pub fn timed(body: impl FnOnce()) -> Duration {
    let start = Instant::now();
    body();
    start.elapsed()
}
