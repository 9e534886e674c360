make_deb /srv/repo-$2 conf-purge-a 1.0
publish /srv/repo-$2 $2
dpkg -i /srv/repo-$2/conf-purge-a_1.0_all.deb >/dev/null
