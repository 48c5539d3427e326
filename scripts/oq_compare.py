#!/usr/bin/env python3
"""Compare `renxing oq` output files with OpenQuake's QA "expected" files (stdlib only).

Usage:
  oq_compare.py ACTUAL EXPECTED [--job JOB.ini] [--summary] [--rel 1e-6] [--abs 1e-9]
      compare one Renxing output file (or the output directory, for the .txt dumps that map to
      several outputs) with one OpenQuake expected file
  oq_compare.py --dir ACTUAL_DIR EXPECTED_DIR --job JOB.ini [--summary] [...]
      compare every expected file that belongs to JOB.ini with the Renxing output it maps to

Output: one JSON object per comparison on stdout (with --summary a one-line human summary each
instead); in --dir mode a final {"summary": ...} object. Exit status: 0 when nothing failed,
1 when a comparison failed, 2 on bad arguments or unreadable files.

Formats understood on the expected side
  * OpenQuake CSV exports: an optional leading comment line starting with '#'
    (`#,,,"generated_by=..."`), a header, rows.
  * pandas text dumps written by OpenQuake's event_based_damage tests (`X_damage_table.txt`,
    `X_damages.txt`): `str(df)` of the datastore tables `risk_by_event` (index event_id, agg_id,
    loss_id) and `aggcurves` (index agg_id, loss_id), every column rounded with numpy.around, i.e.
    to the nearest integer with ties to even. Index levels equal to the row above are blanked,
    rows elided by pandas show as `...`. Only the rows shown are compared, matched by index.
  * older exports whose columns were renamed, e.g. `asset-loss.csv`
    (LossType,Unit,Asset,Mean,Standard Deviation) -> avg_losses-rlz-000.csv.

Which Renxing file an expected file is compared with (OpenQuake's tests export under the 3.26.2
names and strip the calc id with re.sub(r'_\\d+', '', name), so `aggcurves-NAME_1_7.csv` is
stored as `aggcurves-NAME.csv`; several jobs of one case add a job tag, as suffix of CSVs,
`aggrisk-_no_time_event.csv`, or prefix of the dumps, `b_damages.txt`):
  aggrisk*/agg.csv/agglosses*/agg_loss*   -> aggrisk-<tag columns joined by '-'>.csv
  aggcurves*                              -> aggcurves-<tag columns>.csv
  risk_by_event*/losses_by_event/dmg_by_event -> risk_by_event.csv
  avg_damages*/dmg_by_asset*              -> avg_damages-rlz-000.csv
  avg_losses*/losses_by_asset*/asset-loss -> avg_losses-rlz-000.csv
  avg_risk*                               -> avg_risk-rlz-000.csv
  *_damage_table.txt -> risk_by_event.csv, rows of the total aggregation (agg_id = K) only:
      OpenQuake exports no per-tag event table, so rows with agg_id < K have no counterpart
  *_damages.txt      -> aggcurves-.csv (agg_id = K) and aggcurves-<tags>.csv (agg_id < K; the
      agg_id -> tag values map is rebuilt from the job's exposure and aggregate_by as OpenQuake
      3.26 numbers it: per aggregate_by group, the cartesian product of each tag's sorted distinct
      values, groups in order; for `id`, the assets in stable (lon, lat) order)
  gmf-FromFile*/gmf-data* -> gmf-data.csv, sites.csv/sitemesh* -> sitemesh.csv (optional outputs:
      skipped, not failed, when Renxing does not write them)
  asset-ins.csv (insured losses, gone from OpenQuake 3.x exports), gmf1/gmf2.csv (pre-3.x field
      dumps), *.rst views, and NAME_2.csv, NAME_3.csv... when NAME_1.csv exists (the same export
      from test runs with other parameters): never compared (reported as skipped).
In a case with several jobs, an expected file without job tag is compared with every job, except
aggrisk-<tags>/aggcurves-<tags> files (only jobs aggregating by those tags) and the files of
UNTAGGED_JOBS (only the jobs OpenQuake 3.26.2 reproduces them with).

Matching and the numeric rule
  Rows are matched by key columns: asset_id, id, event_id, loss_type, return_period, agg_id,
  rlz_id, stat, site_id, custom_site_id and every expected column holding text (tags such as
  taxonomy, policy, NAME_1). A missing or extra row is a failure; so is a missing column (an extra
  Renxing column is a failure only when the expected file was written by OpenQuake 3.26, whose
  headers Renxing copies, and a note otherwise).
  A number a (Renxing) matches the expected text e when
    |a - e| <= max(rel * |e|, abs)                     (rel = 1e-6, abs = 1e-9 by default), or
    e is printed with limited precision and a printed the same way gives the same digits, or
    |a - e| <= 5 * 10^-p * |e| for e printed in exponent form with p significant digits
    (`%.5E`: p = 6, rel <= 5e-6), or |a - e| <= half a unit of the last decimal for fixed
    notation (`%.5f`: 5e-6).
  Integer literals (no '.' nor exponent) get no printed-precision allowance. Files that OpenQuake's
  own tests check with a larger `delta` (event_based_damage case_11/13/14/15, see OQ_TEST_DELTAS)
  use rel = abs = delta instead, as numpy's assert_allclose(rtol=delta, atol=delta) does there.
  In the .txt dumps, where OpenQuake rounded to integers, a matches when |a - e| <= 0.5 (+1e-6
  relative slack).
  The reported max_rel_diff is the largest min(|a - e|, |q(a) - e|) / max(|a|, |e|), q(a) being a
  rounded to e's printed precision: 0 when every printed digit agrees (and, in the dumps, for any
  value within the rounding band).
Legacy files (LossType,Unit,Asset,Mean header) are compared for information only: a mismatch is
reported as "stale", not as a failure (OpenQuake 3.26.2 itself does not reproduce e.g.
scenario_risk/case_1/expected/asset-loss.csv).
"""

