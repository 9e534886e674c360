packages conf-inst-
