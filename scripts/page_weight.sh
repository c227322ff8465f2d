#!/usr/bin/env bash
# Bytes over the wire (gzip) of a page and everything it loads (its HTML, CSS
# and scripts), as a phone fetches them the first time:
#   QUAN_BASE=http://127.0.0.1:8080 scripts/page_weight.sh /h5/wallet "quan_h5=<token>"
B=${QUAN_BASE:-http://127.0.0.1:8080}
page=$1; ck=$2
html=$(curl -s --compressed -b "$ck" "$B$page")
n=$(curl -s -H 'Accept-Encoding: gzip' -b "$ck" -o /dev/null -w '%{size_download}' "$B$page")
total=$n; echo "  $page html $n"
for a in $(echo "$html" | grep -o '\(href\|src\)="/assets/[^"]*' | sed 's/.*="//'); do
  s=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$B$a"); total=$((total+s)); echo "  $a $s"
done
echo "TOTAL $page $total"