from __future__ import annotations

import argparse
import configparser
import csv
import itertools
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Loss type of each loss_id in OpenQuake 3.26 (openquake.risklib.scientific.LOSSTYPE, first entries).
LOSSTYPE = [
    "business_interruption", "contents", "nonstructural", "structural", "occupants", "occupants_day",
    "occupants_night", "occupants_transit", "structural+nonstructural", "structural+contents",
    "nonstructural+contents", "structural+nonstructural+contents", "structural+nonstructural_ins",
    "structural+contents_ins", "nonstructural+contents_ins", "structural+nonstructural+contents_ins",
    "structural_ins", "nonstructural_ins", "reinsurance", "claim", "area", "number", "residents",
]
# Consequence names OpenQuake 3.26 knows (scientific.KNOWN_CONSEQUENCES).
CONSEQUENCES = {"loss", "loss_aep", "loss_oep", "pla_loss", "pla_loss_aep", "pla_loss_oep", "losses",
                "collapsed", "injured", "fatalities", "homeless", "non_operational"}
KEY_COLUMNS = {"asset_id", "id", "event_id", "loss_type", "return_period", "agg_id", "rlz_id", "stat",
               "site_id", "custom_site_id"}
NOT_KEYS = {"lon", "lat", "depth", "unit"}
# Columns of risk_by_event.csv that are neither limit states nor consequences.
EVENT_META = {"event_id", "loss_type", "rup_id", "rlz_id", "year", "ses_id", "variance"}
# Renxing outputs that must exist when an expected file maps to them.
REQUIRED_PREFIXES = ("aggrisk", "aggcurves", "risk_by_event", "avg_damages", "avg_losses", "avg_risk")
# Tolerances OpenQuake's own tests use for some expected files (assertEqualFiles(..., delta=D), i.e.
# numpy assert_allclose with rtol = atol = D), from openquake/calculators/tests/*_test.py; keyed by
# (calculator folder, case folder, expected file name). Every other file uses the default rule.
OQ_TEST_DELTAS = {
    ("event_based_damage", "case_11", "damages-rlzs.csv"): 1e-3,
    ("event_based_damage", "case_11", "aggcurves-NAME.csv"): 2e-3,
    ("event_based_damage", "case_13", "aggcurves-.csv"): 5e-5,
    ("event_based_damage", "case_13", "risk_by_event.csv"): 5e-5,
    ("event_based_damage", "case_14", "aggcurves-NAME.csv"): 5e-5,
    ("event_based_damage", "case_15", "avg_risk-mean.csv"): 5e-5,
    ("event_based_damage", "case_15", "aggcurves-.csv"): 5e-5,
}
# Untagged expected files of multi-job cases that only some jobs reproduce (checked by running
# OpenQuake 3.26.2 on every job): (calculator, case, file) -> job tags to compare with.
UNTAGGED_JOBS = {
    # job_a samples a discrete damage distribution; the expected totals are those of jobs b-d
    ("event_based_damage", "case_12", "aggrisk-.csv"): {"b", "c", "d"},
}
LEGACY_RENAME = {"LossType": "loss_type", "Asset": "asset_id", "eid": "event_id", "sid": "site_id"}
NUM_RE = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


class CompareError(Exception):
    """An input that cannot be read or understood."""


# --------------------------------------------------------------------------- reading
@dataclass
class Table:
    """A CSV file: header, rows of strings, and the `generated_by` comment if any."""

    path: str
    columns: list[str]
    rows: list[list[str]]
    comment: str = ""

    def col(self, name: str) -> int:
        return self.columns.index(name)


def read_csv_table(path: str) -> Table:
    """Read an OpenQuake-style CSV: leading '#' comment lines skipped, first other line is the header."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CompareError(f"{path}: cannot read ({e.strerror})") from e
    comment = ""
    body = []
    for line in lines:
        if line.startswith("#") and not body:
            comment = comment or line
            continue
        if line.strip():
            body.append(line)
    if not body:
        raise CompareError(f"{path}: no header line")
    rows = list(csv.reader(body))
    header = [c.strip() for c in rows[0]]
    data = []
    for i, r in enumerate(rows[1:], 2):
        if len(r) != len(header):
            raise CompareError(f"{path}: data line {i} has {len(r)} fields, header has {len(header)}")
        data.append([c.strip() for c in r])
    return Table(path, header, data, comment)


@dataclass
class Dump:
    """A pandas `str(df)` dump with a (multi-)index."""

    path: str
    index_names: list[str]
    value_names: list[str]
    rows: list[tuple[tuple[str, ...], list[str]]]
    elided: bool = False


def read_pandas_dump(path: str) -> Dump:
    """Parse `str(df)` text: line 1 value column names, line 2 index names, then rows whose blank
    leading index levels repeat the row above; `...` rows mark elided rows."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CompareError(f"{path}: cannot read ({e.strerror})") from e
    if len(lines) < 3:
        raise CompareError(f"{path}: too short for a pandas dump")
    value_names = lines[0].split()
    index_names = lines[1].split()
    if not value_names or not index_names:
        raise CompareError(f"{path}: expected value names on line 1 and index names on line 2")
    nv, ni = len(value_names), len(index_names)
    rows = []
    prev: tuple[str, ...] | None = None
    elided = False
    for lineno, line in enumerate(lines[2:], 3):
        toks = line.split()
        if not toks or line.startswith("["):
            break
        if all(t == "..." for t in toks):
            elided = True
            prev = None
            continue
        if len(toks) < nv + 1 or len(toks) > nv + ni:
            raise CompareError(f"{path}: line {lineno}: {len(toks)} fields, expected {nv + 1}..{nv + ni}")
        idx = toks[: len(toks) - nv]
        vals = toks[len(toks) - nv:]
        missing = ni - len(idx)
        if missing:
            if prev is None:
                continue  # first row after an elision without its leading levels: cannot place it
            idx = list(prev[:missing]) + idx
        prev = tuple(idx)
        rows.append((prev, vals))
    return Dump(path, index_names, value_names, rows, elided)


