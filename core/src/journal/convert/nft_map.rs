//! The map items of `ioc_sdk::nft` (the shared NAT table's maps, concatenated keys and
//! `NatMap`) to and from their journal form; `nft.rs` hands them over from its matches.

use ioc_sdk::nft::{NftCommand, NftExpr, NftKeyPart, NftMapElement};

use super::super::record::*;

fn elements_out(e: &[NftMapElement]) -> Vec<DiskNftMapElement> {
    e.iter()
        .map(|e| DiskNftMapElement {
            key: e.key.to_vec(),
            data: e.data.to_vec(),
        })
        .collect()
}

fn elements_in(e: Vec<DiskNftMapElement>) -> Vec<NftMapElement> {
    e.into_iter()
        .map(|e| NftMapElement {
            key: e.key.into(),
            data: e.data.into(),
        })
        .collect()
}

/// The map commands; `nft.rs` converts every other one itself.
pub(super) fn command_out(c: &NftCommand) -> DiskNftCommand {
    match c {
        NftCommand::AddMap {
            family,
            table,
            name,
            key,
            data,
        } => DiskNftCommand::AddMap {
            family: (*family).into(),
            table: table.to_string(),
            name: name.to_string(),
            key: (*key).into(),
            data: (*data).into(),
        },
        NftCommand::AddMapElements {
            family,
            table,
            map,
            elements,
        } => DiskNftCommand::AddMapElements {
            family: (*family).into(),
            table: table.to_string(),
            map: map.to_string(),
            elements: elements_out(elements),
        },
        NftCommand::DeleteMapElements {
            family,
            table,
            map,
            elements,
        } => DiskNftCommand::DeleteMapElements {
            family: (*family).into(),
            table: table.to_string(),
            map: map.to_string(),
            elements: elements_out(elements),
        },
        other => unreachable!("nft.rs converts {other:?} itself"),
    }
}

/// The map commands back; `nft.rs` converts every other one itself.
pub(super) fn command_in(c: DiskNftCommand) -> NftCommand {
    match c {
        DiskNftCommand::AddMap {
            family,
            table,
            name,
            key,
            data,
        } => NftCommand::AddMap {
            family: family.into(),
            table: table.into(),
            name: name.into(),
            key: key.into(),
            data: data.into(),
        },
        DiskNftCommand::AddMapElements {
            family,
            table,
            map,
            elements,
        } => NftCommand::AddMapElements {
            family: family.into(),
            table: table.into(),
            map: map.into(),
            elements: elements_in(elements).into(),
        },
        DiskNftCommand::DeleteMapElements {
            family,
            table,
            map,
            elements,
        } => NftCommand::DeleteMapElements {
            family: family.into(),
            table: table.into(),
            map: map.into(),
            elements: elements_in(elements).into(),
        },
        other => unreachable!("nft.rs converts {other:?} itself"),
    }
}

fn part_out(p: &NftKeyPart) -> DiskNftKeyPart {
    match *p {
        NftKeyPart::Payload { base, offset, len } => DiskNftKeyPart::Payload {
            base: base.into(),
            offset,
            len,
        },
        NftKeyPart::Meta { key } => DiskNftKeyPart::Meta { key: key.into() },
    }
}

fn part_in(p: DiskNftKeyPart) -> NftKeyPart {
    match p {
        DiskNftKeyPart::Payload { base, offset, len } => NftKeyPart::Payload {
            base: base.into(),
            offset,
            len,
        },
        DiskNftKeyPart::Meta { key } => NftKeyPart::Meta { key: key.into() },
    }
}

/// The map expressions; `nft.rs` converts every other one itself.
pub(super) fn expr_out(e: &NftExpr) -> DiskNftExpr {
    match e {
        NftExpr::Concat { parts } => DiskNftExpr::Concat {
            parts: parts.iter().map(part_out).collect(),
        },
        NftExpr::NatMap { kind, map } => DiskNftExpr::NatMap {
            kind: (*kind).into(),
            map: map.to_string(),
        },
        other => unreachable!("nft.rs converts {other:?} itself"),
    }
}

/// The map expressions back; `nft.rs` converts every other one itself.
pub(super) fn expr_in(e: DiskNftExpr) -> NftExpr {
    match e {
        DiskNftExpr::Concat { parts } => NftExpr::Concat {
            parts: parts.into_iter().map(part_in).collect(),
        },
        DiskNftExpr::NatMap { kind, map } => NftExpr::NatMap {
            kind: kind.into(),
            map: map.into(),
        },
        other => unreachable!("nft.rs converts {other:?} itself"),
    }
}

#[cfg(test)]
mod tests {
    use ioc_sdk::nft::{NftBatch, NftElement, NftField, NftKeyType, NftMetaKey, NftRule};
    use ioc_sdk::NftFamily;

    use super::*;

    /// A batch of the shared NAT table's kind (maps, their elements, a concatenation and a
    /// NAT map) survives the journal in ioc's own form.
    #[test]
    fn map_commands_and_expressions_survive_the_round_trip() {
        let ip = NftFamily::Ip;
        let to = [172, 16, 0, 2].into();
        let mut batch = NftBatch::new();
        batch
            .add_map(
                ip,
                "n",
                "fwd",
                NftKeyType::InetService,
                NftKeyType::Ipv4AddrInetService,
            )
            .add_map_elements(ip, "n", "fwd", vec![NftMapElement::port_to(8080, to, 80)])
            .delete_map_elements(ip, "n", "fwd", vec![NftMapElement::port_to(53, to, 53)])
            .add_elements(ip, "n", "masq", vec![NftElement::ipv4_ifname(to, "up0")])
            .add_rule(
                ip,
                "n",
                "pre",
                NftRule::new().load(NftField::TH_DPORT).dnat_map("fwd"),
            )
            .add_rule(
                ip,
                "n",
                "post",
                NftRule::new()
                    .concat(&[
                        NftKeyPart::field(NftField::IP_SADDR),
                        NftKeyPart::Meta {
                            key: NftMetaKey::Oifname,
                        },
                    ])
                    .in_set("masq")
                    .masquerade(),
            );
        crate::journal::convert::nft::tests::assert_commit_round_trips(
            batch,
            &[
                "\"add_map\"",
                "\"add_map_elements\"",
                "\"delete_map_elements\"",
                "\"concat\"",
                "\"nat_map\"",
                "\"ipv4_addr . inet_service\"",
            ],
        );
    }
}
