//! The nftables scripts the backend applies: the shared skeleton, one jail port's filter, and
//! its removal. Pure text generation, so every rule can be unit-tested without a kernel.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use ioc_sdk::{Mac, NftFamily, PortPolicy};

/// The table ioc owns, in the `bridge` family. Nothing outside it is ever touched.
pub const TABLE: &str = "bridge ioc";
/// [`TABLE`]'s family.
pub const FAMILY: NftFamily = NftFamily::Bridge;
/// [`TABLE`]'s name.
pub const TABLE_NAME: &str = "ioc";
/// Verdict map: jail port name -> `goto` that port's from-jail chain.
pub const FROM_MAP: &str = "from_port";
/// Verdict map: jail port name -> `goto` that port's to-jail chain.
pub const TO_MAP: &str = "to_port";

/// The table, both verdict maps and the two base chains that dispatch on them.
///
/// `prerouting` sees every frame a port hands to the bridge, before the bridge learns its
/// source MAC or decides where it goes: a spoofed frame dropped there cannot poison the
/// forwarding database, whether it was meant for another port or for the host itself.
/// `postrouting` sees every frame the bridge sends out of a port, forwarded or sent by the host.
///
/// Every statement is idempotent (`add` of what exists is a no-op), except the dispatch rules,
/// which would pile up: each base chain is flushed and given its one rule again, inside the same
/// atomic transaction, so packets never see a chain without it. The per-jail work stays constant:
/// other jails' chains and map elements are neither read nor rewritten.
pub fn skeleton() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "add table {TABLE}");
    for map in [FROM_MAP, TO_MAP] {
        let _ = writeln!(s, "add map {TABLE} {map} {{ type ifname : verdict; }}");
    }
    for (chain, key, map) in [
        ("prerouting", "iifname", FROM_MAP),
        ("postrouting", "oifname", TO_MAP),
    ] {
        let _ = writeln!(
            s,
            "add chain {TABLE} {chain} {{ type filter hook {chain} priority filter; policy accept; }}"
        );
        let _ = writeln!(s, "flush chain {TABLE} {chain}");
        let _ = writeln!(s, "add rule {TABLE} {chain} {key} vmap @{map}");
    }
    s
}

/// A chain whose existence the backend asks the host about (`Host::nft_chain_exists`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainProbe {
    /// The table's family.
    pub family: NftFamily,
    /// The table's name.
    pub table: &'static str,
    /// The chain's name.
    pub chain: &'static str,
}

/// The two base chains, asked about one each. Both exist once a start has put the skeleton in
/// place, which also proves that this kernel filters bridge ports with nftables.
///
/// Asking is what lets a start leave the skeleton alone. Re-adding a base chain that exists,
/// or replacing its dispatch rule, is a change the kernel finishes only after an RCU grace
/// period, and the `ioc` process then waits for it when it closes its nftables socket: 10 ms
/// and more per start. A transaction that only adds new chains, rules and elements does not
/// wait. (A dry run always does, so these are existence queries, one cheap netlink request
/// each, not `nft --check`s.)
pub fn probes() -> [ChainProbe; 2] {
    ["prerouting", "postrouting"].map(|chain| ChainProbe {
        family: FAMILY,
        table: TABLE_NAME,
        chain,
    })
}

/// The chains of one port: frames from the jail, frames toward the jail.
pub fn chains(port: &str) -> (String, String) {
    (format!("from-{port}"), format!("to-{port}"))
}

/// A port name that cannot go into an nftables script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPortName(pub String);

impl std::fmt::Display for BadPortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "port name {:?} cannot be used in an nftables rule (expected at most 15 letters, digits, '.', '-' or '_')",
            self.0
        )
    }
}

impl std::error::Error for BadPortName {}

/// Port names go into the script unquoted (nft 1.0.6 takes no quoted chain names), so only the
/// characters of ioc's own link names are accepted; anything else could change the script.
pub fn check_port(port: &str) -> Result<(), BadPortName> {
    let ok = !port.is_empty()
        && port.len() <= 15
        && port
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(BadPortName(port.to_string()))
    }
}

