//! The items of the IR that maps and concatenated keys need (issue 12's shared NAT table):
//! a jail's port forwards and masquerade are elements of maps and sets, so that its start and
//! stop add and delete elements instead of tables or chains.

use abi_stable::std_types::RVec;
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use super::{NftField, NftMetaKey, NftPayloadBase};

#[cfg(doc)]
use super::NftExpr;

/// One field of a [`NftExpr::Concat`].
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftKeyPart {
    /// A packet field, as [`NftExpr::Payload`] loads it.
    Payload {
        /// The header the offset counts from.
        base: NftPayloadBase,
        /// The offset in bytes.
        offset: u32,
        /// How many bytes (1 to 16).
        len: u32,
    },
    /// Packet metadata, as [`NftExpr::Meta`] loads it.
    Meta {
        /// Which.
        key: NftMetaKey,
    },
}

impl NftKeyPart {
    /// A packet field.
    pub fn field(field: NftField) -> NftKeyPart {
        NftKeyPart::Payload {
            base: field.base,
            offset: field.offset,
            len: field.len,
        }
    }

    /// How many bytes the part loads.
    pub fn len(self) -> usize {
        match self {
            NftKeyPart::Payload { len, .. } => len as usize,
            NftKeyPart::Meta { key } => key.key_len(),
        }
    }

    /// Never: a part loads at least one byte (here for clippy's `len_without_is_empty`).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The bytes the part takes in a concatenation: its length rounded up to 4.
    pub fn padded_len(self) -> usize {
        self.len().div_ceil(4) * 4
    }
}

/// An element of a map: a key and what it maps to.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftMapElement {
    /// The key, as the map's key type lays it out.
    pub key: RVec<u8>,
    /// The data, as the map's data type lays it out.
    pub data: RVec<u8>,
}

impl NftMapElement {
    /// A port (network order) mapped to an IPv4 address and port
    /// ([`super::NftKeyType::Ipv4AddrInetService`], the port padded to 4 bytes).
    pub fn port_to(port: u16, addr: std::net::Ipv4Addr, to_port: u16) -> NftMapElement {
        let mut data = addr.octets().to_vec();
        data.extend_from_slice(&to_port.to_be_bytes());
        data.extend_from_slice(&[0, 0]);
        NftMapElement {
            key: port.to_be_bytes().to_vec().into(),
            data: data.into(),
        }
    }
}

impl super::NftElement {
    /// An IPv4 address and an interface name ([`super::NftKeyType::Ipv4AddrIfname`]).
    pub fn ipv4_ifname(addr: std::net::Ipv4Addr, ifname: &str) -> super::NftElement {
        let mut key = addr.octets().to_vec();
        key.extend_from_slice(&super::ifname_bytes(ifname));
        super::NftElement::raw(&key)
    }
}
