//! FreeBSD command lines, following libioc (see shared/reference/freebsd-behaviour.md).

use std::net::IpAddr;

use ioc_sdk::{Cidr, HostOp, IpMode, Mac, Side};

use super::{Command, RenderContext};
use crate::step::{JailParams, Step};

pub mod learn;

pub const IFCONFIG: &str = "/sbin/ifconfig";
pub const JAIL: &str = "/usr/sbin/jail";
pub const JEXEC: &str = "/usr/sbin/jexec";
pub const ROUTE: &str = "/sbin/route";
pub const SH: &str = "/bin/sh";

/// `ifconfig epair create up`: prints the new `epairNa`, which the next commands rename.
pub fn epair_create() -> Command {
    Command::new([IFCONFIG, "epair", "create", "up"])
}

/// Renders a step; `CreatePair` uses the context's simulated epair unit.
pub fn render(ctx: &mut RenderContext, params: &JailParams, step: &Step) -> Vec<Command> {
    match step {
        Step::CreateJail(p) => vec![create_jail(p)],
        Step::RemoveJail(p) => remove_jail(p),
        Step::Hook { point, command } => {
            vec![in_side(params, point.side(), [SH, "-c", command.as_str()])]
        }
        Step::Op(op @ HostOp::CreatePair { .. }) => {
            let epair_a = ctx.next_epair();
            create_pair(op, &epair_a)
        }
        Step::Op(HostOp::AddAddress { link, address }) => {
            let first = ctx.first_address(&params.name, link, address.is_v6());
            vec![jexec(params, add_address(link, address, first))]
        }
        Step::Op(op) => op_commands(params, op),
        Step::CniDel(run) => super::cni::del(run, &params.kernel_name()),
    }
}

/// `jail -c`, with kernel values for the jailsys params (disable=0, new=1, inherit=2).
pub fn create_jail(p: &JailParams) -> Command {
    let flag = |b: bool| if b { "1" } else { "0" };
    let mut argv = vec![
        JAIL.to_string(),
        "-c".into(),
        format!("name={}", p.kernel_name()),
        format!("jid={}", p.jid),
        format!("host.hostname={}", p.hostname),
    ];
    match &p.root {
        // As libioc: the jail's own devfs with iocage's ruleset, a clean environment for
        // jexec, and the user's mounts as nullfs (jail(8) mounts them before creating it).
        Some(root) => {
            argv.push(format!("path={}", root.path));
            argv.push("mount.devfs=1".into());
            argv.push(format!("devfs_ruleset={DEVFS_RULESET}"));
            argv.push("exec.clean=1".into());
            for m in &root.mounts {
                let options = if m.read_only { "ro" } else { "rw" };
                argv.push(format!(
                    "mount={} {}{} nullfs {options} 0 0",
                    m.source, root.path, m.target
                ));
            }
        }
        None => argv.push("path=/".into()),
    }
    if p.vnet {
        argv.push("vnet=1".into());
    } else {
        let families = [
            ("ip4", p.ip4, &p.ip4_addresses, p.ip4_saddrsel),
            ("ip6", p.ip6, &p.ip6_addresses, p.ip6_saddrsel),
        ];
        for (family, mode, addresses, saddrsel) in families {
            argv.push(format!("{family}={}", mode.kernel_value()));
            // Only a jail with its own addresses (new) takes an address list; jail(8) refuses
            // one with inherit or disable.
            if mode == IpMode::New && !addresses.is_empty() {
                argv.push(format!("{family}.addr={}", join_ips(addresses)));
            }
            argv.push(format!("{family}.saddrsel={}", flag(saddrsel)));
        }
    }
    argv.push(format!("allow.raw_sockets={}", flag(p.allow_raw_sockets)));
    argv.push("persist".into());
    Command { argv, stdin: None }
}

/// iocage's default devfs ruleset for jails.
pub const DEVFS_RULESET: u32 = 4;

/// `umount(8)`.
pub const UMOUNT: &str = "/sbin/umount";

/// `jail -r`, then for a jail with its own root the unmounts of what its creation mounted
/// (jail(8) forgets them once the jail is made): the user's mounts in reverse, then devfs.
pub fn remove_jail(p: &JailParams) -> Vec<Command> {
    let mut commands = vec![Command::new([JAIL, "-r", &p.kernel_name()])];
    commands.extend(root_unmounts(p));
    commands
}

/// The unmounts of a jail's root (none for a jail on the host's root).
pub fn root_unmounts(p: &JailParams) -> Vec<Command> {
    let Some(root) = &p.root else {
        return Vec::new();
    };
    let mut commands: Vec<Command> = root
        .mounts
        .iter()
        .rev()
        .map(|m| Command::new([UMOUNT, "-f", &format!("{}{}", root.path, m.target)]))
        .collect();
    commands.push(Command::new([UMOUNT, &format!("{}/dev", root.path)]));
    commands
}

fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `epair create`, assumed to print `epair_a`, then its configuration.
fn create_pair(op: &HostOp, epair_a: &str) -> Vec<Command> {
    let mut cmds = vec![epair_create()];
    cmds.extend(configure_pair(op, epair_a));
    cmds
}

/// The two commands that give a fresh epair its MACs, MTU, description and final names.
pub fn configure_pair(op: &HostOp, epair_a: &str) -> Vec<Command> {
    let HostOp::CreatePair {
        host,
        peer,
        host_mac,
        peer_mac,
        mtu,
        description,
        ..
    } = op
    else {
        return Vec::new();
    };
    let epair_b = format!("{}b", epair_a.trim_end_matches('a'));
    let end = |dev: &str, mac: Option<Mac>, desc: &str, name: &str| {
        let mut argv = vec![IFCONFIG.to_string(), dev.to_string()];
        if let Some(mac) = mac {
            argv.extend(["link".into(), mac.to_string()]);
        }
        if let Some(mtu) = mtu.into_option() {
            argv.extend(["mtu".into(), mtu.to_string()]);
        }
        if !desc.is_empty() {
            argv.extend(["description".into(), desc.to_string()]);
        }
        argv.extend(["name".into(), name.to_string(), "up".into()]);
        Command { argv, stdin: None }
    };
    vec![
        end(epair_a, host_mac.into_option(), description, host),
        end(&epair_b, peer_mac.into_option(), "", peer),
    ]
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "inet6"
    } else {
        "inet"
    }
}

fn add_address(link: &str, address: &Cidr, first: bool) -> Vec<String> {
    let mut argv = vec![
        IFCONFIG.to_string(),
        link.to_string(),
        family(address.is_v6()).into(),
        address.to_string(),
    ];
    if !first {
        argv.push("alias".into());
    }
    argv
}

/// A command run in the jail through jexec.
fn jexec(params: &JailParams, argv: Vec<String>) -> Command {
    let mut full = vec![JEXEC.to_string(), params.kernel_name()];
    full.extend(argv);
    Command {
        argv: full,
        stdin: None,
    }
}

fn in_side<I, S>(params: &JailParams, side: Side, argv: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let argv: Vec<String> = argv.into_iter().map(Into::into).collect();
    match side {
        Side::Host => Command { argv, stdin: None },
        Side::Jail => jexec(params, argv),
    }
}

/// A gateway as route(8) wants it: link-local IPv6 scoped to its interface.
fn gateway_text(gw: IpAddr, link: Option<&str>) -> String {
    match (gw, link) {
        (IpAddr::V6(v6), Some(link)) if v6.segments()[0] & 0xffc0 == 0xfe80 => {
            format!("{v6}%{link}")
        }
        _ => gw.to_string(),
    }
}

fn route(
    params: &JailParams,
    destination: Option<IpAddr>,
    gateway: Option<IpAddr>,
    link: Option<&str>,
) -> Command {
    let v6 = destination.or(gateway).is_some_and(|a| a.is_ipv6());
    let mut argv = vec![ROUTE.to_string(), "-q".into(), "add".into()];
    match (destination, gateway) {
        (None, Some(gw)) => {
            if v6 {
                argv.push("-inet6".into());
            }
            argv.push("default".into());
            argv.push(gateway_text(gw, link));
        }
        (Some(dst), _) => {
            argv.push(if v6 { "-inet6" } else { "-inet" }.into());
            argv.push(dst.to_string());
            match gateway {
                Some(gw) => argv.push(gateway_text(gw, link)),
                None => {
                    argv.push("-interface".into());
                    argv.push(link.unwrap_or_default().to_string());
                }
            }
        }
        (None, None) => {}
    }
    jexec(params, argv)
}

