//! `LinuxHost`: carries out primitives with rtnetlink, setns and namespaces.
//!
//! One netlink socket for the host's network namespace (the one ioc runs in) and one per jail,
//! each opened on first use and kept for the rest of the command: a start costs one request
//! per primitive and no child process. nftables queries go over a netfilter socket of the
//! host's namespace, kept the same way.

use std::collections::hash_map::{Entry, HashMap};
use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;

use ioc_sdk::{Cidr, HostError, HostErrorKind, HostOp, HostReply, Platform, Side};

use super::jail::{self, JailNs, JailPaths};
use super::netlink::{Netlink, Nfnetlink, NlError};
use super::netns;
use crate::host::dad::{self, DadWatch};
use crate::host::exec::{self, io_error, run};
use crate::host::forwarding;
use crate::host::Backend;
use crate::runtime::RunDir;
use crate::step::{HookPoint, JailParams};

#[path = "host_alias.rs"]
mod host_alias;
#[path = "jail_links.rs"]
mod jail_links;

struct JailHandle {
    ns: JailNs,
    netlink: Option<Netlink>,
}

pub struct LinuxHost {
    run_dir: PathBuf,
    host: Option<Netlink>,
    /// For nftables queries, in the host's namespace.
    nft: Option<Nfnetlink>,
    jails: HashMap<String, JailHandle>,
    /// Jails whose helper may still be mounting their sysfs (see [`LinuxHost::settle_jail`]).
    sysfs: HashMap<String, jail::SysfsPending>,
    /// IPv6 aliases added for each jail in this command, still to pass DAD (see [`dad`]).
    dad: DadWatch,
    /// Runs CNI plugins, made on first use.
    cni: Option<crate::cni::Engine>,
    /// The host's processes, shared by the stops of one command (see [`jail::ProcessTable`]).
    processes: jail::ProcessTable,
    /// Netfilter sockets handed over to detached processes to close, in this command.
    detached_closes: usize,
    /// Write ends of pipes whose end detached processes wait for: while they are open, those
    /// processes hold the netfilter socket of this command (see [`super::gone`]).
    holding: Vec<std::os::fd::OwnedFd>,
    /// Whether the netfilter socket is held by such a process, so that closing it is cheap.
    nft_held: bool,
}

/// The namespace helpers a start left to exit on their own are reaped when the command is done
/// with the backend (see `jail::reap_helpers`): by then they have long exited.
impl Drop for LinuxHost {
    fn drop(&mut self) {
        jail::reap_helpers();
    }
}

/// The netfilter sockets a command hands over to detached processes to close; after those it
/// keeps its socket to the end. A stop of one or a few jails then exits without waiting for the
/// kernel to free their deleted tables, and a stop of hundreds does not fork hundreds of times
/// (its exit waits for the kernel once).
const DETACHED_CLOSES: usize = 4;

fn nl_error(e: NlError) -> HostError {
    let kind = if e.is_not_found() {
        HostErrorKind::NotFound
    } else if e.is_exists() {
        HostErrorKind::AlreadyExists
    } else {
        HostErrorKind::Other
    };
    HostError::new(kind, e.to_string())
}

/// Whether `batch` deletes anything (whose freeing a closing netfilter socket waits for).
fn deletes(batch: &ioc_sdk::nft::NftBatch) -> bool {
    batch.commands.iter().any(|command| {
        matches!(
            command,
            ioc_sdk::nft::NftCommand::DeleteTable { .. }
                | ioc_sdk::nft::NftCommand::DeleteElements { .. }
        )
    })
}

fn not_found(what: String) -> HostError {
    HostError::new(HostErrorKind::NotFound, what)
}

impl LinuxHost {
    pub fn new(run: &RunDir) -> LinuxHost {
        LinuxHost {
            run_dir: run.path().to_path_buf(),
            host: None,
            nft: None,
            jails: HashMap::new(),
            sysfs: HashMap::new(),
            dad: DadWatch::default(),
            cni: None,
            processes: jail::ProcessTable::default(),
            detached_closes: 0,
            holding: Vec::new(),
            nft_held: false,
        }
    }

    fn host_netlink(&mut self) -> Result<&mut Netlink, HostError> {
        let netlink = match self.host.take() {
            Some(nl) => nl,
            None => Netlink::open().map_err(nl_error)?,
        };
        Ok(self.host.insert(netlink))
    }

