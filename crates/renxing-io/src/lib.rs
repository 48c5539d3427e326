//! # renxing-io — readers and writers
//!
//! Every importer of Renxing lives here, one module per format, with the format documented at the
//! top of its module. Importers convert coordinates to WGS84 on the way in (see
//! [`renxing_geo::crs::Crs`]) and report bad input as an [`IoError`] naming the file, the position
//! (line, feature, byte offset) and what is wrong. Nothing here panics on bad input.
//!
//! | module | reads / writes |
//! |---|---|
//! | [`osm`] | OpenStreetMap PBF and XML: roads (walk/drive), facilities, buildings |
//! | [`network_csv`] | road network as node and edge CSV files |
//! | [`graphml`] | OSMnx GraphML road networks |
//! | [`points`] | point CSV files with lon/lat columns |
//! | [`admin`] | admin polygons from GeoJSON, Shapefile and GeoPackage |
//! | [`cnmaps`] | the cnmaps China boundary archive (tar.xz of GeoJSON + SQLite index) |
//! | [`raster`] | GeoTIFF and ESRI ASCII grids |
//! | [`gpkg`] | GeoPackage writer (and a layer reader) |
//! | [`totals`] | admin-unit totals (census tables) from CSV |

pub mod admin;
pub mod cnmaps;
pub mod error;
pub mod gpkg;
pub mod graphml;
pub mod network_csv;
pub mod osm;
pub mod points;
pub mod raster;

pub use error::IoError;
pub use renxing_geo::shared_data;
pub mod totals;
pub mod xml;
