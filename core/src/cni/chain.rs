//! The chain: `ADD` through every plugin with `prevResult`, `DEL` in reverse, `CHECK` and
//! `GC`, with the version negotiated first and each plugin's answer checked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ioc_cni::config::Attachment;
use ioc_cni::version::VersionInfo;
use ioc_cni::{CniError, CniResult, Command, NetworkList};
use ioc_sdk::{CniAttachment, CniValid};
use serde_json::Value;

use super::call::{self, invocation, locate, runtime_config, search_path, PluginCall};
use super::exec::{ProcessRunner, Runner};
use super::versions::{BinaryKey, VersionCache};
use super::{timeout_from_env, CniFailure};

/// Runs network lists: a runner, the version cache and the timeout of one plugin run.
pub struct Engine {
    runner: Box<dyn Runner>,
    versions: VersionCache,
    timeout: Duration,
    /// A dry run: plugins this machine lacks are planned where the path says, not refused.
    planning: bool,
    /// The lists this command loaded, by (configuration directory, network name): a start
    /// checks its list when it is validated and runs it moments later, and reads it once.
    lists: Vec<((String, String), NetworkList)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The file in the runtime dir that caches plugins' `VERSION` answers.
pub const VERSION_CACHE_FILE: &str = "cni-versions.json";

impl Engine {
    /// An engine with its parts.
    pub fn new(runner: Box<dyn Runner>, versions: VersionCache, timeout: Duration) -> Engine {
        Engine {
            runner,
            versions,
            timeout,
            planning: false,
            lists: Vec::new(),
        }
    }

    /// The attachment's network list ([`super::load`]), read once per command: the same list
    /// for the check of a start and for its `ADD`.
    pub fn list(&mut self, attachment: &CniAttachment) -> Result<NetworkList, CniFailure> {
        let key = (
            attachment.conf_dir.to_string(),
            attachment.network.to_string(),
        );
        if let Some((_, list)) = self.lists.iter().find(|(k, _)| *k == key) {
            // The attachment's own values are checked on every use, as `load` does.
            super::check_attachment(attachment)?;
            return Ok(list.clone());
        }
        let list = super::load(attachment)?;
        self.lists.push((key, list.clone()));
        Ok(list)
    }

    /// The dry run's engine: nothing runs (see [`super::plan::PlanRunner`]).
    pub fn plan() -> Engine {
        Engine {
            planning: true,
            ..Engine::new(
                Box::new(super::plan::PlanRunner),
                VersionCache::in_memory(),
                super::DEFAULT_TIMEOUT,
            )
        }
    }

    /// Where plugin `index` of the list is (planned, for a dry run).
    fn program(
        &self,
        list: &NetworkList,
        index: usize,
        path: &[String],
    ) -> Result<PathBuf, CniFailure> {
        if self.planning {
            return Ok(planned_location(&list.plugins[index].kind, path));
        }
        locate(list, index, path)
    }

    /// The engine of a real host: plugins run as processes, versions cached in `run_dir`,
    /// the timeout from the environment ([`super::TIMEOUT_VAR`]).
    pub fn native(run_dir: &Path) -> Engine {
        Engine::new(
            Box::new(ProcessRunner),
            VersionCache::persistent(run_dir.join(VERSION_CACHE_FILE)),
            timeout_from_env(),
        )
    }

