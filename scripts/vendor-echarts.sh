#!/bin/sh
# Vendor Apache ECharts into fenxiao/static/vendor/echarts/ from its npm package (no CDN: the
# console's machines are offline). `make vendor-echarts [ECHARTS_VERSION=x.y.z]` runs it.
#
# Takes dist/echarts.min.js, LICENSE and NOTICE out of `npm pack echarts@<version>` (the package
# the npm registry serves, checked by npm against its integrity hash) and writes README.md with
# the version, the source and the file's SHA-256 (tests/test_vendor_echarts.py checks the file
# against it).
set -eu

VERSION="${1:-6.1.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/fenxiao/static/vendor/echarts"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm pack --silent "echarts@$VERSION" > pack.txt
TARBALL="$(tail -n 1 pack.txt)"
tar -xzf "$TARBALL" package/dist/echarts.min.js package/LICENSE package/NOTICE package/package.json
GOT="$(node -p "require('./package/package.json').version")"
if [ "$GOT" != "$VERSION" ]; then
    echo "vendor-echarts: asked for $VERSION, the package says $GOT" >&2
    exit 1
fi

mkdir -p "$DEST"
cp package/dist/echarts.min.js package/LICENSE package/NOTICE "$DEST/"
SHA="$(sha256sum "$DEST/echarts.min.js" | cut -d' ' -f1)"
cat > "$DEST/README.md" <<README
# Apache ECharts $VERSION (vendored)

- version: $VERSION
- source: the npm package \`echarts@$VERSION\` (\`npm pack echarts@$VERSION\`), file \`dist/echarts.min.js\`
- sha256 of echarts.min.js: $SHA
- licence: Apache License 2.0 (LICENSE, NOTICE here, from the same package)

Re-vendor (another version too): \`make vendor-echarts ECHARTS_VERSION=$VERSION\` (scripts/vendor-echarts.sh).
Served as a static file (\`{% static 'vendor/echarts/echarts.min.js' %}\`); no CDN.
README
echo "vendored echarts $VERSION into $DEST (sha256 $SHA)"
