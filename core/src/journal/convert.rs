//! Conversions between the in-memory records (with the sdk's types) and the journal's own
//! serialized form (`record.rs`). Both directions are total: every in-memory record has a
//! disk form, and every well-formed disk record means exactly one in-memory record.

use std::net::IpAddr;

use ioc_sdk::{
    Address, AddressKind, Cidr, EnvVar, Gateway, HostOp, IpMode, Jail, Mac, Network, NetworkSpec,
    Nic, Platform, PortPolicy, Side, UndoAction,
};

use super::record::*;
use super::Record;
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, JailParams, Step, Undo};

impl From<&Record> for DiskRecord {
    fn from(r: &Record) -> DiskRecord {
        match r {
            Record::Begin(s) => DiskRecord::Begin(Box::new(s.as_ref().into())),
            Record::Step { step, undo } => DiskRecord::Step {
                step: step.into(),
                undo: undo.as_ref().map(DiskUndo::from),
            },
            Record::Undone { index } => DiskRecord::Undone { index: *index },
            Record::Started => DiskRecord::Started,
            Record::Stopping => DiskRecord::Stopping,
        }
    }
}

impl From<DiskRecord> for Record {
    fn from(r: DiskRecord) -> Record {
        match r {
            DiskRecord::Begin(s) => Record::Begin(Box::new((*s).into())),
            DiskRecord::Step { step, undo } => Record::Step {
                step: step.into(),
                undo: undo.map(Undo::from),
            },
            DiskRecord::Undone { index } => Record::Undone { index },
            DiskRecord::Started => Record::Started,
            DiskRecord::Stopping => Record::Stopping,
        }
    }
}

impl From<&Snapshot> for DiskSnapshot {
    fn from(s: &Snapshot) -> DiskSnapshot {
        DiskSnapshot {
            jail: (&s.jail).into(),
            params: (&s.params).into(),
            mode: s.mode.clone(),
            stop_hooks: s
                .stop_hooks
                .iter()
                .map(|(p, c)| ((*p).into(), c.clone()))
                .collect(),
            hook_env: s.hook_env.clone(),
        }
    }
}

impl From<DiskSnapshot> for Snapshot {
    fn from(s: DiskSnapshot) -> Snapshot {
        Snapshot {
            jail: s.jail.into(),
            params: s.params.into(),
            mode: s.mode,
            stop_hooks: s
                .stop_hooks
                .into_iter()
                .map(|(p, c)| (p.into(), c))
                .collect(),
            hook_env: s.hook_env,
        }
    }
}

impl From<&Jail> for DiskJail {
    fn from(j: &Jail) -> DiskJail {
        DiskJail {
            name: j.name().to_string(),
            jid: j.jid(),
            platform: match j.platform() {
                Platform::Linux => DiskPlatform::Linux,
                Platform::FreeBsd => DiskPlatform::FreeBsd,
            },
            network: j.network().into(),
            firewall: j.firewall().to_string(),
            properties: j
                .properties()
                .map(|(key, value)| DiskProperty {
                    key: key.to_string(),
                    value: value.to_string(),
                })
                .collect(),
        }
    }
}

impl From<DiskJail> for Jail {
    fn from(j: DiskJail) -> Jail {
        let platform = match j.platform {
            DiskPlatform::Linux => Platform::Linux,
            DiskPlatform::FreeBsd => Platform::FreeBsd,
        };
        Jail::new(
            &j.name,
            j.jid,
            platform,
            j.network.into(),
            &j.firewall,
            j.properties.into_iter().map(|p| (p.key, p.value)),
        )
    }
}