/// The addresses one port may use, deduplicated in the order given.
struct Whitelist {
    mac: Mac,
    v4: Vec<Ipv4Addr>,
    /// The jail's IPv6 addresses plus its EUI-64 link-local; empty when it has no IPv6 address.
    v6: Vec<Ipv6Addr>,
}

impl Whitelist {
    fn new(policy: &PortPolicy) -> Whitelist {
        let mut v4: Vec<Ipv4Addr> = Vec::new();
        for a in policy.ipv4() {
            if !v4.contains(&a) {
                v4.push(a);
            }
        }
        let mut v6: Vec<Ipv6Addr> = Vec::new();
        let link_local = policy.mac().link_local();
        for a in policy.ipv6().chain(std::iter::once(link_local)) {
            if !v6.contains(&a) {
                v6.push(a);
            }
        }
        // No IPv6 address: no IPv6 at all, not even link-local.
        if policy.ipv6().next().is_none() {
            v6.clear();
        }
        Whitelist {
            mac: policy.mac(),
            v4,
            v6,
        }
    }
}

/// An IPv6 address as the 128-bit number a raw payload match compares with.
fn hex128(a: &Ipv6Addr) -> String {
    format!("0x{:032x}", u128::from(*a))
}

fn hex48(mac: Mac) -> String {
    format!("0x{:012x}", mac.to_u64())
}

/// Drops frames that carry an 802.1Q or 802.1ad VLAN tag, in either direction.
///
/// They need a rule of their own: Linux takes a tag off a frame when it enters a port and keeps
/// it beside the frame, and `ip`, `ip6`, `icmpv6` and `arp` matches check the protocol the
/// kernel recorded (`meta protocol`), which is then the inner one. Without these rules a tagged
/// frame with the jail's own MAC and address passed both chains, letting a jail talk into (and
/// be reached from) any VLAN on a trunk behind the bridge. `ether type` reads the frame as it
/// was on the wire, tag included. Two rules rather than one with a set: see [`none_of`].
const VLAN_DROPS: [&str; 2] = ["ether type 8021q drop", "ether type 8021ad drop"];

/// The ARP header of Ethernet/IPv4 ARP, the only kind a jail has any use for.
const ARP_ETHER_IPV4: &str = "arp htype 1 arp ptype ip arp hlen 6 arp plen 4";

/// ND rules read the ICMPv6 message at fixed offsets (`@th,BIT,LEN`), which is only sound when
/// ICMPv6 directly follows the IPv6 header: then `ip6 length` is the message's length. ND never
/// carries extension headers in practice; ND messages that do are dropped.
const ND_PLAIN: &str = "ip6 nexthdr ipv6-icmp";

/// The option right after an NS/NA's target address (byte 24): its type, a length of one unit
/// (8 bytes), then a 6-byte link-layer address. Type 1 = source link-layer address, 2 = target
/// link-layer address, 14 = DAD nonce.
fn option(kind: u8) -> String {
    format!("@th,192,16 0x{kind:02x}01")
}

/// The link-layer address carried in that option.
fn option_mac(mac: Mac) -> String {
    format!("@th,208,48 {}", hex48(mac))
}

