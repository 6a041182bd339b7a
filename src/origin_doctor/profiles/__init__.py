"""CDN profiles as data files (one TOML file per profile)."""