    fn nfnetlink(&mut self) -> Result<&mut Nfnetlink, HostError> {
        let nfnetlink = match self.nft.take() {
            Some(nl) => nl,
            None => Nfnetlink::open().map_err(nl_error)?,
        };
        Ok(self.nft.insert(nfnetlink))
    }

    /// Keeps the close of the netfilter socket off a stop's path. After a transaction that
    /// deleted something, closing any netfilter socket flushes the kernel's freeing of the
    /// deleted objects (an RCU grace period, 10-20 ms here), and it does so holding the nftables
    /// commit mutex, so every other commit waits too. The first few sockets of a command go to
    /// a detached process (see [`DETACHED_CLOSES`]), so not even the exit of ioc waits; past
    /// those, the socket stays open for the command's next commits, and its one close at the
    /// end of the command pays the wait once: a bulk stop of 1,000 Secure VNET jails, which
    /// closed one socket per jail, queued 1,000 such waits behind the mutex (16 s instead of
    /// 2 s). The deletion itself is already committed, so nothing of the table is visible
    /// meanwhile.
    fn close_nfnetlink_in_background(&mut self) {
        if let Some(socket) = self.nft.take() {
            if std::mem::take(&mut self.nft_held) {
                // Cheap: a detached process holds the socket until ioc exits.
                drop(socket);
                return;
            }
            if self.detached_closes < DETACHED_CLOSES
                && super::detached::close_detached(socket.as_fd()).is_ok()
            {
                self.detached_closes += 1;
                // Cheap: the detached process holds the socket now.
                drop(socket);
                return;
            }
            self.nft = Some(socket);
        }
    }

    fn jail(&mut self, name: &str) -> Result<&mut JailHandle, HostError> {
        Ok(match self.jails.entry(name.to_string()) {
            Entry::Occupied(handle) => handle.into_mut(),
            Entry::Vacant(slot) => {
                let ns = JailNs::open(&JailPaths::new(&self.run_dir, name))
                    .map_err(|e| io_error(&format!("jail {name} is not running"), e))?;
                slot.insert(JailHandle { ns, netlink: None })
            }
        })
    }

    fn jail_netlink(&mut self, name: &str) -> Result<&mut Netlink, HostError> {
        let handle = self.jail(name)?;
        let netlink = match handle.netlink.take() {
            Some(nl) => nl,
            None => Netlink::open_in(handle.ns.net.as_fd()).map_err(nl_error)?,
        };
        Ok(handle.netlink.insert(netlink))
    }

    fn netlink(&mut self, side: Side, jail: &str) -> Result<&mut Netlink, HostError> {
        match side {
            Side::Host => self.host_netlink(),
            Side::Jail => self.jail_netlink(jail),
        }
    }

    /// The index of a link that must exist.
    fn index(&mut self, side: Side, jail: &str, name: &str) -> Result<u32, HostError> {
        let where_ = if side == Side::Jail {
            " in the jail"
        } else {
            ""
        };
        self.netlink(side, jail)?
            .link(name)
            .map_err(nl_error)?
            .map(|l| l.index)
            .ok_or_else(|| not_found(format!("interface {name}{where_} does not exist")))
    }

    /// Waits until the jail's helper has mounted the jail's sysfs, if it may not have yet (see
    /// [`jail::SysfsPending`]): before anything runs in the jail, and before its start is done.
    fn settle_jail(&mut self, name: &str) {
        if let Some(pending) = self.sysfs.remove(name) {
            pending.wait();
        }
    }

    /// A command that runs on the host or inside the jail.
    fn command(&mut self, side: Side, jail: &str, program: &str) -> Result<Command, HostError> {
        // It may leave processes in a jail that a stop must find.
        self.processes.invalidate();
        Ok(match side {
            Side::Host => Command::new(program),
            Side::Jail => {
                self.settle_jail(jail);
                self.jail(jail)?.ns.command(program)
            }
        })
    }

