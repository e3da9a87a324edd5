#!/bin/sh
# Vendors Bootstrap Italia's built stylesheet and the Titillium Web fonts from npm into this
# folder (no CDN: the binary serves them at /assets/). Run from the repository's root:
#   sh assets/bootstrap-italia/update.sh 2.18.3
# then update VERSION, src/web/assets.rs's paths if the version changed, and look at every
# page at 1280 and 390 px.
set -eu
version="${1:?usage: update.sh VERSION}"
here="assets/bootstrap-italia"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "bootstrap-italia@$version" >/dev/null && tar xzf "bootstrap-italia-$version.tgz")
cp "$tmp/package/dist/css/bootstrap-italia.min.css" "$here/"
cp "$tmp/package/LICENSE" "$here/LICENSE"
for weight in 300 regular 600 700; do
  cp "$tmp/package/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-$weight.woff2" "$here/fonts/titillium-web-$weight.woff2"
done
cp "$tmp/package/dist/fonts/Titillium_Web/OFL.txt" "$here/fonts/OFL.txt"
echo "$version" > "$here/VERSION"
sha256sum "$here/bootstrap-italia.min.css" "$here"/fonts/*.woff2 > "$here/SHA256SUMS"
