//! `renxing` — the command-line tool of Renxing (韧性), resilient territorial-spatial planning.
//!
//! A thin layer over the analysis crates: it parses arguments, loads the layers a project names,
//! shows progress and reports errors as one clear line. See `docs/cli.md`.

mod access;
mod layers;
mod oq;
mod project;
mod risk;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// The edge CSV lists each direction of a two-way street as its own row (read rows as one-way).
        #[arg(long)]
        directed_edges: bool,
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
        Command::Risk { project, out, quiet } => risk::run_risk(&project, &out, quiet).map(|r| {
            for l in r.lines {
                eprintln!("{l}");
            }
            eprintln!("Open {}/report.html", out.display());
        }),
        Command::Access {
            osm,
            nodes,
            edges,
            graphml,
            network_crs,
            directed_edges,
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
                roads: layers::RoadSource {
                    osm,
                    nodes,
                    edges,
                    graphml,
                    crs: network_crs
                        .as_deref()
                        .map(|c| layers::parse_crs(c, "--network-crs"))
                        .transpose()?,
                    directed: directed_edges,
                },
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
