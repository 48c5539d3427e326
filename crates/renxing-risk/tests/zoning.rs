//! Risk zoning on real data: the GAR2015 Venezuela flood depth raster graded into five grades.
//!
//! Reference numbers, computed once outside this crate:
//! - natural breaks: `jenkspy 0.4.1` (`jenkspy.jenks_breaks(values, n_classes=5)`, its C Fisher–Jenks
//!   implementation) on the 18,408 wet-cell depths of the raster decoded with numpy (see
//!   `tests/flood.rs`), class counts with `numpy.searchsorted(bounds, v, side="left")` and the
//!   goodness of variance fit from numpy sums of squares;
//! - fixed bounds: numpy counts of the depth classes;
//! - per unit (the raster's four quadrants, rows split at 536 and columns at 481, as test units):
//!   numpy sums of the spherical cell areas `R²·Δλ·(sin φ_N − sin φ_S)`, R = 6,371,008.8 m.

use std::path::Path;

use renxing_geo::grid::Grid;
use renxing_io::raster::read_grid;
use renxing_risk::zoning::{self, Scheme, UnitBasis, ZoningConfig, ZoningInput};

fn venezuela() -> Option<Grid> {
    let p = renxing_io::shared_data::file("hazard/SC22000_VE__M1.grd.gz")?;
    Some(read_grid(&p, None).expect("GAR Venezuela depth raster reads"))
}

/// Hazard layer: depth where the raster has data, NaN where it has none.
fn hazard_layer(g: &Grid) -> Vec<f64> {
    g.values
        .iter()
        .map(|&v| if g.is_data(v) { v as f64 } else { f64::NAN })
        .collect()
}

/// The four fixed flood-depth bounds of the shipped standard profile, with their confidence.
fn profile_depth_bounds() -> ([f64; 4], Vec<String>) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../standards/cn.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    let mut b = [0.0; 4];
    let mut conf = Vec::new();
    for (i, k) in zoning::PROFILE_KEYS_FLOOD_DEPTH.iter().enumerate() {
        let (group, key) = k.split_once('.').unwrap();
        let e = &t[group][key];
        b[i] = e["value"].as_float().unwrap();
        conf.push(e["confidence"].as_str().unwrap().to_string());
    }
    (b, conf)
}

#[test]
fn natural_breaks_of_real_depths_match_jenkspy() {
    let Some(g) = venezuela() else {
        return;
    };
    let h = hazard_layer(&g);
    let wet: Vec<f64> = h.iter().copied().filter(|v| *v > 0.0).collect();
    assert_eq!(wet.len(), 18408);
    let nb = zoning::fisher_jenks(&wet, 5).unwrap();
    // jenkspy.jenks_breaks(wet, n_classes=5) = [0.05000299587845802, 0.376016765832901,
    // 1.0517008304595947, 2.079106092453003, 3.243216037750244, 4.662774085998535].
    assert_eq!(
        nb.breaks,
        [
            0.376016765832901,
            1.0517008304595947,
            2.079106092453003,
            3.243216037750244
        ]
    );
    assert!(nb.exact);
    assert_eq!(nb.distinct, 18248);
    assert_eq!(nb.counts, [12392, 3735, 875, 819, 587]);
    // 1 − 457.81058120543946 / 13062.921681895068.
    assert!((nb.gvf - 0.9649534313720984).abs() < 1e-9, "{}", nb.gvf);

    // Pre-binned into 2,000 groups: flagged, and every bound within one group (≈ 9 values) of the
    // exact one in rank.
    let pb = zoning::fisher_jenks_with_limit(&wet, 5, 2000).unwrap();
    assert!(!pb.exact && pb.groups == 2000);
    let mut sorted = wet.clone();
    sorted.sort_by(f64::total_cmp);
    let rank = |x: f64| sorted.partition_point(|&v| v <= x) as i64;
    for (a, b) in pb.breaks.iter().zip(&nb.breaks) {
        assert!((rank(*a) - rank(*b)).abs() <= 20, "{a} vs {b}");
    }
    assert!(pb.gvf <= nb.gvf + 1e-12 && pb.gvf > nb.gvf - 1e-4);

    // The per-cell grading with natural breaks over wet cells: grade = 5 − class.
    let z = zoning::zone_cells(
        &ZoningInput {
            hazard: &h,
            ..Default::default()
        },
        &ZoningConfig::default(),
    )
    .unwrap();
    let c = z.hazard.counts;
    assert_eq!(c[1..], [587, 819, 875, 3735, 12392]);
    assert_eq!(c[0] as usize, g.ncols * g.nrows - 18408);
    assert!(
        z.hazard
            .breaks
            .describe()
            .starts_with("Fisher–Jenks natural breaks (exact, 18248 distinct of 18408 values")
    );
}

