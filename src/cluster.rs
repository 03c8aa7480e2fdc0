//! Clustering: union-find over confirmed pairs, and the choice of the kept
//! document.
//!
//! Confirmed near-duplicate pairs are edges; connected components are
//! clusters. The kept document of a cluster is chosen by a rule
//! ([`KeepRule`]) with ties broken by input order, so the result never depends
//! on the order in which edges arrived or threads finished.

use crate::config::KeepRule;

/// How confirmed pairs become clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterMode {
    /// Within each connected group, the kept document is chosen by the keep
    /// rule and only documents that match it are removed with it; the rest
    /// form further stars the same way. No document is removed unless it
    /// matches the document kept in its place.
    #[default]
    Star,
    /// Connected components: everything linked by a chain of matches is one
    /// cluster, even when its ends share little (A~B~C removes C for A).
    Union,
}

/// Index of a document in input order (0-based, across all inputs, counting
/// only records that were read successfully).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct DocIndex(pub u32);

/// Disjoint sets over `0..n` with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns false if they were already one.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Sets of two or more members, each sorted, ordered by smallest member.
    pub fn groups(&mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        let mut slot = vec![u32::MAX; n];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for x in 0..n as u32 {
            let r = self.find(x);
            if self.size[r as usize] < 2 {
                continue;
            }
            // Groups are created in order of their smallest member because
            // x runs upward.
            if slot[r as usize] == u32::MAX {
                slot[r as usize] = groups.len() as u32;
                groups.push(Vec::new());
            }
            groups[slot[r as usize] as usize].push(x);
        }
        groups
    }
}

/// Orders a sorted group by keep priority: the member [`choose_kept`] would
/// pick first, then the next, and so on.
pub fn keep_order(group: &[u32], rule: KeepRule, chars: impl Fn(u32) -> u32) -> Vec<u32> {
    let mut order = group.to_vec();
    if rule == KeepRule::Longest {
        order.sort_by_key(|&d| (std::cmp::Reverse(chars(d)), d));
    }
    order
}

/// Splits a group into stars: the highest-priority unassigned member is a
/// center and takes every unassigned member that `matches` it. Returns
/// `(center, members)` for stars of two or more, in priority order of their
/// centers; members keep group (input) order.
pub fn stars(
    group: &[u32],
    rule: KeepRule,
    chars: impl Fn(u32) -> u32,
    mut matches: impl FnMut(u32, u32) -> bool,
) -> Vec<(u32, Vec<u32>)> {
    let order = keep_order(group, rule, chars);
    let mut assigned = vec![false; group.len()];
    let slot = |d: u32| group.binary_search(&d).unwrap_or(0);
    let mut out = Vec::new();
    for &center in &order {
        if assigned[slot(center)] {
            continue;
        }
        assigned[slot(center)] = true;
        let mut members = Vec::new();
        for (i, &d) in group.iter().enumerate() {
            if !assigned[i] && matches(center, d) {
                assigned[i] = true;
                members.push(d);
            }
        }
        if !members.is_empty() {
            out.push((center, members));
        }
    }
    out
}

/// Picks the kept member of a sorted group. `chars(i)` is the text length
/// of document `i` in characters.
pub fn choose_kept(group: &[u32], rule: KeepRule, chars: impl Fn(u32) -> u32) -> u32 {
    match rule {
        KeepRule::First => group[0],
        // max_by_key keeps the last maximum; reversing the sorted group makes
        // that the earliest document among the longest.
        KeepRule::Longest => group
            .iter()
            .rev()
            .copied()
            .max_by_key(|&d| chars(d))
            .unwrap_or(group[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_components(n: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let mut seen = vec![false; n];
        let mut out = Vec::new();
        for start in 0..n {
            if seen[start] {
                continue;
            }
            let mut comp = vec![start as u32];
            seen[start] = true;
            let mut i = 0;
            while i < comp.len() {
                let x = comp[i];
                for &(a, b) in edges {
                    for (p, q) in [(a, b), (b, a)] {
                        if p == x && !seen[q as usize] {
                            seen[q as usize] = true;
                            comp.push(q);
                        }
                    }
                }
                i += 1;
            }
            if comp.len() > 1 {
                comp.sort_unstable();
                out.push(comp);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn union_find_agrees_with_breadth_first_search(
            n in 1usize..60,
            raw in proptest::collection::vec((0u32..60, 0u32..60), 0..80),
        ) {
            let edges: Vec<(u32, u32)> = raw.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)).collect();
            let mut uf = UnionFind::new(n);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            prop_assert_eq!(uf.groups(), naive_components(n, &edges));
        }
    }

    #[test]
    fn stars_never_remove_a_document_unlike_its_center() {
        // 0~1, 1~2, but 0 and 2 are not alike: a chain.
        let alike = |a: u32, b: u32| a.abs_diff(b) == 1;
        let s = stars(&[0, 1, 2], KeepRule::First, |_| 1, alike);
        assert_eq!(s, vec![(0, vec![1])]);
        let s = stars(&[0, 1, 2, 3], KeepRule::First, |_| 1, alike);
        assert_eq!(s, vec![(0, vec![1]), (2, vec![3])]);
    }

    #[test]
    fn keep_rules_break_ties_by_input_order() {
        let lens = [5, 9, 9, 2];
        assert_eq!(
            choose_kept(&[0, 1, 2, 3], KeepRule::First, |d| lens[d as usize]),
            0
        );
        assert_eq!(
            choose_kept(&[0, 1, 2, 3], KeepRule::Longest, |d| lens[d as usize]),
            1
        );
    }
}
