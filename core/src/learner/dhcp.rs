//! DHCPv4 messages (RFC 2131/2132): only what decides a lease.
//!
//! A reply from a server (UDP 67 -> 68) toward the port is an ACK or a NAK for the jail's MAC
//! (`chaddr`); a message from the jail (68 -> 67) may be a RELEASE of its lease. Everything
//! else, and anything malformed, is ignored.

use std::net::Ipv4Addr;
use std::time::Duration;

use ioc_sdk::Mac;

use super::frame::{array, be32, Udp4};

const SERVER_PORT: u16 = 67;
const CLIENT_PORT: u16 = 68;
const BOOTREQUEST: u8 = 1;
const BOOTREPLY: u8 = 2;
const HTYPE_ETHERNET: u8 = 1;
/// `op` .. `file`: the fixed BOOTP header before the magic cookie.
const CHADDR: usize = 28;
const COOKIE: usize = 236;
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
const OPTIONS: usize = 240;
const OPTION_PAD: u8 = 0;
const OPTION_END: u8 = 255;
const OPTION_SUBNET_MASK: u8 = 1;
const OPTION_LEASE_TIME: u8 = 51;
const OPTION_MESSAGE_TYPE: u8 = 53;
const OPTION_SERVER_ID: u8 = 54;
const DHCPACK: u8 = 5;
const DHCPNAK: u8 = 6;
const DHCPRELEASE: u8 = 7;
/// Option 51's "infinite".
const INFINITE: u32 = u32::MAX;

/// What a DHCP message means for the jail's lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhcpEvent {
    /// A server granted (or renewed) `address` for `lease` (`None`: infinite).
    Ack {
        address: Ipv4Addr,
        lease: Option<Duration>,
        server: Option<Ipv4Addr>,
        /// The prefix length of the subnet mask (option 1), when it sent a contiguous one.
        prefix: Option<u8>,
    },
    /// A server refused the jail's request: its lease, if any, is gone.
    Nak,
    /// The jail gives `address` back.
    Release { address: Ipv4Addr },
}

/// Reads a UDP datagram as a DHCP message about `mac`'s lease, if it is one.
pub fn parse(udp: &Udp4<'_>, mac: Mac) -> Option<DhcpEvent> {
    let from_server = (udp.source_port, udp.destination_port) == (SERVER_PORT, CLIENT_PORT);
    let from_client = (udp.source_port, udp.destination_port) == (CLIENT_PORT, SERVER_PORT);
    if !from_server && !from_client {
        return None;
    }
    let m = udp.payload;
    let op = *m.first()?;
    if m.get(1..3)? != [HTYPE_ETHERNET, 6] || array::<6>(m, CHADDR)? != mac.0 {
        return None;
    }
    if array::<4>(m, COOKIE)? != MAGIC_COOKIE {
        return None;
    }
    let options = Options::read(m.get(OPTIONS..)?)?;
    match (options.message_type?, op, from_server) {
        (DHCPACK, BOOTREPLY, true) => {
            let address = Ipv4Addr::from(array::<4>(m, 16)?);
            // An ACK to an INFORM grants nothing: no address, no lease time.
            let seconds = options.lease_time?;
            let unusable = address.is_unspecified() || address.is_broadcast();
            if unusable || address.is_multicast() || address.is_loopback() {
                return None;
            }
            Some(DhcpEvent::Ack {
                address,
                lease: (seconds != INFINITE).then(|| Duration::from_secs(seconds.into())),
                server: options.server,
                prefix: options.prefix,
            })
        }
        (DHCPNAK, BOOTREPLY, true) => Some(DhcpEvent::Nak),
        (DHCPRELEASE, BOOTREQUEST, false) => {
            let address = Ipv4Addr::from(array::<4>(m, 12)?);
            (!address.is_unspecified()).then_some(DhcpEvent::Release { address })
        }
        _ => None,
    }
}

/// The options that matter, each taken from its first occurrence.
#[derive(Default)]
struct Options {
    message_type: Option<u8>,
    lease_time: Option<u32>,
    server: Option<Ipv4Addr>,
    prefix: Option<u8>,
}

