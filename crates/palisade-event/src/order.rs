//! The sorted order of a sequence of field keys, remembered for the sequences seen recently.
//!
//! A parser gathers its fields in the order its code finds them, and a JSON document lists
//! them in its own order; neither is the event's order, and both repeat the same names in the
//! same order for most records: sorting them again for every record was most of what
//! [`crate::Event::extend`] cost. So the order of each recent sequence of keys is kept, per
//! thread, and a sequence seen before is put in order by copying its permutation.

use std::cell::RefCell;

/// How many sequences keep their order: more than the parsers one stream usually mixes.
const KEPT: usize = 16;

#[derive(Debug, Default)]
struct Kept {
    hash: u64,
    /// The keys in input order.
    keys: Vec<u64>,
    /// The input positions in sorted order.
    order: Vec<u32>,
}

#[derive(Debug, Default)]
struct Cache {
    kept: Vec<Kept>,
    /// The entry to replace next once `kept` is full.
    next: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
    /// The (key, position) pairs of the merge in progress: kept from one event to the next.
    static PAIRS: RefCell<Vec<(u64, u32)>> = const { RefCell::new(Vec::new()) };
}

/// Pairs kept for the next call: about the fields of the widest records.
const MAX_KEPT_PAIRS: usize = 1024;

/// Runs `work` with an empty vector of (key, position) pairs: the thread's, kept from one
/// call to the next (a new one in the rare nested call), so that ordering the fields of
/// each event does not allocate and free a vector.
pub(crate) fn with_pairs<R>(work: impl FnOnce(&mut Vec<(u64, u32)>) -> R) -> R {
    PAIRS.with(|pairs| match pairs.try_borrow_mut() {
        Ok(mut pairs) => {
            pairs.clear();
            let result = work(&mut pairs);
            if pairs.capacity() > MAX_KEPT_PAIRS {
                *pairs = Vec::new();
            }
            result
        }
        Err(_) => work(&mut Vec::new()),
    })
}

/// Sorts `pairs`, given as (key, input position) with the positions `0, 1, 2, ...` in order,
/// exactly as `sort_unstable` would: by key, then position. The positions are all distinct,
/// so the result depends on the sequence of keys alone, which is what is remembered.
pub(crate) fn sort_pairs(pairs: &mut [(u64, u32)]) {
    debug_assert!(pairs.iter().zip(0_u32..).all(|((_, at), idx)| *at == idx));
    if pairs.is_sorted() {
        return;
    }
    let hash = pairs.iter().fold(0_u64, |hash, (key, _)| {
        (hash ^ key).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
    });
    CACHE.with(|cache| {
        // Never nested; should it be, sorting is the answer that needs no cache.
        let Ok(mut cache) = cache.try_borrow_mut() else {
            pairs.sort_unstable();
            return;
        };
        let same = |kept: &Kept| {
            kept.hash == hash
                && kept.keys.len() == pairs.len()
                && kept.keys.iter().zip(pairs.iter()).all(|(kept, (key, _))| kept == key)
        };
        if let Some(kept) = cache.kept.iter().find(|kept| same(kept)) {
            for (pair, &at) in pairs.iter_mut().zip(&kept.order) {
                *pair = (kept.keys[at as usize], at);
            }
            return;
        }
        let at = if cache.kept.len() < KEPT {
            cache.kept.push(Kept::default());
            cache.kept.len() - 1
        } else {
            let at = cache.next;
            cache.next = (cache.next + 1) % KEPT;
            at
        };
        let entry = &mut cache.kept[at];
        entry.hash = hash;
        entry.keys.clear();
        entry.keys.extend(pairs.iter().map(|(key, _)| *key));
        pairs.sort_unstable();
        entry.order.clear();
        entry.order.extend(pairs.iter().map(|(_, at)| *at));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(keys: &[u64]) -> Vec<(u64, u32)> {
        keys.iter().copied().zip(0_u32..).collect()
    }

    fn sorted(keys: &[u64]) -> Vec<(u64, u32)> {
        let mut expected = pairs(keys);
        expected.sort_unstable();
        expected
    }

    #[test]
    fn more_sequences_than_are_kept_still_sort() {
        // Forty sequences, three times over: orders are reused, then replaced.
        let shape = |idx: u64| -> Vec<u64> { (0..10).map(|at| (at * 7 + idx * 13) % 11).collect() };
        for _ in 0..3 {
            for idx in 0..40 {
                let keys = shape(idx);
                let mut order = pairs(&keys);
                sort_pairs(&mut order);
                assert_eq!(order, sorted(&keys), "sequence {idx}");
            }
        }
    }

    proptest::proptest! {
        /// Whatever the sequences and however often they repeat, the order is the sort's.
        #[test]
        fn remembered_orders_equal_sorting(
            sequences in proptest::collection::vec(
                proptest::collection::vec(0_u64..6, 0..30), 1..8),
            rounds in 1_usize..4,
        ) {
            for _ in 0..rounds {
                for keys in &sequences {
                    let mut order = pairs(keys);
                    sort_pairs(&mut order);
                    proptest::prop_assert_eq!(order, sorted(keys));
                }
            }
        }
    }
}
