//! `ioc-secure`: ioc's Secure VNET filter as a chained CNI plugin.
//!
//! Put it after `bridge` (or any plugin whose result names the container's host-side port) in
//! a network list. `ADD` installs, on that port, the per-port nftables table ioc's Secure VNET
//! uses (`table netdev ioc-<port>`): frames from the container must carry its MAC and its
//! addresses (IPv4, ARP, IPv6 with neighbour discovery held to its own addresses), frames
//! toward it must be addressed to it, and router advertisements, redirects and DHCP server
//! replies from it are dropped. See README.md, "CNI plugin ioc-secure".
//!
//! - `config.rs`: the plugin's keys; `target.rs`: the port, MAC and addresses of an attachment;
//! - `filter.rs`: install, remove and check the table (ioc's nftables backend and netlink);
//! - `state.rs`: per-attachment records and locks; `commands.rs`: ADD, DEL, CHECK, GC, STATUS.

#[cfg(target_os = "linux")]
mod commands;
#[cfg(target_os = "linux")]
mod config;
#[cfg(target_os = "linux")]
mod filter;
#[cfg(target_os = "linux")]
mod state;
#[cfg(target_os = "linux")]
mod target;

#[cfg(target_os = "linux")]
fn main() {
    use ioc_cni::plugin::{respond, PluginRequest};
    let outcome = PluginRequest::read(|k| std::env::var(k).ok(), std::io::stdin().lock())
        .and_then(|request| commands::run(&request));
    std::process::exit(respond(&mut std::io::stdout().lock(), outcome));
}

#[cfg(not(target_os = "linux"))]
fn main() {
    let error = ioc_cni::CniError::new(
        ioc_cni::version::LATEST,
        ioc_cni::codes::NOT_AVAILABLE,
        "ioc-secure filters Linux bridge ports with nftables; on FreeBSD use ioc's Secure VNET",
    );
    println!("{}", error.to_json());
    std::process::exit(1);
}
