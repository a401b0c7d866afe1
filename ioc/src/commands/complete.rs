//! `ioc __complete`: the names shell completion cannot know from the clap definition alone,
//! asked from ioc itself at completion time (hidden; the scripts of `ioc completions` call it).
//!
//! - `ioc __complete jails|properties|commands` prints those names, one a line;
//! - `ioc __complete at INDEX -- WORD...` prints what fits at word INDEX of a command line
//!   (`WORD...` starts with `ioc`): jail names where a command takes jails, property names
//!   where it takes keys, nothing elsewhere, so the shell falls back to the generated
//!   completion (commands, options, files). Which argument takes what is decided here, once,
//!   rather than in three shell languages.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};
use ioc_core::config::registry;
use ioc_core::store::Store;

use super::{CommandResult, Context};
use crate::cli::Cli;

#[derive(Debug, Args)]
pub struct CompleteArgs {
    pub kind: Kind,

    /// With `at`: the index in WORDS of the word being completed
    pub index: Option<usize>,

    /// With `at`: the command line's words, `ioc` first
    #[arg(last = true)]
    pub words: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Jails,
    Properties,
    Commands,
    At,
}

/// What fits at one position of a command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Names {
    /// Jail names (filters, targets).
    Jails,
    /// Jail names and `defaults` (`get`'s target).
    JailsOrDefaults,
    /// Property names and `all` (`get`'s key).
    Keys,
    /// `KEY=` for every property (`create`), and for `set` jails and `defaults` too.
    Assignments { targets: bool },
    /// Command names and `properties` (`help`'s topic).
    Topics,
}

/// Options that take a value as the next word (their value is no positional argument).
const VALUE_OPTIONS: &[&str] = &[
    "--root",
    "-o",
    "--output",
    "--output-format",
    "-j",
    "--jobs",
    "--platform",
];

pub fn run(args: &CompleteArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    // The jails of the root the completed line names, else of this command's root.
    let line_store = root_in(&args.words).map(|root| Store::from_cli(Some(&root)));
    let store = line_store.as_ref().unwrap_or(&context.store);
    let names = match args.kind {
        Kind::Jails => jails(store),
        Kind::Properties => properties(),
        Kind::Commands => commands(),
        Kind::At => {
            let index = args.index.unwrap_or(args.words.len().saturating_sub(1));
            let current = args.words.get(index).map_or("", String::as_str);
            match names_at(&args.words, index) {
                None => Vec::new(),
                Some(names @ (Names::Jails | Names::JailsOrDefaults)) => {
                    in_comma_list(current, candidates(names, store))
                }
                Some(names) => candidates(names, store),
            }
        }
    };
    for name in names {
        writeln!(out, "{name}")?;
    }
    Ok(())
}

