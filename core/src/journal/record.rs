//! The journal's own serialized form: what one line of a journal file holds.
//!
//! These types belong to the journal, not to the plugin ABI: `HostOp`, `Cidr`, `PortPolicy`,
//! `Jail` and the rest may change shape with a new sdk, but a journal written before that
//! change must still mean what it meant. So every record is mirrored here with plain std types
//! and explicit serde names, and converted to and from the in-memory records (`convert.rs`).
//!
//! The shapes are those the first journals (format 1, written before journals had a header)
//! had on disk, so format 1 and format 2 lines read with the same types. Changing a shape here
//! means a new format version and a reader for the old one.

use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod nft;
use super::convert::{DiskCniAttachment, DiskCniRun, DiskCniValid, DiskNatRequest};
pub(super) use nft::*;

/// One line of a journal file.
// Records live one at a time on their way to and from disk; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskRecord {
    #[serde(rename = "begin")]
    Begin(Box<DiskSnapshot>),
    #[serde(rename = "step")]
    Step {
        step: DiskStep,
        undo: Option<DiskUndo>,
    },
    #[serde(rename = "undone")]
    Undone { index: usize },
    #[serde(rename = "started")]
    Started,
    #[serde(rename = "stopping")]
    Stopping,
    #[serde(rename = "cni_result")]
    CniResult {
        index: usize,
        result: serde_json::Value,
    },
}

/// What a running jail was started with (`crate::snapshot::Snapshot`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskSnapshot {
    pub jail: DiskJail,
    pub params: DiskParams,
    pub mode: String,
    pub stop_hooks: Vec<(DiskHookPoint, String)>,
    pub hook_env: Vec<(String, String)>,
}

/// The plugin-facing view of the jail (`ioc_sdk::Jail`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskJail {
    pub name: String,
    pub jid: u32,
    pub platform: DiskPlatform,
    pub network: DiskNetwork,
    pub firewall: String,
    pub properties: Vec<DiskProperty>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskPlatform {
    #[serde(rename = "linux")]
    Linux,
    #[serde(rename = "freebsd")]
    FreeBsd,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskProperty {
    pub key: String,
    pub value: String,
}

/// `ioc_sdk::Network`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskNetwork {
    pub vnet: bool,
    pub interfaces: Vec<DiskNic>,
    pub ip4: Vec<DiskAddress>,
    pub ip6: Vec<DiskAddress>,
    pub defaultrouter: Option<DiskGateway>,
    pub defaultrouter6: Option<DiskGateway>,
    pub ip4_mode: DiskIpMode,
    pub ip6_mode: DiskIpMode,
    pub ip4_saddrsel: bool,
    pub ip6_saddrsel: bool,
    pub allow_raw_sockets: bool,
    /// Journals written before `dhcp_server` existed read as off; off is not written, so
    /// those journals read and write the same.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dhcp_server: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskNic {
    pub name: String,
    pub bridge: Option<String>,
    pub secure: bool,
    pub host_mac: DiskMac,
    pub jail_mac: DiskMac,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskAddress {
    pub nic: String,
    pub kind: DiskAddressKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskAddressKind {
    #[serde(rename = "static")]
    Static(DiskCidr),
    #[serde(rename = "dhcp")]
    Dhcp,
    #[serde(rename = "accept_rtadv")]
    AcceptRtadv,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskGateway {
    pub ip: IpAddr,
    pub nic: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskIpMode {
    #[serde(rename = "disable")]
    Disable,
    #[serde(rename = "new")]
    New,
    #[serde(rename = "inherit")]
    Inherit,
}

/// An address with its prefix length: `{"ip": "10.23.42.2", "prefix": 24}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskCidr {
    pub ip: IpAddr,
    pub prefix: u8,
}

/// A MAC address, written `02:ff:60:cb:49:48`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct DiskMac(pub [u8; 6]);

impl Serialize for DiskMac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let [a, b, c, d, e, f] = self.0;
        s.collect_str(&format_args!(
            "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}"
        ))
    }
}

impl<'de> Deserialize<'de> for DiskMac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut octets = [0u8; 6];
        let mut parts = text.split(':');
        for octet in &mut octets {
            *octet = parts
                .next()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| serde::de::Error::custom(format!("invalid MAC {text:?}")))?;
        }
        if parts.next().is_some() {
            return Err(serde::de::Error::custom(format!("invalid MAC {text:?}")));
        }
        Ok(DiskMac(octets))
    }
}

