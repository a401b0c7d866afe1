//! NAT for the `nat` network mode (issue 12): one ioc-owned table per NAT jail,
//! `ip ioc-nat-<jail>`, so a start or stop touches only that jail's rules and never a table
//! ioc does not own.
//!
//! - prerouting / output (`dstnat`): each forward to a local address of the host (`fib daddr
//!   type local`: the uplink's address, from outside, from other jails (hairpin) and from the
//!   host itself) goes to the jail end of its pair;
//! - postrouting (`srcnat`): the jail's /30 leaves through the uplink as the uplink's address.
//!
//! IPv4 forwarding is the mode's (`Host::enable_forwarding`), not the backend's.
//!
//! The script goes through `Host::nft_apply`; it moves to the typed `Host::nft_commit`
//! (issue 11, branch nft-ir) once its IR has NAT base chains and the `fib`, `nat` and `masq`
//! expressions.

use std::fmt::Write as _;

use ioc_sdk::{Error, Host, Jail, NatRequest, PortForward, Result};

/// The prefix of every table this module owns.
pub const TABLE_PREFIX: &str = "ioc-nat-";

/// The jail's NAT table.
pub fn table(jail: &str) -> String {
    format!("{TABLE_PREFIX}{jail}")
}

fn dnat_rules(out: &mut String, jail_addr: std::net::Ipv4Addr, forward: &PortForward) {
    let proto = forward.proto.as_str();
    let last = |first: u16| first.saturating_add(forward.count.saturating_sub(1));
    if forward.jail_port == forward.host_port {
        let (first, end) = (forward.host_port, last(forward.host_port));
        let ports = if first == end {
            first.to_string()
        } else {
            format!("{first}-{end}")
        };
        let _ = writeln!(
            out,
            "    fib daddr type local {proto} dport {ports} dnat to {jail_addr}"
        );
        return;
    }
    for i in 0..forward.count {
        let _ = writeln!(
            out,
            "    fib daddr type local {proto} dport {} dnat to {jail_addr}:{}",
            forward.host_port.saturating_add(i),
            forward.jail_port.saturating_add(i)
        );
    }
}

/// The script that (re)creates the jail's table from scratch, atomically.
pub fn install_script(request: &NatRequest, uplink: &str) -> String {
    let nat = &request.nat;
    let name = table(&request.jail);
    let mut dnat = String::new();
    for forward in nat.forwards() {
        dnat_rules(&mut dnat, nat.jail_address(), forward);
    }
    format!(
        "table ip {name} {{}}\n\
         delete table ip {name}\n\
         table ip {name} {{\n\
         \x20 chain prerouting {{\n\
         \x20   type nat hook prerouting priority dstnat; policy accept;\n\
         {dnat}\
         \x20 }}\n\
         \x20 chain output {{\n\
         \x20   type nat hook output priority -100; policy accept;\n\
         {dnat}\
         \x20 }}\n\
         \x20 chain postrouting {{\n\
         \x20   type nat hook postrouting priority srcnat; policy accept;\n\
         \x20   ip saddr {block} oifname \"{uplink}\" masquerade\n\
         \x20 }}\n\
         }}\n",
        block = nat.block(),
    )
}

/// The script that removes the jail's table (already gone is fine: it is created first).
pub fn remove_script(jail: &str) -> String {
    let name = table(jail);
    format!("table ip {name} {{}}\ndelete table ip {name}\n")
}

/// Installs the jail's NAT; see the module documentation.
pub fn install(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = request.nat.uplink().ok_or_else(|| {
        Error::new("property 'nat_interface': no uplink known; expected an interface name")
    })?;
    host.nft_apply(&install_script(request, uplink))
        .map_err(|e| {
            Error::new(format!(
                "install the NAT table of jail {}: {e}",
                request.jail
            ))
        })
}

/// Removes the jail's NAT table.
pub fn remove(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    host.nft_apply(&remove_script(&request.jail)).map_err(|e| {
        Error::new(format!(
            "remove the NAT table of jail {}: {e}",
            request.jail
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::{Nat, Protocol};

    fn request(forwards: Vec<PortForward>) -> NatRequest {
        NatRequest {
            jail: "web".into(),
            jid: 3,
            link: "vnet0.3".into(),
            nat: Nat::new(
                "172.16.0.4".parse().unwrap(),
                Some("up0"),
                forwards,
                "nftables",
            ),
        }
    }

    #[test]
    fn the_table_masquerades_the_block_and_forwards_each_port() {
        let script = install_script(
            &request(vec![
                PortForward {
                    proto: Protocol::Tcp,
                    jail_port: 80,
                    host_port: 8080,
                    count: 1,
                },
                PortForward {
                    proto: Protocol::Udp,
                    jail_port: 53,
                    host_port: 53,
                    count: 1,
                },
                PortForward {
                    proto: Protocol::Tcp,
                    jail_port: 8000,
                    host_port: 8000,
                    count: 11,
                },
            ]),
            "up0",
        );
        let expected = "table ip ioc-nat-web {}\n\
            delete table ip ioc-nat-web\n\
            table ip ioc-nat-web {\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    fib daddr type local tcp dport 8080 dnat to 172.16.0.6:80\n    fib daddr type local udp dport 53 dnat to 172.16.0.6\n    fib daddr type local tcp dport 8000-8010 dnat to 172.16.0.6\n  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n    fib daddr type local tcp dport 8080 dnat to 172.16.0.6:80\n    fib daddr type local udp dport 53 dnat to 172.16.0.6\n    fib daddr type local tcp dport 8000-8010 dnat to 172.16.0.6\n  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    ip saddr 172.16.0.4/30 oifname \"up0\" masquerade\n  }\n}\n";
        assert_eq!(script, expected);
    }

    #[test]
    fn a_shifted_range_is_forwarded_port_by_port() {
        let script = install_script(
            &request(vec![PortForward {
                proto: Protocol::Tcp,
                jail_port: 8000,
                host_port: 9000,
                count: 2,
            }]),
            "up0",
        );
        assert!(script.contains("tcp dport 9000 dnat to 172.16.0.6:8000\n"));
        assert!(script.contains("tcp dport 9001 dnat to 172.16.0.6:8001\n"));
    }
}
