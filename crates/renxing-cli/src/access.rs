//! `renxing access`: nearest destination per origin on the road network, as CSV.
//!
//! Output columns `origin_id,destination_id,distance_m,time_s`, one row per origin in input
//! order; the last three are empty when no destination is reachable (within the cutoff).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use renxing_net::access::{Metric, NearestField};
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::SnapIndex;

use crate::layers::{load_points, load_roads};

pub struct AccessArgs {
    pub roads: crate::layers::RoadSource,
    pub origins: PathBuf,
    pub destinations: PathBuf,
    pub crs: renxing_geo::crs::Crs,
    pub mode: Mode,
    pub metric: Metric,
    pub cutoff: Option<f64>,
    pub max_snap_m: Option<f64>,
    pub out: PathBuf,
    pub timings: bool,
}

pub fn run_access(a: &AccessArgs) -> Result<()> {
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<(&str, f64)>| {
        phases.push((name, t.elapsed().as_secs_f64()));
        t = Instant::now();
    };
    let road = load_roads(&a.roads)?;
    let origins = load_points(&a.origins, a.crs)?;
    let dests = load_points(&a.destinations, a.crs)?;
    lap("read", &mut phases);
    let profile = Profile::builtin(a.mode);
    let graph = Graph::build(&road, &profile);
    if graph.node_count() == 0 {
        return Err(anyhow!("{}: no road routable for the {} profile", road.source, a.mode));
    }
    lap("graph", &mut phases);
    let index = SnapIndex::new(&graph);
    let within = |s: Option<renxing_net::snap::Snap>| s.filter(|s| a.max_snap_m.is_none_or(|m| s.offset_m <= m));
    let lonlat = |pts: &[renxing_io::points::PointRecord]| pts.iter().map(|p| (p.lon, p.lat)).collect::<Vec<_>>();
    let dest_snaps: Vec<_> = index
        .snap_all(&graph, &lonlat(&dests))
        .into_iter()
        .map(within)
        .collect();
    let origin_snaps: Vec<_> = index
        .snap_all(&graph, &lonlat(&origins))
        .into_iter()
        .map(within)
        .collect();
    lap("snap", &mut phases);
    let field = NearestField::compute(&graph, &dest_snaps, a.metric, a.cutoff, profile.access_speed_mps());
    let nearest: Vec<_> = origin_snaps
        .iter()
        .map(|s| s.as_ref().and_then(|s| field.nearest(&graph, s)))
        .collect();
    lap("search", &mut phases);
    write_atomically(&a.out, |w| {
        writeln!(w, "origin_id,destination_id,distance_m,time_s")?;
        for (o, n) in origins.iter().zip(&nearest) {
            match n {
                Some(n) => writeln!(
                    w,
                    "{},{},{},{}",
                    csv_field(&o.id),
                    csv_field(&dests[n.destination as usize].id),
                    n.distance_m,
                    n.time_s
                )?,
                None => writeln!(w, "{},,,", csv_field(&o.id))?,
            }
        }
        Ok(())
    })?;
    lap("write", &mut phases);
    let r = &graph.report;
    eprintln!(
        "{} {} graph: {} nodes, {} links kept (largest of {} components; {} untagged edges left out); {} origins, {} destinations ({} not snapped), {} origins reached",
        road.source,
        a.mode,
        r.nodes,
        r.links,
        r.components,
        r.untagged_edges,
        origins.len(),
        dests.len(),
        dest_snaps.iter().filter(|s| s.is_none()).count(),
        nearest.iter().filter(|n| n.is_some()).count()
    );
    if a.timings {
        let obj: serde_json::Map<String, serde_json::Value> = phases
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        eprintln!("timings {}", serde_json::Value::Object(obj));
    }
    Ok(())
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Write a file through a temporary sibling that is renamed into place only when complete.
pub fn write_atomically(path: &Path, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("{}: cannot write", dir.display()))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        body(&mut w).with_context(|| format!("{}: write failed", path.display()))?;
        w.flush().with_context(|| format!("{}: write failed", path.display()))?;
    }
    make_readable(tmp.as_file(), path)?;
    tmp.persist(path)
        .map_err(|e| anyhow!("{}: {}", path.display(), e.error))?;
    Ok(())
}

/// Temporary files are created private (0600); a result is published readable by others (0644),
/// set on the temporary file before it is renamed into place.
pub fn make_readable(file: &std::fs::File, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}
