//! The journal's own form of the CNI ops (issue 13): the attachment a mode asked for, the
//! addresses it reported and the DNS it set, with plain fields independent of the sdk's ABI.

use std::net::IpAddr;

use ioc_sdk::{CniAttachment, CniValid, EnvVar, Ip};
use serde_json::Value;

use crate::cni::CniRun;
use serde::{Deserialize, Serialize};

/// `ioc_sdk::CniAttachment`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskCniAttachment {
    network: String,
    conf_dir: String,
    path: Vec<String>,
    container_id: String,
    ifname: String,
    args: Vec<(String, String)>,
    runtime_config: String,
}

/// `ioc_sdk::CniValid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskCniValid {
    container_id: String,
    ifname: String,
}

impl From<&CniAttachment> for DiskCniAttachment {
    fn from(a: &CniAttachment) -> DiskCniAttachment {
        DiskCniAttachment {
            network: a.network.to_string(),
            conf_dir: a.conf_dir.to_string(),
            path: a.path.iter().map(|p| p.to_string()).collect(),
            container_id: a.container_id.to_string(),
            ifname: a.ifname.to_string(),
            args: a
                .args
                .iter()
                .map(|v| (v.key.to_string(), v.value.to_string()))
                .collect(),
            runtime_config: a.runtime_config.to_string(),
        }
    }
}

impl From<DiskCniAttachment> for CniAttachment {
    fn from(a: DiskCniAttachment) -> CniAttachment {
        CniAttachment {
            network: a.network.into(),
            conf_dir: a.conf_dir.into(),
            path: a.path.into_iter().map(Into::into).collect(),
            container_id: a.container_id.into(),
            ifname: a.ifname.into(),
            args: a
                .args
                .into_iter()
                .map(|(key, value)| EnvVar {
                    key: key.into(),
                    value: value.into(),
                })
                .collect(),
            runtime_config: a.runtime_config.into(),
        }
    }
}

impl From<&CniValid> for DiskCniValid {
    fn from(v: &CniValid) -> DiskCniValid {
        DiskCniValid {
            container_id: v.container_id.to_string(),
            ifname: v.ifname.to_string(),
        }
    }
}

impl From<DiskCniValid> for CniValid {
    fn from(v: DiskCniValid) -> CniValid {
        CniValid {
            container_id: v.container_id.into(),
            ifname: v.ifname.into(),
        }
    }
}

/// Name servers as the journal writes them.
pub(in crate::journal) fn disk_ips<'a>(ips: impl IntoIterator<Item = &'a Ip>) -> Vec<IpAddr> {
    ips.into_iter().map(|ip| ip.get()).collect()
}

/// `crate::cni::CniRun`: the attachment, the network list as loaded (a conflist object), the
/// namespace and, when the run is journaled, no result (it follows in its own record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskCniRun {
    attachment: DiskCniAttachment,
    list: Value,
    netns: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
}

impl From<&CniRun> for DiskCniRun {
    fn from(r: &CniRun) -> DiskCniRun {
        DiskCniRun {
            attachment: (&r.attachment).into(),
            list: r.list.clone(),
            netns: r.netns.clone(),
            result: r.result.clone(),
        }
    }
}

impl From<DiskCniRun> for CniRun {
    fn from(r: DiskCniRun) -> CniRun {
        CniRun {
            attachment: r.attachment.into(),
            list: r.list,
            netns: r.netns,
            result: r.result,
        }
    }
}
