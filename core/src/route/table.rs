//! [`Table`]: the ordered map every route table is kept in, persistent (rpds' red-black tree
//! with `Arc` nodes), so cloning it is O(1) and a clone shares every node it did not change.
//!
//! That is what makes the read view cheap: a view is a clone of the tables, and a write made
//! while a view is held copies only the O(log n) path to each entry it touches
//! (and the entry itself), never the whole table: a registration of one broker does not copy
//! the other 9,999 topics. Readers holding an older view keep seeing it, unchanged.
//!
//! The API is the subset of `BTreeMap`'s the route code uses, so the tables read as before;
//! iteration is in key order, as `BTreeMap`'s, which keeps every answer and simulator trace
//! deterministic.

use std::borrow::Borrow;
use std::fmt;

use rpds::RedBlackTreeMapSync;

/// An ordered, persistent, thread-safe map (see the module docs).
///
/// It counts its writes ([`Self::version`]): what the machine compares to tell whether a
/// route table changed in a step, without holding a clone of it (a held clone would make the
/// next write copy every entry it touches).
pub struct Table<K, V> {
    map: RedBlackTreeMapSync<K, V>,
    version: u64,
}

impl<K: Ord, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        Self {
            map: self.map.clone(),
            version: self.version,
        }
    }
}

impl<K: Ord, V> Default for Table<K, V> {
    fn default() -> Self {
        Self {
            map: RedBlackTreeMapSync::new_sync(),
            version: 0,
        }
    }
}

impl<K: Ord + Clone, V: Clone> Table<K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get<Q: ?Sized + Ord>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key)
    }

    /// The value under `key`, to change in place (copying it first if a published view still
    /// shares it).
    pub fn get_mut<Q: ?Sized + Ord>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        // Counted as a write whether or not the caller changes the value: callers look with
        // `get` first and take for change only what they change.
        let v = self.map.get_mut(key)?;
        self.version = self.version.wrapping_add(1);
        Some(v)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: ?Sized + Ord>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    /// Inserts or replaces `key`'s value. The old value is not returned: with persistent
    /// values that would be a clone on every write (see [`Self::take`]).
    pub fn insert(&mut self, key: K, value: V) {
        self.version = self.version.wrapping_add(1);
        self.map.insert_mut(key, value);
    }

    /// Removes `key`; whether it was there.
    pub fn remove<Q: ?Sized + Ord>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        let removed = self.map.remove_mut(key);
        if removed {
            self.version = self.version.wrapping_add(1);
        }
        removed
    }

    /// Removes `key`, returning (a clone of) its value.
    pub fn take<Q: ?Sized + Ord>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let old = self.map.get(key).cloned()?;
        self.remove(key);
        Some(old)
    }

    /// The value under `key`, inserted from `make` first if absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) {
            self.map.insert_mut(key.clone(), make());
        }
        self.version = self.version.wrapping_add(1);
        match self.map.get_mut(&key) {
            Some(v) => v,
            None => unreachable_insert(),
        }
    }

    /// Keeps the entries `keep` accepts; the others are removed, the kept ones not copied.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let gone: Vec<K> = self
            .map
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// Applies `apply` to every value `needs` picks, in key order. Only those are copied:
    /// `needs` looks at the shared value, so a walk over 10,000 topics that changes three
    /// copies three.
    pub fn update_where(
        &mut self,
        mut needs: impl FnMut(&K, &V) -> bool,
        mut apply: impl FnMut(&K, &mut V),
    ) {
        let picked: Vec<K> = self
            .map
            .iter()
            .filter(|(k, v)| needs(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in picked {
            if let Some(v) = self.get_mut(&k) {
                apply(&k, v);
            }
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.map.iter()
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.map.keys()
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.map.values()
    }

    /// The entry with the least key.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.map.first()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.size()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether `self` and `other` share their root: one is a clone of the other and neither
    /// changed since (tests; the machine tells changes by [`Self::version`]).
    #[cfg(test)]
    fn same_as(&self, other: &Self) -> bool {
        self.map.ptr_eq(&other.map)
    }

    /// How many writes this table (and the tables it was cloned from) has taken: it moves
    /// on every `insert`, every successful `remove`/`take`, and every value handed out for
    /// change (`get_mut`, `get_or_insert_with`, what `retain` drops and `update_where`
    /// picks). Two reads of it with no write between are equal; O(1).
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// `get_or_insert_with` found no entry it had just inserted: a broken map, not bad input.
#[cold]
fn unreachable_insert<V>() -> V {
    unreachable!("rpds lost an entry inserted a line above")
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for Table<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut t = Self::new();
        for (k, v) in iter {
            t.insert(k, v);
        }
        t
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for Table<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Clone + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a, K: Ord + Clone, V: Clone> IntoIterator for &'a Table<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Box<dyn Iterator<Item = (&'a K, &'a V)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.map.iter())
    }
}

/// `table[key]`, as `BTreeMap`'s: panics when `key` is absent. For tests and tools; the core
/// itself uses [`Table::get`].
impl<K: Ord + Clone + Borrow<Q>, Q: ?Sized + Ord, V: Clone> std::ops::Index<&Q> for Table<K, V> {
    type Output = V;
    fn index(&self, key: &Q) -> &V {
        match self.map.get(key) {
            Some(v) => v,
            None => panic!("key not in table"),
        }
    }
}

/// An ordered, persistent set: a [`Table`] without values. A cluster's broker names are kept
/// in one, so a broker joining or leaving a 1,000-group cluster copies O(log n) nodes, not
/// the 1,000 names, while a read view shares the old version.
pub struct Set<K>(Table<K, ()>);

impl<K: Ord> Clone for Set<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K: Ord> Default for Set<K> {
    fn default() -> Self {
        Self(Table::default())
    }
}

impl<K: Ord + Clone> Set<K> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `key` is in the set.
    pub fn contains<Q: ?Sized + Ord>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.contains_key(key)
    }

    /// Adds `key`; whether it was new (a present key is not written again).
    pub fn insert(&mut self, key: K) -> bool {
        if self.0.contains_key(&key) {
            return false;
        }
        self.0.insert(key, ());
        true
    }

    /// Adds `key`, which the caller knows is absent, in one look-up instead of
    /// [`Self::insert`]'s two; whether it was new. A present key is written again (same
    /// content, but a write: its path is copied if a view shares it).
    pub fn insert_absent(&mut self, key: K) -> bool {
        let before = self.0.len();
        self.0.insert(key, ());
        self.0.len() > before
    }

    /// Removes `key`; whether it was there.
    pub fn remove<Q: ?Sized + Ord>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.remove(key)
    }

    /// The keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &K> + '_ {
        self.0.keys()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Ord + Clone> FromIterator<K> for Set<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        Self(iter.into_iter().map(|k| (k, ())).collect())
    }
}

