"""The playground's stored state: presets and the history of runs."""
