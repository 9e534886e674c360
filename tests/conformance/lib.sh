# Helpers for the host scripts of system cases (setup.sh, observe.sh), which run as root
# on each twin test host with the case's root as $1 and the case's name as $2.

# make_deb REPO NAME VERSION [DEPENDS]: a tiny package in the flat repository REPO.
make_deb() {
  _repo=$1 _name=$2 _version=$3 _depends=${4:-}
  _pkg=$(mktemp -d)
  mkdir -p "$_pkg/DEBIAN" "$_pkg/usr/share/$_name" "$_repo"
  {
    echo "Package: $_name"
    echo "Version: $_version"
    echo "Architecture: all"
    echo "Maintainer: drover conformance <conformance@example.invalid>"
    if [ -n "$_depends" ]; then echo "Depends: $_depends"; fi
    echo "Description: drover conformance package $_name"
  } >"$_pkg/DEBIAN/control"
  echo "$_name $_version" >"$_pkg/usr/share/$_name/version"
  # Byte-identical on both twins: fixed timestamps inside and on the ar members.
  find "$_pkg" -exec touch -h -d @1700000000 {} +
  SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group --build "$_pkg" "$_repo/${_name}_${_version}_all.deb" >/dev/null
  rm -rf "$_pkg"
}

# publish REPO LIST: index the flat repository REPO (what dpkg-scanpackages would write)
# and make it apt's only source besides the other cases' (no Debian mirror: no network).
publish() {
  _repo=$1
  : >"$_repo/Packages"
  for _deb in "$_repo"/*.deb; do
    {
      dpkg-deb -f "$_deb"
      echo "Filename: ./${_deb##*/}"
      echo "Size: $(stat -c %s "$_deb")"
      echo "SHA256: $(sha256sum "$_deb" | cut -d' ' -f1)"
      echo
    } >>"$_repo/Packages"
  done
  rm -f /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources
  echo "deb [trusted=yes] file:$_repo ./" >"/etc/apt/sources.list.d/$2.list"
}

# packages PREFIX: name, version and dpkg status of the installed packages named PREFIX*.
packages() {
  dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "$1*" 2>/dev/null || true
}

# account NAME: the user's passwd and group entries, or "no user NAME".
account() {
  getent passwd "$1" || echo "no user $1"
  id -Gn "$1" 2>/dev/null || true
}
