//! The CNI ops inside a journaled start or stop: what the lifecycle records before the plugins
//! run, and how a recorded attachment is taken back or checked.

use ioc_sdk::{CniAttachment, CniValid, HostError, HostErrorKind, HostOp, HostReply};

use super::{load, CniRun};
use crate::host::Backend;
use crate::journal::{Journal, Record};
use crate::lifecycle::session::Session;
use crate::step::{JailParams, Step, Undo};

fn journal_error(e: std::io::Error) -> HostError {
    HostError::new(HostErrorKind::Other, format!("write journal: {e}"))
}

/// `CniAdd` in a start: the list is loaded and journaled with its undo (`DEL` through the
/// chain) before any plugin runs, the result journaled once `ADD` finished. A failed `ADD`
/// that rolled itself back completely leaves its undo marked done.
pub fn add(
    backend: &mut dyn Backend,
    s: &mut Session,
    op: &HostOp,
    attachment: &CniAttachment,
) -> Result<HostReply, HostError> {
    let list = backend.cni()?.list(attachment)?;
    let netns = backend.cni_netns(&s.params, false);
    let run = CniRun::new(attachment, &list, &netns);
    let index = s.record(Step::Op(op.clone()), Some(Undo::CniDel(Box::new(run))))?;
    match backend.cni()?.add(&list, attachment, &netns) {
        Ok(result) => {
            let text = result.to_string();
            s.journal
                .append(Record::CniResult { index, result })
                .map_err(journal_error)?;
            Ok(HostReply::Text(text.into()))
        }
        Err(failure) => {
            if failure.rolled_back() {
                s.mark_undone(index)?;
            }
            Err(failure.into())
        }
    }
}

/// The undo of a `CniAdd`: `DEL` through the recorded chain in reverse, with the recorded
/// result, in the jail's namespace if it still exists (else with an empty `CNI_NETNS`).
pub fn del(backend: &mut dyn Backend, params: &JailParams, run: &CniRun) -> Result<(), HostError> {
    let list = run.network_list()?;
    let netns = backend.cni_netns(params, true);
    backend
        .cni()?
        .del(&list, &run.attachment, &netns, run.result.as_ref())
        .map_err(HostError::from)
}

/// The recorded run of `attachment` in a jail's journal, with its result.
pub fn recorded(journal: &Journal, attachment: &CniAttachment) -> Option<CniRun> {
    journal
        .pending_undos()
        .into_iter()
        .rev()
        .find_map(|(_, undo)| match undo {
            Undo::CniDel(run) if run.is_for(attachment) => Some(*run),
            _ => None,
        })
}

/// `CniCheck` of a running jail: `CHECK` through the recorded chain with the recorded result.
pub fn check(
    backend: &mut dyn Backend,
    journal: &Journal,
    params: &JailParams,
    attachment: &CniAttachment,
) -> Result<HostReply, HostError> {
    let missing = |what: &str| {
        HostError::new(
            HostErrorKind::NotFound,
            format!(
                "jail {}: CNI {}: {what}",
                params.name,
                attachment.describe()
            ),
        )
    };
    let run = recorded(journal, attachment)
        .ok_or_else(|| missing("no attachment recorded (is the jail running?)"))?;
    let result = run
        .result
        .clone()
        .ok_or_else(|| missing("its ADD never finished"))?;
    let list = run.network_list()?;
    let netns = backend.cni_netns(params, false);
    backend
        .cni()?
        .check(&list, attachment, &netns, &result)
        .map(|()| HostReply::Done)
        .map_err(HostError::from)
}

/// `CniGc`: nothing to journal; the list is read from the attachment's directory now.
pub fn gc(
    backend: &mut dyn Backend,
    attachment: &CniAttachment,
    valid: &[CniValid],
) -> Result<HostReply, HostError> {
    let list = load(attachment)?;
    backend
        .cni()?
        .gc(&list, attachment, valid)
        .map(|()| HostReply::Done)
        .map_err(HostError::from)
}

