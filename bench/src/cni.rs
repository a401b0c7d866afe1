//! The `cni` mode in the benchmark: jails on a network list of the benchmark's own (one
//! `bridge` plugin with host-local IPAM, the same chain [`Bare`] runs on bare namespaces right
//! after each jail), and the overhead ioc adds on top of the plugins.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cpu::Cpu;
use super::{ends, ip, median, ms, Series, CNI_DIR};

/// The network list's name.
const NETWORK: &str = "bench-ioc";

/// The one plugin of the list: a bridge with host-local IPAM on `bridge`, `subnet`.
fn bridge_plugin(bridge: &str, subnet: &str, ipam_dir: &Path) -> String {
    format!(
        r#"{{"type":"bridge","bridge":"{bridge}","isGateway":true,"ipMasq":false,"ipam":{{"type":"host-local","subnet":"{subnet}","dataDir":"{}"}}}}"#,
        ipam_dir.display()
    )
}

/// Writes the list for round `n` under `dir` and returns its conf dir. Its bridge and subnet
/// are not those of the bare-namespace series, so the two never share a bridge.
pub fn write_list(dir: &Path, n: usize) -> PathBuf {
    let conf_dir = dir.join(format!("cni-conf-{n}"));
    fs::create_dir_all(&conf_dir).expect("CNI conf dir");
    let plugin = bridge_plugin(
        "cnibr1",
        "10.98.0.0/16",
        &dir.join(format!("cni-ipam-ioc-{n}")),
    );
    let list = format!(r#"{{"cniVersion":"1.0.0","name":"{NETWORK}","plugins":[{plugin}]}}"#);
    fs::write(conf_dir.join(format!("{NETWORK}.conflist")), list).expect("write CNI list");
    conf_dir
}

/// The same chain on bare namespaces, run right after each `ioc start`/`ioc stop` of a CNI
/// jail so both see the same load: `ip netns add` + `ADD` (what any runtime must do), then
/// `DEL` + `ip netns del`.
pub struct Bare {
    prefix: String,
    conf: String,
}

impl Bare {
    pub fn new(sandbox: &str, dir: &Path, n: usize) -> Bare {
        let plugin = bridge_plugin(
            "cnibr2",
            "10.97.0.0/16",
            &dir.join(format!("cni-ipam-bare-{n}")),
        );
        // The plugin's stdin: its object with the list's name and version added.
        let conf = format!(
            r#"{{"cniVersion":"1.0.0","name":"bench-bare",{}"#,
            &plugin[1..]
        );
        Bare {
            prefix: format!("{sandbox}-b{n}-"),
            conf,
        }
    }

    fn call(&self, command: &str, i: usize) {
        let ns = format!("{}{i}", self.prefix);
        invoke(&Path::new(CNI_DIR).join("bridge"), command, &ns, &self.conf);
    }

    /// `ip netns add` + `ADD` of namespace `i`.
    pub fn attach(&self, i: usize) -> Duration {
        let begin = Instant::now();
        ip(&["netns", "add", &format!("{}{i}", self.prefix)]);
        self.call("ADD", i);
        begin.elapsed()
    }

    /// `DEL` + `ip netns del` of namespace `i`.
    pub fn detach(&self, i: usize) -> Duration {
        let begin = Instant::now();
        self.call("DEL", i);
        ip(&["netns", "del", &format!("{}{i}", self.prefix)]);
        begin.elapsed()
    }
}

/// The `ioc create` arguments of a CNI jail on that list.
pub fn create_args(name: &str, conf_dir: &Path) -> Vec<String> {
    vec![
        "create".into(),
        name.into(),
        "vnet=on".into(),
        "network_plugin=cni".into(),
        format!("cni_network={NETWORK}"),
        format!("cni_conf_dir={}", conf_dir.display()),
        format!("cni_path={CNI_DIR}"),
    ]
}

/// The label of the interleaved bare-chain series.
pub const BARE: &str = "bare netns + CNI";

/// Per-jail differences `ioc[i] - bare[i]` (each pair ran back to back, under the same
/// load), in milliseconds, sorted; negative when the bare chain was slower.
fn paired(ioc: &[Duration], bare: &[Duration]) -> Vec<f64> {
    let mut d: Vec<f64> = ioc
        .iter()
        .zip(bare)
        .map(|(a, b)| (a.as_secs_f64() - b.as_secs_f64()) * 1000.0)
        .collect();
    d.sort_by(f64::total_cmp);
    d
}

/// The quartiles of sorted samples: (first, median, third).
fn quartiles(sorted: &[f64]) -> (f64, f64, f64) {
    let at = |q: usize| {
        sorted
            .get(sorted.len() * q / 4)
            .copied()
            .unwrap_or_default()
    };
    (at(1), at(2), at(3))
}

/// Prints the paired per-jail differences of starts and of stops (`(ioc, bare)` each): their
/// median, interquartile range, and the start's median in the first and last tenth.
fn print_paired(what: &str, start: (&[Duration], &[Duration]), stop: (&[Duration], &[Duration])) {
    let (ioc, bare) = start;
    let n = ioc.len().min(bare.len());
    let tenth = (n / 10).max(1);
    let (q1, q2, q3) = quartiles(&paired(ioc, bare));
    let (_, head, _) = quartiles(&paired(&ioc[..tenth], &bare[..tenth]));
    let (_, tail, _) = quartiles(&paired(&ioc[n - tenth..n], &bare[n - tenth..n]));
    let (s1, s2, s3) = quartiles(&paired(stop.0, stop.1));
    println!(
        "cni overhead per jail, paired{what}: start {q2:+.2} ms (IQR {q1:+.2} .. {q3:+.2}; \
         first/last tenth {head:+.2} / {tail:+.2}); stop {s2:+.2} ms (IQR {s1:+.2} .. {s3:+.2})"
    );
}

/// What ioc adds per CNI jail: its start's median minus the median of the same chain's
/// attach plus the namespace creation (what any runtime has to do), and how flat that is.
/// On a loaded machine the difference of medians swings with the load; the median of the
/// paired differences (each `ioc start` against the bare chain run right after it) swings
/// much less, and is printed with its interquartile range. The same pairing of CPU times
/// (user + system of the timed processes: ioc and the plugins it ran, against `ip netns` and
/// the same plugins) is steadier still on a loaded machine, where wall time also counts waits
/// for a CPU.
pub fn report_overhead(series: &[Series], cpu: &[Cpu]) {
    let find = |label: &str| series.iter().find(|s| s.label == label);
    let (Some(ioc), Some(bare)) = (find("ioc cni"), find(BARE)) else {
        return;
    };
    let med = |v: &[Duration]| median(&mut v.to_vec());
    let overhead = med(&ioc.start).saturating_sub(med(&bare.start));
    let (first, last) = ends(&ioc.start);
    let (bare_first, bare_last) = ends(&bare.start);
    println!(
        "cni overhead per jail: start {} over the bare chain (aim <= 2 ms); stop {} over DEL + \
         netns removal; overhead in the first/last tenth {} / {} (bare {} / {})",
        ms(overhead),
        ms(med(&ioc.stop).saturating_sub(med(&bare.stop))),
        ms(first.saturating_sub(bare_first)),
        ms(last.saturating_sub(bare_last)),
        ms(bare_first),
        ms(bare_last),
    );
    print_paired("", (&ioc.start, &bare.start), (&ioc.stop, &bare.stop));
    let find_cpu = |label: &str| cpu.iter().find(|c| c.label == label);
    if let (Some(ioc), Some(bare)) = (find_cpu("ioc cni"), find_cpu(BARE)) {
        print_paired(
            " CPU time",
            (&ioc.start, &bare.start),
            (&ioc.stop, &bare.stop),
        );
    }
    if let Some(plain) = find("ioc vnet") {
        println!(
            "cni start is {:.2}x plain vnet",
            med(&ioc.start).as_secs_f64() / med(&plain.start).as_secs_f64().max(1e-9)
        );
    }
}

/// Runs one CNI plugin invocation on namespace `ns` (as a runtime does: a clean environment,
/// the configuration on stdin); returns its time and stdout (it must succeed).
pub fn invoke(plugin: &Path, command: &str, ns: &str, stdin: &str) -> (Duration, String) {
    let begin = Instant::now();
    let mut child = Command::new(plugin)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", ns)
        .env("CNI_NETNS", format!("/run/netns/{ns}"))
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", CNI_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", plugin.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the CNI config");
    let out = child.wait_with_output().expect("wait for the plugin");
    let elapsed = begin.elapsed();
    assert!(
        out.status.success(),
        "{} {command} failed: {}{}",
        plugin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, String::from_utf8_lossy(&out.stdout).into_owned())
}
