//! The journal of a running (or crashed) jail: every change, written before it is made.
//!
//! One JSON record per line, appended with a single `write`, so a crash leaves at worst a torn
//! last line, which is ignored: a record that was not fully written describes a change that was
//! not started. The file lives in the runtime directory (tmpfs, gone at reboot with the jails),
//! and it only has to survive the death of an ioc process, not of the machine, so it is not
//! fsynced: the page cache outlives a SIGKILL.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;
use crate::step::{Step, Undo};

/// One line of the journal.
// Records live one at a time on their way to disk; boxing the common variant would only add
// allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// The jail as it is being started: what stop needs even if the config changes later.
    Begin(Box<Snapshot>),
    /// A change about to be made, and how to take it back.
    Step { step: Step, undo: Option<Undo> },
    /// The undo of record `index` is done (so an interrupted stop resumes where it was).
    Undone { index: usize },
    /// The start completed.
    Started,
    /// A stop began; records after this one are the stop's.
    Stopping,
}

/// A jail's journal, on disk or (for dry runs) only in memory.
#[derive(Debug)]
pub struct Journal {
    file: Option<(File, PathBuf)>,
    records: Vec<Record>,
}

impl Journal {
    /// A journal kept only in memory.
    pub fn in_memory() -> Journal {
        Journal {
            file: None,
            records: Vec::new(),
        }
    }

    /// Creates a new journal file; fails if one exists (the caller must clean up first).
    pub fn create(path: &Path) -> io::Result<Journal> {
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        Ok(Journal {
            file: Some((file, path.to_path_buf())),
            records: Vec::new(),
        })
    }

    /// Reads a journal without the right to continue it (status queries, dry runs).
    pub fn read(path: &Path) -> io::Result<Option<Journal>> {
        match fs::read_to_string(path) {
            Ok(text) => Ok(Some(Journal {
                file: None,
                records: parse(&text),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads an existing journal to continue it (stop, or cleanup after a crash).
    pub fn open(path: &Path) -> io::Result<Option<Journal>> {
        let Some(mut journal) = Journal::read(path)? else {
            return Ok(None);
        };
        let file = OpenOptions::new().append(true).open(path)?;
        journal.file = Some((file, path.to_path_buf()));
        Ok(Some(journal))
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(_, p)| p.as_path())
    }

    /// Appends a record, to disk first when the journal has a file.
    pub fn append(&mut self, record: Record) -> io::Result<usize> {
        if let Some((file, _)) = &mut self.file {
            let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
        }
        self.records.push(record);
        Ok(self.records.len() - 1)
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The snapshot the start recorded.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.records.iter().find_map(|r| match r {
            Record::Begin(s) => Some(s.as_ref()),
            _ => None,
        })
    }

    pub fn started(&self) -> bool {
        self.records.iter().any(|r| matches!(r, Record::Started))
    }

    pub fn stopping(&self) -> bool {
        self.records.iter().any(|r| matches!(r, Record::Stopping))
    }

    /// The steps a stop made (after the `Stopping` mark).
    pub fn stop_steps(&self) -> impl Iterator<Item = &Step> {
        self.records
            .iter()
            .skip_while(|r| !matches!(r, Record::Stopping))
            .filter_map(|r| match r {
                Record::Step { step, .. } => Some(step),
                _ => None,
            })
    }

    /// The steps the start made (before `Started`, or all if it never finished).
    pub fn start_steps(&self) -> impl Iterator<Item = &Step> {
        self.records
            .iter()
            .take_while(|r| !matches!(r, Record::Started | Record::Stopping))
            .filter_map(|r| match r {
                Record::Step { step, .. } => Some(step),
                _ => None,
            })
    }

    /// Undos not yet carried out, in the order their changes were made.
    pub fn pending_undos(&self) -> Vec<(usize, Undo)> {
        let done: Vec<usize> = self
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Undone { index } => Some(*index),
                _ => None,
            })
            .collect();
        self.records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Record::Step {
                    undo: Some(undo), ..
                } if !done.contains(&i) => Some((i, undo.clone())),
                _ => None,
            })
            .collect()
    }

    /// Deletes the journal file (after a complete stop or rollback).
    pub fn remove(self) -> io::Result<()> {
        if let Some((file, path)) = self.file {
            drop(file);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Parses journal text, skipping a torn (unparsable) last line.
fn parse(text: &str) -> Vec<Record> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map_while(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::Side;

    fn destroy(name: &str) -> Undo {
        Undo::DestroyLink {
            side: Side::Host,
            name: name.into(),
        }
    }

    #[test]
    fn torn_last_line_is_ignored_and_undos_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let mut j = Journal::create(&path).unwrap();
        let step = |n: &str| Record::Step {
            step: Step::Op(ioc_sdk::HostOp::LoopbackUp),
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

        let j = Journal::open(&path).unwrap().unwrap();
        let pending: Vec<Undo> = j.pending_undos().into_iter().map(|(_, u)| u).collect();
        assert_eq!(pending, vec![destroy("a"), destroy("c")]);
        assert!(
            Journal::create(&path).is_err(),
            "an existing journal is never overwritten"
        );
        j.remove().unwrap();
        assert!(!path.exists());
    }
}
