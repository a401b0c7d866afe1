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
    /// The table holding the sets (Linux)
    #[arg(long, required_unless_present = "sink")]
    pub table: Option<String>,
    /// The set of leased IPv4 addresses (Linux)
    #[arg(long, required_unless_present = "sink")]
    pub set4: Option<String>,
    /// The set of SLAAC IPv6 addresses (Linux)
    #[arg(long, required_unless_present = "sink")]
    pub set6: Option<String>,
    /// The ipfw or pf tables to fill (FreeBSD): ipfw:TABLE4,TABLE6 or pf:ANCHOR:TABLE4,TABLE6
    #[arg(long, conflicts_with_all = ["table", "set4", "set6"])]
    pub sink: Option<String>,
    /// Learn DHCPv4 leases
    #[arg(long)]
    pub dhcp4: bool,
    /// Learn SLAAC addresses
    #[arg(long)]
    pub slaac: bool,
    /// Keep what the port may use now in this file, for `ioc list` (Linux)
    #[arg(long)]
    pub record: Option<std::path::PathBuf>,
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
    let (Some(table), Some(set4), Some(set6)) = (&args.table, &args.set4, &args.set6) else {
        eprintln!("ioc: learner: Linux learns into nftables sets: --table, --set4 and --set6");
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
            table: table.clone(),
            set4: set4.clone(),
            set6: set6.clone(),
        },
        dhcp4: args.dhcp4,
        slaac: args.slaac,
        record: args.record.clone(),
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

/// Runs the FreeBSD learner (bpf on the port, ipfw or pf tables) until its port is gone or
/// the host ends it; says `ready bpf` once bpf is attached, as the Linux learner does.
#[cfg(target_os = "freebsd")]
pub fn main(args: &LearnArgs) -> ExitCode {
    use ioc_core::learner::{self, bsd::BsdConfig};
    use ioc_core::render::freebsd::learn::parse_sink;
    learner::detach();
    let Some(sink) = args.sink.as_deref() else {
        eprintln!("ioc: learner: FreeBSD learns into ipfw or pf tables: --sink");
        return ExitCode::from(2);
    };
    let sink = match parse_sink(sink) {
        Ok(sink) => sink,
        Err(e) => {
            eprintln!("ioc: learner: {e}");
            return ExitCode::from(2);
        }
    };
    let config = BsdConfig {
        port: args.port.clone(),
        mac: args.mac,
        dhcp4: args.dhcp4,
        slaac: args.slaac,
        sink,
    };
    match learner::run_bsd(&config, learner::announce_ready) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ioc: learner for {}: {e}", args.port);
            ExitCode::FAILURE
        }
    }
}

/// Learners exist for Linux (netfilter) and FreeBSD (bpf) only.
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
pub fn main(args: &LearnArgs) -> ExitCode {
    eprintln!(
        "ioc: learner for {}: learners exist for Linux and FreeBSD only",
        args.port
    );
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let base = [
            "ioc",
            "-v",
            "__learn",
            "--port",
            "vnet0:5",
            "--mac",
            "02:ff:60:cb:49:49",
        ];
        Cli::try_parse_from(base.iter().chain(args))
    }

    #[test]
    fn the_learner_takes_either_nftables_sets_or_a_freebsd_sink() {
        let freebsd = parse(&[
            "--dhcp4",
            "--sink",
            "ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6",
        ]);
        let Command::Learn(args) = freebsd.unwrap().command else {
            panic!("not __learn")
        };
        assert_eq!(
            args.sink.as_deref(),
            Some("ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6")
        );
        assert!(args.dhcp4 && args.table.is_none());
        let linux = parse(&["--table", "t", "--set4", "a", "--set6", "b", "--slaac"]);
        assert!(linux.is_ok());
        // Neither, half of the sets, or both kinds at once: refused by clap.
        assert!(parse(&["--dhcp4"]).is_err());
        assert!(parse(&["--table", "t"]).is_err());
        assert!(
            parse(&["--table", "t", "--set4", "a", "--set6", "b", "--sink", "ipfw:a,b"]).is_err()
        );
    }
}
