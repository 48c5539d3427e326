//! Flood damage and risk: depth–damage curves, damage per building or per grid cell, expected
//! annual damage over several return periods, and road closures for the network crate.
//!
//! The pipeline, each step a pure function over plain data (the readers of [`curves`] and the
//! writer of [`closures`] are the only I/O):
//!
//! 1. **Hazard**: water-depth rasters (metres above ground) read with
//!    `renxing_io::raster::read_grid` (GeoTIFF, ESRI ASCII, Surfer 6 `.grd(.gz)` such as the GAR2015
//!    flood maps) into a [`renxing_geo::grid::Grid`]. Nodata cells and points outside the grid are
//!    **dry** (depth 0) everywhere in this module.
//! 2. **Vulnerability**: a [`curves::DamageCurve`] maps depth to a damage fraction in `[0, 1]`
//!    (linear interpolation, clamped above the last depth, 0 at or below 0 m). The JRC global set
//!    (Huizinga, de Moel & Szewczyk 2017, JRC105688) is read by [`curves::JrcCurves`] and its
//!    construction costs per country by [`curves::BaseDamageValues`].
//! 3. **Damage**: [`damage`] samples the depth at buildings (minus their ground-floor height) or
//!    overlays an aligned exposure raster, and multiplies the damage fraction by the maximum damage.
//!    It also counts the population in water deeper than given thresholds.
//! 4. **Risk**: [`ead`] integrates damages at several return periods over the annual exceedance
//!    probability (expected annual damage).
//! 5. **Roads**: [`closures`] takes road polylines, finds the deepest water along each edge and flags
//!    it closed above a threshold (GB 50318-2017 §5.3.3 / GB 51222-2017: one traffic lane ≤ 0.15 m for
//!    driving, profile key [`closures::PROFILE_KEY_DRIVE_DEPTH`]), and writes the closures CSV the
//!    network crate reads.

pub mod closures;
pub mod curves;
pub mod damage;
pub mod ead;

use renxing_geo::grid::Grid;

/// Depth of the grid at a point in the grid's CRS: the value of the cell containing the point, or
/// 0 (dry) when the point lies outside the grid, the cell is nodata/NaN, or the value is negative.
///
/// A point on a cell edge belongs to the cell east of it (and south of it): column
/// `⌊(x − x0)/dx⌋`, row `⌊(y0 − y)/dy⌋`, the same rule as a GIS raster lookup.
pub fn depth_at(grid: &Grid, x: f64, y: f64) -> f64 {
    match cell_of(grid, x, y) {
        Some((r, c)) => cell_depth(grid, r, c),
        None => 0.0,
    }
}

/// Row and column of the cell containing (`x`, `y`), or None outside the grid (or for non-finite
/// input).
pub fn cell_of(grid: &Grid, x: f64, y: f64) -> Option<(usize, usize)> {
    if !(x.is_finite() && y.is_finite()) || grid.dx <= 0.0 || grid.dy <= 0.0 {
        return None;
    }
    let c = ((x - grid.x0) / grid.dx).floor();
    let r = ((grid.y0 - y) / grid.dy).floor();
    if c < 0.0 || r < 0.0 || c >= grid.ncols as f64 || r >= grid.nrows as f64 {
        return None;
    }
    Some((r as usize, c as usize))
}

/// Depth of cell (`row`, `col`) with the dry rule: nodata, NaN and negative values are 0.
pub fn cell_depth(grid: &Grid, row: usize, col: usize) -> f64 {
    let Some(&v) = grid.values.get(row * grid.ncols + col) else {
        return 0.0;
    };
    if grid.is_data(v) && v > 0.0 { v as f64 } else { 0.0 }
}

/// Whether two grids share their geometry (size, origin, cell size and CRS), as cell-by-cell
/// overlays require. Origins and cell sizes may differ by 10⁻⁹ of a cell.
pub fn same_geometry(a: &Grid, b: &Grid) -> bool {
    let tol = 1e-9 * a.dx.abs().max(a.dy.abs());
    a.ncols == b.ncols
        && a.nrows == b.nrows
        && a.crs == b.crs
        && (a.x0 - b.x0).abs() <= tol
        && (a.y0 - b.y0).abs() <= tol
        && (a.dx - b.dx).abs() <= tol
        && (a.dy - b.dy).abs() <= tol
}

/// 1-based line of the CSV record starting at byte `byte` of `text`: newlines before it, plus
/// the line breaks and blank lines the reader skipped before the record's first character.
pub(crate) fn line_at(text: &[u8], byte: u64) -> u64 {
    let mut b = (byte as usize).min(text.len());
    while b < text.len() && matches!(text[b], b'\r' | b'\n') {
        b += 1;
    }
    1 + text[..b].iter().filter(|&&c| c == b'\n').count() as u64
}