# --------------------------------------------------------------------------- numbers
def parse_float(s: str) -> float | None:
    try:
        v = float(s)
    except ValueError:
        return None
    return v


def norm_key(s: str) -> str:
    """Normalise a key cell: integral numbers as integers ('50.0' -> '50'), text stripped."""
    s = s.strip()
    v = parse_float(s)
    if v is not None and math.isfinite(v) and NUM_RE.match(s):
        if v == int(v) and abs(v) < 2**53:
            return str(int(v))
        return repr(v)
    return s


@dataclass
class Printed:
    """How a number was printed: exponent style with `frac` mantissa decimals, fixed with `frac`
    decimals, or an integer literal."""

    style: str  # 'exp', 'fixed', 'int'
    frac: int
    half_unit: float  # |a - e| allowed by the printed precision (0 for integers)

    def quantize(self, a: float) -> float:
        if not math.isfinite(a):
            return a
        if self.style == "exp":
            return float(f"{a:.{self.frac}E}")
        if self.style == "fixed":
            return round(a, self.frac)
        return a


def printed_form(text: str) -> Printed:
    m = NUM_RE.match(text.strip())
    if not m:
        return Printed("int", 0, 0.0)
    intpart, frac, exp = m.group(1), m.group(2), m.group(3)
    if exp is not None:
        # p = nfrac + 1 significant digits: allowance rel 5 * 10^-p of |e| (5e-6 for `%.5E`),
        # i.e. up to one unit of the last digit when the mantissa is near 10, half a unit near 1
        nfrac = len(frac or "")
        e = float(text)
        scale = abs(e) if e != 0 else 10.0 ** int(exp)
        return Printed("exp", nfrac, 5.0 * 10.0 ** -(nfrac + 1) * scale)
    if frac is not None:
        return Printed("fixed", len(frac), 0.5 * 10.0 ** -len(frac))
    return Printed("int", 0, 0.0)


@dataclass
class Rule:
    rel: float = 1e-6
    abs: float = 1e-9
    rounded_int: bool = False  # .txt dumps: OpenQuake rounded to integers


def number_ok(a: float, etext: str, rule: Rule) -> tuple[bool, float]:
    """(match?, reported relative difference) for Renxing value a against expected text."""
    e = float(etext)
    if math.isnan(e) or math.isnan(a):
        return (math.isnan(e) and math.isnan(a)), (0.0 if math.isnan(e) and math.isnan(a) else math.inf)
    if rule.rounded_int:
        # OpenQuake rounded with numpy.around (half to even, as Python's round); a value within
        # half a unit of e is consistent with it, whatever side of a tie float noise put it on.
        ok = abs(a - e) <= 0.5 + 1e-6 * max(1.0, abs(a))
        return ok, (0.0 if ok else rel_diff(float(round(a)), e, rule.abs))
    diff = abs(a - e)
    pf = printed_form(etext)
    q = pf.quantize(a)
    rd = min(rel_diff(a, e, rule.abs), rel_diff(q, e, rule.abs))
    if diff <= max(rule.rel * abs(e), rule.abs):
        return True, rd
    return pf.style != "int" and (q == e or diff <= pf.half_unit * (1 + 1e-9)), rd


def rel_diff(a: float, e: float, abs_tol: float) -> float:
    """|a - e| relative to the larger magnitude; 0 below the absolute tolerance."""
    d = abs(a - e)
    if d <= abs_tol or math.isnan(d):
        return 0.0 if d <= abs_tol else math.inf
    return d / max(abs(a), abs(e))


