//! Flood damage per building and per grid cell, and population in deep water.
//!
//! # Per building
//!
//! A building is a point (for a footprint: its centroid) in the depth grid's CRS, with a floor area,
//! an occupancy and an optional ground-floor height above the ground. Its damage is
//!
//! ```text
//! h        = depth of the grid cell containing the point (nodata / outside the grid → 0, dry)
//! h_floor  = h − ground_floor_height            (water above the ground floor)
//! fraction = curve(h_floor)                      (0 when h_floor ≤ 0)
//! damage   = fraction × max_damage
//! max_damage = floor_area × max_damage_per_m2(occupancy), or the building's own value
//! ```
//!
//! the object-based damage model of Delft-FIAT (exposure overlaid with the hazard map, ground-floor
//! height subtracted, damage fraction times maximum potential damage) and of Huizinga et al. (2017,
//! JRC105688: maximum damage per m² × floor area × damage fraction). The depth is taken at the point;
//! a footprint larger than a cell is represented by its centroid.
//!
//! # Per grid cell
//!
//! With an exposure raster aligned on the depth grid (same size, origin, cell size and CRS, as
//! Delft-FIAT's grid model requires), `damage = fraction(depth) × exposure × value_per_unit`, e.g.
//! exposure = built-up floor area per cell and value_per_unit = maximum damage per m², or exposure
//! = maximum damage per cell and value_per_unit = 1. Nodata exposure counts as 0.
//!
//! # Exposed population
//!
//! People count as exposed to a threshold when the depth at them is **strictly greater** than the
//! threshold (e.g. 0.15 m, 0.5 m): per cell of an aligned population raster, or per population
//! point. A point may represent a settlement rather than a house: with a search radius, its depth
//! is the greatest depth among the cell containing it and the cells whose centres lie within the
//! radius (metres; for grids in longitude/latitude the distance is measured on the local
//! equirectangular projection at the point, `renxing_geo::distance::LocalProjection`).

use renxing_geo::crs::Crs;
use renxing_geo::distance::LocalProjection;
use renxing_geo::grid::Grid;

use super::curves::{BaseDamageValues, CurveError, DamageCurve, JrcCurves, Occupancy};
use super::{cell_depth, depth_at, same_geometry};

/// A problem with the inputs of a damage computation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DamageError {
    #[error("the {what} grid is not aligned on the depth grid (size, origin, cell size and CRS must match)")]
    GridMismatch { what: &'static str },
    #[error("building '{id}': no damage curve for occupancy '{occupancy}' (the model has {available})")]
    UnknownOccupancy {
        id: String,
        occupancy: String,
        available: String,
    },
    #[error("building '{id}': {message}")]
    BadBuilding { id: String, message: String },
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Curve(#[from] CurveError),
}

/// Curve and maximum damage of one occupancy.
#[derive(Debug, Clone, PartialEq)]
pub struct OccupancyDamage {
    pub curve: DamageCurve,
    /// Maximum damage per m² of floor area (currency of the caller, e.g. 2010 € for JRC).
    pub max_damage_per_m2: f64,
}

/// The damage model of a building stock: one curve and maximum damage per occupancy name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DamageModel {
    by_occupancy: Vec<(String, OccupancyDamage)>,
}

impl DamageModel {
    /// An empty model; add occupancies with [`DamageModel::insert`].
    pub fn new() -> DamageModel {
        DamageModel::default()
    }

    /// Adds or replaces an occupancy (name matched case-insensitively, trimmed).
    pub fn insert(&mut self, occupancy: &str, curve: DamageCurve, max_damage_per_m2: f64) {
        let k = occupancy.trim().to_lowercase();
        let entry = OccupancyDamage {
            curve,
            max_damage_per_m2,
        };
        match self.by_occupancy.iter_mut().find(|(o, _)| *o == k) {
            Some(slot) => slot.1 = entry,
            None => self.by_occupancy.push((k, entry)),
        }
    }

    /// The JRC model of a country: the residential, commercial and industrial curves of `region`
    /// (continent) with the country's construction costs as maximum damage per m². Fails when the
    /// region lacks a curve or the country a cost.
    pub fn jrc(
        curves: &JrcCurves,
        region: &str,
        base: &BaseDamageValues,
        iso3: &str,
    ) -> Result<DamageModel, CurveError> {
        let mut m = DamageModel::new();
        for occ in Occupancy::ALL {
            let curve = curves.get(region, occ.as_str())?.clone();
            m.insert(occ.as_str(), curve, base.value(iso3, occ)?);
        }
        Ok(m)
    }

