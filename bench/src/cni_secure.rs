//! `ioc-bench cni-secure`: what the `ioc-secure` CNI plugin adds to a network list's `ADD`.
//!
//! Three network lists, each on a bridge and subnet of its own in the benchmark's sandbox
//! namespace, are run side by side for N fresh containers (network namespaces):
//!
//! - `bridge`: `bridge` + `host-local` alone;
//! - `bridge+ioc-secure`: the same, then `ioc-secure` with the bridge's result as `prevResult`;
//! - `bridge macspoofchk`: `bridge` with `"macspoofchk": true`, the reference plugins' own
//!   (MAC-only) anti-spoofing, for comparison.
//!
//! The plugins are run as a runtime runs a list (libcni does the same: one process per plugin,
//! the configuration on stdin, the previous result in `prevResult`). The i-th `ADD` of every
//! list runs with i - 1 attachments of each list in place, interleaved (which list goes first
//! alternates), so load hits all three alike. Reported: medians of `ADD` and `DEL` per list,
//! the `ioc-secure` invocation alone (and a `VERSION` call beside it: the cost of starting the
//! process at all), and the first against the last tenth (flatness in N).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::linux::{ends, invoke, median, ms, run, Sandbox, CNI_DIR};

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Bridge,
    Secure,
    MacSpoof,
}

impl List {
    const ALL: [List; 3] = [List::Bridge, List::Secure, List::MacSpoof];

