#!/usr/bin/env bash
# Native earthquake path, side by side: OpenQuake 3.26.2 `scenario_damage` computing its own
# fields from the rupture vs `renxing risk` doing the same, one run each, timed with
# /usr/bin/time -v (wall clock, max RSS).
#
# Both: the Nepal exposure (9,063 assets at 2,253 locations), the demo's rupture as one plane
# (tests/reference/gmpe/nepal_plane_rupture.xml), ChiouYoungs2014, vs30 760 m/s measured, z1pt0
# 100 m, truncation 3, maximum distance 200 km, N fields (default 1000) without spatial
# correlation (OpenQuake's default; Renxing's JB2009 run is timed as well), the fragility and
# consequence models of the demo. Random numbers differ between the engines, so the script
# prints both mean totals (they agree statistically, not digit by digit; the median-field
# comparison digit by digit is scripts/compare_oq_native.sh).
#
# Usage: scripts/bench_risk_nepal.sh [--events N] [--work DIR]
# Environment: OQ_VENV, RENXING (default target/release/renxing), RENXING_SHARED_DATA.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EVENTS=1000
WORK=""
while [ $# -gt 0 ]; do
    case "$1" in
        --events) EVENTS="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        *) echo "bench_risk_nepal: unknown argument $1" >&2; exit 2 ;;
    esac
done
SHARED="${RENXING_SHARED_DATA:-$REPO/../shared/data}"
OQ_VENV="${OQ_VENV:-$HOME/.cache/peers/venv-oq}"
RENXING="${RENXING:-$REPO/target/release/renxing}"
WORK="${WORK:-$(mktemp -d)}"
[ -x "$OQ_VENV/bin/oq" ] || { echo "bench_risk_nepal: no OpenQuake at $OQ_VENV" >&2; exit 2; }
[ -x "$RENXING" ] || { echo "bench_risk_nepal: build renxing first (cargo build --release)" >&2; exit 2; }
mkdir -p "$WORK/oq/oqhome"
cp "$SHARED"/exposure/nepal/* "$WORK/oq/"
cp "$REPO/tests/reference/gmpe/nepal_plane_rupture.xml" "$WORK/oq/"
cat > "$WORK/oq/job.ini" <<INI
[general]
description = Nepal scenario damage from the rupture ($EVENTS fields)
calculation_mode = scenario_damage
random_seed = 42
ses_seed = 42
[exposure]
exposure_file = exposure_model.xml
[rupture]
rupture_model_file = nepal_plane_rupture.xml
rupture_mesh_spacing = 15
[site_params]
reference_vs30_type = measured
reference_vs30_value = 760.0
reference_depth_to_2pt5km_per_sec = 5.0
reference_depth_to_1pt0km_per_sec = 100.0
[fragility]
structural_fragility_file = structural_fragility_model.xml
consequence_file = {'taxonomy': 'consequences.csv'}
[hazard_calculation]
truncation_level = 3
maximum_distance = 200
gsim = ChiouYoungs2014
number_of_ground_motion_fields = $EVENTS
[risk_calculation]
time_event = night
INI
for corr in none JB2009; do
    sed -e "s#^rupture = .*#rupture = \"$REPO/tests/reference/gmpe/nepal_plane_rupture.xml\"#" \
        -e "s#\"\\.\\./\\.\\./\\.\\./shared/data#\"$SHARED#g" \
        -e "s#^fields = .*#fields = $EVENTS#" \
        -e "s#^correlation = .*#correlation = \"$corr\"#" \
        "$REPO/examples/nepal-quake/risk.toml" > "$WORK/renxing-$corr.toml"
done
timed() { # label, log, command...
    local label="$1" log="$2"; shift 2
    /usr/bin/time -v "$@" > "$log" 2> "$log.time" || { tail -20 "$log" "$log.time" >&2; exit 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$log.time")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log.time")
    printf '%-34s wall %10s   max RSS %6s MiB\n' "$label" "$wall" "$rss"
}
echo "Nepal scenario damage from the rupture, $EVENTS fields (work dir $WORK)"
(cd "$WORK/oq" && CI=1 HOME="$WORK/oq/oqhome" OQ_DISTRIBUTE=no timed "OpenQuake 3.26.2 (no correlation)" "$WORK/oq.log" \
    "$OQ_VENV/bin/oq" engine --run job.ini -e csv --exports csv)
timed "renxing risk (no correlation)" "$WORK/rx-none.log" "$RENXING" risk "$WORK/renxing-none.toml" --out "$WORK/rx-none" --quiet
timed "renxing risk (JB2009 correlation)" "$WORK/rx-jb.log" "$RENXING" risk "$WORK/renxing-JB2009.toml" --out "$WORK/rx-jb" --quiet
python3 - "$WORK" <<'PY'
import csv, glob, json, sys
w = sys.argv[1]
f = sorted(glob.glob(w + '/oq/aggrisk-_*.csv'))[0]
with open(f) as fh:
    next(fh)
    row = next(csv.DictReader(fh))
rx = json.load(open(w + '/rx-none/summary.json'))['quake']['mean_totals']
print('mean totals          OpenQuake        renxing (no corr.)')
for k, o in [('slight', 'slight'), ('moderate', 'moderate'), ('extreme', 'extreme'), ('complete', 'complete'), ('structural_losses', 'losses_value')]:
    print(f'{k:18s} {float(row[o]):14.6g} {rx[k]:14.6g}  ({rx[k] / float(row[o]) - 1:+.2%})')
PY
