//! `--shard K/N`: split the selected hosts between N runners (a CI matrix) so that each
//! host is converged by exactly one of them.
//!
//! A host's shard depends only on its name and the set of selected hosts, never on the
//! order of the inventory: the hosts are ordered by the SHA-256 of their names and dealt
//! out in turn, so the shards also differ in size by at most one.

use sha2::{Digest, Sha256};

/// `--shard K/N`: this runner is number K of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based, as written on the command line.
    pub index: usize,
    /// N, the number of runners.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a shard: write K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The hosts of `selected` that belong to this shard, in their original order.
    pub fn select(&self, selected: &[String]) -> Vec<String> {
        let mut keyed: Vec<([u8; 32], &String)> = selected
            .iter()
            .map(|h| (Sha256::digest(h.as_bytes()).into(), h))
            .collect();
        keyed.sort();
        keyed.dedup_by(|a, b| a.1 == b.1);
        let mine: Vec<&String> = keyed
            .iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, (_, h))| *h)
            .collect();
        selected
            .iter()
            .filter(|h| mine.contains(h))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("web{i:03}.example.com")).collect()
    }

    #[test]
    fn shards_partition_the_hosts_exactly_and_evenly() {
        for n_hosts in [0, 1, 2, 7, 100, 501] {
            let all = hosts(n_hosts);
            for count in 1..=6 {
                let mut seen: Vec<String> = Vec::new();
                let mut sizes = Vec::new();
                for index in 1..=count {
                    let part = Shard { index, count }.select(&all);
                    sizes.push(part.len());
                    seen.extend(part);
                }
                seen.sort();
                let mut expected = all.clone();
                expected.sort();
                assert_eq!(seen, expected, "{n_hosts} hosts in {count} shards");
                let (min, max) = (sizes.iter().min(), sizes.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1, "{sizes:?}");
            }
        }
    }

    #[test]
    fn a_hosts_shard_does_not_depend_on_inventory_order() {
        let all = hosts(50);
        let mut reversed = all.clone();
        reversed.reverse();
        let mut rotated = all.clone();
        rotated.rotate_left(17);
        for index in 1..=4 {
            let s = Shard { index, count: 4 };
            let mut a = s.select(&all);
            let mut b = s.select(&reversed);
            let mut c = s.select(&rotated);
            a.sort();
            b.sort();
            c.sort();
            assert_eq!(a, b);
            assert_eq!(a, c);
        }
    }

    #[test]
    fn bad_shards_are_refused_with_the_form_to_use() {
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("K/N"), "{e}");
        }
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
    }
}
