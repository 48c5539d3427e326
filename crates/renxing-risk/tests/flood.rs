//! Flood damage on real data: the GAR2015 Venezuela flood depth raster (`SC22000_VE__M1.grd.gz`,
//! Surfer 6 binary, 962 × 1073 cells of 0.009°), the JRC global depth–damage curves and maximum
//! damage values (Huizinga et al. 2017), and the Venezuelan cities of `worldcities.csv` as
//! population points.
//!
//! Reference numbers were computed once, independently of this crate, with a short numpy script
//! (kept beside the helper's notes, not in the repository): it decodes the gzip'd Surfer grid itself
//! (`struct` + `numpy.frombuffer`, rows flipped to north-up, −9999 outside the header's z range
//! taken as nodata), interpolates the curve with `numpy.interp`, and selects city cells / cells
//! within a radius on the same equirectangular metric. Those numbers are written below with the
//! expression that produced them. EAD references: Delft-FIAT's own test of its return-period
//! coefficients, a hand-computed trapezoid, and `scipy.integrate.quad` of the log-linear integrand.

use std::path::{Path, PathBuf};

use renxing_geo::grid::Grid;
use renxing_io::raster::read_grid;
use renxing_risk::flood::closures;
use renxing_risk::flood::curves::{self, BaseDamageValues, CurveError, JrcCurves, Occupancy};
use renxing_risk::flood::damage::{self, Building, DamageModel, PopulationPoint};
use renxing_risk::flood::ead::{self, EadError, EadMethod};
use renxing_risk::flood::{self as fl};

fn data(rel: &str) -> Option<PathBuf> {
    renxing_io::shared_data::file(rel)
}

