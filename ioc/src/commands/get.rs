//! `ioc get PROPERTY|all TARGET [--output-format text|json]`

use std::io::Write;

use clap::{Args, ValueEnum};
use ioc_core::config::{Owner, Resolved, ResolvedJail, Value, DEFAULTS};
use ioc_core::filter::Filter;
use ioc_core::{Error, Result};
use serde_json::{Map, Value as Json};

use super::{CommandResult, Context};
use crate::typed::key_cell;

/// The word that asks for every property.
const ALL: &str = "all";

/// What `ioc get --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc get ip4_addr web
  ioc get all web
  ioc get all web --output-format json
  ioc get defaultrouter defaults";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct GetArgs {
    /// A property name, or `all` (printed as KEY=VALUE lines)
    pub property: String,

    /// A jail (or a filter selecting exactly one), or `defaults`
    pub target: String,

    #[arg(long, value_enum, default_value_t = GetFormat::Text, value_name = "FORMAT")]
    pub output_format: GetFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    /// The value alone, or KEY=VALUE lines for `all`
    #[default]
    Text,
    /// One object {KEY: VALUE} with typed values (booleans, numbers, arrays, null), as
    /// `ioc list --output-format json` gives them
    Json,
}

/// What `get` reads from: the defaults or one jail.
enum Source {
    Defaults(Resolved),
    Jail(ResolvedJail),
}

impl Source {
    fn load(target: &str, context: &Context) -> Result<Source> {
        if target == DEFAULTS {
            return Ok(Source::Defaults(Resolved::defaults(
                &context.store.defaults()?,
            )));
        }
        let names = context.store.select_names(&Filter::from_args(&[target])?)?;
        match names.as_slice() {
            [name] => Ok(Source::Jail(
                context.store.resolve(name)?.with_reported(&context.run_dir),
            )),
            _ => Err(Error::Ambiguous {
                filter: target.to_string(),
                names: names.iter().map(|n| n.to_string()).collect(),
            }),
        }
    }

    fn all(&self) -> Vec<(String, String)> {
        match self {
            Source::Defaults(d) => d.properties_for_display(),
            Source::Jail(j) => j.properties_for_display(),
        }
    }

    fn one(&self, key: &str) -> Result<String> {
        match self {
            Source::Defaults(d) => d.display(Owner::Defaults, key),
            Source::Jail(j) => j.display(key),
        }
    }

    /// The typed value of a declared property (none for `<nic>_mac` and `user.*`).
    fn value(&self, key: &str) -> Option<&Value> {
        match self {
            Source::Defaults(d) => d.value(key),
            Source::Jail(j) => j.properties().value(key),
        }
    }
}

pub fn run(args: &GetArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let source = Source::load(&args.target, context)?;
    let pairs = if args.property == ALL {
        source.all()
    } else {
        vec![(args.property.clone(), source.one(&args.property)?)]
    };
    match args.output_format {
        GetFormat::Text if args.property == ALL => {
            for (key, value) in pairs {
                writeln!(out, "{key}={value}")?;
            }
        }
        GetFormat::Text => {
            for (_, value) in pairs {
                writeln!(out, "{value}")?;
            }
        }
        GetFormat::Json => {
            let object: Map<String, Json> = pairs
                .into_iter()
                .map(|(key, text)| {
                    let json = key_cell(source.value(&key), text).json;
                    (key, json)
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &object).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
