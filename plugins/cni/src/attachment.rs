//! The jail's [`CniAttachment`]: which list the host runs and the `runtimeConfig` its plugins
//! get for the capabilities they declare (`portMappings`, `mac`, `ips`, `bandwidth`).

use ioc_sdk::{CniAttachment, Error, Jail, Result};
use serde_json::{json, Map, Value};

use crate::settings::{Rate, Settings};

/// `CNI_CONTAINERID` of a jail: `ioc-<jail>`, the same on every start, so `CHECK`, `DEL` and
/// `GC` name the same attachment, and plain to see in a plugin's state (host-local's leases).
pub fn container_id(jail: &str) -> String {
    format!("ioc-{jail}")
}

/// The attachment for `jail` with `settings`; refuses a jail name CNI cannot carry.
pub fn attachment(jail: &Jail, settings: &Settings) -> Result<CniAttachment> {
    let id = container_id(jail.name());
    ioc_cni::env::check_container_id(&id).map_err(Error::new)?;
    Ok(CniAttachment {
        network: settings.network.as_str().into(),
        conf_dir: settings.conf_dir.as_str().into(),
        path: settings.path.iter().map(|d| d.as_str().into()).collect(),
        container_id: id.into(),
        ifname: settings.ifname.as_str().into(),
        args: Default::default(),
        runtime_config: runtime_config(settings).to_string().into(),
    })
}

/// The runtimeConfig object: one entry per capability ioc has a value for; the host hands
/// each plugin only the capabilities it declares.
pub fn runtime_config(settings: &Settings) -> Value {
    let mut config = Map::new();
    if !settings.forwards.is_empty() {
        let mappings: Vec<Value> = settings
            .forwards
            .iter()
            .flat_map(|f| {
                (0..=f.container.1 - f.container.0).map(move |i| {
                    json!({
                        "hostPort": f.host.0 + i,
                        "containerPort": f.container.0 + i,
                        "protocol": f.protocol,
                    })
                })
            })
            .collect();
        config.insert("portMappings".into(), Value::Array(mappings));
    }
    if let Some(mac) = settings.mac {
        config.insert("mac".into(), Value::from(mac.to_string()));
    }
    if !settings.ips.is_empty() {
        let ips: Vec<Value> = settings
            .ips
            .iter()
            .map(|c| Value::from(c.to_string()))
            .collect();
        config.insert("ips".into(), Value::Array(ips));
    }
    if settings.ingress.is_some() || settings.egress.is_some() {
        let mut bandwidth = Map::new();
        let mut put = |prefix: &str, rate: Option<Rate>| {
            if let Some(rate) = rate {
                bandwidth.insert(format!("{prefix}Rate"), Value::from(rate.rate));
                bandwidth.insert(format!("{prefix}Burst"), Value::from(rate.burst));
            }
        };
        put("ingress", settings.ingress);
        put("egress", settings.egress);
        config.insert("bandwidth".into(), Value::Object(bandwidth));
    }
    Value::Object(config)
}
