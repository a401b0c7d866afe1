//! The benchmark itself (Linux: namespaces, veth, the CNI bridge plugin).

use std::fs;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

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
        "usage: ioc-bench [--jails 1,50,200] [--modes vnet,secure-vnet,nat] [--no-cni] [--ioc PATH]"
    );
    std::process::exit(2)
}

fn parse_options() -> Options {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut o = Options {
        jails: vec![1, 50, 200],
        modes: vec!["vnet".into(), "secure-vnet".into(), "nat".into()],
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

/// Creates N jails, then times each start and each stop.
fn bench_ioc(o: &Options, sandbox: &Sandbox, n: usize, mode: &str) -> Series {
    let root = sandbox.dir.join(format!("root-{mode}-{n}"));
    let run_dir = sandbox.dir.join(format!("run-{mode}-{n}"));
    let ioc = |args: &[&str]| {
        let mut cmd = Command::new(&o.ioc);
        cmd.args(args)
            .env("IOC_ROOT", &root)
            .env("IOC_RUN_DIR", &run_dir);
        cmd
    };
    let separator = if mode == "secure-vnet" { "::" } else { ":" };
    let names: Vec<String> = (0..n).map(|i| format!("j{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        if mode == "nat" {
            // A NAT jail behind bridge0 with one forward of its own; its address from the pool.
            let forward = format!("nat_forwards=tcp(80:{})", 10000 + i);
            run(&mut ioc(&[
                "create",
                name,
                "vnet=on",
                "nat=on",
                "nat_interface=bridge0",
                &forward,
            ]));
            continue;
        }
        let addr = format!("ip4_addr=vnet0|10.23.{}.{}/16", 1 + i / 250, 1 + i % 250);
        let interfaces = format!("interfaces=vnet0{separator}bridge0");
        run(&mut ioc(&[
            "create",
            name,
            "vnet=on",
            &interfaces,
            &addr,
            "defaultrouter=10.23.0.1",
        ]));
    }
    let start = names
        .iter()
        .map(|j| timed(&mut ioc(&["start", j])))
        .collect();
    let stop = names
        .iter()
        .map(|j| timed(&mut ioc(&["stop", j])))
        .collect();
    Series {
        label: format!("ioc {mode}"),
        start,
        stop,
    }
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
        let p = median(&mut plain.start.clone()).as_secs_f64();
        let q = median(&mut secure.start.clone()).as_secs_f64();
        println!("secure-vnet start is {:.2}x plain vnet", q / p);
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
    sandbox.bridge("bridge0", "10.23.0.1/16");
    sandbox.enter();
    for &n in &o.jails {
        let mut series: Vec<Series> = o
            .modes
            .iter()
            .map(|m| {
                let s = bench_ioc(&o, &sandbox, n, m);
                settle(n);
                s
            })
            .collect();
        if cni {
            let (attach, with_netns) = bench_cni(&sandbox, n);
            series.push(attach);
            series.push(with_netns);
        }
        report(n, &series);
    }
}
