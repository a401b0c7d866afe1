//! A CNI runtime of our own for the tests: libcni (through `tests/cni-driver`) driving network
//! lists in a sandbox "host" namespace, with containers that are plain network namespaces.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use ioc_tests::netns::{ip_in, HostNs};
use serde_json::{json, Value};

/// Debian's CNI plugins (containernetworking-plugins).
pub const CNI_PLUGINS: &str = "/usr/lib/cni";
/// Debian's libcni source (golang-github-appc-cni-dev), a GOPATH.
const GOPATH: &str = "/usr/share/gocode";

/// Why these tests cannot run here, or `None`.
pub fn skip_reason() -> Option<String> {
    if let Some(why) = ioc_tests::skip::missing_root("network namespaces and nftables") {
        return Some(why);
    }
    let checks = [
        (Path::new("/usr/bin/go"), "golang-go"),
        (
            &Path::new(GOPATH).join("src/github.com/containernetworking/cni/libcni"),
            "golang-github-appc-cni-dev",
        ),
        (
            &Path::new(CNI_PLUGINS).join("bridge"),
            "containernetworking-plugins",
        ),
        (Path::new("/usr/sbin/nft"), "nftables"),
    ];
    checks
        .iter()
        .find(|(path, _)| !path.exists())
        .map(|(path, package)| format!("{} is missing (Debian package {package})", path.display()))
}

/// Returns from the calling test when it cannot run here (fails under `CI=true`).
#[macro_export]
macro_rules! require_cni {
    () => {
        if ioc_tests::skip::skip_unless_ci($crate::harness::skip_reason()) {
            return;
        }
    };
}

/// The driver, built once per test process into Cargo's temporary directory for tests.
pub fn driver() -> &'static Path {
    static DRIVER: OnceLock<PathBuf> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cni-driver");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("cni-driver/main.go");
        let status = Command::new("go")
            .args(["build", "-o"])
            .arg(&out)
            .arg(&source)
            .env("GO111MODULE", "off")
            .env("GOPATH", GOPATH)
            .env(
                "GOCACHE",
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-cache"),
            )
            .status()
            .expect("run go build");
        assert!(status.success(), "go build of the CNI driver failed");
        out
    })
}

/// The `ioc-secure` binary of this build, beside `ioc`.
pub fn plugin_bin() -> PathBuf {
    ioc_tests::ioc_bin().with_file_name("ioc-secure")
}

/// A container: a network namespace under `/run/netns`, deleted on drop.
pub struct Container {
    pub id: String,
    pub ns: String,
}

impl Container {
    pub fn new(id: &str) -> Container {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let ns = format!("cs-{}-{n}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &ns])
            .output()
            .unwrap();
        assert!(out.status.success(), "ip netns add {ns}: {out:?}");
        ip_in(&ns, ["link", "set", "lo", "up"]);
        Container { id: id.into(), ns }
    }

    pub fn netns_path(&self) -> String {
        format!("/run/netns/{}", self.ns)
    }

    /// `ID,NETNS,eth0`, the driver's attachment argument.
    pub fn arg(&self) -> String {
        format!("{},{},eth0", self.id, self.netns_path())
    }

    /// Deletes the namespace now (as a runtime does when a pod dies before its DEL).
    pub fn delete_netns(&self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.delete_netns();
    }
}

/// One driver call's outcome for one attachment.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub ok: bool,
    pub code: u64,
    pub msg: String,
    pub result: Value,
}

/// A sandbox host with CNI plugin dirs, an IPAM store and an ioc-secure state dir of its own.
pub struct Runtime {
    pub host: HostNs,
    pub bin: PathBuf,
    pub cache: PathBuf,
    pub state: PathBuf,
    pub ipam: PathBuf,
}

impl Runtime {
    pub fn new() -> Runtime {
        let host = HostNs::new();
        let dir = host.dir();
        let bin = dir.join("cni-bin");
        std::fs::create_dir_all(&bin).unwrap();
        symlink(plugin_bin(), bin.join("ioc-secure")).unwrap();
        Runtime {
            cache: dir.join("cni-cache"),
            state: dir.join("ioc-secure-state"),
            ipam: dir.join("ipam"),
            bin,
            host,
        }
    }