    /// The entry of an occupancy.
    pub fn get(&self, occupancy: &str) -> Option<&OccupancyDamage> {
        let k = occupancy.trim().to_lowercase();
        self.by_occupancy.iter().find(|(o, _)| *o == k).map(|(_, d)| d)
    }

    /// Occupancy names in insertion order.
    pub fn occupancies(&self) -> Vec<&str> {
        self.by_occupancy.iter().map(|(o, _)| o.as_str()).collect()
    }
}

/// A building (point or footprint centroid) in the depth grid's CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    pub id: String,
    pub x: f64,
    pub y: f64,
    /// Floor area exposed to the flood, m² (usually the footprint area).
    pub floor_area_m2: f64,
    /// Occupancy name looked up in the [`DamageModel`].
    pub occupancy: String,
    /// Height of the ground floor above the ground, m (0 when unknown).
    pub ground_floor_height_m: f64,
    /// Maximum damage of the whole building, replacing `floor_area × max_damage_per_m2`.
    pub max_damage: Option<f64>,
}

/// Damage of one building.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildingDamage {
    /// Water depth at the building, m (0 = dry).
    pub depth_m: f64,
    /// Water above the ground floor, m (≥ 0).
    pub inundation_m: f64,
    pub fraction: f64,
    pub damage: f64,
}

/// Damages of a building stock, in input order, with their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingDamages {
    pub rows: Vec<BuildingDamage>,
    pub total: f64,
    /// Buildings with water above the ground floor.
    pub flooded: usize,
}

/// Damage of every building (see the module doc).
pub fn building_damage(
    depth: &Grid,
    buildings: &[Building],
    model: &DamageModel,
) -> Result<BuildingDamages, DamageError> {
    let mut rows = Vec::with_capacity(buildings.len());
    let (mut total, mut flooded) = (0.0, 0);
    for b in buildings {
        let occ = model.get(&b.occupancy).ok_or_else(|| DamageError::UnknownOccupancy {
            id: b.id.clone(),
            occupancy: b.occupancy.clone(),
            available: model.occupancies().join(", "),
        })?;
        if !b.floor_area_m2.is_finite() || b.floor_area_m2 < 0.0 {
            return Err(DamageError::BadBuilding {
                id: b.id.clone(),
                message: format!("floor area {} m² must be a finite number ≥ 0", b.floor_area_m2),
            });
        }
        if !b.ground_floor_height_m.is_finite() {
            return Err(DamageError::BadBuilding {
                id: b.id.clone(),
                message: "ground-floor height must be finite".into(),
            });
        }
        let max_damage = match b.max_damage {
            Some(v) if v.is_finite() && v >= 0.0 => v,
            Some(v) => {
                return Err(DamageError::BadBuilding {
                    id: b.id.clone(),
                    message: format!("maximum damage {v} must be a finite number ≥ 0"),
                });
            }
            None => b.floor_area_m2 * occ.max_damage_per_m2,
        };
        let h = depth_at(depth, b.x, b.y);
        let inundation = (h - b.ground_floor_height_m).max(0.0);
        let fraction = occ.curve.fraction(inundation);
        let damage = fraction * max_damage;
        if inundation > 0.0 {
            flooded += 1;
        }
        total += damage;
        rows.push(BuildingDamage {
            depth_m: h,
            inundation_m: inundation,
            fraction,
            damage,
        });
    }
    Ok(BuildingDamages { rows, total, flooded })
}

/// Damage per cell of an exposure raster aligned on the depth grid.
#[derive(Debug, Clone, PartialEq)]
pub struct CellDamage {
    /// Row-major like [`Grid::values`]; 0 for dry cells and nodata exposure.
    pub damage: Vec<f64>,
    pub total: f64,
    /// Cells with water (depth > 0).
    pub wet_cells: u64,
    /// Cells with a damage > 0.
    pub damaged_cells: u64,
}

/// Damage of every cell: `fraction(depth) × exposure × value_per_unit` (see the module doc).
pub fn cell_damage(
    depth: &Grid,
    exposure: &Grid,
    curve: &DamageCurve,
    value_per_unit: f64,
) -> Result<CellDamage, DamageError> {
    if !same_geometry(depth, exposure) {
        return Err(DamageError::GridMismatch { what: "exposure" });
    }
    if !value_per_unit.is_finite() || value_per_unit < 0.0 {
        return Err(DamageError::BadInput(format!(
            "value per exposure unit {value_per_unit} must be a finite number ≥ 0"
        )));
    }
    let n = depth.nrows * depth.ncols;
    let mut damage = vec![0.0; n];
    let (mut total, mut wet, mut damaged) = (0.0, 0u64, 0u64);
    for (i, d) in damage.iter_mut().enumerate() {
        let h = cell_depth(depth, i / depth.ncols, i % depth.ncols);
        if h <= 0.0 {
            continue;
        }
        wet += 1;
        let e = exposure.values[i];
        if !exposure.is_data(e) {
            continue;
        }
        if e < 0.0 {
            return Err(DamageError::BadInput(format!(
                "exposure {e} at row {}, column {} is negative",
                i / depth.ncols,
                i % depth.ncols
            )));
        }
        *d = curve.fraction(h) * e as f64 * value_per_unit;
        if *d > 0.0 {
            damaged += 1;
        }
        total += *d;
    }
    Ok(CellDamage {
        damage,
        total,
        wet_cells: wet,
        damaged_cells: damaged,
    })
}

