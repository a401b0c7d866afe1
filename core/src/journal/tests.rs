//! The journal's format: old journals still read, damage reported, torn tails tolerated.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ioc_sdk::{HostOp, Side, UndoAction};

use super::*;

/// Journals written by ioc before journals had a header (format 1), by real starts: a Secure
/// VNET jail with two NICs on `bridge0` (pairs, firewall policies, bridge members, addresses,
/// routes) plus a plugin's run-command undo, and a shared-IP jail with two host aliases.
const V1_SECURE_VNET: &str = include_str!("fixtures/v1-secure-vnet.jsonl");
const V1_SHARED_IP: &str = include_str!("fixtures/v1-shared-ip.jsonl");

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("journal");
    fs::write(&path, text).unwrap();
    path
}

fn destroy(name: &str) -> Undo {
    Undo::DestroyLink {
        side: Side::Host,
        name: name.into(),
    }
}

/// What the undos of a journal do, as the names of the steps that carry them out (or the
/// backend that removes a policy).
fn undo_summary(journal: &Journal) -> Vec<String> {
    journal
        .pending_undos()
        .into_iter()
        .map(|(_, undo)| match (&undo, undo.as_step()) {
            (Undo::RemovePolicy { backend, policy }, _) => {
                format!("remove-policy {backend} {}", policy.port())
            }
            (_, Some(Step::RemoveJail(p))) => format!("remove-jail {}", p.name),
            (_, Some(Step::Op(op))) => match &op {
                HostOp::DestroyLink { name, .. } => format!("destroy-link {name}"),
                HostOp::RemoveHostAlias { iface, address } => {
                    format!("remove-host-alias {iface} {address}")
                }
                HostOp::RunCommand { argv, .. } => format!("run {}", argv.join(" ")),
                other => panic!("unexpected undo step {other:?}"),
            },
            other => panic!("unexpected undo {other:?}"),
        })
        .collect()
}

#[test]
fn a_format_1_journal_is_read_with_every_record_and_undo() {
    let dir = tempfile::tempdir().unwrap();
    for (text, undos) in [
        (
            V1_SECURE_VNET,
            vec![
                "remove-jail myjail",
                "destroy-link vnet0.1",
                "remove-policy nftables vnet0.1",
                "destroy-link vnet1.1",
                "remove-policy nftables vnet1.1",
                "run rm -f @DIR@/marker",
            ],
        ),
        (
            V1_SHARED_IP,
            vec![
                "remove-jail sharedjail",
                "remove-host-alias em0 10.1.1.10/24",
                "remove-host-alias em0 fd00:10::10/64",
            ],
        ),
    ] {
        let path = write(dir.path(), text);
        let journal = Journal::open(&path).unwrap().unwrap();
        assert_eq!(journal.records().len(), text.lines().count());
        assert!(journal.started() && !journal.stopping());
        assert!(journal.snapshot().is_some());
        assert_eq!(undo_summary(&journal), undos);
        // The journal's own form is format 1's record shape: every line reads back into the
        // same records, and writes out as the same JSON.
        for (line, record) in text.lines().zip(journal.records()) {
            let old: serde_json::Value = serde_json::from_str(line).unwrap();
            let new: serde_json::Value =
                serde_json::from_slice(&format::record_line(record)).unwrap();
            assert_eq!(old, new);
        }
        journal.remove().unwrap();
    }
}

#[test]
fn a_format_1_stop_in_progress_resumes_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // Interrupted after the first host alias was removed.
    let text = format!("{V1_SHARED_IP}\"stopping\"\n{{\"undone\":{{\"index\":2}}}}\n");
    let path = write(dir.path(), &text);
    let mut journal = Journal::open(&path).unwrap().unwrap();
    assert!(journal.stopping());
    assert_eq!(
        undo_summary(&journal),
        [
            "remove-jail sharedjail",
            "remove-host-alias em0 fd00:10::10/64"
        ]
    );
    // Continued by this ioc: the file stays readable, in its old form.
    journal.append(Record::Undone { index: 3 }).unwrap();
    drop(journal);
    let journal = Journal::read(&path).unwrap().unwrap();
    assert_eq!(undo_summary(&journal), ["remove-jail sharedjail"]);
}

#[test]
fn a_new_journal_starts_with_its_format_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let old = Journal::read(&write(dir.path(), V1_SECURE_VNET))
        .unwrap()
        .unwrap();
    fs::remove_file(&path).unwrap();
    let mut journal = Journal::create(&path).unwrap();
    for record in old.records() {
        journal.append(record.clone()).unwrap();
    }
    drop(journal);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next(), Some("{\"ioc_journal\":2}"));
    let again = Journal::read(&path).unwrap().unwrap();
    assert_eq!(again.records(), old.records());
}

