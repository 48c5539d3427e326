//! Ground-motion models against OpenQuake, and sampled fields against their own statistics.
//!
//! The reference CSVs in `tests/reference/gmpe/` were written by `scripts/compare_oq_gmpe.py`
//! with openquake.hazardlib 3.26 (see its header for the cases). They are committed, so these
//! tests need no Python. Medians are compared given OpenQuake's own distances and rupture context
//! (≤ 1e-6 relative); Renxing's distances are compared separately.

use std::collections::HashMap;
use std::path::PathBuf;

use renxing_risk::gmpe::field::{Correlation, FieldSettings, jb2009_correlation, median_field, sample_fields};
use renxing_risk::gmpe::intensity::{IntensityCoefficients, instrumental_intensity, roman};
use renxing_risk::gmpe::rupture::{Rupture, read_rupture_xml};
use renxing_risk::gmpe::{
    BooreAtkinson2008, ChiouYoungs2014, DistanceContext, Gmpe, Imt, RuptureContext, SiteContext, gmpe_by_name,
};

fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/reference/gmpe")
        .join(name)
}

/// Rows of a reference CSV as header → value maps (the files are committed: absence is a failure).
fn read_csv(name: &str) -> Vec<HashMap<String, String>> {
    let path = reference(name);
    let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers.iter().cloned().zip(r.iter().map(str::to_string)).collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, k: &str) -> f64 {
    row[k].parse().unwrap_or_else(|_| panic!("{k} = {}", row[k]))
}

fn oq_rupture(case: &str) -> RuptureContext {
    let r = &read_csv(&format!("{case}_rupture.csv"))[0];
    RuptureContext {
        mag: num(r, "mag"),
        rake: num(r, "rake"),
        dip: num(r, "dip"),
        ztor: num(r, "ztor"),
        hypo_depth: num(r, "hypo_depth"),
        width: num(r, "width"),
    }
}

/// Sites (lon, lat) and OpenQuake's distances.
fn oq_sites(case: &str) -> Vec<((f64, f64), DistanceContext)> {
    read_csv(&format!("{case}_sites.csv"))
        .iter()
        .map(|r| {
            (
                (num(r, "lon"), num(r, "lat")),
                DistanceContext {
                    rrup: num(r, "rrup"),
                    rjb: num(r, "rjb"),
                    rx: num(r, "rx"),
                    ry0: num(r, "ry0"),
                    rhypo: num(r, "rhypo"),
                    repi: 0.0,
                },
            )
        })
        .collect()
}

fn site_of(row: &HashMap<String, String>, lonlat: (f64, f64)) -> SiteContext {
    let z1 = num(row, "z1pt0");
    SiteContext {
        lon: lonlat.0,
        lat: lonlat.1,
        vs30: num(row, "vs30"),
        vs30_measured: row["vs30measured"] == "1",
        z1pt0: (z1 > 0.0).then_some(z1),
        z2pt5: None,
    }
}

/// Max relative differences (median, sigma, tau, phi) per IMT between Renxing and OpenQuake.
fn compare_medians(case: &str, gmpe: &dyn Gmpe) -> Vec<(String, [f64; 4], usize)> {
    let rup0 = oq_rupture(case);
    let sites = oq_sites(case);
    let mut per_imt: Vec<(String, [f64; 4], usize)> = Vec::new();
    for row in read_csv(&format!("{case}_{}.csv", gmpe.name())) {
        let i: usize = row["site"].parse().unwrap();
        let (lonlat, dist) = sites[i];
        let rup = RuptureContext {
            rake: num(&row, "rake"),
            ..rup0
        };
        let imt = Imt::parse(&row["imt"]).unwrap();
        let o = gmpe.compute(&rup, &site_of(&row, lonlat), &dist, imt).unwrap();
        let rel = |a: f64, b: f64| (a / b - 1.0).abs();
        let d = [
            (o.ln_mean - num(&row, "ln_mean")).exp_m1().abs(),
            rel(o.sigma, num(&row, "sigma")),
            rel(o.tau, num(&row, "tau")),
            rel(o.phi, num(&row, "phi")),
        ];
        let key = row["imt"].clone();
        match per_imt.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, m, n)) => {
                for j in 0..4 {
                    m[j] = m[j].max(d[j]);
                }
                *n += 1;
            }
            None => per_imt.push((key, d, 1)),
        }
    }
    per_imt
}

