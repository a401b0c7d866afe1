//! Start order: a jail's `depends` run before it.

use std::collections::BTreeMap;

/// The `depends` properties form a cycle; `cycle` names the jails in it, the first repeated
/// at the end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the depends properties form a cycle: {}", cycle.join(" -> "))]
pub struct CycleError {
    pub cycle: Vec<String>,
}

/// Orders `names` so that every jail comes after the jails it depends on. `depends` maps a name
/// to the names it needs (only names present in `names` are ordered; the caller adds missing
/// dependencies first). A cycle is an error naming the jails in it.
pub fn dependency_order(
    names: &[String],
    depends: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, CycleError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        name: &str,
        depends: &BTreeMap<String, Vec<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), CycleError> {
        match marks.get(name) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let start = stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(name.to_string());
                return Err(CycleError { cycle });
            }
            None => {}
        }
        marks.insert(name.to_string(), Mark::Visiting);
        stack.push(name.to_string());
        for dep in depends.get(name).into_iter().flatten() {
            if depends.contains_key(dep) {
                visit(dep, depends, marks, stack, out)?;
            }
        }
        stack.pop();
        marks.insert(name.to_string(), Mark::Done);
        out.push(name.to_string());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for name in names {
        visit(name, depends, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_cycles_are_named() {
        let names: Vec<String> = ["web", "db", "cache"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = deps(&[("web", &["db", "cache"]), ("db", &[]), ("cache", &["db"])]);
        assert_eq!(
            dependency_order(&names, &d).unwrap(),
            vec!["db", "cache", "web"]
        );
        let d = deps(&[("web", &["db"]), ("db", &["web"]), ("cache", &[])]);
        let err = dependency_order(&names, &d).unwrap_err().to_string();
        assert!(err.contains("web -> db -> web"), "{err}");
    }
}