/// A CNI op sent to a host directly, outside a journaled start (a host's `perform`): `ADD`
/// without a journal, `GC`; `CHECK` needs the journal's recorded result.
pub fn perform_direct(
    backend: &mut dyn Backend,
    params: &JailParams,
    op: &HostOp,
) -> Result<HostReply, HostError> {
    match op {
        HostOp::CniAdd { attachment } => {
            let list = backend.cni()?.list(attachment)?;
            let netns = backend.cni_netns(params, false);
            let result = backend.cni()?.add(&list, attachment, &netns)?;
            Ok(HostReply::Text(result.to_string().into()))
        }
        HostOp::CniGc { attachment, valid } => gc(backend, attachment, valid),
        // Loading the list checks it (and the attachment); the dry run reads it too.
        HostOp::CniFindList { attachment } => backend
            .cni()?
            .list(attachment)
            .map(|_| HostReply::Done)
            .map_err(Into::into),
        HostOp::CniCheck { attachment } => Err(HostError::new(
            HostErrorKind::Unsupported,
            format!(
                "CNI CHECK of {} needs the jail's journal (its recorded result)",
                attachment.describe()
            ),
        )),
        _ => Err(HostError::new(
            HostErrorKind::Unsupported,
            format!("{} is not a CNI op", op.name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use ioc_cni::NetworkList;
    use ioc_sdk::{CniAttachment, Jail, Network, NetworkSpec, Platform};

    use super::*;
    use crate::host::PlanHost;
    use crate::lifecycle::session::unwind;
    use crate::lifecycle::Faults;
    use crate::plugins::{Registry, SearchPath};

    /// The plugins take their pieces back while the jail's namespace still exists: on stop,
    /// rollback and recovery, CNI `DEL` comes before the jail's removal.
    #[test]
    fn cni_del_runs_before_the_jail_goes() {
        let params = JailParams::unknown("web");
        let jail = Jail::new(
            "web",
            1,
            Platform::Linux,
            Network::from(NetworkSpec::default()),
            "none",
            Vec::<(String, String)>::new(),
        );
        let mut s = Session::new(jail, params.clone(), Journal::in_memory(), Faults::none());
        s.record(
            Step::CreateJail(params.clone()),
            Some(Undo::RemoveJail(params.clone())),
        )
        .unwrap();
        let list = NetworkList::parse(
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}"#,
            "test",
        )
        .unwrap();
        let attachment = CniAttachment {
            network: "n".into(),
            conf_dir: "/nonexistent".into(),
            path: vec!["/opt/cni/bin".into()].into(),
            container_id: "ioc-web".into(),
            ifname: "eth0".into(),
            args: Default::default(),
            runtime_config: "".into(),
        };
        let run = CniRun::new(&attachment, &list, "");
        s.record(
            Step::Op(HostOp::CniAdd { attachment }),
            Some(Undo::CniDel(Box::new(run))),
        )
        .unwrap();
        let mut backend = PlanHost::new(Platform::Linux);
        let mut registry = Registry::new(SearchPath::new(Vec::new()), &[], &[]);
        let errors = unwind(&mut backend, &mut registry, &mut s, false, &mut |_, _| {
            Vec::new()
        });
        assert!(errors.is_empty(), "{errors:?}");
        let undone: Vec<&str> = s
            .journal
            .records()
            .iter()
            .filter_map(|r| match r {
                Record::Step {
                    step: Step::CniDel(_),
                    undo: None,
                } => Some("cni-del"),
                Record::Step {
                    step: Step::RemoveJail(_),
                    ..
                } => Some("remove-jail"),
                _ => None,
            })
            .collect();
        assert_eq!(undone, ["cni-del", "remove-jail"]);
        assert!(s.journal.pending_undos().is_empty());
    }
}
