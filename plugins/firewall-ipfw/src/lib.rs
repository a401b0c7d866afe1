//! The `ipfw` firewall backend (FreeBSD): Secure VNET as libioc builds it, a per-jail bridge
//! with ipfw `layer2` rules numbered 10000 + JID, plus the ARP and neighbour-discovery
//! filtering libioc lacked, as far as ipfw can express it.
//!
//! # Topology and order (seed jail `myjail`, JID 5)
//!
//! The network mode has made `vnet0:5` (host end of the jail's pair). Install then runs:
//!
//! ```text
//! /sbin/ifconfig epair create up                                   (-> epair1a)
//! /sbin/ifconfig epair1a mtu 1500 name vnet0:5:a up
//! /sbin/ifconfig epair1b mtu 1500 name vnet0:5:b up
//! /sbin/ipfw -q add 10005 ...                                      (the rules, see rules::rules)
//! /sbin/ifconfig bridge create name vnet0:5:net up
//! /sbin/ifconfig vnet0:5:net addm vnet0:5 addm vnet0:5:b up
//! /sbin/ifconfig bridge0 addm vnet0:5:a up
//! ```
//!
//! and removal, in libioc's order: destroy `vnet0:5`, `vnet0:5:a`, `vnet0:5:net`, then
//! `/sbin/ipfw -q delete 10005`.
//!
//! A port that learns addresses (`ip4_addr="vnet0|dhcp"`, `ip6_addr="vnet0|accept_rtadv"`)
//! also gets its tables, made before the rules (`/sbin/ipfw -q table ioc-5-vnet0-lease4 create
//! type addr or-flush`), and its learner, started after the rules and before the bridges (see
//! [`learn`]); removal destroys the tables after deleting the rules. The learner stops with
//! the jail (the FreeBSD host ends it when it removes the jail) and when its port is gone. Every step goes on past pieces already gone, so removal also
//! cleans up after an install that stopped halfway. See [`ioc_jail_bridge`] for why the second
//! bridge is needed.
//!
//! # Readiness
//!
//! libioc's three tunables, with its message ("IPFW is disabled: sysctl K is expected to be 1,
//! but was V"): `net.inet.ip.fw.enable`, `net.link.ether.ipfw`, `net.link.bridge.ipfw`. Then
//! `net.link.bridge.ipfw_arp`: without it the bridge passes every ARP frame without asking ipfw,
//! and the ARP rules below would never run.
//!
//! # What ipfw cannot express
//!
//! ipfw sees the Ethernet header (`MAC`, `mac-type`) and the IP header and ICMPv6 type, but not
//! the ARP payload nor the body of a neighbour-discovery message. So, unlike the nftables
//! backend, these stay open:
//!
//! - ARP sender MAC and sender IP: a jail can send ARP with its own Ethernet source but claim
//!   another address in the ARP body (ARP cache poisoning of the host and other jails remains
//!   possible); toward the jail, ARP for any target IP is let in.
//! - IPv6 neighbour advertisements: only their source address is checked, not the target
//!   address or the target link-layer option, so a jail can still advertise another address
//!   from one of its own.
//! - Solicitations' source link-layer option is not checked either.
//!
//! Router advertisements and redirects from the jail are dropped; other ethertypes are dropped
//! by the bridge itself (`net.link.bridge.pfil_onlyip`, on by default).

pub mod learn;
pub mod nat;
pub mod rules;

use ioc_jail_bridge::{all_or_errors, require_sysctl, JailBridge};
use ioc_sdk::{Error, Firewall, Host, Jail, NatRequest, Platform, PortPolicy, Result, Side};

/// The ipfw binary, as libioc runs it.
pub const IPFW: &str = "/sbin/ipfw";

/// `ipfw -q delete` of a number without rules exits with EX_UNAVAILABLE and says nothing.
const EX_UNAVAILABLE: i32 = 69;

/// The ipfw firewall backend.
#[derive(Default)]
pub struct Ipfw;

