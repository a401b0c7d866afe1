//! The primitives a plugin may ask the host for.
//!
//! Every side effect of a plugin is one of these requests. Because they are plain data, ioc can
//! journal each one before it happens (and undo it after a failure or a crash), and the plan host
//! can print each one as the command line the target platform would run.

use std::fmt;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use crate::nft::NftBatch;
use crate::types::{Cidr, CniAttachment, CniValid, Ip, Mac, NatRequest, PortPolicy};

/// Where an operation happens: in the host's network stack or inside the jail.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The host's network stack, where bridges and the host ends of pairs live.
    Host,
    /// The jail's own network stack (VNET), or the jail for a command.
    Jail,
}

/// An environment variable for [`HostOp::RunCommand`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// The variable's name.
    pub key: RString,
    /// The variable's value.
    pub value: RString,
}

/// An action a plugin registers to be run when the jail stops or its start is rolled back.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoAction {
    /// Destroy an interface on the host.
    DestroyLink {
        /// The interface to destroy; already gone is not an error.
        name: RString,
    },
    /// Remove an address from a host interface.
    RemoveHostAlias {
        /// The host interface.
        iface: RString,
        /// The address to remove.
        address: Cidr,
    },
    /// Run a program, as [`HostOp::RunCommand`] does, without input or extra environment.
    RunCommand {
        /// Where the program runs.
        side: Side,
        /// The program and its arguments; no shell is involved.
        argv: RVec<RString>,
    },
    /// Ask the NAT backend `request.nat.backend()` to remove the jail's NAT
    /// ([`Firewall::remove_nat`](crate::Firewall::remove_nat)); journaled by ioc for
    /// [`HostOp::NatJail`].
    RemoveNat {
        /// What [`HostOp::NatJail`] installed.
        request: NatRequest,
    },
    /// [`HostOp::ReleaseForwarding`]; ioc journals it for [`HostOp::EnableForwarding`].
    ReleaseForwarding {
        /// The host interface.
        link: RString,
    },
    /// Commit `batch` as [`HostOp::NftCommit`] does (Linux): the removal of nftables objects
    /// the plugin made, such as the deletion of a table it owns. ioc carries it out from its
    /// journal without calling the plugin, so a firewall backend that registers its whole
    /// removal this way is not even loaded to stop the jail (see [`crate::Firewall::install`]).
    NftCommit {
        /// What to commit, in one transaction; deletions only (deleting a table that is
        /// already gone must succeed: [`crate::nft::NftBatch::delete_table`] does).
        batch: NftBatch,
    },
}

