//! Benchmark: population per district of Wuhan from the WorldPop 100 m grid.
//!
//! - `read_geotiff`: `read_grid` on `cn/wuhan/wuhan_pop_age20plus_sum.tif` (WorldPop, population
//!   aged 20+, WGS84, float32, nodata −9999);
//! - `zonal_sums`: `renxing_geo::zonal::zonal_sums` of that grid over the 13 districts of Wuhan
//!   (adcodes under `420100`), read from the cnmaps archive and converted from GCJ-02 to WGS84;
//! - `read_and_zonal`: both in one go.
//!
//! Each is reported with a throughput in grid cells per second. Reading the districts from the
//! cnmaps archive is dominated by decompressing the 28 MB xz archive; it is timed once, outside
//! criterion, and printed before the criterion runs.
//!
//! Run with `cargo bench -p renxing-cli --bench wuhan_zonal`. Without the shared data the bench
//! prints SKIP and does nothing.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use geo_types::MultiPolygon;
use renxing_geo::zonal::zonal_sums;
use renxing_io::cnmaps::{CnLevel, CnmapsFilter, read_cnmaps};
use renxing_io::raster::read_grid;

fn read_and_zonal(tif: &Path, zones: &[MultiPolygon<f64>]) -> Option<f64> {
    let grid = read_grid(tif, None).ok()?;
    Some(zonal_sums(&grid, zones).sums.iter().sum())
}

fn main() {
    let (Some(tif), Some(archive), Some(index)) = (
        renxing_io::shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif"),
        renxing_io::shared_data::file("cn/admin/amap_land_maritime.tar.xz"),
        renxing_io::shared_data::file("cn/admin/administrative.db"),
    ) else {
        return;
    };

    let t = Instant::now();
    let filter = CnmapsFilter::under("420100").levels(&[CnLevel::District]);
    let units = match read_cnmaps(&archive, &index, &filter) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("wuhan_zonal bench: cannot read the districts: {e}");
            std::process::exit(1);
        }
    };
    let cnmaps_s = t.elapsed().as_secs_f64();
    let units: Vec<_> = units
        .into_iter()
        .filter(|u| u.level.as_deref() == Some("district"))
        .collect();
    let zones: Vec<MultiPolygon<f64>> = units.iter().map(|u| u.geometry.clone()).collect();

    let t = Instant::now();
    let grid = match read_grid(&tif, None) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("wuhan_zonal bench: cannot read the grid: {e}");
            std::process::exit(1);
        }
    };
    let read_s = t.elapsed().as_secs_f64();
    let cells = (grid.ncols * grid.nrows) as u64;
    let t = Instant::now();
    let z = zonal_sums(&grid, &zones);
    let zonal_s = t.elapsed().as_secs_f64();

    eprintln!(
        "cnmaps: {} districts under 420100 read in {cnmaps_s:.2} s (one run, decompression included)",
        units.len()
    );
    eprintln!(
        "grid: {} x {} = {cells} cells, total {:.0}; first run: read {:.3} s, zonal {:.3} s",
        grid.ncols,
        grid.nrows,
        grid.total(),
        read_s,
        zonal_s
    );
    for (u, (s, n)) in units.iter().zip(z.sums.iter().zip(&z.cells)) {
        eprintln!("  {} {}: {s:.0} people in {n} data cells", u.code, u.name);
    }
    eprintln!(
        "  in districts: {:.0}; outside every district: {:.0} in {} non-zero cells",
        z.sums.iter().sum::<f64>(),
        z.outside_sum,
        z.outside_cells
    );

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("wuhan_zonal");
    // Flat sampling: every sample runs the same number of iterations, so ten samples of a
    // 250 ms routine fit in a few seconds (linear sampling would need 55 iterations).
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(cells));
    g.bench_function("read_geotiff", |b| b.iter(|| black_box(read_grid(&tif, None).is_ok())));
    g.bench_function("zonal_sums_13_districts", |b| {
        b.iter(|| black_box(zonal_sums(&grid, &zones)))
    });
    g.bench_function("read_and_zonal", |b| b.iter(|| black_box(read_and_zonal(&tif, &zones))));
    g.finish();
    c.final_summary();
}
