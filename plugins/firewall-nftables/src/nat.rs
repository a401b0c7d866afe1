//! NAT for the `nat` network mode (issue 12): one ioc-owned table shared by every NAT jail,
//! `ip ioc-nat`, whose fixed chains look the jail up in maps, so that a start adds elements
//! and a stop deletes exactly its own, whatever the number of NAT jails:
//!
//! ```text
//! table ip ioc-nat {
//!     map forward_tcp { type inet_service : ipv4_addr . inet_service; }  host port -> jail:port
//!     map forward_udp { type inet_service : ipv4_addr . inet_service; }
//!     set masq_out    { type ipv4_addr . ifname; }                       jail address . uplink
//!     chain prerouting  { type nat hook prerouting priority -100; ... }  dnat of the forwards
//!     chain output      { type nat hook output priority -100; ... }      the same, from the host
//!     chain postrouting { type nat hook postrouting priority 100;
//!                         ip saddr . oifname @masq_out masquerade }
//! }
//! ```
//!
//! A forward reaches the jail when the packet is addressed to a local address of the host
//! (`fib daddr type local`: the uplink's address, from outside, from other jails (hairpin) and
//! from the host itself). Per-jail tables cost each start a walk of the netns's table list for
//! every message and a netfilter hook array copy per base chain, both growing with the number
//! of jails; map elements are hash inserts.
//!
//! The table is made once, by the first start that finds it absent, in the same transaction
//! as that jail's elements (`create table`: of two first starts at the same moment one makes
//! it, the other finds it made and adds its elements). It is never flushed or deleted: the
//! last stop leaves it empty (three NAT hooks whose maps match nothing). A forward range is one
//! element per port. The ports a jail forwards are claimed host-wide by the core before
//! anything changes, so a key belongs to one jail; deleting an element whose key another jail
//! holds (other data) fails, and is then skipped: a stop never removes another jail's entry.
//!
//! IPv4 forwarding is the mode's (`Host::enable_forwarding`), not the backend's.

use ioc_sdk::nft::{
    NftBatch, NftElement, NftField, NftHook, NftHookKind, NftKeyPart, NftKeyType, NftMapElement,
    NftMetaKey, NftRule, NftSetFlags,
};
use ioc_sdk::{Error, Host, HostErrorKind, Jail, NatRequest, NftFamily, Protocol, Result};

/// The shared NAT table.
pub const TABLE: &str = "ioc-nat";
/// The prefix of the per-jail tables of earlier versions, removed at a jail's stop.
pub const LEGACY_PREFIX: &str = "ioc-nat-";
/// The set of (jail address, uplink) pairs masqueraded.
const MASQUERADE: &str = "masq_out";

/// nft's `dstnat` and `srcnat` priorities.
const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;
const IP: NftFamily = NftFamily::Ip;

/// The per-jail table of an earlier version.
pub fn legacy_table(jail: &str) -> String {
    format!("{LEGACY_PREFIX}{jail}")
}

fn l4proto(proto: Protocol) -> u8 {
    match proto {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
    }
}

/// The map of a protocol's forwards.
fn forward_map(proto: Protocol) -> &'static str {
    match proto {
        Protocol::Tcp => "forward_tcp",
        Protocol::Udp => "forward_udp",
    }
}

/// The table, its maps, set, chains and rules: what the first start creates.
fn setup(b: &mut NftBatch) {
    b.create_table(IP, TABLE);
    for proto in [Protocol::Tcp, Protocol::Udp] {
        b.add_map(
            IP,
            TABLE,
            forward_map(proto),
            NftKeyType::InetService,
            NftKeyType::Ipv4AddrInetService,
        );
    }
    b.add_set(
        IP,
        TABLE,
        MASQUERADE,
        NftKeyType::Ipv4AddrIfname,
        NftSetFlags::default(),
        vec![],
    );
    for (chain, kind) in [
        ("prerouting", NftHookKind::Prerouting),
        ("output", NftHookKind::Output),
    ] {
        b.add_chain(IP, TABLE, chain, Some(NftHook::nat(kind, DSTNAT)));
        for proto in [Protocol::Tcp, Protocol::Udp] {
            b.add_rule(
                IP,
                TABLE,
                chain,
                NftRule::new()
                    .l4proto(l4proto(proto))
                    .to_local_address()
                    .load(NftField::TH_DPORT)
                    .dnat_map(forward_map(proto)),
            );
        }
    }
    b.add_chain(
        IP,
        TABLE,
        "postrouting",
        Some(NftHook::nat(NftHookKind::Postrouting, SRCNAT)),
    );
    b.add_rule(
        IP,
        TABLE,
        "postrouting",
        NftRule::new()
            .concat(&[
                NftKeyPart::field(NftField::IP_SADDR),
                NftKeyPart::Meta {
                    key: NftMetaKey::Oifname,
                },
            ])
            .in_set(MASQUERADE)
            .masquerade(),
    );
}

