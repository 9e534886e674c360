packages conf-latest-