#[test]
fn medians_and_sigmas_match_openquake_given_its_contexts() {
    for case in ["nepal_fault15", "nepal_plane"] {
        for gmpe in [&BooreAtkinson2008 as &dyn Gmpe, &ChiouYoungs2014] {
            let res = compare_medians(case, gmpe);
            assert_eq!(res.len(), 4, "PGA, PGV, SA(0.2), SA(1.0)");
            for (imt, d, n) in res {
                println!(
                    "{case} {} {imt}: {n} rows, max rel diff median {:.2e} sigma {:.2e} tau {:.2e} phi {:.2e}",
                    gmpe.name(),
                    d[0],
                    d[1],
                    d[2],
                    d[3]
                );
                for (what, v) in ["median", "sigma", "tau", "phi"].iter().zip(d) {
                    assert!(
                        v <= 1e-6,
                        "{case} {} {imt} {what}: relative difference {v:e}",
                        gmpe.name()
                    );
                }
            }
        }
    }
}

/// Max |Renxing − OpenQuake| per distance over the sites of a case, for a rupture.
fn distance_diffs(rupture: &Rupture, case: &str) -> [f64; 5] {
    let mut m = [0.0f64; 5];
    for ((lon, lat), oq) in oq_sites(case) {
        let d = rupture.distances(lon, lat);
        let diffs = [
            d.rrup - oq.rrup,
            d.rjb - oq.rjb,
            d.rx - oq.rx,
            d.ry0 - oq.ry0,
            d.rhypo - oq.rhypo,
        ];
        for (a, b) in m.iter_mut().zip(diffs) {
            *a = a.max(b.abs());
        }
    }
    m
}

#[test]
fn planar_rupture_distances_and_context_match_openquake() {
    let rup = read_rupture_xml(&reference("nepal_plane_rupture.xml")).unwrap();
    let m = distance_diffs(&rup, "nepal_plane");
    println!(
        "plane: max |diff| km rrup {:.1e} rjb {:.1e} rx {:.1e} ry0 {:.1e} rhypo {:.1e}",
        m[0], m[1], m[2], m[3], m[4]
    );
    for (n, v) in ["rrup", "rjb", "rx", "ry0", "rhypo"].iter().zip(m) {
        assert!(v < 1e-6, "{n}: {v} km");
    }
    let c = rup.context();
    let oq = oq_rupture("nepal_plane");
    assert!((c.dip - oq.dip).abs() < 1e-7, "dip {} vs {}", c.dip, oq.dip);
    assert!((c.width - oq.width).abs() < 1e-6, "width {} vs {}", c.width, oq.width);
    assert_eq!(
        (c.ztor, c.hypo_depth, c.mag, c.rake),
        (oq.ztor, oq.hypo_depth, oq.mag, oq.rake)
    );
}

