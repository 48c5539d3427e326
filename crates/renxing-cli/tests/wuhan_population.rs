//! Wuhan WorldPop 100 m grid (aged 20+, ~9.49 M people) summed per district of the cnmaps
//! boundary set (adcode 4201xx, GCJ-02 converted to WGS84 on import).

use renxing_io::cnmaps::{CnLevel, CnmapsFilter, read_cnmaps};

#[test]
fn district_sums_add_up_to_the_grid_total_within_one_percent() {
    let Some(tif) = renxing_io::shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif") else {
        return;
    };
    let Some(archive) = renxing_io::shared_data::file("cn/admin/amap_land_maritime.tar.xz") else {
        return;
    };
    let Some(index) = renxing_io::shared_data::file("cn/admin/administrative.db") else {
        return;
    };
    let grid = renxing_io::raster::read_grid(&tif, None).unwrap();
    let districts = read_cnmaps(
        &archive,
        &index,
        &CnmapsFilter::under("420100").levels(&[CnLevel::District]),
    )
    .unwrap();
    assert_eq!(districts.len(), 13, "Wuhan has 13 districts");
    assert!(districts.iter().all(|d| d.code.starts_with("4201")));
    let zones: Vec<_> = districts.iter().map(|d| d.geometry.clone()).collect();
    let sums = renxing_geo::zonal::zonal_sums(&grid, &zones);
    let total = grid.total();
    let in_districts: f64 = sums.sums.iter().sum();
    // Every data cell is either in a district or counted outside: nothing is lost.
    assert!((in_districts + sums.outside_sum - total).abs() < 1e-6 * total);
    let gap = (total - in_districts) / total;
    eprintln!(
        "Wuhan: grid total {total:.1}, in districts {in_districts:.1} ({:.3} % outside: {} cells, {:.1} people); overlaps {}",
        gap * 100.0,
        sums.outside_cells,
        sums.outside_sum,
        renxing_geo::zonal::assign_cells(&grid, &zones).overlaps
    );
    for (d, s) in districts.iter().zip(&sums.sums) {
        eprintln!("  {} {} {:.0}", d.code, d.name, s);
    }
    assert!(
        gap.abs() < 0.01,
        "district sums miss {:.3} % of the grid total",
        gap * 100.0
    );
}
