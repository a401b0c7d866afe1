//! `Host`: the handle through which a plugin asks ioc for every side effect.
//!
//! A plugin never touches the system itself. Each method here sends one [`HostOp`] to ioc, which
//! journals it, performs it on the real platform (or only records it for a dry run) and answers.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::std_types::{RResult, RString, RVec};
use abi_stable::StableAbi;

use crate::nft::NftBatch;
use crate::ops::{
    CommandOutput, EnvVar, HostError, HostErrorKind, HostOp, HostReply, NftFamily, Side, UndoAction,
};
use crate::types::{Cidr, CniAttachment, CniValid, Ip, JailDns, Mac, NatRequest, PortPolicy};

/// The C-level form of a host: a context pointer and one function that performs an operation.
///
/// Core builds one from a closure with [`HostHandle::new`]; the closure outlives every call
/// because the handle borrows it for `'a`.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostHandle<'a> {
    ctx: *mut (),
    perform: unsafe extern "C" fn(*mut (), &HostOp) -> RResult<HostReply, HostError>,
    _borrow: PhantomData<&'a mut ()>,
}

impl<'a> HostHandle<'a> {
    /// Wraps a closure that carries out operations. A panic inside it becomes an error, so it
    /// never unwinds across the plugin boundary.
    pub fn new<F>(perform: &'a mut F) -> HostHandle<'a>
    where
        F: FnMut(&HostOp) -> Result<HostReply, HostError>,
    {
        unsafe extern "C" fn trampoline<F>(
            ctx: *mut (),
            op: &HostOp,
        ) -> RResult<HostReply, HostError>
        where
            F: FnMut(&HostOp) -> Result<HostReply, HostError>,
        {
            // SAFETY: `ctx` was made from `&'a mut F` in `new`, and the handle cannot outlive it.
            let perform = unsafe { &mut *(ctx as *mut F) };
            match catch_unwind(AssertUnwindSafe(|| perform(op))) {
                Ok(result) => result.into(),
                Err(_) => RResult::RErr(HostError::new(
                    HostErrorKind::Other,
                    format!("ioc failed internally while performing {}", op.name()),
                )),
            }
        }
        HostHandle {
            ctx: perform as *mut F as *mut (),
            perform: trampoline::<F>,
            _borrow: PhantomData,
        }
    }

    fn perform(&mut self, op: &HostOp) -> Result<HostReply, HostError> {
        // SAFETY: `ctx` and `perform` were paired in `new`.
        unsafe { (self.perform)(self.ctx, op) }.into()
    }
}

/// Parameters of [`Host::create_pair`].
#[derive(Clone, Debug, Default)]
pub struct PairSpec<'s> {
    /// Name of the end that stays on the host.
    pub host: &'s str,
    /// Name of the other end (before it moves into the jail, if it does).
    pub peer: &'s str,
    /// The peer is meant for the jail (it will be moved with [`Host::move_to_jail`]); lets the
    /// host create it there at once.
    pub peer_in_jail: bool,
    /// The host end's MAC; `None` lets the kernel pick one.
    pub host_mac: Option<Mac>,
    /// The peer's MAC; `None` lets the kernel pick one.
    pub peer_mac: Option<Mac>,
    /// The MTU of both ends, usually the bridge's so frames are not dropped between them;
    /// `None` keeps the kernel default.
    pub mtu: Option<u32>,
    /// Shown on the host interface (`description` on FreeBSD, the alias on Linux).
    pub description: &'s str,
}

/// The host as a plugin sees it.
pub struct Host<'a> {
    handle: HostHandle<'a>,
}

