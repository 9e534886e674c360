getent group conf-grp-a || echo "no group conf-grp-a"
getent group conf-grp-sys | cut -d: -f1,4 || echo "no group conf-grp-sys"
