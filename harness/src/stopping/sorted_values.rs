//! Lists of f64 kept in ascending order (`total_cmp`), for the early-termination judge: the
//! values every run had at each evaluation, which the median rule and hyperband's thresholds
//! read without a pass over the runs.

/// Inserts `value` into sorted `values`, keeping them sorted.
pub fn insert(values: &mut Vec<f64>, value: f64) {
    let at = values.partition_point(|v| v.total_cmp(&value).is_lt());
    values.insert(at, value);
}

/// Removes one value equal to `value` (bit for bit) from sorted `values`, if there is one.
pub fn remove(values: &mut Vec<f64>, value: f64) {
    let at = values.partition_point(|v| v.total_cmp(&value).is_lt());
    if values.get(at).is_some_and(|v| v.total_cmp(&value).is_eq()) {
        values.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_sorted_as_they_come_and_go() {
        let mut values = Vec::new();
        [3.0, 1.0, 2.0, 1.0].into_iter().for_each(|v| insert(&mut values, v));
        assert_eq!(values, [1.0, 1.0, 2.0, 3.0]);
        remove(&mut values, 1.0);
        remove(&mut values, 5.0);
        assert_eq!(values, [1.0, 2.0, 3.0]);
    }
}