    /// Runs one call; the plugin's JSON answer, `None` for an empty one.
    fn invoke(&mut self, call: &PluginCall) -> Result<Option<Value>, CniFailure> {
        let failure = |message: String| CniFailure::Run {
            plugin: call.plugin.clone(),
            network: call.network.clone(),
            message: format!("{}: {message}", call.command),
        };
        let began = std::time::Instant::now();
        let out = self.runner.run(call, self.timeout);
        // `-vv` shows each plugin's time: what a start spends in the plugins, not in ioc.
        tracing::debug!(
            plugin = call.plugin.as_str(),
            command = %call.command,
            micros = began.elapsed().as_micros() as u64,
            "CNI plugin ran"
        );
        let out = out.map_err(|e| failure(e.to_string()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let text = text.trim();
        let stderr = out.stderr.trim();
        if !out.success() {
            if let Ok(error) = serde_json::from_str::<CniError>(text) {
                return Err(CniFailure::Plugin {
                    plugin: call.plugin.clone(),
                    network: call.network.clone(),
                    error: Box::new(error),
                });
            }
            let how = match out.code {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_string(),
            };
            let said = [text, stderr]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" / ");
            return Err(failure(if said.is_empty() {
                how
            } else {
                format!("{how}: {said}")
            }));
        }
        if text.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| failure(format!("printed no JSON ({e}): {text}")))
    }

    /// Locates every plugin of the list and checks that each speaks the list's version;
    /// returns the programs, in list order.
    pub fn negotiate(
        &mut self,
        list: &NetworkList,
        path: &[String],
    ) -> Result<Vec<PathBuf>, CniFailure> {
        let programs = (0..list.plugins.len())
            .map(|i| self.program(list, i, path))
            .collect::<Result<Vec<_>, _>>()?;
        for (plugin, program) in list.plugins.iter().zip(&programs) {
            let supported = self.supported(list, &plugin.kind, program, path)?;
            let info = VersionInfo {
                cni_version: String::new(),
                supported_versions: supported,
            };
            if !info.supports(list.version) {
                return Err(CniFailure::Version {
                    plugin: plugin.kind.clone(),
                    network: list.name.clone(),
                    version: list.version.to_string(),
                    supported: info.supported_versions.join(", "),
                });
            }
        }
        Ok(programs)
    }

    /// The versions a plugin binary speaks: from the cache, or asked with `VERSION`.
    fn supported(
        &mut self,
        list: &NetworkList,
        kind: &str,
        program: &Path,
        path: &[String],
    ) -> Result<Vec<String>, CniFailure> {
        let key = BinaryKey::of(program);
        if let Some(known) = key.as_ref().and_then(|k| self.versions.get(k)) {
            return Ok(known.to_vec());
        }
        let call = PluginCall::version(list, kind, program.to_path_buf(), path);
        let answer = self.invoke(&call)?.unwrap_or(Value::Null);
        let info: VersionInfo = serde_json::from_value(answer).map_err(|e| CniFailure::Run {
            plugin: kind.to_string(),
            network: list.name.clone(),
            message: format!("VERSION: not a version answer: {e}"),
        })?;
        if let Some(key) = key {
            self.versions.insert(key, info.supported_versions.clone());
        }
        Ok(info.supported_versions)
    }

    /// `ADD` through the chain; the final result. On a failure the plugins that ran are
    /// `DEL`ed in reverse before the error returns ([`CniFailure::AddFailed`]).
    pub fn add(
        &mut self,
        list: &NetworkList,
        attachment: &CniAttachment,
        netns: &str,
    ) -> Result<Value, CniFailure> {
        let path = search_path(attachment);
        // Refused before any plugin ran: nothing to roll back.
        let untouched = |error| CniFailure::AddFailed {
            error: Box::new(error),
            rollback: Vec::new(),
        };
        let programs = self.negotiate(list, &path).map_err(untouched)?;
        let runtime = runtime_config(attachment).map_err(untouched)?;
        let add = invocation(Command::Add, attachment, netns);
        let mut prev: Option<Value> = None;
        for (index, program) in programs.iter().enumerate() {
            let call =
                PluginCall::chain_step(list, index, program.clone(), &add, prev.as_ref(), &runtime);
            let answer = self.invoke(&call).and_then(|answer| {
                let value = answer.ok_or_else(|| CniFailure::Run {
                    plugin: call.plugin.clone(),
                    network: list.name.clone(),
                    message: "ADD: printed no result".into(),
                })?;
                CniResult::from_value(&value).map_err(|e| CniFailure::Run {
                    plugin: call.plugin.clone(),
                    network: list.name.clone(),
                    message: format!("ADD: invalid result: {e}"),
                })?;
                Ok(value)
            });
            match answer {
                Ok(value) => prev = Some(value),
                Err(error) => {
                    let rollback = self
                        .del_plugins(list, attachment, netns, prev.as_ref(), index + 1)
                        .err()
                        .map(|e| match e {
                            CniFailure::Several(errors) => errors,
                            other => vec![other],
                        })
                        .unwrap_or_default();
                    return Err(CniFailure::AddFailed {
                        error: Box::new(error),
                        rollback,
                    });
                }
            }
        }
        prev.ok_or_else(|| CniFailure::Run {
            plugin: String::new(),
            network: list.name.clone(),
            message: "the list has no plugins".into(),
        })
    }

