//! How long one port's table takes to commit and to delete, with 1, 50, 200 and 1,000 other
//! ports' tables present: the kernel's and ioc's share of a Secure VNET start and stop, without
//! the namespaces and links around them. Flat figures mean the layout's cost does not grow with
//! the number of jails.
//!
//! Root only; runs in a private network namespace, so the host's rules are never touched. The
//! ports' devices need not exist (the kernel keeps a netdev hook for a device by its name):
//!
//! ```text
//! cargo run --release -p ioc-plugin-firewall-nftables --example commit_bench
//! ```

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("commit_bench measures nftables, which exists only on Linux");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    use ioc_core::host::linux::LinuxHost;
    use ioc_core::host::Backend;
    use ioc_core::runtime::RunDir;
    use ioc_core::step::JailParams;
    use ioc_plugin_nftables::layout;
    use ioc_plugin_nftables::whitelist::Whitelist;
    use ioc_sdk::nft::NftBatch;
    use ioc_sdk::{HostOp, Mac, PortPolicy};

    const ROUNDS: usize = 30;

    /// Port `i`'s policy: an IPv4 address (as `ioc-bench` gives its jails), and with `dual` an
    /// IPv6 one too (more rules: neighbour discovery).
    fn policy(i: u32, dual: bool) -> PortPolicy {
        let address: IpAddr = format!("10.{}.{}.2", i / 250, i % 250).parse().unwrap();
        let v6: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
        let addresses = if dual {
            vec![address, v6]
        } else {
            vec![address]
        };
        PortPolicy::new(
            "bench",
            i,
            "vnet0",
            &format!("vnet0.{i}"),
            "bridge0",
            Mac::from_u64(0x02ff_6000_0000 + u64::from(i)),
            addresses,
            Some(1500),
        )
    }

    fn install(i: u32, dual: bool) -> NftBatch {
        let p = policy(i, dual);
        layout::install(p.port(), &Whitelist::new(&p, None), false).unwrap()
    }

    fn median(mut v: Vec<Duration>) -> f64 {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    }

    pub fn main() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("commit_bench needs root (it works in a private network namespace)");
            std::process::exit(1);
        }
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
        let run = std::env::temp_dir().join(format!("commit_bench-{}", std::process::id()));
        let mut host = LinuxHost::new(&RunDir::new(&run));
        let params = JailParams::unknown("bench");
        let mut commit = |batch: NftBatch| {
            let t = Instant::now();
            host.perform(&params, &HostOp::NftCommit { batch })
                .expect("commit");
            t.elapsed()
        };
        println!(
            "tables present | IPv4 port: commit its table / delete it | IPv4+IPv6 port: commit / delete (us, median of {ROUNDS}); batch commands {} / {}",
            install(1, false).commands.len(),
            install(1, true).commands.len()
        );
        let mut present = 0;
        for n in [1u32, 50, 200, 1000] {
            // n - 1 other ports, so the measured one is the n-th.
            while present < n - 1 {
                present += 1;
                commit(install(present, true));
            }
            let probe = 10_000 + n;
            let mut row = format!("{n:>14}");
            for dual in [false, true] {
                let (mut ins, mut rem) = (Vec::new(), Vec::new());
                for _ in 0..ROUNDS {
                    ins.push(commit(install(probe, dual)));
                    rem.push(commit(layout::remove(&format!("vnet0.{probe}")).unwrap()));
                }
                row += &format!(" | {:>10.0} / {:<10.0}", median(ins), median(rem));
            }
            println!("{row}");
        }
        let _ = std::fs::remove_dir_all(&run);
    }
}