impl From<&Network> for DiskNetwork {
    fn from(n: &Network) -> DiskNetwork {
        DiskNetwork {
            vnet: n.vnet(),
            interfaces: n.interfaces().iter().map(DiskNic::from).collect(),
            ip4: n.ip4().iter().map(DiskAddress::from).collect(),
            ip6: n.ip6().iter().map(DiskAddress::from).collect(),
            defaultrouter: n.defaultrouter().map(DiskGateway::from),
            defaultrouter6: n.defaultrouter6().map(DiskGateway::from),
            ip4_mode: n.ip4_mode().into(),
            ip6_mode: n.ip6_mode().into(),
            ip4_saddrsel: n.ip4_saddrsel(),
            ip6_saddrsel: n.ip6_saddrsel(),
            allow_raw_sockets: n.allow_raw_sockets(),
        }
    }
}

impl From<DiskNetwork> for Network {
    fn from(n: DiskNetwork) -> Network {
        NetworkSpec {
            vnet: n.vnet,
            interfaces: n.interfaces.into_iter().map(Nic::from).collect(),
            ip4: n.ip4.into_iter().map(Address::from).collect(),
            ip6: n.ip6.into_iter().map(Address::from).collect(),
            defaultrouter: n.defaultrouter.map(Gateway::from),
            defaultrouter6: n.defaultrouter6.map(Gateway::from),
            ip4_mode: n.ip4_mode.into(),
            ip6_mode: n.ip6_mode.into(),
            ip4_saddrsel: n.ip4_saddrsel,
            ip6_saddrsel: n.ip6_saddrsel,
            allow_raw_sockets: n.allow_raw_sockets,
        }
        .into()
    }
}

impl From<&Nic> for DiskNic {
    fn from(n: &Nic) -> DiskNic {
        DiskNic {
            name: n.name().to_string(),
            bridge: n.bridge().map(str::to_string),
            secure: n.secure(),
            host_mac: n.host_mac().into(),
            jail_mac: n.jail_mac().into(),
        }
    }
}

impl From<DiskNic> for Nic {
    fn from(n: DiskNic) -> Nic {
        Nic::new(
            &n.name,
            n.bridge.as_deref(),
            n.secure,
            n.host_mac.into(),
            n.jail_mac.into(),
        )
    }
}

impl From<&Address> for DiskAddress {
    fn from(a: &Address) -> DiskAddress {
        DiskAddress {
            nic: a.nic().to_string(),
            kind: match a.kind() {
                AddressKind::Static(c) => DiskAddressKind::Static(c.into()),
                AddressKind::Dhcp => DiskAddressKind::Dhcp,
                AddressKind::AcceptRtadv => DiskAddressKind::AcceptRtadv,
            },
        }
    }
}

impl From<DiskAddress> for Address {
    fn from(a: DiskAddress) -> Address {
        let kind = match a.kind {
            DiskAddressKind::Static(c) => AddressKind::Static(c.into()),
            DiskAddressKind::Dhcp => AddressKind::Dhcp,
            DiskAddressKind::AcceptRtadv => AddressKind::AcceptRtadv,
        };
        Address::new(&a.nic, kind)
    }
}

impl From<&Gateway> for DiskGateway {
    fn from(g: &Gateway) -> DiskGateway {
        DiskGateway {
            ip: g.ip(),
            nic: g.nic().map(str::to_string),
        }
    }
}

impl From<DiskGateway> for Gateway {
    fn from(g: DiskGateway) -> Gateway {
        Gateway::new(g.ip, g.nic.as_deref())
    }
}

impl From<IpMode> for DiskIpMode {
    fn from(m: IpMode) -> DiskIpMode {
        match m {
            IpMode::Disable => DiskIpMode::Disable,
            IpMode::New => DiskIpMode::New,
            IpMode::Inherit => DiskIpMode::Inherit,
        }
    }
}

impl From<DiskIpMode> for IpMode {
    fn from(m: DiskIpMode) -> IpMode {
        match m {
            DiskIpMode::Disable => IpMode::Disable,
            DiskIpMode::New => IpMode::New,
            DiskIpMode::Inherit => IpMode::Inherit,
        }
    }
}

