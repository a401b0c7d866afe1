//! The one interface every platform host implements.
//!
//! Plugins decide, the host acts: the lifecycle turns plugin requests and its own steps into
//! calls on a `Backend`. `LinuxHost` acts through netlink and setns, `FreeBsdHost` through
//! ifconfig/jail/route, and `PlanHost` only records, which is how a dry run works.

use ioc_sdk::{Cidr, HostError, HostOp, HostReply, Platform};

use crate::runtime::RunDir;
use crate::step::{HookPoint, JailParams};

pub trait Backend {
    /// The platform whose behaviour this host has.
    fn platform(&self) -> Platform;

    /// Creates the jail itself (FreeBSD: `jail -c`; Linux: namespaces pinned in the run dir).
    fn create_jail(&mut self, params: &JailParams) -> Result<(), HostError>;

    /// Ends every process of the jail and removes it. A jail already gone is not an error.
    fn remove_jail(&mut self, params: &JailParams, force: bool) -> Result<(), HostError>;

    /// Carries out one primitive for a jail. `ProtectPort` and `RegisterUndo` never reach a
    /// backend: the lifecycle handles them.
    fn perform(&mut self, params: &JailParams, op: &HostOp) -> Result<HostReply, HostError>;

    /// Waits until the addresses this host added for the jail can be bound (IPv6 duplicate
    /// address detection on shared-IP aliases), so that `exec_start` finds them usable; an
    /// address another node turns out to hold is an error. Called once the network is set up.
    fn settle_addresses(&mut self, _params: &JailParams) -> Result<(), HostError> {
        Ok(())
    }

    /// Stops the address learner [`HostOp::LearnAddresses`] started for host-side interface
    /// `port` of the jail, if it still runs (undo of that op, on stop, rollback and crash
    /// recovery). Hosts without learner processes have nothing to stop.
    fn stop_learner(&mut self, _params: &JailParams, _port: &str) -> Result<(), HostError> {
        Ok(())
    }

    /// Does the host interface already hold this address? Decides whether a shared-IP alias is
    /// ioc's to remove later.
    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Result<bool, HostError>;

    /// Runs an exec_* hook with `/bin/sh -c`, on the host or in the jail per `point`, with the
    /// hook environment. Output goes to ioc's stderr; a non-zero exit is an error.
    fn run_hook(
        &mut self,
        params: &JailParams,
        point: HookPoint,
        command: &str,
        env: &[(String, String)],
    ) -> Result<(), HostError>;

    /// The CNI engine of this host (issue 13); hosts that cannot run CNI plugins refuse.
    fn cni(&mut self) -> Result<&mut crate::cni::Engine, HostError> {
        Err(HostError::new(
            ioc_sdk::HostErrorKind::Unsupported,
            "this host cannot run CNI plugins",
        ))
    }

    /// `CNI_NETNS` for the jail: FreeBSD's CNI plugins expect the jail's name; Linux gives the
    /// path of the jail's pinned network namespace. `for_del`: the value for a `DEL`, empty
    /// when the namespace is gone (the specification allows it; plugins then release only
    /// what lives outside the namespace).
    fn cni_netns(&mut self, params: &JailParams, _for_del: bool) -> String {
        params.kernel_name()
    }

    /// Called after a jail's runtime dir is gone, to release host-wide state once nothing
    /// runs (Linux unmounts the run dir's private mount).
    fn jail_released(&mut self, _run: &RunDir) -> std::io::Result<()> {
        Ok(())
    }
}
