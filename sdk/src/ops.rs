//! The primitives a plugin may ask the host for.
//!
//! Every side effect of a plugin is one of these requests. Because they are plain data, ioc can
//! journal each one before it happens (and undo it after a failure or a crash), and the plan host
//! can print each one as the command line the target platform would run.

use std::fmt;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use crate::types::{Cidr, Ip, Mac, PortPolicy};

/// Where an operation happens: in the host's network stack or inside the jail.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Host,
    Jail,
}

/// An environment variable for [`HostOp::RunCommand`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub key: RString,
    pub value: RString,
}

/// An action a plugin registers to be run when the jail stops or its start is rolled back.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoAction {
    DestroyLink { name: RString },
    RemoveHostAlias { iface: RString, address: Cidr },
    RunCommand { side: Side, argv: RVec<RString> },
}

/// One primitive. Queries (`LinkExists`, `LinkMtu`, `ReadSysctl`, `NftCheck`, `CheckFirewall`:
/// see [`HostOp::is_query`]) have no side effect and are never journaled; every other variant
/// changes the system.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostOp {
    /// Does the interface exist? (`side` says in which stack to look.)
    LinkExists { side: Side, name: RString },
    /// The MTU of a host interface, `None` when it does not exist.
    LinkMtu { name: RString },
    /// A kernel tunable (`net.link.bridge.ipfw`, `net.ipv4.ip_forward`...).
    ReadSysctl { name: RString },

    /// A connected pair, both ends up: `host` stays on the host. With `peer_in_jail`, `peer` is
    /// meant for the jail and a host may create it there directly (Linux does: moving a link
    /// between namespaces costs an RCU grace period); the plugin still sends the
    /// [`HostOp::MoveToJail`] for it, which is then a no-op. Undone by destroying `host` (which
    /// takes the peer along).
    CreatePair {
        host: RString,
        peer: RString,
        peer_in_jail: bool,
        host_mac: ROption<Mac>,
        peer_mac: ROption<Mac>,
        mtu: ROption<u32>,
        description: RString,
    },
    /// A bridge in the host stack, up. Undone by destroying it.
    CreateBridge { name: RString, mtu: ROption<u32> },
    /// Add host interfaces to a bridge (one FreeBSD `ifconfig BRIDGE addm A addm B up`).
    AddBridgeMembers {
        bridge: RString,
        members: RVec<RString>,
    },
    /// Move a host interface into the jail's network stack.
    MoveToJail { name: RString },
    /// Rename an interface (and bring it up).
    RenameLink {
        side: Side,
        from: RString,
        to: RString,
    },
    /// Destroy an interface (and, for a pair, its peer). Absent interfaces are not an error.
    DestroyLink { side: Side, name: RString },
    /// Add an address to an interface inside the jail.
    AddAddress { link: RString, address: Cidr },
    /// Bring the jail's loopback up with its addresses.
    LoopbackUp,
    /// A route inside the jail. `destination: None` is the default route; a route with no
    /// gateway is an interface route to `destination` through `link`.
    AddRoute {
        destination: ROption<Ip>,
        gateway: ROption<Ip>,
        link: ROption<RString>,
    },
    /// Accept IPv6 router advertisements on a jail interface (SLAAC).
    AcceptRouterAdvertisements { link: RString },
    /// Run a DHCP client for a jail interface inside the jail.
    StartDhcp { link: RString },
    /// Add an address to a host interface for a shared-IP jail. Replies `Flag(true)` when ioc
    /// added it, `Flag(false)` when the host already had it (then it is never removed).
    AddHostAlias { iface: RString, address: Cidr },
    /// Remove an address from a host interface.
    RemoveHostAlias { iface: RString, address: Cidr },
    /// Run a program on the host or inside the jail; replies with its output.
    RunCommand {
        side: Side,
        argv: RVec<RString>,
        env: RVec<EnvVar>,
        stdin: ROption<RString>,
    },
    /// Apply an nftables script (nft syntax), atomically. Linux only.
    NftApply { script: RString },
    /// Check an nftables script against the running kernel without applying it (`nft --check`:
    /// the kernel validates the batch, then discards it). A query: lets a firewall backend's
    /// readiness check find out whether nftables works before anything is created. Linux only.
    NftCheck { script: RString },
    /// Hand a port to the jail's firewall backend: filter it with `policy` and join its bridge.
    /// Undone by the same backend's removal, even if the host-wide setting changed since.
    ProtectPort { policy: PortPolicy },
    /// Run `action` when the jail stops or this start is rolled back.
    RegisterUndo { action: UndoAction },
    /// Is the jail's firewall backend (the host-wide `firewall` property) enabled, built for
    /// this platform and ready to enforce policies? A query: ioc asks the backend's
    /// [`Firewall::check_ready`](crate::Firewall::check_ready) and replies `Done`, or an
    /// error naming property 'firewall' and what to fix. A mode that will call
    /// [`HostOp::ProtectPort`] sends this from its `validate`, so a missing or broken firewall
    /// stops the start before anything changes (and shows in a dry run).
    CheckFirewall,
}

impl HostOp {
    /// True for requests that only read.
    pub fn is_query(&self) -> bool {
        matches!(
            self,
            HostOp::LinkExists { .. }
                | HostOp::LinkMtu { .. }
                | HostOp::ReadSysctl { .. }
                | HostOp::NftCheck { .. }
                | HostOp::CheckFirewall
        )
    }

    /// A short name for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            HostOp::LinkExists { .. } => "link-exists",
            HostOp::LinkMtu { .. } => "link-mtu",
            HostOp::ReadSysctl { .. } => "read-sysctl",
            HostOp::CreatePair { .. } => "create-pair",
            HostOp::CreateBridge { .. } => "create-bridge",
            HostOp::AddBridgeMembers { .. } => "add-bridge-members",
            HostOp::MoveToJail { .. } => "move-to-jail",
            HostOp::RenameLink { .. } => "rename-link",
            HostOp::DestroyLink { .. } => "destroy-link",
            HostOp::AddAddress { .. } => "add-address",
            HostOp::LoopbackUp => "loopback-up",
            HostOp::AddRoute { .. } => "add-route",
            HostOp::AcceptRouterAdvertisements { .. } => "accept-rtadv",
            HostOp::StartDhcp { .. } => "start-dhcp",
            HostOp::AddHostAlias { .. } => "add-host-alias",
            HostOp::RemoveHostAlias { .. } => "remove-host-alias",
            HostOp::RunCommand { .. } => "run-command",
            HostOp::NftApply { .. } => "nft-apply",
            HostOp::NftCheck { .. } => "nft-check",
            HostOp::ProtectPort { .. } => "protect-port",
            HostOp::RegisterUndo { .. } => "register-undo",
            HostOp::CheckFirewall => "check-firewall",
        }
    }
}

/// What a program printed and how it ended.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    pub status: i32,
    pub stdout: RString,
    pub stderr: RString,
}

/// The host's answer to a [`HostOp`].
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostReply {
    Done,
    Flag(bool),
    Number(ROption<u32>),
    Text(RString),
    Output(CommandOutput),
}

/// Why a primitive failed.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostErrorKind {
    NotFound,
    AlreadyExists,
    PermissionDenied,
    /// The primitive does not exist on this platform or in this phase (e.g. an action during
    /// validation).
    Unsupported,
    Other,
}

/// A failed primitive, with a message that already names what failed.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    pub kind: HostErrorKind,
    pub message: RString,
}

impl HostError {
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> HostError {
        HostError {
            kind,
            message: RString::from(message.into()),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}
