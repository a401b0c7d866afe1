//! NAT for the `nat` network mode (issue 12) with pf: `nat` and `rdr` rules in an anchor per
//! jail, `ioc-nat/<jail>`, as iocage writes them into pf.conf, so a start or stop touches only
//! that jail's rules. The main ruleset is the admin's; it must reference the anchors:
//!
//! ```text
//! nat-anchor "ioc-nat/*"
//! rdr-anchor "ioc-nat/*"
//! anchor "ioc-nat/*"
//! ```
//!
//! For the worked example (`nat_forwards='tcp(80:8080)'`, uplink `em0`, block 172.16.0.0/30):
//!
//! ```text
//! nat on "em0" inet from 172.16.0.0/30 to any -> ("em0")
//! rdr pass on "em0" inet proto tcp from any to ("em0") port 8080 -> 172.16.0.2 port 80
//! ```
//!
//! IPv4 forwarding (`net.inet.ip.forwarding`) is the mode's (`Host::enable_forwarding`).

use std::fmt::Write as _;

use ioc_sdk::{Error, Host, Jail, NatRequest, PortForward, Result, Side};

use crate::PFCTL;

/// The parent anchor of every NAT jail's anchor.
pub const PARENT: &str = "ioc-nat";

/// The jail's anchor.
pub fn anchor(jail: &str) -> String {
    format!("{PARENT}/{jail}")
}

fn ports(first: u16, count: u16) -> String {
    if count <= 1 {
        first.to_string()
    } else {
        format!("{first}:{}", first.saturating_add(count - 1))
    }
}

fn rdr(out: &mut String, uplink: &str, jail_addr: std::net::Ipv4Addr, f: &PortForward) {
    // pf maps a host port range onto the jail's range starting at its first port (`port N:*`).
    let target = if f.count <= 1 {
        format!(" port {}", f.jail_port)
    } else if f.jail_port == f.host_port {
        String::new()
    } else {
        format!(" port {}:*", f.jail_port)
    };
    let _ = writeln!(
        out,
        "rdr pass on \"{uplink}\" inet proto {} from any to (\"{uplink}\") port {} -> {jail_addr}{target}",
        f.proto.as_str(),
        ports(f.host_port, f.count),
    );
}

/// The anchor's rules.
pub fn rules(request: &NatRequest, uplink: &str) -> String {
    let nat = &request.nat;
    let mut out = format!(
        "nat on \"{uplink}\" inet from {} to any -> (\"{uplink}\")\n",
        nat.block()
    );
    for f in nat.forwards() {
        rdr(&mut out, uplink, nat.jail_address(), f);
    }
    out
}

/// Loads the jail's anchor.
pub fn install(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = request.nat.uplink().ok_or_else(|| {
        Error::new("property 'nat_interface': no uplink known; expected an interface name")
    })?;
    let anchor = anchor(&request.jail);
    host.run_checked(
        Side::Host,
        &[PFCTL, "-a", &anchor, "-f", "-"],
        Some(&rules(request, uplink)),
    )?;
    Ok(())
}

/// Flushes the jail's anchor (succeeds on an anchor that is empty or gone).
pub fn remove(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    host.run_checked(
        Side::Host,
        &[PFCTL, "-a", &anchor(&request.jail), "-F", "all"],
        None,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::{Nat, Protocol};

    #[test]
    fn nat_and_rdr_rules_follow_iocage() {
        let forward = |proto, jail_port, host_port, count| PortForward {
            proto,
            jail_port,
            host_port,
            count,
        };
        let request = NatRequest {
            jail: "web".into(),
            jid: 1,
            link: "vnet0:1".into(),
            nat: Nat::new(
                "172.16.0.0".parse().unwrap(),
                Some("em0"),
                vec![
                    forward(Protocol::Tcp, 80, 8080, 1),
                    forward(Protocol::Udp, 53, 53, 1),
                    forward(Protocol::Tcp, 8000, 9000, 11),
                    forward(Protocol::Tcp, 7000, 7000, 3),
                ],
                "pf",
            ),
        };
        assert_eq!(
            rules(&request, "em0"),
            "nat on \"em0\" inet from 172.16.0.0/30 to any -> (\"em0\")\n\
             rdr pass on \"em0\" inet proto tcp from any to (\"em0\") port 8080 -> 172.16.0.2 port 80\n\
             rdr pass on \"em0\" inet proto udp from any to (\"em0\") port 53 -> 172.16.0.2 port 53\n\
             rdr pass on \"em0\" inet proto tcp from any to (\"em0\") port 9000:9010 -> 172.16.0.2 port 8000:*\n\
             rdr pass on \"em0\" inet proto tcp from any to (\"em0\") port 7000:7002 -> 172.16.0.2\n"
        );
    }
}