# --------------------------------------------------------------------------- results
@dataclass
class Result:
    expected: str
    actual: str
    status: str = "pass"  # pass / fail / stale / skip
    reason: str = ""
    rows: int = 0
    values: int = 0
    max_rel_diff: float = 0.0
    worst: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, msg: str) -> None:
        self.status = "fail"
        if len(self.problems) < 20:
            self.problems.append(msg)
        elif len(self.problems) == 20:
            self.problems.append("... more problems not shown")

    def to_json(self) -> dict:
        d = {
            "expected": self.expected,
            "actual": self.actual,
            "status": self.status,
            "rows": self.rows,
            "values": self.values,
            "max_rel_diff": self.max_rel_diff if math.isfinite(self.max_rel_diff) else "inf",
        }
        for k in ("reason", "worst"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        if self.problems:
            d["problems"] = self.problems
        if self.notes:
            d["notes"] = self.notes
        return d

    def summary_line(self) -> str:
        s = f"{self.status.upper():5s} {os.path.basename(self.expected)} <- {os.path.basename(self.actual) or '-'}"
        if self.status in ("pass", "fail", "stale"):
            s += f": {self.rows} rows, {self.values} values, max rel diff {self.max_rel_diff:.3g}"
        if self.reason:
            s += f" ({self.reason})"
        for p in self.problems[:5]:
            s += f"\n      {p}"
        return s


def record(res: Result, a: float, etext: str, rule: Rule, where: str) -> None:
    ok, rd = number_ok(a, etext, rule)
    res.values += 1
    if rd > res.max_rel_diff or (not ok and not res.worst):
        res.max_rel_diff = max(res.max_rel_diff, rd)
        res.worst = f"{where}: renxing {a!r} vs expected {etext}"
    if not ok:
        res.problem(f"{where}: renxing {a!r} vs expected {etext} (rel diff {rd:.3g})")


# --------------------------------------------------------------------------- CSV vs CSV
def is_text_column(t: Table, name: str) -> bool:
    i = t.col(name)
    return any(parse_float(r[i]) is None for r in t.rows if r[i] != "")


def pick_keys(exp: Table, act: Table) -> list[str]:
    keys = []
    for c in exp.columns:
        if c not in act.columns or c in NOT_KEYS:
            continue
        if c in KEY_COLUMNS or is_text_column(exp, c):
            keys.append(c)
    return keys


def index_rows(t: Table, keys: list[str], res: Result, side: str) -> dict[tuple, list[str]]:
    idx = [t.col(k) for k in keys]
    out: dict[tuple, list[str]] = {}
    seen: dict[tuple, int] = {}
    for r in t.rows:
        k = tuple(norm_key(r[i]) for i in idx)
        n = seen.get(k, 0)
        seen[k] = n + 1
        if n:
            k = k + (f"#{n}",)  # duplicate key: match by occurrence
        out[k] = r
    dups = sum(1 for v in seen.values() if v > 1)
    if dups:
        res.notes.append(f"{side}: {dups} duplicated keys {keys}, matched by occurrence order")
    return out


def expected_version(comment: str) -> tuple[int, int] | None:
    m = re.search(r"OpenQuake engine (\d+)\.(\d+)", comment)
    return (int(m.group(1)), int(m.group(2))) if m else None


def compare_csv(act_path: str, exp_path: str, rule: Rule, colmap: dict[str, str] | None = None,
                exp: Table | None = None) -> Result:
    """Compare two CSV tables matching rows by key columns; colmap renames expected -> actual."""
    res = Result(exp_path, act_path)
    exp = exp or read_csv_table(exp_path)
    act = read_csv_table(act_path)
    colmap = colmap or {}
    exp = Table(exp.path, [colmap.get(c, LEGACY_RENAME.get(c, c)) for c in exp.columns], exp.rows, exp.comment)
    missing = [c for c in exp.columns if c not in act.columns]
    extra = [c for c in act.columns if c not in exp.columns]
    same_version = expected_version(exp.comment) == (3, 26)
    for c in missing:
        res.problem(f"column {c!r} missing in renxing output")
    if extra:
        msg = f"extra renxing columns {extra}"
        if same_version:
            res.problem(msg + " (expected file written by OpenQuake 3.26)")
        else:
            res.notes.append(msg)
    common = [c for c in exp.columns if c in act.columns]
    if not missing and not extra and common != act.columns:
        res.notes.append("column order differs from the expected header")
    keys = pick_keys(exp, act)
    e_rows = index_rows(exp, keys, res, "expected")
    a_rows = index_rows(act, keys, res, "renxing")
    for k in e_rows:
        if k not in a_rows:
            res.problem(f"row {dict(zip(keys, k))} missing in renxing output")
    for k in a_rows:
        if k not in e_rows:
            res.problem(f"extra renxing row {dict(zip(keys, k))}")
    for k, er in e_rows.items():
        ar = a_rows.get(k)
        if ar is None:
            continue
        res.rows += 1
        for c in common:
            if c in keys:
                continue
            et, at = er[exp.col(c)], ar[act.col(c)]
            where = f"{c}@{dict(zip(keys, k))}"
            ev, av = parse_float(et), parse_float(at)
            if ev is None or av is None:
                if norm_key(et) != norm_key(at):
                    res.problem(f"{where}: renxing {at!r} vs expected {et!r}")
                continue
            record(res, av, et, rule, where)
    res.notes.append(f"keys {keys}")
    return res


# --------------------------------------------------------------------------- legacy asset-loss
def compare_asset_loss(act_path: str, exp_path: str, rule: Rule) -> Result:
    """LossType,Unit,Asset,Mean[,Standard Deviation] against avg_losses-rlz-000.csv (Mean only)."""
    res = Result(exp_path, act_path)
    exp = read_csv_table(exp_path)
    act = read_csv_table(act_path)
    if "asset_id" not in act.columns:
        res.problem("renxing avg_losses has no asset_id column")
        return res
    by_asset = {r[act.col("asset_id")]: r for r in act.rows}
    for r in exp.rows:
        lt, aid, mean = r[exp.col("LossType")], r[exp.col("Asset")], r[exp.col("Mean")]
        ar = by_asset.get(aid)
        if ar is None:
            res.problem(f"asset {aid} missing in renxing output")
            continue
        if lt not in act.columns:
            res.problem(f"loss type column {lt!r} missing in renxing output")
            continue
        res.rows += 1
        av = parse_float(ar[act.col(lt)])
        if av is None:
            res.problem(f"{lt}@{aid}: not a number in renxing output")
            continue
        record(res, av, mean, rule, f"{lt}@{aid}")
    extra = sorted(set(by_asset) - {r[exp.col("Asset")] for r in exp.rows})
    if extra:
        res.problem(f"extra renxing assets {extra[:10]}")
    res.notes.append("legacy format: Standard Deviation not compared")
    return res


# --------------------------------------------------------------------------- job / exposure
def read_job(job_ini: str) -> dict[str, str]:
    cp = configparser.ConfigParser(interpolation=None, strict=False, inline_comment_prefixes=None)
    try:
        with open(job_ini, encoding="utf-8") as f:
            cp.read_file(f)
    except (OSError, configparser.Error) as e:
        raise CompareError(f"{job_ini}: cannot read job file ({e})") from e
    params: dict[str, str] = {}
    for sec in cp.sections():
        for k, v in cp.items(sec):
            params[k] = v.strip()
    return params


def parse_aggregate_by(text: str) -> list[list[str]]:
    groups = []
    for g in text.split(";"):
        tags = [t for t in re.split(r"[,\s]+", g.strip()) if t]
        if tags:
            groups.append(tags)
    return groups


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_exposure_assets(job_ini: str, params: dict[str, str]) -> list[dict[str, str]]:
    """Assets (id, lon, lat, taxonomy, tags) of the job's exposure (NRML XML with inline assets or
    CSV asset files, or CSV exposure files)."""
    base = os.path.dirname(os.path.abspath(job_ini))
    files = params.get("exposure_file", "").split()
    if not files:
        raise CompareError(f"{job_ini}: no exposure_file")
    assets: list[dict[str, str]] = []
    for fname in files:
        path = os.path.join(base, fname)
        if path.lower().endswith(".csv"):
            assets += read_asset_csv(path)
            continue
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            raise CompareError(f"{path}: cannot parse exposure ({e})") from e
        model = next((el for el in root.iter() if local(el.tag) == "exposureModel"), None)
        if model is None:
            raise CompareError(f"{path}: no exposureModel element")
        assets_el = next((el for el in model if local(el.tag) == "assets"), None)
        if assets_el is None:
            raise CompareError(f"{path}: no assets element")
        inline = [el for el in assets_el if local(el.tag) == "asset"]
        if inline:
            for el in inline:
                a = {"id": el.get("id", ""), "taxonomy": el.get("taxonomy", "")}
                for ch in el:
                    if local(ch.tag) == "location":
                        a["lon"], a["lat"] = ch.get("lon", ""), ch.get("lat", "")
                    elif local(ch.tag) == "tags":
                        a.update(ch.attrib)
                assets.append(a)
        else:
            for csvname in (assets_el.text or "").split():
                assets += read_asset_csv(os.path.join(os.path.dirname(path), csvname))
    return assets


def read_asset_csv(path: str) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]
    except OSError as e:
        raise CompareError(f"{path}: cannot read assets ({e.strerror})") from e


