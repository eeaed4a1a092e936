"""prep: fix what preflight found (trim, transcode, scale, compress, convert). Not built yet: see issue 4."""
