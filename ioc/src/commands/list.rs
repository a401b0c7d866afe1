//! `ioc list [FILTER...] [-l] [--output-format table|json|csv]`

use std::io::Write;

use clap::Args;
use ioc_core::config::properties::{
    DEFAULTROUTER, DEFAULTROUTER6, INTERFACES, IP4_ADDR, IP6_ADDR, NETWORK_PLUGIN,
};
use ioc_core::config::syntax::Syntax;
use ioc_core::config::ResolvedJail;
use ioc_core::filter::Filter;
use ioc_core::runtime::JailState;

use super::{CommandResult, Context};
use crate::output::{Cell, Format, Table};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Select jails: NAME patterns (* any text, + at least one character, a,b alternatives) and
    /// KEY=VALUE terms; all must match
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,

    /// More columns: vnet, interfaces, ip6_addr, gateways, network plugin
    #[arg(short, long)]
    pub long: bool,

    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub output_format: Format,
}

/// One listed jail.
struct Row {
    jail: ResolvedJail,
    jid: Option<u32>,
    state: JailState,
}

/// A column: its name (header and JSON key), whether only `-l` shows it, and its cell.
struct Column {
    name: &'static str,
    long_only: bool,
    cell: fn(&Row) -> Cell,
}

/// A list-valued property: the canonical text, and its entries as a JSON array.
fn entries<T: Syntax>(value: T) -> Cell {
    let text = value.print();
    let items = if text == ioc_core::config::syntax::NONE {
        Vec::new()
    } else {
        value.items()
    };
    Cell::list(text, items)
}

/// An optional property: the canonical text, and the value or null in JSON.
fn optional<T: Syntax>(value: T) -> Cell {
    let text = value.print();
    let json = (text != ioc_core::config::syntax::NONE).then(|| text.clone());
    Cell::optional(text, json)
}

const COLUMNS: &[Column] = &[
    Column {
        name: "jid",
        long_only: false,
        cell: |r| Cell::number(r.jid),
    },
    Column {
        name: "name",
        long_only: false,
        cell: |r| Cell::text(r.jail.name().as_str()),
    },
    Column {
        name: "running",
        long_only: false,
        cell: |r| {
            let up = matches!(r.state, JailState::Running { .. });
            Cell::boolean(up, if up { "yes" } else { "no" })
        },
    },
    Column {
        name: "state",
        long_only: true,
        cell: |r| Cell::text(r.state.describe()),
    },
    Column {
        name: "ip4_addr",
        long_only: false,
        cell: |r| entries(r.jail.get(IP4_ADDR)),
    },
    Column {
        name: "vnet",
        long_only: true,
        cell: |r| Cell::boolean(r.jail.vnet(), if r.jail.vnet() { "on" } else { "off" }),
    },
    Column {
        name: "interfaces",
        long_only: true,
        cell: |r| entries(r.jail.get(INTERFACES)),
    },
    Column {
        name: "ip6_addr",
        long_only: true,
        cell: |r| entries(r.jail.get(IP6_ADDR)),
    },
    Column {
        name: "defaultrouter",
        long_only: true,
        cell: |r| optional(r.jail.get(DEFAULTROUTER)),
    },
    Column {
        name: "defaultrouter6",
        long_only: true,
        cell: |r| optional(r.jail.get(DEFAULTROUTER6)),
    },
    Column {
        name: "network_plugin",
        long_only: true,
        cell: |r| Cell::text(r.jail.get(NETWORK_PLUGIN).print()),
    },
];

pub fn run(args: &ListArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let jails = if args.filters.is_empty() {
        context.store.resolve_all()?
    } else {
        context.store.select(&Filter::from_args(&args.filters)?)?
    };
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| args.long || !c.long_only)
        .collect();
    let rows = jails
        .into_iter()
        .map(|jail| jail.with_reported(&context.run_dir));
    let rows = rows.map(|jail| Row {
        jid: context.run_dir.jid(jail.name().as_str()),
        state: context.run_dir.state(jail.name().as_str()),
        jail,
    });
    let table = Table {
        columns: columns.iter().map(|c| c.name).collect(),
        rows: rows
            .map(|row| columns.iter().map(|c| (c.cell)(&row)).collect())
            .collect(),
    };
    table.write(args.output_format, out)?;
    Ok(())
}
