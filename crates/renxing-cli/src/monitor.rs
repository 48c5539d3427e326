//! `renxing monitor …`: admin tasks of the monitoring network (thin over renxing-monitor).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use renxing_monitor::access::{Principal, Role};
use renxing_monitor::catalogue::Catalogue;
use renxing_monitor::store::{Monitor, Sqlite};

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Create (or update) a monitoring database: admin units and the indicator catalogue.
    Init {
        /// `sqlite://PATH` (embedded; the file is created).
        #[arg(long)]
        db: String,
        /// Boundary GeoJSON with adcode/level/name properties (e.g. cn/admin/henan_admin_wgs84.geojson).
        #[arg(long)]
        units: PathBuf,
        /// Township list (code,name,areaCode…; e.g. cn/codes/streets.csv) for the counties loaded.
        #[arg(long)]
        townships: Option<PathBuf>,
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
        /// Observation CSV (unit,indicator,year,value), or with `--city-macro PROVINCE` the city
        /// statistics table (cn/stats/city_macro.csv).
        file: PathBuf,
        /// Read `file` as the city statistics table, keeping the cities of this province code.
        #[arg(long)]
        city_macro: Option<String>,
        /// Source recorded with each value (default: the file name).
        #[arg(long)]
        source: Option<String>,
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

/// Open the store named by `url`.
pub fn open(url: &str) -> anyhow::Result<Monitor<Sqlite>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = Path::new(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("--db: cannot create {}", dir.display()))?;
        }
        return Ok(Monitor::open(Sqlite::open(path)?)?);
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        bail!("--db {url}: the PostgreSQL store is not built yet; use sqlite://PATH");
    }
    bail!("--db {url}: expected sqlite://PATH")
}

pub fn run(cmd: MonitorCommand) -> anyhow::Result<()> {
    match cmd {
        MonitorCommand::Init {
            db,
            units,
            townships,
            catalogue,
        } => {
            let catalogue = match catalogue {
                Some(p) => {
                    let text = std::fs::read_to_string(&p).with_context(|| format!("{}", p.display()))?;
                    Catalogue::parse(&text, &p.display().to_string())?
                }
                None => Catalogue::builtin_cn(),
            };
            let list = renxing_monitor::unit::load_units(&units, townships.as_deref())?;
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
                None => renxing_monitor::import::read_observations_csv(&file)?,
            };
            let source = source.unwrap_or_else(|| file.display().to_string());
            let n = m.submit_batch(&who, &batch, &source, None)?;
            eprintln!("{}: {n} observations submitted by {}", file.display(), who.name());
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