def build_agg_keys(job_ini: str) -> tuple[list[tuple[tuple[str, ...], tuple[str, ...]]], str]:
    """[(tagnames, tagvalues)] in OpenQuake's agg_id order (see module doc), or ([], reason)."""
    params = read_job(job_ini)
    groups = parse_aggregate_by(params.get("aggregate_by", ""))
    if not groups:
        return [], ""
    assets = read_exposure_assets(job_ini, params)
    keys: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for g in groups:
        if g == ["id"]:
            order = sorted(range(len(assets)),
                           key=lambda i: (float(assets[i].get("lon") or 0), float(assets[i].get("lat") or 0)))
            keys += [(("id",), (assets[i]["id"],)) for i in order]
            continue
        if "site_id" in g:
            return [], "aggregate_by site_id needs OpenQuake's site association"
        values = []
        for t in g:
            if any(t not in a for a in assets):
                return [], f"tag {t!r} missing from some assets"
            values.append(sorted({a[t] for a in assets}))
        keys += [(tuple(g), combo) for combo in itertools.product(*values)]
    return keys, ""


# --------------------------------------------------------------------------- .txt dumps
def loss_type_of(loss_id: str) -> str | None:
    try:
        return LOSSTYPE[int(loss_id)]
    except (ValueError, IndexError):
        return None


def limit_state_columns(act: Table, dump_values: list[str]) -> list[str]:
    skip = EVENT_META | CONSEQUENCES | {v for v in dump_values if not v.startswith("dmg_")}
    return [c for c in act.columns if c not in skip and not c.endswith(("_value", "_ratio"))]


