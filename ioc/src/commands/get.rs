//! `ioc get PROPERTY|all TARGET`

use std::io::Write;

use clap::Args;
use ioc_core::config::{Owner, Resolved, ResolvedJail, DEFAULTS};
use ioc_core::filter::Filter;
use ioc_core::{Error, Result};

use super::{CommandResult, Context};

/// The word that asks for every property.
const ALL: &str = "all";

#[derive(Debug, Args)]
pub struct GetArgs {
    /// A property name, or `all` (printed as KEY=VALUE lines)
    pub property: String,

    /// A jail (or a filter selecting exactly one), or `defaults`
    pub target: String,
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
}

pub fn run(args: &GetArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let source = Source::load(&args.target, context)?;
    if args.property == ALL {
        for (key, value) in source.all() {
            writeln!(out, "{key}={value}")?;
        }
    } else {
        writeln!(out, "{}", source.one(&args.property)?)?;
    }
    Ok(())
}
