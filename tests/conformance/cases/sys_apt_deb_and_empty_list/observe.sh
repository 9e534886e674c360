packages conf-deb-