#[test]
fn fixed_profile_bounds_and_units_on_real_depths() {
    let Some(g) = venezuela() else {
        return;
    };
    let (bounds, conf) = profile_depth_bounds();
    assert_eq!(bounds, [0.5, 1.0, 2.0, 3.0]);
    // The census thresholds are unverified: the profile must say so.
    assert!(conf.iter().all(|c| c == "U"), "{conf:?}");
    let h = hazard_layer(&g);
    let areas = zoning::cell_areas_m2(&g);
    // numpy: total 1027635999197.3125 m²; first row 984983.7109641704 m² per cell.
    assert!((areas.iter().sum::<f64>() / 1027635999197.3125 - 1.0).abs() < 1e-12);
    assert!((areas[0] / 984983.7109641704 - 1.0).abs() < 1e-12);
    let input = ZoningInput {
        hazard: &h,
        cell_area: Some(&areas),
        ..Default::default()
    };
    let cfg = ZoningConfig {
        hazard: Scheme::Fixed {
            bounds,
            source: "standards/cn.toml zoning.flood_depth_bound_*_m (U)".into(),
        },
        ..Default::default()
    };
    let z = zoning::zone_cells(&input, &cfg).unwrap();
    // numpy depth classes (lower < d ≤ upper): >3: 745, 2–3: 722, 1–2: 886, 0.5–1: 2084, ≤0.5: 13971.
    assert_eq!(z.hazard.counts[1..], [745, 722, 886, 2084, 13971]);
    assert_eq!(zoning::grade_name_zh(1), "高");
    assert_eq!(zoning::grade_name_en(4), "mid-low");

    // Units: the four quadrants of the raster.
    let (mr, mc) = (g.nrows / 2, g.ncols / 2);
    let zone_of_cell: Vec<u32> = (0..g.nrows * g.ncols)
        .map(|i| (((i / g.ncols) >= mr) as u32) * 2 + ((i % g.ncols) >= mc) as u32)
        .collect();
    let share_bounds = Scheme::Fixed {
        bounds: [0.0, 0.001, 0.002, 0.005],
        source: "test".into(),
    };
    let u = zoning::zone_units(
        &input,
        &z,
        &zone_of_cell,
        4,
        UnitBasis::HighHazardShare,
        &share_bounds,
        false,
    )
    .unwrap();
    // numpy per quadrant: cells, area, max depth, share of grades 1…5.
    let expect = [
        (
            257816,
            255607283674.3044,
            1.603015422821045,
            [
                0.0,
                0.0,
                0.00018586710102318796,
                0.0051283917240006775,
                0.046849937062053634,
            ],
        ),
        (
            257816,
            255607283674.3044,
            4.662774085998535,
            [
                0.00289056983141006,
                0.0028023717772788603,
                0.003253368748891039,
                0.0029493548216156244,
                0.0028994303036857356,
            ],
        ),
        (
            258297,
            258210715924.3517,
            0.235015407204628,
            [0.0, 0.0, 0.0, 0.0, 0.004127024010625939],
        ),
        (
            258297,
            258210715924.3517,
            0.19987164437770844,
            [0.0, 0.0, 0.0, 0.0, 0.0002397194719432049],
        ),
    ];
    for (r, (cells, area, maxh, shares)) in u.rows.iter().zip(expect) {
        assert_eq!(r.cells, cells);
        assert!((r.area / area - 1.0).abs() < 1e-12, "{} vs {area}", r.area);
        assert_eq!(r.max_hazard, maxh);
        for (s, e) in r.hazard_share[1..].iter().zip(shares) {
            assert!((s - e).abs() < 1e-12, "{:?} vs {shares:?}", r.hazard_share);
        }
        assert!((r.hazard_share.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // Only the north-east quadrant has high/mid-high water (share 0.00569294160868892).
    assert!((u.rows[1].basis_value - 0.00569294160868892).abs() < 1e-12);
    assert_eq!(u.rows.iter().map(|r| r.grade).collect::<Vec<_>>(), [5, 1, 5, 5]);
    assert!(u.breaks.describe().starts_with("fixed bounds (test)"));
}

#[test]
fn unit_aggregation_by_hand() {
    // Six cells in two units (and one outside): hazard, loss and exposure by hand.
    let hazard = [0.0, 0.2, 1.5, f64::NAN, 3.5, 0.7];
    let loss = [0.0, 10.0, 200.0, 0.0, 900.0, 50.0];
    let expo = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let zone = [0, 0, 0, 1, 1, u32::MAX];
    let input = ZoningInput {
        hazard: &hazard,
        loss: Some(&loss),
        exposure: Some(&expo),
        ..Default::default()
    };
    let cfg = ZoningConfig {
        hazard: Scheme::Fixed {
            bounds: [0.5, 1.0, 2.0, 3.0],
            source: "test".into(),
        },
        loss: Scheme::Fixed {
            bounds: [10.0, 100.0, 500.0, 800.0],
            source: "test".into(),
        },
        exposure: Scheme::Quantiles,
        ..Default::default()
    };
    let z = zoning::zone_cells(&input, &cfg).unwrap();
    assert_eq!(z.hazard.grades, [0, 5, 3, 0, 1, 4]);
    assert_eq!(z.loss.as_ref().unwrap().grades, [0, 5, 3, 0, 1, 4]);
    let fixed = Scheme::Fixed {
        bounds: [100.0, 300.0, 500.0, 800.0],
        source: "test".into(),
    };
    let u = zoning::zone_units(&input, &z, &zone, 3, UnitBasis::Loss, &fixed, true).unwrap();
    assert_eq!((u.rows[0].cells, u.rows[0].loss, u.rows[0].exposure), (3, 210.0, 6.0));
    assert_eq!((u.rows[1].cells, u.rows[1].loss, u.rows[1].exposure), (2, 900.0, 9.0));
    assert_eq!(u.rows[0].hazard_share, [1.0 / 3.0, 0.0, 0.0, 1.0 / 3.0, 0.0, 1.0 / 3.0]);
    assert_eq!(u.rows[1].hazard_share, [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!((u.rows[0].grade, u.rows[1].grade, u.rows[2].grade), (4, 1, 0));
    let per_area = zoning::zone_units(&input, &z, &zone, 3, UnitBasis::LossPerArea, &fixed, true).unwrap();
    assert_eq!(
        (per_area.rows[0].basis_value, per_area.rows[1].basis_value),
        (70.0, 450.0)
    );
    // Bad inputs.
    assert!(zoning::zone_units(&input, &z, &[0, 0], 3, UnitBasis::Loss, &fixed, true).is_err());
    assert!(zoning::zone_units(&input, &z, &[0, 0, 0, 7, 1, 1], 3, UnitBasis::Loss, &fixed, true).is_err());
    let bad = ZoningConfig {
        hazard: Scheme::Fixed {
            bounds: [1.0, 0.5, 2.0, 3.0],
            source: "test".into(),
        },
        ..Default::default()
    };
    assert!(matches!(
        zoning::zone_cells(&input, &bad),
        Err(zoning::ZoningError::BadBounds(_))
    ));
    let dry = [0.0; 6];
    let e = zoning::zone_cells(
        &ZoningInput {
            hazard: &dry,
            ..Default::default()
        },
        &ZoningConfig::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("hazard"), "{e}");
    let short = [1.0; 2];
    assert!(
        zoning::zone_cells(
            &ZoningInput {
                hazard: &hazard,
                loss: Some(&short),
                ..Default::default()
            },
            &cfg
        )
        .is_err()
    );
}
