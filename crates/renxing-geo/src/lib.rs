//! # renxing-geo — coordinates, distances and grids
//!
//! The plain-data foundation every other Renxing crate builds on:
//!
//! - [`crs`]: coordinate reference systems met in Chinese planning data — WGS84, CGCS2000,
//!   GCJ-02 (Amap/Tencent), BD-09 (Baidu) and any `EPSG:xxxx` — converted to WGS84 lon/lat;
//! - [`distance`]: great-circle distances and a local metric projection for snapping;
//! - [`grid`]: regular lon/lat (or projected) grids of values such as WorldPop population;
//! - [`zonal`]: sums of grid values per polygon by exact cell-centre scanline rasterisation;
//! - [`shared_data`]: where tests and benchmarks find the project's shared real data sets.
//!
//! All geometry is WGS84 longitude/latitude in degrees unless a name says otherwise.
//! Polygons are [`geo_types`] types.

pub mod crs;
pub mod distance;
pub mod grid;
pub mod polygonize;
pub mod shared_data;
pub mod zonal;

pub use geo_types;
