//! What the hosts need to know about an nftables script without parsing it.

/// Whether a script only lists: every statement a `list` command, one per line, nothing that
/// could start another command (`;`, braces, a line continuation, a comment that might hide
/// one). Such a script reads and changes nothing, which lets the Linux host run a check of it
/// without a dry run, and lets a plan answer it (see `PlanHost`).
pub fn only_lists(script: &str) -> bool {
    let mut statements = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    statements.peek().is_some()
        && statements.all(|l| l.starts_with("list ") && !l.contains([';', '{', '}', '\\', '#']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_list_scripts_count() {
        assert!(only_lists(
            "list chain bridge ioc prerouting\n\n  list tables\n"
        ));
        assert!(only_lists("# a comment\nlist table bridge ioc"));
        for not in [
            "",
            "# nothing",
            "add table bridge ioc",
            "list tables; flush ruleset",
            "list tables\nflush ruleset",
            "list table bridge ioc { }",
            "list tables \\\nflush ruleset",
            "list tables # ; comment",
        ] {
            assert!(!only_lists(not), "{not:?}");
        }
    }
}