#[test]
fn planar_field_medians_match_openquake_end_to_end() {
    // Renxing's own distances and context from the plane file, CY14 and BA08 medians, against
    // OpenQuake's medians computed with OpenQuake's distances: the whole chain at ≤ 1e-6.
    let mut rup = read_rupture_xml(&reference("nepal_plane_rupture.xml")).unwrap();
    rup.rake = 0.0;
    let sites_ll: Vec<(f64, f64)> = oq_sites("nepal_plane").into_iter().map(|(ll, _)| ll).collect();
    for gmpe in [&ChiouYoungs2014 as &dyn Gmpe, &BooreAtkinson2008] {
        let rows: Vec<_> = read_csv(&format!("nepal_plane_{}.csv", gmpe.name()))
            .into_iter()
            .filter(|r| r["rake"] == "0" && r["vs30"] == "760")
            .collect();
        let sites: Vec<SiteContext> = sites_ll.iter().map(|&ll| site_of(&rows[0], ll)).collect();
        let imts = [Imt::Pga, Imt::Pgv, Imt::Sa(0.2), Imt::Sa(1.0)];
        let f = median_field(&rup, &sites, gmpe, &imts, None).unwrap();
        let mut worst = 0.0f64;
        for r in &rows {
            let s: usize = r["site"].parse().unwrap();
            let m = imts.iter().position(|&i| i == Imt::parse(&r["imt"]).unwrap()).unwrap();
            let o = f.output(s, m).unwrap();
            worst = worst.max((o.ln_mean - num(r, "ln_mean")).exp_m1().abs());
        }
        println!(
            "plane field {}: max rel diff of medians {worst:.2e} over {} rows",
            gmpe.name(),
            rows.len()
        );
        assert!(worst <= 1e-6, "{}: {worst:e}", gmpe.name());
    }
}

#[test]
fn simple_fault_distances_against_openquake_meshes() {
    let Some(path) = renxing_geo::shared_data::file("exposure/nepal/fault_rupture.xml") else {
        return;
    };
    let rup = read_rupture_xml(&path).unwrap();
    let c = rup.context();
    assert_eq!((c.mag, c.rake, c.ztor, c.hypo_depth), (7.0, 90.0, 20.0, 30.0));
    // Exact plane vs OpenQuake's 1 km mesh: within the mesh discretisation.
    let fine = distance_diffs(&rup, "nepal_fault1");
    // vs the 15 km mesh of the demo's job.ini: Rrup to nodes only, so up to ~half a cell diagonal.
    let coarse = distance_diffs(&rup, "nepal_fault15");
    println!(
        "simple fault vs OQ 1 km mesh: max |diff| km rrup {:.3} rjb {:.3} rx {:.3} ry0 {:.3} rhypo {:.1e}",
        fine[0], fine[1], fine[2], fine[3], fine[4]
    );
    println!(
        "simple fault vs OQ 15 km mesh: max |diff| km rrup {:.3} rjb {:.3} rx {:.3} ry0 {:.3} rhypo {:.1e}",
        coarse[0], coarse[1], coarse[2], coarse[3], coarse[4]
    );
    // OpenQuake resamples the trace at the mesh spacing and may end it up to half a spacing past
    // the trace's last vertex, which moves Ry0 and Rrup off that end by up to ~0.9 km at 1 km and
    // ~5 km at 15 km; Rx depends on the top edge's direction only.
    assert!(
        fine[0] < 1.0 && fine[1] < 0.5 && fine[2] < 0.05 && fine[3] < 1.0,
        "{fine:?}"
    );
    assert!(
        coarse[0] < 6.0 && coarse[1] < 6.0 && coarse[2] < 0.05 && coarse[3] < 6.0,
        "{coarse:?}"
    );
    assert!(fine[4] < 1e-6 && coarse[4] < 1e-6);
}

/// Distinct asset locations of the Nepal demo exposure.
fn nepal_locations() -> Option<Vec<(f64, f64)>> {
    let path = renxing_geo::shared_data::file("exposure/nepal/exposure_model.csv")?;
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let h = rdr.headers().unwrap().clone();
    let (ilon, ilat) = (
        h.iter().position(|x| x == "lon").unwrap(),
        h.iter().position(|x| x == "lat").unwrap(),
    );
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if seen.insert((r[ilon].to_string(), r[ilat].to_string())) {
            out.push((r[ilon].parse().unwrap(), r[ilat].parse().unwrap()));
        }
    }
    Some(out)
}