/// One primitive. Queries (see [`HostOp::is_query`]) have no side effect and are never
/// journaled; every other variant changes the system.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostOp {
    /// Does the interface exist? (`side` says in which stack to look.)
    LinkExists {
        /// The stack to look in.
        side: Side,
        /// The interface name.
        name: RString,
    },
    /// The MTU of a host interface, `None` when it does not exist.
    LinkMtu {
        /// The host interface name.
        name: RString,
    },
    /// A kernel tunable (`net.link.bridge.ipfw`, `net.ipv4.ip_forward`...).
    ReadSysctl {
        /// The tunable's name, e.g. `net.link.bridge.ipfw`.
        name: RString,
    },

    /// A connected pair, both ends up: `host` stays on the host. With `peer_in_jail`, `peer` is
    /// meant for the jail and a host may create it there directly (Linux does: moving a link
    /// between namespaces costs an RCU grace period); the plugin still sends the
    /// [`HostOp::MoveToJail`] for it, which is then a no-op. Undone by destroying `host` (which
    /// takes the peer along).
    CreatePair {
        /// The end that stays on the host (and that the undo destroys).
        host: RString,
        /// The other end, the jail's once it moves.
        peer: RString,
        /// The peer is meant for the jail, so the host may create it there directly.
        peer_in_jail: bool,
        /// The host end's MAC; `None` lets the kernel pick one.
        host_mac: ROption<Mac>,
        /// The peer's MAC; `None` lets the kernel pick one.
        peer_mac: ROption<Mac>,
        /// The MTU of both ends; `None` keeps the kernel default.
        mtu: ROption<u32>,
        /// Shown on the host end (`description` on FreeBSD, the alias on Linux).
        description: RString,
    },
    /// A bridge in the host stack, up. Undone by destroying it.
    CreateBridge {
        /// The bridge's name.
        name: RString,
        /// Its MTU; `None` keeps the kernel default.
        mtu: ROption<u32>,
    },
    /// Add host interfaces to a bridge (one FreeBSD `ifconfig BRIDGE addm A addm B up`).
    AddBridgeMembers {
        /// The bridge to add the members to.
        bridge: RString,
        /// Host interfaces to add, in order.
        members: RVec<RString>,
    },
    /// Move a host interface into the jail's network stack.
    MoveToJail {
        /// The host interface to move; it keeps its name until renamed.
        name: RString,
    },
    /// Rename an interface (and bring it up).
    RenameLink {
        /// The stack the interface is in.
        side: Side,
        /// Its current name.
        from: RString,
        /// Its new name.
        to: RString,
    },
    /// Destroy an interface (and, for a pair, its peer). Absent interfaces are not an error.
    DestroyLink {
        /// The stack the interface is in.
        side: Side,
        /// The interface to destroy.
        name: RString,
    },
    /// Add an address to an interface inside the jail.
    AddAddress {
        /// The jail interface.
        link: RString,
        /// The address with its prefix length.
        address: Cidr,
    },
    /// Bring the jail's loopback up with its addresses.
    LoopbackUp,
    /// A route inside the jail. `destination: None` is the default route; a route with no
    /// gateway is an interface route to `destination` through `link`.
    AddRoute {
        /// The destination, `None` for the default route.
        destination: ROption<Ip>,
        /// The next hop, `None` for an interface route.
        gateway: ROption<Ip>,
        /// The jail interface the route goes out of, `None` to let the kernel choose.
        link: ROption<RString>,
    },
    /// Accept IPv6 router advertisements on a jail interface (SLAAC).
    AcceptRouterAdvertisements {
        /// The jail interface.
        link: RString,
    },
    /// Run a DHCP client for a jail interface inside the jail.
    StartDhcp {
        /// The jail interface.
        link: RString,
    },
    /// Add an address to a host interface for a shared-IP jail. Replies `Flag(true)` when ioc
    /// added it, `Flag(false)` when the host already had it (then it is never removed).
    AddHostAlias {
        /// The host interface.
        iface: RString,
        /// The jail's address with its prefix length.
        address: Cidr,
    },
    /// Remove an address from a host interface.
    RemoveHostAlias {
        /// The host interface.
        iface: RString,
        /// The address to remove.
        address: Cidr,
    },
    /// Run a program on the host or inside the jail; replies with its output.
    RunCommand {
        /// Where the program runs.
        side: Side,
        /// The program and its arguments; no shell is involved.
        argv: RVec<RString>,
        /// Extra environment variables.
        env: RVec<EnvVar>,
        /// Text fed to the program's standard input, `None` for none.
        stdin: ROption<RString>,
    },
    /// Apply an nftables script (nft syntax), atomically. Linux only.
    NftApply {
        /// The script, in `nft -f` syntax.
        script: RString,
    },
    /// Check an nftables script against the running kernel without applying it (`nft --check`:
    /// the kernel validates the batch, then discards it). A query: lets a firewall backend's
    /// readiness check find out whether nftables works before anything is created. Linux only.
    NftCheck {
        /// The script, in `nft -f` syntax.
        script: RString,
    },
    /// Hand a port to the jail's firewall backend: filter it with `policy` and join its bridge.
    /// Undone by the same backend's removal, even if the host-wide setting changed since.
    ProtectPort {
        /// What to enforce on which port, and the bridge to join.
        policy: PortPolicy,
    },
    /// Run `action` when the jail stops or this start is rolled back.
    RegisterUndo {
        /// What to do then.
        action: UndoAction,
    },
    /// Does the nftables table `table` of `family` exist? A query, allowed in readiness checks;
    /// replies `Flag`. Linux only; a dry run answers `false` (a plan reads no ruleset).
    NftTableExists {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        table: RString,
    },
    /// Does the chain `chain` of the nftables table `table` of `family` exist? A query (one
    /// cheap kernel request, whatever the ruleset holds); replies `Flag`. A missing table is a
    /// missing chain. Linux only; a dry run answers `false`.
    NftChainExists {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        table: RString,
        /// The chain's name.
        chain: RString,
    },
    /// Can nftables be used here: is nf_tables in the kernel, and may ioc change it? A query
    /// (one kernel request, the ruleset's generation: its cost does not grow with the ruleset,
    /// where asking for a table walks every table); replies `Done`, fails when not. Linux only;
    /// a dry run answers `Done`.
    NftReady,
    /// Is the jail's firewall backend (the host-wide `firewall` property) enabled, built for
    /// this platform and ready to enforce policies? A query: ioc asks the backend's
    /// [`Firewall::check_ready`](crate::Firewall::check_ready) and replies `Done`, or an
    /// error naming property 'firewall' and what to fix. A mode that will call
    /// [`HostOp::ProtectPort`] sends this from its `validate`, so a missing or broken firewall
    /// stops the start before anything changes (and shows in a dry run).
    CheckFirewall,
    /// Learn the addresses a Secure VNET port may use at run time (DHCP leases, SLAAC
    /// addresses) and keep them in `sink` for exactly as long as they are valid.
    ///
    /// The host watches what servers on the bridge's other ports send toward `port` for `mac`
    /// (DHCP ACK/NAK for `dhcp4`, router advertisements for `slaac`), never what the jail
    /// sends (except that a DHCP RELEASE from the jail drops its lease early), and adds each
    /// address to the sink with the lease's or prefix's lifetime, follows renewals and
    /// address changes, and removes it on expiry. On Linux the replies reach the jail only
    /// after the sink holds the address: the backend's rules hand them to the learner through
    /// the netfilter queue this op replies with (`Number(Some(queue))`), which fails closed
    /// when no learner listens. Undone (the learner stopped) on stop or rollback.
    LearnAddresses {
        /// The host-side interface of the jail's pair.
        port: RString,
        /// The jail's MAC: only replies for it count.
        mac: Mac,
        /// Learn DHCPv4 leases.
        dhcp4: bool,
        /// Learn SLAAC addresses (EUI-64 of `mac` in each advertised prefix).
        slaac: bool,
        /// Where the learned addresses go.
        sink: LearnSink,
    },
    /// Apply an nftables batch atomically, as one transaction (Linux): the typed counterpart
    /// of [`HostOp::NftApply`], sent to the kernel without reading the ruleset. Undone, like
    /// `NftApply`, by the backend's own removal (a batch that deletes its table).
    NftCommit {
        /// The commands, in order.
        batch: NftBatch,
    },
    /// NAT a jail behind the host's uplink address, with its port forwards: ioc hands the
    /// request to the firewall plugin `request.nat.backend()`
    /// ([`Firewall::install_nat`](crate::Firewall::install_nat)) and journals its removal, so
    /// a stop, a failed start or the next command after a crash takes it back.
    NatJail {
        /// The jail's NAT and the host end of its pair.
        request: NatRequest,
    },
    /// Hold IPv4 forwarding on for packets arriving on host interface `link` while the jail
    /// runs (Linux: `net.ipv4.conf.<link>.forwarding`; FreeBSD: the host-wide
    /// `net.inet.ip.forwarding`). ioc counts the jails holding a switch and, when the last one
    /// stops, switches it back off only if ioc switched it on. Undone by
    /// [`HostOp::ReleaseForwarding`].
    EnableForwarding {
        /// The host interface.
        link: RString,
    },
    /// The undo of [`HostOp::EnableForwarding`]: the jail no longer holds the switch.
    ReleaseForwarding {
        /// The host interface.
        link: RString,
    },
    /// Run a CNI network list for the jail (issue 13); replies `Text` with the final result
    /// (CNI result JSON). The host loads the list, negotiates the version with each plugin
    /// (`VERSION`), and runs `ADD` through the chain with `prevResult`. It journals the loaded
    /// list and the attachment before running and the result after, so the undo (`DEL` in
    /// reverse, with the recorded result) on stop, rollback or crash recovery uses the same
    /// configuration even if the file changed or went. A failed ADD is rolled back (`DEL` of
    /// the plugins that ran) before the error returns, so it leaves nothing.
    CniAdd {
        /// The list to run and the invocation's parameters.
        attachment: CniAttachment,
    },
    /// `CHECK` the jail's attachment through the chain with the recorded result. A query
    /// (CHECK only reads); replies `Done` or an error. Skipped (`Done`) when the list sets
    /// `disableCheck` or its version is older than 0.4.0.
    CniCheck {
        /// The attachment, as [`HostOp::CniAdd`] got it.
        attachment: CniAttachment,
    },
    /// `GC` every plugin of the attachment's list (1.1.0 lists only; `disableGC` skips),
    /// naming the attachments still in use as `cni.dev/valid-attachments`. Replies `Done`.
    /// Nothing to undo, so not journaled; refused while validating.
    CniGc {
        /// The list to garbage-collect (its container id and ifname are not used).
        attachment: CniAttachment,
        /// The attachments still valid.
        valid: RVec<CniValid>,
    },
    /// The addresses jail interface `link` really has when they are not the jail's static
    /// properties (a CNI result, later DHCP leases). ioc keeps them with the jail's run state
    /// until it stops; `ioc list` and `ioc get ip4_addr`/`ip6_addr` show them. Replies `Done`.
    ReportAddresses {
        /// The jail interface.
        link: RString,
        /// Its addresses, with prefix lengths.
        addresses: RVec<Cidr>,
    },
    /// Write the jail's `resolv.conf` (the file ioc gives every jail) from these settings,
    /// e.g. a CNI result's `dns`. Replies `Done`.
    SetJailDns {
        /// Name servers, in order.
        nameservers: RVec<Ip>,
        /// The local domain, empty for none.
        domain: RString,
        /// The search list.
        search: RVec<RString>,
        /// Resolver options.
        options: RVec<RString>,
    },
    /// Does the attachment's network list exist in its `conf_dir`, parse, and name plugins
    /// that fit (and are the attachment's container id, interface name and `CNI_ARGS`
    /// valid)? A query for a mode's `validate`, so a missing or broken list stops the start
    /// before anything changes; replies `Done`, or an error naming the list's directory and
    /// what is wrong. Runs no plugin.
    CniFindList {
        /// The attachment whose list to find.
        attachment: CniAttachment,
    },
    /// Turn IPv6 off on a jail interface that has no IPv6 configured, before it comes up: no
    /// link-local address, so no duplicate address detection, multicast listener reports or
    /// router solicitations flooded to every port of its bridge. FreeBSD's default
    /// (`ipv6_activate_all_interfaces=NO`: an interface without IPv6 settings is
    /// `ifdisabled`). Nothing to undo: the interface goes with the jail. Replies `Done`.
    DisableIpv6 {
        /// The jail interface.
        link: RString,
    },
}

