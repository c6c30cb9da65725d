"""Implementation modules; import the public names from the matching ``actorgen_core`` package."""