fn job_site((lon, lat): (f64, f64)) -> SiteContext {
    // The Nepal job.ini reference site: vs30 760 measured, z1.0 100 m, z2.5 5 km.
    SiteContext {
        lon,
        lat,
        vs30: 760.0,
        vs30_measured: true,
        z1pt0: Some(100.0),
        z2pt5: Some(5.0),
    }
}

#[test]
fn nepal_demo_fields_end_to_end() {
    let (Some(rup_path), Some(locs)) = (
        renxing_geo::shared_data::file("exposure/nepal/fault_rupture.xml"),
        nepal_locations(),
    ) else {
        return;
    };
    assert_eq!(locs.len(), 2253, "distinct asset locations of the demo");
    let rup = read_rupture_xml(&rup_path).unwrap();
    let sites: Vec<SiteContext> = locs.iter().copied().map(job_site).collect();
    let imts = [Imt::Pga, Imt::Pgv, Imt::Sa(0.2), Imt::Sa(1.0)];
    let gmpe = gmpe_by_name("ChiouYoungs2014").unwrap();
    let settings = FieldSettings {
        n_events: 100,
        seed: 42,
        truncation_level: Some(3.0),
        correlation: Correlation::JayaramBaker2009 { vs30_clustering: false },
        max_distance_km: Some(200.0),
    };
    let t = std::time::Instant::now();
    let f = sample_fields(&rup, &sites, gmpe.as_ref(), &imts, &settings).unwrap();
    let shaken = (0..sites.len()).filter(|&s| f.median.output(s, 0).is_some()).count();
    println!(
        "Nepal: {} sites ({shaken} within 200 km), 100 correlated fields in {:.1?}",
        sites.len(),
        t.elapsed()
    );
    assert!(f.between_eps.iter().all(|e| e.abs() <= 3.0));
    assert!(f.values.iter().all(|v| v.is_finite() && *v >= 0.0));
    let same = sample_fields(&rup, &sites, gmpe.as_ref(), &imts, &settings).unwrap();
    assert_eq!(f.values, same.values, "same seed, same fields");

    // Median intensity (GB/T 17742-2020) over the demo sites.
    let c = IntensityCoefficients::default();
    let mut hist = [0usize; 13];
    let mut top = (0.0, 0usize);
    for s in 0..sites.len() {
        if f.median.output(s, 0).is_none() {
            continue;
        }
        let i = instrumental_intensity(f.median.median(s, 0), f.median.median(s, 1), &c);
        hist[i.degree as usize] += 1;
        if i.value > top.0 {
            top = (i.value, s);
        }
    }
    let (lon, lat) = locs[top.1];
    let at_top = instrumental_intensity(f.median.median(top.1, 0), f.median.median(top.1, 1), &c);
    println!(
        "max median intensity {:.2} ({}) at ({lon}, {lat}): PGA {:.3} g, PGV {:.1} cm/s; sites per degree {:?}",
        top.0,
        roman(at_top.degree),
        f.median.median(top.1, 0),
        f.median.median(top.1, 1),
        &hist[1..]
    );
    // The strongest median shaking of an M7 thrust under the sites is intensity VIII–IX.
    assert!((7.5..9.5).contains(&top.0), "{}", top.0);
    // The strongest shaking is next to the surface projection of the top edge (Rjb ≈ 1 km, Rrup ≈
    // Ztor = 20 km), not at the epicentre, which lies 70 km away on the footwall side.
    let d = rup.distances(lon, lat);
    assert!(d.rjb < 5.0 && (d.rrup - 20.0).abs() < 1.0, "{d:?}");
    // Sites per degree V–VIII within 200 km (CY14 medians, vs30 760): [345, 488, 412, 144].
    assert_eq!(
        hist[..5].iter().sum::<usize>() + hist[9..].iter().sum::<usize>(),
        0,
        "{hist:?}"
    );
    assert!(
        (300..400).contains(&hist[5]) && (100..200).contains(&hist[8]),
        "{hist:?}"
    );
    assert_eq!(hist.iter().sum::<usize>(), shaken);
}

