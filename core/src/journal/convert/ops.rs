//! Host operations, and the undo actions and firewall policies plugins hand to the host.

use std::net::IpAddr;

use abi_stable::std_types::{ROption, RString};
use ioc_sdk::{
    EnvVar, HostOp, Ip, LearnSink, Mac, NftFamily, PortLearning, PortPolicy, Side, UndoAction,
};

use super::super::record::*;
use super::cni::disk_ips;

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
            learn: p.learning().into(),
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
        .with_learning(p.learn.into())
    }
}

impl From<PortLearning> for DiskLearning {
    fn from(l: PortLearning) -> DiskLearning {
        DiskLearning {
            dhcp4: l.dhcp4,
            slaac: l.slaac,
            dhcp_server: l.dhcp_server,
        }
    }
}

impl From<DiskLearning> for PortLearning {
    fn from(l: DiskLearning) -> PortLearning {
        PortLearning {
            dhcp4: l.dhcp4,
            slaac: l.slaac,
            dhcp_server: l.dhcp_server,
        }
    }
}

impl From<&LearnSink> for DiskLearnSink {
    fn from(s: &LearnSink) -> DiskLearnSink {
        match s {
            LearnSink::NftSets {
                family,
                table,
                set4,
                set6,
            } => DiskLearnSink::NftSets {
                family: (*family).into(),
                table: table.to_string(),
                set4: set4.to_string(),
                set6: set6.to_string(),
            },
            LearnSink::IpfwTables { table4, table6 } => DiskLearnSink::IpfwTables {
                table4: table4.to_string(),
                table6: table6.to_string(),
            },
            LearnSink::PfTables {
                anchor,
                table4,
                table6,
            } => DiskLearnSink::PfTables {
                anchor: anchor.to_string(),
                table4: table4.to_string(),
                table6: table6.to_string(),
            },
        }
    }
}

