make_deb /srv/repo-$2 conf-latest-a 1.0
publish /srv/repo-$2 $2
dpkg -i /srv/repo-$2/conf-latest-a_1.0_all.deb >/dev/null
make_deb /srv/repo-$2 conf-latest-a 2.0
publish /srv/repo-$2 $2