impl<'a> Host<'a> {
    /// Wraps the handle ioc passes to a hook; plugins get a ready `Host`, tests get one from
    /// `ioc_sdk::testing::RecordingHost`.
    pub fn from_handle(handle: HostHandle<'a>) -> Host<'a> {
        Host { handle }
    }

    /// Sends any operation; the typed methods below are shortcuts for this.
    pub fn perform(&mut self, op: HostOp) -> Result<HostReply, HostError> {
        self.handle.perform(&op)
    }

    fn expect_done(&mut self, op: HostOp) -> Result<(), HostError> {
        self.perform(op).map(|_| ())
    }

    fn unexpected(op: &str, reply: HostReply) -> HostError {
        HostError::new(
            HostErrorKind::Other,
            format!("ioc answered {op} with an unexpected reply: {reply:?}"),
        )
    }

    /// Does the interface exist on that side?
    pub fn link_exists(&mut self, side: Side, name: &str) -> Result<bool, HostError> {
        match self.perform(HostOp::LinkExists {
            side,
            name: name.into(),
        })? {
            HostReply::Flag(b) => Ok(b),
            other => Err(Self::unexpected("link-exists", other)),
        }
    }

    /// The MTU of a host interface, `None` if it does not exist.
    pub fn link_mtu(&mut self, name: &str) -> Result<Option<u32>, HostError> {
        match self.perform(HostOp::LinkMtu { name: name.into() })? {
            HostReply::Number(n) => Ok(n.into_option()),
            other => Err(Self::unexpected("link-mtu", other)),
        }
    }

    /// A kernel tunable, as text.
    pub fn read_sysctl(&mut self, name: &str) -> Result<String, HostError> {
        match self.perform(HostOp::ReadSysctl { name: name.into() })? {
            HostReply::Text(t) => Ok(t.into_string()),
            other => Err(Self::unexpected("read-sysctl", other)),
        }
    }

    /// A connected pair, both ends up in the host stack. Destroyed again on stop or rollback.
    pub fn create_pair(&mut self, spec: &PairSpec<'_>) -> Result<(), HostError> {
        self.expect_done(HostOp::CreatePair {
            host: spec.host.into(),
            peer: spec.peer.into(),
            peer_in_jail: spec.peer_in_jail,
            host_mac: spec.host_mac.into(),
            peer_mac: spec.peer_mac.into(),
            mtu: spec.mtu.into(),
            description: spec.description.into(),
        })
    }

    /// A bridge in the host stack. Destroyed again on stop or rollback.
    pub fn create_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<(), HostError> {
        self.expect_done(HostOp::CreateBridge {
            name: name.into(),
            mtu: mtu.into(),
        })
    }

    /// Adds host interfaces to a bridge.
    pub fn add_bridge_members(&mut self, bridge: &str, members: &[&str]) -> Result<(), HostError> {
        self.expect_done(HostOp::AddBridgeMembers {
            bridge: bridge.into(),
            members: members.iter().map(|m| RString::from(*m)).collect(),
        })
    }

    /// Moves a host interface into the jail's network stack.
    pub fn move_to_jail(&mut self, name: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::MoveToJail { name: name.into() })
    }

