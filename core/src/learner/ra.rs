//! Router advertisements (RFC 4861) and the SLAAC address they give the jail (RFC 4862).
//!
//! For each Prefix Information option with the autonomous flag and a /64, the jail may use the
//! EUI-64 address of its MAC in that prefix for the prefix's valid lifetime. Only what a host
//! would accept counts: hop limit 255 and a link-local source.

use std::net::Ipv6Addr;
use std::time::Duration;

use ioc_sdk::Mac;

use super::frame::{array, be32, Icmp6};

const ROUTER_ADVERTISEMENT: u8 = 134;
/// The RA's fixed part: type, code, checksum, hop limit, flags, lifetime, reachable, retrans.
const RA_HEADER: usize = 16;
const OPTION_PREFIX_INFORMATION: u8 = 3;
const PREFIX_INFORMATION_LEN: usize = 32;
const FLAG_AUTONOMOUS: u8 = 0x40;
const INFINITE: u32 = u32::MAX;

/// One address the jail may (or, with a zero lifetime, may no longer) use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaacAddress {
    pub address: Ipv6Addr,
    /// `Some(ZERO)`: withdrawn; `None`: infinite.
    pub valid: Option<Duration>,
}

/// The SLAAC addresses of `mac` an RA announces; empty for anything that is not a valid RA.
pub fn parse(icmp: &Icmp6<'_>, mac: Mac) -> Vec<SlaacAddress> {
    let m = icmp.message;
    let link_local = icmp.source.segments()[0] & 0xffc0 == 0xfe80;
    if m.first() != Some(&ROUTER_ADVERTISEMENT) || m.get(1) != Some(&0) {
        return Vec::new();
    }
    if icmp.hop_limit != 255 || !link_local || m.len() < RA_HEADER {
        return Vec::new();
    }
    let mut addresses = Vec::new();
    let mut rest = &m[RA_HEADER..];
    while rest.len() >= 2 {
        let len = usize::from(rest[1]) * 8;
        // A zero length is invalid and would never advance: the RFC says drop the RA.
        let Some(option) = rest.get(..len).filter(|_| len > 0) else {
            return Vec::new();
        };
        if option[0] == OPTION_PREFIX_INFORMATION && len == PREFIX_INFORMATION_LEN {
            addresses.extend(prefix(option, mac));
        }
        rest = &rest[len..];
    }
    addresses
}

/// The address a Prefix Information option gives, if autonomous and /64.
fn prefix(option: &[u8], mac: Mac) -> Option<SlaacAddress> {
    let (length, flags) = (*option.get(2)?, *option.get(3)?);
    if length != 64 || flags & FLAG_AUTONOMOUS == 0 {
        return None;
    }
    let valid = be32(option, 4)?;
    let prefix: [u8; 16] = array(option, 16)?;
    let prefix = Ipv6Addr::from(prefix);
    if prefix.segments()[0] & 0xffc0 == 0xfe80 || prefix.is_multicast() {
        return None;
    }
    Some(SlaacAddress {
        address: eui64(prefix, mac),
        valid: (valid != INFINITE).then(|| Duration::from_secs(valid.into())),
    })
}

/// The modified EUI-64 address of `mac` in the /64 `prefix` (RFC 4291 appendix A).
pub fn eui64(prefix: Ipv6Addr, mac: Mac) -> Ipv6Addr {
    let mut octets = prefix.octets();
    let m = mac.0;
    octets[8..].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Addr::from(octets)
}

#[cfg(test)]
pub(crate) mod build {
    //! Router advertisements for the tests.

    use std::net::Ipv6Addr;

    /// A Prefix Information option.
    pub fn pio(prefix: Ipv6Addr, length: u8, flags: u8, valid: u32) -> Vec<u8> {
        let mut o = vec![3, 4, length, flags];
        o.extend_from_slice(&valid.to_be_bytes());
        o.extend_from_slice(&valid.min(3600).to_be_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&prefix.octets());
        o
    }

    /// An RA message (ICMPv6 body) with `options`.
    pub fn ra(options: &[Vec<u8>]) -> Vec<u8> {
        let mut m = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
        // A source link-layer address option first, as routers send it.
        m.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 1]);
        for o in options {
            m.extend_from_slice(o);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    const MAC: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

    fn icmp(message: &[u8]) -> Icmp6<'_> {
        Icmp6 {
            source: "fe80::1".parse().unwrap(),
            destination: "ff02::1".parse().unwrap(),
            hop_limit: 255,
            message,
        }
    }

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn eui64_flips_the_universal_bit_and_inserts_fffe() {
        assert_eq!(
            eui64(ip("2001:db8:1::"), MAC),
            ip("2001:db8:1::11:22ff:fe33:4455")
        );
    }

    #[test]
    fn autonomous_64_prefixes_give_addresses_with_their_valid_lifetime() {
        let m = ra(&[
            pio(ip("2001:db8:1::"), 64, 0xc0, 600),
            pio(ip("2001:db8:2::"), 64, 0x80, 600),
            pio(ip("2001:db8:3::"), 48, 0xc0, 600),
            pio(ip("2001:db8:4::"), 64, 0x40, 0),
            pio(ip("2001:db8:5::"), 64, 0x40, u32::MAX),
        ]);
        assert_eq!(
            parse(&icmp(&m), MAC),
            vec![
                SlaacAddress {
                    address: ip("2001:db8:1::11:22ff:fe33:4455"),
                    valid: Some(Duration::from_secs(600)),
                },
                SlaacAddress {
                    address: ip("2001:db8:4::11:22ff:fe33:4455"),
                    valid: Some(Duration::ZERO),
                },
                SlaacAddress {
                    address: ip("2001:db8:5::11:22ff:fe33:4455"),
                    valid: None,
                },
            ]
        );
    }

    #[test]
    fn what_a_host_would_ignore_gives_nothing() {
        let m = ra(&[pio(ip("2001:db8:1::"), 64, 0xc0, 600)]);
        let mut routed = icmp(&m);
        routed.hop_limit = 64;
        assert!(parse(&routed, MAC).is_empty());
        let mut global_source = icmp(&m);
        global_source.source = ip("2001:db8::1");
        assert!(parse(&global_source, MAC).is_empty());
        let mut zero_length = m.clone();
        zero_length[17] = 0;
        assert!(parse(&icmp(&zero_length), MAC).is_empty());
        for len in 0..m.len() {
            let _ = parse(&icmp(&m[..len]), MAC);
        }
        for i in 0..m.len() {
            for byte in [0, 1, 3, 4, 0xff] {
                let mut bad = m.clone();
                bad[i] = byte;
                let _ = parse(&icmp(&bad), MAC);
            }
        }
    }
}