/// Commands for the primitives whose rendering needs no context.
pub fn op_commands(params: &JailParams, op: &HostOp) -> Vec<Command> {
    let ifc = |args: &[&str]| {
        let mut argv = vec![IFCONFIG.to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv
    };
    match op {
        HostOp::LinkExists { .. }
        | HostOp::LinkMtu { .. }
        | HostOp::ReadSysctl { .. }
        | HostOp::NftCheck { .. }
        | HostOp::NftTableExists { .. }
        | HostOp::NftChainExists { .. }
        | HostOp::NftReady => vec![],
        HostOp::ProtectPort { .. }
        | HostOp::RegisterUndo { .. }
        | HostOp::CheckFirewall
        | HostOp::NatJail { .. } => vec![],
        // Host-wide on FreeBSD; the release is conditional and shown as its effect.
        HostOp::EnableForwarding { .. } => vec![Command::new([
            "/sbin/sysctl".to_string(),
            format!("{}=1", crate::host::forwarding::FREEBSD_KEY),
        ])],
        HostOp::ReleaseForwarding { .. } => vec![Command::new([
            "/sbin/sysctl".to_string(),
            format!("{}=0", crate::host::forwarding::FREEBSD_KEY),
        ])],
        // nftables does not exist on FreeBSD; the host refuses the op.
        HostOp::NftCommit { .. } => vec![],
        // The learner's command line; an nftables sink has none here (the host refuses it).
        HostOp::LearnAddresses { .. } => learn::learner_command(op)
            .and_then(Result::ok)
            .into_iter()
            .collect(),
        HostOp::CreatePair { .. } => create_pair(op, "epair0a"),
        HostOp::CreateBridge { name, mtu } => {
            let mut argv = ifc(&["bridge", "create", "name", name]);
            if let Some(mtu) = mtu.into_option() {
                argv.extend(["mtu".into(), mtu.to_string()]);
            }
            argv.push("up".into());
            vec![Command { argv, stdin: None }]
        }
        HostOp::AddBridgeMembers { bridge, members } => {
            let mut argv = ifc(&[bridge]);
            for m in members.iter() {
                argv.extend(["addm".into(), m.to_string()]);
            }
            argv.push("up".into());
            vec![Command { argv, stdin: None }]
        }
        HostOp::MoveToJail { name } => {
            vec![Command::new(ifc(&[name, "vnet", &params.kernel_name()]))]
        }
        HostOp::RenameLink { side, from, to } => {
            vec![in_side(params, *side, ifc(&[from, "name", to]))]
        }
        HostOp::DestroyLink { side, name } => vec![in_side(params, *side, ifc(&[name, "destroy"]))],
        HostOp::AddAddress { link, address } => {
            vec![jexec(params, add_address(link, address, true))]
        }
        HostOp::LoopbackUp => vec![jexec(params, ifc(&["lo0", "localhost"]))],
        HostOp::AddRoute {
            destination,
            gateway,
            link,
        } => vec![route(
            params,
            destination.into_option().map(|d| d.get()),
            gateway.into_option().map(|g| g.get()),
            link.as_ref().map(|l| l.as_str()).into_option(),
        )],
        HostOp::AcceptRouterAdvertisements { link } => vec![
            jexec(params, ifc(&[link, "inet6", "-ifdisabled", "accept_rtadv"])),
            jexec(params, vec!["/usr/sbin/rtsold".into(), link.to_string()]),
        ],
        HostOp::StartDhcp { link } => vec![jexec(
            params,
            vec!["/sbin/dhclient".into(), link.to_string()],
        )],
        HostOp::AddHostAlias { iface, address } => {
            let addr = address.to_string();
            vec![Command::new(ifc(&[
                iface,
                family(address.is_v6()),
                &addr,
                "alias",
            ]))]
        }
        HostOp::RemoveHostAlias { iface, address } => {
            let addr = address.to_string();
            vec![Command::new(ifc(&[
                iface,
                family(address.is_v6()),
                &addr,
                "remove",
            ]))]
        }
        HostOp::RunCommand {
            side, argv, stdin, ..
        } => {
            let mut cmd = in_side(params, *side, argv.iter().map(|a| a.to_string()));
            cmd.stdin = stdin.as_ref().map(|s| s.to_string()).into_option();
            vec![cmd]
        }
        HostOp::NftApply { script } => {
            vec![Command::new(["nft", "-f", "-"]).with_stdin(script.as_str())]
        }
        // CNI_NETNS is the jail's name on FreeBSD.
        HostOp::CniAdd { attachment } => super::cni::add(attachment, &params.kernel_name()),
        HostOp::CniGc { attachment, valid } => super::cni::gc(attachment, valid),
        // A query, and ioc's own state: no command.
        HostOp::CniCheck { .. } | HostOp::CniFindList { .. } | HostOp::ReportAddresses { .. } => {
            vec![]
        }
        HostOp::SetJailDns { .. } => {
            let text = crate::cni::dns::resolv_conf(op).unwrap_or_default();
            vec![jexec(
                params,
                vec![SH.into(), "-c".into(), "cat > /etc/resolv.conf".into()],
            )
            .with_stdin(text)]
        }
        // Nothing to run: with FreeBSD's default `ipv6_activate_all_interfaces=NO`, a new
        // interface is already `inet6 ifdisabled` (devd runs /etc/pccard_ether for it), which is
        // what Linux is made to match; iocage issues no command for it either.
        HostOp::DisableIpv6 { .. } => vec![],
    }
}
