//! Whether an nftables chain exists, asked of the kernel with one netlink request.
//!
//! Firewall backends probe for their base chains with `list chain FAMILY TABLE CHAIN` (the
//! nftables backend does so on every Secure VNET start, see its `skeleton_in_place`). Run
//! through libnftables, such a listing also fetches the chain's rules and every element of the
//! maps they use, and ioc's dispatch maps hold one element per running Secure VNET jail: each
//! probe read the whole map, so a start got slower with every jail (about 1 ms per probe at 400
//! jails). Only existence matters to a probe, which is one `NFT_MSG_GETCHAIN` for that chain
//! (no dump), whatever the ruleset holds.

use std::io;

use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};

/// One `list chain FAMILY TABLE CHAIN` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRef<'a> {
    pub family: &'a str,
    pub table: &'a str,
    pub chain: &'a str,
}

impl std::fmt::Display for ChainRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.family, self.table, self.chain)
    }
}

/// The chains a script lists, when every statement of it is a plain `list chain FAMILY TABLE
/// CHAIN` (known family, unquoted names of letters, digits, `_`, `-`, `.`); `None` for any
/// other script, which then goes to nftables as it is.
pub fn listed_chains(script: &str) -> Option<Vec<ChainRef<'_>>> {
    let statements: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if statements.is_empty() {
        return None;
    }
    statements
        .into_iter()
        .map(
            |statement| match *statement.split_whitespace().collect::<Vec<_>>() {
                ["list", "chain", family, table, chain]
                    if family_number(family).is_some() && plain(table) && plain(chain) =>
                {
                    Some(ChainRef {
                        family,
                        table,
                        chain,
                    })
                }
                _ => None,
            },
        )
        .collect()
}

/// A name nft would read as itself, with nothing to unquote or expand.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// nftables family names and their `NFPROTO_*` numbers.
fn family_number(family: &str) -> Option<u8> {
    Some(match family {
        "inet" => 1,
        "ip" => 2,
        "arp" => 3,
        "netdev" => 5,
        "bridge" => 7,
        "ip6" => 10,
        _ => return None,
    })
}

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_GETCHAIN: u16 = 4;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const NLMSG_HEADER: usize = 16;

/// Whether `chain` exists, in the calling thread's network namespace. Missing table or chain
/// is `Ok(false)`; anything else the kernel refuses (no nf_tables, no permission) is an error.
pub fn chain_exists(chain: &ChainRef<'_>) -> io::Result<bool> {
    let family = family_number(chain.family)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown nftables family"))?;
    let request = getchain_request(family, chain.table, chain.chain, 1);
    let mut socket = Socket::new(NETLINK_NETFILTER)?;
    socket.bind_auto()?;
    socket.send_to(&request, &SocketAddr::new(0, 0), 0)?;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut found = false;
    loop {
        let len = loop {
            let mut window: &mut [u8] = &mut buffer[..];
            match socket.recv(&mut window, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        for (kind, payload) in messages(&buffer[..len.min(buffer.len())]) {
            if kind == NLMSG_ERROR {
                let errno = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .ok_or_else(|| io::Error::other("short netlink error message"))?;
                return match -errno {
                    0 => Ok(found),
                    libc::ENOENT => Ok(false),
                    errno => Err(io::Error::from_raw_os_error(errno)),
                };
            }
            if kind == NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN {
                found = true;
            }
        }
    }
}

/// `NFT_MSG_GETCHAIN` for one chain, acknowledged: the chain comes back, then the ACK, or an
/// error.
fn getchain_request(family: u8, table: &str, chain: &str, seq: u32) -> Vec<u8> {
    let mut message = vec![0u8; NLMSG_HEADER];
    // nfgenmsg: family, version (NFNETLINK_V0), resource id (big endian, unused).
    message.extend_from_slice(&[family, 0, 0, 0]);
    for (kind, name) in [(NFTA_CHAIN_TABLE, table), (NFTA_CHAIN_NAME, chain)] {
        let value_len = name.len() + 1;
        message.extend_from_slice(&((4 + value_len) as u16).to_ne_bytes());
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(name.as_bytes());
        message.push(0);
        message.resize(message.len().next_multiple_of(4), 0);
    }
    let len = message.len() as u32;
    let kind = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETCHAIN;
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    message[0..4].copy_from_slice(&len.to_ne_bytes());
    message[4..6].copy_from_slice(&kind.to_ne_bytes());
    message[6..8].copy_from_slice(&flags.to_ne_bytes());
    message[8..12].copy_from_slice(&seq.to_ne_bytes());
    message
}

/// The messages of one datagram: type and payload (after the header).
fn messages(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < NLMSG_HEADER {
            return None;
        }
        let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if len < NLMSG_HEADER || len > data.len() {
            return None;
        }
        let kind = u16::from_ne_bytes([data[4], data[5]]);
        let payload = &data[NLMSG_HEADER..len];
        data = &data[len.next_multiple_of(4).min(data.len())..];
        Some((kind, payload))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_chain_listings_are_recognised() {
        assert_eq!(
            listed_chains("list chain bridge ioc prerouting\n\n  list chain inet filter in-put\n"),
            Some(vec![
                ChainRef {
                    family: "bridge",
                    table: "ioc",
                    chain: "prerouting"
                },
                ChainRef {
                    family: "inet",
                    table: "filter",
                    chain: "in-put"
                },
            ])
        );
        for not in [
            "",
            "list chain ioc prerouting",
            "list chain foo ioc prerouting",
            "list table bridge ioc",
            "list chain bridge ioc \"prerouting\"",
            "list chain bridge ioc prerouting; flush ruleset",
            "list chain bridge ioc prerouting\nflush ruleset",
            "list chain bridge ioc $chain",
            "# list chain bridge ioc prerouting",
        ] {
            assert_eq!(listed_chains(not), None, "{not:?}");
        }
    }

    #[test]
    fn the_request_is_one_padded_getchain() {
        let request = getchain_request(7, "ioc", "prerouting", 1);
        // header 16 + nfgenmsg 4 + "ioc\0" (8) + "prerouting\0" padded (16)
        assert_eq!(request.len(), 44);
        assert_eq!(u32::from_ne_bytes(request[0..4].try_into().unwrap()), 44);
        assert_eq!(
            u16::from_ne_bytes([request[4], request[5]]),
            10 << 8 | NFT_MSG_GETCHAIN
        );
        assert_eq!(request[16], 7);
        assert_eq!(&request[24..28], b"ioc\0");
        assert_eq!(&request[32..43], b"prerouting\0");
        let parsed: Vec<_> = messages(&request).collect();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].1.len(), 28);
    }
}
