#!/usr/bin/env bash
# Copy the web client's third-party libraries from the npm registry into static/vendor/, with
# their licences. Re-run to update (change the versions below); the files are committed, so
# neither `make run` nor the tests need the network.
set -euo pipefail
cd "$(dirname "$0")/.."
MARKED=18.2.1
DOMPURIFY=3.4.18
HIGHLIGHT=11.12.0
SWAGGER_UI=5.35.0
UPLOT=1.6.32  # the console's usage charts: ~50 KB, canvas, no dependencies (docs/BENCHMARKS.md)
AXE=4.14.1  # for the accessibility checks of the browser tests only: not served
out=static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {  # name version -> unpacked in $tmp/<name>/package
  local dir="$tmp/$1"
  mkdir -p "$dir"
  curl -fsSL "https://registry.npmjs.org/$2/-/$(basename "$2")-$3.tgz" | tar -xz -C "$dir"
}

fetch marked marked "$MARKED"
fetch dompurify dompurify "$DOMPURIFY"
fetch highlight @highlightjs/cdn-assets "$HIGHLIGHT"
fetch swagger swagger-ui-dist "$SWAGGER_UI"
fetch axe axe-core "$AXE"
fetch uplot uplot "$UPLOT"

rm -rf "$out" && mkdir -p "$out"
cp "$tmp/marked/package/lib/marked.esm.js" "$out/marked.esm.js"
cp "$tmp/marked/package/LICENSE" "$out/marked.LICENSE"
cp "$tmp/dompurify/package/dist/purify.es.mjs" "$out/purify.es.mjs"
cp "$tmp/dompurify/package/LICENSE" "$out/dompurify.LICENSE"
cp "$tmp/highlight/package/es/highlight.min.js" "$out/highlight.min.js"
cp "$tmp/highlight/package/styles/github.min.css" "$out/highlight-light.css"
cp "$tmp/highlight/package/styles/github-dark.min.css" "$out/highlight-dark.css"
cp "$tmp/highlight/package/LICENSE" "$out/highlight.LICENSE"
cp "$tmp/uplot/package/dist/uPlot.esm.js" "$out/uplot.esm.js"
cp "$tmp/uplot/package/dist/uPlot.min.css" "$out/uplot.min.css"
cp "$tmp/uplot/package/LICENSE" "$out/uplot.LICENSE"
mkdir -p "$out/swagger-ui"  # for /api/docs
cp "$tmp/swagger/package/swagger-ui-bundle.js" "$tmp/swagger/package/swagger-ui.css" \
   "$tmp/swagger/package/LICENSE" "$out/swagger-ui/"
mkdir -p tests/web/vendor
cp "$tmp/axe/package/axe.min.js" "$tmp/axe/package/LICENSE" tests/web/vendor/
echo "axe-core $AXE (MPL-2.0)" > tests/web/vendor/VERSIONS
cat > "$out/VERSIONS" <<VERSIONS
marked $MARKED (MIT)
dompurify $DOMPURIFY (MPL-2.0 OR Apache-2.0)
@highlightjs/cdn-assets $HIGHLIGHT (BSD-3-Clause)
swagger-ui-dist $SWAGGER_UI (Apache-2.0)
uplot $UPLOT (MIT)
VERSIONS
echo "vendored into $out:"; ls "$out"
