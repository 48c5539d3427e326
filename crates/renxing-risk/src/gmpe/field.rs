//! Scenario ground-motion fields: the median field of one rupture and fields sampled around it.
//!
//! For event `e`, site `s` and intensity measure `m` a sampled value is
//!
//! ```text
//! ln Y[e,s,m] = ln Ȳ[s,m] + τ[s,m]·η[e,m] + φ[s,m]·(L_m · ε[e,·,m])[s]
//! ```
//!
//! - `η[e,m]`: the between-event epsilon, one standard-normal draw per event and IMT shared by all
//!   sites of the event;
//! - `ε[e,·,m]`: independent standard-normal within-event epsilons, one per site;
//! - `L_m`: the lower Cholesky factor of the spatial correlation matrix `ρ(h)` of the sites
//!   (identity when uncorrelated).
//!
//! With a truncation level `t` (OpenQuake's `truncation_level`), `η` and each `ε` are drawn from the
//! standard normal truncated to `[−t, t]` (rejection sampling), as OpenQuake draws its between- and
//! within-event epsilons separately; `t = 0` gives the median field for every event; `None` no
//! truncation. IMTs are sampled independently (no cross-IMT correlation, OpenQuake's default
//! without a cross-correlation model).
//!
//! Spatial correlation: Jayaram & Baker (2009), *Correlation model for spatially distributed
//! ground-motion intensities*, Earthquake Engineering & Structural Dynamics 38, 1687–1708,
//! eqs. 17–20: `ρ(h) = exp(−3h / b)` with the range `b` (km) = `8.5 + 17.2 T` for T < 1 s without
//! Vs30 clustering (case 1), `40.7 − 15.0 T` for T < 1 s with clustering (case 2) and
//! `22.0 + 3.7 T` for T ≥ 1 s. PGA uses T = 0 and PGV T = 1 s, as OpenQuake's `JB2009` does.
//! `h` is the great-circle distance between sites. Give each location once: the matrix is
//! `N × N` and its factorisation `O(N³)` (2 000 sites take a few seconds).
//!
//! Random numbers: ChaCha20 seeded with the user's seed, one stream per (event, IMT), so results do
//! not depend on the number of threads. Events are computed in parallel with rayon.
//!
//! Sites farther than the optional maximum distance (Rrup, km) from the rupture get no shaking
//! (value 0 and a median of 0), as OpenQuake leaves them out of its fields.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use super::rupture::{Rupture, site_distance};
use super::{DistanceContext, Gmpe, GmpeError, GmpeOutput, Imt, SiteContext};

/// Spatial correlation of the within-event residuals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correlation {
    /// Independent sites.
    None,
    /// Jayaram & Baker (2009); `vs30_clustering` selects their case 2.
    JayaramBaker2009 { vs30_clustering: bool },
}

/// How to sample fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSettings {
    /// Number of sampled events (ground-motion fields).
    pub n_events: usize,
    /// Seed of the random numbers.
    pub seed: u64,
    /// Truncation of the epsilons, in standard deviations (`None`: not truncated; `Some(0)`: median).
    pub truncation_level: Option<f64>,
    /// Spatial correlation model.
    pub correlation: Correlation,
    /// Sites with Rrup beyond this (km) are left unshaken (`None`: all sites).
    pub max_distance_km: Option<f64>,
}

/// The median field: per IMT and site, the GMPE output.
#[derive(Debug, Clone, PartialEq)]
pub struct MedianField {
    /// The IMTs, in the order of the values.
    pub imts: Vec<Imt>,
    /// Number of sites.
    pub n_sites: usize,
    /// Distances of each site.
    pub distances: Vec<DistanceContext>,
    /// GMPE output, index `m * n_sites + s`; `None` for sites beyond the maximum distance.
    pub outputs: Vec<Option<GmpeOutput>>,
}

impl MedianField {
    /// Median value (g or cm/s) of IMT index `m` at site `s`; 0 beyond the maximum distance.
    pub fn median(&self, s: usize, m: usize) -> f64 {
        self.outputs[m * self.n_sites + s].map_or(0.0, |o| o.ln_mean.exp())
    }

    /// GMPE output of IMT index `m` at site `s`.
    pub fn output(&self, s: usize, m: usize) -> Option<GmpeOutput> {
        self.outputs[m * self.n_sites + s]
    }
}

