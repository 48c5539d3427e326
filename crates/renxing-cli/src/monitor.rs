//! `renxing monitor …`: admin tasks of the monitoring network (thin over renxing-monitor).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use renxing_monitor::access::{Principal, Role};
use renxing_monitor::catalogue::Catalogue;
use renxing_monitor::store::{AnyMonitor, open_url, redact};

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Create (or update) a monitoring database: admin units and the indicator catalogue.
    Init {
        /// `sqlite://PATH` (embedded; the file is created) or `postgres://USER:PASSWORD@HOST/DATABASE`
        /// (an existing database; the PostGIS extension is created, which needs the right to).
        #[arg(long)]
        db: String,
        /// Boundary GeoJSON with adcode/level/name properties (e.g. cn/admin/henan_admin_wgs84.geojson).
        #[arg(long, required_unless_present = "codes", conflicts_with = "codes")]
        units: Option<PathBuf>,
        /// Township list (code,name,areaCode…; e.g. cn/codes/streets.csv) for the counties loaded.
        #[arg(long, requires = "units")]
        townships: Option<PathBuf>,
        /// Instead of --units: the division code lists (provinces.csv, cities.csv, areas.csv,
        /// streets.csv; e.g. cn/codes) for one --province, without boundaries.
        #[arg(long, requires = "province")]
        codes: Option<PathBuf>,
        /// Province code (11 or 110000) to take from --codes.
        #[arg(long, requires = "codes")]
        province: Option<String>,
        /// Indicator catalogue TOML (default: the built-in standards/monitor-indicators-cn.toml).
        #[arg(long)]
        catalogue: Option<PathBuf>,
    },
    /// Users of the monitoring network.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Submit observations from a file as a user (its API token).
    Import {
        #[arg(long)]
        db: String,
        /// The submitting user's API token.
        #[arg(long, env = "RENXING_TOKEN", hide_env_values = true)]
        token: String,
        /// Observations (unit,indicator,year,value) as CSV or an Excel .xlsx workbook, or with
        /// `--city-macro PROVINCE` the city statistics table (cn/stats/city_macro.csv).
        file: PathBuf,
        /// Read `file` as the city statistics table, keeping the cities of this province code.
        #[arg(long)]
        city_macro: Option<String>,
        /// Source recorded with each value (default: the file name).
        #[arg(long)]
        source: Option<String>,
    },
    /// Submit the indicators an engine run computed (its summary.json: per-capita shelter
    /// area, 500 m shelter coverage per admin unit) as observations of a year, with the run id.
    PushRun {
        #[arg(long)]
        db: String,
        /// The submitting user's API token.
        #[arg(long, env = "RENXING_TOKEN", hide_env_values = true)]
        token: String,
        /// The year the run stands for (its population's year).
        #[arg(long)]
        year: i32,
        /// The run's output folder (or its summary.json).
        run: PathBuf,
    },
    /// Verify the audit log's hash chain.
    Verify {
        #[arg(long)]
        db: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user with a role on one unit (and its subtree); prints the API token on its last line.
    Add {
        #[arg(long)]
        db: String,
        #[arg(long)]
        unit: String,
        /// viewer, editor, reviewer or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        /// Read a login password from this environment variable (≥ 8 characters).
        #[arg(long)]
        password_env: Option<String>,
    },
}

/// Open the store named by `url` (`sqlite://PATH` or `postgres://…`).
pub fn open(url: &str) -> anyhow::Result<AnyMonitor> {
    open_url(url, 2).with_context(|| format!("--db {}", redact(url)))
}

/// `renxing serve`: the API and web one-map until Ctrl-C / SIGTERM.
pub fn serve(url: &str, listen: SocketAddr, max_body_mib: usize, pool: usize) -> anyhow::Result<()> {
    let m = open_url(url, pool).with_context(|| format!("--db {}", redact(url)))?;
    let config = renxing_server::Config {
        max_body: max_body_mib.max(1) << 20,
        ..Default::default()
    };
    let state = renxing_server::AppState::new(m, config);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let shown = redact(url);
    rt.block_on(renxing_server::serve(state, listen, |addr| {
        eprintln!("renxing serve: {shown} on http://{addr}/ (API: http://{addr}/api/openapi.json)");
    }))
    .with_context(|| format!("--listen {listen}"))?;
    eprintln!("renxing serve: stopped");
    Ok(())
}

pub fn run(cmd: MonitorCommand) -> anyhow::Result<()> {
    match cmd {
        MonitorCommand::Init {
            db,
            units,
            townships,
            codes,
            province,
            catalogue,
        } => {
            let catalogue = match catalogue {
                Some(p) => {
                    let text = std::fs::read_to_string(&p).with_context(|| format!("{}", p.display()))?;
                    Catalogue::parse(&text, &p.display().to_string())?
                }
                None => Catalogue::builtin_cn(),
            };
            let list = match (&units, &codes, &province) {
                (Some(u), _, _) => renxing_monitor::unit::load_units(u, townships.as_deref())?,
                (None, Some(dir), Some(p)) => renxing_monitor::unit::units_from_codes(dir, p)?,
                _ => bail!("give --units FILE, or --codes DIR with --province CODE"),
            };
            let m = open(&db)?;
            let r = m.init(&list, &catalogue, "command line")?;
            eprintln!("{db}: {} units, {} indicators", r.units, r.indicators);
            Ok(())
        }
        MonitorCommand::User {
            command:
                UserCommand::Add {
                    db,
                    unit,
                    role,
                    name,
                    password_env,
                },
        } => {
            let role =
                Role::parse(&role).with_context(|| format!("--role {role}: use viewer, editor, reviewer or admin"))?;
            let password = match password_env {
                Some(var) => Some(std::env::var(&var).with_context(|| format!("--password-env: {var} is not set"))?),
                None => None,
            };
            let m = open(&db)?;
            let token = m.add_user(None, &name, &unit, role, password.as_deref())?;
            eprintln!("user {name}: {} on {unit}", role.as_str());
            println!("{token}");
            Ok(())
        }
        MonitorCommand::Import {
            db,
            token,
            file,
            city_macro,
            source,
        } => {
            let m = open(&db)?;
            let who: Principal = m.authenticate(&token)?;
            let batch = match &city_macro {
                Some(p) => renxing_monitor::import::read_city_macro(&file, p)?,
                None => renxing_monitor::import::read_observations(&file)?,
            };
            let source = source.unwrap_or_else(|| file.display().to_string());
            let n = m.submit_batch(&who, &batch, &source, None)?;
            eprintln!("{}: {n} observations submitted by {}", file.display(), who.name());
            Ok(())
        }
        MonitorCommand::PushRun { db, token, year, run } => {
            if !(1949..=2100).contains(&year) {
                bail!("--year {year}: a year in 1949–2100");
            }
            let m = open(&db)?;
            let who: Principal = m.authenticate(&token)?;
            let r = renxing_monitor::import::read_run_summary(&run, year)?;
            let source = format!("renxing run {}", r.project);
            let n = m
                .submit_batch(&who, &r.batch, &source, Some(&r.run_id))
                .with_context(|| format!("{}: submitting the run's values", run.display()))?;
            for note in &r.notes {
                eprintln!("note: {note}");
            }
            eprintln!(
                "run {}: {n} observations of {year} submitted by {}",
                r.run_id,
                who.name()
            );
            Ok(())
        }
        MonitorCommand::Verify { db } => {
            let v = open(&db)?.audit_verify()?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            if !v.ok {
                bail!(
                    "audit log broken at record {}: {}",
                    v.broken_at.unwrap_or(0),
                    v.reason.unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
