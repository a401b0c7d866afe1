//! NAT for the `nat` network mode (issue 12) with ipfw: one in-kernel `ipfw nat` instance per
//! jail, numbered by its JID, and its rules under one number, 20000 + JID, so a start or stop
//! touches only that jail's instance and rules. For the worked example (JID 5, uplink `em0`,
//! block 172.16.0.4/30, `nat_forwards='tcp(80:8080)'`):
//!
//! ```text
//! /sbin/ipfw -q nat 5 config if em0 same_ports reset port_range 41000-41249 redirect_port tcp 172.16.0.6:80 8080
//! /sbin/ipfw -q add 20005 nat 5 ip4 from 172.16.0.4/30 to any out via em0
//! /sbin/ipfw -q add 20005 nat 5 tcp from any to me 8080 in via em0
//! /sbin/ipfw -q add 20005 nat 5 tcp from any to me 41000-41249 in via em0
//! /sbin/ipfw -q add 20005 nat 5 udp from any to me 41000-41249 in via em0
//! ```
//!
//! Several instances share the uplink's address, so incoming packets are handed to the right
//! instance by port: the forwards' host ports, and for answers to the jail's own connections a
//! range of alias ports of its own (`port_range`, 250 ports from 40000 + 250 x ((JID - 1) mod
//! 100)). Limits of this design: at most 100 NAT jails with distinct ranges at once, and ICMP
//! answers (ping) cannot be told apart by port, so they reach no jail; the pf backend has
//! neither limit. Removal: `ipfw -q delete 20005`, then `ipfw -q nat 5 delete`.

use ioc_sdk::{Error, Host, Jail, NatRequest, Result, Side};

use crate::{EX_UNAVAILABLE, IPFW};

/// NAT rules are numbered from here (secure VNET uses 10000 + JID).
pub const NAT_RULE_OFFSET: u32 = 20000;
const PORT_BASE: u32 = 40000;
const PORTS_PER_JAIL: u32 = 250;
const RANGES: u32 = 100;

/// The rule number of the jail's NAT rules.
pub fn rule_number(jid: u32) -> Option<u32> {
    NAT_RULE_OFFSET
        .checked_add(jid)
        .filter(|n| *n <= crate::rules::LAST_RULE)
}

/// The jail's own alias port range, `(first, last)`.
pub fn port_range(jid: u32) -> (u32, u32) {
    let first = PORT_BASE + PORTS_PER_JAIL * (jid.saturating_sub(1) % RANGES);
    (first, first + PORTS_PER_JAIL - 1)
}

/// The commands that install the jail's NAT, each an argv after `/sbin/ipfw -q`.
pub fn commands(request: &NatRequest, uplink: &str) -> Result<Vec<Vec<String>>> {
    let jid = request.jid;
    let number = rule_number(jid)
        .ok_or_else(|| Error::new(format!("JID {jid} is too large for ipfw NAT rule numbers")))?
        .to_string();
    let nat = &request.nat;
    let (first, last) = port_range(jid);
    let range = format!("{first}-{last}");
    let mut config: Vec<String> = ["nat", &jid.to_string(), "config", "if", uplink]
        .iter()
        .map(|s| s.to_string())
        .collect();
    config.extend(["same_ports", "reset", "port_range", &range].map(String::from));
    let mut inbound = Vec::new();
    for f in nat.forwards() {
        for i in 0..f.count {
            config.extend([
                "redirect_port".to_string(),
                f.proto.as_str().to_string(),
                format!("{}:{}", nat.jail_address(), f.jail_port.saturating_add(i)),
                f.host_port.saturating_add(i).to_string(),
            ]);
        }
        let ports = if f.count <= 1 {
            f.host_port.to_string()
        } else {
            format!(
                "{}-{}",
                f.host_port,
                f.host_port.saturating_add(f.count - 1)
            )
        };
        inbound.push((f.proto.as_str().to_string(), ports));
    }
    inbound.push(("tcp".into(), range.clone()));
    inbound.push(("udp".into(), range));
    let rule = |words: &[&str]| -> Vec<String> {
        ["add", &number, "nat", &jid.to_string()]
            .iter()
            .chain(words)
            .map(|s| s.to_string())
            .collect()
    };
    let mut commands = vec![config];
    commands.push(rule(&[
        "ip4",
        "from",
        &nat.block().to_string(),
        "to",
        "any",
        "out",
        "via",
        uplink,
    ]));
    for (proto, ports) in &inbound {
        commands.push(rule(&[
            proto, "from", "any", "to", "me", ports, "in", "via", uplink,
        ]));
    }
    Ok(commands)
}

/// Configures the jail's instance and adds its rules.
pub fn install(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = request.nat.uplink().ok_or_else(|| {
        Error::new("property 'nat_interface': no uplink known; expected an interface name")
    })?;
    for command in commands(request, uplink)? {
        let mut argv = vec![IPFW, "-q"];
        argv.extend(command.iter().map(String::as_str));
        host.run_checked(Side::Host, &argv, None)?;
    }
    Ok(())
}

/// Deletes the jail's rules, then its instance; either may already be gone.
pub fn remove(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let jid = request.jid.to_string();
    let mut errors = Vec::new();
    let number = rule_number(request.jid).map(|n| n.to_string());
    let deletes: Vec<Vec<&str>> = number
        .iter()
        .map(|n| vec![IPFW, "-q", "delete", n.as_str()])
        .chain([vec![IPFW, "-q", "nat", jid.as_str(), "delete"]])
        .collect();
    for argv in deletes {
        match host.run(Side::Host, &argv, &[], None) {
            Ok(out) if out.status == 0 => {}
            Ok(out) if out.status == EX_UNAVAILABLE || out.stderr.contains("not found") => {}
            Ok(out) => errors.push(format!(
                "`{}` exited with status {}: {}",
                argv.join(" "),
                out.status,
                out.stderr.trim()
            )),
            Err(e) => errors.push(format!("{}: {e}", argv.join(" "))),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::new(errors.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::{Nat, PortForward, Protocol};

    #[test]
    fn one_instance_per_jail_numbered_by_its_jid() {
        let request = NatRequest {
            jail: "web".into(),
            jid: 5,
            link: "vnet0:5".into(),
            nat: Nat::new(
                "172.16.0.4".parse().unwrap(),
                Some("em0"),
                vec![PortForward {
                    proto: Protocol::Tcp,
                    jail_port: 80,
                    host_port: 8080,
                    count: 1,
                }],
                "ipfw",
            ),
        };
        let lines: Vec<String> = commands(&request, "em0")
            .unwrap()
            .iter()
            .map(|c| c.join(" "))
            .collect();
        assert_eq!(
            lines,
            [
                "nat 5 config if em0 same_ports reset port_range 41000-41249 redirect_port tcp 172.16.0.6:80 8080",
                "add 20005 nat 5 ip4 from 172.16.0.4/30 to any out via em0",
                "add 20005 nat 5 tcp from any to me 8080 in via em0",
                "add 20005 nat 5 tcp from any to me 41000-41249 in via em0",
                "add 20005 nat 5 udp from any to me 41000-41249 in via em0",
            ]
        );
        assert_eq!(port_range(1), (40000, 40249));
        assert_eq!(port_range(101), (40000, 40249));
    }
}