impl From<Cidr> for DiskCidr {
    fn from(c: Cidr) -> DiskCidr {
        DiskCidr {
            ip: c.ip(),
            prefix: c.prefix(),
        }
    }
}

impl From<DiskCidr> for Cidr {
    fn from(c: DiskCidr) -> Cidr {
        Cidr::new(c.ip, c.prefix)
    }
}

impl From<Mac> for DiskMac {
    fn from(m: Mac) -> DiskMac {
        DiskMac(m.0)
    }
}

impl From<DiskMac> for Mac {
    fn from(m: DiskMac) -> Mac {
        Mac(m.0)
    }
}

impl From<&JailParams> for DiskParams {
    fn from(p: &JailParams) -> DiskParams {
        DiskParams {
            name: p.name.clone(),
            jid: p.jid,
            hostname: p.hostname.clone(),
            vnet: p.vnet,
            ip4_addresses: p.ip4_addresses.clone(),
            ip6_addresses: p.ip6_addresses.clone(),
            ip4: p.ip4.into(),
            ip6: p.ip6.into(),
            ip4_saddrsel: p.ip4_saddrsel,
            ip6_saddrsel: p.ip6_saddrsel,
            allow_raw_sockets: p.allow_raw_sockets,
            resolv_conf: p.resolv_conf.clone(),
        }
    }
}

impl From<DiskParams> for JailParams {
    fn from(p: DiskParams) -> JailParams {
        JailParams {
            name: p.name,
            jid: p.jid,
            hostname: p.hostname,
            vnet: p.vnet,
            ip4_addresses: p.ip4_addresses,
            ip6_addresses: p.ip6_addresses,
            ip4: p.ip4.into(),
            ip6: p.ip6.into(),
            ip4_saddrsel: p.ip4_saddrsel,
            ip6_saddrsel: p.ip6_saddrsel,
            allow_raw_sockets: p.allow_raw_sockets,
            resolv_conf: p.resolv_conf,
        }
    }
}

/// Hook points pair up one to one; the table keeps both directions in one place.
const HOOK_POINTS: [(HookPoint, DiskHookPoint); 7] = [
    (HookPoint::ExecPrestart, DiskHookPoint::ExecPrestart),
    (HookPoint::ExecCreated, DiskHookPoint::ExecCreated),
    (HookPoint::ExecStart, DiskHookPoint::ExecStart),
    (HookPoint::ExecPoststart, DiskHookPoint::ExecPoststart),
    (HookPoint::ExecPrestop, DiskHookPoint::ExecPrestop),
    (HookPoint::ExecStop, DiskHookPoint::ExecStop),
    (HookPoint::ExecPoststop, DiskHookPoint::ExecPoststop),
];

impl From<HookPoint> for DiskHookPoint {
    fn from(p: HookPoint) -> DiskHookPoint {
        HOOK_POINTS
            .iter()
            .find(|(m, _)| *m == p)
            .map(|(_, d)| *d)
            .expect("every hook point has a journal form")
    }
}

impl From<DiskHookPoint> for HookPoint {
    fn from(p: DiskHookPoint) -> HookPoint {
        HOOK_POINTS
            .iter()
            .find(|(_, d)| *d == p)
            .map(|(m, _)| *m)
            .expect("every journal hook point has an in-memory form")
    }
}

impl From<Side> for DiskSide {
    fn from(s: Side) -> DiskSide {
        match s {
            Side::Host => DiskSide::Host,
            Side::Jail => DiskSide::Jail,
        }
    }
}

impl From<DiskSide> for Side {
    fn from(s: DiskSide) -> Side {
        match s {
            DiskSide::Host => Side::Host,
            DiskSide::Jail => Side::Jail,
        }
    }
}