    fn run_command(&mut self, jail: &str, op: &HostOp) -> Result<HostReply, HostError> {
        let HostOp::RunCommand {
            side,
            argv,
            env,
            stdin,
        } = op
        else {
            return Err(HostError::new(HostErrorKind::Other, "not a command"));
        };
        let program = argv
            .first()
            .ok_or_else(|| HostError::new(HostErrorKind::Other, "empty command"))?;
        let mut cmd = self.command(*side, jail, program.as_str())?;
        cmd.args(argv.iter().skip(1).map(|a| OsStr::new(a.as_str())));
        cmd.envs(env.iter().map(|e| (e.key.as_str(), e.value.as_str())));
        run(cmd, stdin.as_ref().map(|s| s.as_str()).into_option()).map(HostReply::Output)
    }
}

/// Says once per process that the jails about to be made will not outlive this command's
/// mount namespace (see [`jail::in_transient_mount_namespace`]). A warning, not a refusal: a
/// mount namespace another process keeps alive works, and ioc cannot tell the two apart.
fn warn_if_transient_mount_namespace() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        if jail::in_transient_mount_namespace() {
            tracing::warn!(
                "ioc runs in a mount namespace other than PID 1's (as under `ip netns exec` or \
                 `unshare -m`): the jails' namespaces are pinned there and end when it does; \
                 run ioc in the host's mount namespace (for another network namespace: \
                 `nsenter --net=/run/netns/NAME ioc ...`)"
            );
        }
    });
}

impl Backend for LinuxHost {
    fn platform(&self) -> Platform {
        Platform::Linux
    }

    fn cni(&mut self) -> Result<&mut crate::cni::Engine, HostError> {
        let run_dir = &self.run_dir;
        Ok(self
            .cni
            .get_or_insert_with(|| crate::cni::Engine::native(run_dir)))
    }

    fn cni_netns(&mut self, params: &JailParams, for_del: bool) -> String {
        super::cni::netns(&self.run_dir, params, for_del)
    }

    fn create_jail(&mut self, params: &JailParams) -> Result<(), HostError> {
        warn_if_transient_mount_namespace();
        let run = RunDir::new(&self.run_dir);
        let base = {
            let _global = run
                .lock_global()
                .map_err(|e| io_error("lock the run dir", e))?;
            jail::ensure_private_run_dir(&self.run_dir)
                .map_err(|e| io_error("make the run dir a private mount", e))?;
            jail::ensure_base_namespace(&self.run_dir)
                .map_err(|e| io_error("prepare the base mount namespace", e))?
        };
        let pending = jail::create(&self.run_dir, base.as_fd(), params)
            .map_err(|e| io_error("create the jail's namespaces", e))?;
        if let Some(pending) = pending {
            self.sysfs.insert(params.name.clone(), pending);
        }
        Ok(())
    }

    fn remove_jail(&mut self, params: &JailParams, force: bool) -> Result<(), HostError> {
        // Our own handles would keep the jail's namespaces alive.
        self.jails.remove(&params.name);
        self.sysfs.remove(&params.name);
        self.dad.take(&params.name);
        jail::remove(&self.run_dir, params, force, &mut self.processes)
            .map_err(|e| io_error("remove the jail", e))
    }

    fn settle_addresses(&mut self, params: &JailParams) -> Result<(), HostError> {
        self.settle_jail(&params.name);
        let pending = self.dad.take(&params.name);
        if pending.is_empty() {
            return Ok(());
        }
        let mut indices = HashMap::new();
        for address in &pending {
            let index = self.index(Side::Host, "", &address.iface)?;
            indices.insert(address.iface.clone(), index);
        }
        let nl = self.host_netlink()?;
        dad::settle(&params.name, pending, dad::DAD_WAIT, |waiting| {
            let listed = nl.addresses(None).map_err(nl_error)?;
            Ok(waiting
                .iter()
                .map(|address| {
                    let index = indices.get(&address.iface);
                    listed
                        .iter()
                        .find(|a| Some(&a.index) == index && a.addr == address.addr)
                        .map(|a| a.dad)
                })
                .collect())
        })
    }