#[test]
fn a_damaged_middle_record_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<&str> = V1_SHARED_IP.lines().collect();
    lines[2] = "{\"step\":{\"step\":{\"op\":{\"add_host_al";
    let path = write(dir.path(), &(lines.join("\n") + "\n"));
    for result in [
        Journal::read(&path).map(|_| ()),
        Journal::open(&path).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, JournalError::Corrupt { line: 3, path: p, .. } if *p == path),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("by hand"), "{message}");
    }
    // The same holds for a journal with a header, and for an unknown record.
    let text = "{\"ioc_journal\":2}\n\"started\"\n\"exploded\"\n\"stopping\"\n";
    let err = Journal::read(&write(dir.path(), text)).unwrap_err();
    assert!(
        matches!(err, JournalError::Corrupt { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn a_newer_or_unknown_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "{\"ioc_journal\":3}\n\"started\"\n");
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(err, JournalError::Newer { found: 3, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("newer ioc"), "{message}");
    for header in ["{\"ioc_journal\":\"two\"}", "{\"ioc_journal\":0}"] {
        let path = write(dir.path(), &format!("{header}\n\"started\"\n"));
        let err = Journal::read(&path).unwrap_err();
        assert!(matches!(err, JournalError::UnknownFormat { .. }), "{err:?}");
    }
}

#[test]
fn torn_last_line_is_ignored_and_undos_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let mut j = Journal::create(&path).unwrap();
    let step = |n: &str| Record::Step {
        step: Step::Op(HostOp::LoopbackUp),
        undo: Some(destroy(n)),
    };
    j.append(step("a")).unwrap();
    let b = j.append(step("b")).unwrap();
    j.append(Record::Undone { index: b }).unwrap();
    j.append(step("c")).unwrap();
    drop(j);
    // Simulate a crash in the middle of writing a record.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"step\":{\"step\":").unwrap();

    let mut j = Journal::open(&path).unwrap().unwrap();
    let pending: Vec<Undo> = j.pending_undos().into_iter().map(|(_, u)| u).collect();
    assert_eq!(pending, vec![destroy("a"), destroy("c")]);
    // Continuing the journal cuts the torn line off first.
    j.append(Record::Undone { index: 0 }).unwrap();
    let reread = Journal::read(&path).unwrap().unwrap();
    assert_eq!(reread.records(), j.records());
    assert!(
        Journal::create(&path).is_err(),
        "an existing journal is never overwritten"
    );
    j.remove().unwrap();
    assert!(!path.exists());
}

#[test]
fn a_torn_header_is_an_empty_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "{\"ioc_jou");
    let mut j = Journal::open(&path).unwrap().unwrap();
    assert!(j.records().is_empty());
    j.append(Record::Started).unwrap();
    assert!(Journal::read(&path).unwrap().unwrap().started());
}

#[test]
fn a_whole_last_record_without_its_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "{\"ioc_journal\":2}\n\"started\"");
    let mut j = Journal::open(&path).unwrap().unwrap();
    assert!(j.started());
    j.append(Record::Stopping).unwrap();
    let j = Journal::read(&path).unwrap().unwrap();
    assert!(j.started() && j.stopping());
}

#[test]
fn plugin_undo_actions_survive_the_round_trip() {
    let undo = Undo::Plugin(UndoAction::RunCommand {
        side: Side::Jail,
        argv: vec!["true".into()].into(),
    });
    let record = Record::Step {
        step: Step::Op(HostOp::LoopbackUp),
        undo: Some(undo),
    };
    let line = format::record_line(&record);
    let parsed = format::parse(std::str::from_utf8(&line).unwrap(), Path::new("j")).unwrap();
    assert_eq!(parsed.records, vec![record]);
}

#[test]
fn a_registered_nft_removal_survives_the_round_trip_and_is_a_commit() {
    let mut batch = ioc_sdk::nft::NftBatch::new();
    batch.delete_table(ioc_sdk::NftFamily::Netdev, "ioc-vnet0.5");
    let action = UndoAction::NftCommit {
        batch: batch.clone(),
    };
    let record = Record::Step {
        step: Step::Op(HostOp::RegisterUndo {
            action: action.clone(),
        }),
        undo: Some(Undo::Plugin(action.clone())),
    };
    let line = format::record_line(&record);
    let parsed = format::parse(std::str::from_utf8(&line).unwrap(), Path::new("j")).unwrap();
    assert_eq!(parsed.records, vec![record]);
    // Carried out by the host from the journal, as the commit itself: no plugin involved.
    assert_eq!(
        Undo::Plugin(action).as_step(),
        Some(Step::Op(HostOp::NftCommit { batch }))
    );
}

#[test]
fn a_learner_and_its_undo_survive_the_round_trip() {
    let op = HostOp::LearnAddresses {
        port: "vnet0.5".into(),
        mac: ioc_sdk::Mac([2, 0, 0, 0, 0, 5]),
        dhcp4: true,
        slaac: false,
        sink: ioc_sdk::LearnSink::NftSets {
            family: ioc_sdk::NftFamily::Netdev,
            table: "ioc-vnet0.5".into(),
            set4: "lease4".into(),
            set6: "slaac6".into(),
        },
    };
    let record = Record::Step {
        undo: Undo::for_op(&op),
        step: Step::Op(op),
    };
    let line = format::record_line(&record);
    let text = std::str::from_utf8(&line).unwrap();
    assert!(
        text.contains("\"stop_learner\":{\"port\":\"vnet0.5\"}"),
        "{text}"
    );
    let parsed = format::parse(text, Path::new("j")).unwrap();
    assert_eq!(parsed.records, vec![record]);
}
