//! The benchmark itself (Linux: namespaces, veth, the CNI bridge plugin).

use std::fs;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

#[path = "cni.rs"]
mod cni;

const CNI_BRIDGE: &str = "/usr/lib/cni/bridge";
const CNI_DIR: &str = "/usr/lib/cni";

struct Options {
    jails: Vec<usize>,
    modes: Vec<String>,
    cni: bool,
    ioc: PathBuf,
}

fn usage() -> ! {
    eprintln!(
        "usage: ioc-bench [--jails 1,50,200,1000] [--modes vnet,secure-vnet,nat,cni] [--no-cni] [--ioc PATH]"
    );
    std::process::exit(2)
}

fn parse_options() -> Options {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut o = Options {
        jails: vec![1, 50, 200, 1000],
        modes: vec!["vnet".into(), "secure-vnet".into()],
        cni: true,
        ioc: exe_dir.join("ioc"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jails" => {
                o.jails = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--modes" => {
                o.modes = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--no-cni" => o.cni = false,
            "--ioc" => o.ioc = args.next().unwrap_or_else(|| usage()).into(),
            _ => usage(),
        }
    }
    o
}

/// Runs a command and fails loudly: benchmark setup must not silently go wrong.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ip(args: &[&str]) {
    run(Command::new("ip").args(args));
}

/// The namespace the benchmark works in; removed (with everything in it) on drop.
struct Sandbox {
    name: String,
    dir: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let name = format!("ioc-bench-{}", std::process::id());
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        let dir = std::env::temp_dir().join(&name);
        fs::create_dir_all(&dir).expect("temp dir");
        Sandbox { name, dir }
    }

    fn netns_path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    fn bridge(&self, name: &str, cidr: &str) {
        ip(&["-n", &self.name, "link", "add", name, "type", "bridge"]);
        ip(&["-n", &self.name, "addr", "add", cidr, "dev", name]);
        ip(&["-n", &self.name, "link", "set", name, "up"]);
    }

    /// Moves this (single-threaded) process into the sandbox, so every child starts there.
    fn enter(&self) {
        let ns = fs::File::open(self.netns_path()).expect("open sandbox netns");
        setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).expect("enter sandbox netns");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Median of the first and of the last tenth (at least one sample each).