impl From<&PortPolicy> for DiskPortPolicy {
    fn from(p: &PortPolicy) -> DiskPortPolicy {
        DiskPortPolicy {
            jail: p.jail().to_string(),
            jid: p.jid(),
            nic: p.nic().to_string(),
            port: p.port().to_string(),
            bridge: p.bridge().to_string(),
            mac: p.mac().into(),
            ipv4: p.ipv4().map(IpAddr::V4).collect(),
            ipv6: p.ipv6().map(IpAddr::V6).collect(),
            mtu: p.mtu(),
        }
    }
}

impl From<DiskPortPolicy> for PortPolicy {
    fn from(p: DiskPortPolicy) -> PortPolicy {
        PortPolicy::new(
            &p.jail,
            p.jid,
            &p.nic,
            &p.port,
            &p.bridge,
            p.mac.into(),
            p.ipv4.into_iter().chain(p.ipv6),
            p.mtu,
        )
    }
}

impl From<&UndoAction> for DiskUndoAction {
    fn from(a: &UndoAction) -> DiskUndoAction {
        match a {
            UndoAction::DestroyLink { name } => DiskUndoAction::DestroyLink {
                name: name.to_string(),
            },
            UndoAction::RemoveHostAlias { iface, address } => DiskUndoAction::RemoveHostAlias {
                iface: iface.to_string(),
                address: (*address).into(),
            },
            UndoAction::RunCommand { side, argv } => DiskUndoAction::RunCommand {
                side: (*side).into(),
                argv: strings(argv),
            },
        }
    }
}

impl From<DiskUndoAction> for UndoAction {
    fn from(a: DiskUndoAction) -> UndoAction {
        match a {
            DiskUndoAction::DestroyLink { name } => UndoAction::DestroyLink { name: name.into() },
            DiskUndoAction::RemoveHostAlias { iface, address } => UndoAction::RemoveHostAlias {
                iface: iface.into(),
                address: address.into(),
            },
            DiskUndoAction::RunCommand { side, argv } => UndoAction::RunCommand {
                side: side.into(),
                argv: argv.into_iter().map(Into::into).collect(),
            },
        }
    }
}

impl From<&Step> for DiskStep {
    fn from(s: &Step) -> DiskStep {
        match s {
            Step::CreateJail(p) => DiskStep::CreateJail(p.into()),
            Step::RemoveJail(p) => DiskStep::RemoveJail(p.into()),
            Step::Hook { point, command } => DiskStep::Hook {
                point: (*point).into(),
                command: command.clone(),
            },
            Step::Op(op) => DiskStep::Op(op.into()),
        }
    }
}

impl From<DiskStep> for Step {
    fn from(s: DiskStep) -> Step {
        match s {
            DiskStep::CreateJail(p) => Step::CreateJail(p.into()),
            DiskStep::RemoveJail(p) => Step::RemoveJail(p.into()),
            DiskStep::Hook { point, command } => Step::Hook {
                point: point.into(),
                command,
            },
            DiskStep::Op(op) => Step::Op(op.into()),
        }
    }
}

impl From<&Undo> for DiskUndo {
    fn from(u: &Undo) -> DiskUndo {
        match u {
            Undo::RemoveJail(p) => DiskUndo::RemoveJail(p.into()),
            Undo::DestroyLink { side, name } => DiskUndo::DestroyLink {
                side: (*side).into(),
                name: name.clone(),
            },
            Undo::RemoveHostAlias { iface, address } => DiskUndo::RemoveHostAlias {
                iface: iface.clone(),
                address: (*address).into(),
            },
            Undo::RemovePolicy { backend, policy } => DiskUndo::RemovePolicy {
                backend: backend.clone(),
                policy: policy.into(),
            },
            Undo::Plugin(a) => DiskUndo::Plugin(a.into()),
        }
    }
}

