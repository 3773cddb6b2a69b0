//! Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
//! Load Balancer", NSDI 2016, section 3.4): a lookup table of a prime number of entries that
//! each backend fills by its own permutation of the slots, taking turns, so that
//!
//! * every backend owns nearly the same number of entries (at most one apart);
//! * when a backend leaves, its entries go to the others and few other entries move.
//!
//! A flow's backend is `table[hash % size]`: with the NIC's RSS hash as the flow hash, every
//! packet of a flow goes to the same backend with no per-flow state.

/// The default table size: a prime well above 100 x the backends a small pool has, as the
/// paper advises.
pub const DEFAULT_SIZE: usize = 65_537;

/// A backend: an identity that survives table rebuilds, and the name its permutation derives
/// from (its address, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// The backend's id (what the table stores).
    pub id: u16,
    /// The bytes its offset and skip are hashed from.
    pub name: Vec<u8>,
}

/// A Maglev lookup table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    entries: Vec<u16>,
}

/// 64-bit FNV-1a of `b`, started from `basis`.
fn fnv1a(basis: u64, b: &[u8]) -> u64 {
    b.iter()
        .fold(basis, |h, &x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Whether `n` is prime (trial division; table sizes are small).
fn is_prime(n: usize) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

impl Table {
    /// Builds the table of `size` entries (a prime) for `backends` (distinct ids, at least
    /// one, fewer than `size`).
    pub fn build(backends: &[Backend], size: usize) -> Result<Self, String> {
        if !is_prime(size) {
            return Err(format!("table size {size} is not a prime"));
        }
        if backends.is_empty() || backends.len() >= size {
            return Err(format!(
                "{} backends for a table of {size}: need 1 to {}",
                backends.len(),
                size - 1
            ));
        }
        let mut ids: Vec<u16> = backends.iter().map(|b| b.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("backend ids must be distinct".into());
        }
        // Turns in the order of the names, so that every instance given the same pool
        // builds the same table, whatever order its configuration lists them in.
        let mut backends = backends.to_vec();
        backends.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        // Each backend's permutation of the slots: offset + j * skip (mod size), which
        // visits every slot since size is prime and 0 < skip < size.
        let perm: Vec<(usize, usize)> = backends
            .iter()
            .map(|b| {
                let offset = fnv1a(0xcbf2_9ce4_8422_2325, &b.name) as usize % size;
                let skip = fnv1a(0x8422_2325_cbf2_9ce4, &b.name) as usize % (size - 1) + 1;
                (offset, skip)
            })
            .collect();
        const EMPTY: u16 = u16::MAX;
        let mut entries = vec![EMPTY; size];
        let mut next = vec![0usize; backends.len()];
        let mut filled = 0;
        'fill: loop {
            for (i, b) in backends.iter().enumerate() {
                let (offset, skip) = perm[i];
                let mut slot = (offset + next[i] * skip) % size;
                while entries[slot] != EMPTY {
                    next[i] += 1;
                    slot = (offset + next[i] * skip) % size;
                }
                entries[slot] = b.id;
                next[i] += 1;
                filled += 1;
                if filled == size {
                    break 'fill;
                }
            }
        }
        Ok(Self { entries })
    }

    /// The backend of a flow whose hash is `hash`.
    #[inline]
    pub fn lookup(&self, hash: u32) -> u16 {
        self.entries[hash as usize % self.entries.len()]
    }

    /// The number of entries.
    pub fn size(&self) -> usize {
        self.entries.len()
    }

    /// How many entries each backend id owns.
    pub fn shares(&self) -> std::collections::BTreeMap<u16, usize> {
        let mut m = std::collections::BTreeMap::new();
        for &e in &self.entries {
            *m.entry(e).or_default() += 1;
        }
        m
    }

    /// Entries whose backend differs between `self` and `other` (same size).
    pub fn moved(&self, other: &Table) -> usize {
        self.entries
            .iter()
            .zip(&other.entries)
            .filter(|(a, b)| a != b)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: u16) -> Vec<Backend> {
        (0..n)
            .map(|i| Backend {
                id: i,
                name: [192, 168, 1, i as u8 + 1].to_vec(),
            })
            .collect()
    }

    #[test]
    fn every_backend_owns_nearly_the_same_share() {
        for (n, size) in [(1u16, 7usize), (3, 13), (8, DEFAULT_SIZE), (13, 251)] {
            let t = Table::build(&pool(n), size).unwrap();
            let s = t.shares();
            assert_eq!(s.len(), n as usize, "every backend gets entries");
            assert_eq!(s.values().sum::<usize>(), size);
            let (lo, hi) = (s.values().min().unwrap(), s.values().max().unwrap());
            assert!(hi - lo <= 1, "{n} backends in {size}: shares {s:?}");
        }
    }

    #[test]
    fn a_backend_leaving_moves_its_entries_and_few_others() {
        let all = pool(8);
        let before = Table::build(&all, DEFAULT_SIZE).unwrap();
        let rest: Vec<Backend> = all.iter().filter(|b| b.id != 3).cloned().collect();
        let after = Table::build(&rest, DEFAULT_SIZE).unwrap();
        let owned = before.shares()[&3];
        let mut others_moved = 0;
        for (a, b) in before.entries.iter().zip(&after.entries) {
            assert_ne!(*b, 3, "the removed backend owns nothing");
            if *a != 3 && a != b {
                others_moved += 1;
            }
        }
        assert_eq!(before.moved(&after), owned + others_moved);
        // The paper's figure: a few percent of the other entries move.
        assert!(
            others_moved * 100 < (DEFAULT_SIZE - owned) * 5,
            "{others_moved} of the other backends' {} entries moved",
            DEFAULT_SIZE - owned
        );
    }

    #[test]
    fn lookups_wrap_the_hash_into_the_table() {
        let t = Table::build(&pool(2), 7).unwrap();
        for h in [0u32, 6, 7, u32::MAX] {
            assert_eq!(t.lookup(h), t.entries[h as usize % 7]);
        }
        // The same table from the same backends, in whatever order they are listed.
        let mut rev = pool(5);
        rev.reverse();
        assert_eq!(
            Table::build(&rev, 251).unwrap(),
            Table::build(&pool(5), 251).unwrap()
        );
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(Table::build(&pool(2), 8)
            .unwrap_err()
            .contains("not a prime"));
        assert!(Table::build(&[], 7).unwrap_err().contains("0 backends"));
        assert!(Table::build(&pool(7), 7)
            .unwrap_err()
            .contains("7 backends"));
        let mut dup = pool(2);
        dup[1].id = 0;
        assert!(Table::build(&dup, 7).unwrap_err().contains("distinct"));
    }
}
