//! Hazard scenarios on the network: water depth per link → closed links and slowed links.
//!
//! The depth of a link is the greatest depth along it (computed by the caller, e.g. with
//! `renxing_risk::flood::closures::max_depth_along` from a depth raster, or read from a
//! closures CSV). A link deeper than the profile's threshold is **closed** in both directions
//! (driving: 0.15 m, GB 50318-2017 §5.3.3 / GB 51222-2017, key
//! `flood.road_closure_depth_drive_m` of the standard profile; walking:
//! `flood.road_closure_depth_walk_m`). A shallower wet link may be **slowed**:
//!
//! - [`Slowdown::Pregnolato`] — the depth–disruption function of Pregnolato, Ford, Wilkinson &
//!   Dawson (2017), *The impact of flooding on road transport: A depth-disruption function*,
//!   Transportation Research Part D 55, 67–81, eq. (3): safe vehicle speed
//!   `v(d) = 0.0009 d² − 0.5529 d + 86.9448` km/h for depth `d` in millimetres (about 2 km/h at
//!   300 mm, from where the paper takes the road as impassable). The link keeps the share `v(d) / v(0)` of its speed, so its time grows by
//!   `v(0) / v(d)`; this applies to driving profiles.
//! - [`Slowdown::None`] — wet links below the threshold keep their speed.
//!
//! The scenario is a [`LinkCosts`]; customising a hierarchy with it ([`crate::cch::Customized`])
//! re-weights the network in milliseconds without rebuilding anything.

use serde::Serialize;

use crate::cch::LinkCosts;

/// How wet but open links are slowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slowdown {
    None,
    Pregnolato,
}

/// Coefficients of Pregnolato et al. (2017) eq. (3), speed in km/h, depth in mm.
const PREGNOLATO: [f64; 3] = [0.0009, -0.5529, 86.9448];
/// Depth (mm) from which Pregnolato et al. (2017) take a road as impassable to vehicles.
const PREGNOLATO_STOP_MM: f64 = 300.0;

/// Share of its free speed a vehicle keeps in `depth_m` of water (Pregnolato et al. 2017); 0
/// from 300 mm.
pub fn pregnolato_speed_share(depth_m: f64) -> f64 {
    let d = (depth_m * 1000.0).max(0.0);
    let [a, b, c] = PREGNOLATO;
    if d >= PREGNOLATO_STOP_MM {
        return 0.0;
    }
    (a * d * d + b * d + c) / c
}

/// What a scenario did to the network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HazardReport {
    pub threshold_m: f64,
    pub wet_links: usize,
    pub closed_links: usize,
    pub closed_km: f64,
    pub slowed_links: usize,
}

/// Apply per-link depths (metres, 0 = dry; one per graph link) to `costs`. Links from
/// `road_links` on are turn-restriction copies of road links ([`crate::graph::Graph::road_links`]):
/// they are changed like the others but not counted again in the report.
pub fn apply_depths(
    costs: &mut LinkCosts,
    depth_m: &[f64],
    threshold_m: f64,
    slowdown: Slowdown,
    road_links: usize,
) -> HazardReport {
    assert_eq!(depth_m.len(), costs.open.len(), "one depth per link");
    let mut r = HazardReport {
        threshold_m,
        ..Default::default()
    };
    for (l, &d) in depth_m.iter().enumerate() {
        if d <= 0.0 || !d.is_finite() {
            continue;
        }
        let counted = l < road_links;
        let mut closed = costs.open[l] && d > threshold_m;
        let mut slowed = false;
        if d <= threshold_m && slowdown == Slowdown::Pregnolato {
            let share = pregnolato_speed_share(d);
            if share <= 0.0 {
                closed = costs.open[l];
            } else if share < 1.0 {
                costs.time_s[l] /= share;
                slowed = true;
            }
        }
        if closed {
            costs.open[l] = false;
        }
        if counted {
            r.wet_links += 1;
            r.slowed_links += slowed as usize;
            if closed {
                r.closed_links += 1;
                r.closed_km += costs.length_m[l] / 1000.0;
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pregnolato_share_follows_the_published_curve() {
        assert_eq!(pregnolato_speed_share(0.0), 1.0);
        // 150 mm: 0.0009·22500 − 0.5529·150 + 86.9448 = 24.2598 km/h.
        assert!((pregnolato_speed_share(0.15) - 24.2598 / 86.9448).abs() < 1e-12);
        // 299 mm: about 2 km/h; from 300 mm vehicles stop.
        assert!((pregnolato_speed_share(0.299) * 86.9448 - 2.0886).abs() < 1e-9);
        assert_eq!(pregnolato_speed_share(0.30), 0.0);
    }

    #[test]
    fn depths_close_above_the_threshold_and_slow_below() {
        let mut c = LinkCosts {
            length_m: vec![100.0; 4],
            time_s: vec![10.0; 4],
            open: vec![true; 4],
        };
        let r = apply_depths(&mut c, &[0.0, 0.1, 0.15, 0.2], 0.15, Slowdown::Pregnolato, 4);
        assert_eq!(c.open, vec![true, true, true, false]);
        assert_eq!(r.closed_links, 1);
        assert_eq!(r.wet_links, 3);
        assert_eq!(r.slowed_links, 2);
        assert!((c.time_s[1] - 10.0 / pregnolato_speed_share(0.1)).abs() < 1e-12);
        assert_eq!(c.time_s[0], 10.0);
    }
}
