make_deb /srv/debs-$2 conf-deb-a 1.0
