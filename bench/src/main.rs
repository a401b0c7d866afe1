//! ioc-bench: how long starting and stopping jails takes, next to the CNI bridge plugin.
//!
//! Run as root after a release build (`cargo build --workspace --release`):
//!
//! ```sh
//! target/release/ioc-bench                     # N = 1, 50, 200, 1000; vnet and secure-vnet; CNI
//! target/release/ioc-bench --modes vnet,nat    # NAT mode next to plain VNET
//! target/release/ioc-bench --modes vnet,vnet-root --jails 1,50,200 --no-cni  # own root
//! target/release/ioc-bench --jails 1,50,200 --modes vnet,cni   # CNI jails, overhead per jail
//! target/release/ioc-bench --jails 1,50 --modes vnet --no-cni
//! target/release/ioc-bench cni-secure          # the ioc-secure CNI plugin's cost per ADD
//! target/release/ioc-bench --bulk --jails 200,1000   # ioc start/stop --rc of N jails; N CNI ADD/DEL
//! ```
//!
//! Everything happens in a network namespace the benchmark makes for itself (one bridge per
//! mode), never on the host's network, and is removed at the end. The run dirs (`IOC_RUN_DIR`)
//! are on a tmpfs of the benchmark's own, as `/run` is on most systems; `--run-on-disk` puts
//! them next to the configuration roots in the temp dir instead (on ext4, making a file then
//! skips every inode deleted in the last minutes, so later starts of a long run pay more). For each N it creates N jails
//! of every mode, then times every `ioc start <jail>` (a process per jail, like a CNI plugin
//! call) with the modes interleaved (jail i of each mode, then jail i + 1), then every
//! `ioc stop <jail>` the same way: on a busy machine both modes see the same load. Then it
//! attaches N fresh namespaces with `/usr/lib/cni/bridge` (host-local IPAM) and detaches them
//! again, timing each call. It prints per-jail medians, the ratio to CNI and of Secure VNET to
//! plain VNET, and the cost of the last tenth of the jails against the first tenth
//! (flatness), then each mode's median CPU time per start and stop (user + system of the `ioc`
//! process, steadier than wall time on a loaded machine). Timings are wall-clock on the machine it runs on; run it on an idle machine.
//! N = 1000 takes a few minutes (2,000 starts and stops with both modes).

#[cfg(target_os = "linux")]
mod cni_secure;
#[cfg(target_os = "linux")]
mod linux;

fn main() {
    #[cfg(target_os = "linux")]
    if std::env::args().nth(1).as_deref() == Some("cni-secure") {
        cni_secure::main(std::env::args().skip(2));
        return;
    }
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("ioc-bench measures the Linux host; on FreeBSD, time `ioc start` directly");
}
