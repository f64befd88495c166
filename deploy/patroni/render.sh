#!/usr/bin/env bash
# render.sh TEMPLATE VARS_FILE [NAME=VALUE ...] — prints TEMPLATE with every ${NAME} replaced.
# VARS_FILE holds NAME=VALUE lines (# comments, blank lines ignored); NAME=VALUE arguments
# override them. Fails (exit 1, message on stderr) when a placeholder has no value or a value
# contains a newline. Used for deploy/patroni/patroni.yml; Terraform's templatefile() renders
# the same file (deploy/terraform/).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true
[ $# -ge 2 ] || { echo "usage: render.sh TEMPLATE VARS_FILE [NAME=VALUE ...]" >&2; exit 2; }
template=$1 vars=$2
shift 2
declare -A val
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  [[ "$line" == *=* ]] || { echo "render.sh: $vars: not NAME=VALUE: $line" >&2; exit 1; }
  val[${line%%=*}]=${line#*=}
done <"$vars"
for a in "$@"; do
  [[ "$a" == *=* ]] || { echo "render.sh: not NAME=VALUE: $a" >&2; exit 1; }
  val[${a%%=*}]=${a#*=}
done
text=$(cat "$template"; echo x)
text=${text%x}
for k in "${!val[@]}"; do
  [[ "$k" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "render.sh: bad name: $k" >&2; exit 1; }
  [[ "${val[$k]}" != *$'\n'* ]] || { echo "render.sh: value of $k has a newline" >&2; exit 1; }
  text=${text//"\${$k}"/"${val[$k]}"}
done
if left=$(grep -o '\${[A-Za-z0-9_]*}' <<<"$text" | sort -u | tr '\n' ' ') && [ -n "$left" ]; then
  echo "render.sh: no value for: $left" >&2; exit 1
fi
printf '%s' "$text"