/// The prefix length of a contiguous mask (`255.255.255.0`: 24), `None` for any other.
fn mask_prefix(mask: u32) -> Option<u8> {
    let ones = mask.leading_ones();
    (mask.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

impl Options {
    /// Walks the options up to END; an option running past the buffer makes the whole
    /// message invalid (`None`).
    fn read(mut rest: &[u8]) -> Option<Options> {
        let mut options = Options::default();
        loop {
            let (&code, after) = rest.split_first()?;
            match code {
                OPTION_END => return Some(options),
                OPTION_PAD => rest = after,
                _ => {
                    let (&len, after) = after.split_first()?;
                    let value = after.get(..usize::from(len))?;
                    rest = &after[usize::from(len)..];
                    match (code, value.len()) {
                        (OPTION_MESSAGE_TYPE, 1) => {
                            options.message_type.get_or_insert(value[0]);
                        }
                        (OPTION_LEASE_TIME, 4) => {
                            options.lease_time = options.lease_time.or(be32(value, 0));
                        }
                        (OPTION_SUBNET_MASK, 4) => {
                            options.prefix =
                                options.prefix.or(be32(value, 0).and_then(mask_prefix));
                        }
                        (OPTION_SERVER_ID, 4) => {
                            options.server = options.server.or(array(value, 0).map(Ipv4Addr::from));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod build {
    //! DHCP messages for the tests.

    use std::net::Ipv4Addr;

    use ioc_sdk::Mac;

    /// A BOOTP message of `op` for `mac` with `yiaddr`/`ciaddr` and raw `options`.
    pub fn message(
        op: u8,
        mac: Mac,
        ciaddr: Ipv4Addr,
        yiaddr: Ipv4Addr,
        options: &[u8],
    ) -> Vec<u8> {
        let mut m = vec![0; 240];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        m[12..16].copy_from_slice(&ciaddr.octets());
        m[16..20].copy_from_slice(&yiaddr.octets());
        m[28..34].copy_from_slice(&mac.0);
        m[236..240].copy_from_slice(&[99, 130, 83, 99]);
        m.extend_from_slice(options);
        m.push(255);
        m
    }

    /// An ACK for `mac` granting `address` for `lease` seconds.
    pub fn ack(mac: Mac, address: Ipv4Addr, lease: u32) -> Vec<u8> {
        let mut options = vec![53, 1, 5, 54, 4, 192, 0, 2, 1, 51, 4];
        options.extend_from_slice(&lease.to_be_bytes());
        message(2, mac, Ipv4Addr::UNSPECIFIED, address, &options)
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    const MAC: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    const OTHER: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x56]);

    fn udp(ports: (u16, u16), payload: &[u8]) -> Udp4<'_> {
        Udp4 {
            source: Ipv4Addr::new(192, 0, 2, 1),
            destination: Ipv4Addr::BROADCAST,
            source_port: ports.0,
            destination_port: ports.1,
            payload,
        }
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn an_ack_for_our_mac_grants_its_address_for_the_lease_time() {
        let m = ack(MAC, ip("192.0.2.50"), 120);
        assert_eq!(
            parse(&udp((67, 68), &m), MAC),
            Some(DhcpEvent::Ack {
                address: ip("192.0.2.50"),
                lease: Some(Duration::from_secs(120)),
                server: Some(ip("192.0.2.1")),
                prefix: None,
            })
        );
        let mut masked = m.clone();
        let end = masked.len() - 1;
        masked.splice(end..end, [1, 4, 255, 255, 255, 0]);
        let Some(DhcpEvent::Ack { prefix, .. }) = parse(&udp((67, 68), &masked), MAC) else {
            panic!()
        };
        assert_eq!(prefix, Some(24));
        assert_eq!(mask_prefix(0xffff_ffff), Some(32));
        assert_eq!(mask_prefix(0xff00_ff00), None);
        let forever = ack(MAC, ip("192.0.2.50"), u32::MAX);
        let Some(DhcpEvent::Ack { lease, .. }) = parse(&udp((67, 68), &forever), MAC) else {
            panic!()
        };
        assert_eq!(lease, None);
    }

    #[test]
    fn acks_for_others_from_the_wrong_side_or_without_lease_are_ignored() {
        let m = ack(MAC, ip("192.0.2.50"), 120);
        assert_eq!(parse(&udp((67, 68), &m), OTHER), None);
        assert_eq!(parse(&udp((68, 67), &m), MAC), None);
        assert_eq!(parse(&udp((67, 69), &m), MAC), None);
        let inform_ack = message(2, MAC, ip("0.0.0.0"), ip("0.0.0.0"), &[53, 1, 5]);
        assert_eq!(parse(&udp((67, 68), &inform_ack), MAC), None);
        let mut no_cookie = m.clone();
        no_cookie[236] = 0;
        assert_eq!(parse(&udp((67, 68), &no_cookie), MAC), None);
    }

    #[test]
    fn nak_and_release() {
        let nak = message(2, MAC, ip("0.0.0.0"), ip("0.0.0.0"), &[53, 1, 6]);
        assert_eq!(parse(&udp((67, 68), &nak), MAC), Some(DhcpEvent::Nak));
        let release = message(1, MAC, ip("192.0.2.50"), ip("0.0.0.0"), &[53, 1, 7]);
        assert_eq!(
            parse(&udp((68, 67), &release), MAC),
            Some(DhcpEvent::Release {
                address: ip("192.0.2.50")
            })
        );
        // A "release" toward the jail is no release.
        assert_eq!(parse(&udp((67, 68), &release), MAC), None);
    }

    #[test]
    fn no_cut_or_corruption_panics() {
        let m = ack(MAC, ip("192.0.2.50"), 120);
        for len in 0..m.len() {
            assert_eq!(parse(&udp((67, 68), &m[..len]), MAC), None, "{len}");
        }
        // An option longer than the message.
        let long = message(
            2,
            MAC,
            ip("0.0.0.0"),
            ip("192.0.2.9"),
            &[53, 1, 5, 51, 200, 0],
        );
        assert_eq!(parse(&udp((67, 68), &long), MAC), None);
        for i in 0..m.len() {
            for byte in [0, 1, 5, 51, 53, 255] {
                let mut bad = m.clone();
                bad[i] = byte;
                let _ = parse(&udp((67, 68), &bad), MAC);
            }
        }
    }
}