def compare_damage_table(act_dir: str, exp_path: str, rule: Rule, job_ini: str | None) -> Result:
    """X_damage_table.txt (risk_by_event by event_id, agg_id, loss_id) vs risk_by_event.csv (totals)."""
    act_path = os.path.join(act_dir, "risk_by_event.csv")
    res = Result(exp_path, act_path)
    dump = read_pandas_dump(exp_path)
    if dump.index_names != ["event_id", "agg_id", "loss_id"]:
        raise CompareError(f"{exp_path}: unexpected index {dump.index_names}")
    if not os.path.exists(act_path):
        res.problem("risk_by_event.csv missing in renxing output")
        return res
    act = read_csv_table(act_path)
    K = None
    if job_ini:
        keys, why = build_agg_keys(job_ini)
        if keys:
            K = len(keys)
        elif why:
            res.notes.append(f"agg keys not rebuilt: {why}")
    if K is None:
        K = max(int(idx[1]) for idx, _ in dump.rows)
        res.notes.append(f"K = {K} taken as the largest agg_id shown")
    ls = limit_state_columns(act, dump.value_names)
    colmap = {}
    for v in dump.value_names:
        if v.startswith("dmg_"):
            i = int(v[4:])
            if i - 1 < len(ls):
                colmap[v] = ls[i - 1]
            else:
                res.problem(f"no limit state column #{i} in renxing risk_by_event.csv (has {ls})")
        else:
            colmap[v] = v
    a_rows = {}
    ei, li = act.col("event_id") if "event_id" in act.columns else None, (
        act.col("loss_type") if "loss_type" in act.columns else None)
    if ei is None or li is None:
        res.problem("renxing risk_by_event.csv lacks event_id/loss_type")
        return res
    for r in act.rows:
        a_rows[(norm_key(r[ei]), r[li])] = r
    skipped = 0
    rint = Rule(rule.rel, rule.abs, rounded_int=True)
    for (ev, agg, lid), vals in dump.rows:
        if int(agg) != K:
            skipped += 1
            continue
        lt = loss_type_of(lid)
        ar = a_rows.get((norm_key(ev), lt))
        if ar is None:
            res.problem(f"event {ev} {lt}: missing in renxing risk_by_event.csv")
            continue
        res.rows += 1
        for v, et in zip(dump.value_names, vals):
            c = colmap.get(v)
            if c is None:
                continue
            if c not in act.columns:
                res.problem(f"column {c!r} missing in renxing risk_by_event.csv")
                continue
            av = parse_float(ar[act.col(c)])
            if av is None:
                res.problem(f"{c}@event {ev}: not a number")
                continue
            record(res, av, et, rint, f"{c}@event {ev} {lt}")
    if skipped:
        res.notes.append(f"{skipped} shown rows with agg_id < {K} not compared (no per-tag event export)")
    if dump.elided:
        res.notes.append("dump elided by pandas: only the rows shown were compared")
    return res


def compare_damages_dump(act_dir: str, exp_path: str, rule: Rule, job_ini: str | None) -> Result:
    """X_damages.txt (aggcurves by agg_id, loss_id) vs aggcurves-.csv and aggcurves-<tags>.csv."""
    res = Result(exp_path, os.path.join(act_dir, "aggcurves-*.csv"))
    dump = read_pandas_dump(exp_path)
    if dump.index_names != ["agg_id", "loss_id"]:
        raise CompareError(f"{exp_path}: unexpected index {dump.index_names}")
    keys: list = []
    if job_ini:
        keys, why = build_agg_keys(job_ini)
        if why:
            res.notes.append(f"agg keys not rebuilt: {why}")
    K = len(keys) if keys else max(int(idx[0]) for idx, _ in dump.rows)
    tables: dict[str, Table | None] = {}

    def table(tagnames: tuple[str, ...]) -> Table | None:
        name = "aggcurves-" + "-".join(tagnames) + ".csv"
        if name not in tables:
            p = os.path.join(act_dir, name)
            tables[name] = read_csv_table(p) if os.path.exists(p) else None
            if tables[name] is None:
                res.problem(f"{name} missing in renxing output")
        return tables[name]

    rint = Rule(rule.rel, rule.abs, rounded_int=True)
    unmapped = 0
    for (agg, lid), vals in dump.rows:
        agg_id = int(agg)
        if agg_id == K:
            tagnames, tagvalues = (), ()
        elif keys and agg_id < len(keys):
            tagnames, tagvalues = keys[agg_id]
        else:
            unmapped += 1
            continue
        t = table(tagnames)
        if t is None:
            continue
        lt = loss_type_of(lid)
        rp = vals[dump.value_names.index("return_period")] if "return_period" in dump.value_names else None
        match = None
        for r in t.rows:
            if "loss_type" in t.columns and r[t.col("loss_type")] != lt:
                continue
            if rp is not None and norm_key(r[t.col("return_period")]) != norm_key(rp):
                continue
            if any(r[t.col(n)] != v for n, v in zip(tagnames, tagvalues) if n in t.columns):
                continue
            if "rlz_id" in t.columns and "rlz_id" in dump.value_names:
                if norm_key(r[t.col("rlz_id")]) != norm_key(vals[dump.value_names.index("rlz_id")]):
                    continue
            match = r
            break
        where = f"agg_id {agg_id} {dict(zip(tagnames, tagvalues))} rp {rp} {lt}"
        if match is None:
            res.problem(f"{where}: row missing in renxing aggcurves")
            continue
        res.rows += 1
        for v, et in zip(dump.value_names, vals):
            if v in ("return_period", "rlz_id"):
                continue
            c = v + "_value" if v + "_value" in t.columns else v
            if c not in t.columns:
                res.problem(f"column {c!r} missing in renxing {os.path.basename(t.path)}")
                continue
            av = parse_float(match[t.col(c)])
            if av is None:
                res.problem(f"{c}@{where}: not a number")
                continue
            record(res, av, et, rint, f"{c}@{where}")
    if unmapped:
        res.notes.append(f"{unmapped} rows with agg_id < {K} not compared (agg_id -> tags unknown; pass --job)")
    return res