    /// `DEL` through the whole chain in reverse, with the recorded result (if `ADD`
    /// finished). A plugin's failure is reported, the others still run.
    pub fn del(
        &mut self,
        list: &NetworkList,
        attachment: &CniAttachment,
        netns: &str,
        result: Option<&Value>,
    ) -> Result<(), CniFailure> {
        self.del_plugins(list, attachment, netns, result, list.plugins.len())
    }

    /// `DEL` of the first `count` plugins, last first.
    fn del_plugins(
        &mut self,
        list: &NetworkList,
        attachment: &CniAttachment,
        netns: &str,
        result: Option<&Value>,
        count: usize,
    ) -> Result<(), CniFailure> {
        let path = search_path(attachment);
        let runtime = runtime_config(attachment).unwrap_or_default();
        let del = invocation(Command::Del, attachment, netns);
        let mut errors = Vec::new();
        for index in (0..count.min(list.plugins.len())).rev() {
            let outcome = self.program(list, index, &path).and_then(|program| {
                let call = PluginCall::chain_step(list, index, program, &del, result, &runtime);
                self.invoke(&call).map(drop)
            });
            if let Err(e) = outcome {
                errors.push(e);
            }
        }
        super::collect(errors)
    }

    /// `CHECK` through the chain with the recorded result; skipped for lists that say
    /// `disableCheck` and for versions before 0.4.0 (which have no `CHECK`).
    pub fn check(
        &mut self,
        list: &NetworkList,
        attachment: &CniAttachment,
        netns: &str,
        result: &Value,
    ) -> Result<(), CniFailure> {
        if list.disable_check || list.version < ioc_cni::Version::V0_4_0 {
            return Ok(());
        }
        let path = search_path(attachment);
        let programs = self.negotiate(list, &path)?;
        let runtime = runtime_config(attachment)?;
        let check = invocation(Command::Check, attachment, netns);
        for (index, program) in programs.into_iter().enumerate() {
            let call = PluginCall::chain_step(list, index, program, &check, Some(result), &runtime);
            self.invoke(&call)?;
        }
        Ok(())
    }

    /// `GC` of every plugin of the list, keeping `valid`; only for 1.1.0 lists without
    /// `disableGC`. Every plugin runs; the failures are reported together.
    pub fn gc(
        &mut self,
        list: &NetworkList,
        attachment: &CniAttachment,
        valid: &[CniValid],
    ) -> Result<(), CniFailure> {
        if !list.version.has_gc() || list.disable_gc {
            return Ok(());
        }
        let path = search_path(attachment);
        let programs = self.negotiate(list, &path)?;
        let valid: Vec<Attachment> = valid
            .iter()
            .map(|v| Attachment {
                container_id: v.container_id.to_string(),
                ifname: v.ifname.to_string(),
            })
            .collect();
        let mut errors = Vec::new();
        for (index, program) in programs.into_iter().enumerate() {
            let call = PluginCall::gc(list, index, program, &path, &valid);
            if let Err(e) = self.invoke(&call) {
                errors.push(e);
            }
        }
        super::collect(errors)
    }
}

/// Re-exported for the renderers.
pub use call::planned_location;
