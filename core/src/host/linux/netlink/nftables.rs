//! Whether an nf_tables table or chain exists, or nf_tables can be used at all, asked of the
//! kernel with one request.
//!
//! Firewall backends ask for their base chains on every start (the nftables backend does, to
//! leave an existing skeleton alone). Through libnftables, `list chain` also fetches the chain's
//! rules and every element of the maps they use, and ioc's dispatch maps hold one element per
//! running Secure VNET jail: such a probe read the whole map, so a start got slower with every
//! jail (about 1 ms per probe at 400 jails). Only existence matters, which is one
//! `NFT_MSG_GETTABLE` or `NFT_MSG_GETCHAIN` for that one object (no dump), whatever the ruleset
//! holds.

use ioc_sdk::NftFamily;
use libc::{
    c_int, NFNETLINK_V0, NFNL_SUBSYS_NFTABLES, NFPROTO_ARP, NFPROTO_BRIDGE, NFPROTO_INET,
    NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_NETDEV, NFT_MSG_GETCHAIN, NFT_MSG_GETGEN, NFT_MSG_GETTABLE,
    NFT_MSG_NEWCHAIN, NFT_MSG_NEWGEN, NFT_MSG_NEWTABLE,
};
use netlink_packet_core::{DefaultNla, Emitable, NetlinkSerializable};
use netlink_sys::protocols::NETLINK_NETFILTER;

use super::socket::Until;
use super::{NlError, NlSocket};

/// `NFTA_TABLE_NAME`, `NFTA_CHAIN_TABLE` and `NFTA_CHAIN_NAME` (`linux/netfilter/nf_tables.h`;
/// `libc` exports the message types but not these attributes).
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;

/// The size of `struct nfgenmsg`, the header of every nfnetlink message.
pub(super) const NFGENMSG_LEN: usize = 4;

/// One `NFNETLINK_NETFILTER` socket in one network namespace, for nf_tables queries.
pub struct Nfnetlink {
    pub(super) socket: NlSocket,
}

impl std::os::fd::AsFd for Nfnetlink {
    /// The socket itself, to hand it over to a process that closes it (see
    /// `LinuxHost::close_nfnetlink_in_background`).
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.socket.as_fd()
    }
}

impl Nfnetlink {
    /// Opens a socket in the calling thread's current network namespace.
    pub fn open() -> Result<Nfnetlink, NlError> {
        NlSocket::open(NETLINK_NETFILTER).map(|socket| Nfnetlink { socket })
    }

    /// Whether table `table` of `family` exists. A missing one is `Ok(false)`; anything else
    /// the kernel refuses (no nf_tables, no permission, no such family) is an error.
    pub fn table_exists(&mut self, family: NftFamily, table: &str) -> Result<bool, NlError> {
        let request = NftGet {
            message: NFT_MSG_GETTABLE,
            family,
            names: vec![(NFTA_TABLE_NAME, table)],
        };
        self.exists(request, NFT_MSG_NEWTABLE, &|| {
            format!("nftables: get table {family} {table}")
        })
    }

    /// Whether nf_tables can be used here: it asks for the ruleset's generation, which any
    /// kernel with nf_tables answers to a caller allowed to change it (nfnetlink wants
    /// `CAP_NET_ADMIN` for every request), at the same cost whatever the ruleset holds. Asking
    /// for a table instead makes the kernel compare its name with every table of the
    /// namespace, one per Secure VNET jail.
    pub fn ready(&mut self) -> Result<(), NlError> {
        let request = NftGet {
            message: NFT_MSG_GETGEN,
            family: NftFamily::Netdev,
            names: vec![],
        };
        let context = || "nftables: get the ruleset's generation".to_string();
        if self.exists(request, NFT_MSG_NEWGEN, &context)? {
            Ok(())
        } else {
            Err(NlError::protocol(
                &context,
                "the kernel answered no generation",
            ))
        }
    }

    /// Whether chain `chain` of table `table` of `family` exists; a missing table or chain is
    /// `Ok(false)`, other refusals are errors (see [`Nfnetlink::table_exists`]).
    pub fn chain_exists(
        &mut self,
        family: NftFamily,
        table: &str,
        chain: &str,
    ) -> Result<bool, NlError> {
        let request = NftGet {
            message: NFT_MSG_GETCHAIN,
            family,
            names: vec![(NFTA_CHAIN_TABLE, table), (NFTA_CHAIN_NAME, chain)],
        };
        self.exists(request, NFT_MSG_NEWCHAIN, &|| {
            format!("nftables: get chain {family} {table} {chain}")
        })
    }

