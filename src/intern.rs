//! One interning mechanism for loaders that keep many equal values (policy statements, pieces
//! of document text, catalog strings): the first copy seen is kept in a set and every equal
//! value afterwards shares it.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

/// The copy of `value` already in `seen`, or `value` itself, recorded there.
pub fn share<T: ?Sized + Eq + Hash>(seen: &mut HashSet<Arc<T>>, value: Arc<T>) -> Arc<T> {
    if let Some(found) = seen.get(&value) {
        return Arc::clone(found);
    }
    seen.insert(Arc::clone(&value));
    value
}

/// [`share`] for a borrowed string: allocates only when `seen` has no equal string yet.
pub fn share_str(seen: &mut HashSet<Arc<str>>, value: &str) -> Arc<str> {
    match seen.get(value) {
        Some(found) => Arc::clone(found),
        None => share(seen, Arc::from(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation_and_different_ones_do_not() {
        let mut seen = HashSet::new();
        let a = share_str(&mut seen, "aws:TagKeys");
        let b = share_str(&mut seen, "aws:TagKeys");
        let c = share_str(&mut seen, "aws:RequestTag/${TagKey}");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        let d = share(&mut seen, Arc::from("aws:TagKeys"));
        assert!(Arc::ptr_eq(&a, &d), "an owned equal value is replaced by the kept one");
        assert_eq!(seen.len(), 2);
    }
}