/// The kernel-level jail (`crate::step::JailParams`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskParams {
    pub name: String,
    pub jid: u32,
    pub hostname: String,
    pub vnet: bool,
    pub ip4_addresses: Vec<IpAddr>,
    pub ip6_addresses: Vec<IpAddr>,
    pub ip4: DiskIpMode,
    pub ip6: DiskIpMode,
    pub ip4_saddrsel: bool,
    pub ip6_saddrsel: bool,
    pub allow_raw_sockets: bool,
    pub resolv_conf: Option<String>,
    /// Absent in journals written before issue 16 (a jail on the host's root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<DiskRoot>,
}

/// `crate::step::JailRoot`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskRoot {
    pub path: String,
    pub mounts: Vec<DiskRootMount>,
}

/// `crate::step::RootMount`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskRootMount {
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

// Named as the properties are.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskHookPoint {
    #[serde(rename = "exec_prestart")]
    ExecPrestart,
    #[serde(rename = "exec_created")]
    ExecCreated,
    #[serde(rename = "exec_start")]
    ExecStart,
    #[serde(rename = "exec_poststart")]
    ExecPoststart,
    #[serde(rename = "exec_prestop")]
    ExecPrestop,
    #[serde(rename = "exec_stop")]
    ExecStop,
    #[serde(rename = "exec_poststop")]
    ExecPoststop,
}

/// `crate::step::Step`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskStep {
    #[serde(rename = "create_jail")]
    CreateJail(DiskParams),
    #[serde(rename = "remove_jail")]
    RemoveJail(DiskParams),
    #[serde(rename = "hook")]
    Hook {
        point: DiskHookPoint,
        command: String,
    },
    #[serde(rename = "op")]
    Op(DiskOp),
    #[serde(rename = "cni_del")]
    CniDel(DiskCniRun),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskSide {
    #[serde(rename = "host")]
    Host,
    #[serde(rename = "jail")]
    Jail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskEnvVar {
    pub key: String,
    pub value: String,
}

/// `ioc_sdk::PortPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskPortPolicy {
    pub jail: String,
    pub jid: u32,
    pub nic: String,
    pub port: String,
    pub bridge: String,
    pub mac: DiskMac,
    pub ipv4: Vec<IpAddr>,
    pub ipv6: Vec<IpAddr>,
    pub mtu: Option<u32>,
    /// Absent in journals written before learned addresses existed, and left out when nothing
    /// is learned, so a static policy keeps format 1's exact shape.
    #[serde(default, skip_serializing_if = "DiskLearning::is_none")]
    pub learn: DiskLearning,
}

/// `ioc_sdk::PortLearning`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct DiskLearning {
    pub dhcp4: bool,
    pub slaac: bool,
    pub dhcp_server: bool,
}

impl DiskLearning {
    fn is_none(&self) -> bool {
        *self == DiskLearning::default()
    }
}

/// `ioc_sdk::LearnSink`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskLearnSink {
    #[serde(rename = "nft_sets")]
    NftSets {
        family: DiskNftFamily,
        table: String,
        set4: String,
        set6: String,
    },
    #[serde(rename = "ipfw_tables")]
    IpfwTables { table4: String, table6: String },
    #[serde(rename = "pf_tables")]
    PfTables {
        anchor: String,
        table4: String,
        table6: String,
    },
}

/// `ioc_sdk::UndoAction`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskUndoAction {
    #[serde(rename = "destroy_link")]
    DestroyLink { name: String },
    #[serde(rename = "remove_host_alias")]
    RemoveHostAlias { iface: String, address: DiskCidr },
    #[serde(rename = "run_command")]
    RunCommand { side: DiskSide, argv: Vec<String> },
    #[serde(rename = "remove_nat")]
    RemoveNat { request: DiskNatRequest },
    #[serde(rename = "release_forwarding")]
    ReleaseForwarding { link: String },
    #[serde(rename = "nft_commit")]
    NftCommit { batch: DiskNftBatch },
}

