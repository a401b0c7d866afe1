//! The command line: global options and one variant per command. Each command's arguments are
//! defined next to its code in [`crate::commands`]; adding a command is a file there and a
//! variant here.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::import;
use crate::commands::{
    check, complete, create, destroy, docs, exec, gc, get, help, learn, list, plugins, rename,
    restart, set, start, stop,
};

/// What `ioc --help` shows last: a first jail, from creation to a shell in it.
const EXAMPLES: &str = "\
Examples:
  ioc create web vnet=on interfaces=vnet0:bridge0 'ip4_addr=vnet0|10.0.0.5/24'
  ioc start web
  ioc list -o name,state,ip4_addr
  ioc exec web -- ip addr
  ioc help properties
Every command shows its own examples: ioc COMMAND --help";

#[derive(Debug, Parser)]
#[command(
    name = "ioc",
    version,
    about = "Manage jails and their networking: FreeBSD jails or Linux namespaces, with network \
             modes and firewalls as plugins",
    disable_help_subcommand = true,
    propagate_version = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line of this process, as [`Parser::parse`] reads it (usage errors, `--help`
    /// and `--version` print and exit the same way), except that the clap command tree is never
    /// dropped: freeing every command's argument definitions cost more instructions than the
    /// parse itself (about 0.1 million of a CNI start's 2.4 million), for memory the process
    /// gives back when it exits a few milliseconds later.
    pub fn from_env() -> Cli {
        let mut command = Cli::command();
        let parsed = command
            .try_get_matches_from_mut(std::env::args_os())
            .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
        let cli = parsed.unwrap_or_else(|e| e.format(&mut command).exit());
        std::mem::forget(command);
        cli
    }
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration root [default: $IOC_ROOT, else /var/lib/ioc]
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// More log output on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a jail: ioc create NAME [KEY=VALUE...]
    Create(create::CreateArgs),
    /// Set (KEY=VALUE) or reset (KEY) properties of jails or of the defaults
    Set(set::SetArgs),
    /// Print a property (or all) of a jail or of the defaults
    Get(get::GetArgs),
    /// List jails
    List(list::ListArgs),
    /// Destroy jails
    Destroy(destroy::DestroyArgs),
    /// Rename a stopped jail
    Rename(rename::RenameArgs),
    /// Start jails (and the jails they depend on, first)
    Start(start::StartArgs),
    /// Stop jails
    Stop(stop::StopArgs),
    /// Stop and start jails again
    Restart(restart::RestartArgs),
    /// Run a command inside a running jail: ioc exec JAIL -- CMD...
    Exec(exec::ExecArgs),
    /// List, enable, disable or check plugins
    Plugins(plugins::PluginsArgs),
    /// Help on a command or a topic (`ioc help properties`)
    Help(help::HelpArgs),
    /// The address learner of one Secure VNET port (started by ioc itself)
    #[command(name = "__learn", hide = true)]
    Learn(learn::LearnArgs),
    /// Names for shell completion: jails, properties, commands (the completion scripts call it)
    #[command(name = "__complete", hide = true)]
    Complete(complete::CompleteArgs),
    /// Check running jails' networks through their modes (CNI: CHECK)
    Check(check::CheckArgs),
    /// Let network modes release what no jail uses any more (CNI: GC)
    Gc(gc::GcArgs),
    /// Print shell completions: ioc completions bash > /etc/bash_completion.d/ioc
    Completions(docs::CompletionsArgs),
    /// Write the man pages (ioc.8, ioc-COMMAND.8, ioc-properties.5) into a directory
    Man(docs::ManArgs),
    /// Import jails from iocage's or libioc's configuration files
    Import(import::ImportArgs),
}