    /// The `ioc-secure` entry of a list, with `extra` keys.
    pub fn secure(&self, extra: Value) -> Value {
        let mut plugin = json!({"type": "ioc-secure", "stateDir": self.state});
        if let (Some(p), Some(e)) = (plugin.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        plugin
    }

    /// A network list: `bridge` (10.23.42.0/24 and fd00:23::/64, addresses from .2 / ::2
    /// with host-local) followed by `more` plugins. Written to a file; returns its path.
    pub fn list(&self, name: &str, version: &str, bridge: &str, more: &[Value]) -> PathBuf {
        let mut plugins = vec![json!({
            "type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": false,
            "ipam": {
                "type": "host-local",
                "dataDir": self.ipam,
                "ranges": [
                    [{"subnet": "10.23.42.0/24", "rangeStart": "10.23.42.2", "rangeEnd": "10.23.42.250"}],
                    [{"subnet": "fd00:23::/64", "rangeStart": "fd00:23::2"}]
                ]
            }
        })];
        plugins.extend(more.iter().cloned());
        self.write_list(
            name,
            json!({"cniVersion": version, "name": name, "plugins": plugins}),
        )
    }

    pub fn write_list(&self, name: &str, list: Value) -> PathBuf {
        let path = self.host.dir().join(format!("{name}.conflist"));
        std::fs::write(&path, list.to_string()).unwrap();
        path
    }

    /// Runs `op` (add, check, del, gc, status) of `list` for `attachments` through libcni.
    pub fn drive(
        &self,
        list: &Path,
        op: &str,
        attachments: &[String],
        parallel: bool,
    ) -> Vec<Outcome> {
        let mut command = self.host.command(driver());
        command
            .arg("-conflist")
            .arg(list)
            .arg("-path")
            .arg(format!("{}:{CNI_PLUGINS}", self.bin.display()))
            .arg("-cache")
            .arg(&self.cache);
        if parallel {
            command.arg("-parallel");
        }
        command.arg(op).args(attachments);
        let out = command.output().expect("run the CNI driver");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let outcomes: Vec<Outcome> = stdout
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("driver output {line:?}: {e}"));
                Outcome {
                    id: v["id"].as_str().unwrap_or_default().into(),
                    ok: v["ok"].as_bool().unwrap_or(false),
                    code: v["code"].as_u64().unwrap_or(0),
                    msg: v["msg"].as_str().unwrap_or_default().into(),
                    result: v["result"].clone(),
                }
            })
            .collect();
        assert!(
            !outcomes.is_empty(),
            "the driver printed nothing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outcomes
    }

    /// Like [`Runtime::drive`], every attachment must succeed.
    pub fn ok(
        &self,
        list: &Path,
        op: &str,
        attachments: &[String],
        parallel: bool,
    ) -> Vec<Outcome> {
        let outcomes = self.drive(list, op, attachments, parallel);
        for o in &outcomes {
            assert!(o.ok, "{op} {}: CNI error {}: {}", o.id, o.code, o.msg);
        }
        outcomes
    }

    /// Like [`Runtime::drive`] for one attachment, which must fail; returns its outcome.
    pub fn fails(&self, list: &Path, op: &str, attachment: &str) -> Outcome {
        let o = self
            .drive(list, op, &[attachment.to_string()], false)
            .remove(0);
        assert!(!o.ok, "{op} {attachment} succeeded");
        o
    }

    /// The names of the `ioc-*` nftables tables in the sandbox, sorted.
    pub fn tables(&self) -> Vec<String> {
        let out = self
            .host
            .command("nft")
            .args(["list", "tables", "netdev"])
            .output()
            .unwrap();
        let mut tables: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("table netdev "))
            .filter(|t| t.starts_with("ioc-"))
            .map(String::from)
            .collect();
        tables.sort();
        tables
    }

    /// `nft ARGS...` in the sandbox, which must succeed.
    pub fn nft(&self, args: &[&str]) -> String {
        let out = self.host.command("nft").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "nft {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The attachment records of network `name`.
    pub fn records(&self, name: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.state.join(name))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// The host-side port a result names (the bridge port of the container).
pub fn port_of(result: &Value, bridge: &str) -> String {
    result["interfaces"]
        .as_array()
        .expect("interfaces")
        .iter()
        .filter(|i| i.get("sandbox").is_none())
        .map(|i| i["name"].as_str().unwrap().to_string())
        .find(|n| n != bridge)
        .expect("a host-side port")
}
