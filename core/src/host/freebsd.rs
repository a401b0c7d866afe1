//! `FreeBsdHost`: carries out primitives with the commands the FreeBSD renderer produces.
//!
//! Executing the rendered commands (instead of a second implementation) keeps a dry run and a
//! real start identical by construction; only `epair create`, whose output names the new pair,
//! and the queries need code of their own.
//!
//! The module builds on every platform (it only runs programs), so its parsing is tested on the
//! Linux machines we build on; ioc only instantiates it on FreeBSD.

use std::net::IpAddr;
use std::process::Command as Process;

use ioc_sdk::{Cidr, HostError, HostErrorKind, HostOp, HostReply, Platform, Side};

use super::dad::{self, Dad, DadWatch};
use super::exec::{self, run};
use super::forwarding;
use super::Backend;
use crate::render::freebsd::{self as fb, IFCONFIG, JEXEC};
use crate::render::{Command, RenderContext};
use crate::runtime::RunDir;
use crate::step::{HookPoint, JailParams, Step};

mod learner;

pub struct FreeBsdHost {
    render: RenderContext,
    /// Where each jail's learners are recorded (see [`learner`]).
    run: RunDir,
    /// IPv6 aliases added for each jail in this command, still to pass DAD (see [`dad`]).
    dad: DadWatch,
    /// Runs CNI plugins, made on first use.
    cni: Option<crate::cni::Engine>,
}

impl FreeBsdHost {
    pub fn new(run: &RunDir) -> FreeBsdHost {
        FreeBsdHost {
            render: RenderContext::new(Platform::FreeBsd, run.path()),
            run: run.clone(),
            dad: DadWatch::default(),
            cni: None,
        }
    }
}

/// FreeBSD's forwarding switch through sysctl(8), for [`forwarding`].
struct SysctlCommand;

impl forwarding::Switch for SysctlCommand {
    fn read(&mut self, key: &str) -> std::io::Result<String> {
        run_checked(&Command::new(["/sbin/sysctl", "-n", key])).map_err(std::io::Error::other)
    }
    fn write(&mut self, key: &str, value: &str) -> std::io::Result<()> {
        run_checked(&Command::new([
            "/sbin/sysctl".to_string(),
            format!("{key}={value}"),
        ]))
        .map(drop)
        .map_err(std::io::Error::other)
    }
}

/// The process a rendered command describes.
fn process(cmd: &Command) -> Result<Process, HostError> {
    let (program, args) = cmd
        .argv
        .split_first()
        .ok_or_else(|| HostError::new(HostErrorKind::Other, "empty command"))?;
    let mut process = Process::new(program);
    process.args(args);
    Ok(process)
}

/// Runs a rendered command; a non-zero exit is an error (NotFound when the tool says so).
fn run_checked(cmd: &Command) -> Result<String, HostError> {
    let out = run(process(cmd)?, cmd.stdin.as_deref())?;
    if out.status != 0 {
        let stderr = out.stderr.trim().to_string();
        let kind = if stderr.contains("does not exist") || stderr.contains("not found") {
            HostErrorKind::NotFound
        } else if stderr.contains("File exists") || stderr.contains("already exists") {
            HostErrorKind::AlreadyExists
        } else {
            HostErrorKind::Other
        };
        return Err(HostError::new(
            kind,
            format!("`{}` failed: {stderr}", cmd.shell_line()),
        ));
    }
    Ok(out.stdout.to_string())
}

/// `ifconfig NAME`, in a jail through jexec when `jail` names one; `None` when the interface
/// does not exist.
fn ifconfig_show(jail: Option<&str>, name: &str) -> Result<Option<String>, HostError> {
    let mut argv = Vec::new();
    if let Some(jail) = jail {
        argv.extend([JEXEC.to_string(), jail.to_string()]);
    }
    argv.extend([IFCONFIG.to_string(), name.to_string()]);
    match run_checked(&Command::new(argv)) {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.kind == HostErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `mtu N` of an ifconfig listing.
fn parse_mtu(listing: &str) -> Option<u32> {
    let mut words = listing.split_whitespace();
    while let Some(w) = words.next() {
        if w == "mtu" {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// The DAD state of `addr` in an ifconfig listing: its `inet6` line's flags (`tentative`,
/// `duplicated`); `None` when the listing lacks the address.
fn parse_dad(listing: &str, addr: IpAddr) -> Option<Dad> {
    listing.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        if words.next() != Some("inet6") {
            return None;
        }
        let listed: IpAddr = words.next()?.split('%').next()?.parse().ok()?;
        if listed != addr {
            return None;
        }
        let flags: Vec<&str> = words.collect();
        Some(if flags.contains(&"duplicated") {
            Dad::Failed
        } else if flags.contains(&"tentative") {
            Dad::Tentative
        } else {
            Dad::Done
        })
    })
}

/// The addresses of an ifconfig listing (`inet A ...`, `inet6 A%scope ...`).
fn parse_addresses(listing: &str) -> Vec<IpAddr> {
    listing
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some("inet") | Some("inet6") => words.next()?.split('%').next()?.parse().ok(),
                _ => None,
            }
        })
        .collect()
}

