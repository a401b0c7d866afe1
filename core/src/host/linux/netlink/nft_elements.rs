//! Adding and removing nf_tables set elements, with timeouts, in one nfnetlink batch.
//!
//! The address learner keeps a Secure VNET port's leased and SLAAC addresses in sets with the
//! `timeout` flag: a new lease is one element update in the port's own table, no rule rewrite
//! and no dump of the ruleset. The kernel applies a batch whole or not at all, so "drop the old
//! lease, add the new one" never leaves the jail with both or neither.

use std::net::IpAddr;
use std::time::Duration;

use ioc_sdk::NftFamily;
use libc::{
    NFNETLINK_V0, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES,
    NFT_MSG_DELSETELEM, NFT_MSG_NEWSETELEM,
};
use netlink_packet_core::{DefaultNla, Emitable, NetlinkSerializable};

use super::nft_attr::{nfta, NLA_F_NESTED};
use super::nftables::{message_type, nfproto, NFGENMSG_LEN};
use super::{Nfnetlink, NlError};

/// What to do with the elements of one set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementChange {
    Add,
    Delete,
}

/// Elements to add to (or delete from) one set: addresses, each with its timeout (`None`: the
/// set's default, which for ioc's sets means never expiring). Timeouts are ignored on delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetElements {
    pub family: NftFamily,
    pub table: String,
    pub set: String,
    pub change: ElementChange,
    pub elements: Vec<(IpAddr, Option<Duration>)>,
}

impl Nfnetlink {
    /// Applies `changes` in order, as one batch: all of them or none. Adding an element that is
    /// there already is no error (its timeout stays), and neither is deleting one that is not:
    /// a delete goes out as add-then-delete, so an element the kernel expired a moment ago
    /// cannot fail the batch, and with it the additions that ride along.
    pub fn update_elements(&mut self, changes: &[SetElements]) -> Result<(), NlError> {
        let messages = changes.iter().flat_map(|change| match change.change {
            ElementChange::Add => vec![NfMessage::set_elements(change)],
            ElementChange::Delete => {
                let present = SetElements {
                    change: ElementChange::Add,
                    elements: change.elements.iter().map(|(a, _)| (*a, None)).collect(),
                    ..change.clone()
                };
                vec![
                    NfMessage::set_elements(&present),
                    NfMessage::set_elements(change),
                ]
            }
        });
        let context = || {
            let sets: Vec<String> = changes
                .iter()
                .map(|c| format!("{:?} {} {} {}", c.change, c.family, c.table, c.set))
                .collect();
            format!("nftables: set elements ({})", sets.join(", "))
        };
        self.socket.batch(
            NfMessage::batch(NFNL_MSG_BATCH_BEGIN),
            messages,
            NfMessage::batch(NFNL_MSG_BATCH_END),
            &context,
        )
    }
}

/// One nfnetlink message: its type, the `nfgenmsg` header's family and resource id, then its
/// attributes, already encoded.
pub(super) struct NfMessage {
    kind: u16,
    family: u8,
    res_id: u16,
    attributes: Vec<u8>,
}

impl NfMessage {
    /// The frame of a batch of nf_tables messages (`NFNL_MSG_BATCH_BEGIN`/`END`).
    fn batch(kind: libc::c_int) -> NfMessage {
        NfMessage {
            kind: kind as u16,
            family: libc::AF_UNSPEC as u8,
            res_id: NFNL_SUBSYS_NFTABLES as u16,
            attributes: Vec::new(),
        }
    }

    fn set_elements(change: &SetElements) -> NfMessage {
        let message = match change.change {
            ElementChange::Add => NFT_MSG_NEWSETELEM,
            ElementChange::Delete => NFT_MSG_DELSETELEM,
        };
        let elements: Vec<DefaultNla> = change
            .elements
            .iter()
            .map(|(address, timeout)| {
                let key = match address {
                    IpAddr::V4(ip) => ip.octets().to_vec(),
                    IpAddr::V6(ip) => ip.octets().to_vec(),
                };
                let mut element = vec![nested(
                    nfta::SET_ELEM_KEY,
                    &[DefaultNla::new(nfta::DATA_VALUE, key)],
                )];
                if let (ElementChange::Add, Some(timeout)) = (change.change, timeout) {
                    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                    element.push(DefaultNla::new(
                        nfta::SET_ELEM_TIMEOUT,
                        ms.to_be_bytes().to_vec(),
                    ));
                }
                nested(nfta::LIST_ELEM, &element)
            })
            .collect();
        let attributes = [
            DefaultNla::new(nfta::SET_ELEM_LIST_TABLE, c_string(&change.table)),
            DefaultNla::new(nfta::SET_ELEM_LIST_SET, c_string(&change.set)),
            nested(nfta::SET_ELEM_LIST_ELEMENTS, &elements),
        ];
        NfMessage {
            kind: message_type(message),
            family: nfproto(change.family),
            res_id: 0,
            attributes: encode(&attributes),
        }
    }
}