# --------------------------------------------------------------------------- mapping
def strip_calc_ids(name: str) -> str:
    stem, ext = os.path.splitext(name)
    return re.sub(r"_\d+$", "", stem) + ext


def tag_columns(exp: Table) -> list[str]:
    tags = []
    for c in exp.columns:
        if c in ("loss_type", "rlz_id", "stat", "return_period") or c.endswith(("_value", "_ratio")):
            continue
        if c in ("site_id", "id") or is_text_column(exp, c):
            tags.append(c)
    return tags


def map_expected(base: str, exp_path: str) -> tuple[str, str]:
    """(kind, renxing file name) for an expected file name with its job tag removed.
    kind: csv / asset_loss / damage_table / damages_dump / optional / skip:<reason>."""
    low = base.lower()
    if low.endswith(".rst"):
        return "skip:rst view, not an export", ""
    if low.endswith("_damage_table.txt") or low == "damage_table.txt":
        return "damage_table", "risk_by_event.csv"
    if low.endswith("_damages.txt") or low == "damages.txt":
        return "damages_dump", "aggcurves-.csv"
    if low.endswith(".txt"):
        return "skip:unknown text dump", ""
    if low == "asset-ins.csv":
        return "skip:insured losses, no OpenQuake 3.26 export", ""
    try:
        exp = read_csv_table(exp_path)
    except CompareError as e:
        return f"skip:{e}", ""
    if exp.columns[:2] == ["lon", "lat"] and any(":float32" in c for c in exp.columns):
        return "skip:pre-3.x GMF dump, no current export", ""
    if "Mean" in exp.columns and "Asset" in exp.columns:
        return "asset_loss", "avg_losses-rlz-000.csv"
    name = strip_calc_ids(base)
    stem = name[:-4] if name.endswith(".csv") else name
    if stem.startswith(("aggrisk-stats", "aggcurves-stats")):
        return "csv", name
    if stem.startswith(("aggrisk", "agglosses", "agg_loss")) or stem == "agg":
        return "csv", "aggrisk-" + "-".join(tag_columns(exp)) + ".csv"
    if stem.startswith("aggcurves"):
        return "csv", "aggcurves-" + "-".join(tag_columns(exp)) + ".csv"
    if stem.startswith(("risk_by_event", "losses_by_event", "dmg_by_event")):
        return "csv", "risk_by_event.csv"
    if stem.startswith(("avg_damages", "dmg_by_asset")):
        return "csv", "avg_damages-rlz-000.csv"
    if stem.startswith(("avg_losses_by", "aggregate_by")):
        return "csv", name
    if stem.startswith(("avg_losses", "losses_by_asset")):
        return "csv", "avg_losses-rlz-000.csv"
    if stem.startswith("avg_risk"):
        return "csv", "avg_risk-rlz-000.csv"
    if stem.startswith(("gmf-fromfile", "gmf-data", "gmf_data")) or low.startswith("gmf-fromfile"):
        return "optional", "gmf-data.csv"
    if stem in ("sites", "sitemesh"):
        return "optional", "sitemesh.csv"
    return "optional", name


def job_tag(job_ini: str) -> str:
    stem = os.path.splitext(os.path.basename(job_ini))[0]
    return stem[4:] if stem.startswith("job_") else ("" if stem == "job" else stem)


def file_tag(name: str, tags: list[str]) -> tuple[str | None, str]:
    """(job tag of an expected file or None, the name with the tag removed)."""
    stem, ext = os.path.splitext(name)
    for t in sorted((t for t in tags if t), key=len, reverse=True):
        if ext == ".txt" and stem.startswith(t + "_"):
            return t, stem[len(t) + 1:] + ext
        if ext != ".txt" and stem.endswith("_" + t):
            return t, stem[: -len(t) - 1] + ext
    return None, name


def test_delta(exp_path: str) -> float | None:
    """OpenQuake's test tolerance for this expected file, if its tests use a non-default one."""
    parts = os.path.abspath(exp_path).split(os.sep)
    if len(parts) < 4:
        return None
    return OQ_TEST_DELTAS.get((parts[-4], parts[-3], parts[-1]))


def compare_one(kind: str, act: str, exp_path: str, rule: Rule, job: str | None) -> Result:
    act_dir = act if os.path.isdir(act) else os.path.dirname(act)
    delta = test_delta(exp_path)
    if delta is not None and delta > rule.rel:
        res = compare_one(kind, act, exp_path, Rule(delta, max(rule.abs, delta), rule.rounded_int), job)
        res.notes.append(f"tolerance delta={delta:g} as in OpenQuake's test of this file")
        return res
    if kind == "damage_table":
        return compare_damage_table(act_dir, exp_path, rule, job)
    if kind == "damages_dump":
        return compare_damages_dump(act_dir, exp_path, rule, job)
    if kind == "asset_loss":
        res = compare_asset_loss(act, exp_path, rule)
        if res.status == "fail":
            res.status, res.reason = "stale", "legacy export, informational only"
        return res
    return compare_csv(act, exp_path, rule)