/// The configured jails; none when the root cannot be read (completion never fails loudly).
fn jails(store: &Store) -> Vec<String> {
    store
        .jail_names()
        .map(|names| names.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default()
}

fn properties() -> Vec<String> {
    registry::all().iter().map(|p| p.name.to_string()).collect()
}

/// The visible commands.
fn commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

fn candidates(names: Names, store: &Store) -> Vec<String> {
    let with = |mut list: Vec<String>, extra: &str| {
        list.push(extra.to_string());
        list
    };
    match names {
        Names::Jails => jails(store),
        Names::JailsOrDefaults => with(jails(store), ioc_core::config::DEFAULTS),
        Names::Keys => with(properties(), "all"),
        Names::Assignments { targets } => {
            let mut list: Vec<String> = properties().into_iter().map(|p| p + "=").collect();
            if targets {
                list.extend(with(jails(store), ioc_core::config::DEFAULTS));
            }
            list
        }
        Names::Topics => with(commands(), "properties"),
    }
}

/// Jail names for the last item of a comma list (`ioc start web,d`): each name not listed
/// yet, after the items before it, so that the shells' prefix matching completes that item.
/// A word without a comma gets the names as they are.
fn in_comma_list(word: &str, names: Vec<String>) -> Vec<String> {
    let Some((listed, _)) = word.rsplit_once(',') else {
        return names;
    };
    let taken: Vec<&str> = listed.split(',').collect();
    names
        .into_iter()
        .filter(|name| !taken.contains(&name.as_str()))
        .map(|name| format!("{listed},{name}"))
        .collect()
}

/// `--root DIR` or `--root=DIR` on the command line being completed.
fn root_in(words: &[String]) -> Option<PathBuf> {
    words
        .iter()
        .enumerate()
        .find_map(|(i, w)| match w.as_str() {
            "--root" => words.get(i + 1).map(PathBuf::from),
            _ => w.strip_prefix("--root=").map(PathBuf::from),
        })
}

/// What fits at `words[index]`, or `None` where the generated completion knows better.
fn names_at(words: &[String], index: usize) -> Option<Names> {
    let current = words.get(index).map_or("", String::as_str);
    let before = words.get(1..index.min(words.len()))?;
    let previous = before.last().map(String::as_str);
    // An option, an option's value, or a value after `KEY=` (bash splits words at `=`).
    if current.starts_with('-')
        || current.contains('=')
        || previous.is_some_and(|p| p == "=" || VALUE_OPTIONS.contains(&p))
    {
        return None;
    }
    let mut positionals = Vec::new();
    let mut skip_value = false;
    for word in before {
        if skip_value {
            skip_value = false;
        } else if word == "--" {
            return None; // `exec JAIL -- CMD...`: the jail's command
        } else if VALUE_OPTIONS.contains(&word.as_str()) {
            skip_value = true;
        } else if !word.starts_with('-') && word != "=" {
            positionals.push(word.as_str());
        }
    }
    let (command, arguments) = positionals.split_first()?;
    let n = arguments.len();
    match *command {
        "start" | "stop" | "restart" | "destroy" | "check" | "list" => Some(Names::Jails),
        "rename" | "exec" if n == 0 => Some(Names::Jails),
        "get" if n == 0 => Some(Names::Keys),
        "get" if n == 1 => Some(Names::JailsOrDefaults),
        "set" => Some(Names::Assignments { targets: true }),
        "create" if n > 0 => Some(Names::Assignments { targets: false }),
        "help" if n == 0 => Some(Names::Topics),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &str) -> Option<Names> {
        let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
        if line.ends_with(' ') {
            words.pop();
            words.push(String::new());
        }
        names_at(&words, words.len() - 1)
    }

    #[test]
    fn the_last_item_of_a_comma_list_gets_the_jails_not_listed_yet() {
        let names = || vec!["db".to_string(), "mail".to_string(), "web".to_string()];
        assert_eq!(in_comma_list("we", names()), names());
        assert_eq!(in_comma_list("web,", names()), ["web,db", "web,mail"]);
        assert_eq!(in_comma_list("web,db,m", names()), ["web,db,mail"]);
    }

    #[test]
    fn jails_where_commands_take_jails() {
        assert_eq!(at("ioc start "), Some(Names::Jails));
        assert_eq!(at("ioc start web d"), Some(Names::Jails));
        assert_eq!(at("ioc --root /tmp/r stop -f w"), Some(Names::Jails));
        assert_eq!(at("ioc start --jobs 4 "), Some(Names::Jails));
        assert_eq!(at("ioc exec "), Some(Names::Jails));
        assert_eq!(at("ioc exec web -- "), None);
        assert_eq!(at("ioc rename web "), None);
    }

    #[test]
    fn keys_and_targets_of_get_set_create() {
        assert_eq!(at("ioc get "), Some(Names::Keys));
        assert_eq!(at("ioc get vnet "), Some(Names::JailsOrDefaults));
        assert_eq!(at("ioc get vnet web "), None);
        assert_eq!(
            at("ioc set vnet = on "),
            Some(Names::Assignments { targets: true })
        );
        assert_eq!(at("ioc set vnet = "), None);
        assert_eq!(at("ioc create "), None);
        assert_eq!(
            at("ioc create web v"),
            Some(Names::Assignments { targets: false })
        );
    }

    #[test]
    fn nothing_for_commands_options_and_option_values() {
        assert_eq!(at("ioc "), None);
        assert_eq!(at("ioc sta"), None);
        assert_eq!(at("ioc start --"), None);
        assert_eq!(at("ioc list --output-format "), None);
        assert_eq!(at("ioc --root "), None);
        assert_eq!(at("ioc help "), Some(Names::Topics));
    }

    #[test]
    fn the_root_of_the_line_is_used() {
        let words: Vec<String> = ["ioc", "--root", "/r", "start"].map(String::from).to_vec();
        assert_eq!(root_in(&words), Some(PathBuf::from("/r")));
        assert_eq!(
            root_in(&["ioc".into(), "--root=/s".into()]),
            Some("/s".into())
        );
        assert_eq!(commands().iter().filter(|c| c.starts_with("__")).count(), 0);
    }
}
