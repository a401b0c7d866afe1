//! Reading a filter back from the kernel: one set's elements, one chain's rules.
//!
//! A CNI `CHECK` (the `ioc-secure` plugin) compares a port's table with what it should hold.
//! Both reads are dumps the kernel filters to the one named object (`NFT_MSG_GETSETELEM` needs
//! the set; `NFT_MSG_GETRULE` with a table and chain dumps that chain only), so their cost
//! does not grow with the rest of the ruleset.

use ioc_sdk::NftFamily;
use libc::{NFT_MSG_GETRULE, NFT_MSG_GETSETELEM, NFT_MSG_NEWRULE, NFT_MSG_NEWSETELEM};
use netlink_packet_core::{parse_string, NLA_TYPE_MASK};

use super::nft_attr::nfta;
use super::nftables::{message_type, NftGet, NFGENMSG_LEN};
use super::socket::align;
use super::{Nfnetlink, NlError};

/// One rule as the kernel holds it, reduced to what tells rules apart: the names of its
/// expressions and the constants its comparisons test, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NftRuleInfo {
    /// Each expression's kernel name (`payload`, `cmp`, `lookup`, `immediate`...).
    pub expressions: Vec<String>,
    /// The data of each `cmp` expression (a MAC, a port, an EtherType...).
    pub compared: Vec<Vec<u8>>,
}

impl Nfnetlink {
    /// The keys of every element of set `set` in table `table`, in the kernel's order; `None`
    /// when the table or set does not exist.
    pub fn set_elements(
        &mut self,
        family: NftFamily,
        table: &str,
        set: &str,
    ) -> Result<Option<Vec<Vec<u8>>>, NlError> {
        let request = NftGet {
            message: NFT_MSG_GETSETELEM,
            family,
            names: vec![
                (nfta::SET_ELEM_LIST_TABLE, table),
                (nfta::SET_ELEM_LIST_SET, set),
            ],
        };
        let context = || format!("nftables: list set {family} {table} {set}");
        let wanted = message_type(NFT_MSG_NEWSETELEM);
        let dumped = self.socket.dump(request, &context, |kind, payload| {
            if kind != wanted {
                return Ok(None);
            }
            Ok(Some(element_keys(attributes(payload)?)))
        });
        missing_is_none(dumped).map(|d| d.map(|lists| lists.into_iter().flatten().collect()))
    }

    /// The rules of chain `chain` of table `table`, in order; `None` when the table does not
    /// exist (a missing chain in an existing table is an empty list: ask
    /// [`Nfnetlink::chain_exists`] to tell the two apart).
    pub fn chain_rules(
        &mut self,
        family: NftFamily,
        table: &str,
        chain: &str,
    ) -> Result<Option<Vec<NftRuleInfo>>, NlError> {
        let request = NftGet {
            message: NFT_MSG_GETRULE,
            family,
            names: vec![(nfta::RULE_TABLE, table), (nfta::RULE_CHAIN, chain)],
        };
        let context = || format!("nftables: list chain {family} {table} {chain}");
        let wanted = message_type(NFT_MSG_NEWRULE);
        let dumped = self.socket.dump(request, &context, |kind, payload| {
            if kind != wanted {
                return Ok(None);
            }
            rule(attributes(payload)?).map(Some)
        });
        missing_is_none(dumped)
    }
}

/// A missing table or set answers `ENOENT`: not an error for a reader.
fn missing_is_none<T>(result: Result<T, NlError>) -> Result<Option<T>, NlError> {
    match result {
        Ok(items) => Ok(Some(items)),
        Err(NlError::Kernel {
            errno: libc::ENOENT,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The attributes after the `nfgenmsg` header.
fn attributes(payload: &[u8]) -> Result<&[u8], NlError> {
    payload
        .get(NFGENMSG_LEN..)
        .ok_or_else(|| NlError::Protocol("nf_tables reply shorter than its header".into()))
}

/// `(kind, value)` of each attribute; an undecodable one ends the list (the kernel's own
/// replies are well formed, and a reader must not panic on a short one).
fn nested(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let header = data.get(..4)?;
        let len = u16::from_ne_bytes([header[0], header[1]]) as usize;
        let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
        let value = data.get(4..len.max(4))?;
        data = data.get(align(len)..).unwrap_or_default();
        Some((kind, value))
    })
}

fn find(data: &[u8], kind: u16) -> Option<&[u8]> {
    nested(data).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// The keys in one `NFT_MSG_NEWSETELEM` message.
fn element_keys(attrs: &[u8]) -> Vec<Vec<u8>> {
    let Some(list) = find(attrs, nfta::SET_ELEM_LIST_ELEMENTS) else {
        return Vec::new();
    };
    nested(list)
        .filter(|(k, _)| *k == nfta::LIST_ELEM)
        .filter_map(|(_, element)| find(element, nfta::SET_ELEM_KEY))
        .filter_map(|key| find(key, nfta::DATA_VALUE))
        .map(<[u8]>::to_vec)
        .collect()
}

/// One `NFT_MSG_NEWRULE` message.
fn rule(attrs: &[u8]) -> Result<NftRuleInfo, NlError> {
    let mut info = NftRuleInfo::default();
    let Some(list) = find(attrs, nfta::RULE_EXPRESSIONS) else {
        return Ok(info);
    };
    for (_, expr) in nested(list).filter(|(k, _)| *k == nfta::LIST_ELEM) {
        let name = find(expr, nfta::EXPR_NAME)
            .map(parse_string)
            .transpose()
            .map_err(|e| NlError::Protocol(format!("nf_tables rule: {e}")))?
            .unwrap_or_default();
        if name == "cmp" {
            let data = find(expr, nfta::EXPR_DATA)
                .and_then(|d| find(d, nfta::CMP_DATA))
                .and_then(|d| find(d, nfta::DATA_VALUE))
                .unwrap_or_default();
            info.compared.push(data.to_vec());
        }
        info.expressions.push(name);
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute: length, kind, value, padded to 4 bytes.
    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    #[test]
    fn element_keys_and_rule_constants_are_read_from_nested_attributes() {
        let key = |bytes: &[u8]| {
            nla(
                nfta::LIST_ELEM,
                &nla(nfta::SET_ELEM_KEY, &nla(nfta::DATA_VALUE, bytes)),
            )
        };
        let mut list = key(&[10, 0, 0, 1]);
        list.extend(key(&[10, 0, 0, 2]));
        let attrs = nla(nfta::SET_ELEM_LIST_ELEMENTS, &list);
        assert_eq!(
            element_keys(&attrs),
            vec![vec![10, 0, 0, 1], vec![10, 0, 0, 2]]
        );

        let expr = |name: &str, data: &[u8]| {
            let mut e = nla(nfta::EXPR_NAME, format!("{name}\0").as_bytes());
            e.extend(nla(nfta::EXPR_DATA, data));
            nla(nfta::LIST_ELEM, &e)
        };
        let mut exprs = expr("payload", &[]);
        exprs.extend(expr(
            "cmp",
            &nla(nfta::CMP_DATA, &nla(nfta::DATA_VALUE, &[2; 6])),
        ));
        exprs.extend(expr("immediate", &[]));
        let info = rule(&nla(nfta::RULE_EXPRESSIONS, &exprs)).unwrap();
        assert_eq!(info.expressions, ["payload", "cmp", "immediate"]);
        assert_eq!(info.compared, vec![vec![2; 6]]);
        assert_eq!(rule(&[]).unwrap(), NftRuleInfo::default());
    }
}
