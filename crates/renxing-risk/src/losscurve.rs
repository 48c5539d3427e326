//! Loss curves from event sets: the loss exceeded on average once every `T` years.
//!
//! # Formulas (as OpenQuake's event-based calculators compute them)
//! An event set covers an **effective investigation time** `τ = investigation_time ×
//! ses_per_logic_tree_path × realisations`. With `N` events, sort their losses ascending
//! (events without loss count as zeros, padded on the left). The `i`-th smallest of the `N`
//! losses (1-based) is exceeded — empirically — with a return period `Tᵢ = τ / (N − i + 1)`,
//! so the largest loss has period `τ` and the smallest `τ / N`.
//!
//! The loss at a requested return period `T` is interpolated linearly in `ln T` between the
//! `(ln Tᵢ, lossᵢ)` points; for `T` shorter than `τ/N` it is 0, for `T` longer than `τ` it is
//! undefined (NaN).
//!
//! Default return periods ([`return_periods`]) are 1, 2, 5, 10, 20, 50, … years from the first
//! one not shorter than `τ/N` up to `τ`.

/// Default return periods for an effective time and a number of events.
pub fn return_periods(eff_time: f64, num_events: usize) -> Result<Vec<u32>, String> {
    if eff_time < 2.0 {
        return Err(format!("effective investigation time too small: {eff_time}"));
    }
    if num_events < 2 {
        return Err(format!(
            "at least 2 events are needed for a loss curve, found {num_events}"
        ));
    }
    let min_time = eff_time / num_events as f64;
    let mut periods = Vec::new();
    let mut period = 1u64;
    'outer: loop {
        for v in [1u64, 2, 5] {
            let t = period * v;
            if t as f64 >= min_time {
                if t as f64 > eff_time {
                    break 'outer;
                }
                periods.push(t as u32);
            }
        }
        period *= 10;
    }
    Ok(periods)
}

/// Losses at the given return periods from the (unsorted) per-event losses of `num_events`
/// events over `eff_time` years. `losses.len()` may be smaller than `num_events` (missing
/// events had no loss).
pub fn losses_by_period(losses: &[f64], return_periods: &[u32], num_events: usize, eff_time: f64) -> Vec<f64> {
    assert!(losses.len() <= num_events, "more losses than events");
    let mut sorted = vec![0.0f64; num_events - losses.len()];
    sorted.extend_from_slice(losses);
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = num_events as f64;
    let log_periods: Vec<f64> = (0..num_events).map(|i| (eff_time / (n - i as f64)).ln()).collect();
    let (first, last) = (eff_time / n, eff_time);
    return_periods
        .iter()
        .map(|&rp| {
            let t = rp as f64;
            if t < first {
                0.0
            } else if t > last {
                f64::NAN
            } else {
                crate::fragility::interp_clamped(t.ln(), &log_periods, &sorted)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_interpolation() {
        assert_eq!(return_periods(1000.0, 42).unwrap(), vec![50, 100, 200, 500, 1000]);
        assert_eq!(
            return_periods(1000.0, 1000).unwrap(),
            vec![1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        );
        assert_eq!(return_periods(100.0, 2).unwrap(), vec![50, 100]);
        // 15 losses among 20 events over 100 years (padded with 5 zeros).
        let losses = [
            3.0, 2.0, 3.5, 4.0, 3.0, 23.0, 11.0, 2.0, 1.0, 4.0, 5.0, 7.0, 8.0, 9.0, 13.0,
        ];
        let c = losses_by_period(&losses, &[1, 2, 5, 10, 20, 50, 100], 20, 100.0);
        assert_eq!(c, vec![0.0, 0.0, 0.0, 3.5, 8.0, 13.0, 23.0]);
    }
}
