//! The project file (`renxing.toml`): which layers to load and how to run the exam.
//! The format is documented for users in `docs/project-file.md`; paths are relative to the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub standard: StandardSection,
    pub network: NetworkSection,
    pub admin: AdminSection,
    pub population: PopulationSection,
    pub shelters: SheltersSection,
    #[serde(default)]
    pub exam: ExamSection,
    /// Optional siting analysis: new sites beside the shelters (docs/project-file.md).
    pub siting: Option<SitingSection>,
    /// Routine facilities for dual-use scenarios (docs/scenarios.md).
    #[serde(default)]
    pub facilities: FacilitiesSection,
    /// Dual-use scenarios (docs/scenarios.md).
    #[serde(default)]
    pub scenario: Vec<ScenarioEntry>,
    /// Compound scenarios: scenarios that happen at once and compete for facilities.
    #[serde(default)]
    pub compound: Vec<CompoundEntry>,
    /// Folder of the project file; relative paths resolve against it.
    #[serde(skip)]
    pub base: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardSection {
    /// Name of a shipped profile (`cn`) or a path to a profile TOML.
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default)]
    pub overrides: BTreeMap<String, f64>,
}

impl Default for StandardSection {
    fn default() -> Self {
        StandardSection {
            profile: default_profile(),
            overrides: BTreeMap::new(),
        }
    }
}

fn default_profile() -> String {
    "cn".into()
}

fn default_crs() -> String {
    "wgs84".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    pub osm: Option<PathBuf>,
    pub nodes: Option<PathBuf>,
    pub edges: Option<PathBuf>,
    pub graphml: Option<PathBuf>,
    /// Declared CRS; `None` = the source's own (GeoTIFF keys) or WGS84.
    pub crs: Option<String>,
    /// The edge CSV lists each direction of a two-way street as its own row (u→v and v→u): read
    /// every row as one-way in its own direction.
    #[serde(default)]
    pub directed: bool,
    /// Walking speed overrides by highway class (km/h; 0 removes a class).
    #[serde(default)]
    pub walk_speeds_kmh: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// GeoJSON, Shapefile or GeoPackage of admin polygons.
    pub path: Option<PathBuf>,
    pub code_field: Option<String>,
    pub name_field: Option<String>,
    pub layer: Option<String>,
    /// Declared CRS; overrides the file's own (`.prj`, GeoJSON `crs`, GeoPackage srs). Default: the file's, else WGS84.
    pub crs: Option<String>,
    /// The cnmaps archive + index instead of `path`.
    pub cnmaps_archive: Option<PathBuf>,
    pub cnmaps_index: Option<PathBuf>,
    /// With cnmaps: the parent adcode whose children to load (e.g. "110000").
    pub under: Option<String>,
    /// Keep only these unit codes.
    #[serde(default)]
    pub codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct PopulationSection {
    /// `grid`, `points` or `admin_totals`.
    pub kind: String,
    pub path: PathBuf,
    /// Declared CRS; `None` = the source's own (GeoTIFF keys) or WGS84.
    pub crs: Option<String>,
    /// points: column with the head count.
    pub count_column: Option<String>,
    /// admin_totals: columns of the unit code and the total.
    pub code_column: Option<String>,
    pub value_column: Option<String>,
    /// admin_totals: `road_length` or `floor_area`.
    pub method: Option<String>,
    /// admin_totals with floor_area: an OSM file with the buildings.
    pub buildings_osm: Option<PathBuf>,
    /// A short description of the source for reports (e.g. "7th census 2020").
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheltersSection {
    /// Points CSV of shelters.
    pub path: Option<PathBuf>,
    #[serde(default = "default_crs")]
    pub crs: String,
    pub id_column: Option<String>,
    pub lon_column: Option<String>,
    pub lat_column: Option<String>,
    pub name_column: Option<String>,
    /// Column with the effective area (m²), if the source has one.
    pub area_column: Option<String>,
    /// Or: OSM files whose facilities of these kinds are candidate shelters.
    #[serde(default)]
    pub osm: Vec<PathBuf>,
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Share of an OSM polygon's area counted as effective shelter area (a value the project must
    /// state; no default is assumed). Without it OSM areas are reported but capacity stays unknown.
    pub effective_area_share: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamSection {
    /// Shelters farther than this from a walkable road are left out (m).
    pub max_snap_m: Option<f64>,
}

/// A TOML error as one line, `FILE: line L column C: MESSAGE` (toml's own Display spans several
/// lines with a source snippet).
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
            anyhow::anyhow!("{}: line {line} column {column}: {message}", path.display())
        }
        None => anyhow::anyhow!("{}: {message}", path.display()),
    }
}

