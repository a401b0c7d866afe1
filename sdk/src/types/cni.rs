//! A jail's CNI attachment (issue 13): which network list the host runs for it, and the
//! parameters of every plugin invocation. The `cni` mode fills one in; the host loads the list,
//! runs the plugins, journals what it ran and takes it back on stop.

use abi_stable::std_types::{RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use crate::ops::EnvVar;

/// One CNI attachment of a jail: the network list to run and the parameters of its
/// invocations. The mode plugin fills it in; the host runs the plugins.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniAttachment {
    /// The network list's name (`cni_network`); the host finds it with `NetworkList::find`.
    pub network: RString,
    /// The directory holding the network lists (`cni_conf_dir`).
    pub conf_dir: RString,
    /// The directories searched for plugin binaries, in order (`cni_path`).
    pub path: RVec<RString>,
    /// `CNI_CONTAINERID`, e.g. `ioc-<jail>`; must pass `ioc_cni::env::check_container_id`.
    pub container_id: RString,
    /// `CNI_IFNAME`: the interface's name inside the jail.
    pub ifname: RString,
    /// `CNI_ARGS` pairs; the host puts `IgnoreUnknown=1` first.
    pub args: RVec<EnvVar>,
    /// A JSON object mapping a capability (`portMappings`, `mac`, `ips`, `bandwidth`...) to
    /// its value; each plugin gets, as `runtimeConfig`, the entries it declares in
    /// `capabilities`. Empty means `{}`.
    pub runtime_config: RString,
}

impl CniAttachment {
    /// The attachment as it is named in messages: `network NAME, interface IFNAME`.
    pub fn describe(&self) -> String {
        format!("network {}, interface {}", self.network, self.ifname)
    }
}

/// An attachment still in use, for `GC` (`cni.dev/valid-attachments`): everything else the
/// plugins hold for the network may be released.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniValid {
    /// The attachment's `CNI_CONTAINERID`.
    pub container_id: RString,
    /// The attachment's `CNI_IFNAME`.
    pub ifname: RString,
}

/// The DNS settings a jail's `resolv.conf` gets from a CNI result ([`crate::HostOp::SetJailDns`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JailDns {
    /// Name servers, in order.
    pub nameservers: Vec<std::net::IpAddr>,
    /// The local domain (`domain`), empty for none.
    pub domain: String,
    /// The search list (`search`).
    pub search: Vec<String>,
    /// Resolver options (`options`).
    pub options: Vec<String>,
}
