//! The items of the IR that NAT rules need (issue 12): base chains of type `nat`, the route
//! lookup `fib` (`fib daddr type local`: "to an address of this host") and the NAT
//! statements' arguments.

use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::NftExpr;

/// The type of a base chain (nft's `type filter` / `type nat`).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftChainType {
    /// Accept, drop, count, log...: every chain ioc made before NAT.
    #[default]
    Filter,
    /// Address translation: the first packet of each connection only, the rest follow it.
    Nat,
}

impl NftChainType {
    /// The type as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftChainType::Filter => "filter",
            NftChainType::Nat => "nat",
        }
    }
}

/// What [`NftExpr::Fib`] looks up for the packet.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftFibResult {
    /// The route's output interface index (4 bytes, host order; 0 for none).
    Oif,
    /// The address type (4 bytes, host order: the kernel's `RTN_*`, see [`NftFibResult::LOCAL`]).
    Type,
}

impl NftFibResult {
    /// `RTN_LOCAL` as a [`NftFibResult::Type`] value: an address of this host
    /// (`fib daddr type local`).
    pub const LOCAL: u32 = 2;

    /// The result as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftFibResult::Oif => "oif",
            NftFibResult::Type => "type",
        }
    }
}

/// Which address [`NftExpr::Fib`] looks up, and what else keys the lookup.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NftFibFlags {
    /// Look up the source address (`saddr`); else the destination (`daddr`).
    pub saddr: bool,
    /// Restrict the lookup to the input interface (`. iif`).
    pub iif: bool,
    /// Restrict the lookup to the output interface (`. oif`).
    pub oif: bool,
}

/// Source or destination NAT.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftNatKind {
    /// Rewrite the source (postrouting, input).
    Snat,
    /// Rewrite the destination (prerouting, output).
    Dnat,
}

impl NftNatKind {
    /// The statement as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftNatKind::Snat => "snat",
            NftNatKind::Dnat => "dnat",
        }
    }
}

/// A range of TCP/UDP ports, `first..=last` (one port when equal).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftPortRange {
    /// The first port.
    pub first: u16,
    /// The last port (not below `first`).
    pub last: u16,
}

impl NftPortRange {
    /// One port.
    pub fn one(port: u16) -> NftPortRange {
        NftPortRange {
            first: port,
            last: port,
        }
    }
}
