#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs made from the real files in ../shared/data
# (OpenQuake test cases and the Nepal exposure demo). The copies are AGPL package data: the
# corpus folders are git-ignored and must not be committed. Usage: bash fuzz/seed.sh [SHARED]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shared="${1:-$here/../../shared/data}"
oq="$shared/validation/openquake"
np="$shared/exposure/nepal"
[ -d "$oq" ] || { echo "no $oq: pass the shared/data folder as argument" >&2; exit 1; }
c="$here/corpus"
mkdir -p "$c"/{nrml_models,exposure_xml_csv,gmfs_csv,consequence_csv,job_ini}
sep=$'\n%%\n'
# Seeds are named by the SHA-1 of their content, as libFuzzer names the inputs it keeps.
put() { local t; t="$(mktemp)"; cat > "$t"; mv "$t" "$c/$1/$(sha1sum < "$t" | cut -c1-40)"; }

# NRML models: every XML file as it is.
for f in "$oq"/*/*/*.xml "$np"/*.xml; do put nrml_models < "$f"; done

# Exposures: XML + SEP + the asset CSV it names (first 40 lines), and each asset CSV alone.
for x in "$oq"/*/*/exposure*.xml "$np"/exposure_model.xml; do
  d="$(dirname "$x")"
  csv="$(sed -n '/<assets>/,/<\/assets>/p' "$x" | grep -o '[A-Za-z0-9_.-]*\.csv' | head -1 || true)"
  if [ -n "$csv" ]; then
    { cat "$x"; printf '%s' "$sep"; head -40 "$d/$csv"; } | put exposure_xml_csv
  else
    put exposure_xml_csv < "$x"
  fi
done
for f in "$oq"/*/*/exposure*.csv; do put exposure_xml_csv < "$f"; done
head -40 "$np/exposure_model.csv" | put exposure_xml_csv

# Ground-motion fields: SITES + SEP + FIELDS, and fields alone (read against built-in sites).
pair() { { cat "$1"; printf '%s' "$sep"; cat "$2"; } | put gmfs_csv; }
pair "$oq/event_based_damage/case_13/sites.csv" "$oq/event_based_damage/case_13/gmfs.csv"
pair "$oq/scenario_damage/case_17/sitemesh.csv" "$oq/scenario_damage/case_17/gmf.csv"
pair "$oq/scenario_risk/case_1/sites.csv" "$oq/scenario_risk/case_1/gmf_scenario.csv"
for f in "$oq"/*/*/gmf*.csv "$oq"/*/*/expected/gmf*.csv; do put gmfs_csv < "$f"; done

# Consequences: a first line with the limit states (the non-key header columns), then the CSV.
for f in "$oq"/*/*/*consequence*.csv "$oq"/*/*/nonfunctional.csv "$np"/consequences.csv; do
  ls="$(head -1 "$f" | sed 's/^\xef\xbb\xbf//' | tr -d '\r' | tr ',' '\n' \
    | grep -vxE 'risk_id|taxonomy|consequence|loss_type|peril' | tr '\n' ' ')"
  { echo "$ls"; cat "$f"; } | put consequence_csv
done

# Job files as they are.
for f in "$oq"/*/*/*.ini "$np"/job.ini; do put job_ini < "$f"; done

for t in "$c"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds, $(cat "$t"/* | wc -c) bytes"; done
