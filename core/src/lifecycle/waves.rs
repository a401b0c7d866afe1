//! The order of a multi-jail start or stop: `depends` first, then `priority` (lower starts
//! first and stops last), then the order the jails were given in. Jails are grouped in waves:
//! the jails of one wave have the same priority and none needs another of its wave, so a wave
//! may start concurrently once the waves before it are done.

use std::collections::BTreeMap;

use super::order::{dependency_order, CycleError};

/// One jail to order: its name, priority and the names it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub name: String,
    pub priority: u8,
    pub depends: Vec<String>,
}

impl From<&super::spec::JailSpec> for Ranked {
    fn from(spec: &super::spec::JailSpec) -> Ranked {
        Ranked {
            name: spec.name.clone(),
            priority: spec.priority,
            depends: spec.depends.clone(),
        }
    }
}

/// The start waves of `jails`, in start order; a stop takes them in reverse. A jail that
/// another depends on takes the earlier priority of the two, so `depends` never makes a
/// low-priority jail wait for the high-priority ones. A cycle is an error naming its jails.
pub fn start_waves(jails: &[Ranked]) -> Result<Vec<Vec<String>>, CycleError> {
    let names: Vec<String> = jails.iter().map(|j| j.name.clone()).collect();
    let depends: BTreeMap<String, Vec<String>> = jails
        .iter()
        .map(|j| (j.name.clone(), j.depends.clone()))
        .collect();
    // Dependencies first: also what rejects a cycle before anything is ordered.
    let topo = dependency_order(&names, &depends)?;
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    // Effective priority: walking dependents before their dependencies (reverse topological
    // order), each dependency takes the minimum of its own and its dependents'.
    let mut effective: BTreeMap<&str, u8> = jails
        .iter()
        .map(|j| (j.name.as_str(), j.priority))
        .collect();
    for name in topo.iter().rev() {
        let mine = effective[name.as_str()];
        for dep in &depends[name] {
            if let Some(p) = effective.get_mut(dep.as_str()) {
                *p = (*p).min(mine);
            }
        }
    }
    // Kahn's algorithm, one wave at a time: of the jails whose dependencies are placed, those
    // of the lowest effective priority.
    let mut waiting: BTreeMap<&str, usize> = jails
        .iter()
        .map(|j| {
            let n = j
                .depends
                .iter()
                .filter(|d| index.contains_key(d.as_str()))
                .count();
            (j.name.as_str(), n)
        })
        .collect();
    let mut waves = Vec::new();
    while !waiting.is_empty() {
        let ready = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(name, _)| *name);
        let Some(lowest) = ready.clone().map(|n| effective[n]).min() else {
            break; // unreachable: dependency_order refused cycles
        };
        let mut wave: Vec<&str> = ready.filter(|n| effective[n] == lowest).collect();
        wave.sort_by_key(|n| index[n]);
        for name in &wave {
            waiting.remove(name);
        }
        for j in jails {
            if let Some(n) = waiting.get_mut(j.name.as_str()) {
                *n -= j
                    .depends
                    .iter()
                    .filter(|d| wave.contains(&d.as_str()))
                    .count();
            }
        }
        waves.push(wave.into_iter().map(str::to_string).collect());
    }
    Ok(waves)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jail(name: &str, priority: u8, depends: &[&str]) -> Ranked {
        Ranked {
            name: name.to_string(),
            priority,
            depends: depends.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn lower_priority_first_and_same_priority_together() {
        let jails = [jail("c", 99, &[]), jail("a", 10, &[]), jail("b", 10, &[])];
        assert_eq!(
            start_waves(&jails).unwrap(),
            vec![vec!["a", "b"], vec!["c"]]
        );
    }

    #[test]
    fn a_dependency_takes_its_dependents_priority() {
        // web (10) needs db (50); db needs disk (99); cache (20) needs nothing.
        let jails = [
            jail("cache", 20, &[]),
            jail("web", 10, &["db"]),
            jail("db", 50, &["disk"]),
            jail("disk", 99, &[]),
            jail("late", 90, &[]),
        ];
        assert_eq!(
            start_waves(&jails).unwrap(),
            vec![
                vec!["disk"],
                vec!["db"],
                vec!["web"],
                vec!["cache"],
                vec!["late"]
            ]
        );
    }

    #[test]
    fn dependencies_outside_the_set_are_ignored_and_cycles_refused() {
        let jails = [jail("a", 5, &["gone"]), jail("b", 5, &["a"])];
        assert_eq!(start_waves(&jails).unwrap(), vec![vec!["a"], vec!["b"]]);
        let jails = [jail("a", 5, &["b"]), jail("b", 5, &["a"])];
        assert!(start_waves(&jails).is_err());
    }
}
