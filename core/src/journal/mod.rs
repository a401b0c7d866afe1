//! The journal of a running (or crashed) jail: every change, written before it is made.
//!
//! A format header, then one JSON record per line, appended with a single `write`, so a crash
//! leaves at worst a torn last line, which is ignored: a record that was not fully written
//! describes a change that was not started. Any other unreadable line, and a header of a
//! format this ioc does not know, stop the reader with an error naming the file
//! (`format.rs`). Records are written in the journal's own form (`record.rs`, converted in
//! `convert.rs`), not the plugin ABI's, so a new sdk does not change what an old journal means.
//!
//! The file lives in the runtime directory (tmpfs, gone at reboot with the jails), and it only
//! has to survive the death of an ioc process, not of the machine, so it is not fsynced: the
//! page cache outlives a SIGKILL.

mod convert;
mod format;
mod record;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use format::JournalError;

use crate::snapshot::Snapshot;
use crate::step::{Step, Undo};

/// One line of the journal.
// Records live one at a time on their way to disk; boxing the common variant would only add
// allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
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
    /// The CNI `ADD` of record `index` finished with `result`: its `DEL` passes it on.
    CniResult {
        index: usize,
        result: serde_json::Value,
    },
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

    /// Creates a new journal file, with its format header; fails if one exists (the caller
    /// must clean up first).
    pub fn create(path: &Path) -> io::Result<Journal> {
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(&format::header_line())?;
        Ok(Journal {
            file: Some((file, path.to_path_buf())),
            records: Vec::new(),
        })
    }

    /// Reads a journal without the right to continue it (status queries, dry runs).
    pub fn read(path: &Path) -> Result<Option<Journal>, JournalError> {
        Ok(Journal::parse_file(path)?.map(|parsed| Journal {
            file: None,
            records: parsed.records,
        }))
    }

    /// Reads an existing journal to continue it (stop, or cleanup after a crash). A torn last
    /// line is cut off first, so the next record starts on a line of its own.
    pub fn open(path: &Path) -> Result<Option<Journal>, JournalError> {
        let Some(parsed) = Journal::parse_file(path)? else {
            return Ok(None);
        };
        let io_error = |source| JournalError::Io {
            action: "continue",
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_error)?;
        file.set_len(parsed.complete_len as u64).map_err(io_error)?;
        if parsed.missing_newline {
            file.write_all(b"\n").map_err(io_error)?;
        }
        Ok(Some(Journal {
            file: Some((file, path.to_path_buf())),
            records: parsed.records,
        }))
    }

    fn parse_file(path: &Path) -> Result<Option<format::Parsed>, JournalError> {
        match fs::read_to_string(path) {
            Ok(text) => format::parse(&text, path).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(JournalError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(_, p)| p.as_path())
    }

    /// Appends a record, to disk first when the journal has a file.
    pub fn append(&mut self, record: Record) -> io::Result<usize> {
        if let Some((file, _)) = &mut self.file {
            file.write_all(&format::record_line(&record))?;
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
                } if !done.contains(&i) => Some((i, self.completed(i, undo.clone()))),
                _ => None,
            })
            .collect()
    }

    /// A CNI undo with the result its `ADD` recorded later, if it did.
    fn completed(&self, index: usize, undo: Undo) -> Undo {
        let Undo::CniDel(mut run) = undo else {
            return undo;
        };
        run.result = self.records.iter().rev().find_map(|r| match r {
            Record::CniResult { index: i, result } if *i == index => Some(result.clone()),
            _ => None,
        });
        Undo::CniDel(run)
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cni;
