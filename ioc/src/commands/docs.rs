//! `ioc completions SHELL` and `ioc man DIR`: shell completions and man pages generated from
//! the same clap definitions and property registry the program runs on, so they cannot drift
//! from the code.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use ioc_core::config::registry::{self, Builtin, Scope, DYNAMIC_KEYS};

use super::CommandResult;
use crate::cli::Cli;

/// What `ioc completions --help` shows last.
const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  ioc completions bash > /etc/bash_completion.d/ioc
  ioc completions zsh > /usr/local/share/zsh/site-functions/_ioc
  ioc completions fish > ~/.config/fish/completions/ioc.fish";

#[derive(Debug, Args)]
#[command(after_help = COMPLETIONS_EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell
    pub shell: Shell,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ioc man ./man && man ./man/ioc-start.8")]
pub struct ManArgs {
    /// Directory to write ioc.8, ioc-COMMAND.8 and ioc-properties.5 into (made if missing)
    pub dir: PathBuf,
}

/// Prints the completion script for `args.shell` (e.g. `ioc completions bash >
/// /etc/bash_completion.d/ioc`), completing jail and property names too where the shell
/// allows it (see [`super::completion`]).
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> CommandResult {
    let mut cli = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "ioc", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    out.write_all(super::completion::with_names(args.shell, script).as_bytes())?;
    Ok(())
}

/// Writes the man pages: `ioc(8)`, one `ioc-COMMAND(8)` per visible subcommand, and
/// `ioc-properties(5)` from the property registry.
pub fn man(args: &ManArgs) -> CommandResult {
    fs::create_dir_all(&args.dir)?;
    let cli = Cli::command().name("ioc");
    write_page(
        &args.dir.join("ioc.8"),
        clap_mangen::Man::new(cli.clone()).section("8"),
    )?;
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ioc-{}", sub.get_name());
        // clap names a command with a static string: the page's title is leaked once, in a
        // process that writes the pages and exits.
        let title: &'static str = Box::leak(name.clone().into_boxed_str());
        let page = clap_mangen::Man::new(sub.clone().name(title)).section("8");
        write_page(&args.dir.join(format!("{name}.8")), page)?;
    }
    fs::write(args.dir.join("ioc-properties.5"), properties_page())?;
    Ok(())
}

fn write_page(path: &Path, page: clap_mangen::Man) -> CommandResult {
    let mut text = Vec::new();
    page.render(&mut text)?;
    fs::write(path, text)?;
    Ok(())
}

/// `ioc-properties(5)` in roff: one tagged paragraph per property, with its default and scope.
fn properties_page() -> String {
    let mut page = String::from(
        ".TH IOC-PROPERTIES 5\n.SH NAME\nioc-properties \\- the properties of ioc jails\n\
         .SH DESCRIPTION\nSet with \\fBioc set KEY=VALUE JAIL\\fR (or \\fBdefaults\\fR), read \
         with \\fBioc get KEY JAIL\\fR.\n.SH PROPERTIES\n",
    );
    for p in registry::all() {
        let default = match p.builtin {
            Builtin::Fixed(text) => text.to_string(),
            Builtin::PerPlatform { linux, freebsd } => {
                format!("{linux} (Linux), {freebsd} (FreeBSD)")
            }
        };
        let scope = match p.scope {
            Scope::Jail => "",
            Scope::Host => " Host-wide: set on defaults only.",
        };
        page += &format!(
            ".TP\n.B {}\n{}. Default: {}.{}\n",
            roff(p.name),
            roff(p.help),
            roff(&default),
            scope
        );
    }
    for k in DYNAMIC_KEYS {
        page += &format!(
            ".TP\n.B {}\n{}. Default: {}.\n",
            roff(k.pattern),
            roff(k.help),
            roff(k.default)
        );
    }
    page + ".SH SEE ALSO\n\\fBioc\\fR(8)\n"
}

/// Text safe in a roff line: backslashes and hyphens escaped, no line starting with a dot.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.strip_prefix('.') {
        Some(rest) => format!("\\&.{rest}"),
        None => escaped,
    }
}
