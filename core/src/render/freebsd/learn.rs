//! Address learning on FreeBSD, as command lines: how the host starts a port's learner, the
//! `--sink` argument that tells it which ipfw or pf tables to fill, and the exact table
//! updates it makes (see [`HostOp::LearnAddresses`]).
//!
//! The learner is the hidden `ioc __learn` subcommand. Its arguments, shared with the Linux
//! learner (which takes `--family`, `--table`, `--set4`, `--set6` instead of `--sink`):
//!
//! ```text
//! ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 [--dhcp4] [--slaac] --sink SINK
//!   SINK = ipfw:TABLE4,TABLE6              ipfw tables, by name
//!        | pf:ANCHOR:TABLE4,TABLE6         pf tables of an anchor (the anchor may hold `:`)
//! ```
//!
//! On FreeBSD it captures with bpf on `--port`, the host end of the jail's pair: the frames the
//! port sends toward the jail (only those the filter let through) and, for a RELEASE, those it
//! receives from the jail; it updates the tables with the commands of [`table_update`] (see
//! [`crate::learner::bsd`]).

use std::net::IpAddr;

use ioc_sdk::{HostOp, LearnSink, Mac};

use crate::render::Command;

/// The program a rendered learner command names; the host runs its own executable instead.
pub const IOC: &str = "ioc";
/// The hidden subcommand that runs a learner.
pub const LEARN: &str = "__learn";
pub const IPFW: &str = "/sbin/ipfw";
pub const PFCTL: &str = "/sbin/pfctl";

/// A `--sink` argument ioc cannot use on FreeBSD.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    #[error("invalid learner sink {0:?}: expected ipfw:TABLE4,TABLE6 or pf:ANCHOR:TABLE4,TABLE6")]
    Syntax(String),
    #[error("nftables sets do not exist on FreeBSD; the learner fills ipfw or pf tables there")]
    NotFreeBsd,
}

/// The `--sink` argument for `sink`.
pub fn sink_arg(sink: &LearnSink) -> Result<String, SinkError> {
    match sink {
        LearnSink::IpfwTables { table4, table6 } => Ok(format!("ipfw:{table4},{table6}")),
        LearnSink::PfTables {
            anchor,
            table4,
            table6,
        } => Ok(format!("pf:{anchor}:{table4},{table6}")),
        LearnSink::NftSets { .. } => Err(SinkError::NotFreeBsd),
    }
}

/// Reads a `--sink` argument back. Table names may hold neither `,` nor `:`; the anchor is
/// everything between `pf:` and the last `:`.
pub fn parse_sink(arg: &str) -> Result<LearnSink, SinkError> {
    let bad = || SinkError::Syntax(arg.to_string());
    let pair = |tables: &str| -> Result<(String, String), SinkError> {
        let (t4, t6) = tables.split_once(',').ok_or_else(bad)?;
        let valid = |t: &str| !t.is_empty() && !t.contains([',', ':']);
        if valid(t4) && valid(t6) {
            Ok((t4.to_string(), t6.to_string()))
        } else {
            Err(bad())
        }
    };
    if let Some(tables) = arg.strip_prefix("ipfw:") {
        let (t4, t6) = pair(tables)?;
        return Ok(LearnSink::IpfwTables {
            table4: t4.into(),
            table6: t6.into(),
        });
    }
    if let Some(rest) = arg.strip_prefix("pf:") {
        let (anchor, tables) = rest.rsplit_once(':').ok_or_else(bad)?;
        if anchor.is_empty() {
            return Err(bad());
        }
        let (t4, t6) = pair(tables)?;
        return Ok(LearnSink::PfTables {
            anchor: anchor.into(),
            table4: t4.into(),
            table6: t6.into(),
        });
    }
    Err(bad())
}

/// The learner a [`HostOp::LearnAddresses`] starts; `None` for any other op.
pub fn learner_command(op: &HostOp) -> Option<Result<Command, SinkError>> {
    let HostOp::LearnAddresses {
        port,
        mac,
        dhcp4,
        slaac,
        sink,
    } = op
    else {
        return None;
    };
    Some(learner_argv(port, *mac, *dhcp4, *slaac, sink).map(Command::new))
}

fn learner_argv(
    port: &str,
    mac: Mac,
    dhcp4: bool,
    slaac: bool,
    sink: &LearnSink,
) -> Result<Vec<String>, SinkError> {
    let mut argv: Vec<String> = [IOC, LEARN, "--port", port, "--mac"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.push(mac.to_string());
    if dhcp4 {
        argv.push("--dhcp4".into());
    }
    if slaac {
        argv.push("--slaac".into());
    }
    argv.extend(["--sink".to_string(), sink_arg(sink)?]);
    Ok(argv)
}

/// What the learner does to a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableChange {
    /// A lease or SLAAC address became valid.
    Add,
    /// It expired, was released or replaced.
    Delete,
}