#[test]
fn sampled_fields_have_the_gmpe_mean_sigma_and_jb2009_correlation() {
    let (Some(rup_path), Some(locs)) = (
        renxing_geo::shared_data::file("exposure/nepal/fault_rupture.xml"),
        nepal_locations(),
    ) else {
        return;
    };
    let rup = read_rupture_xml(&rup_path).unwrap();
    // Pairs of real asset locations near the epicentre at separations of 5–30 km.
    let near: Vec<(f64, f64)> = locs
        .iter()
        .copied()
        .filter(|&(lo, la)| (lo - 84.4).abs() < 0.6 && (la - 27.6).abs() < 0.4)
        .take(40)
        .collect();
    assert!(near.len() >= 20, "{}", near.len());
    let sites: Vec<SiteContext> = near.iter().copied().map(job_site).collect();
    let imts = [Imt::Pga, Imt::Sa(1.0)];
    let n = 6000;
    let run = |corr| {
        sample_fields(
            &rup,
            &sites,
            &ChiouYoungs2014,
            &imts,
            &FieldSettings {
                n_events: n,
                seed: 7,
                truncation_level: None,
                correlation: corr,
                max_distance_km: None,
            },
        )
        .unwrap()
    };
    let f = run(Correlation::JayaramBaker2009 { vs30_clustering: false });
    // Mean and standard deviation of ln Y per site → ln median and the GMPE's sigma.
    let (mut worst_mean, mut worst_sd) = (0.0f64, 0.0f64);
    for s in 0..sites.len() {
        for m in 0..imts.len() {
            let o = f.median.output(s, m).unwrap();
            let x: Vec<f64> = (0..n).map(|e| f.value(e, s, m).ln()).collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            worst_mean = worst_mean.max((mean - o.ln_mean).abs() / o.sigma);
            worst_sd = worst_sd.max((sd / o.sigma - 1.0).abs());
        }
    }
    println!("{n} fields: max |mean ln − ln median| = {worst_mean:.3} σ, max |sd/σ − 1| = {worst_sd:.3}");
    // Standard error of the mean is σ/√n ≈ 0.013 σ; 0.06 σ is > 4 standard errors.
    assert!(worst_mean < 0.06 && worst_sd < 0.06);

    // Within-event residuals at pairs of sites against Jayaram & Baker (2009).
    let within = |f: &renxing_risk::gmpe::field::GroundMotionFields, s: usize, m: usize| -> Vec<f64> {
        let o = f.median.output(s, m).unwrap();
        (0..n)
            .map(|e| (f.value(e, s, m).ln() - o.ln_mean - o.tau * f.between_eps[e * imts.len() + m]) / o.phi)
            .collect()
    };
    let corr = |a: &[f64], b: &[f64]| {
        let (ma, mb) = (a.iter().sum::<f64>() / n as f64, b.iter().sum::<f64>() / n as f64);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let g = run(Correlation::None);
    let mut checked = 0;
    for i in 0..sites.len() {
        for j in i + 1..sites.len() {
            let h = renxing_risk::gmpe::rupture::site_distance(near[i].0, near[i].1, near[j].0, near[j].1);
            if !(5.0..30.0).contains(&h) || checked >= 12 {
                continue;
            }
            checked += 1;
            let expect = jb2009_correlation(h, Imt::Sa(1.0), false);
            let got = corr(&within(&f, i, 1), &within(&f, j, 1));
            let none = corr(&within(&g, i, 1), &within(&g, j, 1));
            println!("h = {h:5.1} km: JB2009 ρ = {expect:.3}, sampled {got:.3}, uncorrelated model {none:.3}");
            assert!((got - expect).abs() < 0.06, "h {h}: {got} vs {expect}");
            assert!(none.abs() < 0.06);
        }
    }
    assert!(checked >= 5, "{checked} pairs checked");
}