fn number(policy: &PortPolicy) -> Result<u32> {
    rules::rule_number(policy.jid()).ok_or_else(|| {
        Error::new(format!(
            "JID {} is too large for ipfw rule numbers (10000 + JID must stay below 65535)",
            policy.jid()
        ))
    })
}

/// `ipfw -q table NAME destroy`; a table already gone (ESRCH, "No such process") is not an
/// error, so removal also cleans up after an install that stopped before creating it.
fn destroy_table(host: &mut Host<'_>, table: &str) -> std::result::Result<(), String> {
    let argv = [IPFW, "-q", "table", table, "destroy"];
    match host.run(Side::Host, &argv, &[], None) {
        Ok(out) if out.status == 0 => Ok(()),
        Ok(out) if out.stderr.contains("No such") => Ok(()),
        Ok(out) => Err(format!(
            "`{}` exited with status {}: {}",
            argv.join(" "),
            out.status,
            out.stderr.trim()
        )),
        Err(e) => Err(format!("{}: {e}", argv.join(" "))),
    }
}

impl Firewall for Ipfw {
    fn check_ready(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        if jail.platform() != Platform::FreeBsd {
            return Err(Error::new(
                "ipfw exists only on FreeBSD; use firewall=nftables on Linux",
            ));
        }
        for key in [
            "net.inet.ip.fw.enable",
            "net.link.ether.ipfw",
            "net.link.bridge.ipfw",
        ] {
            require_sysctl(host, key, "IPFW is disabled", "")?;
        }
        require_sysctl(
            host,
            "net.link.bridge.ipfw_arp",
            "ARP filtering is disabled",
            "Secure VNET filters ARP with ipfw layer2 rules; add it to /etc/sysctl.conf",
        )
    }

    fn install(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let number = number(policy)?.to_string();
        let links = JailBridge::new(jail, policy);
        let (learning, tables) = (policy.learning(), learn::Tables::of(policy));
        links.create_pair(host)?;
        // The tables exist before the rules that name them, and the learner runs before any
        // frame crosses (the bridges come last).
        for table in learn::create_tables(&tables, learning) {
            let mut argv = vec![IPFW, "-q"];
            argv.extend(table.iter().map(String::as_str));
            host.run_checked(Side::Host, &argv, None)?;
        }
        for rule in rules::rules(policy, &links) {
            let mut argv = vec![IPFW, "-q", "add", &number];
            argv.extend(rule.iter().map(String::as_str));
            host.run_checked(Side::Host, &argv, None)?;
        }
        if learning.any() {
            host.learn_addresses(policy.port(), policy.mac(), learning, tables.sink())?;
        }
        links.connect(host)
    }

    fn remove(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let links = JailBridge::new(jail, policy);
        let mut errors = links.destroy(host);
        match number(policy) {
            Err(e) => errors.push(e.to_string()),
            Ok(number) => {
                let number = number.to_string();
                match host.run(Side::Host, &[IPFW, "-q", "delete", &number], &[], None) {
                    Ok(out) if out.status == 0 => {}
                    // Nothing under that number: already removed, or never added.
                    Ok(out) if out.status == EX_UNAVAILABLE && out.stderr.trim().is_empty() => {}
                    Ok(out) => errors.push(format!(
                        "`{IPFW} -q delete {number}` exited with status {}: {}",
                        out.status,
                        out.stderr.trim()
                    )),
                    Err(e) => errors.push(format!("{IPFW} -q delete {number}: {e}")),
                }
            }
        }
        // After the rules: ipfw refuses to destroy a table a rule still names.
        let tables = learn::Tables::of(policy);
        for table in tables.used(policy.learning()) {
            if let Err(e) = destroy_table(host, table) {
                errors.push(e);
            }
        }
        all_or_errors(errors)
    }

    fn install_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::install(jail, request, host)
    }

    fn remove_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::remove(jail, request, host)
    }
}

ioc_sdk::export_firewall! {
    name: "ipfw",
    description: "ipfw layer-2 rules on a per-jail bridge (FreeBSD)",
    backend: Ipfw,
    platforms: [Platform::FreeBsd],
}
