//! The six CNI commands. Each returns what the plugin prints: a result, nothing, or a CNI error
//! object.

use std::fmt::Display;

use ioc_cni::config::Attachment;
use ioc_cni::{codes, CniError, CniResult, PluginRequest};
use serde_json::Value;

use crate::config::SecureConfig;
use crate::filter::{self, FilterError};
use crate::state::{self, Record};
use crate::target::{self, Target};

/// The plugin's own error codes (the specification leaves 100 and up to plugins).
pub mod own_codes {
    /// nftables refused to install or remove the filter.
    pub const FILTER_FAILED: u32 = 100;
    /// `CHECK`: the attachment's filter is missing or differs from what `prevResult` asks.
    pub const FILTER_DIFFERS: u32 = 101;
}

/// What a command prints on success: a result, or nothing.
pub type Outcome = Result<Option<Value>, CniError>;

/// Runs the request's command.
pub fn run(request: &PluginRequest) -> Outcome {
    use ioc_cni::Command::*;
    match request.invocation.command {
        Add => add(request),
        Del => del(request),
        Check => check(request),
        Gc => gc(request),
        Status => status(request),
        Version => Ok(Some(request.version_info())),
    }
}

fn attachment(request: &PluginRequest) -> Attachment {
    Attachment {
        container_id: request.invocation.container_id.clone(),
        ifname: request.invocation.ifname.clone(),
    }
}

fn io(request: &PluginRequest, what: &str, e: impl Display) -> CniError {
    request.error(codes::IO_FAILURE, format!("{what}: {e}"))
}

fn filter_error(request: &PluginRequest, e: FilterError) -> CniError {
    let code = match e {
        FilterError::Name(_) => codes::INVALID_CONFIG,
        FilterError::Kernel(_) => own_codes::FILTER_FAILED,
        FilterError::Differs { .. } => own_codes::FILTER_DIFFERS,
    };
    request.error(code, e.to_string())
}

/// `prevResult`, which `ADD` and `CHECK` cannot do without.
fn required_prev_result(request: &PluginRequest) -> Result<(Value, CniResult), CniError> {
    request.prev_result()?.ok_or_else(|| {
        request.error(
            codes::INVALID_CONFIG,
            "prevResult: missing; ioc-secure is a chained plugin and must follow a plugin such as bridge in the network list",
        )
    })
}

/// `ADD`: record the attachment, install its filter, pass `prevResult` on unchanged.
fn add(request: &PluginRequest) -> Outcome {
    let config = SecureConfig::from_request(request)?;
    let (raw, prev) = required_prev_result(request)?;
    let target = target::resolve(request, &prev, &config)?;
    let dir = config.network_dir();
    let mut locked = state::lock(&dir, &attachment(request)).map_err(|e| io(request, "lock", e))?;
    let old = locked.read().map_err(|e| io(request, "read", e))?;
    if let Some(old) = old.filter(|old| old.port != target.port) {
        filter::remove(&old.port).map_err(|e| filter_error(request, e))?;
    }
    locked.write(&record(request, &target)).map_err(|e| {
        io(
            request,
            &format!("record the attachment in {}", dir.display()),
            e,
        )
    })?;
    if let Err(e) = filter::install(&target, &config) {
        // Nothing was installed (the transaction is all or nothing): forget the attachment.
        let _ = locked.remove();
        return Err(filter_error(request, e));
    }
    let same_version =
        raw.get("cniVersion").and_then(Value::as_str) == Some(request.version.to_string().as_str());
    Ok(Some(if same_version {
        raw
    } else {
        prev.to_value(request.version)
    }))
}

fn record(request: &PluginRequest, target: &Target) -> Record {
    Record {
        attachment: attachment(request),
        port: target.port.clone(),
        mac: target.mac,
        addresses: target.addresses.clone(),
    }
}

/// `DEL`: remove the filter the attachment's `ADD` recorded. Needs neither the namespace, nor
/// the port, nor `prevResult`; an attachment with no record has nothing to remove.
fn del(request: &PluginRequest) -> Outcome {
    let config = SecureConfig::from_request(request)?;
    let mut locked = state::lock(&config.network_dir(), &attachment(request))
        .map_err(|e| io(request, "lock", e))?;
    if let Some(record) = locked.read().map_err(|e| io(request, "read", e))? {
        filter::remove(&record.port).map_err(|e| filter_error(request, e))?;
    }
    locked
        .remove()
        .map_err(|e| io(request, "remove the record", e))?;
    Ok(None)
}

/// `CHECK`: the recorded filter exists and is exactly what `prevResult` asks for.
fn check(request: &PluginRequest) -> Outcome {
    let config = SecureConfig::from_request(request)?;
    let (_, prev) = required_prev_result(request)?;
    let target = target::resolve(request, &prev, &config)?;
    let mut locked = state::lock(&config.network_dir(), &attachment(request))
        .map_err(|e| io(request, "lock", e))?;
    let record = locked.read().map_err(|e| io(request, "read", e))?;
    let Some(record) = record else {
        let _ = locked.remove();
        return Err(request.error(
            own_codes::FILTER_DIFFERS,
            format!(
                "no filter is recorded for container {} interface {} on network {}",
                request.invocation.container_id, request.invocation.ifname, config.network
            ),
        ));
    };
    if record.port != target.port {
        return Err(request.error(
            own_codes::FILTER_DIFFERS,
            format!(
                "the filter is on port {}, but prevResult names port {}",
                record.port, target.port
            ),
        ));
    }
    filter::check(&target, &config).map_err(|e| filter_error(request, e))?;
    Ok(None)
}

/// `GC`: remove the filters of this network's attachments that are not in
/// `cni.dev/valid-attachments`.
fn gc(request: &PluginRequest) -> Outcome {
    let config = SecureConfig::from_request(request)?;
    let valid = request.valid_attachments()?;
    let dir = config.network_dir();
    for path in state::list(&dir).map_err(|e| io(request, "list", e))? {
        let mut locked = state::lock_file(&path).map_err(|e| io(request, "lock", e))?;
        let record = locked.read().map_err(|e| io(request, "read", e))?;
        if let Some(record) = &record {
            if valid.contains(&record.attachment) {
                continue;
            }
            filter::remove(&record.port).map_err(|e| filter_error(request, e))?;
        }
        locked
            .remove()
            .map_err(|e| io(request, "remove the record", e))?;
    }
    Ok(None)
}

/// `STATUS`: ready when nf_tables answers.
fn status(request: &PluginRequest) -> Outcome {
    filter::ready().map(|_| None).map_err(|e| {
        request.error(
            codes::NOT_AVAILABLE,
            format!("nftables cannot be used: {e} (ioc-secure needs nf_tables with the netdev family, Linux 5.16 or later)"),
        )
    })
}