fn venezuela() -> Option<Grid> {
    let p = data("hazard/SC22000_VE__M1.grd.gz")?;
    Some(read_grid(&p, None).expect("GAR Venezuela depth raster reads"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("renxing-flood-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The profile value of the driving closure depth, read from the shipped standard profile.
fn drive_threshold() -> f64 {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../standards/cn.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    let (group, key) = closures::PROFILE_KEY_DRIVE_DEPTH.split_once('.').unwrap();
    t[group][key]["value"]
        .as_float()
        .expect("flood.road_closure_depth_drive_m is in standards/cn.toml")
}

#[test]
fn jrc_curves_and_base_values_read() {
    let (Some(cp), Some(bp)) = (
        data("curves/JRC_damage_functions.csv"),
        data("curves/JRC_base_damage_values.csv"),
    ) else {
        return;
    };
    let c = JrcCurves::read(&cp).unwrap();
    // 8 continents × residential/commercial/industrial/building averaged + roads for 3 = 35.
    assert_eq!(c.len(), 35);
    assert_eq!(
        c.regions(),
        [
            "europe",
            "north america",
            "central america",
            "south america",
            "asia",
            "africa",
            "oceania",
            "global"
        ]
    );
    let sa = c.get("South_America", "Residential").unwrap();
    assert_eq!(sa.depths().len(), 1001);
    // numpy.interp(x, depths, south-america residential row):
    for (x, f) in [
        (0.15, 0.147),
        (0.5, 0.49),
        (1.234, 0.77084),
        (4.66, 1.0),
        (12.0, 1.0),
        (0.0, 0.0),
        (-0.3, 0.0),
    ] {
        assert!(
            (sa.fraction(x) - f).abs() < 1e-12,
            "fraction({x}) = {} ≠ {f}",
            sa.fraction(x)
        );
    }
    assert_eq!(
        c.kinds("asia"),
        ["residential", "commercial", "industrial", "building averaged", "roads"]
    );

    let e = c.get("atlantis", "residential").unwrap_err();
    assert!(matches!(e, CurveError::UnknownRegion { .. }));
    assert!(e.to_string().contains("'south america'"), "{e}");
    let e = c.get("south america", "roads").unwrap_err();
    assert!(matches!(e, CurveError::UnknownType { .. }), "{e}");
    assert!(e.to_string().contains("'building averaged'"), "{e}");

    let b = BaseDamageValues::read(&bp).unwrap();
    // 248 data rows: 214 countries with an ISO code, 34 aggregates without (World, regions, income
    // groups, "Not classified").
    assert_eq!(b.len(), 214);
    assert_eq!(b.aggregates().len(), 34);
    assert_eq!(b.aggregate("world").unwrap().residential, Some(819.1951012));
    assert_eq!(b.aggregate("Not classified").unwrap().residential, None);
    assert_eq!(b.value("VEN", Occupancy::Residential).unwrap(), 940.4940871);
    assert_eq!(b.value("ven", Occupancy::Commercial).unwrap(), 1008.652162);
    assert_eq!(b.value("VEN", Occupancy::Industrial).unwrap(), 678.3457096);
    assert_eq!(b.value("CHN", Occupancy::Residential).unwrap(), 611.4222514);
    assert_eq!(b.country("VEN").unwrap().country, "Venezuela, RB");
    let e = b.value("ASM", Occupancy::Residential).unwrap_err();
    assert!(
        matches!(e, CurveError::NoValue { .. }) && e.to_string().contains("American Samoa"),
        "{e}"
    );
    assert!(matches!(
        b.value("XXX", Occupancy::Residential),
        Err(CurveError::UnknownCountry { .. })
    ));

    let m = DamageModel::jrc(&c, "south america", &b, "VEN").unwrap();
    assert_eq!(m.occupancies(), ["residential", "commercial", "industrial"]);
    assert_eq!(m.get("Residential").unwrap().max_damage_per_m2, 940.4940871);
    assert!(DamageModel::jrc(&c, "south america", &b, "ASM").is_err());
}

#[test]
fn bad_curve_files_are_refused_with_file_and_line() {
    let dir = temp_dir("badcurves");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Depth columns that go back.
    let p = write(
        "nonmono.csv",
        "continent,type,0.00m,0.50m,0.40m\nasia,residential,0,0.2,0.3\n",
    );
    let e = JrcCurves::read(&p).unwrap_err();
    assert_eq!(e.position.as_deref(), Some("line 1"), "{e}");
    assert!(e.message.contains("increase"), "{e}");
    assert!(e.to_string().contains("nonmono.csv"), "{e}");
    // A fraction above 1 on line 3.
    let p = write(
        "over.csv",
        "\u{feff}continent,type,0.00m,1.00m\nasia,residential,0,0.5\nasia,commercial,0,1.5\n",
    );
    let e = JrcCurves::read(&p).unwrap_err();
    assert_eq!(e.position.as_deref(), Some("line 3"), "{e}");
    assert!(
        e.message.contains("[0, 1]") && e.message.contains("asia / commercial"),
        "{e}"
    );
    // Decreasing damage.
    let p = write("dec.csv", "continent,type,0m,1m,2m\nafrica,industrial,0,0.6,0.5\n");
    let e = JrcCurves::read(&p).unwrap_err();
    assert!(
        e.message.contains("decrease") && e.position.as_deref() == Some("line 2"),
        "{e}"
    );
    // Not a number, a short row, a duplicate curve, a wrong header.
    let p = write("nan.csv", "continent,type,0m,1m\nasia,residential,0,x\n");
    assert!(JrcCurves::read(&p).unwrap_err().message.contains("not a number"));
    let p = write("short.csv", "continent,type,0m,1m\nasia,residential,0\n");
    assert!(JrcCurves::read(&p).unwrap_err().message.contains("fields"));
    let p = write(
        "dup.csv",
        "continent,type,0m,1m\nasia,residential,0,1\nAsia,Residential,0,1\n",
    );
    let e = JrcCurves::read(&p).unwrap_err();
    assert!(
        e.message.contains("duplicate") && e.position.as_deref() == Some("line 3"),
        "{e}"
    );
    let p = write("hdr.csv", "region,kind,0m\nasia,residential,0\n");
    assert!(JrcCurves::read(&p).unwrap_err().message.contains("continent,type"));
    // Generic user curve: good, then with a non-monotonic depth on line 4 and a fraction > 1.
    let p = write("user.csv", "depth_m,fraction\n# my curve\n0,0\n0.5,0.3\n2,0.9\n");
    let c = curves::read_curve_csv(&p).unwrap();
    assert!((c.fraction(1.25) - 0.6).abs() < 1e-12);
    let p = write("user_bad.csv", "depth,fraction\n0,0\n1,0.3\n0.8,0.4\n");
    let e = curves::read_curve_csv(&p).unwrap_err();
    assert_eq!(e.position.as_deref(), Some("line 4"), "{e}");
    let p = write("user_over.csv", "depth,fraction\n0,0\n1,1.01\n");
    let e = curves::read_curve_csv(&p).unwrap_err();
    assert_eq!(e.position.as_deref(), Some("line 3"), "{e}");
    let p = write("user_hdr.csv", "0,0\n1,1\n");
    assert!(curves::read_curve_csv(&p).unwrap_err().message.contains("header"));
    // Base values: negative cost, duplicate country.
    let p = write(
        "base.csv",
        "Country,ISO A3 code,Construction Cost Residential (2010 €),Construction Cost Commercial (2010 €),Construction Cost Industrial (2010 €)\nA,AAA,1,2,3\nB,BBB,-1,2,3\n",
    );
    let e = BaseDamageValues::read(&p).unwrap_err();
    assert_eq!(e.position.as_deref(), Some("line 3"), "{e}");
    let p = write(
        "base_dup.csv",
        "Country,ISO,Residential,Commercial,Industrial\nA,AAA,1,2,3\nA2,aaa,1,2,3\n",
    );
    let e = BaseDamageValues::read(&p).unwrap_err();
    assert!(e.message.contains("line 2"), "{e}");
    assert!(curves::read_curve_csv(&dir.join("missing.csv")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn venezuela_raster_depth_classes_and_damage_fractions() {
    let (Some(g), Some(cp), Some(bp)) = (
        venezuela(),
        data("curves/JRC_damage_functions.csv"),
        data("curves/JRC_base_damage_values.csv"),
    ) else {
        return;
    };
    assert_eq!((g.ncols, g.nrows), (962, 1073));
    // numpy: xlo − dx/2, yhi + dy/2 from the Surfer header.
    assert!((g.x0 - -69.33714959699981).abs() < 1e-9 && (g.y0 - 10.42822096697894).abs() < 1e-9);
    assert!((g.dx - 0.009).abs() < 1e-12);
    // numpy: (z > 0).sum() = 18408 wet cells, z.max() = 4.662774085998535.
    let wet: Vec<f64> = (0..g.nrows * g.ncols)
        .map(|i| fl::cell_depth(&g, i / g.ncols, i % g.ncols))
        .filter(|&d| d > 0.0)
        .collect();
    assert_eq!(wet.len(), 18408);
    assert_eq!(wet.iter().cloned().fold(0.0, f64::max), 4.662774085998535);
    assert_eq!(wet.iter().filter(|&&d| d > 0.15).count(), 12275);
    assert_eq!(wet.iter().filter(|&&d| d > 0.5).count(), 4437);

    let c = JrcCurves::read(&cp).unwrap();
    let sa = c.get("south america", "residential").unwrap();
    // numpy per class (lower < d ≤ upper): cells, mean of numpy.interp fractions, max depth.
    let expect = [
        (13971, 0.1963103780652132, 0.4999278783798218),
        (2084, 0.5686897274445664, 0.9995155334472656),
        (886, 0.8221254618845998, 1.9995943307876587),
        (722, 0.9643980635764526, 2.9996085166931152),
        (745, 0.9926182638846787, 4.662774085998535),
    ];
    let stats = damage::depth_class_stats(&g, sa, &[0.0, 0.5, 1.0, 2.0, 3.0]).unwrap();
    for (s, (n, mf, mx)) in stats.iter().zip(expect) {
        assert_eq!(s.cells, n, "{s:?}");
        assert!(close(s.mean_fraction, mf, 1e-12), "{s:?} vs {mf}");
        assert_eq!(s.max_depth_m, mx);
    }
    assert!(damage::depth_class_stats(&g, sa, &[0.5, 0.5]).is_err());

    // Damage per m² of residential floor in every cell (fraction × the VEN construction cost): the
    // JRC quantity itself, with an exposure of one m² per cell, not an exposure estimate.
    let ven = BaseDamageValues::read(&bp)
        .unwrap()
        .value("VEN", Occupancy::Residential)
        .unwrap();
    let mut unit = g.clone();
    unit.values.iter_mut().for_each(|v| *v = 1.0);
    unit.nodata = None;
    let cd = damage::cell_damage(&g, &unit, sa, ven).unwrap();
    // numpy: interp(d).sum() = 6092.000851669612; × 940.4940871 = 5729490.779603434.
    assert!(close(cd.total, 5729490.779603434, 1e-11), "{}", cd.total);
    assert_eq!((cd.wet_cells, cd.damaged_cells), (18408, 18408));
    let fr = damage::fraction_grid(&g, sa);
    assert!(close(fr.iter().sum::<f64>(), 6092.000851669612, 1e-11));
    // A grid of another shape is refused.
    let mut other = unit.clone();
    other.x0 += 0.009;
    assert!(matches!(
        damage::cell_damage(&g, &other, sa, ven),
        Err(damage::DamageError::GridMismatch { .. })
    ));
}

fn venezuelan_cities() -> Option<Vec<PopulationPoint>> {
    let p = data("hazard/worldcities.csv")?;
    let mut rdr = csv::Reader::from_path(&p).unwrap();
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if &r[3] == "VEN" {
            out.push(PopulationPoint {
                id: r[0].to_string(),
                x: r[1].parse().unwrap(),
                y: r[2].parse().unwrap(),
                population: r[4].parse().unwrap(),
            });
        }
    }
    Some(out)
}

#[test]
fn people_in_deep_water_from_city_points() {
    let (Some(g), Some(cities)) = (venezuela(), venezuelan_cities()) else {
        return;
    };
    assert_eq!(cities.len(), 66);
    assert_eq!(cities.iter().map(|c| c.population).sum::<f64>(), 20754145.0);
    // At the city points themselves: no Venezuelan city of the table stands in a wet cell of this
    // river-flood map (numpy: 0 of 66; 34 fall on data cells, all dry).
    let at = damage::exposed_population_points(&g, &cities, &[0.0, 0.15, 0.5], 0.0).unwrap();
    assert!(at.by_threshold.iter().all(|e| e.people == 0.0 && e.count == 0));
    // Within 10 km of the city point (cells whose centre is within 10 km on the local
    // equirectangular metric), numpy: 7 cities / 1,621,743 people in any water, 6 / 1,053,790
    // deeper than 0.15 m, 1 (San Fernando, 0.7239 m) / 194,274 deeper than 0.5 m.
    let near = damage::exposed_population_points(&g, &cities, &[0.0, 0.15, 0.5], 10_000.0).unwrap();
    let got: Vec<(u64, f64)> = near.by_threshold.iter().map(|e| (e.count, e.people)).collect();
    assert_eq!(got, [(7, 1621743.0), (6, 1053790.0), (1, 194274.0)]);
    let sf = cities.iter().position(|c| c.id == "San Fernando").unwrap();
    assert!((near.depth_m[sf] - 0.7239).abs() < 5e-5, "{}", near.depth_m[sf]);
    // 20 km: 11 cities / 2,851,981 above 0 and 0.15 m; 6 / 2,007,995 above 0.5 m.
    let far = damage::exposed_population_points(&g, &cities, &[0.0, 0.15, 0.5], 20_000.0).unwrap();
    let got: Vec<(u64, f64)> = far.by_threshold.iter().map(|e| (e.count, e.people)).collect();
    assert_eq!(got, [(11, 2851981.0), (11, 2851981.0), (6, 2007995.0)]);
    assert!(damage::exposed_population_points(&g, &cities, &[-1.0], 0.0).is_err());
    assert!(damage::exposed_population_points(&g, &cities, &[0.1], f64::NAN).is_err());
}

#[test]
fn buildings_and_cells_on_a_small_grid() {
    // 2 × 3 grid of 10 m cells in a projected CRS, one nodata cell.
    let g = Grid {
        ncols: 3,
        nrows: 2,
        x0: 0.0,
        y0: 20.0,
        dx: 10.0,
        dy: 10.0,
        values: vec![0.0, 0.5, 1.25, -9999.0, 2.5, 0.125],
        nodata: Some(-9999.0),
        crs: renxing_geo::crs::Crs::Epsg(32650),
    };
    let curve = curves::DamageCurve::new(vec![0.0, 1.0, 2.0], vec![0.0, 0.5, 1.0]).unwrap();
    let mut m = DamageModel::new();
    m.insert("residential", curve.clone(), 1000.0);
    let b = |id: &str, x: f64, y: f64, gfh: f64| Building {
        id: id.into(),
        x,
        y,
        floor_area_m2: 100.0,
        occupancy: "Residential".into(),
        ground_floor_height_m: gfh,
        max_damage: None,
    };
    let bs = [
        b("a", 15.0, 15.0, 0.0),  // 0.5 m → 0.25 × 100 000
        b("b", 25.0, 15.0, 0.25), // 1.25 − 0.25 = 1.0 m → 0.5
        b("c", 5.0, 5.0, 0.0),    // nodata → dry
        b("d", 15.0, 5.0, 3.0),   // 2.5 m below a 3 m floor → 0
        b("e", 500.0, 5.0, 0.0),  // outside → dry
        b("f", 20.0, 10.0, 0.0),  // on the corner of four cells → the south-east one (0.125 m)
    ];
    let r = damage::building_damage(&g, &bs, &m).unwrap();
    let dmg: Vec<f64> = r.rows.iter().map(|x| x.damage).collect();
    assert_eq!(dmg, [25000.0, 50000.0, 0.0, 0.0, 0.0, 6250.0]);
    assert_eq!(r.flooded, 3);
    assert_eq!(r.total, 81250.0);
    assert_eq!(r.rows[3].depth_m, 2.5);
    assert_eq!(r.rows[3].inundation_m, 0.0);
    let mut bad = bs.to_vec();
    bad[0].occupancy = "hospital".into();
    let e = damage::building_damage(&g, &bad, &m).unwrap_err();
    assert!(
        e.to_string().contains("hospital") && e.to_string().contains("residential"),
        "{e}"
    );
    bad[0].occupancy = "residential".into();
    bad[0].floor_area_m2 = -1.0;
    assert!(damage::building_damage(&g, &bad, &m).is_err());

    let mut pop = g.clone();
    pop.values = vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
    let e = damage::exposed_population_grid(&g, &pop, &[0.15, 0.5]).unwrap();
    assert_eq!((e[0].people, e[0].count), (100.0, 3));
    assert_eq!((e[1].people, e[1].count), (80.0, 2));
}

#[test]
fn ead_matches_delft_fiat_and_hand_computation() {
    let rp = [1.0, 2.0, 5.0, 25.0, 50.0, 100.0];
    let d = [5.0, 10.0, 50.0, 300.0, 1200.0, 3000.0];
    // Delft-FIAT test/methods/test_ead.py: coefficients for these return periods, to 2 decimals.
    let a = ead::ead_coefficients(&rp, EadMethod::LogLinear).unwrap();
    for (x, y) in a.iter().zip([0.28, 0.39, 0.23, 0.07, 0.01, 0.01]) {
        assert!((x - y).abs() < 0.005, "{a:?}");
    }
    // scipy.integrate.quad of the log-linear integrand with unit damages at each return period.
    let quad = [
        0.27865247955551825,
        0.3939405200632943,
        0.2279934108516496,
        0.07055968871175863,
        0.014426950408889637,
        0.01442695040888964,
    ];
    for (x, y) in a.iter().zip(quad) {
        assert!(close(*x, y, 1e-9), "{x} vs {y}");
    }
    // Σ coefficients = f₁ = 1 (damage 1 everywhere below f₁ integrates to f₁).
    assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // quad of the whole integrand: 98.4934364718571.
    let e = ead::expected_annual_damage(&rp, &d, EadMethod::LogLinear).unwrap();
    assert!(close(e, 98.4934364718571, 1e-9), "{e}");
    // Trapezoid by hand: .5·15/2 + .3·60/2 + .16·350/2 + .02·1500/2 + .01·4200/2 + .01·3000 = 106.75.
    let t = ead::expected_annual_damage(&rp, &d, EadMethod::Trapezoidal).unwrap();
    assert!((t - 106.75).abs() < 1e-9, "{t}");
    // Order does not matter; a single return period gives D/T (Delft-FIAT: 5 at 1/10 → 0.5).
    let e2 = ead::expected_annual_damage(
        &[50.0, 2.0, 100.0, 25.0, 1.0, 5.0],
        &[1200.0, 10.0, 3000.0, 300.0, 5.0, 50.0],
        EadMethod::LogLinear,
    )
    .unwrap();
    assert!(close(e2, e, 1e-12));
    assert!((ead::expected_annual_damage(&[10.0], &[5.0], EadMethod::LogLinear).unwrap() - 0.5).abs() < 1e-15);
    // Per item.
    let layers: [&[f64]; 2] = [&[1.0, 0.0], &[3.0, 2.0]];
    let per = ead::expected_annual_damage_per_item(&[10.0, 100.0], &layers, EadMethod::Trapezoidal).unwrap();
    // item 0: (0.1 − 0.01)(1 + 3)/2 + 0.01·3 = 0.21; item 1: 0.09·2/2 + 0.02 = 0.11.
    assert!(
        (per[0] - 0.21).abs() < 1e-12 && (per[1] - 0.11).abs() < 1e-12,
        "{per:?}"
    );
    // Bad inputs.
    assert_eq!(
        ead::expected_annual_damage(&[10.0, 10.0], &[1.0, 2.0], EadMethod::LogLinear),
        Err(EadError::DuplicateReturnPeriod(10.0))
    );
    assert!(matches!(
        ead::ead_coefficients(&[0.0], EadMethod::LogLinear),
        Err(EadError::BadReturnPeriod(_))
    ));
    assert!(matches!(
        ead::ead_coefficients(&[], EadMethod::LogLinear),
        Err(EadError::Empty)
    ));
    assert!(matches!(
        ead::expected_annual_damage(&[2.0, 10.0], &[1.0], EadMethod::LogLinear),
        Err(EadError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ead::expected_annual_damage(&[2.0, 10.0], &[1.0, f64::NAN], EadMethod::LogLinear),
        Err(EadError::BadDamage { .. })
    ));
}

#[test]
fn road_closures_on_the_venezuela_raster() {
    let Some(g) = venezuela() else {
        return;
    };
    let threshold = drive_threshold();
    assert_eq!(threshold, 0.15);
    // Lines in lon/lat near Ciudad Bolívar (Orinoco). Reference: numpy max over the cells hit by
    // 2,000,001 evenly spaced samples of each segment (cell coordinates in comments).
    let edges: Vec<(String, Vec<(f64, f64)>)> = vec![
        // cells (u, v) (600.3, 250.7) → (700.9, 262.2): 113 cells, max 3.2321014404296875
        (
            "diag".into(),
            vec![
                (-63.934449596999606, 8.171920966978854),
                (-63.02904959699957, 8.06842096697885),
            ],
        ),
        // along row 256 from column 600.5 to 700.5: max 3.3283753395080566
        (
            "row256".into(),
            vec![
                (-63.9326495969996, 8.119720966978852),
                (-63.03264959699957, 8.119720966978852),
            ],
        ),
        // three-point polyline: max 0.08865200728178024 (wet, but open to driving)
        (
            "bend".into(),
            vec![
                (-63.57534959699959, 8.267320966978858),
                (-63.525849596999585, 7.994620966978847),
                (-63.39624959699958, 7.981120966978846),
            ],
        ),
        // nearly north–south: max 2.385303020477295
        (
            "steep".into(),
            vec![
                (-63.547899596999585, 8.62147096697887),
                (-63.54024959699959, 7.722820966978837),
            ],
        ),
        // entirely outside the grid (west of it): dry
        ("outside".into(), vec![(-75.0, 5.0), (-74.0, 5.5)]),
        // crossing into the grid from outside, ending in a dry cell of Caracas' region
        ("enter".into(), vec![(-70.0, 10.5), (-66.9333, 10.3)]),
    ];
    let r = closures::road_closures(&g, &edges, threshold).unwrap();
    let expect = [
        ("diag", 3.2321014404296875, true),
        ("row256", 3.3283753395080566, true),
        ("bend", 0.08865200728178024, false),
        ("steep", 2.385303020477295, true),
        ("outside", 0.0, false),
    ];
    for (c, (id, d, closed)) in r.iter().zip(expect) {
        assert_eq!((c.id.as_str(), c.max_depth_m, c.closed), (id, d, closed));
    }
    assert!(!r[5].closed);
    // The walking profile takes its threshold as a parameter.
    let walk = closures::road_closures(&g, &edges, 0.05).unwrap();
    assert!(walk[2].closed);

    let dir = temp_dir("closures");
    let path = dir.join("closures_drive.csv");
    closures::write_closures_csv(&path, &r).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "edge_id,max_depth_m,closed");
    assert_eq!(lines[1], "diag,3.2321014,true");
    assert_eq!(lines[3], "bend,0.08865201,false");
    assert_eq!(lines[5], "outside,0,false");
    assert_eq!(lines.len(), 7);
    // Values read back to the raster's f32.
    let back: f32 = lines[2].split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(back as f64, 3.3283753395080566);
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // Writing into a missing folder fails with the path, and leaves nothing.
    let e = closures::write_closures_csv(&dir.join("nope/x.csv"), &r).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);

    // Duplicate or empty ids, bad threshold.
    let dup = vec![("a".to_string(), vec![(0.0, 0.0)]), ("a".to_string(), vec![(0.0, 0.0)])];
    assert!(matches!(
        closures::road_closures(&g, &dup, 0.15),
        Err(closures::ClosureError::DuplicateId(_))
    ));
    assert!(closures::road_closures(&g, &[(String::new(), vec![])], 0.15).is_err());
    assert!(closures::road_closures(&g, &[], f64::NAN).is_err());
}

#[test]
fn closures_sample_every_crossed_cell() {
    // 4 × 4 grid, 1 m cells; only cell (row 1, col 2) is wet.
    let mut values = vec![0.0f32; 16];
    values[4 + 2] = 0.3;
    let g = Grid {
        ncols: 4,
        nrows: 4,
        x0: 0.0,
        y0: 4.0,
        dx: 1.0,
        dy: 1.0,
        values,
        nodata: None,
        crs: renxing_geo::crs::Crs::Epsg(3857),
    };
    let along = |pts: &[(f64, f64)]| closures::max_depth_along(&g, pts);
    // The wet cell spans x 2–3, y 2–3. A segment clipping its corner by 0.01 m is caught.
    assert_eq!(along(&[(1.0, 2.0), (2.02, 2.98)]), 0.30000001192092896); // in it for x 2.00–2.02
    assert_eq!(along(&[(1.0, 2.0), (1.99, 2.99)]), 0.0); // stops 0.01 m short
    assert_eq!(along(&[(1.5, 1.5), (2.6, 2.01)]), 0.30000001192092896);
    assert_eq!(along(&[(0.5, 3.5), (3.5, 3.5)]), 0.0); // row 0
    assert_eq!(along(&[(2.5, 3.9), (2.5, 0.1)]), 0.30000001192092896);
    // Touching only the corner (2, 2) on a diagonal from (1, 1) to (2, 2): not inside the cell.
    assert_eq!(along(&[(1.0, 1.0), (2.0, 2.0)]), 0.0);
    // A single point, an empty line.
    assert_eq!(along(&[(2.5, 2.5)]), 0.30000001192092896);
    assert_eq!(along(&[]), 0.0);
}
