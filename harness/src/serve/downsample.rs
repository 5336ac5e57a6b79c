//! Curves cut down on the server before they travel: the steps are split into equal x-buckets
//! and each bucket keeps its lowest, highest and last point, as W&B's line plots do, so a
//! spike, a dip and the curve's end survive any reduction. Validation curves are short and go
//! whole; this is for training curves (a point per `log_every` steps).

/// `points` (in step order) kept whole when they are at most `3 × buckets`, else reduced to
/// each of `buckets` x-buckets' lowest, highest and last point, in step order.
pub fn min_max_last(points: &[(u64, f64)], buckets: usize) -> Vec<(u64, f64)> {
    let (Some(&(first, _)), Some(&(end, _))) = (points.first(), points.last()) else {
        return Vec::new();
    };
    if buckets == 0 || points.len() <= 3 * buckets {
        return points.to_vec();
    }
    let span = (end - first) as u128 + 1;
    let bucket_of = |step: u64| ((step - first) as u128 * buckets as u128 / span) as usize;
    let mut kept = Vec::with_capacity(3 * buckets);
    let mut start = 0;
    while start < points.len() {
        let bucket = bucket_of(points[start].0);
        let len = points[start..]
            .iter()
            .take_while(|(step, _)| bucket_of(*step) == bucket)
            .count();
        let group = &points[start..start + len];
        let (mut low, mut high) = (0, 0);
        for (i, &(_, loss)) in group.iter().enumerate() {
            // NaN is neither lowest nor highest; a diverged curve's NaN end stays as its last.
            if loss < group[low].1 || group[low].1.is_nan() {
                low = i;
            }
            if loss > group[high].1 || group[high].1.is_nan() {
                high = i;
            }
        }
        let mut picks = [low, high, len - 1];
        picks.sort_unstable();
        for (n, &i) in picks.iter().enumerate() {
            if n == 0 || picks[n - 1] != i {
                kept.push(group[i]);
            }
        }
        start += len;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(n: u64) -> Vec<(u64, f64)> {
        (0..n).map(|i| (i * 100, 3.0 - i as f64 * 1e-4)).collect()
    }

    #[test]
    fn a_short_curve_goes_whole() {
        let points = curve(30);
        assert_eq!(min_max_last(&points, 10), points);
    }

    #[test]
    fn each_bucket_keeps_its_lowest_highest_and_last_point_in_step_order() {
        let mut points = curve(2_000);
        points[777].1 = 9.0; // a spike
        points[1_234].1 = 0.5; // a dip
        let kept = min_max_last(&points, 100);
        assert!(kept.len() <= 300, "{} points", kept.len());
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "in step order, no repeats");
        for must in [points[777], points[1_234], points[0], points[1_999]] {
            assert!(kept.contains(&must), "{must:?} kept");
        }
        // The curve's true minimum and maximum survive.
        let max = kept.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let min = kept.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (0.5, 9.0));
    }

    #[test]
    fn a_nan_end_stays_the_last_point() {
        let mut points = curve(1_000);
        points[999].1 = f64::NAN;
        let kept = min_max_last(&points, 50);
        assert!(kept.last().is_some_and(|p| p.0 == 99_900 && p.1.is_nan()));
        assert!(kept.iter().rev().skip(1).all(|p| p.1.is_finite()));
    }
}
