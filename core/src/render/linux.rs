//! Linux command lines equivalent to what the Linux host does through netlink and setns.
//!
//! Jail-side commands enter the jail's pinned namespaces with nsenter; the namespace files live
//! under the runtime dir (`<run>/jails/<name>/ns/{net,uts,mnt}`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ioc_sdk::{Cidr, HostOp, LearnSink, Mac, Side};

use super::{Command, RenderContext};
use crate::step::{JailParams, Step, LINUX_JAIL_NET_SYSCTLS};

/// Where a jail's namespaces are pinned.
pub fn ns_dir(run_dir: &Path, jail: &str) -> PathBuf {
    run_dir.join("jails").join(jail).join("ns")
}

pub fn render(ctx: &mut RenderContext, params: &JailParams, step: &Step) -> Vec<Command> {
    let ns = ns_dir(&ctx.run_dir, &params.name);
    let moved = &mut ctx.born_in_jail;
    let pin = |kind: &str| ns.join(kind).display().to_string();
    let in_net = |argv: Vec<String>| {
        let mut full = vec!["nsenter".to_string(), format!("--net={}", pin("net"))];
        full.extend(argv);
        Command {
            argv: full,
            stdin: None,
        }
    };
    let in_jail = |argv: Vec<String>| {
        let mut full = vec![
            "nsenter".to_string(),
            format!("--net={}", pin("net")),
            format!("--uts={}", pin("uts")),
            format!("--mount={}", pin("mnt")),
        ];
        full.extend(argv);
        Command {
            argv: full,
            stdin: None,
        }
    };
    let ip = |args: &[&str]| {
        let mut argv = vec!["ip".to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv
    };
    // The host gives an IPv4 address its broadcast address (netlink's IFA_BROADCAST, for
    // prefixes up to /30), which `broadcast +` reproduces; the same for a jail's address and
    // a host alias.
    let addr_add = |address: &Cidr, link: &str| {
        let addr = address.to_string();
        let mut argv = ip(&["addr", "add", &addr]);
        if !address.is_v6() {
            argv.extend(["broadcast".into(), "+".into()]);
        }
        argv.extend(["dev".into(), link.to_string()]);
        argv
    };
    match step {
        // The `ns` dir is a private mount of its own, holding the pins (one unmount on stop).
        Step::CreateJail(p) if p.vnet => {
            let mut cmds = ns_mount(&ctx.run_dir, &p.name);
            cmds.push(create_jail(&ctx.run_dir, p));
            cmds
        }
        // A shared-IP jail keeps the host's network stack; pin it so exec finds it again.
        Step::CreateJail(p) => {
            let mut cmds = ns_mount(&ctx.run_dir, &p.name);
            cmds.extend([
                Command::new(["touch", &pin("net")]),
                Command::new(["mount", "--bind", "/proc/self/ns/net", &pin("net")]),
                create_jail(&ctx.run_dir, p),
            ]);
            cmds
        }
        // Unmounting the `ns` dir takes the pins inside with it.
        Step::RemoveJail(p) => {
            let ns = ns_dir(&ctx.run_dir, &p.name).display().to_string();
            vec![Command::new(["umount", "--lazy", &ns])]
        }
        Step::Hook { point, command } => {
            let argv = vec!["/bin/sh".to_string(), "-c".into(), command.clone()];
            vec![match point.side() {
                Side::Host => Command { argv, stdin: None },
                Side::Jail => in_jail(argv),
            }]
        }
        Step::CniDel(run) => super::cni::del(run, &pin("net")),
        Step::Op(op) => match op {
            HostOp::LinkExists { .. }
            | HostOp::LinkMtu { .. }
            | HostOp::ReadSysctl { .. }
            | HostOp::NftCheck { .. }
            | HostOp::NftTableExists { .. }
            | HostOp::NftChainExists { .. }
            | HostOp::NftReady => {
                vec![]
            }
            HostOp::LearnAddresses {
                port,
                mac,
                dhcp4,
                slaac,
                sink,
            } => learner(port, *mac, *dhcp4, *slaac, sink)
                .into_iter()
                .collect(),
            HostOp::EnableForwarding { link } => vec![Command::new([
                "sysctl".to_string(),
                "-qw".to_string(),
                format!("{}=1", crate::host::forwarding::linux_key(link)),
            ])],
            // Conditional (the last holder, only what ioc switched on); shown as its effect.
            HostOp::ReleaseForwarding { link } => vec![Command::new([
                "sysctl".to_string(),
                "-qw".to_string(),
                format!("{}=0", crate::host::forwarding::linux_key(link)),
            ])],
            HostOp::ProtectPort { .. }
            | HostOp::RegisterUndo { .. }
            | HostOp::CheckFirewall
            | HostOp::NatJail { .. } => {
                vec![]
            }
            HostOp::CreatePair {
                host,
                peer,
                peer_in_jail,
                host_mac,
                peer_mac,
                mtu,
                description,
            } => {
                let end = |name: &str, mac: Option<Mac>| {
                    let mut argv = vec![name.to_string()];
                    if let Some(mac) = mac {
                        argv.extend(["address".into(), mac.to_string()]);
                    }
                    if let Some(mtu) = mtu.into_option() {
                        argv.extend(["mtu".into(), mtu.to_string()]);
                    }
                    argv
                };
                let mut add = ip(&["link", "add"]);
                add.extend(end(host, host_mac.into_option()));
                add.extend(["type".into(), "veth".into(), "peer".into(), "name".into()]);
                add.extend(end(peer, peer_mac.into_option()));
                let mut up = ip(&["link", "set", host]);
                if !description.is_empty() {
                    up.extend(["alias".into(), description.to_string()]);
                }
                up.push("up".into());
                if *peer_in_jail {
                    // Born in the jail: no move later (and it comes up with its final name).
                    add.extend(["netns".into(), pin("net")]);
                    moved.insert(peer.to_string());
                    return vec![Command::new(add), Command::new(up)];
                }
                vec![
                    Command::new(add),
                    Command::new(up),
                    Command::new(ip(&["link", "set", peer, "up"])),
                ]
            }
            HostOp::CreateBridge { name, mtu } => {
                let mut argv = ip(&["link", "add", name]);
                if let Some(mtu) = mtu.into_option() {
                    argv.extend(["mtu".into(), mtu.to_string()]);
                }
                argv.extend(["type".into(), "bridge".into()]);
                vec![
                    Command::new(argv),
                    Command::new(ip(&["link", "set", name, "up"])),
                ]
            }
            HostOp::AddBridgeMembers { bridge, members } => members
                .iter()
                .map(|m| Command::new(ip(&["link", "set", m, "master", bridge])))
                .collect(),
            HostOp::MoveToJail { name } if moved.contains(name.as_str()) => vec![],
            HostOp::MoveToJail { name } => {
                vec![Command::new(ip(&[
                    "link",
                    "set",
                    name,
                    "netns",
                    &pin("net"),
                ]))]
            }
            HostOp::RenameLink { side, from, to } => {
                let argv = ip(&["link", "set", from, "name", to, "up"]);
                vec![match side {
                    Side::Host => Command::new(argv),
                    Side::Jail => in_net(argv),
                }]
            }
            HostOp::DestroyLink { side, name } => {
                let argv = ip(&["link", "del", name]);
                vec![match side {
                    Side::Host => Command::new(argv),
                    Side::Jail => in_net(argv),
                }]
            }
            HostOp::AddAddress { link, address } => {
                // See `LINUX_JAIL_NET_SYSCTLS`: a jail's IPv6 addresses are usable at once.
                let mut argv = addr_add(address, link);
                if address.is_v6() {
                    argv.push("optimistic".into());
                }
                vec![in_net(argv)]
            }
            HostOp::LoopbackUp => vec![in_net(ip(&["link", "set", "lo", "up"]))],
            HostOp::AddRoute {
                destination,
                gateway,
                link,
            } => {
                let destination = destination.into_option().map(|d| d.get());
                let gateway = gateway.into_option().map(|g| g.get());
                let v6 = destination.or(gateway).is_some_and(|a| a.is_ipv6());
                let mut argv = ip(if v6 {
                    &["-6", "route", "add"]
                } else {
                    &["route", "add"]
                });
                argv.push(destination.map_or("default".into(), |d: IpAddr| d.to_string()));
                if let Some(gw) = gateway {
                    argv.extend(["via".into(), gw.to_string()]);
                }
                if let Some(link) = link.as_ref().into_option() {
                    argv.extend(["dev".into(), link.to_string()]);
                }
                vec![in_net(argv)]
            }
            HostOp::AcceptRouterAdvertisements { link } => vec![in_net(vec![
                "sysctl".into(),
                "-qw".into(),
                format!("net.ipv6.conf.{}.accept_ra=1", link.replace('.', "/")),
            ])],
            HostOp::StartDhcp { link } => vec![in_jail(vec![
                "dhclient".into(),
                "-nw".into(),
                link.to_string(),
            ])],
            HostOp::AddHostAlias { iface, address } => {
                vec![Command::new(addr_add(address, iface))]
            }
            HostOp::RemoveHostAlias { iface, address } => {
                let addr = address.to_string();
                vec![Command::new(ip(&["addr", "del", &addr, "dev", iface]))]
            }
            HostOp::RunCommand {
                side, argv, stdin, ..
            } => {
                let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
                let mut cmd = match side {
                    Side::Host => Command::new(argv),
                    Side::Jail => in_jail(argv),
                };
                cmd.stdin = stdin.as_ref().map(|s| s.to_string()).into_option();
                vec![cmd]
            }
            HostOp::NftApply { script } => {
                vec![Command::new(["nft", "-f", "-"]).with_stdin(script.as_str())]
            }
            HostOp::NftCommit { batch } if batch.commands.is_empty() => vec![],
            HostOp::NftCommit { batch } => {
                vec![Command::new(["nft", "-f", "-"]).with_stdin(super::nft_text::batch(batch))]
            }
            // CNI_NETNS is the jail's pinned network namespace on Linux.
            HostOp::CniAdd { attachment } => super::cni::add(attachment, &pin("net")),
            HostOp::CniGc { attachment, valid } => super::cni::gc(attachment, valid),
            // A query, and ioc's own state: no command.
            HostOp::CniCheck { .. }
            | HostOp::CniFindList { .. }
            | HostOp::ReportAddresses { .. } => vec![],
            // The jail's private copy, bind-mounted on its /etc/resolv.conf.
            HostOp::SetJailDns { .. } => {
                let file = ctx
                    .run_dir
                    .join("jails")
                    .join(&params.name)
                    .join("resolv.conf");
                let script = format!("cat > {}", super::quote(&file.display().to_string()));
                let text = crate::cni::dns::resolv_conf(op).unwrap_or_default();
                vec![Command::new(["/bin/sh", "-c", &script]).with_stdin(text)]
            }
            // IFLA_INET6_ADDR_GEN_MODE none: no link-local address, so no DAD, MLD or RS.
            HostOp::DisableIpv6 { link } => {
                vec![in_net(ip(&["link", "set", link, "addrgenmode", "none"]))]
            }
        },
    }
}

/// The jail's `ns` dir made a private mount of its own, for the pins.
fn ns_mount(run_dir: &Path, name: &str) -> Vec<Command> {
    let ns = ns_dir(run_dir, name).display().to_string();
    vec![
        Command::new(["mount", "--bind", &ns, &ns]),
        Command::new(["mount", "--make-private", &ns]),
    ]
}

/// New namespaces pinned under the runtime dir, hostname set, private resolv.conf mounted.
fn create_jail(run_dir: &Path, p: &JailParams) -> Command {
    let ns = ns_dir(run_dir, &p.name);
    let mut argv = vec![
        "unshare".to_string(),
        format!("--mount={}", ns.join("mnt").display()),
        format!("--uts={}", ns.join("uts").display()),
    ];
    if p.vnet {
        argv.push(format!("--net={}", ns.join("net").display()));
    }
    if p.root.is_some() {
        argv.push(format!("--pid={}", ns.join("pid").display()));
        argv.push("--fork".into());
    }
    argv.extend(["--propagation".into(), "slave".into()]);
    let mut script = format!("hostname {}", super::quote(&p.hostname));
    if p.resolv_conf.is_some() && p.root.is_none() {
        let file = run_dir.join("jails").join(&p.name).join("resolv.conf");
        script.push_str(&format!(
            " && mount --bind {} /etc/resolv.conf",
            super::quote(&file.display().to_string())
        ));
    }
    if p.vnet {
        script.push_str(" && sysctl -qw");
        for (key, value) in LINUX_JAIL_NET_SYSCTLS {
            script.push_str(&format!(" {key}={value}"));
        }
        if p.root.is_none() {
            script.push_str(" && umount -l /sys && mount -t sysfs sysfs /sys");
        }
    }
    if let Some(root) = &p.root {
        let resolv = p
            .resolv_conf
            .as_ref()
            .map(|_| run_dir.join("jails").join(&p.name).join("resolv.conf"));
        script.push_str(&root_script(root, resolv.as_deref()));
    }
    argv.extend(["/bin/sh".into(), "-c".into(), script]);
    Command { argv, stdin: None }
}

/// What the init of a jail with its own root does before it reaps (see
/// `host::linux::jail::rootfs`): its file systems, the user's mounts, the pivot.
fn root_script(root: &crate::step::JailRoot, resolv: Option<&Path>) -> String {
    let r = super::quote(&root.path);
    let mut script = format!(
        " && mount --rbind {r} {r} && mount -t proc -o nosuid,nodev,noexec proc {r}/proc \
         && mount -t tmpfs -o nosuid,noexec,mode=755,size=64k tmpfs {r}/dev \
         && mknod -m 666 {r}/dev/null c 1 3 && mknod -m 666 {r}/dev/zero c 1 5 \
         && mknod -m 666 {r}/dev/full c 1 7 && mknod -m 666 {r}/dev/random c 1 8 \
         && mknod -m 666 {r}/dev/urandom c 1 9 && mknod -m 666 {r}/dev/tty c 5 0 \
         && mkdir {r}/dev/pts {r}/dev/shm && ln -s pts/ptmx {r}/dev/ptmx \
         && mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620 devpts {r}/dev/pts \
         && mount -t tmpfs -o nosuid,nodev,noexec,mode=1777 tmpfs {r}/dev/shm \
         && mount -t sysfs -o ro,nosuid,nodev,noexec sysfs {r}/sys \
         && mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs {r}/tmp"
    );
    if let Some(file) = resolv {
        script.push_str(&format!(
            " && mount --bind {} {r}/etc/resolv.conf",
            super::quote(&file.display().to_string())
        ));
    }
    for m in &root.mounts {
        let ro = if m.read_only { " -o ro" } else { "" };
        script.push_str(&format!(
            " && mount --rbind{ro} {} {}",
            super::quote(&m.source),
            super::quote(&format!("{}{}", root.path, m.target))
        ));
    }
    script.push_str(&format!(
        " && cd {r} && pivot_root . . && umount -l . && exec ioc-init"
    ));
    script
}

/// The learner's command line (it runs in the background until its port is gone; the host
/// waits for its `ready QUEUE` line). Linux learns into nftables sets only.
fn learner(port: &str, mac: Mac, dhcp4: bool, slaac: bool, sink: &LearnSink) -> Option<Command> {
    let LearnSink::NftSets {
        family,
        table,
        set4,
        set6,
    } = sink
    else {
        return None;
    };
    let sink = crate::learner::Sink {
        family: *family,
        table: table.to_string(),
        set4: set4.to_string(),
        set6: set6.to_string(),
    };
    let mut argv = vec!["ioc".to_string()];
    argv.extend(crate::learner::command_line(port, mac, &sink, dhcp4, slaac));
    Some(Command::new(argv))
}
