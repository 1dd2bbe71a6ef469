"""Named YAML presets per backbone: ``configs/<model>/<preset>.yaml`` (tiny, small, base)."""
