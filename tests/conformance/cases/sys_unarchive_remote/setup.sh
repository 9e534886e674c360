d=$(mktemp -d)
mkdir -p "$d/app/conf"
printf 'one\n' >"$d/app/one.txt"
printf 'key=value\n' >"$d/app/conf/app.conf"
chmod 0640 "$d/app/conf/app.conf"
mkdir -p /srv/archives-$2
tar -C "$d" -czf /srv/archives-$2/app.tgz app
rm -rf "$d"
