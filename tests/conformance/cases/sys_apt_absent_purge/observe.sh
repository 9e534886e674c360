packages conf-purge-
