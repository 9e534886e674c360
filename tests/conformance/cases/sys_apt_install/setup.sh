make_deb /srv/repo-$2 conf-inst-a 1.0
make_deb /srv/repo-$2 conf-inst-b 1.0 conf-inst-a
publish /srv/repo-$2 $2
apt-get update -qq