impl NetlinkSerializable for NfMessage {
    fn message_type(&self) -> u16 {
        self.kind
    }

    fn buffer_len(&self) -> usize {
        NFGENMSG_LEN + self.attributes.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        let [high, low] = self.res_id.to_be_bytes();
        buffer[..NFGENMSG_LEN].copy_from_slice(&[self.family, NFNETLINK_V0 as u8, high, low]);
        buffer[NFGENMSG_LEN..].copy_from_slice(&self.attributes);
    }
}

fn c_string(name: &str) -> Vec<u8> {
    let mut value = Vec::with_capacity(name.len() + 1);
    value.extend_from_slice(name.as_bytes());
    value.push(0);
    value
}

fn encode(attributes: &[DefaultNla]) -> Vec<u8> {
    let mut buffer = vec![0; attributes.buffer_len()];
    attributes.emit(&mut buffer);
    buffer
}

fn nested(kind: u16, inner: &[DefaultNla]) -> DefaultNla {
    DefaultNla::new(kind | NLA_F_NESTED, encode(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_with_a_timeout_is_encoded_as_nft_does() {
        let change = SetElements {
            family: NftFamily::Netdev,
            table: "ioc-vnet0.5".into(),
            set: "lease4".into(),
            change: ElementChange::Add,
            elements: vec![("192.0.2.7".parse().unwrap(), Some(Duration::from_secs(60)))],
        };
        let message = NfMessage::set_elements(&change);
        assert_eq!(message.kind, (10 << 8) | 12);
        assert_eq!(message.family, 5);
        let a = &message.attributes;
        // table: len 4 + "ioc-vnet0.5\0" (12) = 16
        assert_eq!(&a[0..4], &[16, 0, 1, 0]);
        assert_eq!(&a[4..16], b"ioc-vnet0.5\0");
        // set: len 4 + "lease4\0" (7) = 11, padded to 12
        assert_eq!(&a[16..20], &[11, 0, 2, 0]);
        assert_eq!(&a[20..27], b"lease4\0");
        // elements (nested): list elem (nested): key (nested): value; timeout
        let elements = &a[28..];
        assert_eq!(
            u16::from_ne_bytes([elements[2], elements[3]]),
            3 | NLA_F_NESTED
        );
        let element = &elements[4..];
        assert_eq!(
            u16::from_ne_bytes([element[2], element[3]]),
            1 | NLA_F_NESTED
        );
        let key = &element[4..];
        assert_eq!(&key[..4], &[12, 0, 1, 0x80]);
        assert_eq!(&key[4..8], &[8, 0, 1, 0]);
        assert_eq!(&key[8..12], &[192, 0, 2, 7]);
        let timeout = &key[12..];
        assert_eq!(&timeout[..4], &[12, 0, 4, 0]);
        assert_eq!(&timeout[4..12], &60_000u64.to_be_bytes());
        assert_eq!(a.len(), 28 + 4 + 4 + 12 + 12);
    }

    #[test]
    fn a_delete_carries_no_timeout_and_the_frame_names_nf_tables() {
        let change = SetElements {
            family: NftFamily::Netdev,
            table: "t".into(),
            set: "slaac6".into(),
            change: ElementChange::Delete,
            elements: vec![("2001:db8::1".parse().unwrap(), Some(Duration::from_secs(1)))],
        };
        let message = NfMessage::set_elements(&change);
        assert_eq!(message.kind, (10 << 8) | 14);
        assert!(!message
            .attributes
            .windows(4)
            .any(|w| w == [12, 0, nfta::SET_ELEM_TIMEOUT as u8, 0]));
        let begin = NfMessage::batch(NFNL_MSG_BATCH_BEGIN);
        let mut header = [0; 4];
        begin.serialize(&mut header);
        assert_eq!(header, [0, 0, 0, 10]);
        assert_eq!(begin.message_type(), 0x10);
    }
}