fn ends(samples: &[Duration]) -> (Duration, Duration) {
    let tenth = (samples.len() / 10).max(1);
    let mut first = samples[..tenth].to_vec();
    let mut last = samples[samples.len() - tenth..].to_vec();
    (median(&mut first), median(&mut last))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Series {
    label: String,
    start: Vec<Duration>,
    stop: Vec<Duration>,
}

fn timed(cmd: &mut Command) -> Duration {
    let begin = Instant::now();
    run(cmd);
    begin.elapsed()
}

/// The bridge of the `m`-th mode, and its IPv4 /16 (`10.23.0.0/16` for the first mode,
/// `10.24.0.0/16` for the second, ...): each mode's jails have a bridge of their own, so
/// neither mode's ports weigh on the other's.
fn mode_bridge(m: usize) -> (String, String) {
    (format!("bridge{m}"), format!("10.{}", 23 + m))
}

/// Creates N jails per mode (each mode on its own bridge), then times every start, the modes
/// interleaved (jail i of every mode, then jail i + 1 ...; which mode goes first alternates),
/// then every stop, interleaved the same way. Interleaving puts both modes under the same
/// load: on a shared machine, noise hits them alike and their ratio stays meaningful.
///
/// All jails share one ioc root, so their JIDs (and with them their port names) are distinct,
/// and the i-th start of either mode runs with i - 1 jails of each mode already running.
fn bench_ioc(o: &Options, sandbox: &Sandbox, n: usize) -> Vec<Series> {
    let root = sandbox.dir.join(format!("root-{n}"));
    let run_dir = sandbox.dir.join(format!("run-{n}"));
    let ioc = |args: &[&str]| {
        let mut cmd = Command::new(&o.ioc);
        cmd.args(args)
            .env("IOC_ROOT", &root)
            .env("IOC_RUN_DIR", &run_dir);
        cmd
    };
    let names: Vec<Vec<String>> = (0..o.modes.len())
        .map(|m| (0..n).map(|i| format!("m{m}j{i}")).collect())
        .collect();
    let cni_conf = cni::write_list(&sandbox.dir, n);
    for (m, mode) in o.modes.iter().enumerate() {
        let separator = if mode == "secure-vnet" { "::" } else { ":" };
        let (bridge, net) = mode_bridge(m);
        for (i, name) in names[m].iter().enumerate() {
            if mode == "cni" {
                // A CNI jail on the benchmark's bridge list; its address comes from host-local.
                run(Command::new(&o.ioc)
                    .args(cni::create_args(name, &cni_conf))
                    .env("IOC_ROOT", &root)
                    .env("IOC_RUN_DIR", &run_dir));
                continue;
            }
            if mode == "nat" {
                // A NAT jail behind its mode's bridge with one forward of its own; its address
                // comes from the pool.
                let forward = format!("nat_forwards=tcp(80:{})", 10000 + i);
                let uplink = format!("nat_interface={bridge}");
                run(&mut ioc(&[
                    "create", name, "vnet=on", "nat=on", &uplink, &forward,
                ]));
                continue;
            }
            let addr = format!("ip4_addr=vnet0|{net}.{}.{}/16", 1 + i / 250, 1 + i % 250);
            let interfaces = format!("interfaces=vnet0{separator}{bridge}");
            let router = format!("defaultrouter={net}.0.1");
            run(&mut ioc(&[
                "create",
                name,
                "vnet=on",
                &interfaces,
                &addr,
                &router,
            ]));
        }
    }
    // (mode, jail) in the order they run: jail i of each mode, which mode first alternating.
    let schedule: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| {
            let mut modes: Vec<usize> = (0..o.modes.len()).collect();
            if i % 2 == 1 {
                modes.reverse();
            }
            modes.into_iter().map(move |m| (m, i))
        })
        .collect();
    let mut series: Vec<Series> = o
        .modes
        .iter()
        .map(|mode| Series {
            label: format!("ioc {mode}"),
            start: Vec::with_capacity(n),
            stop: Vec::with_capacity(n),
        })
        .collect();
    // CNI jails are each followed by the same chain on a bare namespace (see `cni::Bare`).
    let bare = o.modes.iter().any(|m| m == "cni").then(|| {
        series.push(Series {
            label: cni::BARE.into(),
            start: Vec::with_capacity(n),
            stop: Vec::with_capacity(n),
        });
        cni::Bare::new(&sandbox.name, &sandbox.dir, n)
    });
    let last = series.len() - 1;
    for &(m, i) in &schedule {
        series[m]
            .start
            .push(timed(&mut ioc(&["start", &names[m][i]])));
        if let (Some(bare), "cni") = (&bare, o.modes[m].as_str()) {
            series[last].start.push(bare.attach(i));
        }
    }
    for &(m, i) in &schedule {
        series[m]
            .stop
            .push(timed(&mut ioc(&["stop", &names[m][i]])));
        if let (Some(bare), "cni") = (&bare, o.modes[m].as_str()) {
            series[last].stop.push(bare.detach(i));
        }
    }
    series
}

