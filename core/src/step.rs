//! What ioc does to a host, as data: the steps of a start or stop and how to undo them.
//!
//! The same steps are journaled by a real run, printed by a dry run, and (on FreeBSD) turned
//! into the commands that carry them out, so what `--dry-run` shows is what a start does.

use std::net::IpAddr;

use ioc_sdk::{Cidr, HostOp, IpMode, PortPolicy, Side, UndoAction};
use serde::{Deserialize, Serialize};

use crate::cni::CniRun;

/// Linux sysctls of a VNET jail's own network stack, set when it is made, before any of its
/// interfaces exist, so that every interface inherits them from `default`:
/// - no IPv6 router advertisements: FreeBSD jails ignore them, and a jail must not take a
///   route from whoever sends one (`accept_rtadv` turns them on per interface);
/// - optimistic duplicate address detection (RFC 4429): the jail's IPv6 addresses, added
///   with the optimistic flag, can be bound and used at once while DAD still runs, so a
///   service started by `exec_start` does not fail with "cannot assign requested address".
pub const LINUX_JAIL_NET_SYSCTLS: [(&str, &str); 3] = [
    ("net.ipv6.conf.default.accept_ra", "0"),
    ("net.ipv6.conf.default.optimistic_dad", "1"),
    ("net.ipv6.conf.default.use_optimistic", "1"),
];

/// The kernel-level description of a jail: what creating and removing it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JailParams {
    pub name: String,
    pub jid: u32,
    pub hostname: String,
    /// A VNET jail gets its own network stack; otherwise it shares the host's.
    pub vnet: bool,
    /// Shared-IP addresses given to the jail (FreeBSD `ip4.addr` / `ip6.addr`).
    pub ip4_addresses: Vec<IpAddr>,
    pub ip6_addresses: Vec<IpAddr>,
    pub ip4: IpMode,
    pub ip6: IpMode,
    pub ip4_saddrsel: bool,
    pub ip6_saddrsel: bool,
    pub allow_raw_sockets: bool,
    /// Contents for the jail's private `/etc/resolv.conf`; `None` leaves the file alone.
    pub resolv_conf: Option<String>,
    /// The jail's own root (`path`, issue 16); `None` shares the host's.
    pub root: Option<JailRoot>,
}

/// A jail's own root file system and what is bind-mounted into it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JailRoot {
    /// The `path` property: an absolute, `..`-free directory.
    pub path: String,
    /// The `mounts` property, in order.
    pub mounts: Vec<RootMount>,
}

/// One host path bind-mounted into a jail's root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootMount {
    pub source: String,
    /// Absolute inside the jail's root; resolved there without leaving it.
    pub target: String,
    pub read_only: bool,
}

impl JailParams {
    /// What is known of a jail whose journal is lost: its name. Treated as VNET, so removing it
    /// also looks for processes in its own network stack.
    pub fn unknown(name: &str) -> JailParams {
        JailParams {
            name: name.to_string(),
            jid: 0,
            hostname: name.to_string(),
            vnet: true,
            ip4_addresses: Vec::new(),
            ip6_addresses: Vec::new(),
            ip4: IpMode::New,
            ip6: IpMode::New,
            ip4_saddrsel: true,
            ip6_saddrsel: true,
            allow_raw_sockets: false,
            resolv_conf: None,
            root: None,
        }
    }

    /// The kernel jail name on FreeBSD (`ioc-<name>`), as libioc names it.
    pub fn kernel_name(&self) -> String {
        format!("ioc-{}", self.name)
    }
}

/// Which exec_* property a hook step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPoint {
    ExecPrestart,
    ExecCreated,
    ExecStart,
    ExecPoststart,
    ExecPrestop,
    ExecStop,
    ExecPoststop,
}

impl HookPoint {
    pub fn property(self) -> &'static str {
        match self {
            HookPoint::ExecPrestart => "exec_prestart",
            HookPoint::ExecCreated => "exec_created",
            HookPoint::ExecStart => "exec_start",
            HookPoint::ExecPoststart => "exec_poststart",
            HookPoint::ExecPrestop => "exec_prestop",
            HookPoint::ExecStop => "exec_stop",
            HookPoint::ExecPoststop => "exec_poststop",
        }
    }

    /// exec_start and exec_stop run inside the jail; the others on the host.
    pub fn side(self) -> Side {
        match self {
            HookPoint::ExecStart | HookPoint::ExecStop => Side::Jail,
            _ => Side::Host,
        }
    }
}

