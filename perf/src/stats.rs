//! Order statistics over samples.

/// The `q` quantile (0..=1) of `v` by linear interpolation between order statistics, or
/// None for no samples. NaNs are ignored.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(s[lo] + (s[hi] - s[lo]) * (pos - lo as f64))
}

/// The median of `v`.
pub fn median(v: &[f64]) -> Option<f64> {
    quantile(v, 0.5)
}

/// Median, quartiles, extremes and count of a sample set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// First quartile.
    pub p25: f64,
    /// Third quartile.
    pub p75: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// The summary of `v`, or None for no samples.
    pub fn of(v: &[f64]) -> Option<Self> {
        Some(Self {
            n: v.iter().filter(|x| !x.is_nan()).count(),
            median: quantile(v, 0.5)?,
            p25: quantile(v, 0.25)?,
            p75: quantile(v, 0.75)?,
            min: quantile(v, 0.0)?,
            max: quantile(v, 1.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), Some(2.0));
        assert_eq!(median(&[f64::NAN, 1.0, 5.0]), Some(3.0));
        let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.n, s.min, s.median, s.max), (3, 1.0, 3.0, 5.0));
    }
}