impl<K: Ord + Clone> PartialEq for Set<K> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Clone + fmt::Debug> fmt::Debug for Set<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<'a, K: Ord + Clone> IntoIterator for &'a Set<K> {
    type Item = &'a K;
    type IntoIter = Box<dyn Iterator<Item = &'a K> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.0.keys())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// One operation of the model test, on keys from a small range so hits are common.
    #[derive(Clone, Debug)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Take(u16),
        GetMut(u16, u32),
        GetOrInsert(u16, u32),
        RetainNotDivisibleBy(u16),
        UpdateDivisibleBy(u16, u32),
        /// Clone the table (a view); later writes must not reach the clone.
        Snapshot,
    }

    fn op() -> impl Strategy<Value = Op> {
        let k = 0u16..600;
        prop_oneof![
            6 => (k.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => k.clone().prop_map(Op::Remove),
            1 => k.clone().prop_map(Op::Take),
            1 => (k.clone(), any::<u32>()).prop_map(|(k, v)| Op::GetMut(k, v)),
            1 => (k, any::<u32>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
            1 => (2u16..9).prop_map(Op::RetainNotDivisibleBy),
            1 => (2u16..9, any::<u32>()).prop_map(|(d, v)| Op::UpdateDivisibleBy(d, v)),
            1 => Just(Op::Snapshot),
        ]
    }

    fn assert_same(t: &Table<u16, u32>, m: &BTreeMap<u16, u32>) {
        assert_eq!(t.len(), m.len());
        assert!(t.iter().eq(m.iter()), "contents or order differ");
        assert_eq!(t.first(), m.iter().next());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The table is a `BTreeMap` (same answers, same order) under any run of writes, and a clone taken midway keeps what it
        /// saw whatever the original does after.
        #[test]
        fn the_table_is_a_btreemap_and_its_clones_do_not_move(ops in proptest::collection::vec(op(), 1..1500)) {
            let mut t: Table<u16, u32> = Table::new();
            let mut m: BTreeMap<u16, u32> = BTreeMap::new();
            let mut snaps: Vec<(Table<u16, u32>, BTreeMap<u16, u32>)> = Vec::new();
            for op in ops {
                let before = t.version();
                let m_before = m.clone();
                match op {
                    Op::Insert(k, v) => { t.insert(k, v); m.insert(k, v); }
                    Op::Remove(k) => prop_assert_eq!(t.remove(&k), m.remove(&k).is_some()),
                    Op::Take(k) => prop_assert_eq!(t.take(&k), m.remove(&k)),
                    Op::GetMut(k, v) => {
                        let a = t.get_mut(&k).map(|x| { *x = v; });
                        let b = m.get_mut(&k).map(|x| { *x = v; });
                        prop_assert_eq!(a, b);
                    }
                    Op::GetOrInsert(k, v) => {
                        *t.get_or_insert_with(k, || v) ^= 1;
                        *m.entry(k).or_insert(v) ^= 1;
                    }
                    Op::RetainNotDivisibleBy(d) => {
                        t.retain(|k, _| k % d != 0);
                        m.retain(|k, _| k % d != 0);
                    }
                    Op::UpdateDivisibleBy(d, v) => {
                        t.update_where(|k, _| k % d == 0, |_, x| *x = v);
                        for (_, x) in m.iter_mut().filter(|(k, _)| *k % d == 0) { *x = v; }
                    }
                    Op::Snapshot => {
                        if snaps.len() < 4 { snaps.push((t.clone(), m.clone())); }
                    }
                }
                if m != m_before {
                    prop_assert_ne!(before, t.version(), "a write left the version");
                }
                for k in [0u16, 1, 299, 599] {
                    prop_assert_eq!(t.get(&k), m.get(&k));
                    prop_assert_eq!(t.contains_key(&k), m.contains_key(&k));
                }
            }
            assert_same(&t, &m);
            for (snap, model) in &snaps {
                assert_same(snap, model);
            }
        }
    }

    #[test]
    fn every_write_moves_the_version_and_no_read_does() {
        let mut t: Table<String, u32> = (0..10).map(|i| (format!("k{i}"), i)).collect();
        let mut last = t.version();
        let mut moved = |t: &Table<String, u32>, what: &str, expect: bool| {
            assert_eq!(t.version() != last, expect, "{what}");
            last = t.version();
        };
        let _ = (t.get("k1"), t.contains_key("k2"), t.len(), t.iter().count());
        moved(&t, "reads", false);
        assert!(!t.remove("absent"));
        moved(&t, "a remove that missed", false);
        assert_eq!(t.take("absent"), None);
        moved(&t, "a take that missed", false);
        t.retain(|_, _| true);
        moved(&t, "a retain that kept all", false);
        t.update_where(|_, _| false, |_, v| *v += 1);
        moved(&t, "an update that picked none", false);
        t.insert("k1".into(), 100);
        moved(&t, "insert", true);
        assert!(t.remove("k1"));
        moved(&t, "remove", true);
        assert_eq!(t.take("k2"), Some(2));
        moved(&t, "take", true);
        if let Some(v) = t.get_mut("k3") {
            *v = 30;
        }
        moved(&t, "get_mut", true);
        *t.get_or_insert_with("k4".into(), || 0) += 1;
        moved(&t, "get_or_insert_with", true);
        t.retain(|k, _| k != "k5");
        moved(&t, "retain", true);
        t.update_where(|k, _| k == "k6", |_, v| *v = 60);
        moved(&t, "update_where", true);
        let mut s: Set<String> = Set::new();
        let v0 = s.0.version();
        assert!(s.insert("a".into()) && !s.insert("a".into()));
        assert!(s.remove("a") && !s.remove("a"));
        assert_eq!(
            s.0.version(),
            v0 + 2,
            "a present insert or a missed remove writes nothing"
        );
    }

    #[test]
    fn a_clone_is_a_version_that_later_writes_do_not_touch() {
        let mut t: Table<String, Vec<u32>> =
            (0..100).map(|i| (format!("t{i:03}"), vec![i])).collect();
        let published = t.clone();
        assert!(t.same_as(&published));
        if let Some(v) = t.get_mut("t007") {
            v.push(1);
        }
        t.remove("t008");
        t.update_where(|_, v| v.first() == Some(&9), |_, v| v.clear());
        t.retain(|k, _| k != "t010");
        assert!(!t.same_as(&published));
        assert_eq!(published.get("t007"), Some(&vec![7]));
        assert_eq!(published.get("t008"), Some(&vec![8]));
        assert_eq!(published.get("t009"), Some(&vec![9]));
        assert_eq!(published.len(), 100);
        assert_eq!(t.get("t007"), Some(&vec![7, 1]));
        assert_eq!(t.get("t009"), Some(&vec![]));
        assert_eq!(t.len(), 98);
        t.insert("t007".into(), vec![0]);
        assert_eq!(t.take("t007"), Some(vec![0]));
        assert!(!t.remove("t007"), "already taken");
        *t.get_or_insert_with("new".into(), Vec::new) = vec![5];
        assert_eq!(t["new"], vec![5]);
        let keys: Vec<&String> = t.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "iteration is in key order");
    }
}
