//! A jail's own root (issue 16): `path` and the bind `mounts` into it.

use std::path::{Component, Path};

use super::{check_no_nul, is_none_word, list_items, print_list, Reason, Syntax, NONE};

/// `path`: the directory holding the jail's root file system, or none (the host's root, as
/// before issue 16: a jail that only needs its own network).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JailPath(pub Option<String>);

impl Syntax for JailPath {
    fn parse(text: &str) -> Result<Self, Reason> {
        check_no_nul(text)?;
        if is_none_word(text) {
            return Ok(JailPath(None));
        }
        let path = clean_absolute(text.trim(), "a directory")?;
        if path == "/" {
            return Err(
                "expected a directory other than / (none shares the host's root), but got /"
                    .to_string(),
            );
        }
        Ok(JailPath(Some(path)))
    }

    fn print(&self) -> String {
        self.0.clone().unwrap_or_else(|| NONE.to_string())
    }
}

/// One entry of `mounts`: `SOURCE:TARGET[:ro]`, a host path bind-mounted at `TARGET` inside
/// the jail's root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindMount {
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

impl BindMount {
    fn parse(entry: &str) -> Result<BindMount, Reason> {
        let parts: Vec<&str> = entry.split(':').collect();
        let read_only = match parts.as_slice() {
            [_, _] => false,
            [_, _, "ro"] => true,
            [_, _, "rw"] => false,
            _ => {
                return Err(format!(
                    "expected SOURCE:TARGET or SOURCE:TARGET:ro, but got {entry:?}"
                ))
            }
        };
        let source = clean_absolute(parts[0], "an absolute host path as SOURCE")?;
        let target = clean_absolute(parts[1], "an absolute path in the jail as TARGET")?;
        if target == "/" {
            return Err(format!(
                "expected a TARGET other than / (that is the jail's root), but got {entry:?}"
            ));
        }
        Ok(BindMount {
            source,
            target,
            read_only,
        })
    }

    fn print(&self) -> String {
        let ro = if self.read_only { ":ro" } else { "" };
        format!("{}:{}{ro}", self.source, self.target)
    }
}

/// `mounts`: host paths bind-mounted into a jail with a `path`, comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts(pub Vec<BindMount>);

impl Syntax for Mounts {
    fn parse(text: &str) -> Result<Self, Reason> {
        check_no_nul(text)?;
        if is_none_word(text) {
            return Ok(Mounts(Vec::new()));
        }
        text.split(',')
            .map(|e| BindMount::parse(e.trim()))
            .collect::<Result<_, _>>()
            .map(Mounts)
    }

    fn print(&self) -> String {
        print_list(&self.0, BindMount::print)
    }

    fn items(&self) -> Vec<String> {
        list_items(&self.0, BindMount::print)
    }
}

/// An absolute path without `..`, `.` or doubled slashes, in canonical form (no trailing
/// slash). `what` names the expected value for the error.
fn clean_absolute(text: &str, what: &str) -> Result<String, Reason> {
    let path = Path::new(text);
    if !path.is_absolute() {
        return Err(format!(
            "expected {what}, an absolute path, but got {text:?}"
        ));
    }
    let mut clean = String::new();
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(part) => {
                let part = part.to_str().ok_or("expected a UTF-8 path")?;
                clean.push('/');
                clean.push_str(part);
            }
            Component::ParentDir => {
                return Err(format!("expected {what} without '..', but got {text:?}"))
            }
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if clean.is_empty() {
        clean.push('/');
    }
    if clean.contains(',') {
        return Err(format!("expected {what} without ',', but got {text:?}"));
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused_with, round_trip};
    use super::*;

    #[test]
    fn paths() {
        round_trip::<JailPath>("/srv/jails/web/", "/srv/jails/web");
        round_trip::<JailPath>("/srv//jails/./web", "/srv/jails/web");
        for none in ["", "none", "-"] {
            round_trip::<JailPath>(none, "none");
        }
        refused_with::<JailPath>("srv/web", "absolute");
        refused_with::<JailPath>("/srv/../etc", "'..'");
        refused_with::<JailPath>("/", "other than /");
        refused_with::<JailPath>("//", "other than /");
    }

    #[test]
    fn mounts() {
        round_trip::<Mounts>("/data:/srv/data", "/data:/srv/data");
        round_trip::<Mounts>(
            "/data:/srv/data:ro, /logs/:/var/log:rw",
            "/data:/srv/data:ro,/logs:/var/log",
        );
        round_trip::<Mounts>("none", "none");
        refused_with::<Mounts>("/data", "SOURCE:TARGET");
        refused_with::<Mounts>("/data:/x:rx", "SOURCE:TARGET");
        refused_with::<Mounts>("data:/x", "SOURCE");
        refused_with::<Mounts>("/data:x", "TARGET");
        refused_with::<Mounts>("/data:/srv/../../etc", "'..'");
        refused_with::<Mounts>("/data:/", "other than /");
    }
}
