//! `PlanHost`: performs nothing, answers queries with what the host would most likely say.
//!
//! A dry run drives the real lifecycle against this host; the steps it journals (in memory)
//! are the plan. When rendering for the platform ioc runs on, queries can be answered from the
//! live system read-only (through `probe`); otherwise they get neutral answers (bridges exist
//! with MTU 1500, sysctls read as enabled), so a plan for another machine is still complete.

use ioc_sdk::{Cidr, CommandOutput, HostError, HostOp, HostReply, Platform};

use super::Backend;
use crate::step::{HookPoint, JailParams};

/// Read-only answers from a live system.
pub trait Probe {
    fn link_mtu(&mut self, name: &str) -> Option<Option<u32>>;
    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Option<bool>;
}

pub struct PlanHost {
    platform: Platform,
    probe: Option<Box<dyn Probe>>,
    /// Walks CNI chains without running a plugin.
    cni: crate::cni::Engine,
}

impl PlanHost {
    pub fn new(platform: Platform) -> PlanHost {
        PlanHost {
            platform,
            probe: None,
            cni: crate::cni::Engine::plan(),
        }
    }

    /// Answers link and address queries from a live system (same platform only).
    pub fn with_probe(mut self, probe: Box<dyn Probe>) -> PlanHost {
        self.probe = Some(probe);
        self
    }
}

/// The MTU assumed for a bridge nothing can be asked about.
pub const ASSUMED_MTU: u32 = 1500;

impl Backend for PlanHost {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn create_jail(&mut self, _params: &JailParams) -> Result<(), HostError> {
        Ok(())
    }

    fn remove_jail(&mut self, _params: &JailParams, _force: bool) -> Result<(), HostError> {
        Ok(())
    }

    fn cni(&mut self) -> Result<&mut crate::cni::Engine, HostError> {
        Ok(&mut self.cni)
    }

    fn cni_netns(&mut self, params: &JailParams, _for_del: bool) -> String {
        match self.platform {
            Platform::FreeBsd => params.kernel_name(),
            Platform::Linux => String::new(),
        }
    }

    fn perform(&mut self, params: &JailParams, op: &HostOp) -> Result<HostReply, HostError> {
        if matches!(
            op,
            HostOp::CniAdd { .. } | HostOp::CniGc { .. } | HostOp::CniFindList { .. }
        ) {
            return crate::cni::journaled::perform_direct(self, params, op);
        }
        Ok(match op {
            HostOp::LinkExists { name, .. } => {
                let live = self.probe.as_mut().and_then(|p| p.link_mtu(name));
                HostReply::Flag(live.is_none_or(|mtu| mtu.is_some()))
            }
            HostOp::LinkMtu { name } => {
                let live = self.probe.as_mut().and_then(|p| p.link_mtu(name));
                HostReply::Number(live.unwrap_or(Some(ASSUMED_MTU)).into())
            }
            HostOp::ReadSysctl { .. } => HostReply::Text("1".into()),
            // A plan reads no ruleset: every table and chain counts as absent, so the plan
            // shows the steps that work on a fresh host (for Secure VNET on nftables: the
            // port's table created, with no leftover of a crashed start to delete first).
            HostOp::NftTableExists { .. } | HostOp::NftChainExists { .. } => HostReply::Flag(false),
            HostOp::AddHostAlias { .. } => HostReply::Flag(true),
            // The queue a Linux learner starts from; FreeBSD's learns without one.
            HostOp::LearnAddresses { port, .. } if self.platform == Platform::Linux => {
                HostReply::Number(Some(u32::from(crate::learner::first_queue(port))).into())
            }
            HostOp::RunCommand { .. } => HostReply::Output(CommandOutput {
                status: 0,
                stdout: "".into(),
                stderr: "".into(),
            }),
            _ => HostReply::Done,
        })
    }

    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Result<bool, HostError> {
        Ok(self
            .probe
            .as_mut()
            .and_then(|p| p.host_has_address(iface, address))
            .unwrap_or(false))
    }

    fn run_hook(
        &mut self,
        _params: &JailParams,
        _point: HookPoint,
        _command: &str,
        _env: &[(String, String)],
    ) -> Result<(), HostError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::NftFamily;

    /// A plan reads no ruleset: every nftables table and chain is absent, so a plan shows the
    /// steps of a fresh host.
    #[test]
    fn nftables_queries_answer_absent() {
        let mut plan = PlanHost::new(Platform::Linux);
        let params = JailParams::unknown("myjail");
        for op in [
            HostOp::NftTableExists {
                family: NftFamily::Bridge,
                table: "ioc".into(),
            },
            HostOp::NftChainExists {
                family: NftFamily::Bridge,
                table: "ioc".into(),
                chain: "prerouting".into(),
            },
        ] {
            assert!(op.is_query(), "{}", op.name());
            assert_eq!(plan.perform(&params, &op), Ok(HostReply::Flag(false)));
        }
        // And nftables counts as usable, so a plan goes on to show the filter.
        assert!(HostOp::NftReady.is_query());
        assert_eq!(
            plan.perform(&params, &HostOp::NftReady),
            Ok(HostReply::Done)
        );
    }
}