/// `ioc_sdk::HostOp`: every variant, queries included (they are never journaled, but the
/// conversion from the in-memory step stays total).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskOp {
    #[serde(rename = "link_exists")]
    LinkExists { side: DiskSide, name: String },
    #[serde(rename = "link_mtu")]
    LinkMtu { name: String },
    #[serde(rename = "read_sysctl")]
    ReadSysctl { name: String },
    #[serde(rename = "create_pair")]
    CreatePair {
        host: String,
        peer: String,
        peer_in_jail: bool,
        host_mac: Option<DiskMac>,
        peer_mac: Option<DiskMac>,
        mtu: Option<u32>,
        description: String,
    },
    #[serde(rename = "create_bridge")]
    CreateBridge { name: String, mtu: Option<u32> },
    #[serde(rename = "add_bridge_members")]
    AddBridgeMembers {
        bridge: String,
        members: Vec<String>,
    },
    #[serde(rename = "move_to_jail")]
    MoveToJail { name: String },
    #[serde(rename = "rename_link")]
    RenameLink {
        side: DiskSide,
        from: String,
        to: String,
    },
    #[serde(rename = "destroy_link")]
    DestroyLink { side: DiskSide, name: String },
    #[serde(rename = "add_address")]
    AddAddress { link: String, address: DiskCidr },
    #[serde(rename = "loopback_up")]
    LoopbackUp,
    #[serde(rename = "add_route")]
    AddRoute {
        destination: Option<IpAddr>,
        gateway: Option<IpAddr>,
        link: Option<String>,
    },
    #[serde(rename = "accept_router_advertisements")]
    AcceptRouterAdvertisements { link: String },
    #[serde(rename = "start_dhcp")]
    StartDhcp { link: String },
    #[serde(rename = "add_host_alias")]
    AddHostAlias { iface: String, address: DiskCidr },
    #[serde(rename = "remove_host_alias")]
    RemoveHostAlias { iface: String, address: DiskCidr },
    #[serde(rename = "run_command")]
    RunCommand {
        side: DiskSide,
        argv: Vec<String>,
        env: Vec<DiskEnvVar>,
        stdin: Option<String>,
    },
    #[serde(rename = "nft_apply")]
    NftApply { script: String },
    #[serde(rename = "nft_check")]
    NftCheck { script: String },
    #[serde(rename = "protect_port")]
    ProtectPort { policy: DiskPortPolicy },
    #[serde(rename = "register_undo")]
    RegisterUndo { action: DiskUndoAction },
    /// A query; never journaled, here so the conversion stays total.
    #[serde(rename = "check_firewall")]
    CheckFirewall,
    #[serde(rename = "learn_addresses")]
    LearnAddresses {
        port: String,
        mac: DiskMac,
        dhcp4: bool,
        slaac: bool,
        sink: DiskLearnSink,
    },
    #[serde(rename = "nft_table_exists")]
    NftTableExists {
        family: DiskNftFamily,
        table: String,
    },
    /// A query, like `NftTableExists`.
    #[serde(rename = "nft_ready")]
    NftReady,
    /// A query, like `NftTableExists`.
    #[serde(rename = "nft_chain_exists")]
    NftChainExists {
        family: DiskNftFamily,
        table: String,
        chain: String,
    },
    #[serde(rename = "nft_commit")]
    NftCommit { batch: DiskNftBatch },
    #[serde(rename = "nat_jail")]
    NatJail { request: DiskNatRequest },
    #[serde(rename = "enable_forwarding")]
    EnableForwarding { link: String },
    #[serde(rename = "release_forwarding")]
    ReleaseForwarding { link: String },
    #[serde(rename = "cni_add")]
    CniAdd { attachment: DiskCniAttachment },
    /// A query, like `CheckFirewall`.
    #[serde(rename = "cni_check")]
    CniCheck { attachment: DiskCniAttachment },
    /// A query, never journaled; here so the conversion stays total.
    #[serde(rename = "cni_find_list")]
    CniFindList { attachment: DiskCniAttachment },
    /// Never journaled (nothing to undo); here so the conversion stays total.
    #[serde(rename = "cni_gc")]
    CniGc {
        attachment: DiskCniAttachment,
        valid: Vec<DiskCniValid>,
    },
    #[serde(rename = "report_addresses")]
    ReportAddresses {
        link: String,
        addresses: Vec<DiskCidr>,
    },
    #[serde(rename = "set_jail_dns")]
    SetJailDns {
        nameservers: Vec<IpAddr>,
        domain: String,
        search: Vec<String>,
        options: Vec<String>,
    },
    #[serde(rename = "disable_ipv6")]
    DisableIpv6 { link: String },
}

/// `crate::step::Undo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum DiskUndo {
    #[serde(rename = "remove_jail")]
    RemoveJail(DiskParams),
    #[serde(rename = "destroy_link")]
    DestroyLink { side: DiskSide, name: String },
    #[serde(rename = "remove_host_alias")]
    RemoveHostAlias { iface: String, address: DiskCidr },
    #[serde(rename = "remove_policy")]
    RemovePolicy {
        backend: String,
        policy: DiskPortPolicy,
    },
    #[serde(rename = "plugin")]
    Plugin(DiskUndoAction),
    #[serde(rename = "stop_learner")]
    StopLearner { port: String },
    #[serde(rename = "cni_del")]
    CniDel(DiskCniRun),
}

/// `ioc_sdk::NftFamily`, named as nft writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum DiskNftFamily {
    #[serde(rename = "ip")]
    Ip,
    #[serde(rename = "ip6")]
    Ip6,
    #[serde(rename = "inet")]
    Inet,
    #[serde(rename = "arp")]
    Arp,
    #[serde(rename = "bridge")]
    Bridge,
    #[serde(rename = "netdev")]
    Netdev,
}
