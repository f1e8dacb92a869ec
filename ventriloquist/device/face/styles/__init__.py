"""The shipped face styles, one TOML file each (a package so that wheels carry the files)."""
