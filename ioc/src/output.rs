//! Tabular output in the formats `--output-format` offers, from one description of the data:
//! each cell carries its text (table, CSV) and its JSON value (a real number, boolean, array or
//! null, not only strings).

use std::io::{self, Write};

use clap::ValueEnum;
use serde_json::{Map, Value as Json};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    #[default]
    Table,
    /// An array of objects
    Json,
    /// RFC 4180 with a header line
    Csv,
}

/// One value in both renderings.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub json: Json,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            json: Json::String(text.clone()),
            text,
        }
    }

    /// A boolean shown as `yes`/`no` or `on`/`off` in text.
    pub fn boolean(value: bool, text: &str) -> Cell {
        Cell {
            text: text.to_string(),
            json: Json::Bool(value),
        }
    }

    /// A number, or `-` in text and null in JSON when absent.
    pub fn number(value: Option<u32>) -> Cell {
        match value {
            Some(n) => Cell {
                text: n.to_string(),
                json: Json::from(n),
            },
            None => Cell {
                text: "-".to_string(),
                json: Json::Null,
            },
        }
    }

    /// A list: `text` in text (the canonical property value), an array of `items` in JSON.
    pub fn list(text: String, items: Vec<String>) -> Cell {
        Cell {
            text,
            json: Json::Array(items.into_iter().map(Json::String).collect()),
        }
    }

    /// An optional value: `text` in text, the value or null in JSON.
    pub fn optional(text: String, value: Option<String>) -> Cell {
        Cell {
            text,
            json: value.map_or(Json::Null, Json::String),
        }
    }
}

/// Rows of cells under named columns (names borrowed: fixed ones, or keys from the command line).
#[derive(Clone, Debug, Default)]
pub struct Table<'c> {
    pub columns: Vec<&'c str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table<'_> {
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Table => self.write_text(out),
            Format::Json => self.write_json(out),
            Format::Csv => self.write_csv(out),
        }
    }

    /// Columns padded to their widest cell, two spaces apart, headers upper-cased.
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let headers: Vec<String> = self.columns.iter().map(|c| c.to_uppercase()).collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.text.chars().count());
            }
        }
        let mut line = |cells: Vec<&str>| -> io::Result<()> {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count());
                text.push_str(&" ".repeat(pad));
            }
            writeln!(out, "{}", text.trim_end())
        };
        line(headers.iter().map(String::as_str).collect())?;
        for row in &self.rows {
            line(row.iter().map(|c| c.text.as_str()).collect())?;
        }
        Ok(())
    }

    fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        let objects: Vec<Json> = self
            .rows
            .iter()
            .map(|row| {
                let object: Map<String, Json> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| (column.to_string(), cell.json.clone()))
                    .collect();
                Json::Object(object)
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &objects)?;
        writeln!(out)
    }

    fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let line = |cells: Vec<&str>| -> String {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(out, "{}", line(self.columns.clone()))?;
        for row in &self.rows {
            writeln!(
                out,
                "{}",
                line(row.iter().map(|c| c.text.as_str()).collect())
            )?;
        }
        Ok(())
    }

    /// A GitHub-flavoured Markdown table (cells are used as given, `|` escaped).
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let row = |cells: Vec<&str>| -> String {
            let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |", cells.join(" | "))
        };
        writeln!(out, "{}", row(self.columns.clone()))?;
        writeln!(out, "{}", row(self.columns.iter().map(|_| "---").collect()))?;
        for cells in &self.rows {
            writeln!(
                out,
                "{}",
                row(cells.iter().map(|c| c.text.as_str()).collect())
            )?;
        }
        Ok(())
    }
}

/// Quotes a CSV field when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table<'static> {
        Table {
            columns: vec!["jid", "name", "ip4_addr"],
            rows: vec![
                vec![
                    Cell::number(Some(5)),
                    Cell::text("jail-a"),
                    Cell::list("a|1,b|2".into(), vec!["a|1".into(), "b|2".into()]),
                ],
                vec![
                    Cell::number(None),
                    Cell::text("b"),
                    Cell::list("none".into(), vec![]),
                ],
            ],
        }
    }

    fn render(format: Format) -> String {
        let mut out = Vec::new();
        sample().write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_aligned() {
        assert_eq!(
            render(Format::Table),
            "JID  NAME    IP4_ADDR\n5    jail-a  a|1,b|2\n-    b       none\n"
        );
    }

    #[test]
    fn json_has_real_types() {
        let v: Json = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(v[0]["jid"], Json::from(5));
        assert_eq!(v[1]["jid"], Json::Null);
        assert_eq!(v[0]["ip4_addr"], serde_json::json!(["a|1", "b|2"]));
        assert_eq!(v[1]["ip4_addr"], serde_json::json!([]));
    }

    #[test]
    fn csv_quotes_when_needed() {
        assert_eq!(
            render(Format::Csv),
            "jid,name,ip4_addr\n5,jail-a,\"a|1,b|2\"\n-,b,none\n"
        );
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn markdown_escapes_pipes() {
        let mut out = Vec::new();
        sample().write_markdown(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("| jid | name | ip4_addr |\n| --- | --- | --- |\n"),
            "{text}"
        );
        assert!(text.contains("a\\|1,b\\|2"), "{text}");
    }
}