    /// Renames an interface on one side and brings it up.
    pub fn rename_link(&mut self, side: Side, from: &str, to: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::RenameLink {
            side,
            from: from.into(),
            to: to.into(),
        })
    }

    /// Destroys an interface; one that is already gone is not an error.
    pub fn destroy_link(&mut self, side: Side, name: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::DestroyLink {
            side,
            name: name.into(),
        })
    }

    /// Adds an address to an interface inside the jail.
    pub fn add_address(&mut self, link: &str, address: Cidr) -> Result<(), HostError> {
        self.expect_done(HostOp::AddAddress {
            link: link.into(),
            address,
        })
    }

    /// Brings the jail's loopback up with `127.0.0.1` and `::1`; a VNET jail starts without it.
    pub fn loopback_up(&mut self) -> Result<(), HostError> {
        self.expect_done(HostOp::LoopbackUp)
    }

    /// Default route inside the jail via `gateway` (scoped to `link` when given).
    pub fn add_default_route(
        &mut self,
        gateway: IpAddr,
        link: Option<&str>,
    ) -> Result<(), HostError> {
        self.expect_done(HostOp::AddRoute {
            destination: None.into(),
            gateway: Some(Ip::from(gateway)).into(),
            link: link.map(RString::from).into(),
        })
    }

    /// Interface route inside the jail: `destination` is reachable directly on `link`.
    pub fn add_link_route(&mut self, destination: IpAddr, link: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::AddRoute {
            destination: Some(Ip::from(destination)).into(),
            gateway: None.into(),
            link: Some(RString::from(link)).into(),
        })
    }

    /// Lets a jail interface configure itself from IPv6 router advertisements (SLAAC), for
    /// `NIC|accept_rtadv`.
    pub fn accept_router_advertisements(&mut self, link: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::AcceptRouterAdvertisements { link: link.into() })
    }

    /// Turns IPv6 off on a jail interface before it comes up, for a NIC with no IPv6 settings
    /// (see [`HostOp::DisableIpv6`]).
    pub fn disable_ipv6(&mut self, link: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::DisableIpv6 { link: link.into() })
    }

    /// Starts a DHCP client for a jail interface inside the jail, for `NIC|dhcp`.
    pub fn start_dhcp(&mut self, link: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::StartDhcp { link: link.into() })
    }

    /// Adds an address to a host interface. Returns false when the host already had it; ioc then
    /// leaves it in place on stop.
    pub fn add_host_alias(&mut self, iface: &str, address: Cidr) -> Result<bool, HostError> {
        match self.perform(HostOp::AddHostAlias {
            iface: iface.into(),
            address,
        })? {
            HostReply::Flag(added) => Ok(added),
            other => Err(Self::unexpected("add-host-alias", other)),
        }
    }

    /// Removes an address from a host interface; for a plugin's own clean-up, since ioc
    /// already removes the aliases it journaled.
    pub fn remove_host_alias(&mut self, iface: &str, address: Cidr) -> Result<(), HostError> {
        self.expect_done(HostOp::RemoveHostAlias {
            iface: iface.into(),
            address,
        })
    }

    /// Runs a program on the host or in the jail and returns its output, whatever its status.
    pub fn run(
        &mut self,
        side: Side,
        argv: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Result<CommandOutput, HostError> {
        let op = HostOp::RunCommand {
            side,
            argv: argv.iter().map(|a| RString::from(*a)).collect::<RVec<_>>(),
            env: env
                .iter()
                .map(|(k, v)| EnvVar {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
            stdin: stdin.map(RString::from).into(),
        };
        match self.perform(op)? {
            HostReply::Output(out) => Ok(out),
            other => Err(Self::unexpected("run-command", other)),
        }
    }

    /// Like [`Host::run`], but a non-zero exit status is an error naming the command.
    pub fn run_checked(
        &mut self,
        side: Side,
        argv: &[&str],
        stdin: Option<&str>,
    ) -> Result<CommandOutput, HostError> {
        let out = self.run(side, argv, &[], stdin)?;
        if out.status != 0 {
            return Err(HostError::new(
                HostErrorKind::Other,
                format!(
                    "`{}` exited with status {}: {}",
                    argv.join(" "),
                    out.status,
                    out.stderr.trim()
                ),
            ));
        }
        Ok(out)
    }

    /// Applies an nftables script atomically (Linux).
    pub fn nft_apply(&mut self, script: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::NftApply {
            script: script.into(),
        })
    }

    /// Applies an nftables batch as one transaction (Linux), without reading the ruleset.
    pub fn nft_commit(&mut self, batch: &NftBatch) -> Result<(), HostError> {
        self.expect_done(HostOp::NftCommit {
            batch: batch.clone(),
        })
    }

    /// Checks an nftables script without applying it (Linux); allowed in readiness checks.
    pub fn nft_check(&mut self, script: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::NftCheck {
            script: script.into(),
        })
    }

    /// Hands a port to the jail's firewall backend (see [`PortPolicy`]).
    pub fn protect_port(&mut self, policy: PortPolicy) -> Result<(), HostError> {
        self.expect_done(HostOp::ProtectPort { policy })
    }

    /// Hands the jail's NAT to its NAT backend (see [`HostOp::NatJail`]).
    pub fn nat_jail(&mut self, request: NatRequest) -> Result<(), HostError> {
        self.expect_done(HostOp::NatJail { request })
    }

    /// Holds IPv4 forwarding on for packets arriving on `link` while the jail runs (see
    /// [`HostOp::EnableForwarding`]).
    pub fn enable_forwarding(&mut self, link: &str) -> Result<(), HostError> {
        self.expect_done(HostOp::EnableForwarding { link: link.into() })
    }

    /// Runs `action` when the jail stops or this start is rolled back.
    pub fn register_undo(&mut self, action: UndoAction) -> Result<(), HostError> {
        self.expect_done(HostOp::RegisterUndo { action })
    }

    /// Can nftables be used here (Linux): nf_tables in the kernel, and ioc allowed to change it?
    /// One cheap kernel request, whatever the ruleset holds. Allowed in readiness checks; a dry
    /// run says yes.
    pub fn nft_ready(&mut self) -> Result<(), HostError> {
        self.expect_done(HostOp::NftReady)
    }

    /// Does the nftables table exist (Linux)? Allowed in readiness checks; a dry run says no.
    pub fn nft_table_exists(&mut self, family: NftFamily, table: &str) -> Result<bool, HostError> {
        match self.perform(HostOp::NftTableExists {
            family,
            table: table.into(),
        })? {
            HostReply::Flag(b) => Ok(b),
            other => Err(Self::unexpected("nft-table-exists", other)),
        }
    }

    /// Does the nftables chain exist (Linux)? One cheap kernel request, whatever the ruleset
    /// holds, so a backend can ask it on every start. Allowed in readiness checks; a dry run
    /// says no.
    pub fn nft_chain_exists(
        &mut self,
        family: NftFamily,
        table: &str,
        chain: &str,
    ) -> Result<bool, HostError> {
        match self.perform(HostOp::NftChainExists {
            family,
            table: table.into(),
            chain: chain.into(),
        })? {
            HostReply::Flag(b) => Ok(b),
            other => Err(Self::unexpected("nft-chain-exists", other)),
        }
    }

    /// Fails, naming property 'firewall' and what to fix, unless the jail's firewall backend
    /// is ready to enforce policies (see [`HostOp::CheckFirewall`]). Call it from `validate`
    /// in a mode that uses [`Host::protect_port`].
    pub fn check_firewall(&mut self) -> Result<(), HostError> {
        self.expect_done(HostOp::CheckFirewall)
    }

    /// Has the host learn the port's run-time addresses into `sink` (see
    /// [`HostOp::LearnAddresses`]). Returns the netfilter queue the learner listens on (Linux),
    /// which the backend's rules must hand DHCP replies and router advertisements toward the
    /// jail to; `None` where the platform learns without a queue.
    pub fn learn_addresses(
        &mut self,
        port: &str,
        mac: Mac,
        learning: crate::PortLearning,
        sink: crate::LearnSink,
    ) -> Result<Option<u16>, HostError> {
        match self.perform(HostOp::LearnAddresses {
            port: port.into(),
            mac,
            dhcp4: learning.dhcp4,
            slaac: learning.slaac,
            sink,
        })? {
            HostReply::Number(n) => Ok(n.into_option().map(|q| q as u16)),
            HostReply::Done => Ok(None),
            other => Err(Self::unexpected("learn-addresses", other)),
        }
    }

    /// Runs the attachment's CNI network list for the jail (see [`HostOp::CniAdd`]) and
    /// returns the final CNI result as JSON. Taken back (`DEL`) on stop or rollback.
    pub fn cni_add(&mut self, attachment: &CniAttachment) -> Result<String, HostError> {
        match self.perform(HostOp::CniAdd {
            attachment: attachment.clone(),
        })? {
            HostReply::Text(t) => Ok(t.into_string()),
            other => Err(Self::unexpected("cni-add", other)),
        }
    }

    /// `CHECK`s the attachment (see [`HostOp::CniCheck`]); an error says which plugin found
    /// what wrong.
    pub fn cni_check(&mut self, attachment: &CniAttachment) -> Result<(), HostError> {
        self.expect_done(HostOp::CniCheck {
            attachment: attachment.clone(),
        })
    }

    /// Checks that the attachment's network list is there and valid, without running a plugin
    /// (see [`HostOp::CniFindList`]); for a mode's `validate`.
    pub fn cni_find_list(&mut self, attachment: &CniAttachment) -> Result<(), HostError> {
        self.expect_done(HostOp::CniFindList {
            attachment: attachment.clone(),
        })
    }

    /// `GC`s the attachment's network list, keeping `valid` (see [`HostOp::CniGc`]).
    pub fn cni_gc(
        &mut self,
        attachment: &CniAttachment,
        valid: &[CniValid],
    ) -> Result<(), HostError> {
        self.expect_done(HostOp::CniGc {
            attachment: attachment.clone(),
            valid: valid.iter().cloned().collect(),
        })
    }

    /// Tells ioc the addresses jail interface `link` really has (see
    /// [`HostOp::ReportAddresses`]), for `ioc list` and `ioc get`.
    pub fn report_addresses(&mut self, link: &str, addresses: &[Cidr]) -> Result<(), HostError> {
        self.expect_done(HostOp::ReportAddresses {
            link: link.into(),
            addresses: addresses.iter().copied().collect(),
        })
    }

    /// Writes the jail's `resolv.conf` from `dns` (see [`HostOp::SetJailDns`]).
    pub fn set_jail_dns(&mut self, dns: &JailDns) -> Result<(), HostError> {
        self.expect_done(HostOp::SetJailDns {
            nameservers: dns.nameservers.iter().map(|ip| Ip::from(*ip)).collect(),
            domain: dns.domain.as_str().into(),
            search: dns
                .search
                .iter()
                .map(|s| RString::from(s.as_str()))
                .collect(),
            options: dns
                .options
                .iter()
                .map(|s| RString::from(s.as_str()))
                .collect(),
        })
    }
}