/// One change to the host, as performed (or planned).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    CreateJail(JailParams),
    RemoveJail(JailParams),
    Hook {
        point: HookPoint,
        command: String,
    },
    /// A primitive a plugin asked for.
    Op(HostOp),
    /// `DEL` through a recorded CNI chain, in reverse: the undo of a `CniAdd`.
    CniDel(Box<CniRun>),
}

/// How to take back one change. Journaled before the change is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undo {
    RemoveJail(JailParams),
    DestroyLink {
        side: Side,
        name: String,
    },
    RemoveHostAlias {
        iface: String,
        address: Cidr,
    },
    /// Asks the firewall backend that installed `policy` to remove it.
    RemovePolicy {
        backend: String,
        policy: PortPolicy,
    },
    /// An action a plugin registered.
    Plugin(UndoAction),
    /// Stops the address learner of host-side interface `port` (see
    /// [`HostOp::LearnAddresses`]). Journaled before the learner starts; the host finds it by
    /// what it recorded in the jail's runtime dir (pid and start time, so a recycled pid is
    /// never signalled), and a learner already gone is no error.
    StopLearner {
        port: String,
    },
    /// `DEL` through the CNI chain a `CniAdd` ran, with the list as loaded then and the
    /// result once `ADD` finished (see [`crate::cni::CniRun`]). Undone before the jail goes,
    /// while its namespace still exists.
    CniDel(Box<CniRun>),
}

impl Undo {
    /// The undo a step needs, if it creates something that outlives the jail.
    ///
    /// Changes inside the jail (addresses, routes, renames, moves) vanish with it, and a pair
    /// is destroyed through its host end, so only these need undoing. Host aliases and firewall
    /// policies are decided by the lifecycle (they depend on the answer or the backend). A
    /// learner is a process on the host, stopped whoever asked for it.
    pub fn for_op(op: &HostOp) -> Option<Undo> {
        match op {
            HostOp::LearnAddresses { port, .. } => Some(Undo::StopLearner {
                port: port.to_string(),
            }),
            HostOp::CreatePair { host, .. } => Some(Undo::DestroyLink {
                side: Side::Host,
                name: host.to_string(),
            }),
            HostOp::CreateBridge { name, .. } => Some(Undo::DestroyLink {
                side: Side::Host,
                name: name.to_string(),
            }),
            HostOp::EnableForwarding { link } => {
                Some(Undo::Plugin(UndoAction::ReleaseForwarding {
                    link: link.clone(),
                }))
            }
            _ => None,
        }
    }

    /// The step that carries this undo out, for journals and plans. Firewall removal runs
    /// plugin code instead, whose own steps are recorded as they happen.
    pub fn as_step(&self) -> Option<Step> {
        match self {
            Undo::RemoveJail(params) => Some(Step::RemoveJail(params.clone())),
            Undo::DestroyLink { side, name } => Some(Step::Op(HostOp::DestroyLink {
                side: *side,
                name: name.as_str().into(),
            })),
            Undo::RemoveHostAlias { iface, address } => Some(Step::Op(HostOp::RemoveHostAlias {
                iface: iface.as_str().into(),
                address: *address,
            })),
            Undo::Plugin(UndoAction::DestroyLink { name }) => Some(Step::Op(HostOp::DestroyLink {
                side: Side::Host,
                name: name.clone(),
            })),
            Undo::Plugin(UndoAction::RemoveHostAlias { iface, address }) => {
                Some(Step::Op(HostOp::RemoveHostAlias {
                    iface: iface.clone(),
                    address: *address,
                }))
            }
            Undo::Plugin(UndoAction::RunCommand { side, argv }) => {
                Some(Step::Op(HostOp::RunCommand {
                    side: *side,
                    argv: argv.clone(),
                    env: Default::default(),
                    stdin: None.into(),
                }))
            }
            Undo::Plugin(UndoAction::ReleaseForwarding { link }) => {
                Some(Step::Op(HostOp::ReleaseForwarding { link: link.clone() }))
            }
            Undo::Plugin(UndoAction::NftCommit { batch }) => Some(Step::Op(HostOp::NftCommit {
                batch: batch.clone(),
            })),
            Undo::CniDel(run) => Some(Step::CniDel(run.clone())),
            Undo::RemovePolicy { .. }
            | Undo::StopLearner { .. }
            | Undo::Plugin(UndoAction::RemoveNat { .. }) => None,
        }
    }
}