/// The command that adds `address` to, or deletes it from, the sink's table of its family:
/// `ipfw -q table NAME add|delete ADDR` or `pfctl -a ANCHOR -t NAME -T add|delete ADDR`.
/// ipfw tables have no timeouts: the learner deletes an address when its lifetime ends.
pub fn table_update(
    sink: &LearnSink,
    change: TableChange,
    address: IpAddr,
) -> Result<Command, SinkError> {
    let verb = match change {
        TableChange::Add => "add",
        TableChange::Delete => "delete",
    };
    let address = address.to_string();
    let pick = |t4: &str, t6: &str| {
        if address.contains(':') {
            t6.to_string()
        } else {
            t4.to_string()
        }
    };
    match sink {
        LearnSink::IpfwTables { table4, table6 } => {
            let table = pick(table4, table6);
            Ok(Command::new([IPFW, "-q", "table", &table, verb, &address]))
        }
        LearnSink::PfTables {
            anchor,
            table4,
            table6,
        } => {
            let table = pick(table4, table6);
            Ok(Command::new([
                PFCTL, "-a", anchor, "-t", &table, "-T", verb, &address,
            ]))
        }
        LearnSink::NftSets { .. } => Err(SinkError::NotFreeBsd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipfw() -> LearnSink {
        LearnSink::IpfwTables {
            table4: "ioc-5-vnet0-lease4".into(),
            table6: "ioc-5-vnet0-slaac6".into(),
        }
    }

    fn pf() -> LearnSink {
        LearnSink::PfTables {
            anchor: "ioc/myjail:vnet0".into(),
            table4: "lease4".into(),
            table6: "slaac6".into(),
        }
    }

    #[test]
    fn sink_arguments_round_trip_with_colons_in_the_anchor() {
        assert_eq!(
            sink_arg(&ipfw()).unwrap(),
            "ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6"
        );
        assert_eq!(
            sink_arg(&pf()).unwrap(),
            "pf:ioc/myjail:vnet0:lease4,slaac6"
        );
        for sink in [ipfw(), pf()] {
            assert_eq!(parse_sink(&sink_arg(&sink).unwrap()), Ok(sink));
        }
        for bad in [
            "ipfw:a",
            "ipfw:a,",
            "ipfw:a,b,c",
            "pf:lease4,slaac6",
            "pf::a,b",
            "nft:x",
            "",
        ] {
            assert_eq!(parse_sink(bad), Err(SinkError::Syntax(bad.into())), "{bad}");
        }
        let nft = LearnSink::NftSets {
            family: ioc_sdk::NftFamily::Netdev,
            table: "ioc-vnet0.5".into(),
            set4: "lease4".into(),
            set6: "slaac6".into(),
        };
        assert_eq!(sink_arg(&nft), Err(SinkError::NotFreeBsd));
    }

    #[test]
    fn the_learner_command_line_names_port_mac_kinds_and_sink() {
        let op = HostOp::LearnAddresses {
            port: "vnet0:5".into(),
            mac: "02:ff:60:cb:49:49".parse().unwrap(),
            dhcp4: true,
            slaac: false,
            sink: ipfw(),
        };
        assert_eq!(
            learner_command(&op).unwrap().unwrap().shell_line(),
            "ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 --dhcp4 --sink ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6"
        );
        assert!(learner_command(&HostOp::LoopbackUp).is_none());
    }

    #[test]
    fn table_updates_pick_the_family_table() {
        let v4: IpAddr = "10.23.42.50".parse().unwrap();
        let v6: IpAddr = "2001:db8::ff:60ff:fecb:4949".parse().unwrap();
        let line =
            |sink: &LearnSink, change, a| table_update(sink, change, a).unwrap().shell_line();
        assert_eq!(
            line(&ipfw(), TableChange::Add, v4),
            "/sbin/ipfw -q table ioc-5-vnet0-lease4 add 10.23.42.50"
        );
        assert_eq!(
            line(&ipfw(), TableChange::Delete, v6),
            "/sbin/ipfw -q table ioc-5-vnet0-slaac6 delete 2001:db8::ff:60ff:fecb:4949"
        );
        assert_eq!(
            line(&pf(), TableChange::Add, v6),
            "/sbin/pfctl -a ioc/myjail:vnet0 -t slaac6 -T add 2001:db8::ff:60ff:fecb:4949"
        );
        assert_eq!(
            line(&pf(), TableChange::Delete, v4),
            "/sbin/pfctl -a ioc/myjail:vnet0 -t lease4 -T delete 10.23.42.50"
        );
    }
}
