//! `renxing` — the command-line tool of Renxing (韧性), resilient territorial-spatial planning.
//!
//! A thin layer over the analysis crates: it parses arguments, loads the layers a project names,
//! shows progress and reports errors as one clear line. See `docs/cli.md`.

mod access;
mod dual_use;
mod layers;
mod monitor;
mod oq;
mod project;
mod risk;
mod route;
mod run;
mod site;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "renxing",
    version,
    about = "Resilient territorial-spatial planning: shelter exams, network access and more"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the analyses of a project file; writes results.gpkg, summary.json and report.html.
    Run {
        project: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// The plan-implementation monitoring network: database, units, users, imports, audit.
    Monitor {
        #[command(subcommand)]
        command: monitor::MonitorCommand,
    },
    /// Serve the monitoring network: JSON API (/api, OpenAPI at /api/openapi.json) and the web one-map (/).
    Serve {
        /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DATABASE` (created by `monitor init`).
        #[arg(long)]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Largest request body in MiB.
        #[arg(long, default_value_t = 8)]
        max_body_mib: usize,
        /// Database connections (PostgreSQL).
        #[arg(long, default_value_t = 8)]
        pool: usize,
    },
    /// Run the bundled example (Beijing core districts) on the data shipped in data/.
    Demo {
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
        /// Another project file to use as the demo.
        #[arg(long)]
        project: Option<PathBuf>,
        #[arg(long)]
        quiet: bool,
    },
    /// Nearest destination for every origin on the road network (CSV out).
    Access {
        #[command(flatten)]
        roads: RoadArgs,
        /// Origins CSV: id,lon,lat.
        #[arg(long)]
        origins: PathBuf,
        /// Destinations CSV: id,lon,lat.
        #[arg(long)]
        destinations: PathBuf,
        /// CRS of the origin and destination coordinates: wgs84, gcj02, bd09, cgcs2000, EPSG:xxxx.
        #[arg(long, default_value = "wgs84")]
        crs: String,
        #[arg(long, default_value = "walk")]
        profile: String,
        #[arg(long, default_value = "distance")]
        metric: String,
        /// Stop searching beyond this cost (metres or seconds, by metric).
        #[arg(long)]
        cutoff: Option<f64>,
        /// Leave out points farther than this from the network (metres).
        #[arg(long)]
        max_snap_m: Option<f64>,
        #[arg(long)]
        out: PathBuf,
        /// Print phase timings (JSON) on stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Travel-cost matrix (or nearest-k) between origins and destinations on the road network,
    /// optionally under flood closures; CSV out (see docs/routing.md).
    Od {
        #[command(flatten)]
        net: NetArgs,
        /// Origins CSV: id,lon,lat.
        #[arg(long)]
        origins: PathBuf,
        /// Destinations CSV: id,lon,lat.
        #[arg(long)]
        destinations: PathBuf,
        /// Leave out pairs costing more than this (metres or seconds, by metric).
        #[arg(long)]
        cutoff: Option<f64>,
        /// Keep only the k cheapest destinations of each origin (adds a rank column).
        #[arg(long)]
        nearest: Option<usize>,
        /// Origins column with a weight (population) for the lost-access report under closures.
        #[arg(long)]
        weight_column: Option<String>,
        /// Also write a JSON summary (graph, hierarchy, hazard, lost access, timings).
        #[arg(long)]
        summary: Option<PathBuf>,
        /// Output CSV: origin_id,destination_id,distance_m,time_s.
        #[arg(long)]
        out: PathBuf,
        /// Print phase timings (JSON) on stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Isochrones: road network and area reached within cost limits from each origin (or from
    /// any, with --union), optionally under flood closures; GeoPackage out (docs/routing.md).
    Isochrone {
        #[command(flatten)]
        net: NetArgs,
        /// Origins CSV: id,lon,lat.
        #[arg(long)]
        origins: PathBuf,
        /// Limits: minutes for --metric time, metres for --metric distance (e.g. 5,10,15).
        #[arg(long, value_delimiter = ',', required = true)]
        limits: Vec<f64>,
        /// One isochrone set for all origins together (reached from any of them).
        #[arg(long)]
        union: bool,
        /// Grid cell of the area polygons, metres (default 20 walking, 100 driving).
        #[arg(long)]
        cell: Option<f64>,
        /// Farthest walk off the road counted as reached, metres (default 50).
        #[arg(long)]
        off_road: Option<f64>,
        /// Output GeoPackage.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        timings: bool,
    },
    /// Facility siting: LSCP, LSCP-B, MCLP, p-median, p-center, p-dispersion and capacitated
    /// models, exact (HiGHS) or with a proven bound at scale; writes result.json, assignment.csv
    /// and result.gpkg into --out (docs/siting.md).
    Site {
        /// lscp, lscp-b, mclp, p-median, p-center, p-dispersion, cp-median or cmclp.
        #[arg(long)]
        model: String,
        /// Demand CSV: id, weight, optional lon/lat (columns detected or named).
        #[arg(long)]
        demand: PathBuf,
        /// Candidate sites CSV: id, optional lon/lat, capacity, cost, preselected.
        #[arg(long)]
        candidates: PathBuf,
        /// Cost matrix CSV (long: one row per pair; or dense), or `euclidean` (great-circle
        /// metres); omit to compute it on the road network (--osm, --nodes/--edges or --graphml).
        #[arg(long)]
        costs: Option<String>,
        /// Number of open sites, pre-selected ones included.
        #[arg(long)]
        p: Option<usize>,
        /// Number of new sites beside the pre-selected ones (instead of --p).
        #[arg(long)]
        add: Option<usize>,
        /// Total site cost allowed instead of p (MCLP, p-median, capacitated models).
        #[arg(long)]
        budget: Option<f64>,
        /// Service cost (coverage radius) in the matrix's unit: metres or seconds.
        #[arg(long)]
        service: Option<f64>,
        /// Candidates column with capacities (capacitated models).
        #[arg(long)]
        capacity_col: Option<String>,
        /// Candidates column with site costs (budgets; LSCP minimises total cost).
        #[arg(long)]
        site_cost_col: Option<String>,
        /// Candidates column flagging pre-selected (existing) sites: 1/0, true/false, yes/no.
        #[arg(long)]
        preselected_col: Option<String>,
        /// Demand column with weights (default: weight, population, pop, POP2000, demand).
        #[arg(long)]
        weight_col: Option<String>,
        #[arg(long)]
        demand_id_col: Option<String>,
        #[arg(long)]
        site_id_col: Option<String>,
        /// Long cost file columns DEMAND,SITE,COST (default: detected from the ids and names).
        #[arg(long, value_delimiter = ',')]
        cost_columns: Option<Vec<String>>,
        /// Pairs missing from a long cost file are unreachable instead of an error.
        #[arg(long)]
        allow_missing: bool,
        /// p-dispersion: site-to-site costs (CSV from,to,cost); default great-circle metres.
        #[arg(long)]
        site_costs: Option<PathBuf>,
        /// Capacitated models: a demand point may be split between sites.
        #[arg(long)]
        split: bool,
        /// Capacitated models: pre-selected sites must be filled to capacity.
        #[arg(long)]
        fill_preselected: bool,
        /// auto (exact when small, else heuristic + bound), exact or heuristic.
        #[arg(long, default_value = "auto")]
        method: String,
        /// Heuristics stop at this relative gap to the proven bound.
        #[arg(long, default_value_t = 0.001)]
        gap: f64,
        /// Seconds allowed to the solver (best answer and its gap when reached).
        #[arg(long)]
        time_limit: Option<f64>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Earthquake scenario damage and flood damage with five-grade risk zoning, from a risk
    /// project file (see docs/risk.md); writes results.gpkg, summary.json and report.html.
    Risk {
        project: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        quiet: bool,
    },
    /// Run an OpenQuake job (scenario_damage, event_based_damage, scenario_risk) from given
    /// ground-motion fields; writes OpenQuake's CSV exports into --out.
    Oq {
        /// The job file (job.ini).
        job: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        quiet: bool,
    },
}

/// Where the road network comes from (`access`, `od`, `isochrone`).
#[derive(Args)]
struct RoadArgs {
    /// OpenStreetMap file (.osm.pbf or .osm).
    #[arg(long)]
    osm: Option<PathBuf>,
    /// Node CSV of the road network (with --edges).
    #[arg(long)]
    nodes: Option<PathBuf>,
    /// Edge CSV of the road network (with --nodes).
    #[arg(long)]
    edges: Option<PathBuf>,
    /// OSMnx GraphML road network.
    #[arg(long)]
    graphml: Option<PathBuf>,
    /// CRS of the network node coordinates (CSV and GraphML networks; OSM is always WGS84).
    #[arg(long)]
    network_crs: Option<String>,
    /// The edge CSV lists each direction of a two-way street as its own row.
    #[arg(long)]
    directed_edges: bool,
}

impl RoadArgs {
    fn source(self) -> anyhow::Result<layers::RoadSource> {
        Ok(layers::RoadSource {
            osm: self.osm,
            nodes: self.nodes,
            edges: self.edges,
            graphml: self.graphml,
            crs: self
                .network_crs
                .as_deref()
                .map(|c| layers::parse_crs(c, "--network-crs"))
                .transpose()?,
            directed: self.directed_edges,
        })
    }
}

/// Road network, profile, hazard and cache options of `od` and `isochrone`.
#[derive(Args)]
struct NetArgs {
    #[command(flatten)]
    roads: RoadArgs,
    /// CRS of the point coordinates: wgs84, gcj02, bd09, cgcs2000, EPSG:xxxx.
    #[arg(long, default_value = "wgs84")]
    crs: String,
    #[arg(long, default_value = "walk")]
    profile: String,
    #[arg(long, default_value = "time")]
    metric: String,
    /// Flood hazard: a depth raster (GeoTIFF/ASCII grid in WGS84), a closures CSV
    /// (edge_id,max_depth_m,closed as written by `renxing risk`), or flood polygons
    /// (GeoJSON/Shapefile/GeoPackage) with a depth attribute (--depth-field).
    #[arg(long)]
    closures: Option<PathBuf>,
    /// Depth attribute (metres) of flood polygons given to --closures.
    #[arg(long, default_value = "depth_m")]
    depth_field: String,
    /// Close links deeper than this (m); default from the standard profile per travel mode.
    #[arg(long)]
    closure_depth: Option<f64>,
    /// Slow wet links below the closure depth: none or pregnolato (driving).
    #[arg(long, default_value = "none")]
    slowdown: String,
    /// Folder for cached hierarchies (a second run loads instead of rebuilding).
    #[arg(long, default_value = ".renxing-cache")]
    cache: PathBuf,
    /// Do not read or write the hierarchy cache.
    #[arg(long)]
    no_cache: bool,
    /// Leave out points farther than this from the network (metres).
    #[arg(long)]
    max_snap_m: Option<f64>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl NetArgs {
    fn resolve(self) -> anyhow::Result<(route::NetworkArgs, renxing_geo::crs::Crs)> {
        let slowdown = match self.slowdown.trim().to_ascii_lowercase().as_str() {
            "none" => renxing_net::hazard::Slowdown::None,
            "pregnolato" => renxing_net::hazard::Slowdown::Pregnolato,
            other => anyhow::bail!("--slowdown: unknown '{other}': use none or pregnolato"),
        };
        let mode: renxing_net::profile::Mode = self
            .profile
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--profile: {e}"))?;
        if slowdown == renxing_net::hazard::Slowdown::Pregnolato && mode == renxing_net::profile::Mode::Walk {
            anyhow::bail!(
                "--slowdown pregnolato is a vehicle speed function: use it with --profile drive or emergency"
            );
        }
        if self.closure_depth.is_some() && self.closures.is_none() {
            anyhow::bail!("--closure-depth needs --closures (a depth raster or closures CSV)");
        }
        let net = route::NetworkArgs {
            roads: self.roads.source()?,
            mode,
            metric: self
                .metric
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--metric: {e}"))?,
            closures: self.closures,
            depth_field: self.depth_field,
            closure_depth: self.closure_depth,
            slowdown,
            cache: (!self.no_cache).then_some(self.cache),
            max_snap_m: self.max_snap_m,
            quiet: self.quiet,
        };
        Ok((net, layers::parse_crs(&self.crs, "--crs")?))
    }
}

fn demo_project() -> PathBuf {
    std::env::var_os("RENXING_DEMO_PROJECT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/beijing-core/renxing.toml"
            ))
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { project, out, quiet } => run_and_tell(&project, &out, quiet),
        Command::Demo { out, project, quiet } => run_and_tell(&project.unwrap_or_else(demo_project), &out, quiet),
        Command::Oq { job, out, quiet } => oq::run_oq(&job, &out, quiet),
        Command::Monitor { command } => monitor::run(command),
        Command::Serve {
            db,
            listen,
            max_body_mib,
            pool,
        } => monitor::serve(&db, listen, max_body_mib, pool),
        Command::Risk { project, out, quiet } => risk::run_risk(&project, &out, quiet).map(|r| {
            for l in r.lines {
                eprintln!("{l}");
            }
            eprintln!("Open {}/report.html", out.display());
        }),
        Command::Od {
            net,
            origins,
            destinations,
            cutoff,
            nearest,
            weight_column,
            summary,
            out,
            timings,
        } => (|| {
            let (net, crs) = net.resolve()?;
            route::run_od(&route::OdArgs {
                net,
                origins,
                destinations,
                crs,
                cutoff,
                nearest,
                weight_column,
                summary,
                out,
                timings,
            })
        })(),
        Command::Isochrone {
            net,
            origins,
            limits,
            union,
            cell,
            off_road,
            out,
            timings,
        } => (|| {
            let (net, crs) = net.resolve()?;
            route::run_isochrone(&route::IsochroneArgs {
                net,
                origins,
                crs,
                limits,
                union,
                cell_m: cell,
                off_road_m: off_road,
                out,
                timings,
            })
        })(),
        Command::Site {
            model,
            demand,
            candidates,
            costs,
            p,
            add,
            budget,
            service,
            capacity_col,
            site_cost_col,
            preselected_col,
            weight_col,
            demand_id_col,
            site_id_col,
            cost_columns,
            allow_missing,
            site_costs,
            split,
            fill_preselected,
            method,
            gap,
            time_limit,
            seed,
            out,
            net,
        } => (|| {
            let has_roads = net.roads.osm.is_some() || net.roads.nodes.is_some() || net.roads.graphml.is_some();
            let quiet = net.quiet;
            let (net, crs) = net.resolve()?;
            let costs = match costs.as_deref() {
                Some(c) if has_roads => anyhow::bail!("--costs {c} and a road network were both given: choose one"),
                Some("euclidean") => site::CostSource::Euclidean,
                Some(path) => site::CostSource::File(PathBuf::from(path)),
                None if has_roads => site::CostSource::Network(Box::new(net)),
                None => anyhow::bail!(
                    "give the costs: --costs FILE (long or dense CSV), --costs euclidean, or a road network (--osm, --nodes/--edges, --graphml)"
                ),
            };
            let (cost_demand, cost_site, cost_value) = match cost_columns {
                None => (None, None, None),
                Some(v) if v.len() == 3 => (Some(v[0].clone()), Some(v[1].clone()), Some(v[2].clone())),
                Some(v) => anyhow::bail!(
                    "--cost-columns: give DEMAND,SITE,COST (three names), not {}",
                    v.join(",")
                ),
            };
            site::run_site(&site::SiteArgs {
                model: model.parse().map_err(|e: String| anyhow::anyhow!("--model: {e}"))?,
                demand,
                candidates,
                costs,
                crs,
                columns: renxing_site::input::Columns {
                    demand_id: demand_id_col,
                    weight: weight_col,
                    site_id: site_id_col,
                    capacity: capacity_col,
                    site_cost: site_cost_col,
                    preselected: preselected_col,
                    cost_demand,
                    cost_site,
                    cost_value,
                    allow_missing,
                    positions_any_crs: false,
                },
                p,
                add,
                budget,
                service,
                site_costs,
                split,
                fill_preselected,
                method: method.parse().map_err(|e: String| anyhow::anyhow!("--method: {e}"))?,
                gap,
                time_limit,
                seed,
                out,
                quiet,
            })
        })(),
        Command::Access {
            roads,
            origins,
            destinations,
            crs,
            profile,
            metric,
            cutoff,
            max_snap_m,
            out,
            timings,
        } => (|| {
            let args = access::AccessArgs {
                roads: roads.source()?,
                origins,
                destinations,
                crs: layers::parse_crs(&crs, "--crs")?,
                mode: profile.parse().map_err(|e: String| anyhow::anyhow!("--profile: {e}"))?,
                metric: metric.parse().map_err(|e: String| anyhow::anyhow!("--metric: {e}"))?,
                cutoff,
                max_snap_m,
                out,
                timings,
            };
            access::run_access(&args)
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_and_tell(project: &std::path::Path, out: &std::path::Path, quiet: bool) -> anyhow::Result<()> {
    let r = run::run_project(project, out, quiet)?;
    eprintln!(
        "{}: {} units, population {:.0}, {} within the emergency-shelter distance, {} deficient units. Open {}/report.html",
        project.display(),
        r.units,
        r.population,
        r.share_within_emergency
            .map_or("–".to_string(), |s| format!("{:.1} %", s * 100.0)),
        r.deficient,
        out.display()
    );
    Ok(())
}