/// Attaches N fresh namespaces with the CNI bridge plugin, then detaches them. Returns the
/// attach alone (what CNI itself does), and the namespace creation plus attach (the same work
/// an `ioc start` does: a container runtime also has to make the namespace first).
fn bench_cni(sandbox: &Sandbox, n: usize) -> (Series, Series) {
    let conf = format!(
        r#"{{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"cnibr0","isGateway":true,"ipMasq":false,"ipam":{{"type":"host-local","subnet":"10.99.0.0/16","dataDir":"{}"}}}}"#,
        sandbox.dir.join(format!("cni-ipam-{n}")).display()
    );
    let namespaces: Vec<String> = (0..n).map(|i| format!("{}-c{i}", sandbox.name)).collect();
    let created: Vec<Duration> = namespaces
        .iter()
        .map(|ns| timed(Command::new("ip").args(["netns", "add", ns])))
        .collect();
    let call = |command: &str, ns: &str| {
        let mut cmd = Command::new(CNI_BRIDGE);
        cmd.env("CNI_COMMAND", command)
            .env("CNI_CONTAINERID", ns)
            .env("CNI_NETNS", format!("/run/netns/{ns}"))
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", CNI_DIR)
            .stdin(Stdio::piped());
        let begin = Instant::now();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the CNI bridge plugin");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(conf.as_bytes())
            .expect("write CNI config");
        let out = child.wait_with_output().expect("wait for CNI");
        assert!(
            out.status.success(),
            "CNI {command} failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        begin.elapsed()
    };
    let start: Vec<Duration> = namespaces.iter().map(|ns| call("ADD", ns)).collect();
    let stop: Vec<Duration> = namespaces.iter().map(|ns| call("DEL", ns)).collect();
    for ns in &namespaces {
        ip(&["netns", "del", ns]);
    }
    let with_netns = Series {
        label: "CNI + netns".into(),
        start: start.iter().zip(&created).map(|(a, b)| *a + *b).collect(),
        stop: stop.clone(),
    };
    (
        Series {
            label: "CNI bridge".into(),
            start,
            stop,
        },
        with_netns,
    )
}

/// Waits for the kernel to finish tearing down the network namespaces of the jails just
/// stopped. That work runs in a kernel worker after `ioc stop` returns (about 20-30 ms a
/// namespace here) and would otherwise slow down whatever the benchmark measures next.
fn settle(stopped: usize) {
    std::thread::sleep(Duration::from_millis(500 + 40 * stopped as u64));
}

fn report(n: usize, series: &[Series]) {
    println!("\nN = {n}");
    println!(
        "{:<18} {:>12} {:>12} {:>14} {:>14} {:>8}",
        "", "start med", "stop med", "start 1st 10%", "start last 10%", "last/1st"
    );
    for s in series {
        let (mut start, mut stop) = (s.start.clone(), s.stop.clone());
        let (first, last) = ends(&s.start);
        println!(
            "{:<18} {:>12} {:>12} {:>14} {:>14} {:>8.2}",
            s.label,
            ms(median(&mut start)),
            ms(median(&mut stop)),
            ms(first),
            ms(last),
            last.as_secs_f64() / first.as_secs_f64().max(1e-9)
        );
    }
    let theirs = |label: &str| {
        series
            .iter()
            .find(|s| s.label == label)
            .map(|s| median(&mut s.start.clone()).as_secs_f64())
    };
    for s in series.iter().filter(|s| s.label.starts_with("ioc")) {
        let ours = median(&mut s.start.clone()).as_secs_f64();
        if let (Some(attach), Some(full)) = (theirs("CNI bridge"), theirs("CNI + netns")) {
            println!(
                "{}: start is {:.2}x the CNI attach time, {:.2}x CNI attach + netns creation",
                s.label,
                ours / attach,
                ours / full
            );
        }
    }
    if let (Some(plain), Some(secure)) = (
        series.iter().find(|s| s.label == "ioc vnet"),
        series.iter().find(|s| s.label == "ioc secure-vnet"),
    ) {
        let med = |v: &[Duration]| median(&mut v.to_vec()).as_secs_f64();
        let (first, last) = ends(&secure.start);
        println!(
            "secure-vnet / plain vnet: start {:.2}x (aim <= 1.3), stop {:.2}x (aim <= 1.0); secure last/first tenth {:.2} (aim <= 1.1)",
            med(&secure.start) / med(&plain.start),
            med(&secure.stop) / med(&plain.stop),
            last.as_secs_f64() / first.as_secs_f64().max(1e-9)
        );
    }
    if let (Some(plain), Some(nat)) = (
        series.iter().find(|s| s.label == "ioc vnet"),
        series.iter().find(|s| s.label == "ioc nat"),
    ) {
        let ratio = |a: &[Duration], b: &[Duration]| {
            median(&mut a.to_vec()).as_secs_f64() / median(&mut b.to_vec()).as_secs_f64()
        };
        println!(
            "nat start is {:.2}x plain vnet, stop {:.2}x (aim: at most 1.5x)",
            ratio(&nat.start, &plain.start),
            ratio(&nat.stop, &plain.stop)
        );
    }
}

pub fn main() {
    let o = parse_options();
    if !nix::unistd::geteuid().is_root() {
        eprintln!("ioc-bench needs root (it creates namespaces and interfaces)");
        std::process::exit(1);
    }
    if !o.ioc.is_file() {
        eprintln!(
            "{} not found; build first: cargo build --workspace --release",
            o.ioc.display()
        );
        std::process::exit(1);
    }
    let cni = o.cni && Path::new(CNI_BRIDGE).is_file();
    if o.cni && !cni {
        eprintln!(
            "note: {CNI_BRIDGE} not found (Debian: containernetworking-plugins); CNI skipped"
        );
    }
    let sandbox = Sandbox::new();
    for m in 0..o.modes.len() {
        let (bridge, net) = mode_bridge(m);
        sandbox.bridge(&bridge, &format!("{net}.0.1/16"));
    }
    sandbox.enter();
    for &n in &o.jails {
        let mut series = bench_ioc(&o, &sandbox, n);
        settle(n * o.modes.len());
        if cni {
            let (attach, with_netns) = bench_cni(&sandbox, n);
            series.push(attach);
            series.push(with_netns);
        }
        report(n, &series);
        cni::report_overhead(&series);
    }
}
