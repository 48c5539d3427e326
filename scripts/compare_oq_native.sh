#!/usr/bin/env bash
# Reference for the native earthquake path (`renxing risk`, [quake]): OpenQuake 3.26.2 runs the
# Nepal scenario_damage job from the rupture itself (its own ChiouYoungs2014 median field,
# truncation_level = 0, one field), and this script keeps what tests/risk_cli.rs compares with
# Renxing's median-field run of the same rupture:
#
#   tests/reference/oq-native/aggrisk-NAME_1.csv, aggrisk-NAME_2.csv   damage and losses per
#       admin unit (OpenQuake's export, 6 significant digits)
#   tests/reference/oq-native/avg_damages-sample.csv                  every 20th asset of
#       OpenQuake's avg_damages export (asset_id and the damage/loss columns only)
#
# The rupture is tests/reference/gmpe/nepal_plane_rupture.xml: the demo's simple fault written as
# one plane (made by scripts/compare_oq_gmpe.py from OpenQuake's own simple-fault corners), whose
# distances OpenQuake computes exactly as Renxing does; the meshed simple fault would differ by
# the mesh spacing. Site parameters, maximum distance (200 km), exposure, fragility and
# consequences are those of examples/nepal-quake/risk.toml.
#
# Usage: scripts/compare_oq_native.sh [WORK_DIR]
# Environment: OQ_VENV (default $HOME/.cache/peers/venv-oq), RENXING_SHARED_DATA.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${RENXING_SHARED_DATA:-$REPO/../shared/data}"
OQ_VENV="${OQ_VENV:-$HOME/.cache/peers/venv-oq}"
WORK="${1:-$(mktemp -d)}"
OUT="$REPO/tests/reference/oq-native"
[ -x "$OQ_VENV/bin/oq" ] || { echo "compare_oq_native: no OpenQuake at $OQ_VENV (pip install openquake.engine==3.26.2 into it)" >&2; exit 2; }
[ -d "$SHARED/exposure/nepal" ] || { echo "compare_oq_native: no Nepal data under $SHARED" >&2; exit 2; }
mkdir -p "$WORK/oqhome" "$OUT"
cp "$SHARED"/exposure/nepal/* "$WORK/"
cp "$REPO/tests/reference/gmpe/nepal_plane_rupture.xml" "$WORK/"
cat > "$WORK/job.ini" <<'INI'
[general]
description = Nepal median-field scenario damage (reference for renxing risk)
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
truncation_level = 0
maximum_distance = 200
gsim = ChiouYoungs2014
number_of_ground_motion_fields = 1

[risk_calculation]
time_event = night
aggregate_by = NAME_1; NAME_2
INI
cd "$WORK"
CI=1 HOME="$WORK/oqhome" OQ_DISTRIBUTE=no "$OQ_VENV/bin/oq" engine --run job.ini -e csv --exports csv > oq.log 2>&1 \
    || { tail -20 oq.log >&2; exit 1; }
for level in NAME_1 NAME_2; do
    f=$(ls aggrisk-${level}_*.csv | head -1)
    tail -n +2 "$f" > "$OUT/aggrisk-$level.csv"
done
f=$(ls avg_damages-rlz-000_*.csv | head -1)
tail -n +2 "$f" | awk -F, 'NR == 1 { print "asset_id," $9 "," $10 "," $11 "," $12 "," $13 "," $14; next }
    (NR - 2) % 20 == 0 { print $1 "," $9 "," $10 "," $11 "," $12 "," $13 "," $14 }' > "$OUT/avg_damages-sample.csv"
echo "compare_oq_native: references written to $OUT (work dir $WORK)"