/// `ip6 saddr != A ip6 saddr != B ...`: matches a source outside `allowed`.
///
/// The rules use no anonymous sets (`{ A, B }`) on purpose: libnftables 1.0.6 dumps the header
/// of every set in the ruleset before each transaction that adds rules, so each set left in the
/// kernel would make every later jail start slower. Chains of comparisons cost nothing there.
fn none_of(field: &str, allowed: &[String]) -> String {
    allowed
        .iter()
        .map(|a| format!("{field} != {a}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rules of the from-jail chain, in order. The chain is entered by `goto`, so it must end
/// with its own verdict: the base chain's policy would accept whatever falls through.
fn from_jail(w: &Whitelist) -> Vec<String> {
    let mac = w.mac;
    let mut rules = vec![format!("ether saddr != {mac} drop")];
    rules.extend(VLAN_DROPS.map(String::from));
    for a in &w.v4 {
        rules.push(format!("ip saddr {a} accept"));
    }
    for a in &w.v4 {
        rules.push(format!(
            "{ARP_ETHER_IPV4} arp operation 1-2 arp saddr ether {mac} arp saddr ip {a} accept"
        ));
    }
    if !w.v6.is_empty() {
        let ns = "icmpv6 type nd-neighbor-solicit";
        let na = "icmpv6 type nd-neighbor-advert";
        rules.push("icmpv6 type nd-router-advert drop".into());
        rules.push("icmpv6 type nd-redirect drop".into());
        // From here on an IPv6 source is one of the jail's addresses or `::`.
        let mut sources: Vec<String> = w.v6.iter().map(|a| a.to_string()).collect();
        sources.push("::".into());
        rules.push(format!("{} drop", none_of("ip6 saddr", &sources)));
        // `::` is only for duplicate address detection of the jail's own addresses (NS with no
        // option or a nonce) and for the MLD reports the kernel sends meanwhile.
        for t in &w.v6 {
            let target = format!("@th,64,128 {}", hex128(t));
            rules.push(format!(
                "ip6 saddr :: {ND_PLAIN} ip6 length 24 {ns} {target} accept"
            ));
            rules.push(format!(
                "ip6 saddr :: {ND_PLAIN} ip6 length 32 {ns} {target} {} accept",
                option(14)
            ));
        }
        rules.push("ip6 saddr :: icmpv6 type 131-132 accept".into());
        rules.push("ip6 saddr :: icmpv6 type mld2-listener-report accept".into());
        rules.push("ip6 saddr :: drop".into());
        // Own source: any solicitation, but a source link-layer option must be the jail's MAC.
        rules.push(format!("{ND_PLAIN} ip6 length 24 {ns} accept"));
        rules.push(format!(
            "{ND_PLAIN} ip6 length 32 {ns} {} {} accept",
            option(1),
            option_mac(mac)
        ));
        // Advertisements only for the jail's own addresses, with its own MAC if any.
        for t in &w.v6 {
            let target = format!("@th,64,128 {}", hex128(t));
            rules.push(format!("{ND_PLAIN} ip6 length 24 {na} {target} accept"));
            rules.push(format!(
                "{ND_PLAIN} ip6 length 32 {na} {target} {} {} accept",
                option(2),
                option_mac(mac)
            ));
        }
        rules.push("icmpv6 type 135-136 drop".into());
        rules.push("ether type ip6 accept".into());
    }
    rules.push("drop".into());
    rules
}

/// The rules of the to-jail chain, in order.
fn to_jail(w: &Whitelist) -> Vec<String> {
    let mac = w.mac;
    let mut rules: Vec<String> = VLAN_DROPS.map(String::from).into();
    for a in &w.v4 {
        rules.push(format!("ether daddr {mac} ip daddr {a} accept"));
    }
    for a in &w.v4 {
        for dst in [mac.to_string(), "ff:ff:ff:ff:ff:ff".into()] {
            rules.push(format!(
                "ether daddr {dst} {ARP_ETHER_IPV4} arp daddr ip {a} accept"
            ));
        }
    }
    for a in &w.v6 {
        rules.push(format!("ether daddr {mac} ip6 daddr {a} accept"));
    }
    if !w.v6.is_empty() {
        let mut groups = vec![Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)];
        for a in &w.v6 {
            let g = ioc_sdk::solicited_node(a);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        for g in &groups {
            let to = format!("ether daddr {} ip6 daddr {g}", Mac::ipv6_multicast(g));
            rules.push(format!("{to} icmpv6 type 135-136 accept"));
            rules.push(format!("{to} icmpv6 type mld-listener-query accept"));
        }
    }
    rules.push("drop".into());
    rules
}

/// The whole install transaction for one port: the skeleton, then [`install_port`]. For the
/// first start in a network namespace, or when the skeleton is damaged (a [`probes`] read fails).
pub fn install(policy: &PortPolicy) -> Result<String, BadPortName> {
    Ok(skeleton() + &install_port(policy)?)
}

/// The port's own part of the install, for a table whose skeleton is in place: its two chains
/// (flushed first, so a leftover of a crashed start is replaced, not appended to), then the
/// map elements that switch filtering on for the port, last. Only additions, so the kernel
/// commits it without waiting (see [`probes`]); it fails as a whole where the maps are missing.
pub fn install_port(policy: &PortPolicy) -> Result<String, BadPortName> {
    let port = policy.port();
    check_port(port)?;
    let w = Whitelist::new(policy);
    let (from, to) = chains(port);
    let mut s = String::new();
    for (chain, rules) in [(&from, from_jail(&w)), (&to, to_jail(&w))] {
        let _ = writeln!(s, "add chain {TABLE} {chain}");
        let _ = writeln!(s, "flush chain {TABLE} {chain}");
        for rule in rules {
            let _ = writeln!(s, "add rule {TABLE} {chain} {rule}");
        }
    }
    let _ = writeln!(
        s,
        "add element {TABLE} {FROM_MAP} {{ \"{port}\" : goto {from} }}"
    );
    let _ = writeln!(
        s,
        "add element {TABLE} {TO_MAP} {{ \"{port}\" : goto {to} }}"
    );
    Ok(s)
}

/// The removal transaction for one port: its map elements, then its chains.
///
/// nft 1.0.6 has no "delete if present" (`destroy` came in 1.0.8), and a transaction that deletes
/// something absent fails as a whole. So each piece is first added (a no-op when it exists) and
/// then deleted: the script succeeds whether install ran fully or not at all (a transaction
/// never leaves a half), and it is safe to run twice. Only the table and the two empty maps can
/// be left behind, which the next install reuses.
pub fn remove(port: &str) -> Result<String, BadPortName> {
    check_port(port)?;
    let (from, to) = chains(port);
    let mut s = String::new();
    let _ = writeln!(s, "add table {TABLE}");
    for map in [FROM_MAP, TO_MAP] {
        let _ = writeln!(s, "add map {TABLE} {map} {{ type ifname : verdict; }}");
    }
    for (map, chain) in [(FROM_MAP, &from), (TO_MAP, &to)] {
        let _ = writeln!(s, "add chain {TABLE} {chain}");
        let _ = writeln!(
            s,
            "add element {TABLE} {map} {{ \"{port}\" : goto {chain} }}"
        );
    }
    for (map, chain) in [(FROM_MAP, &from), (TO_MAP, &to)] {
        let _ = writeln!(s, "delete element {TABLE} {map} {{ \"{port}\" }}");
        let _ = writeln!(s, "flush chain {TABLE} {chain}");
        let _ = writeln!(s, "delete chain {TABLE} {chain}");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn policy(addresses: &[&str]) -> PortPolicy {
        PortPolicy::new(
            "myjail",
            5,
            "vnet0",
            "vnet0.5",
            "bridge0",
            "02:ff:60:cb:49:49".parse().unwrap(),
            addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
            Some(1500),
        )
    }

    fn rules<'s>(script: &'s str, chain: &str) -> Vec<&'s str> {
        let prefix = format!("add rule bridge ioc {chain} ");
        script
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .collect()
    }

    #[test]
    fn seed_jail_gets_exactly_this_filter() {
        let script = install(&policy(&["10.23.42.2"])).unwrap();
        let want = "\
add table bridge ioc
add map bridge ioc from_port { type ifname : verdict; }
add map bridge ioc to_port { type ifname : verdict; }
add chain bridge ioc prerouting { type filter hook prerouting priority filter; policy accept; }
flush chain bridge ioc prerouting
add rule bridge ioc prerouting iifname vmap @from_port
add chain bridge ioc postrouting { type filter hook postrouting priority filter; policy accept; }
flush chain bridge ioc postrouting
add rule bridge ioc postrouting oifname vmap @to_port
add chain bridge ioc from-vnet0.5
flush chain bridge ioc from-vnet0.5
add rule bridge ioc from-vnet0.5 ether saddr != 02:ff:60:cb:49:49 drop
add rule bridge ioc from-vnet0.5 ether type 8021q drop
add rule bridge ioc from-vnet0.5 ether type 8021ad drop
add rule bridge ioc from-vnet0.5 ip saddr 10.23.42.2 accept
add rule bridge ioc from-vnet0.5 arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp operation 1-2 arp saddr ether 02:ff:60:cb:49:49 arp saddr ip 10.23.42.2 accept
add rule bridge ioc from-vnet0.5 drop
add chain bridge ioc to-vnet0.5
flush chain bridge ioc to-vnet0.5
add rule bridge ioc to-vnet0.5 ether type 8021q drop
add rule bridge ioc to-vnet0.5 ether type 8021ad drop
add rule bridge ioc to-vnet0.5 ether daddr 02:ff:60:cb:49:49 ip daddr 10.23.42.2 accept
add rule bridge ioc to-vnet0.5 ether daddr 02:ff:60:cb:49:49 arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 10.23.42.2 accept
add rule bridge ioc to-vnet0.5 ether daddr ff:ff:ff:ff:ff:ff arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 10.23.42.2 accept
add rule bridge ioc to-vnet0.5 drop
add element bridge ioc from_port { \"vnet0.5\" : goto from-vnet0.5 }
add element bridge ioc to_port { \"vnet0.5\" : goto to-vnet0.5 }
";
        assert_eq!(script, want);
    }

    #[test]
    fn ipv6_jail_gets_nd_rules_for_its_addresses_and_link_local() {
        let script = install(&policy(&["2001:db8::2"])).unwrap();
        let from = rules(&script, "from-vnet0.5");
        let to = rules(&script, "to-vnet0.5");
        assert!(
            !script.contains("ip saddr"),
            "no IPv4 without an IPv4 address:\n{script}"
        );
        assert!(
            !script.contains("arp "),
            "no ARP without an IPv4 address:\n{script}"
        );
        for rule in from.iter().chain(&to) {
            assert!(!rule.contains('{'), "no anonymous sets: {rule}");
        }
        let at = |needle: &str| {
            from.iter()
                .position(|r| r.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing:\n{}", from.join("\n")))
        };
        // Router advertisements and redirects never leave the jail.
        assert!(at("nd-router-advert drop") < at("ip6 saddr != 2001:db8::2"));
        assert!(at("nd-redirect drop") < at("ip6 saddr != 2001:db8::2"));
        // Sources: its address, its EUI-64 link-local, or :: (for DAD and MLD only).
        assert!(from.contains(
            &"ip6 saddr != 2001:db8::2 ip6 saddr != fe80::ff:60ff:fecb:4949 ip6 saddr != :: drop"
        ));
        assert!(at("ip6 saddr :: drop") > at("ip6 saddr :: ip6 nexthdr ipv6-icmp"));
        // NA: target one of its addresses; the target link-layer option (type 2) its MAC.
        for target in [
            "0x20010db8000000000000000000000002",
            "0xfe8000000000000000ff60fffecb4949",
        ] {
            assert!(from.contains(&format!(
                "ip6 nexthdr ipv6-icmp ip6 length 32 icmpv6 type nd-neighbor-advert @th,64,128 {target} @th,192,16 0x0201 @th,208,48 0x02ff60cb4949 accept"
            ).as_str()));
            assert!(from.contains(&format!(
                "ip6 saddr :: ip6 nexthdr ipv6-icmp ip6 length 24 icmpv6 type nd-neighbor-solicit @th,64,128 {target} accept"
            ).as_str()));
        }
        // Any other NS/NA is dropped before the catch-all accept.
        assert!(at("icmpv6 type 135-136 drop") < at("ether type ip6 accept"));
        assert_eq!(from.last(), Some(&"drop"));
        // Toward the jail: its unicast addresses, all-nodes and its solicited-node groups.
        for rule in [
            "ether daddr 02:ff:60:cb:49:49 ip6 daddr 2001:db8::2 accept",
            "ether daddr 02:ff:60:cb:49:49 ip6 daddr fe80::ff:60ff:fecb:4949 accept",
            "ether daddr 33:33:00:00:00:01 ip6 daddr ff02::1 icmpv6 type 135-136 accept",
            "ether daddr 33:33:ff:00:00:02 ip6 daddr ff02::1:ff00:2 icmpv6 type 135-136 accept",
            "ether daddr 33:33:ff:cb:49:49 ip6 daddr ff02::1:ffcb:4949 icmpv6 type mld-listener-query accept",
        ] {
            assert!(to.contains(&rule), "{rule} missing:\n{}", to.join("\n"));
        }
        assert_eq!(to.last(), Some(&"drop"));
    }

    #[test]
    fn a_jail_without_addresses_is_cut_off() {
        let w = Whitelist::new(&policy(&[]));
        assert_eq!(
            from_jail(&w),
            [
                "ether saddr != 02:ff:60:cb:49:49 drop",
                "ether type 8021q drop",
                "ether type 8021ad drop",
                "drop"
            ]
        );
        assert_eq!(
            to_jail(&w),
            ["ether type 8021q drop", "ether type 8021ad drop", "drop"]
        );
    }

    #[test]
    fn duplicate_addresses_are_listed_once() {
        let script = install(&policy(&[
            "10.23.42.2",
            "10.23.42.2",
            "fe80::ff:60ff:fecb:4949",
        ]))
        .unwrap();
        assert_eq!(
            script.matches("ip saddr 10.23.42.2 accept").count(),
            1,
            "{script}"
        );
        assert!(
            script.contains("ip6 saddr != fe80::ff:60ff:fecb:4949 ip6 saddr != :: drop"),
            "{script}"
        );
    }

    #[test]
    fn the_port_part_only_adds_and_leaves_the_base_chains_alone() {
        let policy = policy(&["10.23.42.2", "2001:db8::2"]);
        let full = install(&policy).unwrap();
        let port = install_port(&policy).unwrap();
        assert_eq!(full, skeleton() + &port);
        for line in port.lines() {
            assert!(
                line.starts_with("add ")
                    || line.starts_with("flush chain bridge ioc from-")
                    || line.starts_with("flush chain bridge ioc to-"),
                "{line}"
            );
            assert!(
                !line.contains("prerouting") && !line.contains("postrouting"),
                "{line}"
            );
        }
        let probed: Vec<_> = probes()
            .iter()
            .map(|p| format!("{} {} {}", p.family, p.table, p.chain))
            .collect();
        assert_eq!(probed, ["bridge ioc prerouting", "bridge ioc postrouting"]);
        assert_eq!(format!("{FAMILY} {TABLE_NAME}"), TABLE);
    }

    #[test]
    fn removal_touches_only_this_port() {
        let script = remove("vnet0.5").unwrap();
        for line in script.lines() {
            assert!(
                line.starts_with("add table bridge ioc")
                    || line.starts_with("add map bridge ioc")
                    || line.contains("vnet0.5"),
                "{line}"
            );
            assert!(
                !line.starts_with("delete table") && !line.starts_with("flush table"),
                "{line}"
            );
        }
        assert!(script.contains("delete element bridge ioc from_port { \"vnet0.5\" }"));
        assert!(script.contains("delete chain bridge ioc to-vnet0.5"));
    }

    #[test]
    fn port_names_cannot_inject_nft_syntax() {
        for bad in [
            "",
            "a b",
            "x\"; flush ruleset",
            "a{b}",
            "averyveryverylongname",
        ] {
            assert!(check_port(bad).is_err(), "{bad}");
            assert!(remove(bad).is_err(), "{bad}");
        }
        assert!(check_port("vnet0.5").is_ok());
        assert!(check_port("i0123456789abcd").is_ok());
    }
}