/// Damage fraction of every cell (row-major; 0 for dry and nodata cells), e.g. as the vulnerability
/// layer of risk zoning.
pub fn fraction_grid(depth: &Grid, curve: &DamageCurve) -> Vec<f64> {
    (0..depth.nrows * depth.ncols)
        .map(|i| curve.fraction(cell_depth(depth, i / depth.ncols, i % depth.ncols)))
        .collect()
}

/// Wet cells of one depth class and their damage fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthClass {
    /// Class bounds: `lower < depth ≤ upper` (upper = ∞ for the last class).
    pub lower_m: f64,
    pub upper_m: f64,
    pub cells: u64,
    /// Mean damage fraction of the class's cells (0 when empty).
    pub mean_fraction: f64,
    /// Deepest cell of the class (0 when empty).
    pub max_depth_m: f64,
}

/// Counts the wet cells per depth class and averages their damage fraction. `lower_bounds` are
/// the classes' lower bounds, ascending (e.g. `[0, 0.5, 1, 2, 3]`): class `i` holds the cells with
/// `lower_bounds[i] < depth ≤ lower_bounds[i+1]`, the last class everything deeper. Cells not above
/// the first bound are in no class.
pub fn depth_class_stats(
    depth: &Grid,
    curve: &DamageCurve,
    lower_bounds: &[f64],
) -> Result<Vec<DepthClass>, DamageError> {
    if lower_bounds.is_empty()
        || lower_bounds.windows(2).any(|w| w[0] >= w[1])
        || lower_bounds.iter().any(|b| !b.is_finite())
    {
        return Err(DamageError::BadInput(format!(
            "depth class bounds {lower_bounds:?} must be finite and strictly increasing"
        )));
    }
    let k = lower_bounds.len();
    let mut out: Vec<DepthClass> = (0..k)
        .map(|i| DepthClass {
            lower_m: lower_bounds[i],
            upper_m: lower_bounds.get(i + 1).copied().unwrap_or(f64::INFINITY),
            cells: 0,
            mean_fraction: 0.0,
            max_depth_m: 0.0,
        })
        .collect();
    let mut sums = vec![0.0; k];
    for i in 0..depth.nrows * depth.ncols {
        let h = cell_depth(depth, i / depth.ncols, i % depth.ncols);
        if h <= 0.0 || h <= lower_bounds[0] {
            continue;
        }
        // Number of bounds strictly below h, minus one.
        let c = lower_bounds.partition_point(|&b| b < h) - 1;
        out[c].cells += 1;
        sums[c] += curve.fraction(h);
        out[c].max_depth_m = out[c].max_depth_m.max(h);
    }
    for (o, s) in out.iter_mut().zip(sums) {
        if o.cells > 0 {
            o.mean_fraction = s / o.cells as f64;
        }
    }
    Ok(out)
}

/// People in water deeper than one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposed {
    pub threshold_m: f64,
    /// Sum of the population above the threshold.
    pub people: f64,
    /// Number of cells (or points) above the threshold with people.
    pub count: u64,
}

fn check_thresholds(thresholds: &[f64]) -> Result<(), DamageError> {
    if thresholds.iter().any(|t| !t.is_finite() || *t < 0.0) {
        return Err(DamageError::BadInput(format!(
            "depth thresholds {thresholds:?} must be finite numbers ≥ 0"
        )));
    }
    Ok(())
}