    /// Sends a get without ACK: the object comes back (type `answer`), or an error does.
    fn exists(
        &mut self,
        request: NftGet<'_>,
        answer: c_int,
        context: &dyn Fn() -> String,
    ) -> Result<bool, NlError> {
        let answer = message_type(answer);
        let mut found = false;
        let result = self
            .socket
            .exchange([(request, 0)], Until::Reply, context, &mut |kind, _| {
                found |= kind == answer;
                Ok(())
            });
        match result {
            Ok(_) => Ok(found),
            Err(NlError::Kernel {
                errno: libc::ENOENT,
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The `NFPROTO_*` number of a family.
pub(super) fn nfproto(family: NftFamily) -> u8 {
    let number = match family {
        NftFamily::Ip => NFPROTO_IPV4,
        NftFamily::Ip6 => NFPROTO_IPV6,
        NftFamily::Inet => NFPROTO_INET,
        NftFamily::Arp => NFPROTO_ARP,
        NftFamily::Bridge => NFPROTO_BRIDGE,
        NftFamily::Netdev => NFPROTO_NETDEV,
    };
    number as u8
}

/// The netlink message type of an nf_tables message (`NFT_MSG_*`).
pub(super) fn message_type(message: c_int) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8 | message) as u16
}

/// A get of one nf_tables object by name: an `nfgenmsg`, then NUL-terminated name attributes.
#[derive(Clone)]
pub(super) struct NftGet<'a> {
    pub(super) message: c_int,
    pub(super) family: NftFamily,
    pub(super) names: Vec<(u16, &'a str)>,
}

impl NftGet<'_> {
    fn attributes(&self) -> Vec<DefaultNla> {
        self.names
            .iter()
            .map(|(kind, name)| {
                let mut value = Vec::with_capacity(name.len() + 1);
                value.extend_from_slice(name.as_bytes());
                value.push(0);
                DefaultNla::new(*kind, value)
            })
            .collect()
    }
}

impl NetlinkSerializable for NftGet<'_> {
    fn message_type(&self) -> u16 {
        message_type(self.message)
    }

    fn buffer_len(&self) -> usize {
        NFGENMSG_LEN + self.attributes().as_slice().buffer_len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        // nfgenmsg: family, version, resource id (big endian; unused here).
        buffer[..NFGENMSG_LEN].copy_from_slice(&[nfproto(self.family), NFNETLINK_V0 as u8, 0, 0]);
        self.attributes()
            .as_slice()
            .emit(&mut buffer[NFGENMSG_LEN..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};

    #[test]
    fn the_request_is_one_padded_getchain() {
        let get = NftGet {
            message: NFT_MSG_GETCHAIN,
            family: NftFamily::Bridge,
            names: vec![(NFTA_CHAIN_TABLE, "ioc"), (NFTA_CHAIN_NAME, "prerouting")],
        };
        let mut packet =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(get));
        packet.finalize();
        let mut request = vec![0; packet.buffer_len()];
        packet.serialize(&mut request);
        // header 16 + nfgenmsg 4 + "ioc\0" (8) + "prerouting\0" padded (16)
        assert_eq!(request.len(), 44);
        assert_eq!(u32::from_ne_bytes(request[0..4].try_into().unwrap()), 44);
        assert_eq!(u16::from_ne_bytes([request[4], request[5]]), 10 << 8 | 4);
        assert_eq!(request[16], 7);
        assert_eq!(&request[24..28], b"ioc\0");
        assert_eq!(&request[32..43], b"prerouting\0");
    }

    #[test]
    fn families_have_their_nfproto_numbers() {
        let numbers = [
            (NftFamily::Inet, 1),
            (NftFamily::Ip, 2),
            (NftFamily::Arp, 3),
            (NftFamily::Netdev, 5),
            (NftFamily::Bridge, 7),
            (NftFamily::Ip6, 10),
        ];
        for (family, number) in numbers {
            assert_eq!(nfproto(family), number, "{family}");
        }
    }
}
