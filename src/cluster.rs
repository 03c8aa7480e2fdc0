//! Clustering: union-find over confirmed pairs, and the choice of the kept
//! document.
//!
//! Confirmed near-duplicate pairs are edges; connected components are
//! clusters. The kept document of a cluster is chosen by a rule
//! ([`KeepRule`]) with ties broken by input order, so the result never depends
//! on the order in which edges arrived or threads finished.

/// Which document of a cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepRule {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest text (in characters); ties go to the first.
    Longest,
    /// The one with the earliest date (`--date-field`); ties go to the
    /// first, and a document without a date is never preferred.
    Earliest,
    /// The one with the latest date; as `Earliest` otherwise.
    Latest,
}

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
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
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

/// What the keep rules know of each document.
pub struct KeepFacts<C, D, R> {
    /// `chars(d)`: document `d`'s text length.
    pub chars: C,
    /// `date(d)`: its date (milliseconds since the epoch), if it has one.
    pub date: D,
    /// `rank(d)`: its place in a `--keep-priority` list (lower is kept
    /// first; every document ranks 0 without a list).
    pub rank: R,
}

impl<C, D, R> KeepFacts<C, D, R>
where
    C: Fn(u32) -> u32,
    D: Fn(u32) -> Option<i64>,
    R: Fn(u32) -> u32,
{
    /// Orders a sorted group by keep priority: the member [`choose_kept`]
    /// would pick first, then the next, and so on. The rank comes first,
    /// then the rule, then input order.
    pub fn keep_order(&self, group: &[u32], rule: KeepRule) -> Vec<u32> {
        let mut order = group.to_vec();
        // Stable sorts of a group in input order: ties stay in input order.
        match rule {
            KeepRule::First => {}
            KeepRule::Longest => order.sort_by_key(|&d| std::cmp::Reverse((self.chars)(d))),
            // Dated documents first, then the rest in input order.
            KeepRule::Earliest => order.sort_by_key(|&d| (self.date)(d).map_or((1, 0), |t| (0, t))),
            KeepRule::Latest => order.sort_by_key(|&d| (self.date)(d).map_or((1, 0), |t| (0, t.saturating_neg()))),
        }
        order.sort_by_key(|&d| (self.rank)(d));
        order
    }

    /// Picks the kept member of a sorted group (see [`KeepFacts::keep_order`]).
    pub fn choose_kept(&self, group: &[u32], rule: KeepRule) -> u32 {
        self.keep_order(group, rule)[0]
    }
}

/// Orders a sorted group by keep priority, without a priority list (see
/// [`KeepFacts::keep_order`]).
pub fn keep_order(
    group: &[u32],
    rule: KeepRule,
    chars: &impl Fn(u32) -> u32,
    date: &impl Fn(u32) -> Option<i64>,
) -> Vec<u32> {
    KeepFacts { chars, date, rank: |_| 0 }.keep_order(group, rule)
}

/// Splits a group into stars: the highest-priority unassigned member is a
/// center and takes every unassigned member that `matches` it. Returns
/// `(center, members)` for stars of two or more, ordered by center; members
/// keep group (input) order.
///
/// Greedy stars leave the far end of a chain alone (A~B, B~C, A!~C: B joins
/// A, C is left with no star although it has a near-duplicate). A rescue
/// step then pairs such a leftover with a matching member of a star that has
/// other members to spare, when the keep rule puts the leftover first: the
/// two form a new star centered on the leftover. (Centered on the member,
/// the new star would keep a document that matches the center it left: two
/// kept near-duplicates.) Every pair reported matches its center, and no
/// two centers match.
///
/// `order` is the group in keep priority ([`keep_order`], or containers
/// first under containment); `matches(center, d)` says whether `d` may be
/// removed for `center`.
pub fn stars(group: &[u32], order: &[u32], mut matches: impl FnMut(u32, u32) -> bool) -> Vec<(u32, Vec<u32>)> {
    let slot = |d: u32| group.binary_search(&d).unwrap_or(0);
    // Each member's place in `order`, by slot: looked up once, not scanned.
    let mut rank_of = vec![usize::MAX; group.len()];
    for (r, &d) in order.iter().enumerate() {
        rank_of[slot(d)] = r;
    }
    let rank = |d: u32| rank_of[slot(d)];
    // center_of[i]: the center of member i's star (itself for centers), or None.
    let mut center_of: Vec<Option<u32>> = vec![None; group.len()];
    // Members of each star, center included, indexed by the center's slot.
    let mut size = vec![0usize; group.len()];
    let mut centers = Vec::new();
    for &center in order {
        if center_of[slot(center)].is_some() {
            continue;
        }
        center_of[slot(center)] = Some(center);
        size[slot(center)] = 1;
        centers.push(center);
        for (i, &d) in group.iter().enumerate() {
            if center_of[i].is_none() && matches(center, d) {
                center_of[i] = Some(center);
                size[slot(center)] += 1;
            }
        }
    }
    // Rescue, in priority order, the centers that took no member.
    for &x in order {
        if center_of[slot(x)] != Some(x) || size[slot(x)] != 1 {
            continue;
        }
        let rank_x = rank(x);
        let donor = group.iter().copied().find(|&y| {
            let c = center_of[slot(y)];
            c.is_some_and(|c| c != y && c != x && size[slot(c)] > 2) && rank_x < rank(y) && matches(x, y)
        });
        if let Some(y) = donor {
            let old = center_of[slot(y)].unwrap_or(y);
            size[slot(old)] -= 1;
            center_of[slot(y)] = Some(x);
            size[slot(x)] = 2;
        }
    }
    centers.sort_unstable();
    centers.dedup();
    centers
        .into_iter()
        .filter_map(|c| {
            let members: Vec<u32> = group
                .iter()
                .enumerate()
                .filter(|&(i, &d)| d != c && center_of[i] == Some(c))
                .map(|(_, &d)| d)
                .collect();
            (!members.is_empty()).then_some((c, members))
        })
        .collect()
}

