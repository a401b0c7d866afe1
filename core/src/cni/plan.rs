//! The dry run's runner: runs nothing, answers as cooperative plugins would (every version
//! spoken, `ADD` passing its `prevResult` on), so a plan walks the whole chain. The plan's
//! commands come from the journaled steps ([`crate::render`]), not from here.

use std::time::Duration;

use ioc_cni::version::VersionInfo;
use ioc_cni::Command;
use serde_json::{json, Value};

use super::exec::{ExecError, RawOutput, Runner};
use super::PluginCall;

/// Answers plugin calls without running anything.
#[derive(Debug, Default)]
pub struct PlanRunner;

impl Runner for PlanRunner {
    fn run(&mut self, call: &PluginCall, _timeout: Duration) -> Result<RawOutput, ExecError> {
        let stdin: Value = serde_json::from_str(&call.stdin).unwrap_or(Value::Null);
        let answer = match call.command {
            Command::Version => serde_json::to_value(VersionInfo::ioc()).unwrap_or(Value::Null),
            Command::Add => stdin.get("prevResult").cloned().unwrap_or_else(|| {
                json!({
                    "cniVersion": stdin.get("cniVersion").cloned().unwrap_or(json!("1.1.0")),
                    "interfaces": [],
                    "ips": [],
                })
            }),
            _ => Value::Null,
        };
        let stdout = if answer.is_null() {
            Vec::new()
        } else {
            answer.to_string().into_bytes()
        };
        Ok(RawOutput {
            code: Some(0),
            stdout,
            stderr: String::new(),
        })
    }
}