/// Where [`HostOp::LearnAddresses`] keeps the addresses it learns: sets or tables the firewall
/// backend's rules consult, so a new lease is an element update, not a rule rewrite.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearnSink {
    /// nftables sets with the `timeout` flag, in one table of the backend's.
    NftSets {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        table: RString,
        /// The set of IPv4 addresses (`type ipv4_addr; flags timeout`).
        set4: RString,
        /// The set of IPv6 addresses (`type ipv6_addr; flags timeout`).
        set6: RString,
    },
    /// ipfw lookup tables (FreeBSD), by name.
    IpfwTables {
        /// The table of IPv4 addresses.
        table4: RString,
        /// The table of IPv6 addresses.
        table6: RString,
    },
    /// pf tables in an anchor (FreeBSD).
    PfTables {
        /// The anchor holding the tables.
        anchor: RString,
        /// The table of IPv4 addresses.
        table4: RString,
        /// The table of IPv6 addresses.
        table6: RString,
    },
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
                | HostOp::NftTableExists { .. }
                | HostOp::NftChainExists { .. }
                | HostOp::NftReady
                | HostOp::CheckFirewall
                | HostOp::CniFindList { .. }
                | HostOp::CniCheck { .. }
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
            HostOp::NftTableExists { .. } => "nft-table-exists",
            HostOp::NftChainExists { .. } => "nft-chain-exists",
            HostOp::NftReady => "nft-ready",
            HostOp::CheckFirewall => "check-firewall",
            HostOp::LearnAddresses { .. } => "learn-addresses",
            HostOp::NftCommit { .. } => "nft-commit",
            HostOp::NatJail { .. } => "nat-jail",
            HostOp::EnableForwarding { .. } => "enable-forwarding",
            HostOp::ReleaseForwarding { .. } => "release-forwarding",
            HostOp::CniAdd { .. } => "cni-add",
            HostOp::CniCheck { .. } => "cni-check",
            HostOp::CniGc { .. } => "cni-gc",
            HostOp::ReportAddresses { .. } => "report-addresses",
            HostOp::SetJailDns { .. } => "set-jail-dns",
            HostOp::CniFindList { .. } => "cni-find-list",
            HostOp::DisableIpv6 { .. } => "disable-ipv6",
        }
    }
}