    fn perform(&mut self, params: &JailParams, op: &HostOp) -> Result<HostReply, HostError> {
        let jail = params.name.as_str();
        match op {
            HostOp::LinkExists { side, name } => {
                let found = self.netlink(*side, jail)?.link(name).map_err(nl_error)?;
                Ok(HostReply::Flag(found.is_some()))
            }
            HostOp::LinkMtu { name } => {
                let found = self.host_netlink()?.link(name).map_err(nl_error)?;
                Ok(HostReply::Number(found.map(|l| l.mtu).into()))
            }
            HostOp::ReadSysctl { name } => {
                let here = netns::current_netns().map_err(|e| io_error("open own namespace", e))?;
                netns::read_sysctl_in(here.as_fd(), &netns::sysctl_key(name))
                    .map(|v| HostReply::Text(v.trim().into()))
                    .map_err(|e| io_error(&format!("read sysctl {name}"), e))
            }
            HostOp::CreatePair { .. } => self.create_pair(jail, op).map(|()| HostReply::Done),
            HostOp::CreateBridge { name, mtu } => self
                .host_netlink()?
                .create_bridge(name, mtu.into_option())
                .map(|_| HostReply::Done)
                .map_err(nl_error),
            HostOp::AddBridgeMembers { bridge, members } => {
                let master = self
                    .index(Side::Host, jail, bridge)
                    .map_err(|_| not_found(format!("VNET bridge {bridge} does not exist")))?;
                for member in members.iter() {
                    self.host_netlink()?
                        .set_master(member, master)
                        .map_err(|e| {
                            if e.is_not_found() {
                                not_found(format!("interface {member} does not exist"))
                            } else {
                                nl_error(e)
                            }
                        })?;
                }
                Ok(HostReply::Done)
            }
            HostOp::MoveToJail { name } => self.move_to_jail(jail, name).map(|()| HostReply::Done),
            HostOp::RenameLink { side, from, to } => {
                let index = self.index(*side, jail, from)?;
                self.netlink(*side, jail)?
                    .rename(index, to, true)
                    .map(|()| HostReply::Done)
                    .map_err(nl_error)
            }
            HostOp::DestroyLink { side, name } => {
                let nl = self.netlink(*side, jail)?;
                match nl.link(name).map_err(nl_error)? {
                    None => Ok(HostReply::Done),
                    Some(link) => match nl.delete_link(link.index) {
                        Err(e) if !e.is_not_found() => Err(nl_error(e)),
                        _ => Ok(HostReply::Done),
                    },
                }
            }
            HostOp::AddAddress { link, address } => {
                let index = self.index(Side::Jail, jail, link)?;
                self.jail_netlink(jail)?
                    .add_optimistic_address(index, address.ip(), address.prefix())
                    .map(|()| HostReply::Done)
                    .map_err(nl_error)
            }
            HostOp::LoopbackUp => {
                let index = self.index(Side::Jail, jail, "lo")?;
                self.jail_netlink(jail)?
                    .set_up(index, true)
                    .map(|()| HostReply::Done)
                    .map_err(nl_error)
            }
            HostOp::AddRoute {
                destination,
                gateway,
                link,
            } => self
                .add_route(
                    jail,
                    destination.into_option().map(|d| d.get()),
                    gateway.into_option().map(|g| g.get()),
                    link.as_ref().map(|l| l.as_str()).into_option(),
                )
                .map(|()| HostReply::Done),
            HostOp::AcceptRouterAdvertisements { link } => {
                self.accept_rtadv(jail, link).map(|()| HostReply::Done)
            }
            HostOp::StartDhcp { link } => self.start_dhcp(jail, link).map(|()| HostReply::Done),
            HostOp::AddHostAlias { iface, address } => {
                self.add_host_alias(&params.name, iface, address)
            }
            HostOp::RemoveHostAlias { iface, address } => self
                .remove_host_alias(iface, address)
                .map(|()| HostReply::Done),
            HostOp::RunCommand { .. } => self.run_command(jail, op),
            HostOp::NftApply { script } => super::nft::apply(script).map(|()| HostReply::Done),
            HostOp::NftCheck { script } => super::nft::check(script).map(|()| HostReply::Done),
            HostOp::NftTableExists { family, table } => {
                let exists = self.nfnetlink()?.table_exists(*family, table);
                exists.map(HostReply::Flag).map_err(nl_error)
            }
            HostOp::NftReady => self
                .nfnetlink()?
                .ready()
                .map(|()| HostReply::Done)
                .map_err(nl_error),
            HostOp::NftChainExists {
                family,
                table,
                chain,
            } => {
                let exists = self.nfnetlink()?.chain_exists(*family, table, chain);
                exists.map(HostReply::Flag).map_err(nl_error)
            }
            HostOp::NftCommit { batch } => {
                let committed = self.nfnetlink()?.commit(batch);
                if committed.is_ok() && deletes(batch) {
                    self.close_nfnetlink_in_background();
                }
                committed.map(|()| HostReply::Done).map_err(nl_error)
            }
            HostOp::LearnAddresses { .. } => {
                super::learn::perform(RunDir::new(&self.run_dir).jail_dir(jail), op)
            }
            HostOp::EnableForwarding { link } => {
                let key = forwarding::linux_key(link);
                forwarding::hold(&self.run_dir, jail, &key, &mut forwarding::ProcSys)
                    .map(|()| HostReply::Done)
                    .map_err(|e| io_error(&format!("switch on {key}"), e))
            }
            HostOp::ReleaseForwarding { link } => {
                let key = forwarding::linux_key(link);
                forwarding::release(&self.run_dir, jail, &key, &mut forwarding::ProcSys)
                    .map(|()| HostReply::Done)
                    .map_err(|e| io_error(&format!("release {key}"), e))
            }
            HostOp::ProtectPort { .. }
            | HostOp::RegisterUndo { .. }
            | HostOp::CheckFirewall
            | HostOp::NatJail { .. } => Err(HostError::new(
                HostErrorKind::Unsupported,
                format!("{} is handled by the lifecycle, not the host", op.name()),
            )),
            HostOp::CniAdd { .. }
            | HostOp::CniCheck { .. }
            | HostOp::CniGc { .. }
            | HostOp::CniFindList { .. } => crate::cni::journaled::perform_direct(self, params, op),
            // Kept in the journal, which `ioc list` and `ioc get` read.
            HostOp::ReportAddresses { .. } => Ok(HostReply::Done),
            HostOp::SetJailDns { .. } => super::cni::set_dns(&self.run_dir, params, op),
            HostOp::DisableIpv6 { link } => match self.jail_netlink(jail)?.disable_ipv6(link) {
                Ok(()) => Ok(HostReply::Done),
                Err(e) if e.is_not_found() => Err(not_found(format!(
                    "interface {link} in the jail does not exist"
                ))),
                Err(e) => Err(nl_error(e)),
            },
        }
    }