impl Project {
    pub fn load(path: &Path) -> Result<Project> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("{}: cannot read project file", path.display()))?;
        let mut p: Project = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        p.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        p.check(path)?;
        Ok(p)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let n = &self.network;
        let sources = [
            n.osm.is_some(),
            n.nodes.is_some() || n.edges.is_some(),
            n.graphml.is_some(),
        ];
        if sources.iter().filter(|&&s| s).count() != 1 {
            bail!(
                "{}: [network] needs exactly one of osm, nodes + edges, graphml",
                path.display()
            );
        }
        if n.osm.is_some() && n.crs.is_some() {
            bail!(
                "{}: [network] crs does not apply to OpenStreetMap files (always WGS84)",
                path.display()
            );
        }
        if n.nodes.is_some() != n.edges.is_some() {
            bail!("{}: [network] nodes and edges go together", path.display());
        }
        let a = &self.admin;
        if a.path.is_some() == a.cnmaps_archive.is_some() {
            bail!(
                "{}: [admin] needs either path or cnmaps_archive (+ cnmaps_index, under)",
                path.display()
            );
        }
        if a.cnmaps_archive.is_some() && (a.cnmaps_index.is_none() || a.under.is_none()) {
            bail!(
                "{}: [admin] cnmaps_archive needs cnmaps_index and under",
                path.display()
            );
        }
        if !matches!(self.population.kind.as_str(), "grid" | "points" | "admin_totals") {
            bail!(
                "{}: [population] kind '{}' is not grid, points or admin_totals",
                path.display(),
                self.population.kind
            );
        }
        let s = &self.shelters;
        if s.path.is_none() && s.osm.is_empty() {
            bail!("{}: [shelters] needs path (CSV) or osm (files)", path.display());
        }
        if let Some(share) = s.effective_area_share
            && !(share > 0.0 && share <= 1.0)
        {
            bail!("{}: [shelters] effective_area_share must be in (0, 1]", path.display());
        }
        Ok(())
    }

    /// A path of the project file, resolved against its folder (and made canonical when it
    /// exists, so reports show `/…/data/x.csv` rather than `examples/a/../../data/x.csv`).
    pub fn resolve(&self, p: &Path) -> PathBuf {
        resolve_against(&self.base, p)
    }
}

/// `p` resolved against the folder `base` of a project file, canonical when it exists.
pub fn resolve_against(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    joined.canonicalize().unwrap_or(joined)
}

/// `[siting]`: choose `add` new sites (among road junctions or given points) beside the
/// project's shelters, to serve the most people within the service walking distance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitingSection {
    /// mclp (default), p-median, p-center, lscp, lscp-b.
    #[serde(default = "default_siting_model")]
    pub model: String,
    /// Number of new sites.
    pub add: usize,
    /// Walking distance counted as served (m); default: the standard's emergency shelter distance.
    pub service_m: Option<f64>,
    /// CSV of candidate points (id, lon, lat); default: road junctions inside the units.
    pub candidates: Option<PathBuf>,
    #[serde(default = "default_crs")]
    pub crs: String,
    /// Junction candidates: one per grid cell of this size (m).
    #[serde(default = "default_cell_m")]
    pub candidate_cell_m: f64,
    /// Seconds allowed to the solver.
    pub time_limit: Option<f64>,
}

fn default_siting_model() -> String {
    "mclp".into()
}

fn default_cell_m() -> f64 {
    250.0
}

/// `[facilities]`: routine facilities for dual-use scenarios.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilitiesSection {
    /// OSM files whose facilities (all kinds) enter the catalogue.
    #[serde(default)]
    pub osm: Vec<PathBuf>,
    /// Points CSV lists, each of one facility kind.
    #[serde(default)]
    pub csv: Vec<FacilityCsv>,
}

/// One facility list: points of one kind, with optional measured capacities in columns
/// `capacity_<role>` and optional `site_area_m2`, `floor_area_m2`, `rooms`, `beds`, `name`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityCsv {
    pub path: PathBuf,
    pub kind: String,
    #[serde(default = "default_crs")]
    pub crs: String,
    pub id_column: Option<String>,
    pub lon_column: Option<String>,
    pub lat_column: Option<String>,
}

/// `[[scenario]]`: one scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEntry {
    pub file: PathBuf,
}

/// `[[compound]]`: scenarios at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompoundEntry {
    pub name: String,
    pub scenarios: Vec<String>,
}
