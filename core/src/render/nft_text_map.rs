//! The map items of an [`NftBatch`](ioc_sdk::nft::NftBatch) as `nft -f` text: maps, their
//! elements (`key : data`), concatenations (`ip saddr . meta oifname`) and NAT maps
//! (`dnat ip addr . port to th dport map @m`).

use std::fmt::Write as _;

use ioc_sdk::nft::{NftCommand, NftKeyPart, NftMapElement, NftMetaKey, NftPayloadBase};

use super::{element_text, id, raw_left, typed_left, Loaded};

/// A map command's lines (a delete is two: add, then delete).
pub(super) fn command(command: &NftCommand) -> String {
    let mut s = String::new();
    match command {
        NftCommand::AddMap {
            family,
            table,
            name,
            key,
            data,
        } => {
            let _ = writeln!(
                s,
                "add map {family} {} {} {{ type {} : {}; }}",
                id(table),
                id(name),
                key.as_str(),
                data.as_str()
            );
        }
        NftCommand::AddMapElements {
            family,
            table,
            map,
            elements,
        }
        | NftCommand::DeleteMapElements {
            family,
            table,
            map,
            elements,
        } => {
            let delete = matches!(command, NftCommand::DeleteMapElements { .. });
            let verbs: &[&str] = if delete { &["add", "delete"] } else { &["add"] };
            for verb in verbs {
                let _ = writeln!(
                    s,
                    "{verb} element {family} {} {} {{ {} }}",
                    id(table),
                    id(map),
                    items(elements)
                );
            }
        }
        _ => {}
    }
    s
}

fn items(elements: &[NftMapElement]) -> String {
    let items: Vec<String> = elements
        .iter()
        .map(|e| {
            format!(
                "{} : {}",
                element_text(&e.key, None),
                element_text(&e.data, None)
            )
        })
        .collect();
    items.join(", ")
}

/// The concatenation as nft writes a set lookup's key.
pub(super) fn concat_text(parts: &[NftKeyPart]) -> Option<String> {
    let names: Vec<String> = parts
        .iter()
        .map(|p| match *p {
            NftKeyPart::Payload { base, offset, len } => {
                typed_left(Loaded::Payload(base, offset, len))
            }
            NftKeyPart::Meta {
                key: NftMetaKey::Oifname,
            } => "oifname".into(),
            NftKeyPart::Meta {
                key: NftMetaKey::Iifname,
            } => "iifname".into(),
            NftKeyPart::Meta { key } => raw_left(Loaded::Meta(key)),
        })
        .collect();
    Some(names.join(" . "))
}

/// `dnat ip addr . port to th dport map @m`: the translation to what the loaded key maps to.
pub(super) fn nat_map_text(kind: &str, loaded: Loaded, map: &str) -> String {
    let key = match loaded {
        Loaded::Payload(NftPayloadBase::Th, 2, 2) => "th dport".to_string(),
        other => typed_left(other),
    };
    format!("{kind} ip addr . port to {key} map @{}", id(map))
}