/// The jail's elements: one per forwarded port, per map, and its masquerade pair.
struct Entries {
    forwards: Vec<(Protocol, Vec<NftMapElement>)>,
    masquerade: NftElement,
}

fn entries(request: &NatRequest, uplink: &str) -> Entries {
    let nat = &request.nat;
    let to = nat.jail_address();
    let forwards = [Protocol::Tcp, Protocol::Udp]
        .into_iter()
        .map(|proto| {
            let elements = nat
                .forwards()
                .iter()
                .filter(|f| f.proto == proto)
                .flat_map(|f| {
                    (0..f.count).map(move |i| {
                        let host = f.host_port.saturating_add(i);
                        let jail = f.jail_port.saturating_add(i);
                        NftMapElement::port_to(host, to, jail)
                    })
                })
                .collect::<Vec<_>>();
            (proto, elements)
        })
        .filter(|(_, e)| !e.is_empty())
        .collect();
    Entries {
        forwards,
        masquerade: NftElement::ipv4_ifname(to, uplink),
    }
}

/// The batch that adds the jail's elements, after creating the table first when `create`.
pub fn install_batch(request: &NatRequest, uplink: &str, create: bool) -> NftBatch {
    let e = entries(request, uplink);
    let mut b = NftBatch::new();
    if create {
        setup(&mut b);
    }
    for (proto, elements) in e.forwards {
        b.add_map_elements(IP, TABLE, forward_map(proto), elements);
    }
    b.add_elements(IP, TABLE, MASQUERADE, vec![e.masquerade]);
    b
}

/// The batch that deletes the jail's elements (absent ones are fine).
pub fn remove_batch(request: &NatRequest, uplink: &str) -> NftBatch {
    let e = entries(request, uplink);
    let mut b = NftBatch::new();
    for (proto, elements) in e.forwards {
        b.delete_map_elements(IP, TABLE, forward_map(proto), elements);
    }
    b.delete_elements(IP, TABLE, MASQUERADE, vec![e.masquerade]);
    b
}

fn uplink(request: &NatRequest) -> Result<&str> {
    request.nat.uplink().ok_or_else(|| {
        Error::new("property 'nat_interface': no uplink known; expected an interface name")
    })
}

/// Installs the jail's NAT; see the module documentation.
///
/// One question (does the table exist?) and one transaction; when the table is absent the
/// transaction creates it too, and if that fails because a concurrent start created it in
/// between, the elements alone go in a second one. With the table still absent after that,
/// the create's error is the one reported.
pub fn install(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = uplink(request)?;
    let fail = |e: ioc_sdk::HostError| {
        Error::new(format!(
            "install the NAT entries of jail {} in table ip {TABLE}: {e}",
            request.jail
        ))
    };
    // A query the host cannot answer counts as "absent": the create then tells.
    if host.nft_table_exists(IP, TABLE).unwrap_or(false) {
        return host
            .nft_commit(&install_batch(request, uplink, false))
            .map_err(fail);
    }
    let created = match host.nft_commit(&install_batch(request, uplink, true)) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    // Still no table: the create's own error is the one that tells why.
    match host.nft_commit(&install_batch(request, uplink, false)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind == HostErrorKind::NotFound => Err(fail(created)),
        Err(e) => Err(fail(e)),
    }
}

/// Removes the jail's NAT entries (and the per-jail table of an earlier version, if any).
///
/// The elements go in one transaction. An absent table or map means there is nothing to
/// remove. If the transaction fails otherwise (an element whose key another jail holds now),
/// each element goes alone, and one that is another jail's is left to it.
pub fn remove(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = uplink(request)?;
    let fail = |e: ioc_sdk::HostError| {
        Error::new(format!(
            "remove the NAT entries of jail {} from table ip {TABLE}: {e}",
            request.jail
        ))
    };
    let legacy = legacy_table(&request.jail);
    if host.nft_table_exists(IP, &legacy).unwrap_or(false) {
        let mut b = NftBatch::new();
        b.delete_table(IP, &legacy);
        host.nft_commit(&b).map_err(fail)?;
    }
    let batch = remove_batch(request, uplink);
    match host.nft_commit(&batch) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind == HostErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    // One by one only where there is something to take: a start that failed before its
    // table existed has nothing here, and a wide range would be thousands of round trips.
    if !host.nft_table_exists(IP, TABLE).unwrap_or(true) {
        return Ok(());
    }
    for command in batch.commands.iter() {
        let elements: Vec<NftBatch> = split(command);
        for one in elements {
            match host.nft_commit(&one) {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind,
                        HostErrorKind::NotFound | HostErrorKind::AlreadyExists
                    ) => {}
                Err(e) => return Err(fail(e)),
            }
        }
    }
    Ok(())
}

