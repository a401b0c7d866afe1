//! The NAT properties (issue 12), declared apart from the main table so the NAT mode's
//! configuration reads in one place. iocage's names and defaults.

use super::registry::properties;
use super::registry::Builtin::Fixed;
use super::syntax::{NatBackend, NatForwards, NatInterface, NatPrefix, OnOff};

properties! {
    NAT: OnOff = "nat", Fixed("off"), Jail,
        "NAT the jail behind the host's uplink address (network_plugin=auto picks nat): on or off";
    NAT_PREFIX: NatPrefix = "nat_prefix", Fixed("172.16"), Jail,
        "Private range NAT jails get a /30 from: leading octets (172.16 is 172.16.0.0/16) or ADDRESS/LEN";
    NAT_INTERFACE: NatInterface = "nat_interface", Fixed("none"), Jail,
        "Uplink whose address NAT jails share: an interface, or none for that of the IPv4 default route";
    NAT_FORWARDS: NatForwards = "nat_forwards", Fixed("none"), Jail,
        "Ports forwarded to a NAT jail: PROTO(JAILPORT:HOSTPORT) comma-separated, PROTO tcp or udp, tcp(80) for the same port, ranges tcp(8000-8010:9000-9010)";
    NAT_BACKEND: NatBackend = "nat_backend", Fixed("firewall"), Jail,
        "Firewall plugin that does the NAT: firewall (the host's firewall backend) or a plugin name";
}