/// Population of an aligned raster in cells deeper than each threshold (strictly).
pub fn exposed_population_grid(
    depth: &Grid,
    population: &Grid,
    thresholds: &[f64],
) -> Result<Vec<Exposed>, DamageError> {
    if !same_geometry(depth, population) {
        return Err(DamageError::GridMismatch { what: "population" });
    }
    check_thresholds(thresholds)?;
    let mut out: Vec<Exposed> = thresholds
        .iter()
        .map(|&t| Exposed {
            threshold_m: t,
            people: 0.0,
            count: 0,
        })
        .collect();
    for i in 0..depth.nrows * depth.ncols {
        let h = cell_depth(depth, i / depth.ncols, i % depth.ncols);
        let p = population.values[i];
        if h <= 0.0 || !population.is_data(p) || p <= 0.0 {
            continue;
        }
        for o in out.iter_mut().filter(|o| h > o.threshold_m) {
            o.people += p as f64;
            o.count += 1;
        }
    }
    Ok(out)
}

/// A population point (a settlement or an address) in the depth grid's CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationPoint {
    pub id: String,
    pub x: f64,
    pub y: f64,
    pub population: f64,
}

/// Depths at population points and the people above each threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct PointExposure {
    /// Depth used for each point (input order), m.
    pub depth_m: Vec<f64>,
    pub by_threshold: Vec<Exposed>,
}

/// Whether a CRS has longitude/latitude coordinates in degrees.
pub fn is_geographic(crs: Crs) -> bool {
    matches!(
        crs,
        Crs::Wgs84 | Crs::Cgcs2000 | Crs::Gcj02 | Crs::Bd09 | Crs::Epsg(4326) | Crs::Epsg(4490)
    )
}

/// Depth at a point with a search radius in metres (see the module doc): the maximum of the cell
/// containing the point and the cells whose centres lie within `radius_m`.
pub fn depth_near(grid: &Grid, x: f64, y: f64, radius_m: f64) -> f64 {
    let mut best = depth_at(grid, x, y);
    if radius_m.is_nan() || radius_m <= 0.0 || !x.is_finite() || !y.is_finite() {
        return best;
    }
    // Radius in grid units along x and y, and a metric for centre distances.
    let (rx, ry, proj) = if is_geographic(grid.crs) {
        let p = LocalProjection::new(x, y);
        let (ex, ny) = p.project(x + 1.0, y + 1.0);
        (radius_m / ex.abs().max(1e-9), radius_m / ny.abs(), Some(p))
    } else {
        (radius_m, radius_m, None)
    };
    let c0 = ((x - rx - grid.x0) / grid.dx - 0.5).floor().max(0.0);
    let c1 = ((x + rx - grid.x0) / grid.dx - 0.5).ceil().min(grid.ncols as f64 - 1.0);
    let r0 = ((grid.y0 - (y + ry)) / grid.dy - 0.5).floor().max(0.0);
    let r1 = ((grid.y0 - (y - ry)) / grid.dy - 0.5)
        .ceil()
        .min(grid.nrows as f64 - 1.0);
    if c1 < c0 || r1 < r0 {
        return best;
    }
    for r in r0 as usize..=r1 as usize {
        for c in c0 as usize..=c1 as usize {
            let (cx, cy) = grid.cell_centre(r, c);
            let d = match &proj {
                Some(p) => {
                    let (px, py) = p.project(cx, cy);
                    (px * px + py * py).sqrt()
                }
                None => ((cx - x).powi(2) + (cy - y).powi(2)).sqrt(),
            };
            if d <= radius_m {
                best = best.max(cell_depth(grid, r, c));
            }
        }
    }
    best
}

/// People at population points deeper than each threshold (strictly), the depth of a point taken
/// at it or, with `radius_m > 0`, as the maximum within the radius (see the module doc).
pub fn exposed_population_points(
    depth: &Grid,
    points: &[PopulationPoint],
    thresholds: &[f64],
    radius_m: f64,
) -> Result<PointExposure, DamageError> {
    check_thresholds(thresholds)?;
    if !radius_m.is_finite() || radius_m < 0.0 {
        return Err(DamageError::BadInput(format!(
            "search radius {radius_m} m must be finite and ≥ 0"
        )));
    }
    let mut by_threshold: Vec<Exposed> = thresholds
        .iter()
        .map(|&t| Exposed {
            threshold_m: t,
            people: 0.0,
            count: 0,
        })
        .collect();
    let mut depths = Vec::with_capacity(points.len());
    for p in points {
        if !p.population.is_finite() || p.population < 0.0 {
            return Err(DamageError::BadInput(format!(
                "population point '{}': population {} must be finite and ≥ 0",
                p.id, p.population
            )));
        }
        let h = depth_near(depth, p.x, p.y, radius_m);
        depths.push(h);
        if p.population > 0.0 {
            for o in by_threshold.iter_mut().filter(|o| h > o.threshold_m) {
                o.people += p.population;
                o.count += 1;
            }
        }
    }
    Ok(PointExposure {
        depth_m: depths,
        by_threshold,
    })
}
