//! What `ip -j` and `/proc` say about the host: links, addresses, mounts, processes.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One link of `ip -j link`.
#[derive(Clone, Debug)]
pub struct Link {
    pub name: String,
    pub mac: String,
    pub mtu: u64,
    /// The bridge it is attached to.
    pub master: Option<String>,
}

impl Link {
    fn from_json(v: &Value) -> Link {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        Link {
            name: text("ifname").unwrap_or_default(),
            mac: text("address").unwrap_or_default(),
            mtu: v.get("mtu").and_then(Value::as_u64).unwrap_or_default(),
            master: text("master"),
        }
    }
}

/// Parses `ip -j link` output.
pub fn parse_links(json: &str) -> Vec<Link> {
    let all: Vec<Value> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("ip -j printed no JSON ({e}): {json}"));
    all.iter().map(Link::from_json).collect()
}

/// One address of `ip -j addr`.
#[derive(Clone, Debug)]
pub struct Address {
    /// `ADDRESS/PREFIX`.
    pub cidr: String,
    /// Still in IPv6 duplicate address detection.
    pub tentative: bool,
}

/// Parses `ip -j addr` output: the addresses of every link listed, in order.
pub fn parse_addresses(json: &str) -> Vec<Address> {
    let all: Vec<Value> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("ip -j printed no JSON ({e}): {json}"));
    all.iter()
        .filter_map(|link| link.get("addr_info")?.as_array())
        .flatten()
        .filter_map(|a| {
            let local = a.get("local")?.as_str()?;
            let prefix = a.get("prefixlen")?.as_u64()?;
            Some(Address {
                cidr: format!("{local}/{prefix}"),
                tentative: a.get("tentative").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// The mount points at or below `dir` in this process's mount namespace, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found
}

/// Processes whose command line mentions `dir` (a DHCP client with its lease file in a jail's
/// runtime dir, say), as `PID: COMMAND LINE`.
pub fn processes_mentioning(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let own = std::process::id().to_string();
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc_dir
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == own {
                return None;
            }
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(&needle)
                .then(|| format!("{pid}: {}", line.trim()))
        })
        .collect()
}
