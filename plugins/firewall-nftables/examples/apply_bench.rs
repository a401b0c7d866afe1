//! How long one jail's nftables filter takes to install and remove, with 1, 50 and 200 jails'
//! filters already present, in-process (libnftables, what ioc does) and by spawning `nft -f -`
//! (the fallback, and what ioc did before).
//!
//! Root only; runs in a private network namespace, so the host's rules are never touched:
//!
//! ```text
//! cargo run --release -p ioc-plugin-firewall-nftables --example apply_bench
//! ```

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("apply_bench measures nftables, which exists only on Linux");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::Write;
    use std::net::IpAddr;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use ioc_core::host::linux::nft;
    use ioc_plugin_nftables::script;
    use ioc_sdk::{Mac, PortPolicy};

    const ROUNDS: usize = 30;

    fn policy(i: u32) -> PortPolicy {
        let address: IpAddr = format!("10.{}.{}.2", i / 250, i % 250).parse().unwrap();
        let v6: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
        PortPolicy::new(
            "bench",
            i,
            "vnet0",
            &format!("vnet0.{i}"),
            "bridge0",
            Mac::from_u64(0x02ff_6000_0000 + u64::from(i)),
            [address, v6],
            Some(1500),
        )
    }

    fn spawn_nft(script: &str) {
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run nft");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "nft failed");
    }

    fn median(mut v: Vec<Duration>) -> f64 {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    }

    /// Median install and remove time of one more jail, `ROUNDS` times.
    fn measure(apply: &dyn Fn(&str), probe: u32) -> (f64, f64) {
        let install = script::install(&policy(probe)).unwrap();
        let remove = script::remove(&format!("vnet0.{probe}")).unwrap();
        let (mut ins, mut rem) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let t = Instant::now();
            apply(&install);
            ins.push(t.elapsed());
            let t = Instant::now();
            apply(&remove);
            rem.push(t.elapsed());
        }
        (median(ins), median(rem))
    }

    pub fn main() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("apply_bench needs root (it works in a private network namespace)");
            std::process::exit(1);
        }
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
        println!("engine: {}", nft::engine_name());
        println!(
            "jails present | libnftables install / remove (us) | nft -f - install / remove (us)"
        );
        let mut present = 0;
        let lib = |s: &str| nft::apply(s).expect("libnftables apply");
        for n in [1u32, 50, 200] {
            // n - 1 other jails, so the measured one is the n-th.
            while present < n - 1 {
                present += 1;
                lib(&script::install(&policy(present)).unwrap());
            }
            let probe = 10_000 + n;
            let (li, lr) = measure(&lib, probe);
            let (si, sr) = measure(&spawn_nft, probe);
            println!("{n:>13} | {li:>14.0} / {lr:<14.0} | {si:>12.0} / {sr:<12.0}");
        }
    }
}
