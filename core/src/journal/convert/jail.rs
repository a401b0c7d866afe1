//! The jail as a start recorded it: snapshot, plugin-facing jail and network, kernel params.

use ioc_sdk::{
    Address, AddressKind, Cidr, Gateway, IpMode, Jail, Mac, Network, NetworkSpec, Nic, Platform,
};

use super::super::record::*;
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, JailParams, JailRoot, RootMount};

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
            dhcp_server: n.dhcp_server(),
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
            dhcp_server: n.dhcp_server,
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
            root: p.root.as_ref().map(|r| DiskRoot {
                path: r.path.clone(),
                mounts: r
                    .mounts
                    .iter()
                    .map(|m| DiskRootMount {
                        source: m.source.clone(),
                        target: m.target.clone(),
                        read_only: m.read_only,
                    })
                    .collect(),
            }),
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
            root: p.root.map(|r| JailRoot {
                path: r.path,
                mounts: r
                    .mounts
                    .into_iter()
                    .map(|m| RootMount {
                        source: m.source,
                        target: m.target,
                        read_only: m.read_only,
                    })
                    .collect(),
            }),
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
