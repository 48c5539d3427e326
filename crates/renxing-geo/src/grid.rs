//! Regular grids of values (population counts, flood depth…).
//!
//! A [`Grid`] is north-up: row 0 is the northern edge, column 0 the western edge. The affine
//! georeference is `x = x0 + (col + 0.5)·dx` and `y = y0 − (row + 0.5)·dy` for cell centres, with
//! (`x0`, `y0`) the outer top-left corner. Coordinates are in the grid's own CRS
//! ([`Grid::crs`]); importers keep the CRS and callers convert cell centres where needed.

use crate::crs::Crs;

#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub ncols: usize,
    pub nrows: usize,
    /// Outer top-left corner (west, north).
    pub x0: f64,
    pub y0: f64,
    /// Cell size along x and y (both positive).
    pub dx: f64,
    pub dy: f64,
    /// Row-major values; `nodata` marks empty cells.
    pub values: Vec<f32>,
    pub nodata: Option<f32>,
    pub crs: Crs,
}

impl Grid {
    /// Centre of cell (`row`, `col`) in the grid's CRS.
    pub fn cell_centre(&self, row: usize, col: usize) -> (f64, f64) {
        (
            self.x0 + (col as f64 + 0.5) * self.dx,
            self.y0 - (row as f64 + 0.5) * self.dy,
        )
    }

    pub fn get(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.ncols + col]
    }

    /// A value that holds data: not the nodata marker, not NaN.
    pub fn is_data(&self, v: f32) -> bool {
        !v.is_nan() && self.nodata.is_none_or(|nd| v != nd)
    }

    /// Cells with data and a positive value, as (row, col, value).
    pub fn positive_cells(&self) -> impl Iterator<Item = (usize, usize, f32)> + '_ {
        self.values
            .iter()
            .enumerate()
            .filter_map(move |(i, &v)| (self.is_data(v) && v > 0.0).then_some((i / self.ncols, i % self.ncols, v)))
    }

    /// Sum of all data values (f64 accumulation).
    pub fn total(&self) -> f64 {
        self.values
            .iter()
            .filter(|v| self.is_data(**v))
            .map(|&v| v as f64)
            .sum()
    }
}