def compare_dir(act_dir: str, exp_dir: str, job: str, rule: Rule) -> list[Result]:
    case_dir = os.path.dirname(os.path.abspath(job))
    jobs = sorted(f for f in os.listdir(case_dir) if f.endswith(".ini"))
    tags = [job_tag(j) for j in jobs]
    mine = job_tag(job)
    groups = parse_aggregate_by(read_job(job).get("aggregate_by", ""))
    results = []
    for name in sorted(os.listdir(exp_dir)):
        exp_path = os.path.join(exp_dir, name)
        if not os.path.isfile(exp_path):
            continue
        tag, base = None, name
        if len(jobs) > 1:
            tag, base = file_tag(name, tags)
            if tag is not None and tag != mine:
                continue  # belongs to another job of the case
        cal, case = os.path.abspath(exp_dir).split(os.sep)[-3:-1]
        allowed = UNTAGGED_JOBS.get((cal, case, name))
        if tag is None and allowed is not None and mine not in allowed:
            results.append(Result(exp_path, "", "skip", f"expected from job(s) {sorted(allowed)} only"))
            continue
        variant = re.match(r"^(.*)_(\d+)(\.[a-z]+)$", base)
        if variant and int(variant.group(2)) >= 2 and os.path.exists(
                os.path.join(exp_dir, f"{variant.group(1)}_1{variant.group(3)}")):
            results.append(Result(exp_path, "", "skip", "numbered variant from a test run with other parameters"))
            continue
        kind, target = map_expected(base, exp_path)
        if kind.startswith("skip:"):
            results.append(Result(exp_path, "", "skip", kind[5:]))
            continue
        act_path = os.path.join(act_dir, target)
        tagged = re.match(r"^(aggrisk|aggcurves)-(.+)\.csv$", target)
        if tagged and tag is None and len(jobs) > 1 and tagged.group(2).split("-") not in groups:
            # an untagged expected file of a multi-job case, for an aggregation this job does not make
            results.append(Result(exp_path, act_path, "skip", f"aggregate_by of this job has no {tagged.group(2)}"))
            continue
        if kind in ("csv", "asset_loss", "optional") and not os.path.exists(act_path):
            if kind == "optional" or not target.startswith(REQUIRED_PREFIXES):
                results.append(Result(exp_path, act_path, "skip", f"renxing wrote no {target}"))
            else:
                r = Result(exp_path, act_path)
                r.problem(f"{target} missing in renxing output")
                results.append(r)
            continue
        try:
            results.append(compare_one(kind, act_path if kind != "damages_dump" else act_dir, exp_path, rule, job))
        except CompareError as e:
            r = Result(exp_path, act_path)
            r.problem(str(e))
            results.append(r)
    return results


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("actual", help="renxing output file (or directory)")
    ap.add_argument("expected", help="OpenQuake expected file (or directory with --dir)")
    ap.add_argument("--dir", action="store_true", help="compare every expected file of --job")
    ap.add_argument("--job", help="the job.ini (needed by --dir and for agg_id -> tag mapping)")
    ap.add_argument("--summary", action="store_true", help="human-readable lines instead of JSON")
    ap.add_argument("--rel", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    ap.add_argument("--abs", type=float, default=1e-9, help="absolute tolerance near zero (default 1e-9)")
    args = ap.parse_args(argv)
    rule = Rule(args.rel, args.abs)
    try:
        if args.dir:
            if not args.job:
                ap.error("--dir needs --job")
            if not os.path.isdir(args.actual) or not os.path.isdir(args.expected):
                ap.error("--dir needs two directories")
            results = compare_dir(args.actual, args.expected, args.job, rule)
        else:
            if not os.path.exists(args.expected):
                raise CompareError(f"{args.expected}: no such file")
            kind, target = map_expected(os.path.basename(args.expected), args.expected)
            if kind.startswith("skip:"):
                results = [Result(args.expected, args.actual, "skip", kind[5:])]
            else:
                act = args.actual
                if os.path.isdir(act) and kind not in ("damage_table", "damages_dump"):
                    act = os.path.join(act, target)
                if not os.path.exists(act):
                    raise CompareError(f"{act}: no such file")
                results = [compare_one(kind, act, args.expected, rule, args.job)]
    except CompareError as e:
        print(json.dumps({"error": str(e)}) if not args.summary else f"ERROR {e}")
        return 2
    for r in results:
        print(r.summary_line() if args.summary else json.dumps(r.to_json()))
    failed = [r for r in results if r.status == "fail"]
    compared = [r for r in results if r.status in ("pass", "fail", "stale")]
    if args.dir:
        mrd = max((r.max_rel_diff for r in compared if r.status != "stale"), default=0.0)
        summ = {
            "job": args.job,
            "status": "fail" if failed else ("pass" if compared else "no-comparable-expected"),
            "compared": len(compared),
            "passed": sum(r.status == "pass" for r in results),
            "failed": len(failed),
            "stale": sum(r.status == "stale" for r in results),
            "skipped": sum(r.status == "skip" for r in results),
            "max_rel_diff": mrd if math.isfinite(mrd) else "inf",
        }
        print(json.dumps({"summary": summ}) if not args.summary else
              f"SUMMARY {summ['status']}: {summ['compared']} compared, {summ['failed']} failed, "
              f"{summ['stale']} stale, {summ['skipped']} skipped, max rel diff {mrd:.3g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
