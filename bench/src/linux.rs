//! The benchmark itself (Linux: namespaces, veth, the CNI bridge plugin).

use std::fs;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

mod bulk;
#[path = "cni.rs"]
mod cni;
pub use cni::invoke;
mod cpu;

const CNI_BRIDGE: &str = "/usr/lib/cni/bridge";
pub const CNI_DIR: &str = "/usr/lib/cni";

struct Options {
    jails: Vec<usize>,
    modes: Vec<String>,
    cni: bool,
    ioc: PathBuf,
    /// The run dir on a tmpfs of its own, as `/run` is on most systems, and the configuration
    /// root with it (else both on the temp dir's file system: `--run-on-disk`).
    run_on_tmpfs: bool,
    /// The bulk scenario (`ioc start --rc` / `ioc stop --rc`) instead of the per-jail one.
    bulk: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: ioc-bench [--jails 1,50,200,1000] [--modes vnet,secure-vnet,nat,vnet-root,cni] \
         [--no-cni] [--run-on-disk] [--bulk] [--ioc PATH]"
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
        run_on_tmpfs: true,
        bulk: false,
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
            "--run-on-disk" => o.run_on_tmpfs = false,
            "--bulk" => o.bulk = true,
            "--ioc" => o.ioc = args.next().unwrap_or_else(|| usage()).into(),
            _ => usage(),
        }
    }
    o
}