    fn label(self) -> &'static str {
        match self {
            List::Bridge => "bridge",
            List::Secure => "bridge+ioc-secure",
            List::MacSpoof => "bridge macspoofchk",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

fn usage() -> ! {
    eprintln!("usage: ioc-bench cni-secure [--attachments 1,50,200] [--plugin PATH]");
    std::process::exit(2)
}

/// The bridge plugin's configuration for `list` (its own bridge, subnet and IPAM store).
fn bridge_conf(list: List, dir: &Path) -> String {
    let k = list.index();
    let spoof = if list == List::MacSpoof {
        r#""macspoofchk":true,"#
    } else {
        ""
    };
    format!(
        r#"{{"cniVersion":"1.0.0","name":"bench{k}","type":"bridge","bridge":"cnib{k}",{spoof}"isGateway":true,"ipMasq":false,"ipam":{{"type":"host-local","subnet":"10.{}.0.0/16","dataDir":"{}"}}}}"#,
        110 + k,
        dir.join(format!("ipam{k}")).display()
    )
}

/// `ioc-secure`'s configuration, with `prev` (the bridge's result) when given.
fn secure_conf(dir: &Path, prev: Option<&str>) -> String {
    let prev = prev
        .map(|p| format!(r#","prevResult":{}"#, p.trim()))
        .unwrap_or_default();
    format!(
        r#"{{"cniVersion":"1.0.0","name":"bench1","type":"ioc-secure","stateDir":"{}"{prev}}}"#,
        dir.join("state").display()
    )
}

#[derive(Default)]
struct Samples {
    add: Vec<Duration>,
    del: Vec<Duration>,
    /// `ioc-secure`'s own `ADD` (bridge+ioc-secure only).
    plugin_add: Vec<Duration>,
    /// `ioc-secure VERSION` right after it: what starting the process costs alone.
    plugin_version: Vec<Duration>,
}

fn bench(sandbox: &Sandbox, plugin: &Path, n: usize) -> Vec<Samples> {
    let dir = sandbox.dir.join(format!("cni-secure-{n}"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let bridge = Path::new(CNI_DIR).join("bridge");
    let names = |list: List| -> Vec<String> {
        (0..n)
            .map(|i| format!("{}-s{}-{i}", sandbox.name, list.index()))
            .collect()
    };
    let namespaces: Vec<Vec<String>> = List::ALL.iter().map(|l| names(*l)).collect();
    for ns in namespaces.iter().flatten() {
        run(Command::new("ip").args(["netns", "add", ns]));
    }
    let schedule: Vec<(List, usize)> = (0..n)
        .flat_map(|i| {
            let mut lists = List::ALL.to_vec();
            lists.rotate_left(i % 3);
            lists.into_iter().map(move |l| (l, i))
        })
        .collect();
    let mut samples: Vec<Samples> = List::ALL.iter().map(|_| Samples::default()).collect();
    for &(list, i) in &schedule {
        let ns = &namespaces[list.index()][i];
        let (took, result) = invoke(&bridge, "ADD", ns, &bridge_conf(list, &dir));
        let s = &mut samples[list.index()];
        if list == List::Secure {
            let (secure, _) = invoke(plugin, "ADD", ns, &secure_conf(&dir, Some(&result)));
            s.plugin_add.push(secure);
            s.add.push(took + secure);
            let version = r#"{"cniVersion":"1.0.0"}"#;
            s.plugin_version
                .push(invoke(plugin, "VERSION", ns, version).0);
        } else {
            s.add.push(took);
        }
    }
    for &(list, i) in &schedule {
        let ns = &namespaces[list.index()][i];
        let mut took = Duration::ZERO;
        if list == List::Secure {
            took += invoke(plugin, "DEL", ns, &secure_conf(&dir, None)).0;
        }
        took += invoke(&bridge, "DEL", ns, &bridge_conf(list, &dir)).0;
        samples[list.index()].del.push(took);
    }
    for ns in namespaces.iter().flatten() {
        run(Command::new("ip").args(["netns", "del", ns]));
    }
    // Namespace teardown runs in a kernel worker: let it finish before the next N.
    std::thread::sleep(Duration::from_millis(500 + 20 * (3 * n) as u64));
    samples
}

fn report(n: usize, samples: &[Samples]) {
    println!("\nN = {n} attachments per list");
    println!(
        "{:<20} {:>11} {:>11} {:>13} {:>13} {:>8}",
        "", "ADD med", "DEL med", "ADD 1st 10%", "ADD last 10%", "last/1st"
    );
    for list in List::ALL {
        let s = &samples[list.index()];
        let (first, last) = ends(&s.add);
        println!(
            "{:<20} {:>11} {:>11} {:>13} {:>13} {:>8.2}",
            list.label(),
            ms(median(&mut s.add.clone())),
            ms(median(&mut s.del.clone())),
            ms(first),
            ms(last),
            last.as_secs_f64() / first.as_secs_f64().max(1e-9)
        );
    }
    let med = |list: List| median(&mut samples[list.index()].add.clone());
    let own = &samples[List::Secure.index()].plugin_add;
    let (first, last) = ends(own);
    println!(
        "ioc-secure's own ADD: median {}, first tenth {}, last tenth {} (aim <= 3 ms, flat in N); list ADD +{} over bridge alone",
        ms(median(&mut own.clone())),
        ms(first),
        ms(last),
        ms(med(List::Secure).saturating_sub(med(List::Bridge)))
    );
    let floor = &samples[List::Secure.index()].plugin_version;
    println!(
        "ioc-secure VERSION (process start and exit alone): median {}",
        ms(median(&mut floor.clone()))
    );
    println!(
        "macspoofchk adds {} per ADD over bridge alone",
        ms(med(List::MacSpoof).saturating_sub(med(List::Bridge)))
    );
}

/// `ioc-bench cni-secure [--attachments 1,50,200] [--plugin PATH]`.
pub fn main(mut args: impl Iterator<Item = String>) {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut counts = vec![1, 50, 200];
    let mut plugin: PathBuf = exe_dir.join("ioc-secure");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--attachments" => {
                counts = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--plugin" => plugin = args.next().unwrap_or_else(|| usage()).into(),
            _ => usage(),
        }
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("ioc-bench needs root (it creates namespaces and interfaces)");
        std::process::exit(1);
    }
    for (path, hint) in [
        (
            plugin.clone(),
            "build first: cargo build --workspace --release",
        ),
        (
            Path::new(CNI_DIR).join("bridge"),
            "Debian: containernetworking-plugins",
        ),
    ] {
        if !path.is_file() {
            eprintln!("{} not found ({hint})", path.display());
            std::process::exit(1);
        }
    }
    let sandbox = Sandbox::new(true);
    sandbox.enter();
    for n in counts {
        let samples = bench(&sandbox, &plugin, n);
        report(n, &samples);
    }
}