/// Sampled fields.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundMotionFields {
    /// The medians and standard deviations the samples are drawn around.
    pub median: MedianField,
    /// Number of events.
    pub n_events: usize,
    /// Values (g for PGA/SA, cm/s for PGV), index `(e * n_sites + s) * n_imts + m`.
    pub values: Vec<f64>,
    /// Between-event epsilons η, index `e * n_imts + m`.
    pub between_eps: Vec<f64>,
}

impl GroundMotionFields {
    /// The value of event `e`, site `s`, IMT index `m`.
    pub fn value(&self, e: usize, s: usize, m: usize) -> f64 {
        let n_imts = self.median.imts.len();
        self.values[(e * self.median.n_sites + s) * n_imts + m]
    }

    /// All values of one event, index `s * n_imts + m`.
    pub fn event(&self, e: usize) -> &[f64] {
        let k = self.median.n_sites * self.median.imts.len();
        &self.values[e * k..(e + 1) * k]
    }
}

/// Jayaram & Baker (2009) correlation range `b` (km) of an IMT (eqs. 17–19).
pub fn jb2009_range(imt: Imt, vs30_clustering: bool) -> f64 {
    let t = imt.period().unwrap_or(1.0);
    if t < 1.0 {
        if vs30_clustering {
            40.7 - 15.0 * t
        } else {
            8.5 + 17.2 * t
        }
    } else {
        22.0 + 3.7 * t
    }
}

/// Jayaram & Baker (2009) correlation of within-event residuals at separation `h` km (eq. 20).
pub fn jb2009_correlation(h_km: f64, imt: Imt, vs30_clustering: bool) -> f64 {
    (-3.0 * h_km / jb2009_range(imt, vs30_clustering)).exp()
}

/// The median field of a rupture at the sites.
pub fn median_field(
    rupture: &Rupture,
    sites: &[SiteContext],
    gmpe: &dyn Gmpe,
    imts: &[Imt],
    max_distance_km: Option<f64>,
) -> Result<MedianField, GmpeError> {
    let rup = rupture.context();
    let distances: Vec<DistanceContext> = sites.par_iter().map(|s| rupture.distances(s.lon, s.lat)).collect();
    let n = sites.len();
    let mut outputs = Vec::with_capacity(n * imts.len());
    for &imt in imts {
        let col: Result<Vec<Option<GmpeOutput>>, GmpeError> = sites
            .par_iter()
            .zip(distances.par_iter())
            .map(|(s, d)| {
                if max_distance_km.is_some_and(|m| d.rrup > m) {
                    Ok(None)
                } else {
                    gmpe.compute(&rup, s, d, imt).map(Some)
                }
            })
            .collect();
        outputs.extend(col?);
    }
    Ok(MedianField {
        imts: imts.to_vec(),
        n_sites: n,
        distances,
        outputs,
    })
}

/// One standard-normal draw, truncated to `[-t, t]` when `t` is given.
fn draw(rng: &mut ChaCha20Rng, trunc: Option<f64>) -> f64 {
    loop {
        let x: f64 = StandardNormal.sample(rng);
        match trunc {
            Some(t) if x.abs() > t => continue,
            _ => return x,
        }
    }
}

/// Lower Cholesky factor (row-major `n × n`) of a symmetric positive-definite matrix.
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, GmpeError> {
    assert_eq!(a.len(), n * n);
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let (done, rest) = l.split_at_mut((j + 1) * n);
        let row_j = &mut done[j * n..(j + 1) * n];
        let s: f64 = row_j[..j].iter().map(|v| v * v).sum();
        let d = a[j * n + j] - s;
        if d <= 0.0 || !d.is_finite() {
            return Err(GmpeError::Invalid(format!(
                "correlation matrix is not positive definite at site {j} (two sites at the same location?)"
            )));
        }
        let djj = d.sqrt();
        row_j[j] = djj;
        let row_j: &[f64] = row_j;
        rest.par_chunks_mut(n).enumerate().for_each(|(k, row_i)| {
            let i = j + 1 + k;
            let dotp: f64 = row_i[..j].iter().zip(&row_j[..j]).map(|(x, y)| x * y).sum();
            row_i[j] = (a[i * n + j] - dotp) / djj;
        });
    }
    Ok(l)
}

