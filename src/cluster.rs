//! Clustering: union-find over confirmed pairs, and the choice of the kept
//! document.
//!
//! Confirmed near-duplicate pairs are edges; connected components are
//! clusters. The kept document of a cluster is chosen by a rule
//! ([`KeepRule`]) with ties broken by input order, so the result never depends
//! on the order in which edges arrived or threads finished.

use crate::config::KeepRule;

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
