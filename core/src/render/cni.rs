//! The CNI ops in a plan: each plugin invocation as the command that runs it, with its whole
//! environment (`env -i CNI_...=... PROGRAM`) and its configuration on stdin, in the order
//! the host runs them. Both platforms run plugins the same way; only `CNI_NETNS` differs
//! (Linux: the jail's pinned network namespace; FreeBSD: the jail's name).

use ioc_cni::config::Attachment;
use ioc_cni::{Command as CniCommand, NetworkList};
use ioc_sdk::{CniAttachment, CniValid};
use serde_json::{Map, Value};

use super::Command;
use crate::cni::call::{invocation, planned_location, runtime_config, search_path, PluginCall};
use crate::cni::{load, CniRun};

fn command(call: PluginCall) -> Command {
    let mut argv = vec!["env".to_string(), "-i".to_string()];
    argv.extend(call.env.iter().map(|(k, v)| format!("{k}={v}")));
    argv.push(call.program.display().to_string());
    Command::new(argv).with_stdin(call.stdin)
}

/// What a plan shows as `prevResult` where the previous plugin's answer is not known yet.
fn placeholder(list: &NetworkList, index: usize) -> Value {
    Value::from(format!("<ADD result of {}>", list.plugins[index].kind))
}

fn chain(
    list: &NetworkList,
    attachment: &CniAttachment,
    netns: &str,
    cni_command: CniCommand,
    order: Vec<usize>,
    result: Option<&Value>,
) -> Vec<Command> {
    let path = search_path(attachment);
    let runtime = runtime_config(attachment).unwrap_or_else(|_| Map::new());
    let inv = invocation(cni_command, attachment, netns);
    order
        .into_iter()
        .map(|index| {
            let prev = match (cni_command, result) {
                (CniCommand::Add, _) if index > 0 => Some(placeholder(list, index - 1)),
                (CniCommand::Add, _) => None,
                (_, r) => r.cloned(),
            };
            let program = planned_location(&list.plugins[index].kind, &path);
            command(PluginCall::chain_step(
                list,
                index,
                program,
                &inv,
                prev.as_ref(),
                &runtime,
            ))
        })
        .collect()
}

/// `ADD` through the attachment's list (read from its directory; nothing when it cannot be,
/// since the start itself would have failed on it).
pub fn add(attachment: &CniAttachment, netns: &str) -> Vec<Command> {
    let Ok(list) = load(attachment) else {
        return Vec::new();
    };
    let order = (0..list.plugins.len()).collect();
    chain(&list, attachment, netns, CniCommand::Add, order, None)
}

/// `DEL` through a recorded chain, last plugin first, with the recorded result, in `netns`
/// (the host passes an empty one once the namespace is gone).
pub fn del(run: &CniRun, netns: &str) -> Vec<Command> {
    let Ok(list) = run.network_list() else {
        return Vec::new();
    };
    let order = (0..list.plugins.len()).rev().collect();
    chain(
        &list,
        &run.attachment,
        netns,
        CniCommand::Del,
        order,
        run.result.as_ref(),
    )
}

/// `GC` of every plugin of the list (1.1.0 lists without `disableGC` only).
pub fn gc(attachment: &CniAttachment, valid: &[CniValid]) -> Vec<Command> {
    let Ok(list) = load(attachment) else {
        return Vec::new();
    };
    if !list.version.has_gc() || list.disable_gc {
        return Vec::new();
    }
    let path = search_path(attachment);
    let valid: Vec<Attachment> = valid
        .iter()
        .map(|v| Attachment {
            container_id: v.container_id.to_string(),
            ifname: v.ifname.to_string(),
        })
        .collect();
    (0..list.plugins.len())
        .map(|index| {
            let program = planned_location(&list.plugins[index].kind, &path);
            command(PluginCall::gc(&list, index, program, &path, &valid))
        })
        .collect()
}