impl From<DiskLearnSink> for LearnSink {
    fn from(s: DiskLearnSink) -> LearnSink {
        match s {
            DiskLearnSink::NftSets {
                family,
                table,
                set4,
                set6,
            } => LearnSink::NftSets {
                family: family.into(),
                table: table.into(),
                set4: set4.into(),
                set6: set6.into(),
            },
            DiskLearnSink::IpfwTables { table4, table6 } => LearnSink::IpfwTables {
                table4: table4.into(),
                table6: table6.into(),
            },
            DiskLearnSink::PfTables {
                anchor,
                table4,
                table6,
            } => LearnSink::PfTables {
                anchor: anchor.into(),
                table4: table4.into(),
                table6: table6.into(),
            },
        }
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
            UndoAction::RemoveNat { request } => DiskUndoAction::RemoveNat {
                request: request.into(),
            },
            UndoAction::ReleaseForwarding { link } => DiskUndoAction::ReleaseForwarding {
                link: link.to_string(),
            },
            UndoAction::NftCommit { batch } => DiskUndoAction::NftCommit {
                batch: batch.into(),
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
            DiskUndoAction::RemoveNat { request } => UndoAction::RemoveNat {
                request: request.into(),
            },
            DiskUndoAction::ReleaseForwarding { link } => {
                UndoAction::ReleaseForwarding { link: link.into() }
            }
            DiskUndoAction::NftCommit { batch } => UndoAction::NftCommit {
                batch: batch.into(),
            },
        }
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a RString>) -> Vec<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

fn opt_string(s: &ROption<RString>) -> Option<String> {
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
            HostOp::CheckFirewall => DiskOp::CheckFirewall,
            HostOp::NatJail { request } => DiskOp::NatJail {
                request: request.into(),
            },
            HostOp::EnableForwarding { link } => DiskOp::EnableForwarding {
                link: link.to_string(),
            },
            HostOp::ReleaseForwarding { link } => DiskOp::ReleaseForwarding {
                link: link.to_string(),
            },
            HostOp::LearnAddresses {
                port,
                mac,
                dhcp4,
                slaac,
                sink,
            } => DiskOp::LearnAddresses {
                port: port.to_string(),
                mac: (*mac).into(),
                dhcp4: *dhcp4,
                slaac: *slaac,
                sink: sink.into(),
            },
            HostOp::NftTableExists { family, table } => DiskOp::NftTableExists {
                family: (*family).into(),
                table: table.to_string(),
            },
            HostOp::NftReady => DiskOp::NftReady,
            HostOp::NftChainExists {
                family,
                table,
                chain,
            } => DiskOp::NftChainExists {
                family: (*family).into(),
                table: table.to_string(),
                chain: chain.to_string(),
            },
            HostOp::NftCommit { batch } => DiskOp::NftCommit {
                batch: batch.into(),
            },
            HostOp::CniAdd { attachment } => DiskOp::CniAdd {
                attachment: attachment.into(),
            },
            HostOp::CniCheck { attachment } => DiskOp::CniCheck {
                attachment: attachment.into(),
            },
            HostOp::CniFindList { attachment } => DiskOp::CniFindList {
                attachment: attachment.into(),
            },
            HostOp::CniGc { attachment, valid } => DiskOp::CniGc {
                attachment: attachment.into(),
                valid: valid.iter().map(Into::into).collect(),
            },
            HostOp::ReportAddresses { link, addresses } => DiskOp::ReportAddresses {
                link: link.to_string(),
                addresses: addresses.iter().map(|a| (*a).into()).collect(),
            },
            HostOp::SetJailDns {
                nameservers,
                domain,
                search,
                options,
            } => DiskOp::SetJailDns {
                nameservers: disk_ips(nameservers),
                domain: domain.to_string(),
                search: strings(search),
                options: strings(options),
            },
            HostOp::DisableIpv6 { link } => DiskOp::DisableIpv6 {
                link: link.to_string(),
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
            DiskOp::CheckFirewall => HostOp::CheckFirewall,
            DiskOp::NatJail { request } => HostOp::NatJail {
                request: request.into(),
            },
            DiskOp::EnableForwarding { link } => HostOp::EnableForwarding { link: link.into() },
            DiskOp::ReleaseForwarding { link } => HostOp::ReleaseForwarding { link: link.into() },
            DiskOp::LearnAddresses {
                port,
                mac,
                dhcp4,
                slaac,
                sink,
            } => HostOp::LearnAddresses {
                port: port.into(),
                mac: mac.into(),
                dhcp4,
                slaac,
                sink: sink.into(),
            },
            DiskOp::NftTableExists { family, table } => HostOp::NftTableExists {
                family: family.into(),
                table: table.into(),
            },
            DiskOp::NftReady => HostOp::NftReady,
            DiskOp::NftChainExists {
                family,
                table,
                chain,
            } => HostOp::NftChainExists {
                family: family.into(),
                table: table.into(),
                chain: chain.into(),
            },
            DiskOp::NftCommit { batch } => HostOp::NftCommit {
                batch: batch.into(),
            },
            DiskOp::CniAdd { attachment } => HostOp::CniAdd {
                attachment: attachment.into(),
            },
            DiskOp::CniCheck { attachment } => HostOp::CniCheck {
                attachment: attachment.into(),
            },
            DiskOp::CniFindList { attachment } => HostOp::CniFindList {
                attachment: attachment.into(),
            },
            DiskOp::CniGc { attachment, valid } => HostOp::CniGc {
                attachment: attachment.into(),
                valid: valid.into_iter().map(Into::into).collect(),
            },
            DiskOp::ReportAddresses { link, addresses } => HostOp::ReportAddresses {
                link: link.into(),
                addresses: addresses.into_iter().map(Into::into).collect(),
            },
            DiskOp::SetJailDns {
                nameservers,
                domain,
                search,
                options,
            } => HostOp::SetJailDns {
                nameservers: nameservers.into_iter().map(Ip::from).collect(),
                domain: domain.into(),
                search: search.into_iter().map(Into::into).collect(),
                options: options.into_iter().map(Into::into).collect(),
            },
            DiskOp::DisableIpv6 { link } => HostOp::DisableIpv6 { link: link.into() },
        }
    }
}

impl From<NftFamily> for DiskNftFamily {
    fn from(f: NftFamily) -> DiskNftFamily {
        match f {
            NftFamily::Ip => DiskNftFamily::Ip,
            NftFamily::Ip6 => DiskNftFamily::Ip6,
            NftFamily::Inet => DiskNftFamily::Inet,
            NftFamily::Arp => DiskNftFamily::Arp,
            NftFamily::Bridge => DiskNftFamily::Bridge,
            NftFamily::Netdev => DiskNftFamily::Netdev,
        }
    }
}

impl From<DiskNftFamily> for NftFamily {
    fn from(f: DiskNftFamily) -> NftFamily {
        match f {
            DiskNftFamily::Ip => NftFamily::Ip,
            DiskNftFamily::Ip6 => NftFamily::Ip6,
            DiskNftFamily::Inet => NftFamily::Inet,
            DiskNftFamily::Arp => NftFamily::Arp,
            DiskNftFamily::Bridge => NftFamily::Bridge,
            DiskNftFamily::Netdev => NftFamily::Netdev,
        }
    }
}
