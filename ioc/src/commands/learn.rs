//! `ioc __learn ...`: the address learner of one Secure VNET port. Hidden: ioc starts it
//! itself for a port that learns DHCP leases or SLAAC addresses (see `ioc_core::learner`); it
//! is not meant to be typed.

use std::process::ExitCode;

use clap::Args;
use ioc_sdk::Mac;

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The host-side interface of the jail's pair
    #[arg(long)]
    pub port: String,
    /// The jail's MAC
    #[arg(long)]
    pub mac: Mac,
    /// The first netfilter queue number to try [default: from the port's name]
    #[arg(long)]
    pub queue: Option<u16>,
    /// The nftables family of the table holding the sets
    #[arg(long, default_value = "netdev")]
    pub family: String,
    /// The table holding the sets
    #[arg(long)]
    pub table: String,
    /// The set of leased IPv4 addresses
    #[arg(long)]
    pub set4: String,
    /// The set of SLAAC IPv6 addresses
    #[arg(long)]
    pub set6: String,
    /// Learn DHCPv4 leases
    #[arg(long)]
    pub dhcp4: bool,
    /// Learn SLAAC addresses
    #[arg(long)]
    pub slaac: bool,
}

/// Runs the learner until its port is gone. It prints `ready QUEUE` on stdout once its queue is
/// bound, then leaves stdout (the host's pipe) for stderr (the host's log file), in a session
/// of its own so that the terminal's signals do not reach it.
#[cfg(target_os = "linux")]
pub fn main(args: &LearnArgs) -> ExitCode {
    use ioc_core::learner::{self, LearnConfig, Sink};
    learner::detach();
    let Some(family) = learner::family(&args.family) else {
        eprintln!("ioc: learner: unknown nftables family {}", args.family);
        return ExitCode::from(2);
    };
    let config = LearnConfig {
        port: args.port.clone(),
        mac: args.mac,
        queue: args
            .queue
            .unwrap_or_else(|| learner::first_queue(&args.port)),
        sink: Sink {
            family,
            table: args.table.clone(),
            set4: args.set4.clone(),
            set6: args.set6.clone(),
        },
        dhcp4: args.dhcp4,
        slaac: args.slaac,
    };
    let result = learner::run(&config, learner::announce_ready);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ioc: learner for {}: {e}", args.port);
            ExitCode::FAILURE
        }
    }
}

/// The learner listens on a netfilter queue: Linux only (FreeBSD learns through bpf).
#[cfg(not(target_os = "linux"))]
pub fn main(args: &LearnArgs) -> ExitCode {
    eprintln!(
        "ioc: learner for {}: this learner is for Linux only",
        args.port
    );
    ExitCode::FAILURE
}
