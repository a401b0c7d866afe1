//! The bulk scenario (issue 15, `--bulk`): what a host full of jails costs at boot and
//! shutdown. For each N and mode it creates N jails with `boot=on` in a fresh root, times one
//! `ioc start --rc` and one `ioc stop --rc`, and checks that nothing is left; then it times N
//! CNI bridge ADDs and N DELs in the same run, for the same number of attachments.

use std::time::{Duration, Instant};

use super::{bench_cni, mode_bridge, ms, run, settle, Options, Sandbox};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// One mode's bulk figures.
struct Bulk {
    label: String,
    start: Duration,
    stop: Duration,
}

/// Creates N boot jails of mode `m` in a root of their own and times `--rc` on them.
fn bench_mode(o: &Options, sandbox: &Sandbox, run_base: &Path, n: usize, m: usize) -> Bulk {
    let mode = &o.modes[m];
    let root = sandbox.dir.join(format!("bulk-root-{n}-{m}"));
    let run_dir = run_base.join(format!("bulk-run-{n}-{m}"));
    let ioc = |args: &[&str]| {
        let mut cmd = Command::new(&o.ioc);
        cmd.args(args)
            .env("IOC_ROOT", &root)
            .env("IOC_RUN_DIR", &run_dir);
        cmd
    };
    let separator = if mode == "secure-vnet" { "::" } else { ":" };
    let (bridge, net) = mode_bridge(m);
    let interfaces = format!("interfaces=vnet0{separator}{bridge}");
    let router = format!("defaultrouter={net}.0.1");
    run(&mut ioc(&[
        "set",
        "boot=on",
        "vnet=on",
        &interfaces,
        &router,
        "defaults",
    ]));
    for i in 0..n {
        let addr = format!("ip4_addr=vnet0|{net}.{}.{}/16", 1 + i / 250, 1 + i % 250);
        run(&mut ioc(&["create", &format!("b{m}j{i}"), &addr]));
    }
    let begin = Instant::now();
    let started = ioc(&["start", "--rc"])
        .output()
        .expect("run ioc start --rc");
    let start = begin.elapsed();
    let begin = Instant::now();
    // Stopped whatever happened, so that a failed start leaves nothing behind either.
    let stopped = ioc(&["stop", "--rc"]).output().expect("run ioc stop --rc");
    let stop = begin.elapsed();
    let count = |out: &[u8], word: &str| {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.ends_with(word) || l.contains(&format!(": {word} ")))
            .count()
    };
    assert!(
        started.status.success() && count(&started.stdout, "started") == n,
        "start --rc: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    assert!(
        stopped.status.success() && count(&stopped.stdout, "stopped") == n,
        "stop --rc: {}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    let left = run(Command::new("ip").args(["-o", "link", "show"]))
        .lines()
        .filter(|l| l.contains("vnet0."))
        .count();
    assert_eq!(left, 0, "links left after stop --rc");
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&run_dir);
    Bulk {
        label: format!("ioc {mode} --rc"),
        start,
        stop,
    }
}

fn per_jail(total: Duration, n: usize) -> String {
    ms(total / n.max(1) as u32)
}

/// A tmpfs for the run dirs, unmounted on drop: on a real host ioc's run dir is under /run,
/// a tmpfs, while the benchmark's temp dir may be on a disk file system whose inode
/// allocation (ext4's `recently_deleted` scan, after thousands of files come and go) would
/// dominate the figures.
struct RunTmpfs(PathBuf);

impl RunTmpfs {
    fn mount(sandbox: &Sandbox) -> RunTmpfs {
        let dir = sandbox.dir.join("bulk-tmpfs");
        std::fs::create_dir_all(&dir).expect("tmpfs mount point");
        mount(
            Some("ioc-bench"),
            &dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=0700"),
        )
        .expect("mount a tmpfs for the run dirs");
        RunTmpfs(dir)
    }
}

impl Drop for RunTmpfs {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

/// The bulk scenario for every N of the options.
pub fn main(o: &Options, sandbox: &Sandbox, cni: bool) {
    let tmpfs = RunTmpfs::mount(sandbox);
    for &n in &o.jails {
        let mut rows: Vec<Bulk> = Vec::new();
        for m in 0..o.modes.len() {
            rows.push(bench_mode(o, sandbox, &tmpfs.0, n, m));
            settle(n);
        }
        if cni {
            let (attach, _) = bench_cni(sandbox, n);
            rows.push(Bulk {
                label: format!("CNI bridge x{n}"),
                start: attach.start.iter().sum(),
                stop: attach.stop.iter().sum(),
            });
            settle(n);
        }
        println!("\nbulk, N = {n}, run dir on tmpfs (aims for 1,000: start --rc <= 4 s, stop --rc <= 3 s)");
        println!(
            "{:<26} {:>12} {:>12} {:>14} {:>14}",
            "", "start total", "stop total", "start per jail", "stop per jail"
        );
        for r in &rows {
            println!(
                "{:<26} {:>12} {:>12} {:>14} {:>14}",
                r.label,
                format!("{:.2} s", r.start.as_secs_f64()),
                format!("{:.2} s", r.stop.as_secs_f64()),
                per_jail(r.start, n),
                per_jail(r.stop, n)
            );
        }
    }
}