/// A delete command as one batch per element.
fn split(command: &ioc_sdk::nft::NftCommand) -> Vec<NftBatch> {
    use ioc_sdk::nft::NftCommand;
    match command {
        NftCommand::DeleteMapElements { map, elements, .. } => elements
            .iter()
            .map(|e| {
                let mut b = NftBatch::new();
                b.delete_map_elements(IP, TABLE, map, vec![e.clone()]);
                b
            })
            .collect(),
        other => {
            let mut b = NftBatch::new();
            b.push(other.clone());
            vec![b]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::testing::RecordingHost;
    use ioc_sdk::{HostReply, Nat, PortForward, Protocol};

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

    fn forward(proto: Protocol, jail_port: u16, host_port: u16, count: u16) -> PortForward {
        PortForward {
            proto,
            jail_port,
            host_port,
            count,
        }
    }

    fn text(b: &NftBatch) -> String {
        ioc_core::render::nft_text::batch(b)
    }

    #[test]
    fn the_first_start_creates_the_shared_table_with_its_elements() {
        let r = request(vec![
            forward(Protocol::Tcp, 80, 8080, 1),
            forward(Protocol::Udp, 53, 53, 1),
        ]);
        let expected = "create table ip ioc-nat\n\
            add map ip ioc-nat forward_tcp { type inet_service : ipv4_addr . inet_service; }\n\
            add map ip ioc-nat forward_udp { type inet_service : ipv4_addr . inet_service; }\n\
            add set ip ioc-nat masq_out { type ipv4_addr . ifname; }\n\
            add chain ip ioc-nat prerouting { type nat hook prerouting priority -100; policy accept; }\n\
            add rule ip ioc-nat prerouting meta l4proto 6 fib daddr type local dnat ip addr . port to th dport map @forward_tcp\n\
            add rule ip ioc-nat prerouting meta l4proto 17 fib daddr type local dnat ip addr . port to th dport map @forward_udp\n\
            add chain ip ioc-nat output { type nat hook output priority -100; policy accept; }\n\
            add rule ip ioc-nat output meta l4proto 6 fib daddr type local dnat ip addr . port to th dport map @forward_tcp\n\
            add rule ip ioc-nat output meta l4proto 17 fib daddr type local dnat ip addr . port to th dport map @forward_udp\n\
            add chain ip ioc-nat postrouting { type nat hook postrouting priority 100; policy accept; }\n\
            add rule ip ioc-nat postrouting ip saddr . oifname @masq_out masquerade\n\
            add element ip ioc-nat forward_tcp { 8080 : 172.16.0.6 . 80 }\n\
            add element ip ioc-nat forward_udp { 53 : 172.16.0.6 . 53 }\n\
            add element ip ioc-nat masq_out { 172.16.0.6 . \"up0\" }\n";
        assert_eq!(text(&install_batch(&r, "up0", true)), expected);
    }

    #[test]
    fn later_starts_add_elements_only_and_a_stop_deletes_exactly_them() {
        let r = request(vec![forward(Protocol::Tcp, 8000, 9000, 2)]);
        assert_eq!(
            text(&install_batch(&r, "up0", false)),
            "add element ip ioc-nat forward_tcp { 9000 : 172.16.0.6 . 8000, 9001 : 172.16.0.6 . 8001 }\n\
             add element ip ioc-nat masq_out { 172.16.0.6 . \"up0\" }\n"
        );
        assert_eq!(
            text(&remove_batch(&r, "up0")),
            "add element ip ioc-nat forward_tcp { 9000 : 172.16.0.6 . 8000, 9001 : 172.16.0.6 . 8001 }\n\
             delete element ip ioc-nat forward_tcp { 9000 : 172.16.0.6 . 8000, 9001 : 172.16.0.6 . 8001 }\n\
             add element ip ioc-nat masq_out { 172.16.0.6 . \"up0\" }\n\
             delete element ip ioc-nat masq_out { 172.16.0.6 . \"up0\" }\n"
        );
    }

    #[test]
    fn a_jail_without_forwards_only_masquerades() {
        let r = request(vec![]);
        assert_eq!(
            text(&install_batch(&r, "up0", false)),
            "add element ip ioc-nat masq_out { 172.16.0.6 . \"up0\" }\n"
        );
    }

    fn jail() -> Jail {
        ioc_sdk::testing::JailBuilder::new("web")
            .platform(ioc_sdk::Platform::Linux)
            .build()
    }

    fn exists(table: &str) -> ioc_sdk::HostOp {
        ioc_sdk::HostOp::NftTableExists {
            family: IP,
            table: table.into(),
        }
    }

    fn commit(batch: NftBatch) -> ioc_sdk::HostOp {
        ioc_sdk::HostOp::NftCommit { batch }
    }

    #[test]
    fn the_first_start_asks_then_creates_and_a_later_one_only_adds() {
        let r = request(vec![forward(Protocol::Tcp, 80, 8080, 1)]);
        let mut fresh = RecordingHost::new().with_reply("nft-table-exists", HostReply::Flag(false));
        install(&jail(), &r, &mut fresh.host()).unwrap();
        assert_eq!(
            fresh.ops(),
            [exists(TABLE), commit(install_batch(&r, "up0", true))]
        );
        let mut made = RecordingHost::new().with_reply("nft-table-exists", HostReply::Flag(true));
        install(&jail(), &r, &mut made.host()).unwrap();
        assert_eq!(
            made.ops(),
            [exists(TABLE), commit(install_batch(&r, "up0", false))]
        );
    }

    #[test]
    fn a_start_that_loses_the_race_to_create_adds_its_elements() {
        let r = request(vec![forward(Protocol::Tcp, 80, 8080, 1)]);
        let mut host = RecordingHost::new()
            .with_reply("nft-table-exists", HostReply::Flag(false))
            .fail_when(
                |op| matches!(op, ioc_sdk::HostOp::NftCommit { batch } if batch.commands.len() > 2),
                ioc_sdk::HostError::new(HostErrorKind::AlreadyExists, "File exists"),
            );
        install(&jail(), &r, &mut host.host()).unwrap();
        assert_eq!(host.ops()[2], commit(install_batch(&r, "up0", false)));
    }

    #[test]
    fn a_stop_leaves_an_element_another_jail_holds() {
        let r = request(vec![
            forward(Protocol::Tcp, 80, 8080, 1),
            forward(Protocol::Tcp, 81, 8081, 1),
        ]);
        let others = |op: &ioc_sdk::HostOp| {
            let ioc_sdk::HostOp::NftCommit { batch } = op else {
                return false;
            };
            batch.commands.iter().any(|c| {
                matches!(c, ioc_sdk::nft::NftCommand::DeleteMapElements { elements, .. }
                    if elements.iter().any(|e| e.key.as_slice() == 8080u16.to_be_bytes()))
            })
        };
        // Every table asked about exists: a legacy one too, deleted first.
        let mut host = RecordingHost::new()
            .with_reply("nft-table-exists", HostReply::Flag(true))
            .fail_when(
                others,
                ioc_sdk::HostError::new(HostErrorKind::AlreadyExists, "File exists"),
            );
        remove(&jail(), &r, &mut host.host()).unwrap();
        // The legacy table, the whole batch, the shared table asked for, then each element
        // alone: 8080 (refused, left), 8081, masquerade.
        assert_eq!(host.names().len(), 7, "{:?}", host.names());
        assert_eq!(host.ops()[0], exists(&legacy_table("web")));
        assert_eq!(host.ops()[3], exists(TABLE));
    }

    #[test]
    fn a_failed_stop_batch_without_the_table_goes_no_further() {
        let r = request(vec![forward(Protocol::Tcp, 80, 8080, 100)]);
        let mut host = RecordingHost::new()
            .with_reply("nft-table-exists", HostReply::Flag(false))
            .fail_when(
                |op| matches!(op, ioc_sdk::HostOp::NftCommit { .. }),
                ioc_sdk::HostError::new(HostErrorKind::Other, "Message too long"),
            );
        remove(&jail(), &r, &mut host.host()).unwrap();
        // Legacy table asked for, the batch, the shared table asked for: no 101 single tries.
        assert_eq!(host.names().len(), 3, "{:?}", host.names());
    }
}
