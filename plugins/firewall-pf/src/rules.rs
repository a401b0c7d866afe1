//! The pf `ether` rules of one jail port, loaded into the port's own anchor.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use ioc_jail_bridge::JailBridge;
use ioc_sdk::{LearnSink, Mac, PortPolicy};

/// The anchor holding one jail NIC's rules: `ioc/<jail>:<nic>`. Neither jail nor NIC names
/// may contain `:`, so the name is unambiguous, and one anchor per NIC lets each NIC's rules be
/// loaded and flushed on their own. The admin's `pf.conf` reaches all of them with
/// `ether anchor "ioc/*"`.
pub fn anchor(policy: &PortPolicy) -> String {
    format!("ioc/{}:{}", policy.jail(), policy.nic())
}

/// The anchor's table of SLAAC addresses, filled by the host's learner
/// (`pfctl -a ANCHOR -t slaac6 -T add ADDR`). Table names are per anchor, so a short fixed
/// name is unique per jail NIC.
pub const SLAAC_TABLE: &str = "slaac6";
/// The anchor's table of DHCP leases. Named for the learner's sink; pf never fills it, as
/// DHCP is refused (see [`crate::check_learning`]).
pub const LEASE_TABLE: &str = "lease4";

/// Where the learner puts what it learns for this port.
pub fn sink(policy: &PortPolicy) -> LearnSink {
    LearnSink::PfTables {
        anchor: anchor(policy).into(),
        table4: LEASE_TABLE.into(),
        table6: SLAAC_TABLE.into(),
    }
}

const IPV4: &str = "proto 0x0800";
const ARP: &str = "proto 0x0806";
const IPV6: &str = "proto 0x86dd";