impl Backend for FreeBsdHost {
    fn cni(&mut self) -> Result<&mut crate::cni::Engine, HostError> {
        let run_dir = self.run.path().to_path_buf();
        Ok(self
            .cni
            .get_or_insert_with(|| crate::cni::Engine::native(&run_dir)))
    }

    fn platform(&self) -> Platform {
        Platform::FreeBsd
    }

    fn create_jail(&mut self, params: &JailParams) -> Result<(), HostError> {
        run_checked(&fb::create_jail(params)).map(drop)
    }

    fn remove_jail(&mut self, params: &JailParams, _force: bool) -> Result<(), HostError> {
        self.dad.take(&params.name);
        // The learners serve the jail's ports only: they end with it.
        learner::stop_all(&self.run.jail_dir(&params.name))?;
        // jail -r ends every process of the jail (SIGTERM, then SIGKILL) and removes it.
        match run_checked(&Command::new([fb::JAIL, "-r", &params.kernel_name()])) {
            Err(e) if e.kind != HostErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // A jail with its own root: what jail(8) mounted; already gone is no error.
        for unmount in fb::root_unmounts(params) {
            let _ = run_checked(&unmount);
        }
        Ok(())
    }

    fn perform(&mut self, params: &JailParams, op: &HostOp) -> Result<HostReply, HostError> {
        match op {
            HostOp::LinkExists { side, name } => {
                let jail = (*side == Side::Jail).then(|| params.kernel_name());
                Ok(HostReply::Flag(
                    ifconfig_show(jail.as_deref(), name)?.is_some(),
                ))
            }
            HostOp::LinkMtu { name } => {
                let listing = ifconfig_show(None, name)?;
                Ok(HostReply::Number(
                    listing.and_then(|l| parse_mtu(&l)).into(),
                ))
            }
            HostOp::ReadSysctl { name } => {
                let out = run_checked(&Command::new(["/sbin/sysctl", "-n", name.as_str()]))?;
                Ok(HostReply::Text(out.trim().into()))
            }
            HostOp::CreatePair { .. } => {
                let epair_a = run_checked(&fb::epair_create())?.trim().to_string();
                for cmd in fb::configure_pair(op, &epair_a) {
                    if let Err(e) = run_checked(&cmd) {
                        // The pair exists under its epair name: do not leave it behind.
                        let _ = run_checked(&Command::new([IFCONFIG, &epair_a, "destroy"]));
                        return Err(e);
                    }
                }
                Ok(HostReply::Done)
            }
            HostOp::AddHostAlias { iface, address } => {
                for cmd in self.render.render(params, &Step::Op(op.clone())) {
                    run_checked(&cmd)?;
                }
                self.dad.added(&params.name, iface, address.ip());
                Ok(HostReply::Flag(true))
            }
            HostOp::RunCommand { .. } => {
                let cmds = self.render.render(params, &Step::Op(op.clone()));
                let cmd = cmds
                    .first()
                    .ok_or_else(|| HostError::new(HostErrorKind::Other, "empty command"))?;
                let mut process = process(cmd)?;
                if let HostOp::RunCommand { env, .. } = op {
                    process.envs(env.iter().map(|e| (e.key.as_str(), e.value.as_str())));
                }
                run(process, cmd.stdin.as_deref()).map(HostReply::Output)
            }
            HostOp::LearnAddresses { port, .. } => {
                let cmd = fb::learn::learner_command(op)
                    .into_iter()
                    .flatten()
                    .next()
                    .ok_or_else(|| {
                        HostError::new(
                            HostErrorKind::Unsupported,
                            "nftables sets do not exist on FreeBSD; the learner fills ipfw or pf tables there",
                        )
                    })?;
                // Returns once bpf is attached to the port (see `learner::spawn`).
                learner::spawn(&cmd, &self.run.jail_dir(&params.name), port)?;
                // bpf only watches: there is no queue for the rules to hand replies to.
                Ok(HostReply::Done)
            }
            HostOp::EnableForwarding { .. } | HostOp::ReleaseForwarding { .. } => {
                let run_dir = self.render.run_dir.clone();
                let key = forwarding::FREEBSD_KEY;
                let result = if matches!(op, HostOp::EnableForwarding { .. }) {
                    forwarding::hold(&run_dir, &params.name, key, &mut SysctlCommand)
                } else {
                    forwarding::release(&run_dir, &params.name, key, &mut SysctlCommand)
                };
                result
                    .map(|()| HostReply::Done)
                    .map_err(|e| HostError::new(HostErrorKind::Other, format!("{key}: {e}")))
            }
            HostOp::ProtectPort { .. }
            | HostOp::RegisterUndo { .. }
            | HostOp::CheckFirewall
            | HostOp::NatJail { .. } => Err(HostError::new(
                HostErrorKind::Unsupported,
                format!("{} is handled by the lifecycle, not the host", op.name()),
            )),
            // The plugins run as on Linux, with the jail's name as CNI_NETNS.
            HostOp::CniAdd { .. }
            | HostOp::CniCheck { .. }
            | HostOp::CniGc { .. }
            | HostOp::CniFindList { .. } => crate::cni::journaled::perform_direct(self, params, op),
            // Kept in the journal, which `ioc list` and `ioc get` read.
            HostOp::ReportAddresses { .. } => Ok(HostReply::Done),
            HostOp::NftApply { .. }
            | HostOp::NftCommit { .. }
            | HostOp::NftCheck { .. }
            | HostOp::NftTableExists { .. }
            | HostOp::NftChainExists { .. }
            | HostOp::NftReady => Err(HostError::new(
                HostErrorKind::Unsupported,
                "nftables does not exist on FreeBSD; use firewall=ipfw or firewall=pf",
            )),
            _ => {
                for cmd in self.render.render(params, &Step::Op(op.clone())) {
                    run_checked(&cmd)?;
                }
                Ok(HostReply::Done)
            }
        }
    }

    fn settle_addresses(&mut self, params: &JailParams) -> Result<(), HostError> {
        let pending = self.dad.take(&params.name);
        dad::settle(&params.name, pending, dad::DAD_WAIT, |waiting| {
            waiting
                .iter()
                .map(|address| {
                    let listing = ifconfig_show(None, &address.iface)?;
                    Ok(listing.and_then(|l| parse_dad(&l, address.addr)))
                })
                .collect()
        })
    }

    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Result<bool, HostError> {
        let listing = ifconfig_show(None, iface)?.ok_or_else(|| {
            HostError::new(
                HostErrorKind::NotFound,
                format!("host interface {iface} does not exist"),
            )
        })?;
        Ok(parse_addresses(&listing).contains(&address.ip()))
    }

    fn run_hook(
        &mut self,
        params: &JailParams,
        point: HookPoint,
        command: &str,
        env: &[(String, String)],
    ) -> Result<(), HostError> {
        let mut process = match point.side() {
            Side::Host => Process::new(fb::SH),
            Side::Jail => {
                let mut p = Process::new(JEXEC);
                p.arg(params.kernel_name()).arg(fb::SH);
                p
            }
        };
        process
            .arg("-c")
            .arg(command)
            .envs(env.iter().map(|(k, v)| (k, v)));
        exec::run_hook(process, command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifconfig_listings_are_parsed() {
        let listing =
            "bridge0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500\n\
            \tether 58:9c:fc:10:ff:b6\n\
            \tinet 10.23.42.1 netmask 0xffffff00 broadcast 10.23.42.255\n\
            \tinet6 fe80::5a9c:fcff:fe10:ffb6%bridge0 prefixlen 64 scopeid 0x3\n";
        assert_eq!(parse_mtu(listing), Some(1500));
        let em0 = "em0: flags=8863<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500\n\
            \tinet6 fe80::1%em0 prefixlen 64 scopeid 0x1\n\
            \tinet6 fd00:10::10 prefixlen 64 tentative\n\
            \tinet6 fd00:10::11 prefixlen 64 duplicated\n\
            \tinet6 fd00:10::12 prefixlen 64\n";
        let dad = |a: &str| parse_dad(em0, a.parse().unwrap());
        assert_eq!(dad("fd00:10::10"), Some(Dad::Tentative));
        assert_eq!(dad("fd00:10::11"), Some(Dad::Failed));
        assert_eq!(dad("fd00:10::12"), Some(Dad::Done));
        assert_eq!(dad("fe80::1"), Some(Dad::Done));
        assert_eq!(dad("fd00:10::13"), None);
        let addrs = parse_addresses(listing);
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[0].to_string(), "10.23.42.1");
    }
}
