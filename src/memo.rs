//! A map filled on demand by many threads: what a scan computes once and
//! shares (parsed certificates, chain verdicts, late-parsed Services).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Values by key, computed by the first caller that needs one (outside the
/// lock, so a slow computation blocks no other key) and cloned for the rest.
pub(crate) struct Memo<K, V> {
    map: Mutex<HashMap<K, V>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, if one was stored.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).cloned()
    }

    /// Stores the value of `key`.
    pub(crate) fn insert(&self, key: K, value: V) {
        self.lock().insert(key, value);
    }

    /// The value of `key`: stored, or computed by `f` and stored.
    pub(crate) fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        if let Some(v) = self.get(&key) {
            return v;
        }
        let v = f();
        self.insert(key, v.clone());
        v
    }
}