/// The anchor's rules, one per line. All are `quick`, so the first match decides, and each
/// direction ends with a block: whatever no rule lets through is dropped.
///
/// Frames from the jail leave the per-jail bridge through `vnet0:5:b`, frames to it through
/// `vnet0:5` (see [`ioc_jail_bridge`]); bridges run ether rules only on the way out, hence
/// `out` everywhere. Interface names are quoted because FreeBSD's contain `:`.
///
/// With SLAAC the anchor first declares its `slaac6` table (`persist`, so it stays while
/// empty), the IPv6 part is active even without a static IPv6 address (the link-local and
/// neighbour discovery), and IPv6 from and to an address in the table passes as from and to a
/// static one. Router advertisements toward the jail go to all-nodes, which an active IPv6
/// part lets in.
pub fn rules(policy: &PortPolicy, links: &JailBridge) -> String {
    let mac = policy.mac();
    let slaac = policy.learning().slaac;
    let from_jail = format!("ether pass out quick on \"{}\"", links.inner);
    let to_jail = format!("ether pass out quick on \"{}\"", links.port);
    let v4: Vec<IpAddr> = policy.ipv4().map(IpAddr::V4).collect();
    let mut v6: Vec<Ipv6Addr> = policy.ipv6().collect();
    if (!v6.is_empty() || slaac) && !v6.contains(&mac.link_local()) {
        v6.push(mac.link_local());
    }
    let mut s = String::new();
    if slaac {
        let _ = writeln!(s, "table <{SLAAC_TABLE}> persist");
    }
    for a in &v4 {
        let _ = writeln!(s, "{from_jail} {IPV4} from {mac} l3 from {a}");
    }
    if !v4.is_empty() {
        let _ = writeln!(s, "{from_jail} {ARP} from {mac}");
    }
    for a in &v6 {
        let _ = writeln!(s, "{from_jail} {IPV6} from {mac} l3 from {a}");
    }
    if slaac {
        let _ = writeln!(s, "{from_jail} {IPV6} from {mac} l3 from <{SLAAC_TABLE}>");
    }
    if !v6.is_empty() {
        // Duplicate address detection and early MLD reports come from `::`.
        let _ = writeln!(s, "{from_jail} {IPV6} from {mac} l3 from ::");
    }
    let _ = writeln!(s, "ether block out quick on \"{}\"", links.inner);
    for a in &v4 {
        let _ = writeln!(s, "{to_jail} {IPV4} to {mac} l3 to {a}");
    }
    if !v4.is_empty() {
        let _ = writeln!(s, "{to_jail} {ARP} to {mac}");
        let _ = writeln!(s, "{to_jail} {ARP} to ff:ff:ff:ff:ff:ff");
    }
    for a in &v6 {
        let _ = writeln!(s, "{to_jail} {IPV6} to {mac} l3 to {a}");
    }
    if slaac {
        let _ = writeln!(s, "{to_jail} {IPV6} to {mac} l3 to <{SLAAC_TABLE}>");
    }
    if !v6.is_empty() {
        let mut groups = vec![Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)];
        for a in &v6 {
            let g = ioc_sdk::solicited_node(a);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        for g in &groups {
            let _ = writeln!(
                s,
                "{to_jail} {IPV6} to {} l3 to {g}",
                Mac::ipv6_multicast(g)
            );
        }
    }
    let _ = writeln!(s, "ether block out quick on \"{}\"", links.port);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links_and_policy(addresses: &[&str]) -> (JailBridge, PortPolicy) {
        ioc_jail_bridge::fixtures::myjail("pf", addresses)
    }

    #[test]
    fn seed_jail_rules() {
        let (links, policy) = links_and_policy(&["10.23.42.2"]);
        assert_eq!(anchor(&policy), "ioc/myjail:vnet0");
        assert_eq!(
            rules(&policy, &links),
            "\
ether pass out quick on \"vnet0:5:b\" proto 0x0800 from 02:ff:60:cb:49:49 l3 from 10.23.42.2
ether pass out quick on \"vnet0:5:b\" proto 0x0806 from 02:ff:60:cb:49:49
ether block out quick on \"vnet0:5:b\"
ether pass out quick on \"vnet0:5\" proto 0x0800 to 02:ff:60:cb:49:49 l3 to 10.23.42.2
ether pass out quick on \"vnet0:5\" proto 0x0806 to 02:ff:60:cb:49:49
ether pass out quick on \"vnet0:5\" proto 0x0806 to ff:ff:ff:ff:ff:ff
ether block out quick on \"vnet0:5\"
"
        );
    }

    #[test]
    fn ipv6_only_jail_gets_no_ipv4_or_arp_and_its_nd_groups() {
        let (links, policy) = links_and_policy(&["2001:db8::2"]);
        let r = rules(&policy, &links);
        assert!(!r.contains("0x0800") && !r.contains("0x0806"), "{r}");
        for line in [
            "ether pass out quick on \"vnet0:5:b\" proto 0x86dd from 02:ff:60:cb:49:49 l3 from fe80::ff:60ff:fecb:4949",
            "ether pass out quick on \"vnet0:5:b\" proto 0x86dd from 02:ff:60:cb:49:49 l3 from ::",
            "ether pass out quick on \"vnet0:5\" proto 0x86dd to 33:33:00:00:00:01 l3 to ff02::1",
            "ether pass out quick on \"vnet0:5\" proto 0x86dd to 33:33:ff:00:00:02 l3 to ff02::1:ff00:2",
            "ether pass out quick on \"vnet0:5\" proto 0x86dd to 33:33:ff:cb:49:49 l3 to ff02::1:ffcb:4949",
        ] {
            assert!(r.lines().any(|l| l == line), "{line} missing:\n{r}");
        }
        assert!(r.ends_with("ether block out quick on \"vnet0:5\"\n"));
    }

    #[test]
    fn slaac_declares_its_table_and_opens_ipv6_for_the_link_local_and_the_table() {
        let (links, policy) = links_and_policy(&[]);
        let policy = policy.with_learning(ioc_sdk::PortLearning {
            dhcp4: false,
            slaac: true,
            dhcp_server: false,
        });
        let r = rules(&policy, &links);
        assert!(r.starts_with("table <slaac6> persist\n"), "{r}");
        assert!(!r.contains("0x0800") && !r.contains("0x0806"), "{r}");
        for line in [
            "ether pass out quick on \"vnet0:5:b\" proto 0x86dd from 02:ff:60:cb:49:49 l3 from fe80::ff:60ff:fecb:4949",
            "ether pass out quick on \"vnet0:5:b\" proto 0x86dd from 02:ff:60:cb:49:49 l3 from <slaac6>",
            "ether pass out quick on \"vnet0:5\" proto 0x86dd to 02:ff:60:cb:49:49 l3 to <slaac6>",
            "ether pass out quick on \"vnet0:5\" proto 0x86dd to 33:33:00:00:00:01 l3 to ff02::1",
        ] {
            assert!(r.lines().any(|l| l == line), "{line} missing:\n{r}");
        }
        assert_eq!(
            sink(&policy),
            LearnSink::PfTables {
                anchor: "ioc/myjail:vnet0".into(),
                table4: "lease4".into(),
                table6: "slaac6".into(),
            }
        );
    }

    #[test]
    fn a_jail_without_addresses_only_gets_blocks() {
        let (links, policy) = links_and_policy(&[]);
        assert_eq!(
            rules(&policy, &links),
            "ether block out quick on \"vnet0:5:b\"\nether block out quick on \"vnet0:5\"\n"
        );
    }
}