/// Picks the kept member of a sorted group (see [`keep_order`]).
pub fn choose_kept(
    group: &[u32],
    rule: KeepRule,
    chars: &impl Fn(u32) -> u32,
    date: &impl Fn(u32) -> Option<i64>,
) -> u32 {
    keep_order(group, rule, chars, date)[0]
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
        let s = stars(&[0, 1, 2], &[0, 1, 2], alike);
        assert_eq!(s, vec![(0, vec![1])]);
        let s = stars(&[0, 1, 2, 3], &[0, 1, 2, 3], alike);
        assert_eq!(s, vec![(0, vec![1]), (2, vec![3])]);
    }

    #[test]
    fn a_left_over_chain_end_is_rescued_from_a_star_with_members_to_spare() {
        // 0 matches 1, 2, 3; 4 matches only 3. 3 leaves 0's star for 4's.
        let alike = |a: u32, b: u32| {
            let (a, b) = (a.min(b), a.max(b));
            (a == 0 && b <= 3) || (a == 3 && b == 4)
        };
        // 4, the longest, is kept before 3: 3 leaves 0's star for 4's.
        let longest_is_4 = |d: u32| if d == 4 { 9 } else { 1 };
        let order = keep_order(&[0, 1, 2, 3, 4], KeepRule::Longest, &longest_is_4, &|_| None);
        let s = stars(&[0, 1, 2, 3, 4], &order, alike);
        assert_eq!(s, vec![(0, vec![1, 2]), (4, vec![3])]);
        // Kept first, 3 would be the new star's center and match 0, the
        // center it left: two kept near-duplicates. 4 stays alone.
        let s = stars(&[0, 1, 2, 3, 4], &[0, 1, 2, 3, 4], alike);
        assert_eq!(s, vec![(0, vec![1, 2, 3])]);
        // With nothing to spare, the first star is not broken up.
        let lengths = |d: u32| [9, 1, 1, 1, 5][d as usize];
        let s = stars(&[0, 3, 4], &keep_order(&[0, 3, 4], KeepRule::Longest, &lengths, &|_| None), alike);
        assert_eq!(s, vec![(0, vec![3])]);
    }

    proptest! {
        // Whatever the matches (random, symmetric) and the keep rule: every
        // member matches its center, no two centers match, and no document
        // is in two stars.
        #[test]
        fn no_two_kept_documents_match(
            n in 1usize..24,
            density in 0u32..100,
            seed: u64,
            longest: bool,
        ) {
            let group: Vec<u32> = (0..n as u32).collect();
            let alike = |a: u32, b: u32| {
                let (a, b) = (a.min(b) as u64, a.max(b) as u64);
                a != b && (crate::minhash::splitmix64(seed ^ (a << 32 | b)) % 100) < u64::from(density)
            };
            let rule = if longest { KeepRule::Longest } else { KeepRule::First };
            let chars = |d: u32| (crate::minhash::splitmix64(seed ^ u64::from(d)) % 5) as u32;
            let s = stars(&group, &keep_order(&group, rule, &chars, &|_| None), alike);
            let centers: Vec<u32> = s.iter().map(|(c, _)| *c).collect();
            let mut seen = std::collections::HashSet::new();
            for (c, members) in &s {
                prop_assert!(seen.insert(*c));
                for &m in members {
                    prop_assert!(alike(*c, m), "{} in the star of {} without matching it", m, c);
                    prop_assert!(seen.insert(m));
                }
            }
            // Kept: the centers and every document in no star.
            let kept: Vec<u32> = group.iter().copied().filter(|d| centers.contains(d) || !seen.contains(d)).collect();
            for (i, &a) in kept.iter().enumerate() {
                for &b in &kept[i + 1..] {
                    prop_assert!(!alike(a, b), "{} and {} both kept", a, b);
                }
            }
        }
    }

    #[test]
    fn keep_rules_break_ties_by_input_order() {
        let lens = |d: u32| [5, 9, 9, 2][d as usize];
        let dates = |d: u32| [None, Some(30), Some(10), Some(10)][d as usize];
        let kept = |rule| choose_kept(&[0, 1, 2, 3], rule, &lens, &dates);
        assert_eq!(kept(KeepRule::First), 0);
        assert_eq!(kept(KeepRule::Longest), 1);
        // The undated 0 is never preferred.
        assert_eq!(kept(KeepRule::Earliest), 2);
        assert_eq!(kept(KeepRule::Latest), 1);
        assert_eq!(keep_order(&[0, 1, 2, 3], KeepRule::Earliest, &lens, &dates), [2, 3, 1, 0]);
        // A priority list goes before the rule; the rule orders each rank.
        let facts = KeepFacts { chars: &lens, date: &dates, rank: |d: u32| [1, 1, 2, 0][d as usize] };
        assert_eq!(facts.keep_order(&[0, 1, 2, 3], KeepRule::Longest), [3, 1, 0, 2]);
        assert_eq!(facts.choose_kept(&[0, 1, 2], KeepRule::Earliest), 1);
        assert_eq!(facts.choose_kept(&[0, 1, 2], KeepRule::First), 0);
    }
}