impl From<DiskUndo> for Undo {
    fn from(u: DiskUndo) -> Undo {
        match u {
            DiskUndo::RemoveJail(p) => Undo::RemoveJail(p.into()),
            DiskUndo::DestroyLink { side, name } => Undo::DestroyLink {
                side: side.into(),
                name,
            },
            DiskUndo::RemoveHostAlias { iface, address } => Undo::RemoveHostAlias {
                iface,
                address: address.into(),
            },
            DiskUndo::RemovePolicy { backend, policy } => Undo::RemovePolicy {
                backend,
                policy: policy.into(),
            },
            DiskUndo::Plugin(a) => Undo::Plugin(a.into()),
        }
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a abi_stable::std_types::RString>) -> Vec<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

fn opt_string(
    s: &abi_stable::std_types::ROption<abi_stable::std_types::RString>,
) -> Option<String> {
    s.as_ref().map(|s| s.to_string()).into_option()
}

impl From<&HostOp> for DiskOp {
    fn from(op: &HostOp) -> DiskOp {
        match op {
            HostOp::LinkExists { side, name } => DiskOp::LinkExists {
                side: (*side).into(),
                name: name.to_string(),
            },
            HostOp::LinkMtu { name } => DiskOp::LinkMtu {
                name: name.to_string(),
            },
            HostOp::ReadSysctl { name } => DiskOp::ReadSysctl {
                name: name.to_string(),
            },
            HostOp::CreatePair {
                host,
                peer,
                peer_in_jail,
                host_mac,
                peer_mac,
                mtu,
                description,
            } => DiskOp::CreatePair {
                host: host.to_string(),
                peer: peer.to_string(),
                peer_in_jail: *peer_in_jail,
                host_mac: host_mac.into_option().map(DiskMac::from),
                peer_mac: peer_mac.into_option().map(DiskMac::from),
                mtu: mtu.into_option(),
                description: description.to_string(),
            },
            HostOp::CreateBridge { name, mtu } => DiskOp::CreateBridge {
                name: name.to_string(),
                mtu: mtu.into_option(),
            },
            HostOp::AddBridgeMembers { bridge, members } => DiskOp::AddBridgeMembers {
                bridge: bridge.to_string(),
                members: strings(members),
            },
            HostOp::MoveToJail { name } => DiskOp::MoveToJail {
                name: name.to_string(),
            },
            HostOp::RenameLink { side, from, to } => DiskOp::RenameLink {
                side: (*side).into(),
                from: from.to_string(),
                to: to.to_string(),
            },
            HostOp::DestroyLink { side, name } => DiskOp::DestroyLink {
                side: (*side).into(),
                name: name.to_string(),
            },
            HostOp::AddAddress { link, address } => DiskOp::AddAddress {
                link: link.to_string(),
                address: (*address).into(),
            },
            HostOp::LoopbackUp => DiskOp::LoopbackUp,
            HostOp::AddRoute {
                destination,
                gateway,
                link,
            } => DiskOp::AddRoute {
                destination: destination.into_option().map(|ip| ip.get()),
                gateway: gateway.into_option().map(|ip| ip.get()),
                link: opt_string(link),
            },
            HostOp::AcceptRouterAdvertisements { link } => DiskOp::AcceptRouterAdvertisements {
                link: link.to_string(),
            },
            HostOp::StartDhcp { link } => DiskOp::StartDhcp {
                link: link.to_string(),
            },
            HostOp::AddHostAlias { iface, address } => DiskOp::AddHostAlias {
                iface: iface.to_string(),
                address: (*address).into(),
            },
            HostOp::RemoveHostAlias { iface, address } => DiskOp::RemoveHostAlias {
                iface: iface.to_string(),
                address: (*address).into(),
            },
            HostOp::RunCommand {
                side,
                argv,
                env,
                stdin,
            } => DiskOp::RunCommand {
                side: (*side).into(),
                argv: strings(argv),
                env: env
                    .iter()
                    .map(|v| DiskEnvVar {
                        key: v.key.to_string(),
                        value: v.value.to_string(),
                    })
                    .collect(),
                stdin: opt_string(stdin),
            },
            HostOp::NftApply { script } => DiskOp::NftApply {
                script: script.to_string(),
            },
            HostOp::NftCheck { script } => DiskOp::NftCheck {
                script: script.to_string(),
            },
            HostOp::ProtectPort { policy } => DiskOp::ProtectPort {
                policy: policy.into(),
            },
            HostOp::RegisterUndo { action } => DiskOp::RegisterUndo {
                action: action.into(),
            },
        }
    }
}

impl From<DiskOp> for HostOp {
    fn from(op: DiskOp) -> HostOp {
        match op {
            DiskOp::LinkExists { side, name } => HostOp::LinkExists {
                side: side.into(),
                name: name.into(),
            },
            DiskOp::LinkMtu { name } => HostOp::LinkMtu { name: name.into() },
            DiskOp::ReadSysctl { name } => HostOp::ReadSysctl { name: name.into() },
            DiskOp::CreatePair {
                host,
                peer,
                peer_in_jail,
                host_mac,
                peer_mac,
                mtu,
                description,
            } => HostOp::CreatePair {
                host: host.into(),
                peer: peer.into(),
                peer_in_jail,
                host_mac: host_mac.map(Mac::from).into(),
                peer_mac: peer_mac.map(Mac::from).into(),
                mtu: mtu.into(),
                description: description.into(),
            },
            DiskOp::CreateBridge { name, mtu } => HostOp::CreateBridge {
                name: name.into(),
                mtu: mtu.into(),
            },
            DiskOp::AddBridgeMembers { bridge, members } => HostOp::AddBridgeMembers {
                bridge: bridge.into(),
                members: members.into_iter().map(Into::into).collect(),
            },
            DiskOp::MoveToJail { name } => HostOp::MoveToJail { name: name.into() },
            DiskOp::RenameLink { side, from, to } => HostOp::RenameLink {
                side: side.into(),
                from: from.into(),
                to: to.into(),
            },
            DiskOp::DestroyLink { side, name } => HostOp::DestroyLink {
                side: side.into(),
                name: name.into(),
            },
            DiskOp::AddAddress { link, address } => HostOp::AddAddress {
                link: link.into(),
                address: address.into(),
            },
            DiskOp::LoopbackUp => HostOp::LoopbackUp,
            DiskOp::AddRoute {
                destination,
                gateway,
                link,
            } => HostOp::AddRoute {
                destination: destination.map(Into::into).into(),
                gateway: gateway.map(Into::into).into(),
                link: link.map(Into::into).into(),
            },
            DiskOp::AcceptRouterAdvertisements { link } => {
                HostOp::AcceptRouterAdvertisements { link: link.into() }
            }
            DiskOp::StartDhcp { link } => HostOp::StartDhcp { link: link.into() },
            DiskOp::AddHostAlias { iface, address } => HostOp::AddHostAlias {
                iface: iface.into(),
                address: address.into(),
            },
            DiskOp::RemoveHostAlias { iface, address } => HostOp::RemoveHostAlias {
                iface: iface.into(),
                address: address.into(),
            },
            DiskOp::RunCommand {
                side,
                argv,
                env,
                stdin,
            } => HostOp::RunCommand {
                side: side.into(),
                argv: argv.into_iter().map(Into::into).collect(),
                env: env
                    .into_iter()
                    .map(|v| EnvVar {
                        key: v.key.into(),
                        value: v.value.into(),
                    })
                    .collect(),
                stdin: stdin.map(Into::into).into(),
            },
            DiskOp::NftApply { script } => HostOp::NftApply {
                script: script.into(),
            },
            DiskOp::NftCheck { script } => HostOp::NftCheck {
                script: script.into(),
            },
            DiskOp::ProtectPort { policy } => HostOp::ProtectPort {
                policy: policy.into(),
            },
            DiskOp::RegisterUndo { action } => HostOp::RegisterUndo {
                action: action.into(),
            },
        }
    }
}