    fn stop_learner(&mut self, params: &JailParams, port: &str) -> Result<(), HostError> {
        super::learn::stop(&RunDir::new(&self.run_dir).jail_dir(&params.name), port)
    }

    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Result<bool, HostError> {
        let index = self
            .index(Side::Host, "", iface)
            .map_err(|_| not_found(format!("host interface {iface} does not exist")))?;
        let addresses = self
            .host_netlink()?
            .addresses(Some(index))
            .map_err(nl_error)?;
        Ok(addresses.iter().any(|a| a.addr == address.ip()))
    }

    fn run_hook(
        &mut self,
        params: &JailParams,
        point: HookPoint,
        command: &str,
        env: &[(String, String)],
    ) -> Result<(), HostError> {
        let mut cmd = self.command(point.side(), &params.name, "/bin/sh")?;
        cmd.arg("-c")
            .arg(command)
            .envs(env.iter().map(|(k, v)| (k, v)));
        exec::run_hook(cmd, command)
    }

    fn jail_released(&mut self, run: &RunDir) -> io::Result<()> {
        let _global = run.lock_global()?;
        jail::release_run_dir(run.path())
    }

    /// A few links are deleted from detached processes, which also hold the netfilter socket
    /// (opened here if need be, a few microseconds) so that a Secure VNET port table's deletion
    /// after the link needs no process of its own to close it.
    fn await_links_gone(&mut self, names: &[String], timeout: std::time::Duration) -> Vec<String> {
        let few = !names.is_empty() && names.len() <= super::gone::DETACHED_MAX;
        if few && self.nft.is_none() {
            let _ = self.nfnetlink();
        }
        let _ = self.host_netlink();
        let held_before = self.holding.len();
        let hold = self.nft.as_ref().filter(|_| few).map(|nft| nft.as_fd());
        let left = super::gone::await_links_gone(
            self.host.as_mut(),
            names,
            timeout,
            hold,
            &mut self.holding,
        );
        if self.holding.len() > held_before {
            self.nft_held = true;
        }
        left
    }
}
