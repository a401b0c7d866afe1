//! The journal file format: a version header, then one record per line.
//!
//! - Format 1 (ioc before journals had a header): JSON records, one a line, no header.
//! - Format 2: the header line `{"ioc_journal":2}`, then the same records.
//!
//! Both are read. A journal of a newer format, or one whose header names no format this ioc
//! knows, is refused: its records might mean something this ioc would undo wrongly. A line
//! that cannot be read is refused too, wherever it is, except a torn last line: records are
//! appended with one `write` each, so a crash can leave only the last line incomplete (no
//! newline), and that record describes a change that was never started.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::record::DiskRecord;
use super::Record;

/// The format this ioc writes.
pub const CURRENT: u64 = 2;

/// The header line that opens every journal this ioc writes.
#[derive(Serialize, Deserialize)]
struct Header {
    ioc_journal: u64,
}

/// A journal that cannot be read, or not trusted.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read, or not be opened to continue it.
    #[error("cannot {action} journal {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "journal {path} was written by a newer ioc (journal format {found}; this ioc reads \
         formats 1 to {CURRENT}): stop the jail with the ioc version that started it, or remove \
         its host pieces by hand and then delete the journal"
    )]
    /// Written by a newer ioc, in a format this one does not know.
    Newer { path: PathBuf, found: u64 },
    #[error(
        "journal {path} starts with an unknown format header {header:?} (this ioc reads formats \
         1 to {CURRENT}): stop the jail with the ioc version that started it, or remove its \
         host pieces by hand and then delete the journal"
    )]
    /// A header that names no format at all (damaged, or not ioc's).
    UnknownFormat { path: PathBuf, header: String },
    #[error(
        "journal {path} is damaged: line {line} cannot be read ({reason}); no record is skipped, \
         so nothing was undone: remove the jail's host pieces listed in the journal by hand, \
         then delete the journal"
    )]
    /// A line other than a torn last one cannot be read: refusing it keeps the records after
    /// it from being skipped.
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// What a journal file holds.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub version: u64,
    pub records: Vec<Record>,
    /// Byte length of the readable lines; less than the text's when the last line is torn
    /// (a journal continued after a crash is cut back to this first, so the next record
    /// starts on a line of its own).
    pub complete_len: usize,
    /// The last readable line is whole but lacks its newline (the write stopped just before
    /// it): a journal continued after a crash gets the newline first.
    pub missing_newline: bool,
}

/// The header line for a new journal, newline included.
pub fn header_line() -> Vec<u8> {
    let mut line = serde_json::to_vec(&Header {
        ioc_journal: CURRENT,
    })
    .expect("a header always serializes");
    line.push(b'\n');
    line
}

/// One record as a journal line, newline included.
pub fn record_line(record: &Record) -> Vec<u8> {
    let mut line =
        serde_json::to_vec(&DiskRecord::from(record)).expect("journal records always serialize");
    line.push(b'\n');
    line
}

/// Reads journal text (of file `path`, for errors).
pub fn parse(text: &str, path: &Path) -> Result<Parsed, JournalError> {
    let mut parsed = Parsed {
        version: 1,
        records: Vec::new(),
        complete_len: 0,
        missing_newline: false,
    };
    let mut offset = 0;
    let mut first = true;
    for (number, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = number + 1;
        let torn = !raw.ends_with('\n');
        offset += raw.len();
        let line = raw.trim();
        if line.is_empty() {
            if !torn {
                parsed.complete_len = offset;
            }
            continue;
        }
        if std::mem::take(&mut first) && line.starts_with('{') {
            match header_version(line) {
                HeaderCheck::NotAHeader => {}
                HeaderCheck::Version(v) if v == CURRENT => {
                    parsed.version = v;
                    parsed.complete_len = offset;
                    parsed.missing_newline = torn;
                    continue;
                }
                HeaderCheck::Version(v) if v > CURRENT => {
                    return Err(JournalError::Newer {
                        path: path.into(),
                        found: v,
                    })
                }
                HeaderCheck::Version(_) | HeaderCheck::Unknown => {
                    return Err(JournalError::UnknownFormat {
                        path: path.into(),
                        header: line.to_string(),
                    })
                }
            }
        }
        match serde_json::from_str::<DiskRecord>(line) {
            // A last line whose newline is missing but whose record is whole is still a record.
            Ok(record) => {
                parsed.records.push(record.into());
                parsed.complete_len = offset;
                parsed.missing_newline = torn;
            }
            // A torn line (a torn header too: the journal was just created) is a record whose
            // write never finished, so a change that was never started.
            Err(_) if torn => break,
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path: path.into(),
                    line: line_no,
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(parsed)
}

enum HeaderCheck {
    /// A record of a format-1 journal (which has no header).
    NotAHeader,
    Version(u64),
    /// Meant as a header, but not one this ioc understands.
    Unknown,
}

/// Whether the first line is a header, and of which version.
fn header_version(line: &str) -> HeaderCheck {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(line) else {
        return HeaderCheck::NotAHeader;
    };
    match map.get("ioc_journal") {
        None => HeaderCheck::NotAHeader,
        Some(v) => match v.as_u64() {
            Some(v) if v >= 2 && map.len() == 1 => HeaderCheck::Version(v),
            _ => HeaderCheck::Unknown,
        },
    }
}