/// What a program printed and how it ended.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    /// The exit status; a program killed by a signal gets a non-zero one.
    pub status: i32,
    /// What the program printed on standard output.
    pub stdout: RString,
    /// What the program printed on standard error, for error messages.
    pub stderr: RString,
}

/// The host's answer to a [`HostOp`].
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostReply {
    /// The change was made (or, for a dry run, planned).
    Done,
    /// A yes/no answer: `link-exists`, or whether `add-host-alias` added the address.
    Flag(bool),
    /// A number that may be absent: `link-mtu` of a missing interface is `None`.
    Number(ROption<u32>),
    /// Text: the value of a sysctl, the result of `cni-add`.
    Text(RString),
    /// What a program run with `run-command` printed and how it ended.
    Output(CommandOutput),
}

/// Why a primitive failed.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostErrorKind {
    /// What the op refers to does not exist (an interface, a sysctl, a table).
    NotFound,
    /// What the op would create is already there.
    AlreadyExists,
    /// The kernel refused the change to ioc (missing privilege or a jail restriction).
    PermissionDenied,
    /// The primitive does not exist on this platform or in this phase (e.g. an action during
    /// validation).
    Unsupported,
    /// Any other failure; the message says what happened.
    Other,
}

/// A failed primitive, with a message that already names what failed.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    /// What kind of failure, for a plugin that tolerates some (e.g. `NotFound` on removal).
    pub kind: HostErrorKind,
    /// The message for the user, naming what failed.
    pub message: RString,
}

impl HostError {
    /// A failure of `kind` with a message that names what failed.
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

/// An nftables address family: which kind of packets a table's chains see.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftFamily {
    /// IPv4 packets (`ip`).
    Ip,
    /// IPv6 packets (`ip6`).
    Ip6,
    /// IPv4 and IPv6 packets (`inet`).
    Inet,
    /// ARP packets (`arp`).
    Arp,
    /// Frames crossing a bridge (`bridge`).
    Bridge,
    /// Everything a device receives or sends, at ingress/egress (`netdev`).
    Netdev,
}

impl NftFamily {
    /// The family as nft writes it (`ip`, `ip6`, `inet`, `arp`, `bridge`, `netdev`).
    pub fn as_str(self) -> &'static str {
        match self {
            NftFamily::Ip => "ip",
            NftFamily::Ip6 => "ip6",
            NftFamily::Inet => "inet",
            NftFamily::Arp => "arp",
            NftFamily::Bridge => "bridge",
            NftFamily::Netdev => "netdev",
        }
    }
}

impl fmt::Display for NftFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