/// Runs a command and fails loudly: benchmark setup must not silently go wrong.
pub(crate) fn run(cmd: &mut Command) -> String {
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
pub(crate) struct Sandbox {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    /// Where the run dirs go: `dir` itself, or a tmpfs mounted on `dir/run`.
    run_dir: PathBuf,
    tmpfs: bool,
}

impl Sandbox {
    /// With `tmpfs`, the run dirs live on a tmpfs of their own, as under `/run` on most
    /// systems: a run dir on a disk file system measures its inode allocator too (ext4 skips
    /// every recently deleted inode when it makes a file, and each start makes and removes a
    /// few, so later starts of a long run pay more).
    pub(crate) fn new(tmpfs: bool) -> Sandbox {
        let name = format!("ioc-bench-{}", std::process::id());
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        let dir = std::env::temp_dir().join(&name);
        fs::create_dir_all(&dir).expect("temp dir");
        let run_dir = if tmpfs { dir.join("run") } else { dir.clone() };
        if tmpfs {
            fs::create_dir_all(&run_dir).expect("run dir");
            run(Command::new("mount")
                .args(["-t", "tmpfs", "-o", "mode=0700", "ioc-bench"])
                .arg(&run_dir));
        }
        Sandbox {
            name,
            dir,
            run_dir,
            tmpfs,
        }
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
    pub(crate) fn enter(&self) {
        let ns = fs::File::open(self.netns_path()).expect("open sandbox netns");
        setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).expect("enter sandbox netns");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if self.tmpfs {
            let _ = Command::new("umount")
                .arg("--lazy")
                .arg(&self.run_dir)
                .status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Median of the first and of the last tenth (at least one sample each).
pub(crate) fn ends(samples: &[Duration]) -> (Duration, Duration) {
    let tenth = (samples.len() / 10).max(1);
    let mut first = samples[..tenth].to_vec();
    let mut last = samples[samples.len() - tenth..].to_vec();
    (median(&mut first), median(&mut last))
}

pub(crate) fn ms(d: Duration) -> String {
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
fn bench_ioc(o: &Options, sandbox: &Sandbox, n: usize) -> (Vec<Series>, Vec<cpu::Cpu>) {
    // The configuration root goes where the run dirs go (the tmpfs by default): this VM's root
    // file system is ext4 without a journal, whose inode allocator reads the inode of every
    // recently deleted inode before it reuses one (`recently_deleted`, only without a journal),
    // so every file a start makes in the store (a NAT jail's block claim and block file) cost
    // more the more jails the run had destroyed: 21% of a NAT start's samples. A journaled ext4,
    // XFS or ZFS, where a real host keeps its configuration, does not do that.
    let root = sandbox.run_dir.join(format!("root-{n}"));
    let run_dir = sandbox.run_dir.join(format!("run-{n}"));
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
    let jail_root = o
        .modes
        .iter()
        .any(|m| m == "vnet-root")
        .then(|| busybox_root(sandbox));
    let cni_conf = cni::write_list(&sandbox.dir, n);
    for (m, mode) in o.modes.iter().enumerate() {
        let separator = if mode == "secure-vnet" { "::" } else { ":" };
        // vnet-root: plain VNET on a jail with its own root (issue 16).
        let path = match (mode.as_str(), &jail_root) {
            ("vnet-root", Some(root)) => Some(format!("path={}", root.display())),
            _ => None,
        };
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
            let mut args = vec!["create", name, "vnet=on", &interfaces, &addr, &router];
            args.extend(path.as_deref());
            run(&mut ioc(&args));
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
    let mut cpu: Vec<cpu::Cpu> = o
        .modes
        .iter()
        .map(|mode| format!("ioc {mode}"))
        .chain(bare.is_some().then(|| cni::BARE.to_string()))
        .map(|label| cpu::Cpu {
            label,
            start: Vec::with_capacity(n),
            stop: Vec::with_capacity(n),
        })
        .collect();
    let last_cpu = cpu.len() - 1;
    for &(m, i) in &schedule {
        let before = cpu::spent();
        series[m]
            .start
            .push(timed(&mut ioc(&["start", &names[m][i]])));
        cpu[m].start.push(cpu::spent().saturating_sub(before));
        if let (Some(bare), "cni") = (&bare, o.modes[m].as_str()) {
            let before = cpu::spent();
            series[last].start.push(bare.attach(i));
            cpu[last_cpu]
                .start
                .push(cpu::spent().saturating_sub(before));
        }
    }
    for &(m, i) in &schedule {
        let before = cpu::spent();
        series[m]
            .stop
            .push(timed(&mut ioc(&["stop", &names[m][i]])));
        cpu[m].stop.push(cpu::spent().saturating_sub(before));
        if let (Some(bare), "cni") = (&bare, o.modes[m].as_str()) {
            let before = cpu::spent();
            series[last].stop.push(bare.detach(i));
            cpu[last_cpu].stop.push(cpu::spent().saturating_sub(before));
        }
    }
    (series, cpu)
}

/// A busybox root for the vnet-root mode, built once by `examples/busybox-root.sh`.
fn busybox_root(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.dir.join("jailroot");
    if !dir.join("bin/busybox").is_file() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/busybox-root.sh");
        run(Command::new("bash").arg(script).arg(&dir));
    }
    dir
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
    let call = |command: &str, ns: &str| invoke(Path::new(CNI_BRIDGE), command, ns, &conf).0;
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
        "{:<18} {:>11} {:>11} {:>11} {:>11} {:>8} {:>11} {:>11} {:>8}",
        "",
        "start med",
        "stop med",
        "start 1st",
        "start last",
        "last/1st",
        "stop 1st",
        "stop last",
        "last/1st"
    );
    let ratio =
        |first: Duration, last: Duration| last.as_secs_f64() / first.as_secs_f64().max(1e-9);
    for s in series {
        let (mut start, mut stop) = (s.start.clone(), s.stop.clone());
        let (first, last) = ends(&s.start);
        let (stop_first, stop_last) = ends(&s.stop);
        println!(
            "{:<18} {:>11} {:>11} {:>11} {:>11} {:>8.2} {:>11} {:>11} {:>8.2}",
            s.label,
            ms(median(&mut start)),
            ms(median(&mut stop)),
            ms(first),
            ms(last),
            ratio(first, last),
            ms(stop_first),
            ms(stop_last),
            ratio(stop_first, stop_last)
        );
    }
    println!(
        "(1st / last: medians of the first and last tenth of the jails; stops go in start \
         order, so the first stops run with the most jails)"
    );
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
    if let (Some(plain), Some(rooted)) = (
        series.iter().find(|s| s.label == "ioc vnet"),
        series.iter().find(|s| s.label == "ioc vnet-root"),
    ) {
        let med = |v: &[Duration]| median(&mut v.to_vec()).as_secs_f64() * 1000.0;
        let (first, last) = ends(&rooted.start);
        println!(
            "vnet-root - plain vnet: start {:+.2} ms per jail (aim <= 2 ms), stop {:+.2} ms; root last/first tenth {:.2}",
            med(&rooted.start) - med(&plain.start),
            med(&rooted.stop) - med(&plain.stop),
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
    let sandbox = Sandbox::new(o.run_on_tmpfs);
    for m in 0..o.modes.len() {
        let (bridge, net) = mode_bridge(m);
        sandbox.bridge(&bridge, &format!("{net}.0.1/16"));
    }
    sandbox.enter();
    if o.bulk {
        bulk::main(&o, &sandbox, cni);
        return;
    }
    for &n in &o.jails {
        let (mut series, cpu) = bench_ioc(&o, &sandbox, n);
        settle(n * o.modes.len());
        if cni {
            let (attach, with_netns) = bench_cni(&sandbox, n);
            series.push(attach);
            series.push(with_netns);
        }
        report(n, &series);
        cpu::report(&cpu);
        cni::report_overhead(&series, &cpu);
    }
}