/// Median and `settings.n_events` sampled fields.
pub fn sample_fields(
    rupture: &Rupture,
    sites: &[SiteContext],
    gmpe: &dyn Gmpe,
    imts: &[Imt],
    settings: &FieldSettings,
) -> Result<GroundMotionFields, GmpeError> {
    if let Some(t) = settings.truncation_level
        && !(t >= 0.0 && t.is_finite())
    {
        return Err(GmpeError::Invalid(format!("truncation level {t}")));
    }
    let median = median_field(rupture, sites, gmpe, imts, settings.max_distance_km)?;
    let n_imts = imts.len();
    // Shaken sites and, per IMT, the Cholesky factor over them.
    let shaken: Vec<usize> = (0..sites.len())
        .filter(|&s| n_imts > 0 && median.outputs[s].is_some())
        .collect();
    let k = shaken.len();
    let factors: Vec<Option<Vec<f64>>> = match settings.correlation {
        Correlation::None => vec![None; n_imts],
        Correlation::JayaramBaker2009 { vs30_clustering } => {
            let mut out: Vec<Option<Vec<f64>>> = Vec::with_capacity(n_imts);
            let mut dist = vec![0.0; k * k];
            dist.par_chunks_mut(k.max(1)).enumerate().for_each(|(i, row)| {
                let a = &sites[shaken[i]];
                for (j, v) in row.iter_mut().enumerate() {
                    let b = &sites[shaken[j]];
                    *v = site_distance(a.lon, a.lat, b.lon, b.lat);
                }
            });
            for (m, &imt) in imts.iter().enumerate() {
                let range = jb2009_range(imt, vs30_clustering);
                let same = imts[..m]
                    .iter()
                    .position(|&o| (jb2009_range(o, vs30_clustering) - range).abs() < 1e-12);
                if let Some(p) = same {
                    let f = out[p].clone();
                    out.push(f);
                    continue;
                }
                let corr: Vec<f64> = dist.par_iter().map(|h| (-3.0 * h / range).exp()).collect();
                out.push(Some(cholesky(&corr, k)?));
            }
            out
        }
    };
    let n_sites = sites.len();
    let trunc = settings.truncation_level;
    let median_only = trunc == Some(0.0);
    let mut values = vec![0.0; settings.n_events * n_sites * n_imts];
    let mut between_eps = vec![0.0; settings.n_events * n_imts];
    let chunk = (n_sites * n_imts).max(1);
    values
        .par_chunks_mut(chunk)
        .zip(between_eps.par_chunks_mut(n_imts.max(1)))
        .enumerate()
        .for_each(|(e, (vals, etas))| {
            let mut z = vec![0.0; k];
            for m in 0..n_imts {
                let mut rng = ChaCha20Rng::seed_from_u64(settings.seed);
                rng.set_stream((e * n_imts + m) as u64);
                let eta = if median_only { 0.0 } else { draw(&mut rng, trunc) };
                etas[m] = eta;
                for v in z.iter_mut() {
                    *v = if median_only { 0.0 } else { draw(&mut rng, trunc) };
                }
                let within: Vec<f64> = match &factors[m] {
                    None => z.clone(),
                    Some(l) => (0..k)
                        .map(|i| l[i * k..i * k + i + 1].iter().zip(&z[..=i]).map(|(a, b)| a * b).sum())
                        .collect(),
                };
                for (i, &s) in shaken.iter().enumerate() {
                    if let Some(o) = median.outputs[m * n_sites + s] {
                        vals[s * n_imts + m] = (o.ln_mean + o.tau * eta + o.phi * within[i]).exp();
                    }
                }
            }
        });
    Ok(GroundMotionFields {
        median,
        n_events: settings.n_events,
        values,
        between_eps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2).is_err(), "singular matrix refused");
    }

    #[test]
    fn jb2009_ranges_follow_the_paper() {
        assert_eq!(jb2009_range(Imt::Pga, false), 8.5);
        assert_eq!(jb2009_range(Imt::Pga, true), 40.7);
        assert!((jb2009_range(Imt::Sa(1.0), false) - 25.7).abs() < 1e-12);
        assert_eq!(jb2009_range(Imt::Pgv, false), jb2009_range(Imt::Sa(1.0), true));
        assert!((jb2009_correlation(8.5, Imt::Pga, false) - (-3f64).exp()).abs() < 1e-15);
    }
}
