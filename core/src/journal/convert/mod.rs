//! Conversions between the in-memory records (with the sdk's types) and the journal's own
//! serialized form (`record.rs`). Both directions are total: every in-memory record has a
//! disk form, and every well-formed disk record means exactly one in-memory record.
//!
//! - this file: records, steps and undos;
//! - `jail.rs`: what a start recorded about the jail (snapshot, network, kernel params);
//! - `ops.rs`: host operations and what plugins register.

mod cni;
mod jail;
mod nat;
mod nft;
mod nft_map;
mod ops;

pub(super) use cni::{DiskCniAttachment, DiskCniRun, DiskCniValid};
pub(super) use nat::DiskNatRequest;

use super::record::*;
use super::Record;
use crate::step::{Step, Undo};

impl From<&Record> for DiskRecord {
    fn from(r: &Record) -> DiskRecord {
        match r {
            Record::Begin(s) => DiskRecord::Begin(Box::new(s.as_ref().into())),
            Record::Step { step, undo } => DiskRecord::Step {
                step: step.into(),
                undo: undo.as_ref().map(DiskUndo::from),
            },
            Record::Undone { index } => DiskRecord::Undone { index: *index },
            Record::Started => DiskRecord::Started,
            Record::Stopping => DiskRecord::Stopping,
            Record::CniResult { index, result } => DiskRecord::CniResult {
                index: *index,
                result: result.clone(),
            },
        }
    }
}

impl From<DiskRecord> for Record {
    fn from(r: DiskRecord) -> Record {
        match r {
            DiskRecord::Begin(s) => Record::Begin(Box::new((*s).into())),
            DiskRecord::Step { step, undo } => Record::Step {
                step: step.into(),
                undo: undo.map(Undo::from),
            },
            DiskRecord::Undone { index } => Record::Undone { index },
            DiskRecord::Started => Record::Started,
            DiskRecord::Stopping => Record::Stopping,
            DiskRecord::CniResult { index, result } => Record::CniResult { index, result },
        }
    }
}

impl From<&Step> for DiskStep {
    fn from(s: &Step) -> DiskStep {
        match s {
            Step::CreateJail(p) => DiskStep::CreateJail(p.into()),
            Step::RemoveJail(p) => DiskStep::RemoveJail(p.into()),
            Step::Hook { point, command } => DiskStep::Hook {
                point: (*point).into(),
                command: command.clone(),
            },
            Step::Op(op) => DiskStep::Op(op.into()),
            Step::CniDel(run) => DiskStep::CniDel(run.as_ref().into()),
        }
    }
}

impl From<DiskStep> for Step {
    fn from(s: DiskStep) -> Step {
        match s {
            DiskStep::CreateJail(p) => Step::CreateJail(p.into()),
            DiskStep::RemoveJail(p) => Step::RemoveJail(p.into()),
            DiskStep::Hook { point, command } => Step::Hook {
                point: point.into(),
                command,
            },
            DiskStep::Op(op) => Step::Op(op.into()),
            DiskStep::CniDel(run) => Step::CniDel(Box::new(run.into())),
        }
    }
}

impl From<&Undo> for DiskUndo {
    fn from(u: &Undo) -> DiskUndo {
        match u {
            Undo::RemoveJail(p) => DiskUndo::RemoveJail(p.into()),
            Undo::DestroyLink { side, name } => DiskUndo::DestroyLink {
                side: (*side).into(),
                name: name.clone(),
            },
            Undo::RemoveHostAlias { iface, address } => DiskUndo::RemoveHostAlias {
                iface: iface.clone(),
                address: (*address).into(),
            },
            Undo::RemovePolicy { backend, policy } => DiskUndo::RemovePolicy {
                backend: backend.clone(),
                policy: policy.into(),
            },
            Undo::Plugin(a) => DiskUndo::Plugin(a.into()),
            Undo::StopLearner { port } => DiskUndo::StopLearner { port: port.clone() },
            Undo::CniDel(run) => DiskUndo::CniDel(run.as_ref().into()),
        }
    }
}

impl From<DiskUndo> for Undo {
    fn from(u: DiskUndo) -> Undo {
        match u {
            DiskUndo::RemoveJail(p) => Undo::RemoveJail(p.into()),
            DiskUndo::DestroyLink { side, name } => Undo::DestroyLink {
                side: side.into(),
                name,
            },
            DiskUndo::RemoveHostAlias { iface, address } => Undo::RemoveHostAlias {
                iface,
                address: address.into(),
            },
            DiskUndo::RemovePolicy { backend, policy } => Undo::RemovePolicy {
                backend,
                policy: policy.into(),
            },
            DiskUndo::Plugin(a) => Undo::Plugin(a.into()),
            DiskUndo::StopLearner { port } => Undo::StopLearner { port },
            DiskUndo::CniDel(run) => Undo::CniDel(Box::new(run.into())),
        }
    }
}
