#!/usr/bin/env bash
# Re-vendor GOV.UK Frontend and MoJ Frontend as built assets under src/vigil/web/static/.
# Not run by setup or CI: the built files are committed. Run by hand to upgrade, then commit.
#   scripts/vendor-frontend.sh [govuk-frontend version] [moj frontend version]
# Only the dist files the pages use are kept (minified CSS and JS). Vigil is not on GOV.UK, so,
# as the Design System asks of such services, the GDS Transport font and the crown are not
# shipped: the CSS's font stack is rewritten to Arial.
set -euo pipefail
cd "$(dirname "$0")/.."
GOVUK="${1:-6.6.0}"
MOJ="${2:-11.1.0}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "govuk-frontend@$GOVUK" "@ministryofjustice/frontend@$MOJ" >/dev/null)
mkdir -p "$tmp/g" "$tmp/m"
tar xzf "$tmp"/govuk-frontend-*.tgz -C "$tmp/g"
tar xzf "$tmp"/ministryofjustice-frontend-*.tgz -C "$tmp/m"
out=src/vigil/web/static/govuk
rm -rf "$out" && mkdir -p "$out"
sed -e 's/font-family:GDS Transport,arial,sans-serif/font-family:arial,sans-serif/g' \
    -e 's/font-family:GDS Transport}/font-family:arial}/g; s/font-family:GDS Transport;/font-family:arial;/g' \
    -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
    "$tmp/g/package/dist/govuk/govuk-frontend.min.css" > "$out/govuk-frontend.min.css"
sed -e 's#//\# sourceMappingURL=.*##' "$tmp/g/package/dist/govuk/govuk-frontend.min.js" > "$out/govuk-frontend.min.js"
sed -e 's/font-family:GDS Transport,arial,sans-serif/font-family:arial,sans-serif/g' \
    -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
    "$tmp/m/package/moj/moj-frontend.min.css" > "$out/moj-frontend.min.css"
{
  echo "GOV.UK Frontend $GOVUK and MoJ Frontend $MOJ (npm), built assets, vendored by"
  echo "scripts/vendor-frontend.sh. Both are released under the MIT licence:"
  echo
  echo "The MIT License (MIT)"
  echo
  echo "Copyright (c) 2018 Crown Copyright (Government Digital Service)"
  echo "Copyright (c) 2019 Crown Copyright (Ministry of Justice)"
  echo
  cat <<'MIT'
Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
MIT
} > "$out/LICENCE.txt"
du -sh "$out"
